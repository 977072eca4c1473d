#!/usr/bin/env bash
# In namespaces this test creates: a two-host LAN C - D. D serves UDP echo
# joined to multicast groups; a broadcast datagram (limited and subnet) and
# a multicast datagram (IPv4 and IPv6) sent from C reach D and get exactly
# one answer (--expect-reply: every reply within the timeout, counted), also
# when D runs the hybrid model with several threads.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/netns.sh"
ns_require

ns_add C
ns_add D
ns_link "$NS_C" c0 198.18.3.1/24 fd00:5ec::3:1/112 "$NS_D" d0 198.18.3.2/24 fd00:5ec::3:2/112
INC=(ip netns exec "$NS_C")
INSIDE_D=$(ns_sockit "$NS_D")
G4=239.5.6.7
G6=ff12::5ec

# answers OUTFILE ERRFILE WANT: the reply text and how many came.
check_one() {
    local what=$1
    [[ $(cat "$TMP/last.out") == "ping $what" ]] || fail "$what: reply '$(cat "$TMP/last.out")'"
    grep -q ' 1 answered, 1 replies, 0 lost' "$TMP/last.err" || fail "$what: not exactly one reply: $(cat "$TMP/last.err")"
}

for model in loop hybrid; do
    SAVED=$SOCKIT
    SOCKIT=$INSIDE_D
    start_server "v4-$model" --proto udp --model "$model" --workers 3 --service echo \
        --join "$G4@d0" --listen 0.0.0.0:0
    p4=$SERVER_PORT
    pid4=$SERVER_PID
    start_server "v6-$model" --proto udp --model "$model" --workers 3 --service echo \
        --join "$G6@d0" --listen '[::]:0'
    p6=$SERVER_PORT
    pid6=$SERVER_PID
    SOCKIT=$SAVED

    # A broadcast needs --broadcast (SO_BROADCAST); without it the kernel refuses.
    echo "ping nobcast" | expect_rc 1 "${INC[@]}" "$SOCKIT" connect --udp -t 0.5 198.18.3.255:"$p4"
    grep -q 'needs --broadcast' "$TMP/last.err" || fail "broadcast without --broadcast: $(cat "$TMP/last.err")"
    echo "ping bcast" | expect_rc 0 "${INC[@]}" "$SOCKIT" connect --udp --expect-reply -v -t 1 --broadcast --interface c0 \
        255.255.255.255:"$p4"
    check_one bcast
    grep -q 'bytes from 198.18.3.2:' "$TMP/last.err" || fail "broadcast reply not from D's address: $(cat "$TMP/last.err")"
    echo "ping subnet" | expect_rc 0 "${INC[@]}" "$SOCKIT" connect --udp --expect-reply -v -t 1 --broadcast 198.18.3.255:"$p4"
    check_one subnet
    echo "ping mcast4" | expect_rc 0 "${INC[@]}" "$SOCKIT" connect --udp --expect-reply -v -t 1 --interface c0 --multicast-ttl 1 \
        "$G4:$p4"
    check_one mcast4
    echo "ping mcast6" | expect_rc 0 "${INC[@]}" "$SOCKIT" connect --udp --expect-reply -v -t 1 --interface c0 "[$G6]:$p6"
    check_one mcast6
    # A group D did not join gets no answer (--expect-reply makes that exit 1).
    echo "ping other" | expect_rc 1 "${INC[@]}" "$SOCKIT" connect --udp --expect-reply -t 0.3 --interface c0 "239.5.6.8:$p4"
    # Unicast still works, from the address it was sent to.
    echo "ping uni" | expect_rc 0 "${INC[@]}" "$SOCKIT" connect --udp --expect-reply -v -t 1 "198.18.3.2:$p4"
    check_one uni
    stop_server "$pid4" 0
    stop_server "$pid6" 0
    pass "$model: limited and subnet broadcast, IPv4 and IPv6 multicast reach D, one reply each"
done

# ping to D's subnet broadcast: refused by the kernel without -b, with a hint
# and no summary; with -b (as iputils) D answers.
ip netns exec "$NS_D" sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0
expect_rc 1 "${INC[@]}" "$SOCKIT" ping -c 1 -W 1 198.18.3.255
[[ $(<"$TMP/last.err") == "sockit: ping: send 198.18.3.255: Permission denied (a broadcast address needs -b, --broadcast)" ]] ||
    fail "ping broadcast without -b: '$(cat "$TMP/last.err")'"
! grep -q 'packets transmitted' "$TMP/last.out" || fail "a ping that sent nothing printed a summary: $(cat "$TMP/last.out")"
expect_rc 0 "${INC[@]}" "$SOCKIT" ping -b -c 2 -i 0.2 -W 1 198.18.3.255
grep -q '^64 bytes from 198.18.3.2: icmp_seq=1 ' "$TMP/last.out" || fail "ping -b: $(cat "$TMP/last.out")"
grep -q '^2 packets transmitted, 2 received' "$TMP/last.out" || fail "ping -b summary: $(cat "$TMP/last.out")"
expect_rc 0 "${INC[@]}" "$SOCKIT" ping --broadcast -c 1 -W 1 -I c0 198.18.3.255
pass "ping to a broadcast address: a hint without -b; with -b / --broadcast D answers"

# Joining a group of the other family, or a non-multicast address, fails clearly.
expect_rc 2 "$SOCKIT" serve --proto udp --join not-an-address --listen 127.0.0.1:0
expect_rc 1 "$INSIDE_D" serve --proto udp --join "$G6@d0" --listen 0.0.0.0:0
# A unicast address is a usage error naming it; an unknown interface is named.
expect_rc 2 "$INSIDE_D" serve --proto udp --join 198.18.3.9 --listen 0.0.0.0:0
[[ $(<"$TMP/last.err") == "sockit: --join 198.18.3.9: not a multicast group address (224.0.0.0/4, ff00::/8) (see 'sockit serve --help')" ]] ||
    fail "--join unicast: '$(cat "$TMP/last.err")'"
expect_rc 1 "$INSIDE_D" serve --proto udp --join "$G4@nosuchif" --listen 0.0.0.0:0
[[ $(<"$TMP/last.err") == "sockit: --join $G4@nosuchif: no interface named 'nosuchif' here" ]] ||
    fail "--join unknown interface: '$(cat "$TMP/last.err")'"
pass "bad --join groups are refused"
