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
# As root every change comes from the tracepoint, the short ones too
# (FIN_WAIT1, FIN_WAIT2, each with the state before); TIME_WAIT, which it
# does not see, still from sock_diag.
if have_tracepoint; then
    for want in "state: CLOSE -> LISTEN \(tracepoint\)  \[LISTEN\]  127\.0\.0\.1:$SERVER_PORT > " \
        "state: ESTABLISHED -> FIN_WAIT1 \(tracepoint\)  \[FIN_WAIT1\]  127\.0\.0\.1:$SERVER_PORT > 127\.0\.0\.1:[0-9]+" \
        "state: FIN_WAIT1 -> FIN_WAIT2 \(tracepoint\)  \[FIN_WAIT2\]  127\.0\.0\.1:$SERVER_PORT > 127\.0\.0\.1:[0-9]+"; do
        grep -Eq "^sockit: \+[0-9]+ us server $want" "$TMP/daytime.log" || fail "daytime as root: no '$want' in: $(cat "$TMP/daytime.log")"
    done
    pass "as root: the tracepoint's changes (LISTEN, FIN_WAIT1, FIN_WAIT2), TIME_WAIT from sock_diag"
fi
# Not root (nobody): one line saying the tracepoint is not permitted, and
# sock_diag's states instead.
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
    setpriv --reuid=65534 --regid=65534 --clear-groups "$SOCKIT" serve --service daytime --trace --listen 127.0.0.1:0 2>"$TMP/nobody.log" &
    NPID=$!
    PIDS+=("$NPID")
    NPORT=$(listening_port "$NPID" tcp) || fail "serve as nobody did not listen: $(cat "$TMP/nobody.log")"
    timeout 10 "$PYTHON" -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
while c.recv(4096):
    pass
c.close()
' "$NPORT" || fail "nobody: daytime client"
    for ((i = 0; i < 100; i++)); do grep -q "\[TIME_WAIT\]" "$TMP/nobody.log" && break; sleep 0.05; done
    stop_server "$NPID"
    grep -q "^sockit: serve --trace: the sock:inet_sock_set_state tracepoint: not permitted (tracefs and its instances are root's); the states after close come from sock_diag" "$TMP/nobody.log" ||
        fail "nobody: no message: $(cat "$TMP/nobody.log")"
    grep -q "(tracepoint)" "$TMP/nobody.log" && fail "nobody: tracepoint lines: $(cat "$TMP/nobody.log")"
    grep -q "state: in the kernel after close  \[TIME_WAIT\]" "$TMP/nobody.log" || fail "nobody: no TIME_WAIT: $(cat "$TMP/nobody.log")"
    pass "as nobody: the tracepoint is not permitted (one line), sock_diag's TIME_WAIT instead"
fi

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
pass "without --trace nothing is traced"

# UDP, under the models that serve it: the socket and bind of each
# socket, then per datagram recvmmsg and sendmmsg with its size and the
# client's address; --json valid against the schema.
cat >"$TMP/udp.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
for msg in (b"ping", b"twelve bytes"):
    s.sendto(msg, ("127.0.0.1", int(sys.argv[1])))
    got, _ = s.recvfrom(100)
    assert got == msg, got
PY
for model in loop hybrid; do
    start_server "udp-$model" --proto udp --service echo --model "$model" --workers 2 --trace --listen 127.0.0.1:0
    log="$TMP/udp-$model.log"
    cport=$("$PYTHON" "$TMP/udp.py" "$SERVER_PORT") || fail "udp $model: client failed: $(cat "$log")"
    tuple="127\.0\.0\.1:$SERVER_PORT > 127\.0\.0\.1:$cport"
    for ((i = 0; i < 100; i++)); do grep -q "sendmmsg([0-9]*, 1/1: 12 bytes" "$log" && break; sleep 0.05; done
    for want in "server socket\([0-9]+, AF_INET, SOCK_DGRAM\|SOCK_NONBLOCK\) = [0-9]+" "server bind\([0-9]+, 127\.0\.0\.1:0\) = 0" \
        "server recvmmsg\([0-9]+, 1/1: 4 bytes, 127\.0\.0\.1:$cport\) = 4  $tuple" \
        "server sendmmsg\([0-9]+, 1/1: 4 bytes, 127\.0\.0\.1:$cport\) = 4  $tuple" \
        "server recvmmsg\([0-9]+, 1/1: 12 bytes, 127\.0\.0\.1:$cport\) = 12  $tuple" \
        "server sendmmsg\([0-9]+, 1/1: 12 bytes, 127\.0\.0\.1:$cport\) = 12  $tuple"; do
        grep -Eq "^sockit: \+[0-9]+ us $want" "$log" || fail "udp $model: no line like '$want' in: $(cat "$log")"
    done
    # hybrid: a socket of its own per worker, on the same port.
    if [[ $model == hybrid ]]; then
        grep -Eq "server bind\([0-9]+, 127\.0\.0\.1:$SERVER_PORT\) = 0" "$log" || fail "hybrid: no second worker's bind: $(cat "$log")"
    fi
    stop_server "$SERVER_PID"
done
"$SOCKIT" serve --proto udp --service echo --trace --json --listen 127.0.0.1:0 >"$TMP/ujson.out" 2>"$TMP/ujson.log" &
UPID=$!
PIDS+=("$UPID")
for ((i = 0; i < 100; i++)); do grep -q '"call":"bind"' "$TMP/ujson.log" 2>/dev/null && break; sleep 0.05; done
UPORT=$(sed -n 's/.*"addr":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$TMP/ujson.out" | head -n1)
[[ -n $UPORT ]] || fail "udp --json: no port: $(cat "$TMP/ujson.out" "$TMP/ujson.log")"
"$PYTHON" "$TMP/udp.py" "$UPORT" >/dev/null || fail "udp json client"
sleep 0.3
stop_server "$UPID"
grep '^{"event":"s' "$TMP/ujson.log" >"$TMP/ujson.lines" || fail "no UDP JSON trace: $(cat "$TMP/ujson.log")"
[[ $(grep -c '"call":"recvmmsg"' "$TMP/ujson.lines") -eq 2 && $(grep -c '"call":"sendmmsg"' "$TMP/ujson.lines") -eq 2 ]] ||
    fail "udp --json: $(cat "$TMP/ujson.lines")"
timeout 60 /usr/bin/python3 "$CHECK" "$SCHEMAS" lifecycle "$TMP/ujson.lines" --lines --expect syscall >/dev/null ||
    fail "serve -p udp --trace --json against the schema"
pass "UDP under loop and hybrid: socket, bind, then recvmmsg and sendmmsg per datagram with its size and the client's address; --json valid"
