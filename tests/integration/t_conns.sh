#!/usr/bin/env bash
# sockit conns against a server that is not sockit: a python3 listener with
# 100 clients connected. The table must hold the same 4-tuples and states
# as `ss -tn`, the listener its accept queue and backlog, the owner the
# python3 process; --watch reports a client that leaves and one that comes;
# --json matches docs/schema/conns.json; bad input is one line.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/server.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(77)
print(s.getsockname()[1], flush=True)
held = []
s.settimeout(0.2)
end = time.time() + 120
while time.time() < end:
    try:
        c, _ = s.accept()
        held.append(c)
    except socket.timeout:
        pass
    for c in list(held):
        c.setblocking(False)
        try:
            if c.recv(1) == b"":
                c.close(); held.remove(c)
        except BlockingIOError:
            pass
PY
"$PYTHON" "$TMP/server.py" >"$TMP/port" &
SPID=$!
PIDS+=("$SPID")
for ((i = 0; i < 100; i++)); do [[ -s $TMP/port ]] && break; sleep 0.05; done
PORT=$(<"$TMP/port")
[[ $PORT =~ ^[0-9]+$ ]] || fail "server gave no port"

cat >"$TMP/clients.py" <<'PY'
import socket, sys, time
cs = []
for _ in range(int(sys.argv[2])):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    cs.append(c)
print("up", flush=True)
time.sleep(60)
PY
"$PYTHON" "$TMP/clients.py" "$PORT" 100 >"$TMP/clients.out" &
CPID=$!
PIDS+=("$CPID")
for ((i = 0; i < 200; i++)); do grep -q up "$TMP/clients.out" 2>/dev/null && break; sleep 0.05; done
grep -q up "$TMP/clients.out" || fail "clients did not connect"
sleep 0.5 # the server accepts them all

expect_rc 0 "$SOCKIT" conns ":$PORT"
head -n1 "$TMP/last.out" | grep -Eq "^LISTEN 127\.0\.0\.1:$PORT  accept queue 0/77  $SPID/python3" ||
    fail "listener line: $(head -n2 "$TMP/last.out")"
awk '$1 == "ESTABLISHED" {print $2, $3}' "$TMP/last.out" | sort >"$TMP/ours"
ss -Htn state established "sport = :$PORT" | awk '{print $3, $4}' | sort >"$TMP/theirs"
[[ $(wc -l <"$TMP/ours") -eq 100 ]] || fail "conns shows $(wc -l <"$TMP/ours") established, wanted 100"
diff "$TMP/ours" "$TMP/theirs" >/dev/null || fail "conns and ss differ: $(diff "$TMP/ours" "$TMP/theirs" | head)"
owners=$(awk '$1 == "ESTABLISHED" {print $NF}' "$TMP/last.out" | sort -u)
[[ $owners == "$SPID/python3" ]] || fail "owners: $owners"
pass "100 connections: the same 4-tuples as ss -tn, the listener's queue 0/77, owner $SPID/python3"

expect_rc 0 "$SOCKIT" conns --json "127.0.0.1:$PORT"
/usr/bin/python3 "$(dirname "$0")/helpers/json_schema_check.py" "$(dirname "$0")/../../docs/schema" conns "$TMP/last.out" \
    --lines --expect listener,conn || fail "conns --json against docs/schema/conns.json"
[[ $(grep -c '"event":"conn","state":"ESTABLISHED"' "$TMP/last.out") -eq 100 ]] || fail "conns --json: $(head -3 "$TMP/last.out")"
pass "--json: one object per socket, valid against its schema"

# The client side too (--state, any port): the 100 client sockets on their
# own ports are not on :PORT, so only the filter's state decides.
expect_rc 0 "$SOCKIT" conns --state established ":$PORT"
[[ $(grep -c '^ESTABLISHED' "$TMP/last.out") -eq 100 && $(grep -c '^LISTEN' "$TMP/last.out") -eq 0 ]] ||
    fail "--state established: $(head -3 "$TMP/last.out")"
pass "--state established leaves the listener out"

# --watch: one client leaves (the server closes its side: CLOSE_WAIT ->
# gone; the client side is not on :PORT), a new one comes.
"$SOCKIT" conns --watch --interval 50ms ":$PORT" >"$TMP/watch.out" 2>"$TMP/watch.err" &
WPID=$!
PIDS+=("$WPID")
sleep 0.5
"$PYTHON" - "$PORT" <<'PY'
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(0.5)
c.close()
time.sleep(1)
PY
sleep 0.5
kill -TERM "$WPID"
wait "$WPID" || fail "conns --watch exited $? on SIGTERM: $(cat "$TMP/watch.err")"
grep -Eq "^new +ESTABLISHED +127\.0\.0\.1:$PORT " "$TMP/watch.out" || fail "--watch: no new line: $(cat "$TMP/watch.out")"
grep -Eq "^gone +[A-Z_]+ +127\.0\.0\.1:$PORT " "$TMP/watch.out" || fail "--watch: no gone line: $(cat "$TMP/watch.out")"
pass "--watch: the new client and its leaving ($(grep -c . "$TMP/watch.out") lines), exit 0 on SIGTERM"

# Not root: the table still comes (sock_diag needs no privilege), owners
# of other users' sockets are unknown.
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
    timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups "$SOCKIT" conns ":$PORT" >"$TMP/nobody.out" 2>&1 ||
        fail "conns as nobody: $(cat "$TMP/nobody.out")"
    [[ $(grep -c '^ESTABLISHED.*  -$' "$TMP/nobody.out") -eq 100 ]] || fail "as nobody: $(head -3 "$TMP/nobody.out")"
    pass "as nobody: the same table, owners shown as -"
fi

# Bad input.
free=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_rc 1 "$SOCKIT" conns ":$free"
[[ $(cat "$TMP/last.err") == "sockit: conns :$free: no TCP listener on that port" ]] || fail "no listener: $(cat "$TMP/last.err")"
expect_rc 1 "$SOCKIT" conns nosuch.invalid:80
grep -q "^sockit: conns: resolve nosuch.invalid:80: " "$TMP/last.err" || fail "bad name: $(cat "$TMP/last.err")"
expect_rc 2 "$SOCKIT" conns --state bogus ":$PORT"
grep -q "unknown TCP state 'bogus'" "$TMP/last.err" || fail "bad state: $(cat "$TMP/last.err")"
expect_rc 2 "$SOCKIT" conns "$PORT"
expect_rc 2 "$SOCKIT" conns :1 :2
pass "no listener, a bad name, a bad state, a bare port: one line each, exit 1 / 2"

# serve --no-accept: a listener whose queue fills (backlog 2: 3 queued),
# the rest of the clients stuck in SYN_SENT; conns shows the full queue.
start_server noaccept --service echo --no-accept --backlog 2 --listen 127.0.0.1:0
NP=$SERVER_PORT
"$PYTHON" - "$NP" <<'PY' &
import socket, sys, time
cs = []
for _ in range(6):
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(("127.0.0.1", int(sys.argv[1])))
    except BlockingIOError:
        pass
    cs.append(c)
    time.sleep(0.02)
time.sleep(3)
PY
HOLDER=$!
PIDS+=("$HOLDER")
sleep 0.6
expect_rc 0 "$SOCKIT" conns ":$NP"
grep -Eq "^LISTEN 127\.0\.0\.1:$NP  accept queue 3/2 " "$TMP/last.out" || fail "--no-accept: $(head -3 "$TMP/last.out")"
syn=$(ss -Htn state syn-sent "dport = :$NP" | wc -l)
((syn >= 1)) || fail "--no-accept: no client in SYN_SENT: $(ss -tn "dport = :$NP")"
stop_server "$SERVER_PID"
pass "serve --no-accept --backlog 2: accept queue 3/2 in conns, $syn client(s) left in SYN_SENT"
