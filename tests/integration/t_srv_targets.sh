#!/usr/bin/env bash
# SRV targets wherever a client takes an address (connect, connect --udp,
# bench), against dnsmasq on loopback and real sockit servers on 127.0.0.2-4:
# srv:NAME and the bare _service._proto.domain form, RFC 2782 fallback
# when the top-priority target is down (TCP: refused; UDP: port
# unreachable), "." and NXDOMAIN as distinct failures, and bench spreading
# its connections over the targets by weight with requests per target.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/dnsmasq.sh"
command -v dnsmasq >/dev/null || fail "dnsmasq is missing (tests/install-deps.sh installs dnsmasq-base)"

# Three echo servers, one per loopback address, and a port nothing uses.
start_server a --service echo --listen 127.0.0.2:0
PA=$SERVER_PORT
start_server b --service echo --listen 127.0.0.3:0
PB=$SERVER_PORT
start_server c --service echo --listen 127.0.0.4:0
PC=$SERVER_PORT
start_server ua --service echo --proto udp --listen 127.0.0.2:0
UA=$SERVER_PORT
DEAD=$(free_port)

cat >"$TMP/zone.conf" <<CONF
local=/example.test/
local-ttl=30
host-record=a.example.test,127.0.0.2
host-record=b.example.test,127.0.0.3
host-record=c.example.test,127.0.0.4
host-record=dead.example.test,127.0.0.5
srv-host=_echo._tcp.example.test,a.example.test,$PA,10,60
srv-host=_echo._tcp.example.test,b.example.test,$PB,10,30
srv-host=_echo._tcp.example.test,c.example.test,$PC,10,10
srv-host=_fall._tcp.example.test,dead.example.test,$DEAD,10,100
srv-host=_fall._tcp.example.test,b.example.test,$PB,20,1
srv-host=_echo._udp.example.test,dead.example.test,$DEAD,10,1
srv-host=_echo._udp.example.test,a.example.test,$UA,20,1
srv-host=_none._tcp.example.test
CONF
start_dnsmasq
DNS=127.0.0.1:$DNS_PORT

# connect through an SRV name, both spellings; -v names the targets in order.
for name in srv:_echo._tcp.example.test _echo._tcp.example.test; do
    got=$(printf 'via srv\n' | timeout 20 "$SOCKIT" connect -v --dns-server "$DNS" "$name" 2>"$TMP/c.err") ||
        fail "connect $name: $(cat "$TMP/c.err")"
    [[ $got == "via srv" ]] || fail "connect $name echoed '$got'"
    grep -q "^sockit: SRV _echo._tcp.example.test: 3 targets" "$TMP/c.err" || fail "no SRV line: $(cat "$TMP/c.err")"
    grep -qE "^sockit: connected to 127\.0\.0\.[234]:($PA|$PB|$PC)$" "$TMP/c.err" || fail "no connected line: $(cat "$TMP/c.err")"
done
pass "connect srv:NAME and the bare _echo._tcp name reach a target"

# Over 300 connects the first choice follows the weights 60/30/10 (loose
# bounds: this checks the wiring; t_resolve checks the statistics).
for ((i = 0; i < 300; i++)); do
    printf '' | timeout 10 "$SOCKIT" connect -v --dns-server "$DNS" srv:_echo._tcp.example.test 2>&1 >/dev/null |
        sed -n 's/^sockit: connected to \(127\.0\.0\.[0-9]*\):.*/\1/p'
done | sort | uniq -c >"$TMP/picks"
na=$(awk '$2=="127.0.0.2"{print $1}' "$TMP/picks"); nb=$(awk '$2=="127.0.0.3"{print $1}' "$TMP/picks")
nc=$(awk '$2=="127.0.0.4"{print $1}' "$TMP/picks")
((${na:-0} + ${nb:-0} + ${nc:-0} == 300)) || fail "not every connect landed: $(cat "$TMP/picks")"
((na > 140 && na < 220 && nb > 55 && nb < 125 && nc > 10 && nc < 55)) || fail "picks do not follow 60/30/10: $(tr '\n' ' ' <"$TMP/picks")"
pass "300 connects: a $na, b $nb, c $nc (weights 60/30/10)"

# The top-priority target refuses: the next priority is used.
got=$(printf 'fallback\n' | timeout 20 "$SOCKIT" connect -v --dns-server "$DNS" _fall._tcp.example.test 2>"$TMP/f.err") ||
    fail "fallback connect: $(cat "$TMP/f.err")"
[[ $got == fallback ]] || fail "fallback echoed '$got'"
grep -q "^sockit: connect 127.0.0.5:$DEAD: Connection refused" "$TMP/f.err" || fail "no refusal line: $(cat "$TMP/f.err")"
grep -q "^sockit: dead.example.test:$DEAD failed; trying the next target" "$TMP/f.err" || fail "no fallback line: $(cat "$TMP/f.err")"
grep -q "^sockit: connected to 127.0.0.3:$PB$" "$TMP/f.err" || fail "did not reach b: $(cat "$TMP/f.err")"
pass "top-priority target down: connect fell back to priority 20"

# UDP: the priority-10 target answers "port unreachable"; the datagram
# goes to the next target.
got=$(printf 'udp srv\n' | timeout 20 "$SOCKIT" connect -u -v --dns-server "$DNS" srv:_echo._udp.example.test 2>"$TMP/u.err") ||
    fail "connect -u srv: $(cat "$TMP/u.err")"
[[ $got == "udp srv" ]] || fail "connect -u srv echoed '$got': $(cat "$TMP/u.err")"
grep -q "127.0.0.5:$DEAD: port unreachable, trying the next address" "$TMP/u.err" || fail "no UDP fallback: $(cat "$TMP/u.err")"
pass "connect --udp over SRV: unreachable first target, reply from the second"

# Failures: "." says no such service; a name that does not exist; both exit 1.
expect_rc 1 "$SOCKIT" connect --dns-server "$DNS" srv:_none._tcp.example.test
grep -q "SRV _none._tcp.example.test: .*no such service" "$TMP/last.err" || fail "'.' target: $(cat "$TMP/last.err")"
expect_rc 1 "$SOCKIT" connect --dns-server "$DNS" srv:_nope._tcp.example.test
grep -q "SRV _nope._tcp.example.test: .*NXDOMAIN\|does not exist" "$TMP/last.err" || fail "NXDOMAIN: $(cat "$TMP/last.err")"
expect_rc 1 "$SOCKIT" bench --dns-server "$DNS" -d 1s srv:_none._tcp.example.test
pass "'.' and NXDOMAIN: one line each, exit 1 (connect and bench)"

# bench spreads 100 connections 60/30/10 and counts requests per target. At
# a fixed rate every connection sends alike, so the requests follow the
# connections (closed-loop, a lighter-loaded server would answer faster).
timeout 60 "$SOCKIT" bench --dns-server "$DNS" -c 100 -d 2s --rate 2000 --json srv:_echo._tcp.example.test >"$TMP/b.json" 2>"$TMP/b.err" ||
    fail "bench srv: $(cat "$TMP/b.err")"
"$PYTHON" - "$TMP/b.json" "$PA" "$PB" "$PC" <<'PY' || fail "bench targets: $(cat "$TMP/b.json")"
import json, sys
r = json.load(open(sys.argv[1]))
ports = [int(p) for p in sys.argv[2:5]]
t = {x["target"]: x for x in r["targets"]}
assert r["srv"] == "_echo._tcp.example.test", r
assert {k: v["connections"] for k, v in t.items()} == {"a.example.test": 60, "b.example.test": 30, "c.example.test": 10}, t
assert [t[h]["port"] for h in ("a.example.test", "b.example.test", "c.example.test")] == ports, t
assert sum(x["requests"] for x in r["targets"]) == r["requests"] > 0, r
for h, w in (("a.example.test", 0.6), ("b.example.test", 0.3), ("c.example.test", 0.1)):
    share = t[h]["requests"] / r["requests"]
    assert abs(share - w) < 0.1 * w, (h, share, w)
print(" ".join("%s %d" % (h, t[h]["requests"]) for h in sorted(t)))
PY
/usr/bin/python3 "$(dirname "$0")/helpers/json_schema_check.py" "$(dirname "$0")/../../docs/schema" bench "$TMP/b.json" ||
    fail "bench --json with targets breaks docs/schema/bench.json"
pass "bench srv: connections 60/30/10, requests per target follow the weights"

# bench over _fall: the refused priority-10 target is left out, the load goes to priority 20.
timeout 60 "$SOCKIT" bench --dns-server "$DNS" -c 4 -d 1s _fall._tcp.example.test >"$TMP/bf.out" 2>"$TMP/bf.err" ||
    fail "bench _fall: $(cat "$TMP/bf.err")"
grep -q "^sockit: bench: dead.example.test:$DEAD: Connection refused; left out" "$TMP/bf.err" || fail "no left-out line: $(cat "$TMP/bf.err")"
grep -qE "^ +b\.example\.test:$PB +127\.0\.0\.3:$PB +priority 20 weight 1 +4 conns" "$TMP/bf.out" || fail "report: $(cat "$TMP/bf.out")"
pass "bench: top-priority target down, the load went to priority 20"
