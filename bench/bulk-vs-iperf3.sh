#!/usr/bin/env bash
# Bulk throughput on loopback: sockit bench --proto discard against sockit
# serve --service discard, vs iperf3 (its own client and server), one TCP
# stream each. Alternating runs, medians (Gbit/s), ratio. Target >= 0.9x.
# Env: RUNS (5), DUR (5 s), SIZE (131072 bytes per write).
. "$(dirname "$0")/lib.sh"
SIZE=${SIZE:-131072}
command -v iperf3 >/dev/null || { echo "bulk-vs-iperf3: iperf3 not installed (apt-get install iperf3)"; exit 1; }
sockit_start discard --service discard || exit 1
port=$(free_port)
iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
ipid=$!
BG_PIDS+=("$ipid")
echo "# sockit: sockit bench $SK_ADDR --proto discard --size $SIZE -c1 -t1 -d$DUR  (server: sockit serve --service discard)"
echo "# iperf3: iperf3 -c 127.0.0.1 -p PORT -t $DUR  (server: iperf3 -s)"
: >"$WORK/i" && : >"$WORK/s"
for ((i = 1; i <= RUNS; i++)); do
    # iperf3 -s -1 serves one test; start a fresh one each run.
    if ! kill -0 "$ipid" 2>/dev/null; then
        iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
        ipid=$!
        BG_PIDS+=("$ipid")
    fi
    sleep 0.3
    g=$(iperf3 -c 127.0.0.1 -p "$port" -t "$DUR" --json |
        python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))')
    s=$("$SOCKIT" bench "$SK_ADDR" --proto discard --size "$SIZE" -c1 -t1 -d"$DUR" --json |
        python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["bytes_out_per_s"]*8/1e9))')
    echo "run $i: iperf3 $g Gbit/s, sockit $s Gbit/s"
    echo "$g" >>"$WORK/i"
    echo "$s" >>"$WORK/s"
    wait "$ipid" 2>/dev/null || true
done
report "bulk loopback Gbit/s, 1 stream" "sockit" "$WORK/s" "iperf3" "$WORK/i"
