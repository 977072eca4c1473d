#!/usr/bin/env bash
# Memory per idle connection: RSS growth of the server with N (10,000) open,
# idle connections, sockit serve under each of MODELS vs nginx (1 worker),
# in each of STATES: "fresh" connections that never sent a request, and
# "served" ones that sent one keep-alive request, read its answer and wait
# between requests. Alternating runs, medians (bytes per connection), ratio.
# Target: at most 256 bytes (about half of nginx's).
# Env: RUNS (5), N (10000), MODELS ("loop hybrid prefork"), STATES ("fresh
# served"), WORKERS (2: threads or processes of hybrid and prefork).
. "$(dirname "$0")/lib.sh"
N=${N:-10000}
MODELS=${MODELS:-loop hybrid prefork}
STATES=${STATES:-fresh served}
WORKERS=${WORKERS:-2}
# --head-timeout 0: idle connections that never send a request are kept
# (nginx keeps them for client_header_timeout, 60 s, longer than a run).
svc_args=(--service http --head-timeout 0)
if ! have_http_service; then
    svc_args=(--service echo)
    STATES=fresh
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

fds_of() { # open fds of a process and its children
    local total=0 p
    for p in "$1" $(pgrep -P "$1" || true); do
        total=$((total + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
    done
    echo "$total"
}

# measure PID HOST PORT STATE: bytes of RSS growth per connection.
measure() {
    local pid=$1 host=$2 port=$3 state=$4 before after
    # Warm up with a few connections, so that every worker (hybrid,
    # prefork) has served one before the count starts: what a worker
    # touches once is not a cost per connection.
    local k
    for ((k = 0; k < 16; k++)); do
        curl -s --max-time 2 -o /dev/null "http://$host:$port/" 2>/dev/null || true
    done
    sleep 0.3
    before=$(rss_kb "$pid")
    local fds0
    fds0=$(fds_of "$pid")
    coproc IDLE { exec python3 "$BENCH_DIR/idle_conns.py" "$host" "$port" "$N" "$state"; }
    local cpid=$IDLE_PID
    read -r _ _ <&"${IDLE[0]}"
    # Until the server has accepted them all (a loaded machine may leave
    # some in the backlog for a while), at most 20 s.
    for ((k = 0; k < 200; k++)); do
        (($(fds_of "$pid") >= fds0 + N)) && break
        sleep 0.1
    done
    (($(fds_of "$pid") >= fds0 + N)) || echo "bench: only $(($(fds_of "$pid") - fds0)) of $N accepted" >&2
    sleep 0.5
    after=$(rss_kb "$pid")
    local wfd=${IDLE[1]}
    exec {wfd}>&- # EOF on its stdin: it drops the connections and exits
    wait "$cpid" 2>/dev/null || true
    awk -v a="$after" -v b="$before" -v n="$N" 'BEGIN { printf "%.0f", (a-b)*1024/n }'
}

model_args() {
    case $1 in
    hybrid | prefork) echo "--model $1 --workers $WORKERS" ;;
    *) echo "--model $1" ;;
    esac
}

echo "# $N idle connections (python3 bench/idle_conns.py), RSS from /proc/PID/status (server + children)"
for m in $MODELS; do
    echo "#   sockit serve ${svc_args[*]} $(model_args "$m") --listen 127.0.0.1:0"
done
echo "#   nginx: worker_processes 1, return 200, access_log off"
echo "#   states: $STATES (fresh: no request sent; served: one keep-alive request answered)"
for st in $STATES; do
    : >"$WORK/n.$st"
    for m in $MODELS; do : >"$WORK/s.$m.$st"; done
done
for ((i = 1; i <= RUNS; i++)); do
    line="run $i:"
    for st in $STATES; do
        for m in $MODELS; do
            # shellcheck disable=SC2046 # model_args is words
            sockit_start "mem$i.$m.$st" "${svc_args[@]}" $(model_args "$m") || exit 1
            s=$(measure "$SK_PID" 127.0.0.1 "${SK_ADDR##*:}" "$st")
            stop_pid "$SK_PID"
            echo "$s" >>"$WORK/s.$m.$st"
            line+="  $m/$st $s"
        done
        port=$(free_port)
        nginx_start "$WORK/nginx$i" "$port" 1 || exit 1
        n=$(measure "$NGINX_PID" 127.0.0.1 "$port" "$st")
        nginx_stop
        echo "$n" >>"$WORK/n.$st"
        line+="  nginx/$st $n"
    done
    echo "$line (B/conn)"
done
for st in $STATES; do
    for m in $MODELS; do
        report "RSS B per idle conn ($st), N=$N" "sockit-$m" "$WORK/s.$m.$st" "nginx" "$WORK/n.$st"
    done
done
