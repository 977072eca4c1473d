#!/usr/bin/env bash
# serve --close-first: the server ends each connection once it has
# answered, so TIME_WAIT lands on the server's port (ss -tan), with
# clients that are not sockit (socat, nc); without it the same client
# keeps TIME_WAIT on its own side. With --trace the server's close is
# followed into TIME_WAIT.
. "$(dirname "$0")/lib.sh"

# TIME_WAIT sockets whose local port is $1 (the server's side), and whose
# peer port is $1 (the client's side).
tw_server() { ss -Htan state time-wait "sport = :$1" | wc -l; }
tw_client() { ss -Htan state time-wait "dport = :$1" | wc -l; }

start_server cf --service echo --close-first --listen 127.0.0.1:0
# The client keeps its stdin open for 2 s: until then only the server can
# end the connection, and it does as soon as the echo is out: its side in
# FIN_WAIT2, the client's in CLOSE_WAIT, while nc still runs.
(echo hello; sleep 2) | timeout 10 nc 127.0.0.1 "$SERVER_PORT" >"$TMP/nc.out" &
NC=$!
PIDS+=("$NC")
for ((i = 0; i < 30; i++)); do
    ss -Htan state fin-wait-2 "sport = :$SERVER_PORT" | grep -q . && break
    sleep 0.05
done
ss -Htan state fin-wait-2 "sport = :$SERVER_PORT" | grep -q . || fail "server not in FIN_WAIT2: $(ss -tan "sport = :$SERVER_PORT or dport = :$SERVER_PORT")"
ss -Htan state close-wait "dport = :$SERVER_PORT" | grep -q . || fail "client not in CLOSE_WAIT: $(ss -tan "dport = :$SERVER_PORT")"
kill -0 "$NC" 2>/dev/null || fail "nc ended before the check"
wait "$NC" || fail "nc failed"
[[ $(cat "$TMP/nc.out") == hello ]] || fail "nc got '$(cat "$TMP/nc.out")'"
for ((i = 0; i < 40; i++)); do (($(tw_server "$SERVER_PORT") >= 1)) && break; sleep 0.05; done
(($(tw_server "$SERVER_PORT") >= 1)) || fail "no TIME_WAIT on the server's port: $(ss -tan "sport = :$SERVER_PORT or dport = :$SERVER_PORT")"
(($(tw_client "$SERVER_PORT") == 0)) || fail "TIME_WAIT on the client too: $(ss -tan "dport = :$SERVER_PORT")"
pass "nc: the echo, the server's FIN at once (server FIN_WAIT2, nc CLOSE_WAIT), then TIME_WAIT on the server's port only"

out=$( (echo hi socat; sleep 1) | timeout 10 socat - "TCP:127.0.0.1:$SERVER_PORT")
[[ $out == "hi socat" ]] || fail "socat got '$out'"
for ((i = 0; i < 40; i++)); do (($(tw_server "$SERVER_PORT") >= 2)) && break; sleep 0.05; done
(($(tw_server "$SERVER_PORT") >= 2)) || fail "socat: no second TIME_WAIT on the server: $(ss -tan "sport = :$SERVER_PORT")"
stop_server "$SERVER_PID"
pass "socat: TIME_WAIT on the server's side again"

# The same client without --close-first: it ends the connection (stdin's
# end, 1 s later), and TIME_WAIT is its own.
start_server plain --service echo --listen 127.0.0.1:0
out=$( (echo hello; sleep 1) | timeout 10 nc -N 127.0.0.1 "$SERVER_PORT")
[[ $out == hello ]] || fail "plain: nc got '$out'"
for ((i = 0; i < 40; i++)); do (($(tw_client "$SERVER_PORT") >= 1)) && break; sleep 0.05; done
(($(tw_client "$SERVER_PORT") >= 1)) || fail "plain: no TIME_WAIT on the client: $(ss -tan "dport = :$SERVER_PORT")"
(($(tw_server "$SERVER_PORT") == 0)) || fail "plain: TIME_WAIT on the server: $(ss -tan "sport = :$SERVER_PORT")"
stop_server "$SERVER_PID"
pass "without --close-first: the client closes first and keeps TIME_WAIT"

# --trace follows the server's close into TIME_WAIT.
start_server traced --service echo --close-first --trace --listen 127.0.0.1:0
out=$( (echo traced; sleep 1) | timeout 10 nc 127.0.0.1 "$SERVER_PORT")
[[ $out == traced ]] || fail "traced: nc got '$out'"
for ((i = 0; i < 100; i++)); do grep -q "\[TIME_WAIT\]" "$TMP/traced.log" && break; sleep 0.05; done
grep -Eq "server shutdown\([0-9]+, SHUT_WR\) = 0  \[FIN_WAIT[12]\]" "$TMP/traced.log" || fail "traced: no shutdown in FIN_WAIT: $(cat "$TMP/traced.log")"
grep -q "state: in the kernel after close  \[TIME_WAIT\]" "$TMP/traced.log" || fail "traced: no TIME_WAIT: $(cat "$TMP/traced.log")"
stop_server "$SERVER_PID"
pass "--close-first --trace: shutdown from FIN_WAIT, then TIME_WAIT after close"

expect_rc 2 "$SOCKIT" serve --close-first --proto udp --listen 127.0.0.1:0
grep -q "close-first is for TCP" "$TMP/last.err" || fail "udp: $(cat "$TMP/last.err")"
pass "--close-first with UDP is a usage error"
