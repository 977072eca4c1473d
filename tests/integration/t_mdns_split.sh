#!/usr/bin/env bash
# connect mdns: when a host's two address records come apart. On a LAN of
# namespaces (A, B), a scripted responder on B (helpers/mdns_split.py)
# answers for "split echo._echo._tcp" with the SRV, TXT and AAAA records at
# once and the A record 150 ms later, in a packet of its own; the echo
# server behind it listens on B's IPv4 address only. `sockit connect
# mdns:...` on A must wait for the A record and reach the server over IPv4
# (stopping at the first address, it would dial only fd00:5ec::2 and be
# refused). Then the host has no A record at all and the server listens on
# IPv6 only: connect gives up waiting for IPv4 and reaches it over IPv6.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/netns.sh"
ns_require
SPLIT="$(dirname "$0")/helpers/mdns_split.py"

ns_lan A B

IN_A=$(ns_wrap "$NS_A" "$SOCKIT")
IN_B=$(ns_wrap "$NS_B" "$SOCKIT")

# start_split V4 V6 DELAY: the responder on B, for the server's port.
start_split() {
    : >"$TMP/split.log"
    ns_exec "$NS_B" "$PYTHON" "$SPLIT" eth0 "split echo" split-b "$SERVER_PORT" "$1" "$2" "$3" \
        >"$TMP/split.log" 2>&1 &
    SPLIT_PID=$!
    PIDS+=("$SPLIT_PID")
    for ((i = 0; i < 50; i++)); do
        grep -q answering "$TMP/split.log" && return 0
        kill -0 "$SPLIT_PID" 2>/dev/null || fail "mdns_split.py exited: $(cat "$TMP/split.log")"
        sleep 0.1
    done
    fail "mdns_split.py did not start: $(cat "$TMP/split.log")"
}

# 1. AAAA first, A 150 ms later; the server on IPv4 only.
SOCKIT=$IN_B start_server echo4 --service echo --listen 198.18.0.2:0
start_split 198.18.0.2 fd00:5ec::2 150
for i in 1 2 3; do
    echo "over ipv4 $i" | expect_rc 0 "$IN_A" connect "mdns:split echo._echo._tcp"
    [[ $(cat "$TMP/last.out") == "over ipv4 $i" ]] || fail "connect mdns: (A after AAAA): $(cat "$TMP/last.out") $(cat "$TMP/last.err"); responder: $(cat "$TMP/split.log")"
done
grep -q "^A$" "$TMP/split.log" || fail "the responder never sent its late A record: $(cat "$TMP/split.log")"
kill "$SPLIT_PID"
wait "$SPLIT_PID" 2>/dev/null || true
stop_server "$SERVER_PID"
pass "A record 150 ms after the AAAA, server on IPv4 only: connect mdns: waited for it and got the echo, 3 of 3"

# 2. No A record at all; the server on IPv6 only.
SOCKIT=$IN_B start_server echo6 --service echo --listen "[fd00:5ec::2]:0"
start_split - fd00:5ec::2 0
echo "over ipv6" | expect_rc 0 "$IN_A" connect "mdns:split echo._echo._tcp"
[[ $(cat "$TMP/last.out") == "over ipv6" ]] || fail "connect mdns: (AAAA only): $(cat "$TMP/last.out") $(cat "$TMP/last.err")"
stop_server "$SERVER_PID"
pass "AAAA only, server on IPv6 only: connect mdns: stopped waiting for IPv4 and got the echo"
