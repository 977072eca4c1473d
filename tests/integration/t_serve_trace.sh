#!/usr/bin/env bash
# serve --trace under every model: the listener's socket, bind and listen,
# then per connection accept (the 4-tuple named), recv, send, close and the
# state after it, with the client's real port in every line of that
# connection; --json lines valid against the schema; nothing traced
# without --trace.
. "$(dirname "$0")/lib.sh"
SCHEMAS="$(dirname "$0")/../../docs/schema"
CHECK="$(dirname "$0")/helpers/json_schema_check.py"

# A client that says which port it has, sends, reads the echo, closes.
cat >"$TMP/client.py" <<'PY'
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(c.getsockname()[1], flush=True)
c.sendall(b"traced\n")
got = b""
while len(got) < 7:
    d = c.recv(64)
    if not d:
        break
    got += d
assert got == b"traced\n", got
c.close()
PY

for model in loop thread fork prefork hybrid; do
    start_server "$model" --service echo --model "$model" --trace --listen 127.0.0.1:0
    log="$TMP/$model.log"
    cport=$("$PYTHON" "$TMP/client.py" "$SERVER_PORT") || fail "$model: client failed: $(cat "$log")"
    tuple="127\.0\.0\.1:$SERVER_PORT > 127\.0\.0\.1:$cport"
    for ((i = 0; i < 100; i++)); do
        grep -Eq "server close\([0-9]+\) = 0  $tuple" "$log" && break
        sleep 0.05
    done
    for want in "server socket\([0-9]+, AF_INET, SOCK_STREAM" "server bind\([0-9]+, 127\.0\.0\.1:0\) = 0" \
        "server listen\([0-9]+, backlog [0-9]+\) = 0  \[LISTEN\]" \
        "server accepted\([0-9]+, from listener [0-9]+\) = [0-9]+  \[[A-Z_]+\]  $tuple" \
        "server recv\([0-9]+, [0-9]+ bytes\) = 7  \[[A-Z_]+\]  $tuple" "server send\([0-9]+, 7 bytes\) = 7  \[[A-Z_]+\]  $tuple" \
        "server close\([0-9]+\) = 0  $tuple"; do
        grep -Eq "^sockit: \+[0-9]+ us $want" "$log" || fail "$model: no line like '$want' in: $(cat "$log")"
    done
    stop_server "$SERVER_PID"
done
pass "every model: socket, bind, listen, accept, recv, send, close, each naming the connection's 4-tuple"

# The side that closes first keeps TIME_WAIT: a server that closes after
# its answer (daytime) shows it after close.
start_server daytime --service daytime --trace --listen 127.0.0.1:0
# (a client that reads to the server's FIN before it closes: sockit connect
# with an empty stdin would half-close first)
timeout 10 "$PYTHON" -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
while c.recv(4096):
    pass
c.close()
' "$SERVER_PORT" || fail "daytime client"
for ((i = 0; i < 100; i++)); do grep -q "state: in the kernel after close  \[TIME_WAIT\]" "$TMP/daytime.log" && break; sleep 0.05; done
grep -q "state: in the kernel after close  \[TIME_WAIT\]" "$TMP/daytime.log" || fail "daytime: no TIME_WAIT: $(cat "$TMP/daytime.log")"
stop_server "$SERVER_PID"
pass "a server that closes first: TIME_WAIT reported after close"

"$SOCKIT" serve --service echo --trace --json --listen 127.0.0.1:0 >"$TMP/json.out" 2>"$TMP/json.log" &
JPID=$!
PIDS+=("$JPID")
for ((i = 0; i < 100; i++)); do grep -q '"call":"listen"' "$TMP/json.log" 2>/dev/null && break; sleep 0.05; done
JPORT=$(sed -n 's/.*"call":"listen".*"local":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$TMP/json.log")
[[ -n $JPORT ]] || fail "serve --trace --json: no listen event: $(cat "$TMP/json.log")"
"$PYTHON" "$TMP/client.py" "$JPORT" >/dev/null || fail "json client"
sleep 0.3
stop_server "$JPID"
grep '^{"event":"s' "$TMP/json.log" >"$TMP/json.lines" || fail "no JSON trace: $(cat "$TMP/json.log")"
timeout 60 /usr/bin/python3 "$CHECK" "$SCHEMAS" lifecycle "$TMP/json.lines" --lines --expect syscall >/dev/null ||
    fail "serve --trace --json against the schema"
pass "--trace --json: syscall events on stderr, valid against the schema"

start_server quiet --service echo --listen 127.0.0.1:0
"$PYTHON" "$TMP/client.py" "$SERVER_PORT" >/dev/null || fail "quiet client"
stop_server "$SERVER_PID"
[[ $(grep -vcE "^sockit: (serving |SIGTERM: draining)" "$TMP/quiet.log") -eq 0 ]] || fail "without --trace: $(cat "$TMP/quiet.log")"
expect_rc 2 "$SOCKIT" serve --trace --proto udp --listen 127.0.0.1:0
pass "without --trace nothing is traced; --trace with UDP is a usage error"
