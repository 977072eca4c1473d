#!/usr/bin/env bash
# sockit bench vs wrk as HTTP clients against the same nginx (1 worker,
# `return 200 "hello\n"`, keep-alive): alternating runs, medians, ratio.
# Target: sockit bench >= 1.0x wrk.  Env: RUNS (5), DUR (5 s), CONNS (100).
. "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-100}
port=$(free_port)
nginx_start "$WORK/nginx" "$port" 1 || exit 1
url="http://127.0.0.1:$port/"
echo "# nginx 1 worker on 127.0.0.1:$port; $RUNS alternating runs of:"
echo "#   wrk -t1 -c$CONNS -d${DUR}s $url"
echo "#   sockit bench -t1 -c$CONNS -d$DUR --proto http 127.0.0.1:$port"
: >"$WORK/wrk" && : >"$WORK/sockit"
for ((i = 1; i <= RUNS; i++)); do
    w=$(wrk_rps "$url" -t1 -c"$CONNS" -d"${DUR}s")
    s=$(sockit_rps "127.0.0.1:$port" -t1 -c"$CONNS" -d"$DUR" --proto http)
    echo "run $i: wrk $w req/s, sockit bench $s req/s"
    echo "$w" >>"$WORK/wrk"
    echo "$s" >>"$WORK/sockit"
done
report "client req/s vs nginx, c=$CONNS" "sockit" "$WORK/sockit" "wrk" "$WORK/wrk"
report_paired "client req/s vs nginx, c=$CONNS" "sockit" "$WORK/sockit" "wrk" "$WORK/wrk"

# The same comparison without the noise: user-space instructions per request
# of each client under callgrind (difference of a 1 s and a 3 s run, so
# start-up cancels). Set CLIENT_CALLGRIND=0 to skip.
if [[ ${CLIENT_CALLGRIND:-1} == 1 ]] && command -v valgrind >/dev/null; then
    echo "# client instructions per request (valgrind --tool=callgrind on the client, -c10, 1 s and 3 s):"
    echo "#   valgrind --tool=callgrind wrk -t1 -c10 -dDs $url"
    echo "#   valgrind --tool=callgrind sockit bench -t1 -c10 -dD --proto http 127.0.0.1:$port"
    ir() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }
    wrk_ir() { # DUR -> "Ir requests"
        local out="$WORK/cg.wrk.$1" req
        req=$(valgrind --tool=callgrind --callgrind-out-file="$out" wrk -t1 -c10 -d"$1s" "$url" 2>/dev/null |
            awk '/requests in/ {print $1}')
        echo "$(ir "$out") $req"
    }
    sockit_ir() {
        local out="$WORK/cg.sockit.$1" req
        req=$(valgrind --tool=callgrind --callgrind-out-file="$out" "$SOCKIT" bench -t1 -c10 -d"$1" --proto http \
            "127.0.0.1:$port" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
        echo "$(ir "$out") $req"
    }
    per() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, s, " "); split(b, l, " "); printf "%.0f", (l[1]-s[1])/(l[2]-s[2]) }'; }
    : >"$WORK/wi" && : >"$WORK/si"
    for ((i = 1; i <= RUNS; i++)); do
        w=$(per "$(wrk_ir 1)" "$(wrk_ir 3)")
        s=$(per "$(sockit_ir 1)" "$(sockit_ir 3)")
        echo "run $i: wrk $w Ir/request, sockit bench $s Ir/request"
        echo "$w" >>"$WORK/wi"
        echo "$s" >>"$WORK/si"
    done
    report "client instructions per request, c=10" "sockit" "$WORK/si" "wrk" "$WORK/wi"
fi
# Server-bound, and counting: an nginx that writes its access log does more
# work per request, so nginx rather than the client sets the rate, and the
# log holds one line per request served. Each run checks that the client
# reported what nginx served: the log may hold more than the client counted
# by at most the requests in flight when the run ended (one per
# connection), never fewer. sockit bench runs twice: as is, and with
# --busy-poll 50 (it polls before sleeping, so nginx never pays to wake it).
# Set COUNT_CHECK=0 to skip.
status=0
if [[ ${COUNT_CHECK:-1} == 1 ]]; then
    nginx_stop
    lport=$(free_port)
    NGINX_ACCESS_LOG=$WORK/access.log nginx_start "$WORK/nginx-log" "$lport" 1 || exit 1
    echo "# server-bound: nginx with access_log $WORK/access.log on 127.0.0.1:$lport; $RUNS alternating runs of:"
    echo "#   wrk -t1 -c$CONNS -d${DUR}s http://127.0.0.1:$lport/"
    echo "#   sockit bench -t1 -c$CONNS -d$DUR --proto http 127.0.0.1:$lport [--busy-poll 50]"
    : >"$WORK/l.wrk" && : >"$WORK/l.sockit" && : >"$WORK/l.busy"
    for ((i = 1; i <= RUNS; i++)); do
        line="run $i:"
        for client in wrk sockit busy; do
            : >"$WORK/access.log"
            case $client in
            wrk)
                out=$(wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$lport/")
                n=$(awk '/requests in/ {print $1}' <<<"$out")
                rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
                ;;
            sockit | busy)
                bp=0
                [[ $client == busy ]] && bp=50
                read -r n rps < <("$SOCKIT" bench "127.0.0.1:$lport" -t1 -c"$CONNS" -d"$DUR" --proto http \
                    --busy-poll "$bp" --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["requests"], r["requests_per_s"])')
                ;;
            esac
            sleep 0.3
            logged=$(wc -l <"$WORK/access.log")
            verdict=ok
            if ((logged < n || logged - n > CONNS)); then
                verdict=COUNT-MISMATCH
                status=1
            fi
            echo "$rps" >>"$WORK/l.$client"
            line+="  $client $rps req/s (reported $n, nginx logged $logged: $verdict)"
        done
        echo "$line"
    done
    report "client req/s, server-bound nginx, c=$CONNS" "sockit" "$WORK/l.sockit" "wrk" "$WORK/l.wrk"
    report "client req/s, server-bound nginx, c=$CONNS" "busy-poll" "$WORK/l.busy" "wrk" "$WORK/l.wrk"
    report_paired "client req/s, server-bound nginx, c=$CONNS" "sockit" "$WORK/l.sockit" "wrk" "$WORK/l.wrk"
    report_paired "client req/s, server-bound nginx, c=$CONNS" "busy-poll" "$WORK/l.busy" "wrk" "$WORK/l.wrk"
    ((status == 0)) || echo "# COUNT-MISMATCH: a client reported a number of requests nginx did not serve"
fi
exit "$status"
