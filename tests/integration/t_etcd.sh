#!/usr/bin/env bash
# sockit serve --register and sockit discover against a private etcd on
# loopback: three servers with weights 1, 2 and 3 appear in etcdctl and in
# discover (table and --json, against docs/schema/discover-etcd.json);
# SIGTERM deletes a key while its server still drains; kill -9 leaves the
# key until the lease's TTL; discover --watch prints the joins and leaves;
# etcd stopped and restarted mid-run makes the server warn, keep serving and
# register again; an unreachable etcd at start is exit 1, bad URLs exit 2.
. "$(dirname "$0")/lib.sh"

SCHEMAS=$(cd "$(dirname "$0")/../../docs/schema" && pwd)
CHECK=$(dirname "$0")/helpers/json_schema_check.py
for tool in etcd etcdctl; do
    command -v "$tool" >/dev/null || fail "$tool is missing (tests/install-deps.sh installs etcd-server and etcd-client)"
done
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || fail "python3-jsonschema is missing (tests/install-deps.sh)"
export ETCDCTL_API=3

# Two free loopback ports (client and peer), probed with bind.
free_ports() {
    "$PYTHON" -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
for s in ss:
    s.close()
'
}
read -r EP PP DEAD < <(free_ports)
URL=etcd://127.0.0.1:$EP/svc

# etcd in the foreground, loopback only, its PID ours to stop.
start_etcd() {
    etcd --name t --data-dir "$TMP/etcd" --listen-client-urls "http://127.0.0.1:$EP" \
        --advertise-client-urls "http://127.0.0.1:$EP" --listen-peer-urls "http://127.0.0.1:$PP" \
        --initial-advertise-peer-urls "http://127.0.0.1:$PP" --initial-cluster "t=http://127.0.0.1:$PP" \
        >>"$TMP/etcd.log" 2>&1 &
    ETCD_PID=$!
    PIDS+=("$ETCD_PID")
    local i
    for ((i = 0; i < 200; i++)); do
        ctl endpoint health >/dev/null 2>&1 && return 0
        kill -0 "$ETCD_PID" 2>/dev/null || fail "etcd exited: $(tail -5 "$TMP/etcd.log")"
        sleep 0.05
    done
    fail "etcd did not become healthy within 10 s"
}
stop_etcd() {
    local i
    kill -TERM "$ETCD_PID"
    for ((i = 0; i < 200; i++)); do
        kill -0 "$ETCD_PID" 2>/dev/null || break
        sleep 0.05
    done
    wait "$ETCD_PID" 2>/dev/null || true
}
ctl() { timeout 10 etcdctl --endpoints="127.0.0.1:$EP" --dial-timeout=2s "$@"; }
keys() { ctl get --prefix /svc/ --keys-only | sed '/^$/d'; }
has_key() { keys | grep -qxF "$1"; }

# wait_exit PID: a server already sent SIGTERM ends (within 10 s) with 0.
wait_exit() {
    local i rc=0
    for ((i = 0; i < 200; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$1" 2>/dev/null && fail "server $1 did not stop within 10 s of SIGTERM"
    wait "$1" || rc=$?
    ((rc == 0)) || fail "server $1 exited $rc, wanted 0"
}

# wait_until SECONDS CMD...: poll CMD every 50 ms; fails after SECONDS.
wait_until() {
    local end=$((SECONDS + $1 + 1)) t0
    shift
    t0=$(date +%s%N)
    while ((SECONDS < end)); do
        if "$@"; then
            WAITED_MS=$((($(date +%s%N) - t0) / 1000000))
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# Bad targets are usage errors; an etcd nobody runs is a runtime error, one line.
expect_rc 2 "$SOCKIT" serve --listen 127.0.0.1:0 --register http://127.0.0.1:2379/svc
grep -q "register wants etcd://" "$TMP/last.err" || fail "serve --register http://: $(cat "$TMP/last.err")"
expect_rc 2 "$SOCKIT" serve --listen 127.0.0.1:0 --register etcd://127.0.0.1:99999/svc
expect_rc 2 "$SOCKIT" serve --listen 127.0.0.1:0 --register "$URL" --register-weight 70000
expect_rc 2 "$SOCKIT" serve --listen 127.0.0.1:0 --register "$URL" --register-ttl soon
# (no operand, or a DNS-SD type, is mDNS browsing: t_mdns_*); not a type:
expect_rc 2 "$SOCKIT" discover echo
expect_rc 2 "$SOCKIT" discover _echo._sctp
expect_rc 2 "$SOCKIT" discover etcd://
expect_rc 2 "$SOCKIT" discover "etcd://[::1/svc"
expect_rc 1 "$SOCKIT" serve --listen 127.0.0.1:0 --register "etcd://127.0.0.1:$DEAD/svc"
[[ $(wc -l <"$TMP/last.err") -eq 1 ]] || fail "unreachable etcd: wanted one line: $(cat "$TMP/last.err")"
grep -q "Connection refused" "$TMP/last.err" || fail "unreachable etcd: $(cat "$TMP/last.err")"
expect_rc 1 "$SOCKIT" discover "etcd://127.0.0.1:$DEAD/svc"
pass "bad URLs exit 2, an unreachable etcd exits 1 with one line"

start_etcd
expect_rc 1 "$SOCKIT" discover "$URL"
grep -q "no instance registered under /svc/" "$TMP/last.err" || fail "discover, empty: $(cat "$TMP/last.err")"

# The watcher first, so it sees every join.
"$SOCKIT" discover --watch --json "$URL" >"$TMP/watch.out" 2>"$TMP/watch.log" &
WATCH_PID=$!
PIDS+=("$WATCH_PID")
wait_until 5 grep -q '"event":"synced"' "$TMP/watch.out" || fail "discover --watch did not sync: $(cat "$TMP/watch.log")"

declare -A PID_OF ADDR_OF
for w in 1 2 3; do
    start_server "s$w" --listen 127.0.0.1:0 --register "$URL" --register-weight "$w" --register-ttl 2s \
        --drain-timeout 3s -v
    PID_OF[$w]=$SERVER_PID
    ADDR_OF[$w]=$SERVER_ADDR
done
for w in 1 2 3; do
    has_key "/svc/${ADDR_OF[$w]}" || fail "etcdctl has no /svc/${ADDR_OF[$w]}: $(keys)"
    ctl get "/svc/${ADDR_OF[$w]}" --print-value-only | grep -q "\"weight\":$w" ||
        fail "the value of /svc/${ADDR_OF[$w]}: $(ctl get "/svc/${ADDR_OF[$w]}")"
    grep -q "registered /svc/${ADDR_OF[$w]} in etcd" "$TMP/s$w.log" || fail "-v: $(cat "$TMP/s$w.log")"
done
pass "three servers registered, etcdctl get --prefix shows them with their weights"

expect_rc 0 "$SOCKIT" discover "$URL"
[[ $(grep -c '/svc/127.0.0.1:' "$TMP/last.out") -eq 3 ]] || fail "discover: $(cat "$TMP/last.out")"
for w in 1 2 3; do
    grep -Eq "^${ADDR_OF[$w]} +$w +loop +echo +/svc/${ADDR_OF[$w]}\$" "$TMP/last.out" ||
        fail "discover: no row for ${ADDR_OF[$w]} weight $w: $(cat "$TMP/last.out")"
done
expect_rc 0 "$SOCKIT" discover --json "$URL"
timeout 60 /usr/bin/python3 "$CHECK" "$SCHEMAS" discover-etcd "$TMP/last.out" --lines --expect instance >/dev/null ||
    fail "discover --json against its schema"
[[ $(grep -c '"event":"instance"' "$TMP/last.out") -eq 3 ]] || fail "discover --json: $(cat "$TMP/last.out")"
pass "discover lists the three (table and --json)"

# connect and bench take the same URL: connect reaches one of them; bench
# spreads 60 connections 10/20/30 by weight and, at a fixed rate, the
# requests too.
got=$(printf 'via etcd\n' | timeout 20 "$SOCKIT" connect -v "$URL" 2>"$TMP/ce.err") || fail "connect $URL: $(cat "$TMP/ce.err")"
[[ $got == "via etcd" ]] || fail "connect $URL echoed '$got'"
grep -q "^sockit: etcd $URL: 3 instances, in the order to try" "$TMP/ce.err" || fail "connect -v: $(cat "$TMP/ce.err")"
timeout 60 "$SOCKIT" bench -c 60 -d 2s --rate 1200 --json "$URL" >"$TMP/be.json" 2>"$TMP/be.err" || fail "bench $URL: $(cat "$TMP/be.err")"
"$PYTHON" - "$TMP/be.json" "${ADDR_OF[1]}" "${ADDR_OF[2]}" "${ADDR_OF[3]}" <<'PY' || fail "bench over etcd: $(cat "$TMP/be.json")"
import json, sys
r = json.load(open(sys.argv[1]))
by = {"%s:%d" % (t["target"], t["port"]): t for t in r["targets"]}
assert r["registry"].startswith("etcd://"), r
for w, addr in zip((1, 2, 3), sys.argv[2:5]):
    t = by[addr]
    assert t["weight"] == w and t["connections"] == 10 * w, t
    share = t["requests"] / r["requests"]
    assert abs(share - w / 6) < 0.1 * w / 6, (addr, share)
PY
timeout 60 /usr/bin/python3 "$CHECK" "$SCHEMAS" bench "$TMP/be.json" >/dev/null || fail "bench --json over etcd against its schema"
pass "connect and bench over etcd://: connections 10/20/30 by weight, requests per instance follow"

# SIGTERM: the key goes before the drain ends (a client holds it open).
"$PYTHON" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(4)
' "${ADDR_OF[1]##*:}" &
HOLD=$!
PIDS+=("$HOLD")
sleep 0.2
kill -TERM "${PID_OF[1]}"
wait_until 1 bash -c "! etcdctl --endpoints=127.0.0.1:$EP get --prefix /svc/ --keys-only | grep -qxF '/svc/${ADDR_OF[1]}'" ||
    fail "SIGTERM: /svc/${ADDR_OF[1]} still there after 1 s"
kill -0 "${PID_OF[1]}" 2>/dev/null || fail "SIGTERM: the server ended before the check (no drain to see)"
wait_exit "${PID_OF[1]}"
grep -q "deregistered /svc/${ADDR_OF[1]}" "$TMP/s1.log" || fail "-v: $(cat "$TMP/s1.log")"
pass "SIGTERM deletes the key at once (${WAITED_MS} ms), while the server still drains"

# kill -9: the lease expires within its TTL (2 s) + 1 s.
kill -KILL "${PID_OF[2]}"
wait "${PID_OF[2]}" 2>/dev/null || true
wait_until 3 bash -c "! etcdctl --endpoints=127.0.0.1:$EP get --prefix /svc/ --keys-only | grep -qxF '/svc/${ADDR_OF[2]}'" ||
    fail "kill -9: /svc/${ADDR_OF[2]} still there 3 s later"
((WAITED_MS <= 3000)) || fail "kill -9: the key took ${WAITED_MS} ms to go"
pass "kill -9: the key is gone with its lease (${WAITED_MS} ms)"

# etcd goes away: the server warns once, keeps serving, registers again.
key3=/svc/${ADDR_OF[3]}
lease_before=$(ctl get "$key3" -w fields | sed -n 's/^"Lease" : //p')
stop_etcd
wait_until 5 grep -q "warning: etcd .*keepalive lost" "$TMP/s3.log" || fail "no warning: $(cat "$TMP/s3.log")"
got=$(printf 'still here\n' | timeout 5 "$SOCKIT" connect "${ADDR_OF[3]}") || fail "echo while etcd is down"
[[ $got == "still here" ]] || fail "echo while etcd is down: '$got'"
sleep 1
[[ $(grep -c "keepalive lost" "$TMP/s3.log") -eq 1 ]] || fail "the warning repeats: $(cat "$TMP/s3.log")"
start_etcd
wait_until 8 grep -q "re-registered $key3" "$TMP/s3.log" || fail "no re-registration: $(cat "$TMP/s3.log")"
has_key "$key3" || fail "$key3 not back: $(keys)"
lease_after=$(ctl get "$key3" -w fields | sed -n 's/^"Lease" : //p')
[[ -n $lease_after && $lease_after != "$lease_before" ]] || fail "lease before $lease_before, after $lease_after"
pass "etcd restarted: the server warned once, kept serving and re-registered"

stop_server "${PID_OF[3]}"
has_key "$key3" && fail "SIGTERM: $key3 still there"
wait_until 5 grep -q "\"event\":\"leave\",\"key\":\"$key3\"" "$TMP/watch.out" || fail "watch: no leave of $key3"
kill -TERM "$WATCH_PID"
rc=0
wait "$WATCH_PID" || rc=$?
((rc == 0)) || fail "discover --watch exited $rc on SIGTERM"
for w in 1 2 3; do
    grep -q "\"event\":\"join\",\"key\":\"/svc/${ADDR_OF[$w]}\"" "$TMP/watch.out" || fail "watch: no join of $w"
    grep -q "\"event\":\"leave\",\"key\":\"/svc/${ADDR_OF[$w]}\"" "$TMP/watch.out" || fail "watch: no leave of $w"
done
grep -q '"event":"lost"' "$TMP/watch.out" && grep -q '"event":"resumed"' "$TMP/watch.out" ||
    fail "watch: etcd's restart not seen: $(cat "$TMP/watch.out")"
timeout 60 /usr/bin/python3 "$CHECK" "$SCHEMAS" discover-etcd "$TMP/watch.out" --lines \
    --expect synced,join,leave,lost,resumed >/dev/null || fail "discover --watch --json against its schema"
pass "discover --watch printed the joins, the leaves and etcd's restart"

# The text form of --watch.
"$SOCKIT" discover --watch "$URL" >"$TMP/watcht.out" 2>"$TMP/watcht.log" &
WT=$!
PIDS+=("$WT")
wait_until 5 grep -q "watching for joins and leaves" "$TMP/watcht.log" || fail "watch (text): $(cat "$TMP/watcht.log")"
start_server s4 --listen 127.0.0.1:0 --register "$URL" --register-ttl 2s
wait_until 5 grep -q "^join /svc/$SERVER_ADDR addr $SERVER_ADDR weight 1 model loop service echo\$" "$TMP/watcht.out" ||
    fail "watch (text): no join: $(cat "$TMP/watcht.out")"
stop_server "$SERVER_PID"
wait_until 5 grep -qx "leave /svc/$SERVER_ADDR" "$TMP/watcht.out" || fail "watch (text): no leave: $(cat "$TMP/watcht.out")"
kill -TERM "$WT"
wait "$WT" || fail "discover --watch (text) exited $? on SIGTERM"
pass "discover --watch (text): join and leave lines"
stop_etcd
