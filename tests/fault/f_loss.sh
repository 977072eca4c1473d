#!/usr/bin/env bash
# models: loop thread fork prefork hybrid
# 64 MiB (16 under sanitizers) echoed over TCP through 10% packet loss: a
# client and the server in two network namespaces joined by a veth pair,
# where nftables drops one packet in ten at random on each side's input
# (data and ACKs, both ways). The veth ends hand over packets of one
# segment (gso_max_size 1448), so the loss is per segment, not per 64 KiB
# GSO packet. The echo must come back whole (SHA-256) and end with a clean
# FIN, within 60 s.
. "$(dirname "$0")/lib.sh"
. "$FAULT_DIR/../integration/helpers/netns.sh"
BYTES=$((64 << 20))
is_sanitized && BYTES=$((16 << 20))
ns_require
ns_add S
ns_add C
ns_link "$NS_S" s0 198.18.6.1/24 fd00:5ec::6:1/112 "$NS_C" c0 198.18.6.2/24 fd00:5ec::6:2/112
ip -n "$NS_S" link set s0 gso_max_size 1448 || fail "gso_max_size"
ip -n "$NS_C" link set c0 gso_max_size 1448 || fail "gso_max_size"
for ns in "$NS_S" "$NS_C"; do
    ip netns exec "$ns" nft -f - <<'NFT' || fail "nft in $ns"
table inet loss {
    chain in {
        type filter hook input priority 0;
        numgen random mod 10 0 counter drop
    }
}
NFT
done
INSIDE_S=$(ns_sockit "$NS_S")
SOCKIT=$INSIDE_S start_server "loss-$MODEL" "${MODEL_ARGS[@]}" --service echo --listen 198.18.6.1:0
sleep 0.2 # prefork: the workers are up before the baseline
fault_begin "$((BYTES >> 20)) MiB echo through 10% loss (netns, nftables)" "$ROW_MODEL" "$SERVER_PID"
got=$(timeout 90 ip netns exec "$NS_C" "${FAULT_PY[@]}" bulk 198.18.6.1 "$SERVER_PORT" "$BYTES" 60) ||
    fail "bulk client: $got"
recvd=$(field got "$got")
FAULT_SERVED=0/1 FAULT_LOST=$((BYTES - ${recvd:-0}))
[[ $got == "sent=$BYTES got=$BYTES same=yes eof=clean "* ]] || fail "echo through 10% loss: $got"
FAULT_SERVED=1/1
dropped=0
for ns in "$NS_S" "$NS_C"; do
    n=$(ip netns exec "$ns" nft list chain inet loss in | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
    dropped=$((dropped + ${n:-0}))
done
((dropped > BYTES / 1448 / 20)) || fail "only $dropped packets dropped: the loss did not apply"
retrans=$(ip netns exec "$NS_S" nstat -az TcpRetransSegs | awk '$1 == "TcpRetransSegs" {print $2}')
fault_end 1/1 "$FAULT_LOST" "$dropped packets dropped, $retrans segments retransmitted by the server; $(field secs "$got") s"
stop_server "$SERVER_PID"
pass "$ROW_MODEL: $got; $dropped packets dropped"
