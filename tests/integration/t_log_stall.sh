#!/usr/bin/env bash
# A log reader that stops does not stop the server: serve -v (and --json)
# -v (with data events, -v -v) writes its lines into a pipe whose reader is stopped (SIGSTOP) after the
# first line; 600 echo clients must each be served within 5 s under every
# model. Before, the server blocked in write(2) once the pipe was full (64
# KiB, here 4 KiB) and stopped serving. Once the reader continues, a line
# says how many log lines were dropped, and the server's last line (the
# stats) still arrives. Each run is a row of the fault table
# (tests/fault/rows.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fault/rows.sh"

CLIENTS=600
# reader FIFO OUT: read the FIFO into OUT as it comes, with the pipe at its
# smallest (one page) so a few dozen lines fill it.
cat >"$TMP/reader.py" <<'PY'
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ
with open(sys.argv[2], "wb", buffering=0) as out:
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        out.write(b)
PY
cat >"$TMP/clients.py" <<'PY'
import socket, sys, time
from concurrent.futures import ThreadPoolExecutor
port, n = int(sys.argv[1]), int(sys.argv[2])
def one(i):
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.settimeout(5)
        msg = b"client %d\n" % i
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = s.recv(100)
            if not d:
                break
            got += d
        assert got == msg, (i, got)
    return time.monotonic() - t0
with ThreadPoolExecutor(8) as ex:
    worst = max(ex.map(one, range(n)))
print(f"served={n} worst={worst:.2f}")
PY

# run TAG STREAM ARGS...: serve with STREAM (1: stdout, --json; 2: stderr,
# -v) into a pipe whose reader stops after the first line.
run() {
    local tag=$1 stream=$2 i pid reader port what=""
    shift 2
    ((stream == 1)) && what="--json "
    mkfifo "$TMP/$tag.fifo"
    "$PYTHON" "$TMP/reader.py" "$TMP/$tag.fifo" "$TMP/$tag.log" &
    reader=$!
    PIDS+=("$reader")
    if ((stream == 1)); then
        "$SOCKIT" serve "$@" --listen 127.0.0.1:0 >"$TMP/$tag.fifo" 2>"$TMP/$tag.err" &
    else
        "$SOCKIT" serve "$@" --listen 127.0.0.1:0 2>"$TMP/$tag.fifo" &
    fi
    pid=$!
    PIDS+=("$pid")
    for ((i = 0; i < 100; i++)); do
        port=$(sed -n 's/.*serving .* on 127.0.0.1:\([0-9]*\).*/\1/p; s/.*"event":"listen","addr":"127.0.0.1:\([0-9]*\)".*/\1/p' \
            "$TMP/$tag.log" 2>/dev/null | head -n1 || true)
        [[ -n $port ]] && break
        sleep 0.05
    done
    [[ -n $port ]] || fail "$tag: server did not start"
    sleep 0.2 # prefork: its workers are up
    # One thread while the log keeps up: a second would make every system
    # call on a descriptor dearer (the kernel's fdget takes a reference
    # when the descriptor table is shared). The flusher starts once the
    # reader falls behind.
    threads() { ls "/proc/$pid/task" | wc -l; }
    [[ $tag != loop-* ]] || (($(threads) == 1)) || fail "$tag: $(threads) threads while the log keeps up, not 1"
    kill -STOP "$reader"
    fault_begin "blocked log pipe (serve ${what}-v -v)" "${tag%-*}" "$pid"
    timeout 60 "$PYTHON" "$TMP/clients.py" "$port" "$CLIENTS" >"$TMP/$tag.out" 2>&1 ||
        { kill -CONT "$reader"; fail "$tag: with the log's reader stopped: $(tail -n 3 "$TMP/$tag.out")"; }
    [[ $tag != loop-* ]] || (($(threads) == 2)) || fail "$tag: $(threads) threads with the log's reader stopped, not 2"
    kill -CONT "$reader"
    FAULT_SERVED=$CLIENTS/$CLIENTS
    # The reader takes the pipe's page; the next lines bring the report.
    sleep 0.3
    timeout 20 "$PYTHON" "$TMP/clients.py" "$port" 4 >/dev/null || fail "$tag: not serving after the reader resumed"
    for ((i = 0; i < 100; i++)); do
        grep -q 'log: [0-9]* lines dropped\|"event":"log_dropped"' "$TMP/$tag.log" && break
        sleep 0.05
    done
    fault_measure
    stop_server "$pid"
    wait "$reader" || true
    dropped=$(sed -n 's/^sockit: log: \([0-9]*\) lines dropped.*/\1/p; s/.*"event":"log_dropped","lines":\([0-9]*\).*/\1/p' \
        "$TMP/$tag.log" | awk '{n += $1} END {print n + 0}')
    ((dropped > 0)) || fail "$tag: no line reports the dropped log lines: $(tail -n 3 "$TMP/$tag.log")"
    grep -q '^sockit: stats \|"event":"stats"' "$TMP/$tag.log" || fail "$tag: no stats line at exit"
    if ((stream == 1)); then
        "$PYTHON" "$(dirname "$0")/helpers/json_schema_check.py" "$(dirname "$0")/../../docs/schema" serve \
            "$TMP/$tag.log" --lines --expect listen,log_dropped,stats || fail "$tag: the JSON lines break the schema"
    fi
    fault_write yes "$CLIENTS/$CLIENTS" - "each client served within 5 s with the log's reader stopped; $dropped lines dropped and reported"
    pass "$tag: reader stopped: $(cat "$TMP/$tag.out"); $dropped log lines dropped and reported"
}

for model in ${MODELS:-loop thread fork prefork hybrid}; do
    run "$model-v" 2 --model "$model" --service echo -v -v
done
run loop-json 1 --model loop --service echo -v -v --json
run hybrid-json 1 --model hybrid --workers 2 --service echo -v -v --json
