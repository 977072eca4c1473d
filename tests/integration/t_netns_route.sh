#!/usr/bin/env bash
# In namespaces this test creates: a chain A - R - B with forwarding on R.
# trace-route from A to B shows R then B (UDP and ICMP probes, IPv4 and
# IPv6, raw socket and unprivileged error queue); then 30% loss toward B,
# where ping reports loss near it and connect --udp reports lost replies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/netns.sh"
ns_require

ns_add A
ns_add R
ns_add B
ns_link "$NS_A" a0 198.18.1.2/24 fd00:5ec::1:2/112 "$NS_R" r0 198.18.1.1/24 fd00:5ec::1:1/112
ns_link "$NS_R" r1 198.18.2.1/24 fd00:5ec::2:1/112 "$NS_B" b0 198.18.2.2/24 fd00:5ec::2:2/112
ip -n "$NS_A" route add default via 198.18.1.1
ip -n "$NS_A" -6 route add default via fd00:5ec::1:1
ip -n "$NS_B" route add default via 198.18.2.1
ip -n "$NS_B" -6 route add default via fd00:5ec::2:1
ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip netns exec "$NS_A" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
INA=(ip netns exec "$NS_A")
NOBODY=(ip netns exec "$NS_A" setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all)

# Wait until B answers through R (neighbour discovery, routes).
for ((i = 0; i < 50; i++)); do
    "${INA[@]}" ping -c 1 -W 1 -q 198.18.2.2 >/dev/null 2>&1 &&
        "${INA[@]}" ping -c 1 -W 1 -q fd00:5ec::2:2 >/dev/null 2>&1 && break
    sleep 0.1
done

# hops FILE: "ADDR1 ADDR2 ... reached|not-reached" - the first answering
# address of each hop from trace-route --json (plain shell: starting a
# python per check costs seconds on a loaded machine).
hops() {
    local line out=() a
    while IFS= read -r line; do
        if [[ $line == *'"event":"hop"'* ]]; then
            a=$(grep -o '"addr":"[^"]*"' <<<"$line" | head -n1 | cut -d'"' -f4)
            out+=("${a:-*}")
        elif [[ $line == *'"reached":true'* ]]; then
            out+=(reached)
        else
            out+=(not-reached)
        fi
    done <"$1"
    echo "${out[*]}"
}

check_trace() {
    local want=$1
    shift
    expect_rc 0 "$@"
    local got
    got=$(hops "$TMP/last.out")
    [[ $got == "$want" ]] || fail "'$*': hops '$got', wanted '$want'"
}

for mode in "" "--icmp"; do
    for sock in raw dgram; do
        check_trace "198.18.1.1 198.18.2.2 reached" "${INA[@]}" "$SOCKIT" trace-route $mode --socket $sock -w 2 --json 198.18.2.2
        check_trace "fd00:5ec::1:1 fd00:5ec::2:2 reached" "${INA[@]}" "$SOCKIT" trace-route $mode --socket $sock -w 2 --json fd00:5ec::2:2
    done
    check_trace "198.18.1.1 198.18.2.2 reached" "${NOBODY[@]}" "$SOCKIT" trace-route $mode -w 2 --json 198.18.2.2
    grep -q 'socket":"dgram' "$TMP/last.out" || fail "unprivileged trace-route did not use the error queue"
    pass "trace-route ${mode:-(udp)}: A -> R -> B, IPv4 and IPv6, raw and error queue, also as nobody"
done
# The text form: one line per hop, R then B, three times each.
expect_rc 0 "${INA[@]}" "$SOCKIT" trace-route -q 3 -w 2 198.18.2.2
grep -Eq '^ 1  198\.18\.1\.1  [0-9.]+ ms [0-9.]+ ms [0-9.]+ ms$' "$TMP/last.out" || fail "hop 1: $(cat "$TMP/last.out")"
grep -Eq '^ 2  198\.18\.2\.2  [0-9.]+ ms [0-9.]+ ms [0-9.]+ ms$' "$TMP/last.out" || fail "hop 2: $(cat "$TMP/last.out")"
# Nothing past --max-hops; silence is a '*'. A host beyond B is unreachable.
expect_rc 1 "${INA[@]}" "$SOCKIT" trace-route -m 1 -w 1 198.18.2.2
grep -q '^ 1  198.18.1.1' "$TMP/last.out" && ! grep -q '^ 2' "$TMP/last.out" || fail "--max-hops 1: $(cat "$TMP/last.out")"
# 198.18.2.99 has no owner: R's neighbour lookup fails, slower than -w.
expect_rc 1 "${INA[@]}" "$SOCKIT" trace-route -m 3 -q 1 -w 0.5 198.18.2.99
grep -Eq '^ 2  ?\*|!H' "$TMP/last.out" || fail "silent hop not shown as *: $(cat "$TMP/last.out")"
pass "trace-route text output, --max-hops, silence"

# Quiet by default: the socket kind only with -v, or when the raw socket
# it prefers is not allowed (as nobody).
expect_rc 0 "${INA[@]}" "$SOCKIT" trace-route -q 1 -w 2 198.18.2.2
[[ ! -s $TMP/last.err ]] || fail "trace-route wrote to stderr without -v: $(cat "$TMP/last.err")"
expect_rc 0 "${INA[@]}" "$SOCKIT" trace-route -v -q 1 -w 2 198.18.2.2
[[ $(<"$TMP/last.err") == "sockit: trace-route sends UDP probes and reads ICMP errors from a raw socket" ]] ||
    fail "trace-route -v: '$(cat "$TMP/last.err")'"
expect_rc 0 "${NOBODY[@]}" "$SOCKIT" trace-route -q 1 -w 2 198.18.2.2
[[ $(<"$TMP/last.err") == "sockit: trace-route sends UDP probes and reads ICMP errors from the socket error queue (IP_RECVERR, unprivileged)" ]] ||
    fail "trace-route as nobody: '$(cat "$TMP/last.err")'"
pass "trace-route says its socket kind only with -v or when it falls back"

# traceroute habits, the same flags given to both: the same hops.
command -v traceroute >/dev/null || fail "traceroute is missing (tests/install-deps.sh installs it)"
for flags in "-n -q 1 -w 2 -m 5" "-I -n -q 2 -w 2 -m 5"; do
    for dst in 198.18.2.2 fd00:5ec::2:2; do
        # shellcheck disable=SC2086
        expect_rc 0 "${INA[@]}" "$SOCKIT" trace-route $flags "$dst"
        ours=$(awk '/^ *[0-9]+ / { print $1, $2 }' "$TMP/last.out")
        # shellcheck disable=SC2086
        "${INA[@]}" timeout 30 traceroute $flags "$dst" >"$TMP/theirs" 2>&1 || fail "traceroute $flags $dst: $(cat "$TMP/theirs")"
        theirs=$(awk '/^ *[0-9]+ / { print $1, $2 }' "$TMP/theirs")
        [[ $ours == "$theirs" && -n $ours ]] || fail "trace-route $flags $dst: hops '$ours', traceroute '$theirs'"
    done
done
pass "trace-route -n -q -w -m (and -I for ICMP) shows the hops traceroute shows, IPv4 and IPv6"

# ^C during a silent hop: --json still ends with its summary, at once.
"${INA[@]}" "$SOCKIT" trace-route --json -q 1 -w 10 -m 5 198.18.2.99 >"$TMP/int.out" 2>"$TMP/int.err" &
tpid=$!
PIDS+=("$tpid")
for ((i = 0; i < 200; i++)); do grep -q '"event":"hop"' "$TMP/int.out" && break; sleep 0.05; done
grep -q '"event":"hop"' "$TMP/int.out" || fail "trace-route --json showed no hop: $(cat "$TMP/int.out")"
sleep 0.3
start=$(date +%s%N)
kill -INT "$tpid"
rc=0
wait "$tpid" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
((rc == 1 && ms < 2000)) || fail "trace-route after SIGINT: exit $rc after $ms ms"
[[ $(tail -n1 "$TMP/int.out") == '{"event":"summary","host":"198.18.2.99","addr":"198.18.2.99","reached":false,"hops":1,"socket":"raw","proto":"udp","interrupted":true}' ]] ||
    fail "no summary after SIGINT: $(cat "$TMP/int.out")"
pass "SIGINT: trace-route --json prints its summary (interrupted, $ms ms)"

# ping with a TTL that runs out at R: the error is reported per request,
# from a raw socket and (as nobody) from the datagram socket's error queue.
for who in root nobody; do
    run=("${INA[@]}")
    [[ $who == nobody ]] && run=("${NOBODY[@]}")
    for dst in 198.18.2.2 fd00:5ec::2:2; do
        expect_rc 1 "${run[@]}" "$SOCKIT" ping -c 2 -i 0.2 -W 1 -t 1 "$dst"
        grep -Eq '^From (198\.18\.1\.1|fd00:5ec::1:1) icmp_seq=1 Time' "$TMP/last.out" ||
            fail "ping -t 1 $dst as $who: $(cat "$TMP/last.out")"
        grep -q '2 packets transmitted, 0 received, +2 errors, 100% packet loss' "$TMP/last.out" ||
            fail "ping -t 1 $dst as $who summary: $(cat "$TMP/last.out")"
    done
done
pass "ping -t 1: time exceeded from R reported (raw and error queue, IPv4 and IPv6)"

# Loss: 30% of what reaches B is dropped (netem when the kernel has it,
# otherwise an nftables random drop rule inside B).
if tc -n "$NS_B" qdisc add dev b0 root netem loss 30% 2>/dev/null; then
    how="tc netem loss 30% on B's link"
elif ip netns exec "$NS_B" nft -f - <<'NFT' 2>/dev/null; then
table inet loss {
    chain in {
        type filter hook input priority 0;
        meta l4proto { icmp, ipv6-icmp, udp } numgen random mod 100 < 30 drop
    }
}
NFT
    how="nftables 30% random drop in B (no netem in this kernel)"
else
    echo "skip [$TEST_NAME]: neither tc netem nor nftables can drop packets here; loss part not run"
    exit 0
fi
expect_rc 0 "${INA[@]}" "$SOCKIT" ping -q -c 100 -i 0.01 -W 1 198.18.2.2
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$TMP/last.out")
awk -v l="$loss" 'BEGIN { exit !(l != "" && l >= 10 && l <= 55) }' || fail "ping loss '$loss'% not near 30%"
pass "ping -c 100 through $how: $loss% loss"

SOCKIT_SAVED=$SOCKIT
SOCKIT=$(ns_sockit "$NS_B")
start_server lossy --proto udp --service echo --listen 198.18.2.2:0
SOCKIT=$SOCKIT_SAVED
seq 1 50 | sed 's/^/datagram /' >"$TMP/in"
expect_rc 1 "${INA[@]}" "$SOCKIT" connect --udp --expect-reply -t 0.3 "$SERVER_ADDR" <"$TMP/in"
lost=$(sed -n 's/.*: \([0-9]*\) of 50 datagrams got no reply.*/\1/p' "$TMP/last.err")
[[ -n $lost ]] && ((lost >= 5 && lost <= 40)) || fail "connect --udp lost report: $(cat "$TMP/last.err")"
got=$(wc -l <"$TMP/last.out")
((got == 50 - lost)) || fail "connect --udp: $got replies printed but $lost of 50 reported lost"
pass "connect --udp through the lossy link: $lost of 50 reported lost"
stop_server "$SERVER_PID" 0
