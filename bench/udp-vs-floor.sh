#!/usr/bin/env bash
# UDP echo datagrams per second: sockit serve --proto udp (loop model, its
# recvmmsg/sendmmsg path) against bench/udp_floor.c in its two forms, one
# recvfrom+sendto per datagram ("simple") and recvmmsg+sendmmsg of up to 64
# ("batch"), the client sockit bench --proto udp with several sockets and
# threads and a window of datagrams in flight per socket. The three servers
# alternate within each run; medians of the answered datagrams/s and of
# the per-run ratios. Goals (issue: performance round two): sockit >= 1.0x
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
udp_floor_start simple || exit 1
SIMPLE_PID=$UF_PID SIMPLE=$UF_ADDR
udp_floor_start batch || exit 1
BATCH_PID=$UF_PID BATCH=$UF_ADDR
if [[ -n ${SERVER_PREFIX:-} ]]; then
    for p in "$SK_PID" "$SIMPLE_PID" "$BATCH_PID"; do
        # shellcheck disable=SC2086
        ${SERVER_PREFIX/taskset/taskset -p} "$p" >/dev/null
    done
fi

# measure ADDR: "answered/s lost client_cpu_percent"
measure() {
    local out
    # shellcheck disable=SC2086
    out=$(/usr/bin/time -f 'CLICPU %U %S %e' ${CLIENT_PREFIX:-} "$SOCKIT" bench "$1" --proto udp -c "$SOCKS" \
        -t "$THREADS" --pipeline "$WINDOW" --size "$SIZE" -d "$DUR" --timeout 1s --json 2>&1)
    python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
r = json.loads(next(l for l in lines if l.startswith("{")))
u, s, e = map(float, next(l for l in lines if l.startswith("CLICPU")).split()[1:])
print("%.0f %d %.0f" % (r["requests_per_s"], r["datagrams"]["lost"], (u + s) / e * 100))' <<<"$out"
}

echo "# sockit bench ADDR --proto udp -c $SOCKS -t $THREADS --pipeline $WINDOW --size $SIZE -d $DUR --timeout 1s"
echo "#   sockit serve --proto udp --service echo --model loop ($SK_ADDR)"
echo "#   udp_floor simple ($SIMPLE), udp_floor batch ($BATCH)"
: >"$WORK/s" && : >"$WORK/f1" && : >"$WORK/fb"
for ((i = 1; i <= RUNS; i++)); do
    read -r s sl sc <<<"$(measure "$SK_ADDR")"
    read -r f1 f1l f1c <<<"$(measure "$SIMPLE")"
    read -r fb fbl fbc <<<"$(measure "$BATCH")"
    echo "run $i: sockit $s dgram/s (lost $sl, client $sc% CPU), simple floor $f1 ($f1l, $f1c%), batch floor $fb ($fbl, $fbc%)"
    echo "$s" >>"$WORK/s" && echo "$f1" >>"$WORK/f1" && echo "$fb" >>"$WORK/fb"
done
report "UDP echo datagrams/s vs simple floor" "sockit" "$WORK/s" "simple" "$WORK/f1"
report_paired "UDP echo datagrams/s vs simple floor" "sockit" "$WORK/s" "simple" "$WORK/f1"
report "UDP echo datagrams/s vs batch floor" "sockit" "$WORK/s" "batch" "$WORK/fb"
report_paired "UDP echo datagrams/s vs batch floor" "sockit" "$WORK/s" "batch" "$WORK/fb"
