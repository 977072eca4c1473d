#!/usr/bin/env bash
# C100K: N (100,000) concurrent echo connections to one server port, every
# one checked by its own echo every IDLE (10 s) for HOLD (60 s), from a
# client of PROCS (8) processes spread over the source addresses SOURCES
# (127.0.0.2-127.0.0.9: about 28k ephemeral ports per source address and
# server port, the 4-tuple lesson) -- sockit bench --procs --source --idle.
# The server is sockit serve --service echo with SERVER_ARGS (default
# "--model prefork --workers 6": one process may hold 20,000 descriptors
# here, so 100,000 need several processes). The reference for memory is
# nginx with as many workers, holding the same count of keep-alive HTTP
# connections (nginx-light has no stream echo), each sent GET / every IDLE
# by the same client. Servers alternate, RUNS (5) each; medians and ratios.
# Per run: time to establish all, errors (connect, read, write, timeout)
# and the connections still open at the end, the longest gap between two
# echoes of one connection, echo p99, user-space RSS per connection (the
# server and its children at the peak, minus before), kernel memory per
# connection (/proc/net/sockstat TCP mem pages: the sockets' buffers; the
# slab objects in use of the caches a socket is made of -- TCP, TCPv6,
# sock_inode_cache, dentry, filp, eventpoll_epi/pwq, tcp_bind(2)_bucket --
# and of every cache, when /proc/slabinfo is readable: as root), and the server's CPU while only the echoes
# every IDLE run (from the second third of HOLD to its last 5 s). Client
# and server share this machine, so the kernel's figures cover both ends
# of each connection (two sockets), and sockstat's page count is the whole
# machine's (other programs' traffic moves it): the slab figure, taken by
# the caches that grow with sockets, is the steadier one.
# Goals (issue: performance round two): zero errors, every gap <= 10 s,
# RSS <= 256 B per connection (half of nginx's).
# Env: RUNS, N, PROCS, SOURCES, IDLE, HOLD, SERVER_ARGS, WORKERS (nginx).
. "$(dirname "$0")/lib.sh"
N=${N:-100000}
PROCS=${PROCS:-8}
SOURCES=${SOURCES:-127.0.0.2-127.0.0.9}
IDLE=${IDLE:-10s}
HOLD=${HOLD:-60}
SERVER_ARGS=${SERVER_ARGS:---model prefork --workers 6}
WORKERS=${WORKERS:-6}
hard=$(ulimit -Hn)
((N / PROCS + 100 < hard)) || { echo "c100k: $N connections over $PROCS processes need more than $hard descriptors each"; exit 1; }

sock_mem_pages() { awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' /proc/net/sockstat; }
# spread ADDR: the server's established connections per process (ss -tnp), for the log.
spread() {
    ss -tnpH state established "( sport = :${1##*:} )" | grep -o 'pid=[0-9]*' | sort | uniq -c | awk '{printf "%s ", $1}'
}
slab_bytes() {
    [[ -r /proc/slabinfo ]] || { echo 0; return; }
    awk '$1 ~ /^(TCP|TCPv6|tcp_bind_bucket|tcp_bind2_bucket|sock_inode_cache|eventpoll_epi|eventpoll_pwq|filp|dentry)$/ { b += $2 * $4 } END { printf "%.0f\n", b }' /proc/slabinfo
}
# Every slab cache's objects in use (kmalloc's included), in bytes.
slab_all_bytes() {
    [[ -r /proc/slabinfo ]] || { echo 0; return; }
    awk 'NR > 2 { b += $2 * $4 } END { printf "%.0f\n", b }' /proc/slabinfo
}

# measure PID ADDR PROTO: one hold; prints "established_s errors open max_gap_s p99_us rss_B kmem_B slab_B cpu_pct
# slab_all_B"; the spread over the server's processes goes to $WORK/spread.
measure() {
    local pid=$1 addr=$2 proto=$3 out=$WORK/run.json rss0 rss_peak=0 mem0 mem1 slab0 slab1 all0 all1 t0 t1 c0=0 c1=0 s0=0 s1=1 r
    rss0=$(rss_tree_kb "$pid")
    mem0=$(sock_mem_pages)
    slab0=$(slab_bytes)
    all0=$(slab_all_bytes)
    "$SOCKIT" bench "$addr" --proto "$proto" --procs "$PROCS" --source "$SOURCES" -c "$N" --idle "$IDLE" \
        -d "${HOLD}s" --timeout 10s --json >"$out" 2>"$WORK/run.err" &
    local bpid=$!
    BG_PIDS+=("$bpid")
    t0=$((HOLD / 3)) t1=$((HOLD - 5)) mem1=$mem0 slab1=$slab0 all1=$all0
    # By the clock, not by turns of this loop: a turn takes more than a
    # second with 100,000 sockets to look at, and the marks must fall
    # inside the hold.
    local start=$SECONDS s did0=0 did1=0 didsp=0
    while kill -0 "$bpid" 2>/dev/null; do
        sleep 1
        s=$((SECONDS - start))
        r=$(rss_tree_kb "$pid")
        ((r > rss_peak)) && rss_peak=$r
        if ((s >= t0 - 1 && !didsp)); then
            spread "$addr" >"$WORK/spread"
            didsp=1
        fi
        if ((s >= t0 && !did0)); then
            c0=$(tree_cpu_ticks "$pid") s0=$SECONDS
            did0=1
        fi
        if ((s >= t1 && !did1)); then
            c1=$(tree_cpu_ticks "$pid") s1=$SECONDS
            mem1=$(sock_mem_pages)
            slab1=$(slab_bytes)
            all1=$(slab_all_bytes)
            did1=1
        fi
    done
    wait "$bpid" || { echo "c100k: bench failed: $(cat "$WORK/run.err")" >&2; }
    json_get '"%s %d %d %.3f %d" % (r["established_s"], sum(r["errors"].values()), r["idle"]["open_at_end"],
              r["idle"]["max_gap_s"], r["latency_us"]["p99"])' <"$out" | tr -d '\n'
    awk -v r0="$rss0" -v r1="$rss_peak" -v m0="$mem0" -v m1="$mem1" -v s0="$slab0" -v s1="$slab1" -v n="$N" \
        -v c0="$c0" -v c1="$c1" -v dt=$((s1 > s0 ? s1 - s0 : 1)) -v hz="$(getconf CLK_TCK)" -v a0="$all0" -v a1="$all1" \
        'BEGIN { printf " %.0f %.0f %.0f %.1f %.0f\n", (r1 - r0) * 1024 / n, (m1 - m0) * 4096 / n, (s1 - s0) / n,
                 (c1 - c0) / hz / dt * 100, (a1 - a0) / n }'
}

echo "# $N connections, $PROCS client processes from $SOURCES, one echo each every $IDLE for ${HOLD}s"
echo "#   sockit bench ADDR --procs $PROCS --source $SOURCES -c $N --idle $IDLE -d ${HOLD}s --timeout 10s --json"
echo "#   sockit serve --service echo $SERVER_ARGS   vs   nginx worker_processes $WORKERS (--proto http, GET /)"
echo "#   columns: established_s errors open_at_end max_gap_s p99_us rss_B/conn kmem_B/conn slab_B/conn server_cpu_%"
for f in s_rss n_rss s_kmem n_kmem s_slab n_slab s_aslab n_aslab s_est n_est s_cpu n_cpu; do : >"$WORK/$f"; done
for ((i = 1; i <= RUNS; i++)); do
    # shellcheck disable=SC2086
    sockit_start "c100k$i" --service echo $SERVER_ARGS || exit 1
    read -r est err open gap p99 rss kmem slab cpu aslab <<<"$(measure "$SK_PID" "$SK_ADDR" echo)"
    stop_pid "$SK_PID"
    echo "run $i sockit: established ${est}s, errors $err, open $open, longest gap ${gap}s, p99 ${p99}us, RSS $rss B/conn, kernel $kmem B/conn (socket caches $slab, all slab $aslab), CPU $cpu%; per process: $(cat "$WORK/spread")"
    echo "$rss" >>"$WORK/s_rss" && echo "$kmem" >>"$WORK/s_kmem" && echo "$est" >>"$WORK/s_est" && echo "$cpu" >>"$WORK/s_cpu"
    echo "$slab" >>"$WORK/s_slab" && echo "$aslab" >>"$WORK/s_aslab"
    sleep 2 # the client's TIME_WAIT on close is on 8 source addresses; nothing to wait for
    port=$(free_port)
    nginx_start "$WORK/nginx$i" "$port" "$WORKERS" 20000 || exit 1
    read -r est err open gap p99 rss kmem slab cpu aslab <<<"$(measure "$NGINX_PID" "127.0.0.1:$port" http)"
    nginx_stop
    echo "run $i nginx:  established ${est}s, errors $err, open $open, longest gap ${gap}s, p99 ${p99}us, RSS $rss B/conn, kernel $kmem B/conn (socket caches $slab, all slab $aslab), CPU $cpu%; per process: $(cat "$WORK/spread")"
    echo "$rss" >>"$WORK/n_rss" && echo "$kmem" >>"$WORK/n_kmem" && echo "$est" >>"$WORK/n_est" && echo "$cpu" >>"$WORK/n_cpu"
    echo "$slab" >>"$WORK/n_slab" && echo "$aslab" >>"$WORK/n_aslab"
done
report "C$N user-space RSS B/conn" "sockit" "$WORK/s_rss" "nginx" "$WORK/n_rss"
report_paired "C$N user-space RSS B/conn" "sockit" "$WORK/s_rss" "nginx" "$WORK/n_rss"
report "C$N kernel B/conn (sockstat, both ends)" "sockit" "$WORK/s_kmem" "nginx" "$WORK/n_kmem"
report "C$N kernel socket caches B/conn (both ends)" "sockit" "$WORK/s_slab" "nginx" "$WORK/n_slab"
report "C$N kernel slab, every cache, B/conn (both ends)" "sockit" "$WORK/s_aslab" "nginx" "$WORK/n_aslab"
report "C$N time to establish all, s" "sockit" "$WORK/s_est" "nginx" "$WORK/n_est"
report "C$N server CPU % while idle" "sockit" "$WORK/s_cpu" "nginx" "$WORK/n_cpu"
