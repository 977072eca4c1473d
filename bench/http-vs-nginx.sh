#!/usr/bin/env bash
# sockit serve --service http vs nginx, wrk as the client, equal cores:
# `loop` vs nginx with 1 worker, `hybrid --workers 2` vs nginx with 2
# workers; keep-alive "hello", 100 and 1000 connections. Alternating runs,
# medians, ratio. Target: sockit >= 1.3x nginx.
# Env: RUNS (5), DUR (5 s), CONNS ("100 1000"), WRK_THREADS (1).
. "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-100 1000}
WT=${WRK_THREADS:-1}
if ! have_http_service; then
    echo "http-vs-nginx: MISSING: this sockit build has no '--service http' (sockit serve --help lists none);"
    echo "http-vs-nginx: nothing to compare. Build a tree with the HTTP service and run again."
    echo "RESULT|http vs nginx|sockit|missing|nginx||n/a" >>"${BENCH_RESULTS:-/dev/null}"
    exit 0
fi
for setup in "1 loop" "2 hybrid --workers 2"; do
    read -r workers model_args <<<"$setup"
    port=$(free_port)
    nginx_start "$WORK/nginx$workers" "$port" "$workers" || exit 1
    # shellcheck disable=SC2086
    if ! sockit_start "http-$workers" --service http --model $model_args; then
        echo "http-vs-nginx: sockit --model $model_args did not start; skipping $workers-core row"
        nginx_stop
        continue
    fi
    for c in $CONNS; do
        echo "# $workers core(s): nginx worker_processes $workers vs sockit serve --service http --model $model_args"
        echo "#   wrk -t$WT -c$c -d${DUR}s http://ADDR/   (ADDR = 127.0.0.1:$port for nginx, $SK_ADDR for sockit)"
        : >"$WORK/n" && : >"$WORK/s"
        for ((i = 1; i <= RUNS; i++)); do
            n=$(wrk_rps "http://127.0.0.1:$port/" -t"$WT" -c"$c" -d"${DUR}s")
            s=$(wrk_rps "http://$SK_ADDR/" -t"$WT" -c"$c" -d"${DUR}s")
            echo "run $i: nginx $n req/s, sockit $s req/s"
            echo "$n" >>"$WORK/n"
            echo "$s" >>"$WORK/s"
        done
        report "HTTP hello req/s, $workers core(s), c=$c" "sockit" "$WORK/s" "nginx" "$WORK/n"
    done
    stop_pid "$SK_PID"
    nginx_stop
done
