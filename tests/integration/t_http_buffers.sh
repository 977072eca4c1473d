#!/usr/bin/env bash
# Small buffers and HTTP: a --buffer-size that cannot hold a request head
# and its answer is refused with one line (it used to give complete
# requests a wrong 408 on loop and no answer on thread and fork); the
# smallest size accepted serves a head at both limits (8 KiB target, 8 KiB
# of headers) under every model.
. "$(dirname "$0")/lib.sh"

expect_rc 2 "$SOCKIT" serve --service http --buffer-size 256 --listen 127.0.0.1:0
grep -q "^sockit: --buffer-size 256 is too small for --service http: it needs at least [0-9]* bytes" "$TMP/last.err" ||
    fail "small buffer: $(cat "$TMP/last.err")"
min=$(sed -n 's/.*at least \([0-9]*\) bytes.*/\1/p' "$TMP/last.err")
expect_rc 2 "$SOCKIT" serve --service http --buffer-size 512 --body-size 1000 --listen 127.0.0.1:0
pass "--buffer-size 256 and 512 refused for http (at least $min bytes)"

for model in loop thread fork prefork hybrid; do
    start_server "$model" --service http --model "$model" --buffer-size "$min" --listen 127.0.0.1:0
    "$PYTHON" - "$SERVER_PORT" <<'PY' || fail "$model: a head at both limits with --buffer-size $min"
import socket, sys
target = "/?" + "a" * (8192 - 2)
headers = "".join("X-%04d: %s\r\n" % (i, "b" * 150) for i in range(50))  # about 8 KiB
req = ("GET %s HTTP/1.1\r\nHost: a\r\n%sConnection: close\r\n\r\n" % (target, headers)).encode()
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.settimeout(5)
c.sendall(req)
out = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    out += d
assert out.startswith(b"HTTP/1.1 200"), out[:80]
PY
    stop_server "$SERVER_PID"
done
pass "--buffer-size $min: a head at both limits answered 200 under every model"
