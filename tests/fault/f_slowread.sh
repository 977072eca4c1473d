#!/usr/bin/env bash
# models: loop thread fork prefork hybrid
# Slow readers: 100 echo clients each write up to 32 MiB and never read
# the echo. The server must stop reading them once their output is full
# (each gets at most its buffers' worth in, the rest waits in their own
# socket), keep its RSS bounded (at most 64 MiB above the start, 128 under
# sanitizers; fork: 8 MiB a connection process, 16 under sanitizers, as
# the sum counts each process's shared pages), serve 20 normal echo clients
# (256 KiB each, SHA-256) meanwhile, and close the slow readers at
# --idle-timeout 2s (a connection waiting for room to write is idle).
. "$(dirname "$0")/lib.sh"
N=100 BYTES=$((32 << 20)) M=20 LIMIT=$((64 << 10))
[[ $MODEL == fork ]] && LIMIT=$((N * (8 << 10)))
is_sanitized && [[ $MODEL == fork ]] && LIMIT=$((N * (16 << 10)))
is_sanitized && [[ $MODEL != fork ]] && LIMIT=$((128 << 10))
start_server "slowread-$MODEL" "${MODEL_ARGS[@]}" --service echo --idle-timeout 2s --listen 127.0.0.1:0
sleep 0.2 # prefork: the workers are up before the baseline
fault_begin "slow readers, $N x 32 MiB unread" "$ROW_MODEL" "$SERVER_PID"
timeout 60 "${FAULT_PY[@]}" slowread "$SERVER_HOST" "$SERVER_PORT" "$N" "$BYTES" "$M" >"$TMP/slow.out" 2>&1 &
client=$!
PIDS+=("$client")
for ((i = 0; i < 400; i++)); do
    grep -q '^pushed=' "$TMP/slow.out" && break
    kill -0 "$client" 2>/dev/null || break
    sleep 0.05
done
got=$(head -n 1 "$TMP/slow.out")
[[ $got == pushed=* ]] || fail "slowread client: $(cat "$TMP/slow.out")"
FAULT_SERVED=$(field served "$got") FAULT_LOST=$(field lost "$got")
[[ $FAULT_SERVED == "$M/$M" && $FAULT_LOST == 0 ]] || fail "normal clients beside $N slow readers: $got"
[[ $(field stalled "$got") == "$N/$N" ]] || fail "the server kept taking the slow readers' data: $got"
# Closed at the idle timeout while the client still holds them.
for ((i = 0; i < 120; i++)); do
    (($(established "$SERVER_PORT") == 0)) && break
    sleep 0.05
done
left=$(established "$SERVER_PORT")
((left == 0)) || fail "$left of $N slow readers still connected 6 s after they stopped reading (--idle-timeout 2s)"
fault_measure
grow=$((FAULT_PEAK - FAULT_BEFORE))
((grow <= LIMIT)) || fail "RSS grew by $grow KiB (limit $LIMIT KiB) with $N slow readers: $got"
fault_end "$FAULT_SERVED" "$FAULT_LOST" \
    "$(($(field pushed "$got") >> 20)) MiB written into the sockets and the server before every slow reader stalled; all closed at the 2 s idle timeout"
stop_server "$SERVER_PID"
pass "$MODEL: $got; RSS +$grow KiB; slow readers closed by the idle timeout"
