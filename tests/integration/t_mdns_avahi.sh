#!/usr/bin/env bash
# sockit and avahi-daemon on a LAN of namespaces this test creates (A, B, C
# on one bridge). avahi runs on B with a config of its own (enable-dbus=no,
# a static service file), in a mount namespace so its services directory
# and pid file are the test's. Checked: `sockit discover` on A finds and
# resolves avahi's service; `sockit connect mdns:` reaches it; legacy unicast
# queries (drill -p 5353, and the conformance helper) get sockit's records
# right; the conformance check passes against avahi (checking the check) and
# avahi's goodbye removes it from `discover --watch`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/netns.sh"
ns_require
command -v avahi-daemon >/dev/null || {
    echo "skip [$TEST_NAME]: avahi-daemon is not installed"
    exit 0
}
CONFORM="$(dirname "$0")/helpers/mdns_conform.py"

ns_lan A B C
IN_A=$(ns_wrap "$NS_A" "$SOCKIT")
IN_B=$(ns_wrap "$NS_B" "$SOCKIT")

mkdir -p "$TMP/avahi/services" "$TMP/avahi/run"
cat >"$TMP/avahi/avahi.conf" <<'EOC'
[server]
host-name=avahi-b
use-ipv4=yes
use-ipv6=yes
enable-dbus=no
allow-interfaces=eth0
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
EOC
# avahi publishes an echo service; the echo server behind it is sockit's.
SOCKIT=$IN_B start_server echo-b --listen 198.18.0.2:0
cat >"$TMP/avahi/services/echo.service" <<EOC
<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>avahi echo</name>
  <service>
    <type>_echo._tcp</type>
    <port>$SERVER_PORT</port>
    <txt-record>from=avahi</txt-record>
  </service>
</service-group>
EOC

# The conformance check listens on C from before avahi starts.
ns_exec "$NS_C" "$PYTHON" "$CONFORM" watch eth0 "avahi echo._echo._tcp.local" "$TMP/avahi-verdict.json" \
    >"$TMP/conform-avahi.log" 2>&1 &
CW=$!
PIDS+=("$CW")
for ((i = 0; i < 50; i++)); do
    grep -q watching "$TMP/conform-avahi.log" && break
    sleep 0.1
done
nsenter --net="/run/netns/$NS_B" unshare -m sh -c "mount --bind '$TMP/avahi/services' /etc/avahi/services &&
    mount --bind '$TMP/avahi/run' /run && exec avahi-daemon -f '$TMP/avahi/avahi.conf' --no-drop-root --no-chroot \
    --no-rlimits" >"$TMP/avahi.log" 2>&1 &
AVAHI=$!
PIDS+=("$AVAHI")
for ((i = 0; i < 100; i++)); do
    grep -q 'successfully established' "$TMP/avahi.log" && break
    kill -0 "$AVAHI" 2>/dev/null || fail "avahi-daemon exited: $(cat "$TMP/avahi.log")"
    sleep 0.1
done
grep -q 'successfully established' "$TMP/avahi.log" || fail "avahi did not publish: $(cat "$TMP/avahi.log")"

expect_rc 0 "$IN_A" discover _echo._tcp --timeout 2
grep -q "^avahi echo  *_echo._tcp  *avahi-b.local  *$SERVER_PORT  *198.18.0.2.* from=avahi" "$TMP/last.out" ||
    fail "discover did not resolve avahi's service: $(cat "$TMP/last.out")"
echo "via avahi" | expect_rc 0 "$IN_A" connect "mdns:avahi echo._echo._tcp"
[[ $(cat "$TMP/last.out") == "via avahi" ]] || fail "connect mdns:avahi echo: $(cat "$TMP/last.out")"
pass "discover resolves avahi's published service (host, port, address, TXT); connect mdns: reaches it"

# sockit announces on A; queries from avahi's side (B) get its records.
SOCKIT=$IN_A start_server ann --listen :0 --announce "sockit echo" --txt from=sockit -v
ANN_PID=$SERVER_PID
ANN_PORT=$SERVER_PORT
for ((i = 0; i < 50; i++)); do
    grep -q 'announce 2/2' "$TMP/ann.log" && break
    sleep 0.1
done
ns_run "$NS_B" drill -p 5353 @198.18.0.1 "sockit echo._echo._tcp.local" SRV >"$TMP/drill.out" 2>&1 || true
grep -q "^sockit\\\\032echo._echo._tcp.local.	10	IN	SRV	0 0 $ANN_PORT " "$TMP/drill.out" ||
    fail "drill SRV (legacy unicast): $(cat "$TMP/drill.out")"
ns_run "$NS_B" drill -p 5353 @198.18.0.1 _echo._tcp.local PTR >"$TMP/drill.out" 2>&1 || true
grep -q '^_echo._tcp.local.	10	IN	PTR	sockit\\032echo._echo._tcp.local.' "$TMP/drill.out" ||
    fail "drill PTR: $(cat "$TMP/drill.out")"
grep -q '	10	IN	A	198.18.0.1$' "$TMP/drill.out" || fail "drill PTR: no A in the additional section: $(cat "$TMP/drill.out")"
ns_run "$NS_B" drill -p 5353 @198.18.0.1 "sockit echo._echo._tcp.local" TXT >"$TMP/drill.out" 2>&1 || true
grep -q '	10	IN	TXT	"from=sockit"' "$TMP/drill.out" || fail "drill TXT: $(cat "$TMP/drill.out")"
pass "legacy unicast queries from avahi's namespace (drill -p 5353) get sockit's PTR, SRV, TXT and A, TTL 10"

# avahi's side of the conformance check, and its goodbye in discover --watch.
ns_run "$NS_C" "$PYTHON" "$CONFORM" legacy eth0 _echo._tcp.local PTR >"$TMP/legacy.json" ||
    fail "legacy unicast rules: $(cat "$TMP/legacy.json")"
ns_exec "$NS_A" "$SOCKIT" discover _echo._tcp --watch >"$TMP/watch.out" 2>"$TMP/watch.log" &
W=$!
PIDS+=("$W")
for ((i = 0; i < 50; i++)); do
    grep -q '^add "avahi echo"' "$TMP/watch.out" 2>/dev/null && break
    sleep 0.1
done
grep -q '^add "avahi echo"' "$TMP/watch.out" || fail "watch: avahi's service: $(cat "$TMP/watch.out")"
kill -TERM "$AVAHI"
wait "$AVAHI" || true
for ((i = 0; i < 30; i++)); do
    grep -q '^remove "avahi echo"' "$TMP/watch.out" 2>/dev/null && break
    sleep 0.1
done
grep -q '^remove "avahi echo"' "$TMP/watch.out" || fail "avahi's goodbye not seen: $(cat "$TMP/watch.out")"
kill -TERM "$CW"
wait "$CW" || fail "conformance watcher: $(cat "$TMP/conform-avahi.log")"
$PYTHON - "$TMP/avahi-verdict.json" <<'EOP' || fail "the conformance check fails avahi: $(cat "$TMP/avahi-verdict.json")"
import json, sys
v = json.load(open(sys.argv[1]))
sys.exit(0 if v["ok"] else 1)
EOP
pass "the conformance check passes avahi (probes, announcements, TTLs, cache-flush, goodbye); avahi's goodbye seen by discover --watch"
kill -TERM "$W"
wait "$W" || fail "discover --watch exit"
stop_server "$ANN_PID" 0
