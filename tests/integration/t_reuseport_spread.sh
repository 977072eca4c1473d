#!/usr/bin/env bash
# prefork and hybrid give each worker (process or loop thread) its own
# SO_REUSEPORT listener, so the kernel spreads new connections evenly by
# their 4-tuple: 2,000 idle connections, each worker within 2x of the mean.
# prefork: the established sockets per worker PID (ss -tnp); hybrid: the
# descriptors each loop thread's epoll instance watches (its fdinfo).
. "$(dirname "$0")/lib.sh"
N=2000
W=4

# hold ADDR: N connections, each echoing every second, for 8 s (background;
# the counts are taken as soon as all are up, long before the end).
hold() {
    "$SOCKIT" bench "$1" -c "$N" --idle 1s -d 8s --timeout 5s --json >"$TMP/bench.json" 2>"$TMP/bench.log" &
    BENCH_PID=$!
    PIDS+=("$BENCH_PID")
}

# wait_established PORT: until N sockets on the server side are established (8 s).
wait_established() {
    local i n=0
    for ((i = 0; i < 160; i++)); do
        n=$(ss -tnH state established "( sport = :$1 )" | wc -l)
        ((n >= N)) && return 0
        sleep 0.05
    done
    fail "only $n of $N connections established"
}

# check_spread WHAT COUNTS...: every count within 2x of the mean.
check_spread() {
    local what=$1 sum=0 c
    shift
    (($# == W)) || fail "$what: $# workers seen, wanted $W ($*)"
    for c in "$@"; do sum=$((sum + c)); done
    ((sum == N)) || fail "$what: $sum connections counted, wanted $N ($*)"
    for c in "$@"; do
        ((c * W * 2 >= sum && c * W <= 2 * sum)) || fail "$what: uneven spread $* (mean $((sum / W)))"
    done
    pass "$what: $N connections spread $*"
}

finish_bench() {
    wait "$BENCH_PID" || fail "bench failed: $(cat "$TMP/bench.log")"
    grep -q '"errors":{"connect":0,"read":0,"write":0,"timeout":0' "$TMP/bench.json" ||
        fail "bench errors: $(cat "$TMP/bench.json")"
}

# prefork: one listener per worker on the one port, and the spread by PID.
start_server prefork --service echo --model prefork --workers "$W" --listen 127.0.0.1:0
nl=$(ss -tlnH "( sport = :$SERVER_PORT )" | wc -l)
((nl == W)) || fail "prefork: $nl listening sockets on port $SERVER_PORT, wanted $W"
hold "$SERVER_ADDR"
wait_established "$SERVER_PORT"
mapfile -t counts < <(ss -tnpH state established "( sport = :$SERVER_PORT )" | grep -o 'pid=[0-9]*' | sort | uniq -c |
    awk '{print $1}')
check_spread "prefork --workers $W" "${counts[@]}"
finish_bench
stop_server "$SERVER_PID"

# hybrid: the loop threads share one process; each has its own epoll set.
start_server hybrid --service echo --model hybrid --workers "$W" --listen 127.0.0.1:0
hold "$SERVER_ADDR"
wait_established "$SERVER_PORT"
# epoll_counts: how many of the port's established connections each loop
# thread's epoll instance watches (its fdinfo names each watched file by
# inode, in hex; ss -e by inode, in decimal: printf makes it hex).
epoll_counts() {
    local fd
    ss -tneH state established "( sport = :$SERVER_PORT )" | grep -o 'ino:[0-9]*' | cut -d: -f2 |
        xargs -r printf '%x\n' >"$TMP/inodes"
    # The epoll descriptors by one find, not a readlink per descriptor: with
    # 2,000 connections open that is 2,000 processes a look on a busy machine,
    # and the looks must end while the connections are still held.
    for fd in $(find /proc/"$SERVER_PID"/fd -lname 'anon_inode:\[eventpoll\]' -printf '%f\n'); do
        cat "/proc/$SERVER_PID/fdinfo/$fd" >"$TMP/fdinfo"
        awk 'NR == FNR { conn[$1] = 1; next }
             /^tfd:/ { for (i = 1; i < NF; i++) if ($i ~ /^ino:/) { if (substr($i, 5) in conn) n++ } }
             END { print n + 0 }' "$TMP/inodes" "$TMP/fdinfo"
    done
}
# The kernel's established count runs ahead of the accepts: wait (5 s)
# until the loops hold them all.
for ((i = 0; i < 50; i++)); do
    mapfile -t counts < <(epoll_counts)
    sum=0
    for c in "${counts[@]}"; do sum=$((sum + c)); done
    ((sum >= N)) && break
    sleep 0.1
done
check_spread "hybrid --workers $W" "${counts[@]}"
finish_bench
stop_server "$SERVER_PID"
