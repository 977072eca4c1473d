#!/usr/bin/env bash
# --max-conns and --idle-timeout under every model: clients beyond the limit
# are closed at once and counted, the others served; idle clients closed.
. "$(dirname "$0")/lib.sh"
CLIENTS=(python3 "$(dirname "$0")/clients.py")

for model in loop thread fork prefork hybrid; do
    args=(--model "$model")
    [[ $model == prefork || $model == hybrid ]] && args+=(--workers 2)

    start_server "max-$model" "${args[@]}" --max-conns 5 --service echo -v --listen 127.0.0.1:0
    pid=$SERVER_PID
    # 8 clients, started 50 ms apart, each holding its connection 1.5 s.
    "${CLIENTS[@]}" hold "$SERVER_HOST" "$SERVER_PORT" 8 1.5 0.05 >"$TMP/hold.out" 2>&1 ||
        fail "$model: hold: $(cat "$TMP/hold.out")"
    grep -qx 'served=5 closed=3' "$TMP/hold.out" || fail "$model: max-conns 5 with 8 clients: $(cat "$TMP/hold.out")"
    # The limit frees up as clients leave.
    "${CLIENTS[@]}" many "$SERVER_HOST" "$SERVER_PORT" 5 >/dev/null || fail "$model: not serving after the limit"
    stop_server "$pid"
    rejected=$(sed -n 's/^sockit: stats .*rejected=\([0-9]*\).*/\1/p' "$TMP/max-$model.log")
    ((rejected == 3)) || fail "$model: stats rejected=$rejected, wanted 3"
    pass "$model: --max-conns 5: 5 served, 3 refused and counted"

    start_server "idle-$model" "${args[@]}" --idle-timeout 1 --service echo --listen 127.0.0.1:0
    pid=$SERVER_PID
    got=$("${CLIENTS[@]}" idle "$SERVER_HOST" "$SERVER_PORT" 5)
    [[ $got =~ ^closed\ after\ ([0-9.]+)s$ ]] || fail "$model: idle client: $got"
    secs=${BASH_REMATCH[1]}
    awk -v s="$secs" 'BEGIN { exit !(s >= 0.9 && s <= 2.5) }' || fail "$model: idle client closed after ${secs}s"
    # A client that keeps talking is not idle.
    got=$( (for i in 1 2 3; do echo "line $i"; sleep 0.6; done) | timeout 10 "$SOCKIT" connect "$SERVER_ADDR" | wc -l)
    ((got == 3)) || fail "$model: an active client lost lines ($got of 3)"
    stop_server "$pid"
    pass "$model: --idle-timeout 1 closed an idle client after ${secs}s, kept an active one"
done
