#!/usr/bin/env bash
# sockit connect --udp (-u) behaves like nc -u: each line goes out as soon as
# it is read, replies are printed as they arrive, stdin EOF ends it after a
# short linger with exit 0 whether or not anyone answered; every address of
# a name is tried (a v4-only server behind a name whose first address is
# ::1). Peers: socat.
. "$(dirname "$0")/lib.sh"

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# 1. Fire and forget: a receiver that never answers.
socat -u UDP-RECV:0,bind=127.0.0.1 "OPEN:$TMP/received,creat,append" 2>"$TMP/recv.log" &
recv=$!
PIDS+=("$recv")
port=$(listening_port "$recv" udp) || fail "socat UDP-RECV did not bind"
printf 'one\ntwo\nthree\n' >"$TMP/lines"
start=$(date +%s%N)
expect_rc 0 "$SOCKIT" connect --udp --timeout 300ms "127.0.0.1:$port" <"$TMP/lines"
ms=$(ms_since "$start")
[[ ! -s $TMP/last.out && ! -s $TMP/last.err ]] || fail "no-reply peer: out '$(cat "$TMP/last.out")' err '$(cat "$TMP/last.err")'"
((ms >= 250 && ms < 2000)) || fail "--timeout 300ms lingered $ms ms"
for ((i = 0; i < 100; i++)); do cmp -s "$TMP/lines" "$TMP/received" && break; sleep 0.02; done
cmp -s "$TMP/lines" "$TMP/received" || fail "the receiver got '$(cat "$TMP/received")'"
pass "no replies: 3 datagrams delivered, exit 0 after the 300 ms linger ($ms ms), nothing on stderr"

# The default linger is short, -w sets it, and -u clusters like nc's -uv.
: >"$TMP/received"
start=$(date +%s%N)
expect_rc 0 "$SOCKIT" connect -uv "127.0.0.1:$port" <"$TMP/lines"
ms=$(ms_since "$start")
((ms >= 900 && ms < 3000)) || fail "default linger took $ms ms"
grep -qx "sockit: 3 datagrams sent (14 bytes), 0 replies (0 bytes)" "$TMP/last.err" ||
    fail "-uv counts: $(cat "$TMP/last.err")"
start=$(date +%s%N)
expect_rc 0 "$SOCKIT" connect -w 0 -u "127.0.0.1:$port" <"$TMP/lines"
ms=$(ms_since "$start")
((ms < 800)) || fail "-w 0 still lingered $ms ms"
for ((i = 0; i < 100; i++)); do [[ $(wc -l <"$TMP/received") == 6 ]] && break; sleep 0.02; done
[[ $(wc -l <"$TMP/received") == 6 ]] || fail "receiver got $(wc -l <"$TMP/received") lines of 6"
pass "default linger 1 s ($ms ms with -w 0), -uv counts on stderr"

# --expect-reply keeps the request/response check: each datagram waits for
# its reply, and those that got none are reported, exit 1.
start=$(date +%s%N)
expect_rc 1 "$SOCKIT" connect -u --expect-reply -t 300ms "127.0.0.1:$port" <"$TMP/lines"
ms=$(ms_since "$start")
[[ $(cat "$TMP/last.err") == "sockit: 127.0.0.1:$port: 3 of 3 datagrams got no reply within 0.3 s" ]] ||
    fail "--expect-reply: $(cat "$TMP/last.err")"
((ms >= 850 && ms < 3000)) || fail "--expect-reply -t 300ms: 3 waits took $ms ms"
pass "--expect-reply: 3 waits of 300 ms ($ms ms), '3 of 3 datagrams got no reply', exit 1"
kill "$recv"
wait "$recv" 2>/dev/null || true

# 2. Replies as they arrive, sent without waiting: a peer that answers each
# datagram only after 300 ms; 5 lines must take about 300 ms, not 1.5 s,
# and the run ends as soon as all 5 are answered.
"$PYTHON" - "$TMP/slow.port" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(20)
got = []
while len(got) < 5:
    d, peer = s.recvfrom(65536)
    got.append((time.monotonic(), d, peer))
for t, d, peer in got:
    time.sleep(max(0, t + 0.3 - time.monotonic()))
    s.sendto(d.upper(), peer)
PY
PIDS+=($!)
for ((i = 0; i < 100; i++)); do [[ -e $TMP/slow.port ]] && break; sleep 0.05; done
printf 'a\nb\nc\nd\ne\n' >"$TMP/five"
start=$(date +%s%N)
expect_rc 0 "$SOCKIT" connect -u -w 5 "127.0.0.1:$(cat "$TMP/slow.port")" <"$TMP/five"
ms=$(ms_since "$start")
[[ $(cat "$TMP/last.out") == $'A\nB\nC\nD\nE' ]] || fail "slow peer replies: '$(cat "$TMP/last.out")'"
((ms >= 250 && ms < 1200)) || fail "5 lines to a 300 ms peer took $ms ms (sent one by one?)"
pass "5 datagrams sent at once, 5 delayed replies printed, done when all answered ($ms ms, -w 5 not waited)"

# 3. An echo peer (socat), lines and --raw, replies exact.
socat UDP-LISTEN:0,bind=127.0.0.1 PIPE 2>"$TMP/echo.log" &
echo_pid=$!
PIDS+=("$echo_pid")
port=$(listening_port "$echo_pid" udp) || fail "socat UDP-LISTEN did not bind"
expect_rc 0 "$SOCKIT" connect -u "127.0.0.1:$port" <"$TMP/lines"
cmp -s "$TMP/lines" "$TMP/last.out" || fail "socat echo: '$(cat "$TMP/last.out")'"
pass "socat UDP echo: each line back, exit 0"
kill "$echo_pid"
wait "$echo_pid" 2>/dev/null || true

# 4. Every address of a name: "dual" is ::1 first, then 127.0.0.1, and only
# the IPv4 one has a server. ::1 answers "port unreachable" and the
# datagram goes to 127.0.0.1 instead.
if unshare -m true 2>/dev/null; then
    printf '::1 dual\n127.0.0.1 dual\n' >"$TMP/hosts"
    socat UDP-LISTEN:0,bind=127.0.0.1 PIPE 2>"$TMP/echo4.log" &
    echo_pid=$!
    PIDS+=("$echo_pid")
    port=$(listening_port "$echo_pid" udp) || fail "socat UDP-LISTEN (v4) did not bind"
    [[ $("${WITH_HOSTS[@]}" "$TMP/hosts" getent ahosts dual | head -n1) == "::1 "* ]] || fail "dual does not resolve to ::1 first"
    printf 'first\nsecond\n' >"$TMP/two"
    expect_rc 0 "${WITH_HOSTS[@]}" "$TMP/hosts" "$SOCKIT" connect -u -v "dual:$port" <"$TMP/two"
    cmp -s "$TMP/two" "$TMP/last.out" || fail "dual: got '$(cat "$TMP/last.out")', stderr $(cat "$TMP/last.err")"
    grep -q "sockit: \[::1\]:$port: port unreachable, trying the next address" "$TMP/last.err" ||
        fail "dual: no word of the refused ::1: $(cat "$TMP/last.err")"
    grep -q "bytes from 127.0.0.1:$port" "$TMP/last.err" || fail "dual: replies not from 127.0.0.1: $(cat "$TMP/last.err")"
    pass "a name whose first address (::1) refuses: the IPv4 server gets every datagram"
    kill "$echo_pid"
    wait "$echo_pid" 2>/dev/null || true

    # Nothing listens on either: port unreachable from both, exit 1.
    expect_rc 1 "${WITH_HOSTS[@]}" "$TMP/hosts" "$SOCKIT" connect -u "dual:$port" <"$TMP/two"
    grep -q "127.0.0.1:$port: 2 of 2 datagrams got no reply (port unreachable" "$TMP/last.err" ||
        fail "dual, nothing listening: $(cat "$TMP/last.err")"
    pass "nothing on any address: exit 1, one line"
else
    echo "skip [$TEST_NAME]: no mount namespaces here (unshare -m), the two-address case is not run"
fi

# 5. Usage errors keep their form.
expect_rc 2 "$SOCKIT" connect -u -w soon 127.0.0.1:9
grep -q "^sockit: -w/--timeout wants seconds, not 'soon'" "$TMP/last.err" || fail "-w soon: $(cat "$TMP/last.err")"
pass "-w with a bad duration: exit 2"
