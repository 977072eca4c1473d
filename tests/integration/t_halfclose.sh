#!/usr/bin/env bash
# Half-close: a client's FIN ends its input, not the connection. The echo
# server must still send everything back before it closes, and
# `sockit connect` must half-close at stdin EOF and read to the end.
. "$(dirname "$0")/lib.sh"

for host in 127.0.0.1 '[::1]'; do
    start_server "echo-${host//[^0-9a-z]/}" --service echo --listen "$host:0"

    # The issue's own example.
    expect_rc 0 sh -c "printf 'hi\n' | '$SOCKIT' connect '$SERVER_ADDR'"
    [[ $(cat "$TMP/last.out") == hi ]] || fail "printf hi | sockit connect printed '$(cat "$TMP/last.out")'"
    [[ ! -s $TMP/last.err ]] || fail "sockit connect wrote to stderr: $(cat "$TMP/last.err")"
    pass "printf 'hi\\n' | sockit connect $SERVER_ADDR prints hi, exit 0"

    # Empty input: FIN at once, nothing back, exit 0.
    expect_rc 0 sh -c "'$SOCKIT' connect '$SERVER_ADDR' </dev/null"
    [[ ! -s $TMP/last.out ]] || fail "empty input produced output"
    pass "sockit connect with empty stdin exits 0"

    # Binary-safe: every byte value, NUL and CR LF included.
    "$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 64)' >"$TMP/bin"
    expect_rc 0 sh -c "'$SOCKIT' connect '$SERVER_ADDR' <'$TMP/bin'"
    cmp -s "$TMP/bin" "$TMP/last.out" || fail "binary data changed in transit"
    pass "all 256 byte values survive the round trip"

    # A raw client that half-closes right after sending 8 MiB (more than the
    # socket buffers and the server's bounded buffer hold), then reads until
    # EOF: every byte must come back, in order, then a clean FIN.
    timeout 60 "$PYTHON" - "$SERVER_HOST" "$SERVER_PORT" <<'PY' || fail "half-closed client did not get all its data back"
import os, socket, sys, threading
data = os.urandom(8 << 20)
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
got = bytearray()
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    got += b
t.join()
assert bytes(got) == data, "got %d of %d bytes" % (len(got), len(data))
# Our FIN came after the data: the server saw every byte first.
PY
    pass "half-closed raw client on $SERVER_ADDR got all 8 MiB back, then EOF"

    # FIN before any byte comes back: send, shut down at once, sleep, then
    # read. The server must not drop what it already queued.
    timeout 30 "$PYTHON" - "$SERVER_HOST" "$SERVER_PORT" <<'PY' || fail "early-FIN client lost data"
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
msg = b"half-close me\n" * 1000
s.sendall(msg)
s.shutdown(socket.SHUT_WR)
time.sleep(0.5)
got = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
assert got == msg, len(got)
PY
    pass "data queued before the client's FIN is still delivered"
    stop_server "$SERVER_PID"
done
