#!/usr/bin/env bash
# HTTP hello at equal cores, pinned: the server runs on CPU 0 only and the
# client on CPU 1 only, so no server competes with the load generator for
# a core. Three servers, alternating: sockit (loop model), nginx (one
# worker) and floor (bench/floor.c: one recv and one send per request, no
# parsing at all - what the kernel alone costs per request here, the floor
# under any server). For each it reports requests/s and the server's CPU
# time per request (user+system, from /proc): when the client saturates its
# core first, req/s measures the client and the CPU time still measures
# the server. The client is sockit bench by default, since one wrk thread
# saturates its core below what the servers can answer (CLIENT=wrk to use
# wrk anyway).
# The machine drifts between faster and slower phases over tens of seconds,
# so besides the ratio of the medians it prints the median of the per-run
# ratios (the three servers run back to back in each run).
# Env: RUNS (5), DUR (5), CONNS ("100 1000"), CLIENT (sockit|wrk),
# BUSY_POLL (microseconds for sockit bench --busy-poll; default 0),
# SERVERS ("sockit nginx floor"; "sockit floor" pairs the two back to back,
# for the sockit/floor CPU ratio alone).
. "$(dirname "$0")/lib.sh"

CLIENT=${CLIENT:-sockit}
BUSY_POLL=${BUSY_POLL:-0}
CONNS=${CONNS:-100 1000}
SERVERS=${SERVERS:-sockit nginx floor}
has() { [[ " $SERVERS " == *" $1 "* ]]; }
(($(nproc) >= 2)) || { echo "bench: http-pinned needs 2 cores" >&2; exit 1; }
have_http_service || { echo "bench: sockit has no http service" >&2; exit 1; }
build_floor

# measure PID ADDR CONNS: "req/s server_us_per_req client_cpu_percent"
measure() {
    local pid=$1 addr=$2 conns=$3
    if [[ $CLIENT == wrk ]]; then
        CLIENT_PREFIX="taskset -c 1" wrk_cpu "$pid" "http://$addr/" -t1 -c"$conns" -d"${DUR}s"
    else
        CLIENT_PREFIX="taskset -c 1" bench_cpu "$pid" "$addr" -t1 -c"$conns" -d"$DUR" --busy-poll "$BUSY_POLL"
    fi
}

echo "servers: $SERVERS (each taskset -c 0: sockit serve --service http --model loop, nginx 1 worker, floor)"
echo "client:  taskset -c 1 $([[ $CLIENT == wrk ]] && echo "wrk -t1 -cN -d${DUR}s" || echo "sockit bench --proto http -t1 -cN -d$DUR --busy-poll $BUSY_POLL")"
echo "columns: req/s, server CPU us per request, client CPU %"
for conns in $CONNS; do
    for s in $SERVERS; do
        : >"$WORK/$s.rps.$conns"
        : >"$WORK/$s.cpu.$conns"
    done
    for ((r = 1; r <= RUNS; r++)); do
        line="run $r c=$conns:"
        for s in $SERVERS; do
            port=$(free_port)
            case $s in
            sockit)
                taskset -c 0 "$SOCKIT" serve --service http --model loop --listen "127.0.0.1:$port" 2>/dev/null &
                pid=$!
                BG_PIDS+=("$pid")
                ;;
            floor)
                taskset -c 0 "$FLOOR" 127.0.0.1 "$port" &
                pid=$!
                BG_PIDS+=("$pid")
                ;;
            nginx)
                NGINX_PREFIX_CMD="taskset -c 0" nginx_start "$WORK/nginx" "$port" 1 >/dev/null || exit 1
                pid=$NGINX_PID
                ;;
            esac
            wait_http "127.0.0.1:$port" || exit 1
            read -r rps us cli < <(measure "$pid" "127.0.0.1:$port" "$conns")
            if [[ $s == nginx ]]; then nginx_stop; else stop_pid "$pid"; fi
            echo "$rps" >>"$WORK/$s.rps.$conns"
            echo "$us" >>"$WORK/$s.cpu.$conns"
            line+="  $s $rps ${us}us ${cli}%"
        done
        echo "$line"
    done
    # pair A B KIND TITLE: the ratio of A to B (medians, then per run) when both ran.
    pair() {
        has "$1" && has "$2" || return 0
        report "$4" "$1" "$WORK/$1.$3.$conns" "$2" "$WORK/$2.$3.$conns"
        report_paired "$4" "$1" "$WORK/$1.$3.$conns" "$2" "$WORK/$2.$3.$conns"
    }
    pair sockit nginx rps "HTTP req/s pinned, c=$conns, $CLIENT client"
    pair floor nginx rps "HTTP req/s pinned, c=$conns, $CLIENT client"
    pair sockit nginx cpu "HTTP server us/request pinned, c=$conns"
    pair floor nginx cpu "HTTP server us/request pinned, c=$conns"
    pair sockit floor cpu "HTTP server us/request pinned, c=$conns"
done
