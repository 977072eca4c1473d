#!/usr/bin/env bash
# User-space instructions per HTTP request under valgrind --tool=callgrind
# (repeatable where hardware counters are unavailable): sockit serve
# --service http (loop) vs nginx (master_process off, 1 process). Each run
# serves a short and a long load from one client connection (sockit bench
# -c1); per request = (Ir_long - Ir_short) / (requests_long - requests_short),
# which cancels start-up and shutdown. Alternating runs, medians, ratio.
# Target: fewer than nginx.  Env: RUNS (5), SHORT (1 s), LONG (4 s).
. "$(dirname "$0")/lib.sh"
SHORT=${SHORT:-1}
LONG=${LONG:-4}
command -v valgrind >/dev/null || { echo "callgrind-per-request: valgrind not installed"; exit 1; }

ir_of() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }

# one_load KIND DUR: start the server under callgrind, load it DUR seconds,
# stop it; prints "Ir requests".
one_load() {
    local kind=$1 dur=$2 out="$WORK/cg.$1.$2.$RANDOM" addr proto=http req
    case $kind in
    sockit | sockit-echo)
        local svc=http
        [[ $kind == sockit-echo ]] && svc=echo proto=echo
        valgrind --tool=callgrind --callgrind-out-file="$out" "$SOCKIT" serve --service "$svc" --model loop \
            --listen 127.0.0.1:0 2>"$WORK/vg.log" >/dev/null &
        local pid=$! i
        BG_PIDS+=("$pid")
        # valgrind starts slowly on a loaded machine: up to 60 s.
        addr=$(serving_addr "$WORK/vg.log" "$pid" 1200) || true
        req=$("$SOCKIT" bench "$addr" --proto "$proto" -c1 -d"$dur" --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
        kill -TERM "$pid"
        wait "$pid" 2>/dev/null || true
        ;;
    nginx)
        local port
        port=$(free_port)
        NGINX_PREFIX_CMD="valgrind --tool=callgrind --callgrind-out-file=$out" \
            NGINX_MAIN_EXTRA="master_process off;" nginx_start "$WORK/ngx" "$port" 1 2>/dev/null || return 1
        req=$("$SOCKIT" bench "127.0.0.1:$port" --proto http -c1 -d"$dur" --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
        nginx_stop
        ;;
    esac
    echo "$(ir_of "$out") $req"
}

per_request() {
    local a b
    a=$(one_load "$1" "$SHORT")
    b=$(one_load "$1" "$LONG")
    # (nginx_start's warm-up curl is one request in both loads: it cancels.)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, s, " "); split(b, l, " ");
        printf "%.0f", (l[1]-s[1]) / (l[2]-s[2]) }'
}

sk_kind=sockit
if ! have_http_service; then
    echo "# MISSING: this build has no '--service http'; sockit is measured with --service echo and"
    echo "#          sockit bench --proto echo instead (64-byte echo, NOT comparable to an HTTP request)."
    sk_kind=sockit-echo
fi
sk_svc=http
[[ $sk_kind == sockit-echo ]] && sk_svc="echo"
echo "# valgrind --tool=callgrind on: sockit serve --service $sk_svc --model loop | nginx (master_process off)"
echo "# client: sockit bench -c1 for ${SHORT}s and ${LONG}s; per request = dIr / drequests"
: >"$WORK/s" && : >"$WORK/n"
for ((i = 1; i <= RUNS; i++)); do
    s=$(per_request "$sk_kind")
    n=$(per_request nginx)
    echo "run $i: sockit ($sk_kind) $s Ir/request, nginx $n Ir/request"
    echo "$s" >>"$WORK/s"
    echo "$n" >>"$WORK/n"
done
report "user instructions per request ($sk_kind)" "$sk_kind" "$WORK/s" "nginx" "$WORK/n"
