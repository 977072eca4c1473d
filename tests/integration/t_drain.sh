#!/usr/bin/env bash
# SIGTERM drains without losing a byte, under every model: the server stops
# accepting and keeps serving the connections it has until each finishes
# or --drain-timeout passes. An echo client in the middle of a transfer
# finishes it and gets back every byte (SHA-256); a client still there at
# the drain timeout is cut, and the cut is counted and reported. Services
# whose connections never end by themselves (an idle http keep-alive
# connection, chargen's stream) end them when the drain starts.
. "$(dirname "$0")/lib.sh"
ABUSE=("$PYTHON" "$(dirname "$0")/helpers/abuse.py")
BYTES=$((8 << 20)) RATE=$((4 << 20))
is_sanitized && BYTES=$((4 << 20)) RATE=$((2 << 20))

# wait_exit PID SECS: wait up to SECS for PID to exit; sets RC to its exit
# code, or "running".
wait_exit() {
    local pid=$1 i
    for ((i = 0; i < $2 * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    RC=running
    kill -0 "$pid" 2>/dev/null && return
    RC=0
    wait "$pid" || RC=$?
}

# wait_ready FILE: wait (up to 10 s) until a hold client wrote "ready".
wait_ready() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -qx ready "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "hold client not ready: $(cat "$1")"
}

for model in loop thread fork prefork hybrid; do
    args=(--model "$model" --listen 127.0.0.1:0 -v)
    [[ $model == prefork || $model == hybrid ]] && args+=(--workers 2)

    # A transfer in flight: SIGTERM lands while the server holds bytes it
    # read and has not echoed yet (the client reads slowly).
    start_server "bulk-$model" "${args[@]}" --service echo --drain-timeout 20s
    rm -f "$TMP/started"
    timeout 60 "${ABUSE[@]}" bulk "$SERVER_HOST" "$SERVER_PORT" "$BYTES" "$RATE" "$TMP/started" >"$TMP/bulk.out" 2>&1 &
    client=$!
    PIDS+=("$client")
    for ((i = 0; i < 100; i++)); do
        [[ -f $TMP/started ]] && break
        sleep 0.05
    done
    sleep 0.3
    kill -TERM "$SERVER_PID"
    wait "$client" || fail "$model: bulk client: $(cat "$TMP/bulk.out")"
    got=$(cat "$TMP/bulk.out")
    [[ $got == "sent=$BYTES got=$BYTES same=yes eof=clean" ]] || fail "$model: echo across SIGTERM: $got"
    wait_exit "$SERVER_PID" 10
    [[ $RC == 0 ]] || fail "$model: server after the drain: $RC"
    grep -q 'drain.*cut' "$TMP/bulk-$model.log" && fail "$model: a connection was cut: $(grep 'drain.*cut' "$TMP/bulk-$model.log")"
    pass "$model: SIGTERM mid-transfer: all $BYTES bytes echoed, clean FIN, exit 0"

    # A client that stays past --drain-timeout is cut, counted and reported.
    start_server "cut-$model" "${args[@]}" --service echo --drain-timeout 1s
    timeout 30 "${ABUSE[@]}" hold "$SERVER_HOST" "$SERVER_PORT" 10 >"$TMP/hold.out" 2>&1 &
    client=$!
    PIDS+=("$client")
    wait_ready "$TMP/hold.out"
    sleep 0.5
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" 8
    [[ $RC == 0 ]] || fail "$model: server with a client past the drain timeout: $RC"
    wait "$client" || true
    got=$(tail -n 1 "$TMP/hold.out")
    [[ $got =~ ^closed\ after\ ([0-9.]+)$ ]] || fail "$model: held client: $got"
    awk -v s="${BASH_REMATCH[1]}" 'BEGIN { exit !(s >= 1.2 && s <= 5) }' ||
        fail "$model: client cut after ${BASH_REMATCH[1]} s, wanted about 1 s"
    log="$TMP/cut-$model.log"
    grep -q '^sockit: drain timeout: cut .* -> ' "$log" || fail "$model: no per-connection cut line: $(cat "$log")"
    grep -q '^sockit: drain: cut 1 connection at the drain timeout' "$log" || fail "$model: no cut summary"
    grep -Eq '^sockit: stats .* cut=1( |$)' "$log" || fail "$model: stats: $(grep stats "$log")"
    pass "$model: a client past --drain-timeout 1s was cut after ${BASH_REMATCH[1]} s, counted and reported"

    for svc in http chargen; do
        start_server "$svc-$model" "${args[@]}" --service "$svc" --drain-timeout 20s
        timeout 30 "${ABUSE[@]}" hold "$SERVER_HOST" "$SERVER_PORT" 10 "$svc" >"$TMP/hold.out" 2>&1 &
        client=$!
        PIDS+=("$client")
        wait_ready "$TMP/hold.out"
        sleep 0.5
        kill -TERM "$SERVER_PID"
        wait_exit "$SERVER_PID" 8
        [[ $RC == 0 ]] || fail "$model: $svc server on SIGTERM: $RC"
        wait "$client" || true
        got=$(tail -n 1 "$TMP/hold.out")
        [[ $got =~ ^closed\ after\ ([0-9.]+)$ ]] || fail "$model: $svc client on a drain: $got"
        awk -v s="${BASH_REMATCH[1]}" 'BEGIN { exit !(s <= 4) }' ||
            fail "$model: $svc client closed after ${BASH_REMATCH[1]} s, wanted at the drain's start (0.5 s)"
        grep -q 'drain.*cut' "$TMP/$svc-$model.log" && fail "$model: $svc connection cut: $(grep cut "$TMP/$svc-$model.log")"
        pass "$model: $svc ends its connection when the drain starts (client closed after ${BASH_REMATCH[1]} s)"
    done
done
