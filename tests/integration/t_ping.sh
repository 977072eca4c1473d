#!/usr/bin/env bash
# sockit ping on loopback: counts agree with iputils ping for 127.0.0.1 and
# ::1, JSON summary, SIGINT prints the summary, foreign replies (another
# ping's) are ignored and counted with -v, and - inside a network namespace
# this test creates - the unprivileged ICMP datagram socket and the message
# when no ICMP socket is allowed.
. "$(dirname "$0")/lib.sh"
command -v ping >/dev/null || fail "iputils ping is missing (tests/install-deps.sh installs iputils-ping)"

counts() { sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$1"; }

for host in 127.0.0.1 ::1; do
    expect_rc 0 "$SOCKIT" ping -c 5 -i 0.2 "$host"
    cp "$TMP/last.out" "$TMP/ours"
    # Root gets the raw socket it prefers: nothing to say on stderr.
    [[ ! -s $TMP/last.err ]] || fail "ping $host wrote to stderr without -v: $(cat "$TMP/last.err")"
    [[ $(grep -c "bytes from $host: icmp_seq=" "$TMP/ours") == 5 ]] || fail "ping $host: $(cat "$TMP/ours")"
    grep -q '^rtt min/avg/max/mdev = [0-9.]*/[0-9.]*/[0-9.]*/[0-9.]* ms$' "$TMP/ours" || fail "no rtt line: $(cat "$TMP/ours")"
    timeout 20 ping -c 5 -i 0.2 "$host" >"$TMP/theirs" 2>&1 || fail "iputils ping $host failed: $(cat "$TMP/theirs")"
    [[ $(counts "$TMP/ours") == "$(counts "$TMP/theirs")" ]] ||
        fail "ping $host: sockit '$(counts "$TMP/ours")' vs iputils '$(counts "$TMP/theirs")'"
    pass "ping -c 5 $host: $(counts "$TMP/ours") (transmitted received), same as iputils"
done

# The socket kind is said with -v (and -q does not bring it back).
expect_rc 0 "$SOCKIT" ping -c 1 -v 127.0.0.1
[[ $(head -n1 "$TMP/last.err") == "sockit: ping uses a raw ICMP socket" ]] || fail "ping -v: $(cat "$TMP/last.err")"
expect_rc 0 "$SOCKIT" ping -c 1 -q 127.0.0.1
[[ ! -s $TMP/last.err ]] || fail "ping -q wrote to stderr: $(cat "$TMP/last.err")"
pass "the socket kind is on stderr only with -v"

# iputils habits, the same flags given to both: -w deadline, -q, -n, -I.
expect_rc 0 "$SOCKIT" ping -w 1 -i 0.4 127.0.0.1
timeout 20 ping -w 1 -i 0.4 127.0.0.1 >"$TMP/theirs" 2>&1 || fail "iputils ping -w 1: $(cat "$TMP/theirs")"
[[ $(counts "$TMP/last.out") == "3 3" && $(counts "$TMP/theirs") == "3 3" ]] ||
    fail "-w 1 -i 0.4: sockit '$(counts "$TMP/last.out")', iputils '$(counts "$TMP/theirs")', wanted '3 3'"
start=$(date +%s%N)
expect_rc 0 "$SOCKIT" ping -c 3 -w 5s -i 100ms 127.0.0.1
ms=$((($(date +%s%N) - start) / 1000000))
[[ $(counts "$TMP/last.out") == "3 3" ]] && ((ms < 2000)) || fail "-c 3 -w 5s: $(counts "$TMP/last.out") in $ms ms"
expect_rc 0 "$SOCKIT" ping -c 3 -i 0.2 -q -n 127.0.0.1
timeout 20 ping -c 3 -i 0.2 -q -n 127.0.0.1 >"$TMP/theirs" 2>&1 || fail "iputils ping -q -n: $(cat "$TMP/theirs")"
for f in "$TMP/last.out" "$TMP/theirs"; do
    [[ $(counts "$f") == "3 3" ]] && ! grep -q 'bytes from' "$f" || fail "-q -n: $(cat "$f")"
done
for src in lo 127.0.0.1; do
    expect_rc 0 "$SOCKIT" ping -c 2 -i 0.2 -I "$src" 127.0.0.1
    timeout 20 ping -c 2 -i 0.2 -I "$src" 127.0.0.1 >"$TMP/theirs" 2>&1 || fail "iputils ping -I $src: $(cat "$TMP/theirs")"
    [[ $(counts "$TMP/last.out") == "2 2" && $(counts "$TMP/theirs") == "2 2" ]] ||
        fail "-I $src: sockit '$(counts "$TMP/last.out")', iputils '$(counts "$TMP/theirs")'"
done
expect_rc 1 "$SOCKIT" ping -c 1 -I nosuchif0 127.0.0.1
[[ $(<"$TMP/last.err") == "sockit: ping: -I nosuchif0: no interface named 'nosuchif0' here" ]] ||
    fail "ping -I nosuchif0: '$(cat "$TMP/last.err")'"
expect_rc 2 "$SOCKIT" ping -w soon 127.0.0.1
[[ $(<"$TMP/last.err") == "sockit: -w wants a deadline (5, 500ms, 1m), not 'soon' (see 'sockit ping --help')" ]] ||
    fail "ping -w soon: '$(cat "$TMP/last.err")'"
# 255.255.255.255 without -b: the kernel refuses before anything is sent.
expect_rc 1 "$SOCKIT" ping -c 1 255.255.255.255
[[ $(<"$TMP/last.err") == "sockit: ping: send 255.255.255.255: Permission denied (a broadcast address needs -b, --broadcast)" ]] ||
    fail "ping 255.255.255.255: '$(cat "$TMP/last.err")'"
pass "iputils flags: -w deadline (3 of 3 like iputils), -c with -w, -q -n, -I lo / 127.0.0.1, -I unknown, broadcast hint"

expect_rc 0 "$SOCKIT" ping -c 3 -i 0.1 -s 1000 --json 127.0.0.1
python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
s = lines[-1]
assert s["event"] == "summary" and s["transmitted"] == 3 and s["received"] == 3, s
assert sum(1 for l in lines if l["event"] == "reply" and l["bytes"] == 1008) == 3, lines
assert all(l["rtt_ms"] >= 0 for l in lines if l["event"] == "reply"), lines
assert 150 <= s["elapsed_ms"] < 2000 and s["icmp_errors"] == 0 and s["rtt_min_ms"] <= s["rtt_max_ms"], s
' "$TMP/last.out" || fail "ping --json: $(cat "$TMP/last.out")"
pass "ping --json, -s 1000"

# SIGINT: the summary is printed and the exit code says replies came.
"$SOCKIT" ping -i 0.1 127.0.0.1 >"$TMP/int.out" 2>&1 &
pid=$!
PIDS+=("$pid")
for ((i = 0; i < 200; i++)); do grep -q 'bytes from' "$TMP/int.out" && break; sleep 0.05; done
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
((rc == 0)) || fail "ping after SIGINT exited $rc"
grep -q 'packets transmitted' "$TMP/int.out" || fail "no summary after SIGINT: $(cat "$TMP/int.out")"
pass "SIGINT prints the summary"

# Two raw pings at once: each sees the other's replies and ignores them.
# (The first runs 2 s, so the second, started after it, overlaps it even on a
# loaded machine.)
"$SOCKIT" ping -c 20 -i 0.1 -v 127.0.0.1 >"$TMP/a.out" 2>"$TMP/a.err" &
pa=$!
"$SOCKIT" ping -c 10 -i 0.05 -v 127.0.0.1 >"$TMP/b.out" 2>"$TMP/b.err" || fail "second ping failed"
wait "$pa" || fail "first ping failed"
[[ $(counts "$TMP/a.out") == "20 20" ]] || fail "concurrent ping a: $(cat "$TMP/a.out")"
[[ $(counts "$TMP/b.out") == "10 10" ]] || fail "concurrent ping b: $(cat "$TMP/b.out")"
if grep -q 'raw ICMP' "$TMP/a.err"; then
    grep -q 'ignored [0-9]* malformed and [1-9][0-9]* foreign' "$TMP/a.err" "$TMP/b.err" ||
        fail "foreign replies not counted: $(cat "$TMP/a.err" "$TMP/b.err")"
fi
pass "concurrent pings: foreign replies ignored and counted with -v"

# Crafted replies (bad checksum, foreign id, unsent sequence, wrong
# timestamp, corrupt payload) are ignored, counted with -v, and harmless;
# replayed genuine replies are duplicates.
mkdir "$TMP/inj"
python3 "$(dirname "$0")/helpers/icmp_inject.py" "$TMP/inj" >/dev/null &
ipid=$!
PIDS+=("$ipid")
for ((i = 0; i < 600; i++)); do [[ -e $TMP/inj/ready ]] && break; sleep 0.05; done
"$SOCKIT" ping -c 20 -i 0.1 -v 127.0.0.1 >"$TMP/inj.out" 2>"$TMP/inj.err" &
pid=$!
PIDS+=("$pid")
echo "$pid" >"$TMP/inj/pid.tmp" && mv "$TMP/inj/pid.tmp" "$TMP/inj/pid"
wait "$ipid" || fail "could not inject packets"
kill -0 "$pid" 2>/dev/null || fail "ping ended before the crafted packets were sent; cannot check"
wait "$pid" || fail "ping with injected packets exited $?: $(cat "$TMP/inj.err")"
[[ $(counts "$TMP/inj.out") == "20 20" ]] || fail "injected packets changed the counts: $(cat "$TMP/inj.out")"
[[ $(grep -c '(DUP!)$' "$TMP/inj.out") == 2 ]] || fail "wanted exactly 2 duplicates: $(cat "$TMP/inj.out")"
grep -q ', +2 duplicates,' "$TMP/inj.out" || fail "summary without the duplicates: $(cat "$TMP/inj.out")"
read -r bad foreign < <(sed -n 's/.*ignored \([0-9]*\) malformed and \([0-9]*\) foreign.*/\1 \2/p' "$TMP/inj.err")
((bad >= 3 && bad + foreign >= 15)) || fail "ignored counts $bad malformed, $foreign foreign: $(cat "$TMP/inj.err")"
pass "15 crafted replies ignored: $bad malformed, $foreign foreign (-v); 2 replayed replies reported as DUP"

# Unprivileged, in a namespace of our own (ping_group_range is per netns).
NS=sk-$$-ping
if ! ip netns add "$NS" 2>/dev/null; then
    echo "skip [$TEST_NAME]: 'ip netns add' is not permitted here; unprivileged ping not tested"
    exit 0
fi
trap 'ip netns del "$NS" 2>/dev/null || true; cleanup' EXIT
ip -n "$NS" link set lo up
NOBODY=(ip netns exec "$NS" setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all)
ip netns exec "$NS" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
for host in 127.0.0.1 ::1; do
    expect_rc 0 "${NOBODY[@]}" "$SOCKIT" ping -c 3 -i 0.1 "$host"
    grep -q 'unprivileged ICMP datagram socket' "$TMP/last.err" || fail "unprivileged $host: $(cat "$TMP/last.err")"
    [[ $(counts "$TMP/last.out") == "3 3" ]] || fail "unprivileged ping $host: $(cat "$TMP/last.out")"
done
pass "unprivileged ping over ICMP datagram sockets (127.0.0.1, ::1)"
ip netns exec "$NS" sysctl -qw net.ipv4.ping_group_range="1 0"
expect_rc 1 "${NOBODY[@]}" "$SOCKIT" ping -c 1 127.0.0.1
grep -q 'CAP_NET_RAW' "$TMP/last.err" && grep -q 'ping_group_range' "$TMP/last.err" ||
    fail "no advice when nothing is allowed: $(cat "$TMP/last.err")"
pass "without any ICMP socket: says what to change"
