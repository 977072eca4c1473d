#!/usr/bin/env bash
# A stalled server (SIGSTOP/SIGCONT, or any pause longer than the idle
# timeout) keeps its active clients: 20 echo clients stream through a 5 s
# stop, five times --idle-timeout, and on after it; each gets back every
# byte it sent, with no reset. Idleness is the client's, never the server's
# own pause. Each model is a row of the fault table (tests/fault/rows.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fault/rows.sh"
ABUSE=("$PYTHON" "$(dirname "$0")/helpers/abuse.py")

# The server and, for fork and prefork, the processes serving its clients.
server_procs() { echo "$1" $(ps -o pid= --ppid "$1" 2>/dev/null || true); }

for model in loop thread fork prefork hybrid; do
    args=(--model "$model" --listen 127.0.0.1:0 --service echo --idle-timeout 1s)
    [[ $model == prefork || $model == hybrid ]] && args+=(--workers 2)
    start_server "stall-$model" "${args[@]}"
    fault_begin "SIGSTOP 5 s, SIGCONT (20 clients streaming)" "$model" "$SERVER_PID"
    timeout 60 "${ABUSE[@]}" stream "$SERVER_HOST" "$SERVER_PORT" 20 7 >"$TMP/stream.out" 2>&1 &
    client=$!
    PIDS+=("$client")
    for ((i = 0; i < 200; i++)); do
        grep -qx streaming "$TMP/stream.out" 2>/dev/null && break
        sleep 0.05
    done
    sleep 0.5
    procs=$(server_procs "$SERVER_PID")
    # shellcheck disable=SC2086
    kill -STOP $procs
    sleep 5
    # shellcheck disable=SC2086
    kill -CONT $procs
    wait "$client" || fail "$model: stream client: $(cat "$TMP/stream.out")"
    got=$(tail -n 1 "$TMP/stream.out")
    read -r sent recvd < <(sed -n 's/^bytes sent=\([0-9]*\) got=\([0-9]*\)$/\1 \2/p' "$TMP/stream.out")
    FAULT_SERVED=${got%% *} FAULT_LOST=$((sent - recvd))
    FAULT_SERVED=${FAULT_SERVED#ok=}
    [[ $got == "ok=20/20 " ]] || fail "$model: after a 5 s stop with --idle-timeout 1s: $got"
    fault_end 20/20 "$FAULT_LOST" "every process stopped 5 s (5 x --idle-timeout); no reset, every echo equal by SHA-256"
    stop_server "$SERVER_PID"
    pass "$model: 20 streaming clients kept through a 5 s SIGSTOP (--idle-timeout 1s), every echo complete"
done
