#!/usr/bin/env bash
# Happy Eyeballs (RFC 8305) in `sockit connect`: a name whose IPv6 address
# (first in the resolver's order) leads to a listener that never answers
# and whose IPv4 address is live connects in about one attempt delay, not a
# whole timeout; -v prints the race; the losing attempt is closed at once.
. "$(dirname "$0")/lib.sh"

unshare -m true 2>/dev/null || { echo "skip [$TEST_NAME]: no mount namespaces here (unshare -m)"; exit 0; }

# A dead IPv6 listener: backlog 0, never accepts, its queue filled by two
# connections of its own, so the kernel drops further SYNs and a connect to
# it hangs. The same port on 127.0.0.1 gets a real echo server.
cat >"$TMP/dead.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind(("::1", 0))
s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(2):
    c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(("::1", port))
    except BlockingIOError:
        pass
    fill.append(c)
time.sleep(0.3)
print(port, flush=True)
time.sleep(60)
PY
python3 "$TMP/dead.py" >"$TMP/dead.port" &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do
    [[ -s $TMP/dead.port ]] && break
    sleep 0.05
done
port=$(<"$TMP/dead.port")
[[ $port =~ ^[0-9]+$ ]] || fail "dead listener gave no port"
# The dead listener really is dead: a plain connect to it times out.
timeout 5 python3 -c "
import socket, sys
c = socket.socket(socket.AF_INET6); c.settimeout(0.5)
try:
    c.connect(('::1', $port)); sys.exit(1)
except socket.timeout:
    sys.exit(0)
" || fail "the dead IPv6 listener answered"
start_server echo --listen "127.0.0.1:$port"

printf '::1 racing.test\n127.0.0.1 racing.test\n' >"$TMP/hosts"
[[ $("${WITH_HOSTS[@]}" "$TMP/hosts" getent ahosts racing.test | head -n1) == "::1 "* ]] ||
    fail "racing.test does not resolve to ::1 first"

# Serial order would spend the whole --timeout (5 s) on ::1 first.
t0=$(date +%s%N)
got=$(printf 'raced\n' | timeout 20 "${WITH_HOSTS[@]}" "$TMP/hosts" "$SOCKIT" connect -v -t 5 "racing.test:$port" 2>"$TMP/v.log") ||
    fail "connect failed: $(cat "$TMP/v.log")"
ms=$((($(date +%s%N) - t0) / 1000000))
[[ $got == raced ]] || fail "echo through the winner: '$got'"
limit=400
is_sanitized && limit=1500
((ms < limit)) || fail "took $ms ms (limit $limit), as if the dead address cost its timeout"
# The attempts' times relative to each other: the lookups before them may
# take a while on a loaded machine (the timeline counts from the dial).
at() { sed -n "s/^sockit: +\([0-9]*\) ms $2$/\1/p" "$1" | head -n1; }
slack=50
is_sanitized && slack=150
v6=$(at "$TMP/v.log" "connect \[::1\]:$port")
v4=$(at "$TMP/v.log" "connect 127\.0\.0\.1:$port")
won=$(at "$TMP/v.log" "127\.0\.0\.1:$port won")
[[ -n $v6 && -n $v4 && -n $won ]] || fail "timeline lacks an attempt or the winner: $(cat "$TMP/v.log")"
grep -m1 ' ms connect ' "$TMP/v.log" | grep -q "connect \[::1\]:$port$" || fail "IPv6 did not go first: $(cat "$TMP/v.log")"
((v4 - v6 >= 250 && v4 - v6 < 250 + slack)) || fail "the second attempt did not start 250 ms after the first: $(cat "$TMP/v.log")"
((won - v4 < slack)) || fail "the winner came $((won - v4)) ms after its attempt: $(cat "$TMP/v.log")"
pass "dead AAAA, live A: connected in $ms ms; $(grep -c '^sockit: +' "$TMP/v.log") timeline lines"

# --attempt-delay moves the second start; the loser is closed once the race
# is won (no SYN-SENT socket to [::1]:port while the session still runs).
(sleep 1.5; printf 'late\n') | timeout 20 "${WITH_HOSTS[@]}" "$TMP/hosts" "$SOCKIT" connect -v --attempt-delay 100ms \
    "racing.test:$port" >"$TMP/late.out" 2>"$TMP/d.log" &
cpid=$!
PIDS+=("$cpid")
sleep 0.8
# (The dead listener's own two fillers stay in SYN-SENT: count sockit's.)
left=$(ss -Htnp state syn-sent "dst [::1]:$port" | grep -c '"sockit"' || true)
((left == 0)) || fail "$left attempt(s) to the dead address still open after the win"
wait "$cpid" || fail "connect --attempt-delay exited $?: $(cat "$TMP/d.log")"
[[ $(<"$TMP/late.out") == late ]] || fail "second session echoed '$(cat "$TMP/late.out")'"
d6=$(at "$TMP/d.log" "connect \[::1\]:$port")
d4=$(at "$TMP/d.log" "connect 127\.0\.0\.1:$port")
[[ -n $d6 && -n $d4 ]] && ((d4 - d6 >= 100 && d4 - d6 < 100 + slack)) || fail "--attempt-delay 100ms: $(cat "$TMP/d.log")"
pass "--attempt-delay 100ms starts the IPv4 attempt $((d4 - d6)) ms after the IPv6 one; the loser was closed"

usage_line=$("$SOCKIT" connect --attempt-delay 0 127.0.0.1:1 2>&1 >/dev/null) && fail "--attempt-delay 0 accepted"
[[ $usage_line == "sockit: --attempt-delay wants a time from 1ms to 60s, not '0' (see 'sockit connect --help')" ]] ||
    fail "bad --attempt-delay: $usage_line"
pass "a bad --attempt-delay is a usage error"

# bench with a name whose first address has no server (::1 refused, the
# server is on 127.0.0.1 only, as with localhost on a stock Debian
# /etc/hosts): it finds the live address instead of failing every connect.
start_server echo2 --listen 127.0.0.1:0
printf '::1 dual.test\n127.0.0.1 dual.test\n' >"$TMP/hosts2"
timeout 30 "${WITH_HOSTS[@]}" "$TMP/hosts2" "$SOCKIT" bench "dual.test:$SERVER_PORT" -c 2 -d 500ms --json \
    >"$TMP/bench.json" 2>"$TMP/bench.err" || fail "bench dual.test: $(cat "$TMP/bench.err")"
python3 - "$TMP/bench.json" <<'PY' || fail "bench over the second address: $(cat "$TMP/bench.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["requests"] > 0 and r["errors"]["connect"] == 0, r
PY
pass "bench tries the name's addresses: the load went to 127.0.0.1 with no connect error"

# The lookups (RFC 8305 section 3): AAAA and A are asked in parallel. A DNS
# server whose AAAA answers come 600 ms late: the A answer waits the
# 50 ms resolution delay, then the live IPv4 address is tried and wins,
# long before AAAA comes back (a lookup that waited for both would take
# 600 ms, then spend 250 ms on the dead ::1 first).
slow_dns() {
    rm -f "$TMP/slow.port"
    "$PYTHON" "$(dirname "$0")/helpers/slow_dns.py" 127.0.0.1 ::1 "$1" >"$TMP/slow.port" &
    PIDS+=($!)
    for ((i = 0; i < 100; i++)); do
        [[ -s $TMP/slow.port ]] && break
        sleep 0.05
    done
    SLOW=127.0.0.1:$(<"$TMP/slow.port")
}
slow_dns 600
t0=$(date +%s%N)
got=$(printf 'late aaaa\n' | timeout 20 "$SOCKIT" connect -v -t 5 --dns-server "$SLOW" "he.example.test:$port" 2>"$TMP/r.log") ||
    fail "connect with a slow AAAA: $(cat "$TMP/r.log")"
ms=$((($(date +%s%N) - t0) / 1000000))
[[ $got == "late aaaa" ]] || fail "echo: '$got'"
grep -qE "^sockit: \+[0-9]+ ms A he\.example\.test: 1 address" "$TMP/r.log" || fail "no A answer line: $(cat "$TMP/r.log")"
grep -q "A came first: waiting for AAAA" "$TMP/r.log" || fail "no resolution-delay line: $(cat "$TMP/r.log")"
first=$(grep -m1 ' ms connect ' "$TMP/r.log")
[[ $first =~ ^sockit:\ \+([0-9]+)\ ms\ connect\ 127\.0\.0\.1:$port$ ]] || fail "first attempt not to the A address: $(cat "$TMP/r.log")"
at=${BASH_REMATCH[1]}
a_at=$(sed -n 's/^sockit: +\([0-9]*\) ms A he\.example\.test: 1 address.*/\1/p' "$TMP/r.log" | head -n1)
[[ -n $a_at ]] || fail "no A answer time: $(cat "$TMP/r.log")"
((at - a_at >= 50 && at - a_at < 50 + slack)) ||
    fail "IPv4 attempt $((at - a_at)) ms after the A answer, wanted the 50 ms resolution delay: $(cat "$TMP/r.log")"
limit=500
is_sanitized && limit=1000
((ms < limit)) || fail "took $ms ms with a 600 ms AAAA (limit $limit; the AAAA answer takes 600 ms)"
pass "slow AAAA (600 ms): A waited the resolution delay ($((at - a_at)) ms), connected in $ms ms in all"

# AAAA within the resolution delay (20 ms): IPv6 goes first after all.
kill "${PIDS[-1]}" 2>/dev/null || true
slow_dns 20
printf 'quick aaaa\n' | timeout 20 "$SOCKIT" connect -v -t 5 --dns-server "$SLOW" "he.example.test:$port" >"$TMP/q.out" 2>"$TMP/q.log" ||
    fail "connect with a 20 ms AAAA: $(cat "$TMP/q.log")"
[[ $(<"$TMP/q.out") == "quick aaaa" ]] || fail "echo: $(cat "$TMP/q.out")"
grep -m1 ' ms connect ' "$TMP/q.log" | grep -q "connect \[::1\]:$port$" ||
    fail "AAAA came within the delay, yet IPv6 did not go first: $(cat "$TMP/q.log")"
v4=$(sed -n "s/^sockit: +\([0-9]*\) ms connect 127\.0\.0\.1:$port$/\1/p" "$TMP/q.log")
v6=$(sed -n "s/^sockit: +\([0-9]*\) ms connect \[::1\]:$port$/\1/p" "$TMP/q.log")
hi=50
is_sanitized && hi=150
[[ -n $v4 && -n $v6 ]] && ((v4 - v6 >= 250 && v4 - v6 < 250 + hi)) || fail "IPv4 not 250 ms after IPv6: $(cat "$TMP/q.log")"
pass "AAAA within the resolution delay: [::1] first, 127.0.0.1 one attempt delay later"
