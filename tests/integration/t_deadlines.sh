#!/usr/bin/env bash
# Every deadline holds under every model: 20 silent connections filling
# --max-conns 20 are closed by --idle-timeout (echo) or answered 408 by
# http's --head-timeout and closed, so 5 normal clients are served within
# seconds instead of being locked out. (The drain deadline: t_drain.)
. "$(dirname "$0")/lib.sh"
ABUSE=("$PYTHON" "$(dirname "$0")/helpers/abuse.py")
WINDOW=8
is_sanitized && WINDOW=16

for model in loop thread fork prefork hybrid; do
    args=(--model "$model" --max-conns 20 --listen 127.0.0.1:0)
    [[ $model == prefork || $model == hybrid ]] && args+=(--workers 2)

    start_server "idle-$model" "${args[@]}" --service echo --idle-timeout 1s
    got=$(timeout 60 "${ABUSE[@]}" silent "$SERVER_HOST" "$SERVER_PORT" 20 5 echo "$WINDOW")
    [[ $got =~ ^served=5/5\ .*silent_closed=20\  ]] || fail "$model: echo --idle-timeout 1s: $got"
    stop_server "$SERVER_PID"
    pass "$model: echo --idle-timeout 1s closed 20 silent connections; 5 clients served ($got)"

    start_server "head-$model" "${args[@]}" --service http --head-timeout 1s
    got=$(timeout 60 "${ABUSE[@]}" silent "$SERVER_HOST" "$SERVER_PORT" 20 5 http "$WINDOW")
    [[ $got =~ ^served=5/5\ .*silent_closed=20\ got408=20$ ]] || fail "$model: http --head-timeout 1s: $got"
    stop_server "$SERVER_PID"
    pass "$model: http --head-timeout 1s answered 408 to 20 silent connections; 5 clients served ($got)"
done
