#!/usr/bin/env bash
# UDP echo datagrams per second: sockit serve --proto udp (loop model, its
# recvmmsg/sendmmsg path) against bench/udp_floor.c in its two forms, one
# recvfrom+sendto per datagram ("simple") and recvmmsg+sendmmsg of up to 64
# ("batch"), the client sockit bench --proto udp with several sockets and
# threads and a window of datagrams in flight per socket. The three servers
# alternate within each run; medians of the answered datagrams/s and of
# the per-run ratios, and each server's CPU time (user+system, from /proc)
# per answered datagram, which steal time and a busy machine blur less than
# the rate. HYBRID=N adds sockit --model hybrid --workers N; OLD=PATH adds
# the loop server of another sockit binary (e.g. a build from before a
# change), measured by the same client. Goals (issue: performance round two): sockit >= 1.0x
# batch and >= 1.3x simple, with a client that is not the bottleneck (its
# CPU is printed: at 100% per thread it is). Loss is printed too: a run
# that lost datagrams measured a queue overflowing, not a rate.
# Env: RUNS (5), DUR (5 s), SOCKS (8), THREADS (2), WINDOW (16), SIZE (64),
# CLIENT_PREFIX (e.g. "taskset -c 1"), SERVER_PREFIX (e.g. "taskset -c 0").
. "$(dirname "$0")/lib.sh"
SOCKS=${SOCKS:-8}
THREADS=${THREADS:-2}
WINDOW=${WINDOW:-16}
SIZE=${SIZE:-64}
build_udp_floor

sockit_start udp --proto udp --service echo --model loop || exit 1
LOOP_PID=$SK_PID LOOP=$SK_ADDR
HYB_PID="" HYB=""
OLD_PID="" OLDA=""
if [[ -n ${OLD:-} ]]; then
    SOCKIT=$OLD sockit_start udpold --proto udp --service echo --model loop || exit 1
    OLD_PID=$SK_PID OLDA=$SK_ADDR
fi
if [[ -n ${HYBRID:-} ]]; then
    sockit_start udph --proto udp --service echo --model hybrid --workers "$HYBRID" || exit 1
    HYB_PID=$SK_PID HYB=$SK_ADDR
fi
udp_floor_start simple || exit 1
SIMPLE_PID=$UF_PID SIMPLE=$UF_ADDR
udp_floor_start batch || exit 1
BATCH_PID=$UF_PID BATCH=$UF_ADDR
if [[ -n ${SERVER_PREFIX:-} ]]; then
    for p in "$LOOP_PID" $HYB_PID $OLD_PID "$SIMPLE_PID" "$BATCH_PID"; do
        # shellcheck disable=SC2086
        ${SERVER_PREFIX/taskset/taskset -a -p} "$p" >/dev/null
    done
fi

# measure PID ADDR: "answered/s lost client_cpu_percent server_us_per_dgram"
measure() {
    local pid=$1 out a b
    shift
    a=$(tree_cpu_ticks "$pid")
    # shellcheck disable=SC2086
    out=$(/usr/bin/time -f 'CLICPU %U %S %e' ${CLIENT_PREFIX:-} "$SOCKIT" bench "$1" --proto udp -c "$SOCKS" \
        -t "$THREADS" --pipeline "$WINDOW" --size "$SIZE" -d "$DUR" --timeout 1s --json 2>&1)
    b=$(tree_cpu_ticks "$pid")
    python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
r = json.loads(next(l for l in lines if l.startswith("{")))
u, s, e = map(float, next(l for l in lines if l.startswith("CLICPU")).split()[1:])
us = (int(sys.argv[2]) - int(sys.argv[1])) / int(sys.argv[3]) * 1e6 / max(r["requests"], 1)
print("%.0f %d %.0f %.2f" % (r["requests_per_s"], r["datagrams"]["lost"], (u + s) / e * 100, us))' "$a" "$b" \
        "$(getconf CLK_TCK)" <<<"$out"
}

echo "# sockit bench ADDR --proto udp -c $SOCKS -t $THREADS --pipeline $WINDOW --size $SIZE -d $DUR --timeout 1s"
echo "#   sockit serve --proto udp --service echo --model loop ($LOOP)${HYB:+, --model hybrid --workers $HYBRID ($HYB)}"
[[ -n $OLDA ]] && echo "#   old: $OLD serve --proto udp --service echo --model loop ($OLDA)"
echo "#   ${SERVER_PREFIX:-servers unpinned}; client ${CLIENT_PREFIX:-unpinned}; $(date -u '+%F %H:%M UTC')"
echo "#   udp_floor simple ($SIMPLE), udp_floor batch ($BATCH)"
: >"$WORK/order"
for f in s f1 fb h o; do : >"$WORK/$f" && : >"$WORK/$f.us"; done
# The servers of this run: key, label, pid, address. Run i starts at the
# (i-1)-th and goes round, so none is always measured first or last.
SERVERS=("s sockit $LOOP_PID $LOOP" "f1 simple $SIMPLE_PID $SIMPLE" "fb batch $BATCH_PID $BATCH")
[[ -n $HYB ]] && SERVERS+=("h hybrid $HYB_PID $HYB")
[[ -n $OLDA ]] && SERVERS+=("o old $OLD_PID $OLDA")
for ((i = 1; i <= RUNS; i++)); do
    declare -A R=()
    order=""
    for ((k = 0; k < ${#SERVERS[@]}; k++)); do
        read -r key label pid addr <<<"${SERVERS[(i - 1 + k) % ${#SERVERS[@]}]}"
        R[$key]=$(measure "$pid" "$addr")
        order+="${order:+ }$label"
    done
    line="run $i ($order):"
    for srv in "${SERVERS[@]}"; do
        read -r key label _ <<<"$srv"
        read -r rate lost ccpu us <<<"${R[$key]}"
        line+=" $label $rate dgram/s (lost $lost, client $ccpu% CPU, server ${us}us/dgram),"
        echo "$rate" >>"$WORK/$key" && echo "$us" >>"$WORK/$key.us"
    done
    echo "${line%,}"
done
report "UDP echo datagrams/s vs simple floor" "sockit" "$WORK/s" "simple" "$WORK/f1"
report_paired "UDP echo datagrams/s vs simple floor" "sockit" "$WORK/s" "simple" "$WORK/f1"
report "UDP echo datagrams/s vs batch floor" "sockit" "$WORK/s" "batch" "$WORK/fb"
report_paired "UDP echo datagrams/s vs batch floor" "sockit" "$WORK/s" "batch" "$WORK/fb"
report "UDP echo server us/datagram vs simple" "sockit" "$WORK/s.us" "simple" "$WORK/f1.us"
report "UDP echo server us/datagram vs batch" "sockit" "$WORK/s.us" "batch" "$WORK/fb.us"
if [[ -n $HYB ]]; then
    report "UDP echo datagrams/s, hybrid vs batch" "hybrid" "$WORK/h" "batch" "$WORK/fb"
    report_paired "UDP echo datagrams/s, hybrid vs batch" "hybrid" "$WORK/h" "batch" "$WORK/fb"
    report "UDP echo server us/datagram, hybrid" "hybrid" "$WORK/h.us" "batch" "$WORK/fb.us"
fi
if [[ -n $OLDA ]]; then
    report "UDP echo datagrams/s, this build vs OLD" "sockit" "$WORK/s" "old" "$WORK/o"
    report_paired "UDP echo datagrams/s, this build vs OLD" "sockit" "$WORK/s" "old" "$WORK/o"
    report "UDP echo server us/datagram vs OLD" "sockit" "$WORK/s.us" "old" "$WORK/o.us"
    report_paired "UDP echo server us/datagram vs OLD" "sockit" "$WORK/s.us" "old" "$WORK/o.us"
fi
