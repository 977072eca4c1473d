#!/usr/bin/env bash
# Server CPU per keep-alive HTTP request, sockit against the floor, measured
# in close pairs. Both servers start once and stay up, pinned to CPU 0 (the
# one not under load sleeps in epoll_wait); the client, sockit bench pinned
# to CPU 1, loads one and then the other for DUR seconds each, the order
# swapped every pair (ABBA) so a drift within a pair cancels too. A server's
# CPU time is read from /proc/PID/task/*/schedstat (nanoseconds on the CPU,
# user and system together), so a short run is measured as exactly as a
# long one; the user/system split comes from /proc/PID/stat (clock ticks)
# summed over all the pairs. Two figures: the median of the per-pair
# ratios sockit/floor, with their quartiles (the machine's speed swings by
# a quarter minute to minute, far more than the difference measured, but
# it swings for both halves of a pair alike), and the ratio of the sums -
# all of a server's CPU time over all its requests - where each run counts
# by its requests, so one odd 2-second run moves it little.
# Each run connects its -c connections anew; the connects are in both
# servers' CPU (about 1000 per run at c=1000: well under 1% of the run).
# RATE=R offers both the same fixed rate (sockit bench --rate R) instead of
# the closed loop, so both see the same arrivals: in a closed loop a server
# that answers faster is sent the next request sooner, and how many requests
# each epoll_wait returns - which moves the CPU per request - follows.
# Env: PAIRS (15), DUR (2, seconds per run), CONNS ("100 1000"),
# MODEL (loop), BUSY_POLL (0, microseconds for sockit bench --busy-poll),
# RATE (closed loop), FLOOR_MODE ("" for the plain 70-byte answer;
# "dated": the floor answers with Server and Date headers, 122 bytes against
# sockit's 123, so both hand the kernel the same bytes per request; "parse":
# dated, and every request head parsed by sockit's parser, the floor of a
# server that checks what it answers).
DUR=${DUR:-2} # before lib.sh, whose default is 5
. "$(dirname "$0")/lib.sh"

PAIRS=${PAIRS:-15}
CONNS=${CONNS:-100 1000}
MODEL=${MODEL:-loop}
BUSY_POLL=${BUSY_POLL:-0}
RATE=${RATE:-}
FLOOR_MODE=${FLOOR_MODE:-}
case $FLOOR_MODE in "" | dated | parse) ;; *) echo "bench: FLOOR_MODE is empty, dated or parse" >&2; exit 2 ;; esac
(($(nproc) >= 2)) || { echo "bench: http-cpu-pairs needs 2 cores" >&2; exit 1; }
have_http_service || { echo "bench: sockit has no http service" >&2; exit 1; }
build_floor ${FLOOR_MODE:+"$FLOOR_MODE"}

# cpu_ns PID: nanoseconds every thread of PID has run.
cpu_ns() {
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{t += $1} END {printf "%.0f\n", t}'
}
# cpu_ticks PID: "user system" clock ticks of PID (all its threads).
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

sport=$(free_port)
taskset -c 0 "$SOCKIT" serve --service http --model "$MODEL" --listen "127.0.0.1:$sport" 2>"$WORK/sockit.log" &
SPID=$!
BG_PIDS+=("$SPID")
fport=$(free_port)
taskset -c 0 "$FLOOR" 127.0.0.1 "$fport" ${FLOOR_MODE:+"$FLOOR_MODE"} &
FPID=$!
BG_PIDS+=("$FPID")
wait_http "127.0.0.1:$sport" || exit 1
wait_http "127.0.0.1:$fport" || exit 1
declare -A PID=([sockit]=$SPID [floor]=$FPID) ADDR=([sockit]=127.0.0.1:$sport [floor]=127.0.0.1:$fport)

# run NAME CONNS: one client run against NAME; prints "ns_per_request req/s"
# and adds the run's user/system ticks, requests and CPU ns to $WORK/NAME.ticks.CONNS.
run() {
    local name=$1 conns=$2 pid=${PID[$1]} a b ua sa ub sb out
    read -r ua sa < <(cpu_ticks "$pid")
    a=$(cpu_ns "$pid")
    out=$(taskset -c 1 "$SOCKIT" bench "${ADDR[$name]}" --proto http -t1 -c"$conns" -d"$DUR" \
        --busy-poll "$BUSY_POLL" ${RATE:+--rate "$RATE"} --json)
    b=$(cpu_ns "$pid")
    read -r ub sb < <(cpu_ticks "$pid")
    python3 -c '
import json, sys
a, b = int(sys.argv[1]), int(sys.argv[2])
j = json.loads(next(l for l in sys.stdin.read().splitlines() if l.startswith("{")))
if j["requests"] == 0 or j["errors"]["connect"] + j["errors"]["read"] + j["errors"]["write"] > 0:
    sys.exit("bench: a run with errors or no requests: %s" % j)
print("%.1f %.0f %d %d" % ((b - a) / j["requests"], j["requests_per_s"], j["requests"], b - a))
' "$a" "$b" <<<"$out" | {
        read -r ns rps req total
        echo "$((ub - ua)) $((sb - sa)) $req $total" >>"$WORK/$name.ticks.$conns"
        echo "$ns $rps"
    }
}

echo "servers: taskset -c 0, both up throughout: sockit serve --service http --model $MODEL; floor (bench/floor.c${FLOOR_MODE:+ $FLOOR_MODE})"
echo "client:  taskset -c 1 sockit bench --proto http -t1 -cN -d$DUR --busy-poll $BUSY_POLL${RATE:+ --rate $RATE}, $PAIRS pairs, order swapped each pair"
echo "columns: server CPU ns per request (schedstat), req/s"
run sockit 100 >/dev/null # warm both: page faults, slab growth, first connects
run floor 100 >/dev/null
for conns in $CONNS; do
    : >"$WORK/ratios.$conns"
    : >"$WORK/sockit.ticks.$conns"
    : >"$WORK/floor.ticks.$conns"
    : >"$WORK/sockit.ns.$conns"
    : >"$WORK/floor.ns.$conns"
    for ((i = 1; i <= PAIRS; i++)); do
        order="sockit floor"
        ((i % 2 == 0)) && order="floor sockit"
        declare -A NS=()
        line="pair $i c=$conns:"
        for s in $order; do
            read -r ns rps < <(run "$s" "$conns")
            NS[$s]=$ns
            echo "$ns" >>"$WORK/$s.ns.$conns"
            line+="  $s ${ns}ns ${rps}/s"
        done
        r=$(awk -v a="${NS[sockit]}" -v b="${NS[floor]}" 'BEGIN {printf "%.3f", a / b}')
        echo "$r" >>"$WORK/ratios.$conns"
        echo "$line  sockit/floor $r"
    done
    python3 - "$conns" "$WORK" "$(getconf CLK_TCK)" "floor${FLOOR_MODE:+ $FLOOR_MODE}" <<'EOP' | tee -a "${BENCH_RESULTS:-/dev/null}"
import statistics as st, sys
conns, work, hz, ref = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
r = sorted(float(x) for x in open(f"{work}/ratios.{conns}"))
q = st.quantiles(r, n=4) if len(r) > 1 else [r[0]] * 3
ns = {s: st.median(float(x) for x in open(f"{work}/{s}.ns.{conns}")) for s in ("sockit", "floor")}
split, agg = {}, {}
for s in ("sockit", "floor"):
    u = sy = n = t = 0
    for line in open(f"{work}/{s}.ticks.{conns}"):
        a, b, c, d = map(int, line.split())
        u, sy, n, t = u + a, sy + b, n + c, t + d
    split[s] = (u / hz * 1e9 / n, sy / hz * 1e9 / n)
    agg[s] = t / n
print(f"c={conns}: server CPU ns/request, median: sockit {ns['sockit']:.0f}, floor {ns['floor']:.0f}; "
      f"user/system ns (ticks over all runs): sockit {split['sockit'][0]:.0f}/{split['sockit'][1]:.0f}, "
      f"floor {split['floor'][0]:.0f}/{split['floor'][1]:.0f}")
print(f"RESULT|HTTP server CPU/request pinned, c={conns}, pairs (median of per-pair ratios)|sockit|-|{ref}|-|"
      f"{q[1]:.3f} (quartiles {q[0]:.3f} {q[2]:.3f}, {len(r)} pairs)")
print(f"RESULT|HTTP server CPU/request pinned, c={conns}, all runs (CPU over requests, summed)|sockit|{agg['sockit']:.0f}|"
      f"{ref}|{agg['floor']:.0f}|{agg['sockit'] / agg['floor']:.3f}")
EOP
done
