#!/usr/bin/env bash
# HTTP hello at equal cores, pinned: the server (sockit loop, or nginx with
# one worker) runs on CPU 0 only and the client on CPU 1 only, so neither
# server competes with the load generator for a core. The client is sockit
# bench by default, since one wrk thread saturates its core below what
# either server can answer (CLIENT=wrk to use wrk anyway).
# Env: RUNS (5), DUR (5), CONNS ("100 1000"), CLIENT (sockit|wrk).
. "$(dirname "$0")/lib.sh"

CLIENT=${CLIENT:-sockit}
CONNS=${CONNS:-100 1000}
(($(nproc) >= 2)) || { echo "bench: http-pinned needs 2 cores" >&2; exit 1; }
have_http_service || { echo "bench: sockit has no http service" >&2; exit 1; }

client_rps() {
    local addr=$1 conns=$2
    if [[ $CLIENT == wrk ]]; then
        taskset -c 1 wrk -t1 -c"$conns" -d"${DUR}s" "http://$addr/" | awk '/Requests\/sec/ { print $2 }'
    else
        taskset -c 1 "$SOCKIT" bench "$addr" --proto http -t1 -c"$conns" -d"$DUR" --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_per_s"])'
    fi
}

echo "server: taskset -c 0 sockit serve --service http --model loop  |  taskset -c 0 nginx (1 worker)"
echo "client: taskset -c 1 $([[ $CLIENT == wrk ]] && echo "wrk -t1 -cN -d${DUR}s" || echo "sockit bench --proto http -t1 -cN -d$DUR")"
port=$((20000 + RANDOM % 20000))
for conns in $CONNS; do
    : >"$WORK/sockit.$conns"
    : >"$WORK/nginx.$conns"
    for ((r = 0; r < RUNS; r++)); do
        taskset -c 0 "$SOCKIT" serve --service http --model loop --listen "127.0.0.1:$port" 2>/dev/null &
        pid=$!
        BG_PIDS+=("$pid")
        for ((i = 0; i < 100; i++)); do
            curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
            sleep 0.05
        done
        client_rps "127.0.0.1:$port" "$conns" >>"$WORK/sockit.$conns"
        stop_pid "$pid"
        NGINX_PREFIX_CMD="taskset -c 0" nginx_start "$WORK/nginx" "$((port + 1))" 1 >/dev/null
        client_rps "127.0.0.1:$((port + 1))" "$conns" >>"$WORK/nginx.$conns"
        nginx_stop
    done
    echo "  sockit runs: $(tr '\n' ' ' <"$WORK/sockit.$conns")"
    echo "  nginx runs:  $(tr '\n' ' ' <"$WORK/nginx.$conns")"
    report "HTTP req/s pinned 1 core each, c=$conns, $CLIENT client" sockit "$WORK/sockit.$conns" nginx "$WORK/nginx.$conns"
done
