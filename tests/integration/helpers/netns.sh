# Network namespace helpers for the integration tests. Source after lib.sh.
# Namespaces are named sk-$$-NAME (unique per test run) and are deleted on
# exit, pass or fail, after the processes the test started are killed.
# Addresses used inside: 198.18.0.0/15 and fd00:5ec::/64 only.
NETNS=()

ns_exit() {
    local rc=$?
    set +e
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    PIDS=()
    for ns in "${NETNS[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    (exit "$rc")
    cleanup
}
trap ns_exit EXIT

# Skip the whole test (exit 0 with a message) when namespaces are not allowed.
ns_require() {
    local probe="sk-$$-probe"
    if ! ip netns add "$probe" 2>/dev/null; then
        echo "skip [$TEST_NAME]: 'ip netns add' is not permitted here (needs root / CAP_SYS_ADMIN)"
        exit 0
    fi
    ip netns del "$probe"
}

# ns_add NAME: create sk-$$-NAME with lo up; sets NS_<NAME>.
ns_add() {
    local ns="sk-$$-$1"
    ip netns add "$ns" || fail "ip netns add $ns"
    NETNS+=("$ns")
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
    printf -v "NS_$1" '%s' "$ns"
}

# ns_link NS1 IF1 ADDR4/LEN ADDR6/LEN NS2 IF2 ADDR4/LEN ADDR6/LEN: a veth pair.
ns_link() {
    local n1=$1 i1=$2 a1=$3 b1=$4 n2=$5 i2=$6 a2=$7 b2=$8
    ip link add "$i1" netns "$n1" type veth peer name "$i2" netns "$n2" || fail "veth $i1-$i2"
    ip -n "$n1" addr add "$a1" brd + dev "$i1"
    ip -n "$n2" addr add "$a2" brd + dev "$i2"
    ip -n "$n1" addr add "$b1" dev "$i1" nodad
    ip -n "$n2" addr add "$b2" dev "$i2" nodad
    ip -n "$n1" link set "$i1" up
    ip -n "$n2" link set "$i2" up
}

# A sockit wrapper that runs inside namespace NS: ns_sockit NS -> path.
ns_sockit() {
    local w="$TMP/sockit-in-$1"
    printf '#!/bin/sh\nexec ip netns exec %s %q "$@"\n' "$1" "$SOCKIT" >"$w"
    chmod +x "$w"
    echo "$w"
}
