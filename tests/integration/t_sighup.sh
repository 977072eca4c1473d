#!/usr/bin/env bash
# SIGHUP drains like SIGTERM and exits 0, under every model: the signal a
# closing terminal sends to every process of its group (here: the server
# and, for fork and prefork, its children) must not lose a byte of an echo
# transfer in flight, and the log says why the server stopped. Each model
# is a row of the fault table (tests/fault/rows.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fault/rows.sh"
ABUSE=("$PYTHON" "$(dirname "$0")/helpers/abuse.py")
BYTES=$((8 << 20)) RATE=$((4 << 20))
is_sanitized && BYTES=$((4 << 20)) RATE=$((2 << 20))

for model in loop thread fork prefork hybrid; do
    args=(--model "$model" --listen 127.0.0.1:0 --service echo --drain-timeout 20s)
    [[ $model == prefork || $model == hybrid ]] && args+=(--workers 2)
    start_server "hup-$model" "${args[@]}"
    sleep 0.1 # prefork: the workers are up before the baseline
    fault_begin "SIGHUP ($((BYTES >> 20)) MiB echo in flight)" "$model" "$SERVER_PID"
    rm -f "$TMP/started"
    timeout 60 "${ABUSE[@]}" bulk "$SERVER_HOST" "$SERVER_PORT" "$BYTES" "$RATE" "$TMP/started" >"$TMP/bulk.out" 2>&1 &
    client=$!
    PIDS+=("$client")
    for ((i = 0; i < 100; i++)); do
        [[ -f $TMP/started ]] && break
        sleep 0.05
    done
    sleep 0.2
    # shellcheck disable=SC2046
    kill -HUP "$SERVER_PID" $(ps -o pid= --ppid "$SERVER_PID" 2>/dev/null || true)
    wait "$client" || fail "$model: bulk client: $(cat "$TMP/bulk.out")"
    got=$(cat "$TMP/bulk.out")
    recvd=$(sed -n 's/.* got=\([0-9]*\) .*/\1/p' <<<"$got")
    FAULT_LOST=$((BYTES - ${recvd:-0}))
    [[ $got == "sent=$BYTES got=$BYTES same=yes eof=clean" ]] || fail "$model: echo across SIGHUP: $got"
    fault_measure
    rc=0
    for ((i = 0; i < 200; i++)); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$SERVER_PID" 2>/dev/null && fail "$model: still running 10 s after its last client left"
    wait "$SERVER_PID" || rc=$?
    ((rc == 0)) || fail "$model: exit $rc after SIGHUP, wanted 0"
    grep -q '^sockit: SIGHUP: draining' "$TMP/hup-$model.log" || fail "$model: no SIGHUP line in the log"
    fault_write yes 1/1 "$FAULT_LOST" "SIGHUP to every server process mid-transfer: drained, echo equal by SHA-256, exit 0"
    pass "$model: SIGHUP mid-transfer: drained, all $BYTES bytes echoed, exit 0"
done
