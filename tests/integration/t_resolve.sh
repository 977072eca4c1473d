#!/usr/bin/env bash
# sockit resolve against real servers on loopback: dnsmasq serving a test
# zone (mixed SRV priorities and weights, a "." target, a dual-stack name,
# TXT and PTR), a UDP socket that never answers and a responder that only
# says SERVFAIL. Checks: agreement with kdig on every record type, the
# distinct failures (NXDOMAIN, SERVFAIL, timeout, no such service) and their
# exit codes, --trace's order of sources, --json against
# docs/schema/resolve.json, and over 10,000 RFC 2782 picks the first-choice
# shares against the weights (chi-square at p = 0.001).
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
for tool in dnsmasq kdig; do
    command -v "$tool" >/dev/null || fail "$tool is missing (tests/install-deps.sh installs dnsmasq-base and knot-dnsutils)"
done
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || fail "python3-jsonschema is missing (tests/install-deps.sh)"

cat >"$TMP/zone.conf" <<'EOF'
# Answer for example.test from these lines only: anything else in it is
# NXDOMAIN, not a question for an upstream server.
local=/example.test/
local-ttl=300
srv-host=_echo._tcp.example.test,a.example.test,7,10,60
srv-host=_echo._tcp.example.test,b.example.test,7,10,30
srv-host=_echo._tcp.example.test,c.example.test,7,10,10
srv-host=_echo._tcp.example.test,z.example.test,7,10,0
srv-host=_echo._tcp.example.test,backup.example.test,7007,20,5
srv-host=_none._tcp.example.test
host-record=a.example.test,127.0.0.2
host-record=dual.example.test,127.0.0.3,::1
txt-record=txt.example.test,"hello world","v=1"
ptr-record=3.0.0.127.in-addr.arpa,dual.example.test
EOF

. "$(dirname "$0")/helpers/dnsmasq.sh"

start_dnsmasq
S=127.0.0.1:$DNS_PORT
pass "dnsmasq serves the test zone on $S (pid $DNS_PID)"

# sockit's answers (TYPE DATA) against kdig +short, for each type.
agree() { # NAME TYPE [kdig query...]
    local name=$1 type=$2
    shift 2
    expect_rc 0 "$SOCKIT" resolve --type "$type" --server "$S" "$name"
    local ours theirs
    ours=$(sed -n "s/^$type //p" "$TMP/last.out" | sort)
    theirs=$(kdig @127.0.0.1 -p "$DNS_PORT" +short "${@:-$name}" "$type" | sort)
    [[ -n $theirs ]] || fail "kdig has no $type for $name"
    [[ $ours == "$theirs" ]] || fail "$type $name: sockit says '$ours', kdig '$theirs'"
    # The TTLs too, from --json against kdig's answer section.
    expect_rc 0 "$SOCKIT" resolve --type "$type" --server "$S" --json "$name"
    local ttls kttls
    ttls=$("$PYTHON" -c 'import json,sys; print(sorted({a["ttl_s"] for a in json.load(sys.stdin)["answers"] if a["type"] == sys.argv[1]}))' "$type" <"$TMP/last.out")
    kttls=$(kdig @127.0.0.1 -p "$DNS_PORT" +noall +answer "${@:-$name}" "$type" |
        "$PYTHON" -c 'import sys; print(sorted({int(l.split()[1]) for l in sys.stdin if l.split()[3:4] == [sys.argv[1]]}))' "$type")
    [[ $ttls == "$kttls" ]] || fail "$type $name: TTLs $ttls, kdig's $kttls"
}
agree _echo._tcp.example.test SRV
agree a.example.test A
agree dual.example.test A
agree dual.example.test AAAA
agree txt.example.test TXT
agree 127.0.0.3 PTR -x 127.0.0.3
expect_rc 0 "$SOCKIT" resolve --server "$S" _echo._tcp.example.test
[[ $(grep -c '^SRV ' "$TMP/last.out") == 5 ]] || fail "_service._proto.domain is no SRV query: $(cat "$TMP/last.out")"
expect_rc 0 "$SOCKIT" resolve --server "$S" srv:_echo._tcp.example.test
[[ $(grep -c '^SRV ' "$TMP/last.out") == 5 ]] || fail "srv:NAME is no SRV query: $(cat "$TMP/last.out")"
expect_rc 0 "$SOCKIT" resolve --server "$S" --type any dual.example.test
[[ $(sort "$TMP/last.out" | tr '\n' ' ') == "A 127.0.0.3 AAAA ::1 " ]] || fail "--type any: $(cat "$TMP/last.out")"
pass "sockit resolve agrees with kdig on SRV, A, AAAA (dual-stack), TXT and PTR, TTLs included"

# The failures: each its own message, all exit 1, each bounded in time.
msg() { sed -E 's/, [0-9.]+ ms\)$/)/' "$TMP/last.err"; }
expect_rc 1 "$SOCKIT" resolve --server "$S" nosuch.example.test
nx=$(msg)
[[ $nx == "sockit: resolve nosuch.example.test: no such domain (NXDOMAIN) (dns $S, A nosuch.example.test)" ]] ||
    fail "NXDOMAIN: '$nx'"
[[ ! -s $TMP/last.out ]] || fail "NXDOMAIN printed answers: $(cat "$TMP/last.out")"
expect_rc 1 "$SOCKIT" resolve --server "$S" _none._tcp.example.test
nosvc=$(msg)
[[ $nosvc == "sockit: resolve _none._tcp.example.test: no such service (the SRV target is \".\") (dns $S, SRV _none._tcp.example.test)" ]] ||
    fail "target '.': '$nosvc'"
[[ $(<"$TMP/last.out") == "SRV 0 0 1 ." ]] || fail "target '.': the record itself: '$(cat "$TMP/last.out")'"
expect_rc 1 "$SOCKIT" resolve --server "$S" --type TXT a.example.test
[[ $(msg) == "sockit: resolve a.example.test: no record of that type (the name exists) (dns $S, TXT a.example.test)" ]] ||
    fail "no TXT: '$(msg)'"
expect_rc 1 "$SOCKIT" resolve localhost:nosuchservice
unk=$(msg)
[[ $unk == "sockit: resolve localhost:nosuchservice: unknown service name (not in /etc/services)" ]] ||
    fail "unknown service: '$unk'"

# A UDP socket that never answers: a timeout after --timeout, not before.
"$PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(60)' >"$TMP/silent.port" &
PIDS+=($!)
# A responder that says SERVFAIL to every query.
"$PYTHON" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
for _ in range(100):
    q, peer = s.recvfrom(4096)
    s.sendto(q[:2] + bytes([0x80 | (q[2] & 0x01), 0x82]) + q[4:], peer)' >"$TMP/servfail.port" &
PIDS+=($!)
for f in silent servfail; do
    for ((i = 0; i < 100; i++)); do [[ -s $TMP/$f.port ]] && break; sleep 0.05; done
done
silent=127.0.0.1:$(<"$TMP/silent.port")
servfail=127.0.0.1:$(<"$TMP/servfail.port")
t0=$(date +%s%N)
expect_rc 1 "$SOCKIT" resolve --server "$silent" --timeout 500ms --type A a.example.test
ms=$((($(date +%s%N) - t0) / 1000000))
to=$(msg)
[[ $to == "sockit: resolve a.example.test: DNS timeout: no answer from the server (dns $silent, A a.example.test)" ]] ||
    fail "timeout: '$to'"
((ms >= 450 && ms < 3000)) || fail "--timeout 500ms took $ms ms"
expect_rc 1 "$SOCKIT" resolve --server "$servfail" --type SRV _echo._tcp.example.test
sf=$(msg)
[[ $sf == "sockit: resolve _echo._tcp.example.test: DNS server failure (SERVFAIL) (dns $servfail, SRV _echo._tcp.example.test)" ]] ||
    fail "SERVFAIL: '$sf'"
[[ $(printf '%s\n' "${nx#*: }" "${nosvc#*: }" "${unk#*: }" "${to#*: }" "${sf#*: }" | sed 's/ (dns.*//; s/^[^:]*: //' |
    sort -u | wc -l) == 5 ]] || fail "the failures' messages are not distinct"
pass "NXDOMAIN, no such service ('.'), no such type, unknown service, timeout ($ms ms for 500ms) and SERVFAIL: distinct, exit 1"

# Usage errors exit 2.
for args in "--type MX a.example.test" "--pick 0 x" "--timeout soon x" "--server , x" "" "a b"; do
    # shellcheck disable=SC2086
    expect_rc 2 "$SOCKIT" resolve $args
    grep -q "(see 'sockit resolve --help')" "$TMP/last.err" || fail "resolve $args: $(cat "$TMP/last.err")"
done
pass "bad types, counts, durations, servers and operands are usage errors (exit 2)"

# --trace: every source asked, in order, with what it said and its time.
expect_rc 0 "$SOCKIT" resolve --trace localhost:echo
mapfile -t tr <"$TMP/last.err"
[[ ${tr[0]} =~ ^services:\ echo\ -\>\ 7\ \([0-9.]+\ ms\)$ ]] || fail "trace line 1: '${tr[0]}'"
[[ ${tr[1]} =~ ^hosts:\ localhost\ -\>\ .*127\.0\.0\.1.*\ \([0-9.]+\ ms\)$ ]] || fail "trace line 2: '${tr[1]}'"
((${#tr[@]} == 2)) || fail "trace has ${#tr[@]} lines: $(cat "$TMP/last.err")"
[[ $(head -n1 "$TMP/last.out") == "PORT 7" ]] || fail "localhost:echo: $(cat "$TMP/last.out")"
expect_rc 0 "$SOCKIT" resolve --trace --server "$S" a.example.test:echo
mapfile -t tr <"$TMP/last.err"
[[ ${tr[0]} =~ ^services:\ echo\ -\>\ 7\  ]] || fail "trace with DNS, line 1: '${tr[0]}'"
[[ ${tr[1]} =~ ^dns\ $S:\ A\ a\.example\.test\ -\>\ 127\.0\.0\.2\ \([0-9.]+\ ms\)$ ]] || fail "line 2: '${tr[1]}'"
[[ ${tr[2]} =~ ^dns\ $S:\ AAAA\ a\.example\.test\ -\>\ no\ record\ of\ that\ type ]] || fail "line 3: '${tr[2]}'"
expect_rc 0 "$SOCKIT" resolve --trace --server "$S" _echo._tcp.example.test
grep -qE "^dns $S: SRV _echo._tcp.example.test -> .*10 60 7 a\.example\.test\..* \([0-9.]+ ms\)$" "$TMP/last.err" ||
    fail "SRV trace: $(cat "$TMP/last.err")"
pass "--trace names services, hosts and dns $S in the order asked, with answers and times"

# --json validates against the schema, for answers of every source and for
# failures.
validate() {
    /usr/bin/python3 - "$SRC/docs/schema/resolve.json" "$1" <<'EOF' || fail "--json for $2 does not validate"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
jsonschema.validate(json.load(open(sys.argv[2])), schema, cls=jsonschema.Draft7Validator)
EOF
}
n=0
while read -r rc args; do
    # shellcheck disable=SC2086
    expect_rc "$rc" "$SOCKIT" resolve --json $args
    validate "$TMP/last.out" "$args"
    n=$((n + 1))
done <<EOF
0 echo
0 localhost:echo
0 127.0.0.1
0 --server $S _echo._tcp.example.test
0 --server $S --type any dual.example.test
0 --server $S --type TXT txt.example.test
0 --server $S 127.0.0.3
0 --server $S --pick 10 --seed 1 _echo._tcp.example.test
1 --server $S nosuch.example.test
1 --server $S _none._tcp.example.test
1 --server $silent --timeout 200ms a.example.test
1 localhost:nosuchservice
EOF
expect_rc 0 "$SOCKIT" resolve --json --server "$S" --type TXT txt.example.test
[[ $("$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d["answers"][0]["text"], d["trace"][0]["server"])' \
    <"$TMP/last.out") == "['hello world', 'v=1'] $S" ]] || fail "TXT JSON: $(cat "$TMP/last.out")"
pass "--json validates against docs/schema/resolve.json ($n documents, failures included)"

# RFC 2782 over 10,000 picks: priority 10 always first (the priority-20
# backup never), weight 0 never first beside positive weights, and the
# shares of a (60), b (30) and c (10) pass a chi-square test at p = 0.001.
for seed in 1 2 3; do
    expect_rc 0 "$SOCKIT" resolve --json --server "$S" --pick 10000 --seed "$seed" _echo._tcp.example.test
    "$PYTHON" - "$TMP/last.out" <<'EOF' || fail "SRV picks with seed $seed: $(cat "$TMP/last.err")"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["picks"]
first = {f["target"]: f for f in p["first"]}
assert p["n"] == 10000 and sum(f["count"] for f in p["first"]) == 10000, p
assert first["backup.example.test"]["count"] == 0, first
assert first["z.example.test"]["count"] == 0, first
total = sum(first[t + ".example.test"]["weight"] for t in "abc")
chi2 = 0.0
for t in ("a", "b", "c"):
    f = first[t + ".example.test"]
    expected = 10000 * f["weight"] / total
    chi2 += (f["count"] - expected) ** 2 / expected
# Two degrees of freedom: P(X > x) = exp(-x / 2), so p = 0.001 at 13.816.
assert chi2 < 13.816, (chi2, first)
print(f"seed {p['seed']}: " + ", ".join(f"{t} {first[t + '.example.test']['count']}" for t in "abcz") +
      f", chi2 {chi2:.2f}", file=sys.stderr)
EOF
done
expect_rc 0 "$SOCKIT" resolve --server "$S" --pick 1000 --seed 9 _echo._tcp.example.test
[[ $(grep -c '^FIRST ' "$TMP/last.out") == 5 ]] || fail "--pick text: $(cat "$TMP/last.out")"
grep -qx 'FIRST z.example.test:7 0 of 1000 (priority 10 weight 0, seed 9)' "$TMP/last.out" ||
    fail "--pick text: $(cat "$TMP/last.out")"
pass "10,000 RFC 2782 picks (3 seeds): first-choice shares match the weights (chi-square < 13.816, p = 0.001)"

kill -TERM "$DNS_PID"
wait "$DNS_PID" 2>/dev/null || true
pass "dnsmasq stopped"
