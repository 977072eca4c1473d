#!/usr/bin/env bash
# Every --json output against its schema in docs/schema (draft 7, no
# undocumented keys, required keys present), from real runs on loopback:
# serve with connections that open, send, get refused and close; bench;
# a small sweep with one skipped backend; ping to 127.0.0.1 and ::1;
# trace-route to 127.0.0.1; connect -z over ports this test holds; resolve
# of a service name. The checker also wants every schema key named in
# docs/json.md, and must reject a line with a key renamed, dropped or added.
. "$(dirname "$0")/lib.sh"

SCHEMAS=$(cd "$(dirname "$0")/../../docs/schema" && pwd)
CHECK=$(dirname "$0")/helpers/json_schema_check.py
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
    fail "/usr/bin/python3 has no jsonschema (tests/install-deps.sh installs python3-jsonschema)"
check() { timeout 60 /usr/bin/python3 "$CHECK" "$SCHEMAS" "$@" || fail "schema check $*"; }

# serve: one client sends and closes, one holds the only slot (--max-conns 1)
# while a third is refused; -v -v adds the data events.
"$SOCKIT" serve --service echo --listen 127.0.0.1:0 --max-conns 1 -v -v --json >"$TMP/serve.out" 2>"$TMP/serve.log" &
spid=$!
PIDS+=("$spid")
for ((i = 0; i < 100; i++)); do
    grep -q '"event":"listen"' "$TMP/serve.out" 2>/dev/null && break
    sleep 0.05
done
port=$(sed -n 's/.*"addr":"127.0.0.1:\([0-9]*\)".*/\1/p' "$TMP/serve.out" | head -n1)
[[ -n $port ]] || fail "serve --json gave no listen event: $(cat "$TMP/serve.out")"
timeout 20 /usr/bin/python3 - "$port" <<'PY' || fail "serve clients"
import socket, sys, time
addr = ("127.0.0.1", int(sys.argv[1]))
a = socket.create_connection(addr, timeout=5)
a.sendall(b"hello\n")
got = b""
while len(got) < 6:
    got += a.recv(64)
a.close()
time.sleep(0.2)  # a's close is seen before b takes the slot
b = socket.create_connection(addr, timeout=5)
b.sendall(b"x")
b.recv(1)
c = socket.create_connection(addr, timeout=5)  # over --max-conns: accepted, then closed
c.settimeout(5)
assert c.recv(1) == b""
c.close()
b.close()
PY
sleep 0.2
stop_server "$spid"
check serve "$TMP/serve.out" --lines --expect listen,open,data,close,reject,stats
pass "serve --json: listen, open, data, reject, close, stats"

# bench against a server of its own.
start_server echo --service echo --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" -c 2 -d 1 --json
check bench "$TMP/last.out"
cp "$TMP/last.out" "$TMP/bench.json"
pass "bench --json"
# The other workloads: one request per connection (with the kernel's
# counters), held connections, several processes from several sources.
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" -c 2 -d 0.5 --new-conn --json
check bench "$TMP/last.out"
grep -q '"kernel":{' "$TMP/last.out" || fail "bench --new-conn --json has no kernel object: $(cat "$TMP/last.out")"
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" -c 4 -d 0.5 --idle 100ms --procs 2 --source 127.0.0.2-127.0.0.3 --json
check bench "$TMP/last.out"
grep -q '"idle":{.*"source_addrs":2' "$TMP/last.out" || grep -q '"source_addrs":2.*"idle":{' "$TMP/last.out" ||
    fail "bench --idle --source --json: $(cat "$TMP/last.out")"
pass "bench --json with --new-conn, --idle, --procs and --source"
stop_server "$SERVER_PID"
start_server udp --proto udp --service echo --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" --proto udp -c 2 -d 0.5 --json
check bench "$TMP/last.out"
grep -q '"datagrams":{' "$TMP/last.out" || fail "bench --proto udp --json has no datagrams: $(cat "$TMP/last.out")"
pass "bench --proto udp --json"
stop_server "$SERVER_PID"

# sweep: one model, one connection count, and a backend that cannot start.
expect_rc 0 "$SOCKIT" bench --sweep --json -d 0.3 --conns 1 --models loop --backends epoll,nosuch --out "$TMP/sweep"
check bench-sweep "$TMP/last.out"
check bench-sweep "$TMP/sweep/results.json"
check bench-sweep "$SCHEMAS/../sweep/http/results.json" # the recorded sweep performance.md shows
/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r["runs"]) == 1 and len(r["skipped"]) == 1, r' \
    "$TMP/last.out" || fail "sweep: wanted one run and one skip: $(cat "$TMP/last.out")"
pass "bench --sweep --json and results.json (a run and a skip)"
# A sweep of held connections: its runs carry the server's memory.
expect_rc 0 "$SOCKIT" bench --sweep --json --workload idle --idle 100ms -d 1.2 --conns 2 --models loop --out "$TMP/sweepi"
check bench-sweep "$TMP/last.out"
grep -q '"workload":"idle"' "$TMP/last.out" && grep -q '"server_rss_kb":[1-9]' "$TMP/last.out" ||
    fail "sweep --workload idle --json: $(cat "$TMP/last.out")"
pass "bench --sweep --workload idle --json"

for host in 127.0.0.1 ::1; do
    expect_rc 0 "$SOCKIT" ping -c 2 -i 0.1 --json "$host"
    check ping "$TMP/last.out" --lines --expect reply,summary
    pass "ping --json $host"
done

expect_rc 0 "$SOCKIT" trace-route --json -w 1 127.0.0.1
check trace-route "$TMP/last.out" --lines --expect hop,summary
expect_rc 0 "$SOCKIT" trace-route --icmp -q 1 --json -w 1 127.0.0.1
check trace-route "$TMP/last.out" --lines --expect hop,summary
pass "trace-route --json 127.0.0.1 (udp and icmp probes)"

# connect -z: two ports held by this test, one listening, one only bound.
/usr/bin/python3 - "$TMP/ports" <<'PY' &
import os, socket, sys, time
lis = socket.socket()
lis.bind(("127.0.0.1", 0))
lis.listen(8)
shut = socket.socket()
shut.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write("%d %d\n" % (lis.getsockname()[1], shut.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(30)
PY
PIDS+=($!)
for ((i = 0; i < 100; i++)); do
    [[ -s $TMP/ports ]] && break
    sleep 0.05
done
read -r lport cport <"$TMP/ports" || fail "port holder did not start"
expect_rc 0 "$SOCKIT" connect -z --json -w 500ms 127.0.0.1 "$lport,$cport"
check connect-scan "$TMP/last.out" --lines --expect port
cp "$TMP/last.out" "$TMP/scan.out"
grep -q '"state":"open"' "$TMP/last.out" && grep -q '"state":"closed"' "$TMP/last.out" ||
    fail "connect -z: wanted an open and a closed port: $(cat "$TMP/last.out")"
pass "connect -z --json (open and closed)"

# resolve: a service name, answered by the services database alone (no DNS
# query leaves the machine; t_resolve covers DNS against a local server).
expect_rc 0 "$SOCKIT" resolve --json echo
check resolve "$TMP/last.out"
grep -q '"source":"services"' "$TMP/last.out" || fail "resolve echo: $(cat "$TMP/last.out")"
pass "resolve --json echo"

# The checker itself: a key renamed, a key dropped, a key added, each fails.
bad() {
    local name=$1 file=$2 what=$3 expr=$4
    /usr/bin/python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).readline()); $expr; print(json.dumps(r))" \
        "$file" >"$TMP/bad.json"
    if /usr/bin/python3 "$CHECK" "$SCHEMAS" "$name" "$TMP/bad.json" --lines 2>"$TMP/bad.err" >/dev/null; then
        fail "the checker accepted $name with $what: $(cat "$TMP/bad.json")"
    fi
}
head -n1 "$TMP/scan.out" >"$TMP/port.json"
bad connect-scan "$TMP/port.json" "elapsed_ms renamed" 'r["time_ms"] = r.pop("elapsed_ms")'
bad connect-scan "$TMP/port.json" "state dropped" 'del r["state"]'
bad connect-scan "$TMP/port.json" "an undocumented key" 'r["extra"] = 1'
bad connect-scan "$TMP/port.json" "no event" 'del r["event"]'
/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["latency_us"]["p95"] = 1; print(json.dumps(r))' \
    "$TMP/bench.json" >"$TMP/bad.json"
/usr/bin/python3 "$CHECK" "$SCHEMAS" bench "$TMP/bad.json" 2>/dev/null >/dev/null &&
    fail "the checker accepted bench with an undocumented latency_us.p95"
pass "the checker refuses a renamed, missing or undocumented key"
