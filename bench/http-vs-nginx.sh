#!/usr/bin/env bash
# sockit serve --service http vs nginx, wrk as the client, equal cores:
# `loop` vs nginx with 1 worker, `hybrid --workers 2` vs nginx with 2
# workers; keep-alive "hello", 100 and 1000 connections. Alternating runs,
# medians, ratio. Target: sockit >= 1.3x nginx. wrk runs on the same cores
# as the servers, so each run also reports the server's CPU time per request
# (user+system from /proc, the whole process tree) and how busy wrk was: when
# wrk sits at 100% of a core, req/s measures the client, not the server.
# Env: RUNS (5), DUR (5 s), CONNS ("100 1000"), WRK_THREADS (1),
# CLIENT (wrk; "sockit" uses sockit bench -t1 instead, a cheaper client that
# leaves more of the shared cores to the server), SETUPS ("1 2": which rows).
# The 1-core row also measures bench/floor.c, a server that does nothing but
# one recv and one send per request: the ratio floor/nginx is the most any
# server could reach here, since the kernel's share of a request is the same
# for all of them.
. "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-100 1000}
WT=${WRK_THREADS:-1}
CLIENT=${CLIENT:-wrk}
SETUPS=${SETUPS:-1 2}
if ! have_http_service; then
    echo "http-vs-nginx: MISSING: this sockit build has no '--service http' (sockit serve --help lists none);"
    echo "http-vs-nginx: nothing to compare. Build a tree with the HTTP service and run again."
    echo "RESULT|http vs nginx|sockit|missing|nginx||n/a" >>"${BENCH_RESULTS:-/dev/null}"
    exit 0
fi
build_floor

# measure PID ADDR CONNS: one client run against ADDR; prints "req/s
# server_us_per_req client_cpu_percent".
measure() {
    if [[ $CLIENT == sockit ]]; then
        bench_cpu "$1" "$2" -t1 -c"$3" -d"$DUR"
    else
        wrk_cpu "$1" "http://$2/" -t"$WT" -c"$3" -d"${DUR}s"
    fi
}
for setup in "1 loop" "2 hybrid --workers 2"; do
    read -r workers model_args <<<"$setup"
    [[ " $SETUPS " == *" $workers "* ]] || continue
    port=$(free_port)
    nginx_start "$WORK/nginx$workers" "$port" "$workers" || exit 1
    # shellcheck disable=SC2086
    if ! sockit_start "http-$workers" --service http --model $model_args; then
        echo "http-vs-nginx: sockit --model $model_args did not start; skipping $workers-core row"
        nginx_stop
        continue
    fi
    fport=
    if ((workers == 1)); then
        fport=$(free_port)
        "$FLOOR" 127.0.0.1 "$fport" &
        FLOOR_PID=$!
        BG_PIDS+=("$FLOOR_PID")
        wait_http "127.0.0.1:$fport" || exit 1
    fi
    for c in $CONNS; do
        echo "# $workers core(s): nginx worker_processes $workers vs sockit serve --service http --model $model_args"
        if [[ $CLIENT == sockit ]]; then
            echo "#   sockit bench ADDR --proto http -t1 -c$c -d$DUR   (ADDR = 127.0.0.1:$port for nginx, $SK_ADDR for sockit)"
        else
            echo "#   wrk -t$WT -c$c -d${DUR}s http://ADDR/   (ADDR = 127.0.0.1:$port for nginx, $SK_ADDR for sockit)"
        fi
        : >"$WORK/n" && : >"$WORK/s" && : >"$WORK/nc" && : >"$WORK/sc" && : >"$WORK/nw" && : >"$WORK/sw"
        : >"$WORK/f" && : >"$WORK/fc"
        for ((i = 1; i <= RUNS; i++)); do
            read -r n ncpu nw <<<"$(measure "$NGINX_PID" "127.0.0.1:$port" "$c")"
            read -r s scpu sw <<<"$(measure "$SK_PID" "$SK_ADDR" "$c")"
            fl=
            if [[ -n $fport ]]; then
                read -r f fcpu _ <<<"$(measure "$FLOOR_PID" "127.0.0.1:$fport" "$c")"
                echo "$f" >>"$WORK/f" && echo "$fcpu" >>"$WORK/fc"
                fl=", floor $f req/s ($fcpu us/req)"
            fi
            echo "run $i: nginx $n req/s ($ncpu us server CPU/req, $CLIENT $nw% CPU), sockit $s req/s ($scpu us/req, $CLIENT $sw% CPU)$fl"
            echo "$n" >>"$WORK/n" && echo "$ncpu" >>"$WORK/nc" && echo "$nw" >>"$WORK/nw"
            echo "$s" >>"$WORK/s" && echo "$scpu" >>"$WORK/sc" && echo "$sw" >>"$WORK/sw"
        done
        report "HTTP hello req/s, $workers core(s), c=$c, $CLIENT" "sockit" "$WORK/s" "nginx" "$WORK/n"
        report "server CPU us/request, $workers core(s), c=$c, $CLIENT" "sockit" "$WORK/sc" "nginx" "$WORK/nc"
        report_paired "HTTP hello req/s, $workers core(s), c=$c, $CLIENT" "sockit" "$WORK/s" "nginx" "$WORK/n"
        if [[ -n $fport ]]; then
            report "HTTP hello req/s, $workers core(s), c=$c, $CLIENT" "floor" "$WORK/f" "nginx" "$WORK/n"
            report "server CPU us/request, $workers core(s), c=$c, $CLIENT" "floor" "$WORK/fc" "nginx" "$WORK/nc"
            report_paired "HTTP hello req/s, $workers core(s), c=$c, $CLIENT" "floor" "$WORK/f" "nginx" "$WORK/n"
        fi
        echo "# $CLIENT CPU (% of one core), medians: against nginx $(median <"$WORK/nw"), against sockit $(median <"$WORK/sw")"
    done
    [[ -n $fport ]] && stop_pid "$FLOOR_PID"
    stop_pid "$SK_PID"
    nginx_stop
done
