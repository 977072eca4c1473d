#!/usr/bin/env bash
# models: loop thread fork prefork hybrid
# SIGTERM under load: 20 echo clients each stream 1 KiB every 10 ms for
# 3 s; 1 s in, the server gets SIGTERM. It stops accepting and serves them
# on: each finishes, half-closes and must get back every byte it sent
# (SHA-256), no connection is cut, the server exits 0 with its drain line.
# (t_drain: one client reading slowly, the drain timeout's cut, services
# that end their connections on a drain.)
. "$(dirname "$0")/lib.sh"
N=20
start_server "sigterm-$MODEL" "${MODEL_ARGS[@]}" --service echo --drain-timeout 10s --listen 127.0.0.1:0
sleep 0.2 # prefork: the workers are up before the baseline
fault_begin "SIGTERM under load ($N clients streaming)" "$ROW_MODEL" "$SERVER_PID"
timeout 60 "${ABUSE[@]}" stream "$SERVER_HOST" "$SERVER_PORT" "$N" 3 >"$TMP/stream.out" 2>&1 &
client=$!
PIDS+=("$client")
for ((i = 0; i < 200; i++)); do
    grep -qx streaming "$TMP/stream.out" 2>/dev/null && break
    sleep 0.05
done
sleep 1
kill -TERM "$SERVER_PID"
wait "$client" || fail "stream client: $(cat "$TMP/stream.out")"
got=$(tail -n 1 "$TMP/stream.out")
bytes=$(grep '^bytes ' "$TMP/stream.out" || true)
sent=$(field sent "$bytes") recvd=$(field got "$bytes")
FAULT_LOST=$((sent - recvd)) FAULT_SERVED=${got%% *}
FAULT_SERVED=${FAULT_SERVED#ok=}
[[ $got == "ok=$N/$N " ]] || fail "echo across SIGTERM: $got"
for ((i = 0; i < 200; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
done
fault_measure
kill -0 "$SERVER_PID" 2>/dev/null && fail "still running 10 s after its clients left"
rc=0
wait "$SERVER_PID" || rc=$?
((rc == 0)) || fail "exit $rc after SIGTERM, wanted 0"
log=$TMP/sigterm-$MODEL.log
grep -q '^sockit: SIGTERM: draining' "$log" || fail "no SIGTERM line in the log"
grep -q 'drain.*cut' "$log" && fail "a connection was cut: $(grep 'drain.*cut' "$log")"
fault_write yes "$FAULT_SERVED" "$FAULT_LOST" "$((sent >> 10)) KiB echoed across the drain, SHA-256 per client; no cut, exit 0"
pass "$ROW_MODEL: $N clients, $sent bytes each way across SIGTERM, exit 0"
