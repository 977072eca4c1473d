#!/usr/bin/env bash
# Prefork supervision: kill -9 a worker while clients are being served; the
# service keeps answering and the master has a new worker within a second.
# Each backend is a row of the fault table (tests/fault/rows.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fault/rows.sh"
CLIENTS=(python3 "$(dirname "$0")/clients.py")

workers() { pgrep -P "$SERVER_PID" | sort; }

for backend in epoll uring; do
    start_server "prefork-$backend" --model prefork --backend "$backend" --workers 3 --service echo -v \
        --listen 127.0.0.1:0
    pid=$SERVER_PID
    for ((i = 0; i < 40; i++)); do
        [[ $(workers | wc -l) -eq 3 ]] && break
        sleep 0.05
    done
    before=$(workers)
    [[ $(wc -l <<<"$before") -eq 3 ]] || fail "$backend: wanted 3 workers, have: $before"
    fault_begin "kill -9 of a prefork worker mid-load" "prefork (3 workers, $backend)" "$pid"

    # Load in the background: rounds of 50 concurrent clients for ~3 s.
    (
        end=$((SECONDS + 3))
        while ((SECONDS < end)); do
            "${CLIENTS[@]}" many "$SERVER_HOST" "$SERVER_PORT" 50 >/dev/null 2>&1 || true
        done
    ) &
    load=$!
    PIDS+=("$load")
    # And 30 clients holding connections, some of them on the victim, whose
    # counts the master must settle.
    "${CLIENTS[@]}" hold "$SERVER_HOST" "$SERVER_PORT" 30 2 >"$TMP/hold.out" 2>&1 &
    holder=$!
    PIDS+=("$holder")
    sleep 0.5
    # The victim: the worker holding the most connections once the held
    # ones are up (the clients' interpreter takes a moment to start).
    victim="" held=0
    for ((i = 0; i < 100; i++)); do
        read -r held victim < <(ss -Htnp state established "( sport = :$SERVER_PORT )" |
            { grep -o 'pid=[0-9]*' || true; } | sort | uniq -c | sort -rn |
            awk 'NR == 1 {sub("pid=", "", $2); print $1, $2} END {if (NR == 0) print 0, "none"}')
        grep -qx "$victim" <<<"$before" && ((held >= 5)) && break
        sleep 0.05
    done
    grep -qx "${victim:-none}" <<<"$before" || fail "$backend: no worker holds the test's connections"
    # Clock ticks since boot, as in the starttime field of /proc/PID/stat.
    t0=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%d", $1 * hz}' /proc/uptime)
    kill -KILL "$victim"
    for ((i = 0; i < 100; i++)); do
        now=$(workers)
        if [[ $(wc -l <<<"$now") -eq 3 ]] && ! grep -qx "$victim" <<<"$now"; then break; fi
        sleep 0.025
    done
    grep -qx "$victim" <<<"$now" && fail "$backend: killed worker $victim still listed"
    [[ $(wc -l <<<"$now") -eq 3 ]] || fail "$backend: no replacement worker: $now"
    # When the replacement started, from the kernel's own record (polling
    # with pgrep would add its own delay on a loaded machine).
    fresh=$(comm -13 <(echo "$before") <(echo "$now"))
    t1=$(awk '{print $22}' "/proc/$fresh/stat")
    ms=$(((t1 - t0) * 1000 / $(getconf CLK_TCK)))
    ((ms <= 1000)) || fail "$backend: replacement started ${ms} ms after the kill"

    # The service answers during and after the kill.
    "${CLIENTS[@]}" many "$SERVER_HOST" "$SERVER_PORT" 100 >/dev/null || fail "$backend: clients failed after the kill"
    wait "$load" || true
    wait "$holder" || fail "$backend: hold client: $(cat "$TMP/hold.out")"
    got=$(printf 'still here' | timeout 10 "$SOCKIT" connect "$SERVER_ADDR")
    [[ $got == "still here" ]] || fail "$backend: echo after kill: '$got'"
    grep -q 'worker exited; starting another' "$TMP/prefork-$backend.log" || fail "$backend: no restart line in the log"
    hold=$(cat "$TMP/hold.out")
    fault_measure
    stop_server "$pid"
    # The killed worker's connections were settled: nothing left active.
    active=$(sed -n 's/^sockit: stats .*active=\([0-9]*\).*/\1/p' "$TMP/prefork-$backend.log")
    ((active == 0)) || fail "$backend: stats active=$active after stop"
    # No worker left behind (stop_server waited for the master).
    for w in $now; do
        kill -0 "$w" 2>/dev/null && fail "$backend: worker $w still running after stop"
    done
    fault_write yes "100/100 + 1 after the kill" - "replacement worker after ${ms} ms; 30 held clients: $hold (those of the killed worker lose their connection)"
    pass "$backend: worker $victim killed, replacement $fresh started ${ms} ms later, service kept answering"
done
