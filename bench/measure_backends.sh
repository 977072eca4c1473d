#!/usr/bin/env bash
# The loop model over each event backend, as reported in docs/models.md:
# syscalls per 64-byte echo round trip (strace -c -f, 4 persistent clients)
# and untraced round trips per second (8 persistent clients, 3 s).
#   bench/measure_backends.sh [build/sockit]
set -euo pipefail
SOCKIT=${1:-build/sockit}
HERE=$(cd "$(dirname "$0")" && pwd)
LOAD=$(mktemp -d)/echo_load
cc -O2 -pthread -o "$LOAD" "$HERE/echo_load.c"
LOG=$(mktemp)

wait_port() {
    for _ in $(seq 100); do grep -q serving "$LOG" && break; sleep 0.05; done
    PORT=$(sed -n 's/.* on 127.0.0.1:\([0-9]*\) .*/\1/p' "$LOG")
    sleep 0.3
}

printf '%-8s %14s %12s\n' backend syscalls/req rr/s
for b in select poll epoll uring; do
    strace -c -f -o "$LOG.strace" "$SOCKIT" serve --backend "$b" --service echo --listen 127.0.0.1:0 2>"$LOG" &
    spid=$!
    wait_port
    ops=$("$LOAD" rr "$PORT" 4 2 | awk '{print $2 * 2}')
    kill -TERM $(pgrep -P "$spid" -x sockit) || true
    wait "$spid" || true
    calls=$(awk '$NF == "total" {print $(NF-2)}' "$LOG.strace")

    "$SOCKIT" serve --backend "$b" --service echo --listen 127.0.0.1:0 2>"$LOG" &
    pid=$!
    wait_port
    rr=$("$LOAD" rr "$PORT" 8 3 | awk '{print $2}')
    kill -TERM "$pid"
    wait "$pid" || true
    printf '%-8s %14s %12s\n' "$b" "$(awk -v c="$calls" -v o="$ops" 'BEGIN { printf "%.2f", o ? c / o : 0 }')" "$rr"
done
