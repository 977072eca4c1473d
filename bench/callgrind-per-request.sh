#!/usr/bin/env bash
# User-space instructions per HTTP request under valgrind --tool=callgrind
# (repeatable where hardware counters are unavailable): sockit serve
# --service http (loop) vs nginx (master_process off, 1 process). Each run
# serves a short and a long load from one client connection (sockit bench
# -c1); per request = (Ir_long - Ir_short) / (requests_long - requests_short),
# which cancels start-up and shutdown. Alternating runs, medians, ratio.
# Target: fewer than nginx.  Env: RUNS (5), SHORT (1 s), LONG (4 s),
# CONNS (1: the client's connections), REF (nginx; floor: bench/floor.c;
# floor-parse: the floor parsing each head with sockit's parser),
# CACHE_SIM (0; 1 runs callgrind's cache simulator and reports, beside the
# instructions, data reads and writes and first-level data misses per
# request - what a working set of CONNS connections costs in memory
# traffic, which instruction counts alone do not show).
. "$(dirname "$0")/lib.sh"
SHORT=${SHORT:-1}
LONG=${LONG:-4}
CONNS=${CONNS:-1}
REF=${REF:-nginx}
CACHE_SIM=${CACHE_SIM:-0}
case $REF in nginx | floor | floor-parse) ;; *) echo "callgrind-per-request: REF is nginx, floor or floor-parse" >&2; exit 2 ;; esac
command -v valgrind >/dev/null || { echo "callgrind-per-request: valgrind not installed"; exit 1; }
[[ $REF == nginx ]] && ! command -v nginx >/dev/null && { echo "callgrind-per-request: nginx not installed (make bench-deps installs it; REF=floor needs none)" >&2; exit 1; }
[[ $REF == floor ]] && build_floor
[[ $REF == floor-parse ]] && build_floor parse
VG=(valgrind --tool=callgrind)
((CACHE_SIM)) && VG+=(--cache-sim=yes)

# counts_of FILE: "Ir Dr Dw D1mr D1mw" of a callgrind output (the last four
# 0 without the cache simulator).
counts_of() {
    awk '/^events:/ { for (i = 2; i <= NF; i++) col[$i] = i }
        /^(summary|totals):/ { n = split("Ir Dr Dw D1mr D1mw", want, " ")
            for (k = 1; k <= n; k++) printf "%s ", (want[k] in col) ? $(col[want[k]]) : 0
            print ""; exit }' "$1"
}

# one_load KIND DUR: start the server under callgrind, load it DUR seconds,
# stop it; prints "Ir requests".
one_load() {
    local kind=$1 dur=$2 out="$WORK/cg.$1.$2.$RANDOM" addr proto=http req
    case $kind in
    sockit | sockit-echo)
        local svc=http
        [[ $kind == sockit-echo ]] && svc=echo proto=echo
        "${VG[@]}" --callgrind-out-file="$out" "$SOCKIT" serve --service "$svc" --model loop \
            --listen 127.0.0.1:0 2>"$WORK/vg.log" >/dev/null &
        local pid=$! i
        BG_PIDS+=("$pid")
        # valgrind starts slowly on a loaded machine: up to 60 s.
        addr=$(serving_addr "$WORK/vg.log" "$pid" 1200) || { echo "callgrind-per-request: sockit did not start under valgrind:" >&2; tail -n 5 "$WORK/vg.log" >&2; exit 1; }
        req=$("$SOCKIT" bench "$addr" --proto "$proto" -c"$CONNS" -d"$dur" --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
        kill -TERM "$pid"
        wait "$pid" 2>/dev/null || true
        ;;
    nginx)
        local port
        port=$(free_port)
        NGINX_PREFIX_CMD="${VG[*]} --callgrind-out-file=$out" \
            NGINX_MAIN_EXTRA="master_process off;" nginx_start "$WORK/ngx" "$port" 1 2>/dev/null || return 1
        req=$("$SOCKIT" bench "127.0.0.1:$port" --proto http -c"$CONNS" -d"$dur" --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
        nginx_stop
        ;;
    floor | floor-parse)
        local port pid mode=()
        [[ $kind == floor-parse ]] && mode=(parse)
        port=$(free_port)
        "${VG[@]}" --callgrind-out-file="$out" "$FLOOR" 127.0.0.1 "$port" "${mode[@]}" 2>"$WORK/vg.log" &
        pid=$!
        BG_PIDS+=("$pid")
        wait_http "127.0.0.1:$port" 1200 || return 1
        req=$("$SOCKIT" bench "127.0.0.1:$port" --proto http -c"$CONNS" -d"$dur" --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
        kill -TERM "$pid"
        wait "$pid" 2>/dev/null || true
        ;;
    esac
    echo "$(counts_of "$out")$req"
}

# per_request KIND: "Ir Dr Dw D1m" per request (D1m: read and write misses).
per_request() {
    local a b
    a=$(one_load "$1" "$SHORT")
    b=$(one_load "$1" "$LONG")
    # (nginx_start's and wait_http's warm-up request is in both loads: it cancels.)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, s, " "); split(b, l, " "); r = l[6] - s[6]
        printf "%.0f %.1f %.1f %.2f\n", (l[1]-s[1]) / r, (l[2]-s[2]) / r, (l[3]-s[3]) / r, (l[4]+l[5]-s[4]-s[5]) / r }'
}

sk_kind=sockit
if ! have_http_service; then
    echo "# MISSING: this build has no '--service http'; sockit is measured with --service echo and"
    echo "#          sockit bench --proto echo instead (64-byte echo, NOT comparable to an HTTP request)."
    sk_kind=sockit-echo
fi
sk_svc=http
[[ $sk_kind == sockit-echo ]] && sk_svc="echo"
ref_desc="nginx (master_process off)"
[[ $REF == floor ]] && ref_desc="floor (bench/floor.c)"
[[ $REF == floor-parse ]] && ref_desc="floor (bench/floor.c parse)"
echo "# ${VG[*]} on: sockit serve --service $sk_svc --model loop | $ref_desc"
echo "# client: sockit bench -c$CONNS for ${SHORT}s and ${LONG}s; per request = difference / difference of requests"
: >"$WORK/s" && : >"$WORK/n"
for k in Dr Dw D1m; do : >"$WORK/s.$k" && : >"$WORK/n.$k"; done
for ((i = 1; i <= RUNS; i++)); do
    read -r s sdr sdw sd1 < <(per_request "$sk_kind")
    read -r n ndr ndw nd1 < <(per_request "$REF")
    if ((CACHE_SIM)); then
        echo "run $i: sockit ($sk_kind) $s Ir, $sdr Dr, $sdw Dw, $sd1 D1 misses per request; $REF $n Ir, $ndr Dr, $ndw Dw, $nd1 D1 misses"
    else
        echo "run $i: sockit ($sk_kind) $s Ir/request, $REF $n Ir/request"
    fi
    echo "$s" >>"$WORK/s"
    echo "$n" >>"$WORK/n"
    echo "$sdr" >>"$WORK/s.Dr" && echo "$ndr" >>"$WORK/n.Dr"
    echo "$sdw" >>"$WORK/s.Dw" && echo "$ndw" >>"$WORK/n.Dw"
    echo "$sd1" >>"$WORK/s.D1m" && echo "$nd1" >>"$WORK/n.D1m"
done
label="user instructions per request ($sk_kind)"
((CONNS > 1)) && label="$label, c=$CONNS"
report "$label" "$sk_kind" "$WORK/s" "$REF" "$WORK/n"
if ((CACHE_SIM)); then
    report "data reads per request, c=$CONNS" "$sk_kind" "$WORK/s.Dr" "$REF" "$WORK/n.Dr"
    report "data writes per request, c=$CONNS" "$sk_kind" "$WORK/s.Dw" "$REF" "$WORK/n.Dw"
    report "first-level data misses per request, c=$CONNS" "$sk_kind" "$WORK/s.D1m" "$REF" "$WORK/n.D1m"
fi
