#!/usr/bin/env bash
# Name conflicts and departures of sockit's mDNS responder, on a LAN of
# namespaces this test creates (A, B, C on one bridge):
# - two servers on A announcing the same instance at the same moment:
#   exactly one renames to "echo (2)", both stay discoverable from C;
# - a server on B announcing that name later: it renames (and its host, whose
#   name A already holds with other addresses), and is discoverable too;
# - `discover --watch` on C: a server killed with -9 disappears when its
#   records expire (--announce-ttl 3s), one stopped with SIGTERM at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/netns.sh"
ns_require

ns_lan A B C
IN_A=$(ns_wrap "$NS_A" "$SOCKIT")
IN_B=$(ns_wrap "$NS_B" "$SOCKIT")
IN_C=$(ns_wrap "$NS_C" "$SOCKIT")

# Both started together: the simultaneous probes tie-break (RFC 6762 8.2).
"$IN_A" serve --listen :0 --announce echo --announce-ttl 3s -v 2>"$TMP/a1.log" &
A1=$!
PIDS+=("$A1")
"$IN_A" serve --listen :0 --announce echo --announce-ttl 3s -v 2>"$TMP/a2.log" &
A2=$!
PIDS+=("$A2")
for ((i = 0; i < 80; i++)); do
    [[ $(grep -c 'announce 2/2' "$TMP/a1.log" "$TMP/a2.log" | awk -F: '{s += $2} END {print s}') -ge 2 ]] && break
    sleep 0.1
done
renamed=$(grep -l 'rename to "echo (2)"' "$TMP/a1.log" "$TMP/a2.log" | wc -l)
((renamed == 1)) || fail "wanted exactly one rename, got $renamed: $(cat "$TMP/a1.log" "$TMP/a2.log")"
grep -q 'conflict with 198.18.0.1: rename to "echo (2)"' "$TMP/a1.log" "$TMP/a2.log" ||
    fail "the rename line: $(cat "$TMP/a1.log" "$TMP/a2.log")"
grep -q 'announce 2/2 "echo"' "$TMP/a1.log" "$TMP/a2.log" || fail "nobody kept \"echo\""
expect_rc 0 "$IN_C" discover _echo._tcp --timeout 2
grep -q '^echo  ' "$TMP/last.out" || fail "echo not listed: $(cat "$TMP/last.out")"
grep -q '^echo (2)  ' "$TMP/last.out" || fail "echo (2) not listed: $(cat "$TMP/last.out")"
pass "two servers announcing \"echo\" at once: exactly one renames to \"echo (2)\", both listed"

expect_rc 0 "$IN_C" bench -c 4 -d 1s mdns:_echo._tcp
grep -q 'targets      2 of 2 (mDNS mdns:_echo._tcp)' "$TMP/last.out" || fail "bench over mdns: $(cat "$TMP/last.out")"
[[ $(grep -c '198.18.0.1:.* 2 conns' "$TMP/last.out") -eq 2 ]] || fail "bench did not spread: $(cat "$TMP/last.out")"
pass "bench mdns:_echo._tcp spreads its connections over both instances"

# Later, from another host with the same host name: the instance and the
# host name both clash with what A holds.
"$IN_B" serve --listen :0 --announce echo --announce-ttl 3s -v 2>"$TMP/b.log" &
B=$!
PIDS+=("$B")
for ((i = 0; i < 80; i++)); do
    grep -q 'announce 2/2' "$TMP/b.log" && break
    sleep 0.1
done
grep -q 'announce 2/2 "echo (3)"' "$TMP/b.log" || fail "B did not end up as \"echo (3)\": $(cat "$TMP/b.log")"
grep -q 'rename host to' "$TMP/b.log" || fail "B kept A's host name: $(cat "$TMP/b.log")"
expect_rc 0 "$IN_C" discover _echo._tcp --timeout 2
grep -q '^echo (3) .* 198.18.0.2' "$TMP/last.out" || fail "echo (3) not listed at B's address: $(cat "$TMP/last.out")"
[[ $(grep -c '198.18.0.1' "$TMP/last.out") -eq 2 ]] || fail "A's two not listed: $(cat "$TMP/last.out")"
pass "a later server with the same name and host name renames both (\"echo (3)\", host -2)"

ns_exec "$NS_C" "$SOCKIT" discover _echo._tcp --watch >"$TMP/watch.out" 2>"$TMP/watch.log" &
W=$!
PIDS+=("$W")
for ((i = 0; i < 50; i++)); do
    [[ $(grep -c '^add ' "$TMP/watch.out") -ge 3 ]] && break
    sleep 0.1
done
[[ $(grep -c '^add ' "$TMP/watch.out") -eq 3 ]] || fail "watch: wanted 3 adds: $(cat "$TMP/watch.out")"

# -9: no goodbye; gone when the 3 s TTL runs out (refresh queries unanswered).
kill -KILL "$B"
t0=$(date +%s%N)
for ((i = 0; i < 100; i++)); do
    grep -q '^remove "echo (3)"' "$TMP/watch.out" 2>/dev/null && break
    sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q '^remove "echo (3)"' "$TMP/watch.out" || fail "killed -9: never removed: $(cat "$TMP/watch.out")"
((ms >= 1500 && ms <= 7000)) || fail "killed -9: removed after $ms ms, wanted about the 3 s TTL"
pass "killed with -9: removed from discover --watch when its records expired ($ms ms, TTL 3 s)"

# SIGTERM: the goodbye makes it disappear at once.
victim=$A1
grep -q 'rename to' "$TMP/a1.log" && victim=$A2
t0=$(date +%s%N)
stop_server "$victim" 0
for ((i = 0; i < 30; i++)); do
    grep -q '^remove "echo"' "$TMP/watch.out" 2>/dev/null && break
    sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q '^remove "echo" ' "$TMP/watch.out" || fail "SIGTERM: not removed: $(cat "$TMP/watch.out")"
((ms < 2500)) || fail "SIGTERM: removed only after $ms ms"
grep -q '^remove "echo (2)"' "$TMP/watch.out" && fail "the other server was removed too: $(cat "$TMP/watch.out")"
pass "SIGTERM: the goodbye removes it from discover --watch at once ($ms ms)"
kill -TERM "$W"
wait "$W" || fail "discover --watch exit"

# UDP: the type is _echo._udp, and connect --udp takes mdns: too.
SOCKIT=$IN_A start_server udp --proto udp --listen :0 --announce "udp echo" -v
for ((i = 0; i < 50; i++)); do
    grep -q 'announce 2/2' "$TMP/udp.log" && break
    sleep 0.1
done
echo "datagram" | expect_rc 0 "$IN_C" connect --udp --expect-reply "mdns:udp echo._echo._udp"
[[ $(cat "$TMP/last.out") == datagram ]] || fail "connect --udp mdns: $(cat "$TMP/last.out")"
pass "serve --proto udp --announce: _echo._udp, reached by connect --udp mdns:"
