#!/usr/bin/env bash
# chargen (RFC 864): the first lines match the RFC's rotating pattern exactly
# (computed here independently), through sockit connect, nc and socat; and a
# client that never reads does not grow the server's memory.
. "$(dirname "$0")/lib.sh"

LINES=300 # more than 95, so the rotation wraps at least three times
LEN=$((LINES * 74))
start_server chargen --service chargen --listen 127.0.0.1:0 -v

# RFC 864: line k is the 72 characters starting at printable character
# (32 + k mod 95), each next one following in the 95-character ring ' '..'~',
# ended by CR LF.
"$PYTHON" - "$LINES" >"$TMP/want" <<'PY'
import sys
ring = bytes(range(32, 127))
out = bytearray()
for k in range(int(sys.argv[1])):
    out += bytes(ring[(k + i) % 95] for i in range(72)) + b"\r\n"
sys.stdout.buffer.write(out)
PY
(($(stat -c %s "$TMP/want") == LEN)) || fail "expected-output generator is wrong"
[[ $(head -c 72 "$TMP/want") == ' !"#$%&'"'"'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefg' ]] ||
    fail "expected-output generator's first line is wrong"

# sockit connect with stdin at EOF: it half-closes at once, and chargen must
# keep streaming anyway (only a full close ends it).
timeout 20 "$SOCKIT" connect "$SERVER_ADDR" </dev/null 2>"$TMP/c.err" | head -c "$LEN" >"$TMP/got.sockit" || true
cmp "$TMP/want" "$TMP/got.sockit" || fail "sockit connect: first $LINES lines differ from RFC 864"
pass "sockit connect: first $LINES lines match RFC 864 exactly (after a half-close)"

timeout 20 nc -d "$SERVER_HOST" "$SERVER_PORT" 2>/dev/null | head -c "$LEN" >"$TMP/got.nc" || true
cmp "$TMP/want" "$TMP/got.nc" || fail "nc: first $LINES lines differ from RFC 864"
pass "nc: first $LINES lines match RFC 864 exactly"

timeout 20 socat -u "TCP:$SERVER_ADDR" - 2>/dev/null | head -c "$LEN" >"$TMP/got.socat" || true
cmp "$TMP/want" "$TMP/got.socat" || fail "socat: first $LINES lines differ from RFC 864"
pass "socat: first $LINES lines match RFC 864 exactly"

# A long read: every line of 20000 has the right shape and start character.
timeout 30 "$SOCKIT" connect "$SERVER_ADDR" </dev/null 2>/dev/null | head -c $((20000 * 74)) >"$TMP/long" || true
"$PYTHON" - "$TMP/long" <<'PY' || fail "long chargen stream is malformed"
import sys
data = open(sys.argv[1], "rb").read()
assert len(data) == 20000 * 74, len(data)
for k in range(20000):
    line = data[k * 74:(k + 1) * 74]
    assert line[72:] == b"\r\n", k
    assert all(32 <= c <= 126 for c in line[:72]), k
    assert line[0] == 32 + k % 95, (k, line[0])
    assert all(line[i + 1] == 32 + (line[i] - 32 + 1) % 95 for i in range(71)), k
PY
pass "20000 lines all well formed and rotating"

# Backpressure: clients that connect and never read. The server may fill
# their socket buffers and its bounded per-connection buffer, then must stop
# producing. Its resident memory must stay flat while they sit there.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
STUCK=20
rss0=$(rss_kb)
"$PYTHON" - "$SERVER_HOST" "$SERVER_PORT" "$STUCK" "$TMP/stuck.ready" "$TMP/stuck.done" <<'PY' &
import os, socket, sys, time
host, port, n, ready, done = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
socks = []
for _ in range(n):
    socks.append(socket.create_connection((host, port), timeout=10))
open(ready, "w").close()
deadline = time.monotonic() + 30
while not os.path.exists(done) and time.monotonic() < deadline:
    time.sleep(0.05)
# Prove data did flow before the stall: something is waiting to be read.
for s in socks:
    s.setblocking(False)
    assert len(s.recv(1 << 20)) > 0
PY
stuck_pid=$!
PIDS+=("$stuck_pid")
for ((i = 0; i < 200; i++)); do
    [[ -e $TMP/stuck.ready ]] && break
    sleep 0.05
done
[[ -e $TMP/stuck.ready ]] || fail "non-reading clients did not connect"
max=$rss0
for ((i = 0; i < 40; i++)); do
    sleep 0.1
    r=$(rss_kb)
    ((r > max)) && max=$r
done
growth=$(((max - rss0) / 1024))
# Still serving others while those clients are stalled.
timeout 10 "$SOCKIT" connect "$SERVER_ADDR" </dev/null 2>/dev/null | head -c 74 >"$TMP/alive" || true
cmp -s "$TMP/alive" <(head -c 74 "$TMP/want") || fail "server stopped serving while clients were stalled"
touch "$TMP/stuck.done"
rc=0
wait "$stuck_pid" || rc=$?
((rc == 0)) || fail "non-reading clients saw no data at all (rc $rc)"
echo "chargen: RSS ${rss0} kB before, max ${max} kB over 4 s with $STUCK non-reading clients"
((growth < 20)) || fail "server RSS grew by $growth MiB with $STUCK non-reading clients"
pass "server RSS growth ${growth} MiB (< 20) over 4 s with $STUCK non-reading clients"

# Every client is gone now: the server noticed each one (chargen never ends
# on its own, only a client's close ends it) and holds no connection.
log="$TMP/chargen.log"
for ((i = 0; i < 100; i++)); do
    (($(grep -c 'sockit: open' "$log") == $(grep -c 'sockit: close' "$log"))) && break
    sleep 0.05
done
opens=$(grep -c 'sockit: open' "$log" || true)
closes=$(grep -c 'sockit: close' "$log" || true)
((opens == STUCK + 5 && closes == opens)) || fail "server log: $opens opens, $closes closes, wanted $((STUCK + 5)) each"
stop_server "$SERVER_PID"
grep -q "stats accepted=$opens active=0 closed=$opens " "$log" || fail "counters: $(grep stats "$log")"
pass "every chargen connection ended when its client closed ($closes)"
