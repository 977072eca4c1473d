#!/usr/bin/env bash
# Connection churn: one request per connection, new connections per second.
# HTTP hello with Connection: close: sockit serve --service http under
# `loop` against nginx with 1 worker and under `hybrid --workers 2` against
# nginx with 2 workers (equal cores), with two clients: ab (apache2-utils,
# no keep-alive: HTTP/1.0, the server closes) and sockit bench --new-conn
# (HTTP/1.1 with Connection: close, the client closes after the answer).
# The 1-core row also runs bench/floor.c in its "close" form (accept4 until
# EAGAIN, one recv, one send, close): floor/nginx is the most any server
# could reach here. And echo churn (connect, send, receive, close) against
# sockit serve --service echo, loop and hybrid, beside the HTTP floor.
# Servers alternate within each run; medians and per-run ratios.
# Goals (issue: performance round two): sockit >= 1.3x nginx's
# connections/s where the floor allows it, and sockit bench --new-conn >=
# 1.0x ab's rate against the same server. Every sockit bench run also
# prints the kernel's ListenOverflows/ListenDrops growth and TIME_WAIT.
# Env: RUNS (5), CONNS (50), AB_N (20000: requests per run, both clients), SETUPS ("1 2"),
# SERVER_EXTRA (more sockit serve options for the http server, e.g. "--defer-accept 1s"),
# SERVER_PREFIX / CLIENT_PREFIX (e.g. "taskset -c 0" / "taskset -c 1": every
# server's threads and processes, and each client run, pinned).
. "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-50}
AB_N=${AB_N:-20000}
SETUPS=${SETUPS:-1 2}
command -v ab >/dev/null || { echo "churn: ab is missing (apt-get install apache2-utils)"; exit 1; }
have_http_service || { echo "churn: this build has no '--service http'"; exit 1; }
build_floor

# ab_cps ADDR: connections (= requests) per second from one ab run.
ab_cps() {
    ${CLIENT_PREFIX:-} ab -q -n "$AB_N" -c "$CONNS" "http://$1/" 2>&1 | awk '/^Requests per second:/ {print $4} /^Failed requests:/ && $3 > 0 {print "ab: failed " $3 > "/dev/stderr"}'
}

# sk_cps ADDR [--proto P]: "connects/s drops time_wait" from one sockit
# bench --new-conn run of as many requests as ab's.
sk_cps() {
    local addr=$1
    shift
    ${CLIENT_PREFIX:-} "$SOCKIT" bench "$addr" --new-conn -c "$CONNS" -n "$AB_N" "$@" --json |
        json_get '"%.0f %d %d" % (r["connects_per_s"], r["kernel"]["listen_drops"], r["kernel"]["time_wait"])'
}

for setup in "1 loop" "2 hybrid --workers 2"; do
    read -r workers model_args <<<"$setup"
    [[ " $SETUPS " == *" $workers "* ]] || continue
    port=$(free_port)
    nginx_start "$WORK/nginx$workers" "$port" "$workers" || exit 1
    # shellcheck disable=SC2086
    sockit_start "http-$workers" --service http --model $model_args ${SERVER_EXTRA:-} || exit 1
    HTTP_ADDR=$SK_ADDR HTTP_PID=$SK_PID
    # shellcheck disable=SC2086
    sockit_start "echo-$workers" --service echo --model $model_args || exit 1
    ECHO_ADDR=$SK_ADDR
    fport=
    if ((workers == 1)); then
        fport=$(free_port)
        "$FLOOR" 127.0.0.1 "$fport" close &
        BG_PIDS+=($!)
        FLOOR_PID=$!
        sleep 0.2
    fi
    if [[ -n ${SERVER_PREFIX:-} ]]; then
        for p in "$HTTP_PID" "$SK_PID" "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true) ${fport:+"$FLOOR_PID"}; do
            # shellcheck disable=SC2086
            ${SERVER_PREFIX/taskset/taskset -a -p} "$p" >/dev/null
        done
    fi
    echo "# $workers core(s): nginx worker_processes $workers vs sockit serve --model $model_args ${SERVER_EXTRA:-}"
    echo "#   ab -q -n $AB_N -c $CONNS http://ADDR/"
    echo "#   sockit bench ADDR --proto http --new-conn -c $CONNS -n $AB_N --json"
    echo "#   sockit bench $ECHO_ADDR --new-conn -c $CONNS -n $AB_N --json (echo)"
    echo "#   (nginx 127.0.0.1:$port, sockit http $HTTP_ADDR${fport:+, floor close 127.0.0.1:$fport})"
    echo "#   servers ${SERVER_PREFIX:-unpinned}; client ${CLIENT_PREFIX:-unpinned}; $(date -u '+%F %H:%M UTC')"
    for f in an as bn bs bf af e; do : >"$WORK/$f"; done
    for ((i = 1; i <= RUNS; i++)); do
        an=$(ab_cps "127.0.0.1:$port")
        as=$(ab_cps "$HTTP_ADDR")
        read -r bn bnd bnt <<<"$(sk_cps "127.0.0.1:$port" --proto http)"
        read -r bs bsd bst <<<"$(sk_cps "$HTTP_ADDR" --proto http)"
        read -r e ed _ <<<"$(sk_cps "$ECHO_ADDR")"
        line="run $i: ab nginx $an, ab sockit $as; bench nginx $bn (drops $bnd, TIME_WAIT $bnt), bench sockit $bs (drops $bsd, TIME_WAIT $bst), echo $e (drops $ed)"
        if [[ -n $fport ]]; then
            af=$(ab_cps "127.0.0.1:$fport")
            read -r bf _ _ <<<"$(sk_cps "127.0.0.1:$fport" --proto http)"
            echo "$af" >>"$WORK/af" && echo "$bf" >>"$WORK/bf"
            line+="; floor ab $af, bench $bf"
        fi
        echo "$line conn/s"
        echo "$an" >>"$WORK/an" && echo "$as" >>"$WORK/as" && echo "$bn" >>"$WORK/bn" && echo "$bs" >>"$WORK/bs"
        echo "$e" >>"$WORK/e"
    done
    report "churn conn/s, $workers core(s), ab" "sockit" "$WORK/as" "nginx" "$WORK/an"
    report_paired "churn conn/s, $workers core(s), ab" "sockit" "$WORK/as" "nginx" "$WORK/an"
    report "churn conn/s, $workers core(s), bench --new-conn" "sockit" "$WORK/bs" "nginx" "$WORK/bn"
    report_paired "churn conn/s, $workers core(s), bench --new-conn" "sockit" "$WORK/bs" "nginx" "$WORK/bn"
    report "client: bench --new-conn vs ab, sockit, $workers core(s)" "bench" "$WORK/bs" "ab" "$WORK/as"
    report "client: bench --new-conn vs ab, nginx, $workers core(s)" "bench" "$WORK/bn" "ab" "$WORK/an"
    report "echo churn conn/s vs HTTP churn, $workers core(s)" "echo" "$WORK/e" "http" "$WORK/bs"
    if [[ -n $fport ]]; then
        report "churn limit: floor close / nginx, ab" "floor" "$WORK/af" "nginx" "$WORK/an"
        report "churn limit: floor close / nginx, bench" "floor" "$WORK/bf" "nginx" "$WORK/bn"
    fi
    nginx_stop
    stop_pid "$HTTP_PID"
    stop_pid "$SK_PID"
done
