#!/usr/bin/env bash
# TCP keepalive, on by default: every accepted connection carries the
# keepalive timer (inherited from the listener), --keepalive off has none,
# and a peer that vanishes (its namespace's link deleted mid-connection,
# no FIN, no RST) is dropped after IDLE + INTVL x CNT with idle timeouts off.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/netns.sh"

hold() { # PORT: a client that connects and stays
    "$PYTHON" -c '
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); print("up", flush=True); time.sleep(20)
' "$1" >"$TMP/hold.out" &
    PIDS+=($!)
    for ((i = 0; i < 100; i++)); do grep -q up "$TMP/hold.out" 2>/dev/null && break; sleep 0.05; done
}

start_server on --service echo --listen 127.0.0.1:0
hold "$SERVER_PORT"
ss -Htno state established "sport = :$SERVER_PORT" | grep -q "timer:(keepalive,[0-9]*sec" ||
    fail "no keepalive timer by default: $(ss -Htno state established "sport = :$SERVER_PORT")"
stop_server "$SERVER_PID"
start_server off --service echo --keepalive off --listen 127.0.0.1:0
hold "$SERVER_PORT"
! ss -Htno state established "sport = :$SERVER_PORT" | grep -q "keepalive" || fail "--keepalive off still has a timer"
stop_server "$SERVER_PID"
expect_rc 2 "$SOCKIT" serve --keepalive 60,10 --listen 127.0.0.1:0
grep -q "^sockit: --keepalive wants IDLE,INTVL,CNT" "$TMP/last.err" || fail "bad --keepalive: $(cat "$TMP/last.err")"
pass "keepalive on by default (inherited from the listener), off with --keepalive off; a bad value is a usage error"

ns_require
ns_add S
ns_add C
ns_link "$NS_S" s0 198.18.5.1/24 fd00:5ec::5:1/112 "$NS_C" c0 198.18.5.2/24 fd00:5ec::5:2/112
INSIDE_S=$(ns_sockit "$NS_S")
SAVED=$SOCKIT
SOCKIT=$INSIDE_S
start_server vanish --service echo --keepalive 1,1,2 --idle-timeout 0 -v --listen 198.18.5.1:0
SOCKIT=$SAVED
ip netns exec "$NS_C" "$PYTHON" -c '
import socket, sys, time
c = socket.create_connection(("198.18.5.1", int(sys.argv[1])))
c.sendall(b"x\n"); assert c.recv(8) == b"x\n"
print("up", flush=True); time.sleep(30)
' "$SERVER_PORT" >"$TMP/c.out" &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do grep -q up "$TMP/c.out" 2>/dev/null && break; sleep 0.05; done
grep -q up "$TMP/c.out" || fail "the client in the namespace did not connect"
[[ $(ip netns exec "$NS_S" ss -Htn state established "sport = :$SERVER_PORT" | wc -l) -eq 1 ]] || fail "no connection to watch"
# The peer vanishes: its link is gone, nothing is said.
ip -n "$NS_C" link del c0
t0=$(date +%s%N)
for ((i = 0; i < 120; i++)); do
    [[ $(ip netns exec "$NS_S" ss -Htn state established "sport = :$SERVER_PORT" | wc -l) -eq 0 ]] && break
    sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
[[ $(ip netns exec "$NS_S" ss -Htn state established "sport = :$SERVER_PORT" | wc -l) -eq 0 ]] ||
    fail "the vanished peer's connection is still there after $ms ms"
((ms >= 1500)) || fail "dropped after $ms ms: before the keepalive could have decided"
stop_server "$SERVER_PID"
pass "a vanished peer (link deleted) dropped by keepalive 1,1,2 after $ms ms, idle timeout off"
