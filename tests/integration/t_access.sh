#!/usr/bin/env bash
# serve --allow / --deny: who may connect (TCP) or be answered (UDP), with
# IPv4, IPv6 and IPv4-mapped peers of a dual-stack listener; refused peers
# are closed at once or not answered, counted as rejected and named in -v.
. "$(dirname "$0")/lib.sh"

echo_ok() { [[ $(printf 'x\n' | timeout 5 "$SOCKIT" connect -t 2 "$1" 2>/dev/null) == x ]]; }

start_server out --service echo --allow 198.18.0.0/15 -v --listen 127.0.0.1:0
! echo_ok "$SERVER_ADDR" || fail "a peer outside --allow was served"
stop_server "$SERVER_PID"
grep -q "reject: 127\.0\.0\.1:[0-9]* refused by --allow / --deny" "$TMP/out.log" || fail "no reject line: $(cat "$TMP/out.log")"
grep -q "rejected=1 " "$TMP/out.log" || fail "not counted: $(cat "$TMP/out.log")"
pass "TCP: a peer outside --allow is closed at once, named and counted"

start_server in --service echo --allow 198.18.0.0/15 --allow 127.0.0.0/8 --listen 127.0.0.1:0
echo_ok "$SERVER_ADDR" || fail "a peer inside the second --allow was refused"
stop_server "$SERVER_PID"
start_server both --service echo --allow 127.0.0.0/8 --deny 127.0.0.1/32 --listen 127.0.0.1:0
! echo_ok "$SERVER_ADDR" || fail "--deny did not win over --allow"
stop_server "$SERVER_PID"
pass "TCP: a later --allow block admits; --deny wins over --allow"

# A dual-stack listener sees IPv4 clients as ::ffff:127.0.0.1: they still
# match IPv4 blocks. IPv6 blocks match IPv6 peers.
start_server dual --service echo --allow 127.0.0.0/8 --listen "[::]:0"
DP=$SERVER_PORT
echo_ok "127.0.0.1:$DP" || fail "an IPv4-mapped peer did not match 127.0.0.0/8"
! echo_ok "[::1]:$DP" || fail "::1 matched 127.0.0.0/8"
stop_server "$SERVER_PID"
start_server v6 --service echo --allow ::1 --listen "[::1]:0"
echo_ok "$SERVER_ADDR" || fail "::1 refused by --allow ::1"
stop_server "$SERVER_PID"
pass "dual stack: IPv4-mapped peers match IPv4 blocks; --allow ::1 admits ::1 only"

start_server udp --service echo --proto udp --deny 127.0.0.1 -v --listen 127.0.0.1:0
expect_rc 1 "$SOCKIT" connect -u --expect-reply -t 1 "$SERVER_ADDR" < <(printf 'ping\n')
stop_server "$SERVER_PID"
grep -q "rejected=1 " "$TMP/udp.log" || fail "UDP refusal not counted: $(cat "$TMP/udp.log")"
start_server udp2 --service echo --proto udp --allow 127.0.0.1 --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" connect -u --expect-reply -t 2 "$SERVER_ADDR" < <(printf 'ping\n')
stop_server "$SERVER_PID"
pass "UDP: a denied peer gets no answer (counted); an allowed one does"

expect_rc 2 "$SOCKIT" serve --allow 1.2.3 --listen 127.0.0.1:0
expect_rc 2 "$SOCKIT" serve --deny 10.0.0.0/33 --listen 127.0.0.1:0
grep -q "^sockit: --deny wants an address or block" "$TMP/last.err" || fail "bad block: $(cat "$TMP/last.err")"
pass "a bad block is a usage error"

# A refused client that already sent data gets a clean FIN, not a RST: the
# server is stopped while the client connects and sends, so the data is
# queued before the accept that refuses it.
for model in loop thread; do
    start_server "full$model" --service echo --model "$model" --max-conns 1 --listen 127.0.0.1:0
    "$PYTHON" - "$SERVER_PORT" "$SERVER_PID" <<'PY' || fail "$model: the refused client did not see a clean close"
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
a = socket.create_connection(("127.0.0.1", port))  # holds the one slot
a.sendall(b"a\n"); assert a.recv(16) == b"a\n"
os.kill(pid, signal.SIGSTOP)
try:
    b = socket.create_connection(("127.0.0.1", port))
    b.sendall(b"queued before the accept\n")
    time.sleep(0.1)
finally:
    os.kill(pid, signal.SIGCONT)
b.settimeout(5)
try:
    got = b.recv(64)
except ConnectionResetError:
    sys.exit("RST instead of a clean close")
assert got == b"", got
PY
    stop_server "$SERVER_PID"
done
pass "a refused client with data already sent sees FIN, not RST (loop, thread)"
