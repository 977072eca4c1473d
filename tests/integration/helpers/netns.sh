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

# ns_lan HOST...: the hosts on one link, a bridge in a namespace of its own
# (sk-$$-sw, multicast snooping off so every group reaches every port);
# the i-th host gets eth0 with 198.18.0.i/24 and fd00:5ec::i/64, and IPv6
# without duplicate address detection, so link-local addresses work at once.
ns_lan() {
    local i=0 h ns v
    ns_add sw
    ip -n "$NS_sw" link add br0 type bridge mcast_snooping 0 || fail "bridge"
    ip -n "$NS_sw" link set br0 up
    for h in "$@"; do
        i=$((i + 1))
        ns_add "$h"
        v=NS_$h
        ns=${!v}
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
        ip link add eth0 netns "$ns" type veth peer name "p$i" netns "$NS_sw" || fail "veth for $h"
        ip -n "$NS_sw" link set "p$i" master br0 up
        ip -n "$ns" addr add "198.18.0.$i/24" brd + dev eth0
        ip -n "$ns" addr add "fd00:5ec::$i/64" dev eth0 nodad
        ip -n "$ns" link set eth0 up
    done
}

# ns_exec NS CMD... &: run CMD in NS's network namespace in the background
# as the background job itself (nsenter execs, so $! is CMD's own PID and a
# signal sent to it reaches CMD). It execs: never call it in the foreground
# (that replaces the test's shell); use ns_run there.
ns_exec() {
    local ns=$1
    shift
    exec nsenter --net="/run/netns/$ns" -- "$@"
}

# ns_run NS CMD...: run CMD in NS's network namespace and wait for it.
ns_run() {
    local ns=$1
    shift
    nsenter --net="/run/netns/$ns" -- "$@"
}

# ns_wrap NS PROG -> the path of a script that execs PROG inside NS (for
# SOCKIT=..., so start_server and stop_server see sockit's own PID).
ns_wrap() {
    local w="$TMP/in-$1-$(basename "$2")"
    printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s -- %q "$@"\n' "$1" "$2" >"$w"
    chmod +x "$w"
    echo "$w"
}
