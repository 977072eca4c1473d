#!/usr/bin/env bash
# models: loop thread fork prefork hybrid
# Peers that vanish: two clients in a network namespace, one streaming (it
# writes as fast as the server takes and reads slowly, so the server always
# has output in flight) and one idle after its first echo; then their link
# is deleted: no FIN, no RST, ever. The server (--keepalive 1,1,2
# --idle-timeout 4s) must drop both: the idle one by keepalive (about
# 3 s), the streaming one, whose unacknowledged output keeps keepalive
# quiet, by the idle timeout (4 s: a connection waiting for room to write
# is idle). Both within 8 s; then 20 normal clients are served.
. "$(dirname "$0")/lib.sh"
. "$FAULT_DIR/../integration/helpers/netns.sh"
ns_require
ns_add S
ns_add C
ns_link "$NS_S" s0 198.18.8.1/24 fd00:5ec::8:1/112 "$NS_C" c0 198.18.8.2/24 fd00:5ec::8:2/112
INSIDE_S=$(ns_sockit "$NS_S")
SOCKIT=$INSIDE_S start_server "vanish-$MODEL" "${MODEL_ARGS[@]}" --service echo --keepalive 1,1,2 \
    --idle-timeout 4s -v --listen 0.0.0.0:0
sleep 0.2 # prefork: the workers are up before the baseline
fault_begin "peers vanish mid-transfer (link deleted)" "$ROW_MODEL" "$SERVER_PID"
ip netns exec "$NS_C" "${FAULT_PY[@]}" vanish 198.18.8.1 "$SERVER_PORT" >"$TMP/stream.out" 2>&1 &
PIDS+=($!)
ip netns exec "$NS_C" "$PYTHON" -c '
import socket, sys, time
c = socket.create_connection(("198.18.8.1", int(sys.argv[1])), 5)
c.sendall(b"x\n"); assert c.recv(8) == b"x\n"
print("up", flush=True); time.sleep(30)
' "$SERVER_PORT" >"$TMP/idle.out" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 200; i++)); do
    grep -q up "$TMP/stream.out" && grep -q up "$TMP/idle.out" && break
    sleep 0.05
done
grep -q up "$TMP/stream.out" && grep -q up "$TMP/idle.out" || fail "the clients did not connect"
sleep 0.5
# The server's side of each: the streaming one has output queued.
conns=$(ip netns exec "$NS_S" ss -Htn state established "( sport = :$SERVER_PORT )")
(($(wc -l <<<"$conns") == 2)) || fail "wanted 2 connections to watch: $conns"
busy=$(awk '$2 > 0 {sub(".*:", "", $4); print $4}' <<<"$conns")
idle=$(awk '$2 == 0 {sub(".*:", "", $4); print $4}' <<<"$conns")
[[ -n $busy && -n $idle ]] || fail "wanted one connection with output queued and one without: $conns"
# peer_gone PORT: the server has no connection from the client's PORT.
peer_gone() { ! ip netns exec "$NS_S" ss -Htn state established "( sport = :$SERVER_PORT and dport = :$1 )" | grep -q .; }
ip -n "$NS_C" link del c0
t0=$(date +%s%N) t_busy="" t_idle=""
for ((i = 0; i < 160; i++)); do
    ms=$((($(date +%s%N) - t0) / 1000000))
    [[ -z $t_busy ]] && peer_gone "$busy" && t_busy=$ms
    [[ -z $t_idle ]] && peer_gone "$idle" && t_idle=$ms
    [[ -n $t_busy && -n $t_idle ]] && break
    sleep 0.05
done
[[ -n $t_busy ]] || fail "the streaming peer's connection still there 8 s after its link was deleted"
[[ -n $t_idle ]] || fail "the idle peer's connection still there 8 s after its link was deleted"
((t_idle >= 1500)) || fail "the idle peer dropped after $t_idle ms: before keepalive could have decided"
ip netns exec "$NS_S" "$PYTHON" "$FAULT_DIR/../integration/clients.py" many 127.0.0.1 "$SERVER_PORT" 20 >/dev/null ||
    fail "not serving after the peers vanished"
fault_end "20/20 after" - "streaming peer dropped $t_busy ms after its link went, idle peer $t_idle ms"
stop_server "$SERVER_PID"
pass "$ROW_MODEL: streaming peer dropped after $t_busy ms, idle peer after $t_idle ms; 20 served after"
