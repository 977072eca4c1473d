#!/usr/bin/env bash
# sockit connect -l: listen mode like nc -l / socat TCP-LISTEN, with nc,
# socat and python clients. The bound address comes first ("sockit:
# listening on ADDR", port 0 resolved); one client is served on
# stdin/stdout with half-close honoured both ways; -k serves the next one;
# -v names each client by its 4-tuple; -u -l takes the first datagram's
# sender as the peer.
. "$(dirname "$0")/lib.sh"

# start_listener NAME ARGS...: sockit connect ARGS in the background with
# stdin from $TMP/NAME.in (a file, or a fifo whose writer the caller
# started), stdout to
# $TMP/NAME.out, stderr to $TMP/NAME.log; sets L_PID, L_ADDR, L_PORT.
start_listener() {
    local name=$1 i
    shift
    # stdin last: opening a fifo waits for its writer.
    timeout 30 "$SOCKIT" connect "$@" 2>"$TMP/$name.log" >"$TMP/$name.out" <"$TMP/$name.in" &
    L_PID=$!
    PIDS+=("$L_PID")
    for ((i = 0; i < 100; i++)); do
        # (The shell may not have created the log yet.)
        L_ADDR=$(sed -n 's/^sockit: listening on \(.*\)$/\1/p' "$TMP/$name.log" 2>/dev/null | head -n1 || true)
        if [[ -n $L_ADDR ]]; then
            L_PORT=${L_ADDR##*:}
            return 0
        fi
        kill -0 "$L_PID" 2>/dev/null || fail "listener $name exited: $(cat "$TMP/$name.log")"
        sleep 0.05
    done
    fail "listener $name printed no address: $(cat "$TMP/$name.log")"
}

# write_after NAME TEXT WHAT: a writer for the fifo $TMP/NAME.in that holds
# it open, waits until the listener printed WHAT, 0.3 s more, then writes
# TEXT and closes (stdin EOF).
write_after() {
    (
        exec >"$TMP/$1.in"
        for ((i = 0; i < 200; i++)); do
            [[ $(cat "$TMP/$1.out" 2>/dev/null) == "$3" ]] && break
            sleep 0.05
        done
        sleep 0.3
        printf '%s' "$2"
    ) &
    PIDS+=($!)
}

# wait_rc PID WANT: the listener's exit code, bounded by its own timeout.
wait_rc() {
    local rc=0
    wait "$1" || rc=$?
    ((rc == $2)) || fail "listener exited $rc, wanted $2"
}

# 1. Both directions, then our FIN: nc sends a line and half-closes
# (-N); sockit's stdin holds a reply that is only written after that FIN.
mkfifo "$TMP/a.in"
write_after a $'reply after your FIN\n' hello
start_listener a -l -v 127.0.0.1:0
[[ $L_ADDR == 127.0.0.1:* && $L_PORT != 0 ]] || fail "listening on '$L_ADDR'"
printf 'hello\n' | timeout 10 nc -N 127.0.0.1 "$L_PORT" >"$TMP/a.nc" || fail "nc to the listener failed"
wait_rc "$L_PID" 0
[[ $(cat "$TMP/a.out") == hello ]] || fail "listener stdout '$(cat "$TMP/a.out")'"
[[ $(cat "$TMP/a.nc") == "reply after your FIN" ]] ||
    fail "after its FIN, nc got '$(cat "$TMP/a.nc")' (stdin not sent past the client's FIN?)"
grep -Eq "^sockit: accepted 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$L_PORT$" "$TMP/a.log" ||
    fail "-v accepted line: $(cat "$TMP/a.log")"
pass "-l: nc's line in, its FIN, then our stdin still reaches it 0.3 s later; exit 0"

# 2. Our FIN first: stdin is empty, so the FIN goes out at once, and what the
# client sends after it still arrives (socat waits up to -t 5 for its side).
: >"$TMP/b.in"
start_listener b -l '[::1]:0'
[[ $L_ADDR == "[::1]:"* ]] || fail "v6 listening on '$L_ADDR'"
(sleep 0.3 && printf 'sent after your FIN\n') | timeout 10 socat -t 5 - "TCP6:[::1]:$L_PORT" >"$TMP/b.socat" ||
    fail "socat to the listener failed"
wait_rc "$L_PID" 0
[[ $(cat "$TMP/b.out") == "sent after your FIN" ]] || fail "after our FIN, got '$(cat "$TMP/b.out")'"
[[ ! -s $TMP/b.socat ]] || fail "socat got bytes from an empty stdin: $(cat "$TMP/b.socat")"
pass "-l [::1]:0: stdin EOF sends FIN at once, socat's later data still arrives"

# 3. -k: three clients in turn, each named by its exact 4-tuple (a python
# client reports its own port), the listener then quiet for -w 1 s: exit 0.
: >"$TMP/c.in"
start_listener c -lkv -w 1 127.0.0.1:0
for i in 1 2 3; do
    timeout 10 "$PYTHON" - "$L_PORT" "$i" >>"$TMP/c.ports" <<'PY' || fail "client $i"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
print(s.getsockname()[1])
s.sendall(b"client %s\n" % sys.argv[2].encode())
s.shutdown(socket.SHUT_WR)
assert s.recv(100) == b""  # the listener's stdin is empty: just its FIN
PY
done
wait_rc "$L_PID" 0
[[ $(cat "$TMP/c.out") == $'client 1\nclient 2\nclient 3' ]] || fail "-k output: '$(cat "$TMP/c.out")'"
want=$(sed "s/^\(.*\)$/sockit: accepted 127.0.0.1:\1 -> 127.0.0.1:$L_PORT/" "$TMP/c.ports")
got=$(grep '^sockit: accepted' "$TMP/c.log")
[[ $got == "$want" ]] || fail "-k accepted lines: '$got', wanted '$want'"
[[ $(grep -c '^sockit: closed .*, sent 0 bytes, received 9 bytes$' "$TMP/c.log") == 3 ]] ||
    fail "-k closed lines: $(cat "$TMP/c.log")"
pass "-lk: 3 clients in turn, each 4-tuple exact, exit 0 after -w 1 of quiet"

# Without -k the listener is gone after one client.
: >"$TMP/d.in"
start_listener d -l 127.0.0.1:0
printf 'one\n' | timeout 10 nc -N 127.0.0.1 "$L_PORT" >/dev/null || fail "nc to d"
wait_rc "$L_PID" 0
if timeout 5 nc -z 127.0.0.1 "$L_PORT"; then fail "a second client could connect without -k"; fi
pass "-l without -k: one client, then the port is closed"

# -w with nobody coming: exit 1, one line.
start=$(date +%s%N)
: >"$TMP/e.in"
start_listener e -l -w 300ms 127.0.0.1:0
wait_rc "$L_PID" 1
ms=$((($(date +%s%N) - start) / 1000000))
grep -qx "sockit: listen 127.0.0.1:0: no client within 0.3 s" "$TMP/e.log" || fail "-w timeout: $(cat "$TMP/e.log")"
((ms < 3000)) || fail "-l -w 300ms took $ms ms"
pass "-l -w 300ms with no client: exit 1 after $ms ms"

# 4. UDP: the first datagram's sender is the peer; our stdin goes back to it.
mkfifo "$TMP/u.in"
write_after u $'pong\n' ping
start_listener u -u -l -v -w 1 127.0.0.1:0
printf 'ping\n' | timeout 10 socat -t 2 - "UDP:127.0.0.1:$L_PORT" >"$TMP/u.socat" || fail "socat udp client"
wait_rc "$L_PID" 0
[[ $(cat "$TMP/u.out") == ping ]] || fail "udp listener got '$(cat "$TMP/u.out")'"
[[ $(cat "$TMP/u.socat") == pong ]] || fail "socat got '$(cat "$TMP/u.socat")' back"
grep -Eq "^sockit: accepted 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$L_PORT$" "$TMP/u.log" || fail "udp -v: $(cat "$TMP/u.log")"
pass "-u -l: socat's datagram in, our stdin back to it as a datagram, exit 0 after -w"

# Usage: -k without -l.
expect_rc 2 "$SOCKIT" connect -k 127.0.0.1:9
[[ $(cat "$TMP/last.err") == "sockit: -k/--keep-open needs -l/--listen (see 'sockit connect --help')" ]] ||
    fail "-k alone: $(cat "$TMP/last.err")"
pass "-k without -l: exit 2"
