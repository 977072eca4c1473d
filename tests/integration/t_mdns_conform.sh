#!/usr/bin/env bash
# sockit's mDNS responder against a conformance check written from RFC 6762
# (helpers/mdns_conform.py; t_mdns_avahi runs the same check against avahi):
# three probes 250 ms apart, two announcements a second apart, TTLs 120 s /
# 4500 s, cache-flush bits on unique records only, legacy unicast answers
# (ID and question echoed, TTL <= 10 s, no cache-flush), and the goodbye.
# Then malformed packets sent at the responder and the querier (truncated,
# compression loops, pointers forward and to themselves, huge counts, long
# labels and names) are ignored and counted with -v, and both keep working.
# On a LAN of namespaces this test creates (A, C on one bridge).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/netns.sh"
ns_require
CONFORM="$(dirname "$0")/helpers/mdns_conform.py"

ns_lan A C
IN_A=$(ns_wrap "$NS_A" "$SOCKIT")
IN_C=$(ns_wrap "$NS_C" "$SOCKIT")

ns_exec "$NS_C" "$PYTHON" "$CONFORM" watch eth0 "conform echo._echo._tcp.local" "$TMP/verdict.json" \
    >"$TMP/conform.log" 2>&1 &
CW=$!
PIDS+=("$CW")
for ((i = 0; i < 50; i++)); do
    grep -q watching "$TMP/conform.log" && break
    sleep 0.1
done
SOCKIT=$IN_A start_server ann --listen :0 --announce "conform echo" --txt a=1 -v -v
ANN=$SERVER_PID
for ((i = 0; i < 50; i++)); do
    grep -q 'announce 2/2' "$TMP/ann.log" && break
    sleep 0.1
done
grep -q 'announce 2/2' "$TMP/ann.log" || fail "no announcement: $(cat "$TMP/ann.log")"

ns_run "$NS_C" "$PYTHON" "$CONFORM" legacy eth0 _echo._tcp.local PTR >"$TMP/legacy.json" ||
    fail "legacy unicast (PTR): $(cat "$TMP/legacy.json")"
grep -q '"conform echo._echo._tcp.local SRV 10"' "$TMP/legacy.json" || fail "legacy PTR answer: $(cat "$TMP/legacy.json")"
ns_run "$NS_C" "$PYTHON" "$CONFORM" legacy eth0 "conform echo._echo._tcp.local" SRV >"$TMP/legacy.json" ||
    fail "legacy unicast (SRV): $(cat "$TMP/legacy.json")"
grep -q 'legacy unicast' "$TMP/ann.log" || fail "-v -v did not show the legacy answer: $(cat "$TMP/ann.log")"
pass "legacy unicast: unicast answers with the ID and question echoed, TTL 10, no cache-flush"
ns_run "$NS_C" "$PYTHON" "$CONFORM" qu-ka eth0 198.18.0.2 _echo._tcp.local "conform echo._echo._tcp.local" \
    >"$TMP/quka.json" 2>&1 || fail "QU / known answers: $(cat "$TMP/quka.json")"
pass "QU queries answered by unicast; known answers with more than half the TTL suppress the answer"

# A short TTL (3 s: a quarter is 750 ms): a QU query 0.85 s after the answer
# went on the group may not be multicast again yet, so it goes by unicast.
SOCKIT=$IN_A start_server short --listen :0 --announce "short ttl" --announce-ttl 3s -v
for ((i = 0; i < 50; i++)); do
    grep -q 'announce 2/2' "$TMP/short.log" && break
    sleep 0.1
done
ns_run "$NS_C" "$PYTHON" "$CONFORM" qu-window eth0 198.18.0.2 _echo._tcp.local "short ttl._echo._tcp.local" \
    >"$TMP/quwin.json" 2>&1 || fail "QU window: $(cat "$TMP/quwin.json")"
stop_server "$SERVER_PID" 0
pass "a QU query inside the second after a multicast, past a quarter of a short TTL, is still answered"

# Malformed packets at both sides; each keeps working.
ns_exec "$NS_C" "$SOCKIT" discover _echo._tcp --watch -v >"$TMP/watch.out" 2>"$TMP/watch.log" &
W=$!
PIDS+=("$W")
for ((i = 0; i < 50; i++)); do
    grep -q '^add "conform echo"' "$TMP/watch.out" 2>/dev/null && break
    sleep 0.1
done
grep -q '^add "conform echo"' "$TMP/watch.out" || fail "watch: $(cat "$TMP/watch.out")"
sent=$(ns_run "$NS_C" "$PYTHON" "$CONFORM" malformed eth0)
sleep 0.5
bad_resp=$(grep -c 'mdns: ignored a malformed packet' "$TMP/ann.log" || true)
bad_query=$(grep -c 'ignored a malformed mDNS packet' "$TMP/watch.log" || true)
((bad_resp == sent)) || fail "responder counted $bad_resp of $sent malformed packets: $(cat "$TMP/ann.log")"
((bad_query == sent)) || fail "querier counted $bad_query of $sent malformed packets: $(cat "$TMP/watch.log")"
grep -q "ignored a malformed packet from 198.18.0.2 (malformed DNS message; $sent so far)" "$TMP/ann.log" ||
    fail "the responder's count line: $(cat "$TMP/ann.log")"
expect_rc 0 "$IN_C" discover _echo._tcp --timeout 1.5
grep -q '^conform echo ' "$TMP/last.out" || fail "after the malformed packets: $(cat "$TMP/last.out")"
kill -0 "$W" || fail "discover --watch died"
expect_rc 0 "$IN_C" discover _echo._tcp --interface eth0 --timeout 1
grep -q '^conform echo ' "$TMP/last.out" || fail "discover --interface eth0: $(cat "$TMP/last.out")"
pass "$sent malformed packets ignored and counted by the responder and the querier (-v); both keep working"

# A second querier right behind a first: the responder multicast the answer
# to the first well within the last second, before the second listened, and
# does not multicast it again (RFC 6762 6); the second's first query asks for
# a unicast answer (5.4), so it still finds the instance within a timeout
# shorter than the one second before its next query.
ns_exec "$NS_C" "$SOCKIT" discover _echo._tcp --timeout 1.5 >"$TMP/first.out" 2>&1 &
FIRST=$!
PIDS+=("$FIRST")
sleep 0.4
qu_before=$(grep -c 'answered .*(unicast, QU)' "$TMP/ann.log" || true)
expect_rc 0 "$IN_C" discover _echo._tcp --timeout 0.9
grep -q '^conform echo ' "$TMP/last.out" || fail "the second querier: $(cat "$TMP/last.out")"
wait "$FIRST" || fail "the first querier: $(cat "$TMP/first.out")"
grep -q '^conform echo ' "$TMP/first.out" || fail "the first querier: $(cat "$TMP/first.out")"
(($(grep -c 'answered .*(unicast, QU)' "$TMP/ann.log" || true) > qu_before)) ||
    fail "the second querier's first query was not answered by unicast: $(tail -5 "$TMP/ann.log")"
pass "a querier right behind another finds the instance: its first query asks for a unicast answer"

# An address added while announced is announced at once (netlink, RFC 6762 8.4).
ip -n "$NS_A" addr add 198.18.0.101/24 dev eth0
for ((i = 0; i < 30; i++)); do
    grep -q 'update "conform echo".*198.18.0.101' "$TMP/watch.out" 2>/dev/null && break
    sleep 0.1
done
grep -q 'update "conform echo".*198.18.0.101' "$TMP/watch.out" || fail "a new address was not announced: $(cat "$TMP/watch.out")"
pass "an address added to the interface is announced at once (discover --watch: update)"

stop_server "$ANN" 0
for ((i = 0; i < 30; i++)); do
    grep -q '^remove "conform echo"' "$TMP/watch.out" 2>/dev/null && break
    sleep 0.1
done
grep -q '^remove "conform echo"' "$TMP/watch.out" || fail "the goodbye: $(cat "$TMP/watch.out")"
kill -TERM "$W"
wait "$W" || fail "discover --watch exit"
kill -TERM "$CW"
wait "$CW" || fail "conformance watcher: $(cat "$TMP/conform.log")"
$PYTHON - "$TMP/verdict.json" >"$TMP/summary" <<'EOP' || fail "conformance: $(cat "$TMP/verdict.json")"
import json, sys
v = json.load(open(sys.argv[1]))
print(json.dumps({k: v[k] for k in ("probes", "probe_gaps_ms", "announcements", "announce_gap_ms", "ttls",
                                    "cache_flush", "goodbye") if k in v}))
sys.exit(0 if v["ok"] and v["first_probe_qu"] else 1)
EOP
# Interfaces: named ones only; an unknown one is named in the error.
expect_rc 1 "$IN_C" discover _echo._tcp --interface nope0 --timeout 1
grep -q "no interface of that name" "$TMP/last.err" || fail "--interface nope0: $(cat "$TMP/last.err")"
expect_rc 1 "$IN_A" serve --listen :0 --announce --interface nope0
grep -q "no interface of that name" "$TMP/last.err" || fail "serve --interface nope0: $(cat "$TMP/last.err")"
expect_rc 2 "$IN_A" serve --listen :0 --txt a=b
expect_rc 2 "$IN_A" serve --listen :0 --announce --txt =b

# serve --json: the responder's states as "mdns" events, in the schema.
"$IN_A" serve --listen :0 --announce "json echo" --json >"$TMP/json.out" 2>"$TMP/json.log" &
JP=$!
PIDS+=("$JP")
for ((i = 0; i < 50; i++)); do
    grep -q '"state":"announce".*"n":2' "$TMP/json.out" && break
    sleep 0.1
done
stop_server "$JP" 0
grep -q '"event":"mdns","state":"goodbye","instance":"json echo"' "$TMP/json.out" || fail "--json: $(cat "$TMP/json.out")"
$PYTHON "$(dirname "$0")/helpers/json_schema_check.py" "$(dirname "$0")/../../docs/schema" serve "$TMP/json.out" \
    --lines --expect listen,mdns,stats >/dev/null || fail "serve --json with --announce: schema"
pass "--interface on both sides; usage errors"
pass "RFC 6762 conformance: probes, announcements, TTLs, cache-flush bits, goodbye: $(cat "$TMP/summary")"
