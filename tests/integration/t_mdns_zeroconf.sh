#!/usr/bin/env bash
# DNS-SD over mDNS against python3-zeroconf, on a LAN of namespaces this
# test creates (A and B on one bridge; 198.18.0.0/24, fd00:5ec::/64):
# zeroconf registers on B, `sockit discover` on A lists and resolves it
# (name, port, TXT, addresses), enumerates its type, follows it with --watch
# until its goodbye, and `sockit connect mdns:...` reaches it; then sockit
# announces on A under every model and zeroconf browses, resolves it and
# sees the goodbye sent on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/netns.sh"
ns_require
$PYTHON -c 'import zeroconf' 2>/dev/null || {
    echo "skip [$TEST_NAME]: python3-zeroconf is not installed"
    exit 0
}
ZC="$(dirname "$0")/helpers/zc.py"
SCHEMAS="$(dirname "$0")/../../docs/schema"
CHECK="$(dirname "$0")/helpers/json_schema_check.py"

ns_lan A B
IN_A=$(ns_wrap "$NS_A" "$SOCKIT")
IN_B=$(ns_wrap "$NS_B" "$SOCKIT")

# zeroconf registers "zc echo" on B, in front of an echo server there.
SOCKIT=$IN_B start_server echo-b --listen 198.18.0.2:0
ECHO_PORT=$SERVER_PORT
ns_exec "$NS_B" "$PYTHON" "$ZC" register "zc echo" _echo._tcp "$ECHO_PORT" 198.18.0.2 version=1 'note=two words' \
    >"$TMP/zc-reg.log" 2>&1 &
ZC_PID=$!
PIDS+=("$ZC_PID")
for ((i = 0; i < 100; i++)); do
    grep -q registered "$TMP/zc-reg.log" && break
    sleep 0.1
done
grep -q registered "$TMP/zc-reg.log" || fail "zeroconf did not register: $(cat "$TMP/zc-reg.log")"

expect_rc 0 "$IN_A" discover _echo._tcp --timeout 2
grep -q '^zc echo  *_echo._tcp  *zc-host.local  *'"$ECHO_PORT"'  *198.18.0.2 .*version=1 note=two words' "$TMP/last.out" ||
    fail "discover did not list zeroconf's instance: $(cat "$TMP/last.out")"
pass "discover _echo._tcp lists and resolves zeroconf's instance (port, address, TXT)"

expect_rc 0 "$IN_A" discover _echo._tcp --timeout 2 --json
grep -q '"instance":"zc echo"' "$TMP/last.out" || fail "discover --json: $(cat "$TMP/last.out")"
grep -q "\"port\":$ECHO_PORT" "$TMP/last.out" || fail "discover --json port: $(cat "$TMP/last.out")"
grep -q '"txt":\["version=1","note=two words"\]' "$TMP/last.out" || fail "discover --json txt: $(cat "$TMP/last.out")"
grep -q '"interface":"eth0"' "$TMP/last.out" || fail "discover --json interface: $(cat "$TMP/last.out")"
$PYTHON "$CHECK" "$SCHEMAS" discover-mdns "$TMP/last.out" --lines --expect instance || fail "discover --json schema"

expect_rc 0 "$IN_A" discover --timeout 2
grep -qx '_echo._tcp' "$TMP/last.out" || fail "discover (types) did not list _echo._tcp: $(cat "$TMP/last.out")"
pass "discover without a type enumerates _echo._tcp (_services._dns-sd._udp)"

echo "hello over mdns" | expect_rc 0 "$IN_A" connect -v "mdns:zc echo._echo._tcp"
[[ $(cat "$TMP/last.out") == "hello over mdns" ]] || fail "connect mdns:zc echo: $(cat "$TMP/last.out")"
echo "any instance" | expect_rc 0 "$IN_A" connect mdns:_echo._tcp
[[ $(cat "$TMP/last.out") == "any instance" ]] || fail "connect mdns:_echo._tcp: $(cat "$TMP/last.out")"
expect_rc 1 "$IN_A" connect "mdns:nobody._echo._tcp" -t 1
grep -q 'no such instance' "$TMP/last.err" || fail "connect to a missing instance: $(cat "$TMP/last.err")"
expect_rc 2 "$IN_A" connect "mdns:not-a-type"
pass "connect mdns:INSTANCE._echo._tcp and mdns:_echo._tcp reach zeroconf's server"

# --watch: the instance, then its goodbye when zeroconf unregisters.
ns_exec "$NS_A" "$SOCKIT" discover _echo._tcp --watch --json >"$TMP/watch.out" 2>"$TMP/watch.log" &
WATCH=$!
PIDS+=("$WATCH")
for ((i = 0; i < 50; i++)); do
    grep -q '"event":"add"' "$TMP/watch.out" 2>/dev/null && break
    sleep 0.1
done
grep -q '"event":"add".*"zc echo"' "$TMP/watch.out" || fail "watch: no add: $(cat "$TMP/watch.out")"
kill -TERM "$ZC_PID"
t0=$(date +%s%N)
for ((i = 0; i < 50; i++)); do
    grep -q '"event":"remove"' "$TMP/watch.out" 2>/dev/null && break
    sleep 0.1
done
grep -q '"event":"remove".*"zc echo"' "$TMP/watch.out" || fail "watch: no remove after the goodbye: $(cat "$TMP/watch.out")"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 4000)) || fail "the goodbye took $ms ms to show"
kill -TERM "$WATCH"
wait "$WATCH" || fail "discover --watch did not exit 0 on SIGTERM"
$PYTHON "$CHECK" "$SCHEMAS" discover-mdns "$TMP/watch.out" --lines --expect add,remove || fail "watch --json schema"
pass "discover --watch: add, then remove on zeroconf's goodbye (${ms} ms)"

# sockit announces on A under each model; zeroconf on B browses and resolves.
for model in loop thread fork prefork hybrid; do
    SOCKIT=$IN_A start_server "ann-$model" --model "$model" --listen :0 --announce "sockit $model" --txt model="$model" -v
    pid=$SERVER_PID
    port=$SERVER_PORT
    # A file of its own per model: the redirection happens in the child,
    # after the loop below may already have read the file.
    BROWSE=$TMP/zc-browse-$model.out
    : >"$BROWSE"
    # The browser lives longer than the waits below (it is stopped at the
    # end), so its time never runs out before the goodbye.
    ns_exec "$NS_B" "$PYTHON" "$ZC" browse _echo._tcp 30 >"$BROWSE" 2>&1 &
    zb=$!
    PIDS+=("$zb")
    added="\"event\": \"add\", \"name\": \"sockit $model._echo._tcp.local.\", \"port\": $port, \"server\": \"[^\"]*.local.\", \"addrs\": \[[^]]*\"198.18.0.1\""
    for ((i = 0; i < 60; i++)); do
        grep -q "$added\|\"event\": \"unresolved\"" "$BROWSE" && break
        sleep 0.1
    done
    grep -q "$added" "$BROWSE" || fail "$model: zeroconf did not resolve sockit's instance: $(cat "$BROWSE")"
    grep -q "\"fd00:5ec::1\"" "$BROWSE" || fail "$model: no IPv6 address: $(cat "$BROWSE")"
    grep -q "\"txt\": {\"model\": \"$model\"}" "$BROWSE" || fail "$model: TXT: $(cat "$BROWSE")"
    stop_server "$pid" 0
    for ((i = 0; i < 50; i++)); do
        grep -q '"event": "remove"' "$BROWSE" && break
        sleep 0.1
    done
    grep -q "\"event\": \"remove\", \"name\": \"sockit $model._echo._tcp.local.\"" "$BROWSE" ||
        fail "$model: zeroconf saw no goodbye: $(cat "$BROWSE")"
    kill -TERM "$zb" 2>/dev/null
    wait "$zb" 2>/dev/null || true
    grep -q 'mdns: goodbye' "$TMP/ann-$model.log" || fail "$model: no goodbye line: $(cat "$TMP/ann-$model.log")"
done
pass "serve --announce under loop, thread, fork, prefork and hybrid: zeroconf resolves it (port, A, AAAA, TXT) and sees the goodbye"
