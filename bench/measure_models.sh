#!/usr/bin/env bash
# Costs of each concurrency model, as reported in docs/models.md: processes,
# threads and memory (PSS, so pages shared between forked processes count
# once) with 500 open connections, and syscalls per 64-byte echo round trip
# (strace -c -f over a fixed load).
#   bench/measure_models.sh [build/sockit]
set -euo pipefail
SOCKIT=${1:-build/sockit}
HERE=$(cd "$(dirname "$0")" && pwd)
LOAD=$(mktemp -d)/echo_load
cc -O2 -pthread -o "$LOAD" "$HERE/echo_load.c"
CLIENTS=(python3 "$HERE/../tests/integration/clients.py")

tree_pids() { echo "$1"; pgrep -P "$1" || true; }
# Sum a field of /proc/PID/FILE over PID and its children (a child may be
# gone by the time it is read).
tree_sum() {
    local t=0 p v
    for p in $(tree_pids "$1"); do
        v=$(awk -v f="$3:" '$1 == f {print $2}' "/proc/$p/$2" 2>/dev/null || true)
        t=$((t + ${v:-0}))
    done
    echo $t
}
tree_pss_kb() { tree_sum "$1" smaps_rollup Pss; }
tree_threads() { tree_sum "$1" status Threads; }

start() {
    "$SOCKIT" serve "$@" --service echo --listen 127.0.0.1:0 2>"$LOG" &
    PID=$!
    for _ in $(seq 100); do grep -q serving "$LOG" && break; sleep 0.05; done
    PORT=$(sed -n 's/.* on 127.0.0.1:\([0-9]*\) .*/\1/p' "$LOG")
    sleep 0.2
}

LOG=$(mktemp)
printf '%-8s %6s %8s %10s %12s %14s\n' model procs threads pss0_KiB pss500_KiB syscalls/req
for model in loop thread fork prefork hybrid; do
    args=(--model "$model")
    [[ $model == prefork || $model == hybrid ]] && args+=(--workers 2)
    start "${args[@]}"
    rss0=$(tree_pss_kb "$PID")
    "${CLIENTS[@]}" hold 127.0.0.1 "$PORT" 500 30 >/dev/null &
    hold=$!
    # Wait (bounded) until the server holds all 500 connections, and for
    # fork until every connection has its child: a fork costs milliseconds
    # on a VM, and the clients' own start-up takes a while on a busy box.
    for _ in $(seq 250); do
        est=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
        kids=$(pgrep -P "$PID" | wc -l || true)
        ((est >= 500)) && { [[ $model != fork ]] || ((kids >= 500)); } && break
        sleep 0.1
    done
    sleep 0.5
    rss1=$(tree_pss_kb "$PID") procs=$(tree_pids "$PID" | wc -l) threads=$(tree_threads "$PID")
    wait "$hold"
    kill -TERM "$PID"; wait "$PID" || true

    # Syscalls per request: 4 persistent clients, 2 s, every server thread
    # and process traced; divided by the round trips the clients counted.
    strace -c -f -o "$LOG.strace" "$SOCKIT" serve "${args[@]}" --service echo --listen 127.0.0.1:0 2>"$LOG" &
    spid=$!
    for _ in $(seq 100); do grep -q serving "$LOG" && break; sleep 0.05; done
    PORT=$(sed -n 's/.* on 127.0.0.1:\([0-9]*\) .*/\1/p' "$LOG")
    sleep 0.3
    ops=$("$LOAD" rr "$PORT" 4 2 | awk '{print $2 * 2}')
    kill -TERM $(pgrep -P "$spid" -x sockit) || true
    wait "$spid" || true
    calls=$(awk '$NF == "total" {print $(NF-2)}' "$LOG.strace")
    printf '%-8s %6s %8s %10s %12s %14s\n' "$model" "$procs" "$threads" "$rss0" "$rss1" \
        "$(awk -v c="$calls" -v o="$ops" 'BEGIN { printf "%.2f", o ? c / o : 0 }')"
done
