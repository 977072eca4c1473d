#!/usr/bin/env bash
# Bulk UDP on loopback: sockit bench --proto udp (SOCKS sockets, a window
# of WINDOW datagrams each, SIZE bytes) against sockit serve --proto udp
# --service echo, vs iperf3 -u -b 0 -l SIZE (its own client and server,
# one stream, sending as fast as it can). iperf3's figure is what its
# server received (sum_received); sockit's is what came back to the client
# (bytes_in_per_s), so every sockit byte crossed loopback twice and was
# received and sent by the server: the comparison is tilted against
# sockit, and both columns are printed per run with iperf3's loss.
# Alternating runs, medians (Gbit/s), ratio. Goal: sockit >= 0.9x.
# Env: RUNS (5), DUR (5 s), SIZE (1400), SOCKS (8), THREADS (1), WINDOW (32),
# SERVER_PREFIX / CLIENT_PREFIX (e.g. "taskset -c 0" / "taskset -c 1").
. "$(dirname "$0")/lib.sh"
SIZE=${SIZE:-1400}
SOCKS=${SOCKS:-8}
THREADS=${THREADS:-1}
WINDOW=${WINDOW:-32}
command -v iperf3 >/dev/null || { echo "bulk-udp-vs-iperf3: iperf3 not installed (apt-get install iperf3)"; exit 1; }
sockit_start udpecho --proto udp --service echo --model loop || exit 1
if [[ -n ${SERVER_PREFIX:-} ]]; then
    # shellcheck disable=SC2086
    ${SERVER_PREFIX/taskset/taskset -a -p} "$SK_PID" >/dev/null
fi
port=$(free_port)
echo "# sockit: sockit bench $SK_ADDR --proto udp --size $SIZE -c $SOCKS -t $THREADS --pipeline $WINDOW -d $DUR (server: sockit serve --proto udp --service echo)"
echo "# iperf3: iperf3 -c 127.0.0.1 -p PORT -u -b 0 -l $SIZE -t $DUR  (server: iperf3 -s)"
echo "#   ${SERVER_PREFIX:-servers unpinned}; client ${CLIENT_PREFIX:-unpinned}; $(date -u '+%F %H:%M UTC')"
: >"$WORK/i" && : >"$WORK/s"
for ((i = 1; i <= RUNS; i++)); do
    # iperf3 -s -1 serves one test; a fresh one each run.
    # shellcheck disable=SC2086
    ${SERVER_PREFIX:-} iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    ipid=$!
    BG_PIDS+=("$ipid")
    sleep 0.3
    # shellcheck disable=SC2086
    read -r g loss <<<"$(${CLIENT_PREFIX:-} iperf3 -c 127.0.0.1 -p "$port" -u -b 0 -l "$SIZE" -t "$DUR" --json |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["end"]["sum_received"]
print("%.3f %.0f" % (r["bits_per_second"]/1e9, r["lost_percent"]))')"
    wait "$ipid" 2>/dev/null || true
    # shellcheck disable=SC2086
    read -r s lost <<<"$(${CLIENT_PREFIX:-} "$SOCKIT" bench "$SK_ADDR" --proto udp --size "$SIZE" -c "$SOCKS" \
        -t "$THREADS" --pipeline "$WINDOW" -d "$DUR" --timeout 1s --json |
        json_get '"%.3f %d" % (r["bytes_in_per_s"] * 8 / 1e9, r["datagrams"]["lost"])')"
    echo "run $i: iperf3 -u $g Gbit/s received ($loss% lost), sockit $s Gbit/s echoed ($lost lost), ratio $(ratio "$s" "$g")"
    echo "$g" >>"$WORK/i"
    echo "$s" >>"$WORK/s"
done
report "bulk UDP Gbit/s, $SIZE-byte datagrams" "sockit" "$WORK/s" "iperf3" "$WORK/i"
report_paired "bulk UDP Gbit/s, $SIZE-byte datagrams" "sockit" "$WORK/s" "iperf3" "$WORK/i"
