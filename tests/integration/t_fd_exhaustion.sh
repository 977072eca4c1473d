#!/usr/bin/env bash
# Out of file descriptors: a server with a small fd limit refuses the excess
# connections with a clean close (none is left hanging), does not spin, counts
# exactly the ones it refused, and serves normally once clients leave.
. "$(dirname "$0")/lib.sh"

CLIENTS=60
# The limit applies to the server only (set in the subshell that execs it).
log="$TMP/fdlimit.log"
(ulimit -n 40 && exec "$SOCKIT" serve --service echo --listen 127.0.0.1:0 -v 2>"$log") &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
for ((i = 0; i < 100; i++)); do
    grep -q 'sockit: serving' "$log" 2>/dev/null && break
    sleep 0.05
done
SERVER_PORT=$(sed -n 's/^sockit: serving .* on 127.0.0.1:\([0-9]*\) .*/\1/p' "$log")
[[ -n $SERVER_PORT ]] || fail "server did not start: $(cat "$log")"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

cpu0=$(cpu_ticks)
timeout 60 "$PYTHON" - "$SERVER_PORT" "$CLIENTS" >"$TMP/result" <<'PY' || fail "clients failed"
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]
time.sleep(1)  # the server sits at its limit, with the excess in its backlog
served = refused = 0
for s in socks:
    try:
        s.sendall(b"x")
        b = s.recv(10)
    except (ConnectionResetError, BrokenPipeError):
        b = b""
    # socket.timeout propagates: a connection left hanging fails the test.
    if b == b"x":
        served += 1
    else:
        assert b == b"", b
        refused += 1
print(served, refused)
PY
cpu1=$(cpu_ticks)
read -r served refused <"$TMP/result"
((served + refused == CLIENTS)) || fail "served $served + refused $refused != $CLIENTS"
((served >= 20 && refused >= 1)) || fail "served $served, refused $refused: the limit was not reached"
# Sitting at the fd limit for a second must not burn CPU (a level-triggered
# loop spinning on a readable listener would use the whole second).
ticks=$((cpu1 - cpu0))
((ticks < 50)) || fail "server used $ticks ticks of CPU while at its fd limit"
pass "fd limit: $served served, $refused closed cleanly, none hanging, server CPU $ticks ticks"

# Everyone left: the server serves again.
expect_rc 0 sh -c "printf 'after\n' | '$SOCKIT' connect 127.0.0.1:$SERVER_PORT"
[[ $(cat "$TMP/last.out") == after ]] || fail "server did not recover after fd exhaustion"
stop_server "$SERVER_PID"
rejects=$(grep -c 'sockit: reject: out of file descriptors' "$log" || true)
((rejects == refused)) || fail "server logged $rejects rejects, $refused clients were refused"
grep -q "stats accepted=$((served + 1)) active=0 closed=$((served + 1)) rejected=$refused " "$log" ||
    fail "counters: $(grep stats "$log"), wanted accepted=$((served + 1)) rejected=$refused"
pass "after exhaustion the server recovers; rejected=$refused matches the clients refused"
