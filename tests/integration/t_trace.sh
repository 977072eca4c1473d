#!/usr/bin/env bash
# connect --trace: every socket call of the TCP and UDP clients on stderr
# with its result and the TCP state, then the states after close (from
# sock_diag): against a sockit echo server, a refused port (the RST outcome
# through SO_ERROR), a UDP echo; --json lines valid against the lifecycle
# schema's syscall and state events; nothing traced without --trace.
. "$(dirname "$0")/lib.sh"
SCHEMAS="$(dirname "$0")/../../docs/schema"
CHECK="$(dirname "$0")/helpers/json_schema_check.py"

start_server tcp --service echo --listen 127.0.0.1:0
TP=$SERVER_PORT
got=$(printf 'traced\n' | timeout 20 "$SOCKIT" connect --trace "127.0.0.1:$TP" 2>"$TMP/t.err") || fail "connect --trace: $(cat "$TMP/t.err")"
[[ $got == traced ]] || fail "echo through --trace: '$got'"
for want in "client socket\([0-9]+, AF_INET, SOCK_STREAM\|SOCK_NONBLOCK\) = [0-9]+" \
    "client connect\([0-9]+, 127\.0\.0\.1:$TP\) = (0|-1 EINPROGRESS)" \
    "client getsockopt\([0-9]+, SO_ERROR -> 0\) = 0  \[ESTABLISHED\]" \
    "client send\([0-9]+, 7 bytes\) = 7  \[ESTABLISHED\]  127\.0\.0\.1:[0-9]+ > 127\.0\.0\.1:$TP" \
    "client shutdown\([0-9]+, SHUT_WR\) = 0  \[FIN_WAIT(1|2)|CLOSE\]" \
    "client recv\([0-9]+, [0-9]+ bytes\) = 7" \
    "client recv\([0-9]+, [0-9]+ bytes\) = 0" \
    "client close\([0-9]+\) = 0" \
    "client state: in the kernel after close  \[TIME_WAIT\]  127\.0\.0\.1:[0-9]+ > 127\.0\.0\.1:$TP"; do
    grep -Eq "^sockit: \+[0-9]+ us $want" "$TMP/t.err" || fail "no line like '$want' in: $(cat "$TMP/t.err")"
done
# The calls in time order (the tracepoint's lines, as root, come from a
# reader thread of their own, each with its kernel time).
grep -v "(tracepoint)" "$TMP/t.err" | awk '{print $2}' | tr -d '+' | sort -nc 2>/dev/null || fail "trace times not in order: $(cat "$TMP/t.err")"
pass "TCP: socket, connect, SO_ERROR 0, send, shutdown, recv, close, then TIME_WAIT ($(wc -l <"$TMP/t.err") lines)"

# As root the client's own changes from the tracepoint: its FIN_WAIT1 and
# FIN_WAIT2, which its calls' TCP_INFO may miss; as nobody one line says
# the tracepoint is not permitted and sock_diag's TIME_WAIT still comes.
if have_tracepoint; then
    for want in "ESTABLISHED -> FIN_WAIT1" "FIN_WAIT1 -> FIN_WAIT2"; do
        grep -Eq "^sockit: \+[0-9]+ us client state: $want \(tracepoint\)  \[[A-Z_0-9]+\]  127\.0\.0\.1:[0-9]+ > 127\.0\.0\.1:$TP$" "$TMP/t.err" ||
            fail "as root, no '$want' from the tracepoint: $(cat "$TMP/t.err")"
    done
    grep "(tracepoint)" "$TMP/t.err" | grep -v "127\.0\.0\.1:[0-9]* > 127\.0\.0\.1:$TP$" && fail "tracepoint lines of other sockets: $(cat "$TMP/t.err")"
    pass "the tracepoint as root: FIN_WAIT1, FIN_WAIT2 of this connection only"
fi
if [[ $(id -u) -eq 0 ]]; then
    if command -v setpriv >/dev/null; then
        got=$(printf 'nobody\n' | timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups "$SOCKIT" connect --trace "127.0.0.1:$TP" 2>"$TMP/n.err") ||
            fail "as nobody: $(cat "$TMP/n.err")"
        [[ $got == nobody ]] || fail "as nobody: '$got'"
        grep -q "^sockit: connect --trace: the sock:inet_sock_set_state tracepoint: not permitted (tracefs and its instances are root's); the states after close come from sock_diag" "$TMP/n.err" ||
            fail "as nobody: no message: $(cat "$TMP/n.err")"
        [[ $(grep -c "tracepoint" "$TMP/n.err") -eq 1 ]] || fail "as nobody: $(cat "$TMP/n.err")"
        grep -q "client state: in the kernel after close  \[TIME_WAIT\]" "$TMP/n.err" || fail "as nobody: no TIME_WAIT: $(cat "$TMP/n.err")"
    fi
    pass "as nobody: the tracepoint is not permitted (one line), sock_diag's TIME_WAIT instead"
fi

free=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_rc 1 "$SOCKIT" connect --trace "127.0.0.1:$free"
grep -Eq "^sockit: \+[0-9]+ us client getsockopt\([0-9]+, SO_ERROR -> 111 Connection refused\)" "$TMP/last.err" ||
    grep -Eq "^sockit: \+[0-9]+ us client connect\([0-9]+, 127\.0\.0\.1:$free\) = -1 ECONNREFUSED" "$TMP/last.err" ||
    fail "refused: $(cat "$TMP/last.err")"
grep -q "^sockit: connect 127.0.0.1:$free: Connection refused$" "$TMP/last.err" || fail "refused message: $(cat "$TMP/last.err")"
pass "a refused port: the RST shows as SO_ERROR ECONNREFUSED, then the one error line"

printf 'json\n' | timeout 20 "$SOCKIT" connect --trace --json "127.0.0.1:$TP" >/dev/null 2>"$TMP/j.err" || fail "--trace --json: $(cat "$TMP/j.err")"
timeout 60 /usr/bin/python3 "$CHECK" "$SCHEMAS" lifecycle "$TMP/j.err" --lines --expect syscall,state >/dev/null ||
    fail "--trace --json against docs/schema/lifecycle.json"
pass "--trace --json: syscall and state events, valid against the schema"

start_server udp --service echo --proto udp --listen 127.0.0.1:0
UP=$SERVER_PORT
got=$(printf 'dgram\n' | timeout 20 "$SOCKIT" connect -u --trace "127.0.0.1:$UP" 2>"$TMP/u.err") || fail "connect -u --trace: $(cat "$TMP/u.err")"
[[ $got == dgram ]] || fail "UDP echo through --trace: '$got'"
for want in "client socket\([0-9]+, AF_INET, SOCK_DGRAM\)" "client connect\([0-9]+, 127\.0\.0\.1:$UP\) = 0" \
    "client send\([0-9]+, 6 bytes\) = 6" "client recvfrom\([0-9]+, [0-9]+ bytes, 127\.0\.0\.1:$UP\) = 6" "client close"; do
    grep -Eq "^sockit: \+[0-9]+ us $want" "$TMP/u.err" || fail "UDP: no '$want' in: $(cat "$TMP/u.err")"
done
pass "UDP: socket, connect, send, recvfrom, close"

# Off: not one trace line.
printf 'quiet\n' | timeout 20 "$SOCKIT" connect "127.0.0.1:$TP" >/dev/null 2>"$TMP/q.err" || fail "connect: $(cat "$TMP/q.err")"
[[ ! -s $TMP/q.err ]] || fail "without --trace stderr has: $(cat "$TMP/q.err")"
expect_rc 2 "$SOCKIT" connect --trace -l 127.0.0.1:0
pass "without --trace nothing is traced; --trace with -l is a usage error"

# --hold keeps the connection ESTABLISHED after stdin's end (conns sees
# it); --linger 0 then ends it with RST: no TIME_WAIT.
(printf 'held\n' | timeout 20 "$SOCKIT" connect --trace --hold 1s --linger 0 "127.0.0.1:$TP" >"$TMP/h.out" 2>"$TMP/h.err") &
HPID=$!
PIDS+=("$HPID")
sleep 0.5
"$SOCKIT" conns --state established ":$TP" >"$TMP/h.conns" || fail "conns during --hold"
cport=$(sed -n 's/.*client send([0-9]*, 5 bytes) = 5  \[ESTABLISHED\]  127\.0\.0\.1:\([0-9]*\) > .*/\1/p' "$TMP/h.err")
[[ -n $cport ]] || fail "--hold: no send line: $(cat "$TMP/h.err")"
grep -Eq "^ESTABLISHED +127\.0\.0\.1:$TP +127\.0\.0\.1:$cport " "$TMP/h.conns" || fail "--hold: not ESTABLISHED: $(cat "$TMP/h.conns")"
wait "$HPID" || fail "connect --hold --linger 0: $(cat "$TMP/h.err")"
[[ $(<"$TMP/h.out") == held ]] || fail "--hold: echo '$(cat "$TMP/h.out")'"
grep -Eq "client setsockopt\([0-9]+, SO_LINGER on, 0 s\) = 0  \[ESTABLISHED\]" "$TMP/h.err" || fail "--linger: $(cat "$TMP/h.err")"
grep -Eq "client state: out of the kernel's table  \[gone\]" "$TMP/h.err" || fail "--linger 0: not gone: $(cat "$TMP/h.err")"
! grep -q "TIME_WAIT" "$TMP/h.err" || fail "--linger 0 left a TIME_WAIT: $(cat "$TMP/h.err")"
! ss -Htan state time-wait "( sport = :$cport and dport = :$TP ) or ( sport = :$TP and dport = :$cport )" | grep -q . ||
    fail "ss shows a TIME_WAIT after --linger 0: $(ss -Htan state time-wait "sport = :$cport")"
pass "--hold 1s: ESTABLISHED in conns meanwhile; --linger 0: RST, gone at once, no TIME_WAIT"
