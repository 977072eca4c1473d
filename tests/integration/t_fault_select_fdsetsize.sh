#!/usr/bin/env bash
# select past FD_SETSIZE: connections whose fd does not fit an fd_set are
# refused with a clear warning line, the others keep being served, nothing
# is corrupted (the sanitizer builds check the last part).
. "$(dirname "$0")/lib.sh"
CLIENTS=(python3 "$(dirname "$0")/clients.py")

ulimit -n 4096 2>/dev/null || true
(($(ulimit -n) > 1200)) || { echo "skip: cannot raise RLIMIT_NOFILE above 1200"; exit 0; }

for model in loop hybrid; do
    args=(--model "$model" --backend select)
    [[ $model == hybrid ]] && args+=(--workers 2)
    start_server "$model" "${args[@]}" --service echo --listen 127.0.0.1:0
    pid=$SERVER_PID
    "${CLIENTS[@]}" hold "$SERVER_HOST" "$SERVER_PORT" 1100 1 >"$TMP/hold.out" 2>&1 ||
        fail "$model: hold client: $(cat "$TMP/hold.out")"
    read -r served closed < <(sed -n 's/served=\([0-9]*\) closed=\([0-9]*\)/\1 \2/p' "$TMP/hold.out")
    ((served >= 900)) || fail "$model: only $served of 1100 served"
    ((closed >= 50)) || fail "$model: $closed refused; fds past FD_SETSIZE were not refused"
    grep -q 'file descriptor too large for the select backend (FD_SETSIZE is 1024)' "$TMP/$model.log" ||
        fail "$model: no FD_SETSIZE warning in the log"
    "${CLIENTS[@]}" many "$SERVER_HOST" "$SERVER_PORT" 50 >/dev/null || fail "$model: not serving afterwards"
    stop_server "$pid"
    pass "$model/select: 1100 clients: served=$served refused=$closed with a FD_SETSIZE warning, still serving"
done
