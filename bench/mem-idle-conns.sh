#!/usr/bin/env bash
# Memory per idle connection: RSS growth of the server with N (10,000) open,
# idle connections, sockit serve (loop model) vs nginx (1 worker).
# Alternating runs, medians (bytes per connection), ratio. Target: below
# nginx (about 0.5 KiB here).  Env: RUNS (5), N (10000).
. "$(dirname "$0")/lib.sh"
N=${N:-10000}
# --head-timeout 0: idle connections that never send a request are kept
# (nginx keeps them for client_header_timeout, 60 s, longer than a run).
svc_args=(--service http --head-timeout 0)
if ! have_http_service; then
    svc_args=(--service echo)
    echo "# NOTE: this build has no '--service http'; sockit is measured with --service echo (an idle"
    echo "#       connection holds the same state either way: no buffer until data arrives)."
fi

rss_kb() { # RSS of a process and its children, kB
    local total=0 p
    for p in "$1" $(pgrep -P "$1" || true); do
        total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

# measure PID HOST PORT: bytes of RSS growth per connection.
measure() {
    local pid=$1 host=$2 port=$3 before after
    curl -s --max-time 2 -o /dev/null "http://$host:$port/" 2>/dev/null || true # warm up
    sleep 0.3
    before=$(rss_kb "$pid")
    coproc IDLE { exec python3 "$BENCH_DIR/idle_conns.py" "$host" "$port" "$N"; }
    local cpid=$IDLE_PID
    read -r _ _ <&"${IDLE[0]}"
    sleep 1 # let the server accept them all
    after=$(rss_kb "$pid")
    local wfd=${IDLE[1]}
    exec {wfd}>&- # EOF on its stdin: it drops the connections and exits
    wait "$cpid" 2>/dev/null || true
    awk -v a="$after" -v b="$before" -v n="$N" 'BEGIN { printf "%.0f", (a-b)*1024/n }'
}

echo "# $N idle connections (python3 bench/idle_conns.py), RSS from /proc/PID/status (server + children)"
echo "#   sockit serve ${svc_args[*]} --model loop --listen 127.0.0.1:0"
echo "#   nginx: worker_processes 1, return 200, access_log off"
: >"$WORK/s" && : >"$WORK/n"
for ((i = 1; i <= RUNS; i++)); do
    sockit_start "mem$i" "${svc_args[@]}" --model loop || exit 1
    s=$(measure "$SK_PID" 127.0.0.1 "${SK_ADDR##*:}")
    stop_pid "$SK_PID"
    port=$(free_port)
    nginx_start "$WORK/nginx$i" "$port" 1 || exit 1
    n=$(measure "$NGINX_PID" 127.0.0.1 "$port")
    nginx_stop
    echo "run $i: sockit $s B/conn, nginx $n B/conn"
    echo "$s" >>"$WORK/s"
    echo "$n" >>"$WORK/n"
done
report "RSS bytes per idle connection, N=$N" "sockit" "$WORK/s" "nginx" "$WORK/n"
