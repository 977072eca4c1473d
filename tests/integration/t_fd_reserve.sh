#!/usr/bin/env bash
# At the fd limit every accepting thread can still refuse: with 64 fds, the
# table filled by held connections, rounds of 2,000 clients connecting at
# once each get an echo or a clean refusal (FIN or RST), none is left in a
# listener's queue. hybrid's loop threads share one fd table: before they
# accepted under one lock, one thread's accept could take the slot another
# had just freed to refuse a client, that thread lost its spare fd and its
# listener's queue hung (hundreds of clients, for as long as the table
# stayed full). fork is not run: its parent holds each connection's fd only
# until the fork, so it never sits at the limit (t_fault_nofile covers it).
. "$(dirname "$0")/lib.sh"
ABUSE=("$PYTHON" "$(dirname "$0")/helpers/abuse.py")

secs=10
is_sanitized && secs=20
for spec in loop thread prefork:2 hybrid:2 hybrid:4; do
    model=${spec%:*}
    args=(--model "$model")
    [[ $spec == *:* ]] && args+=(--workers "${spec#*:}")
    tag=${spec/:/-}
    start_server "$tag" "${args[@]}" --service echo --listen 127.0.0.1:0
    sleep 0.1 # prefork: let the workers start, so they get the limit too
    for p in "$SERVER_PID" $(pgrep -P "$SERVER_PID" || true); do
        prlimit --pid "$p" --nofile=64:64
    done
    timeout $((3 * secs + 30)) "${ABUSE[@]}" flood "$SERVER_HOST" "$SERVER_PORT" 100 2000 3 "$secs" >"$TMP/$tag.out" ||
        fail "$tag: flood client failed: $(cat "$TMP/$tag.out")"
    read -r held served refused hanging rounds < <(sed -n \
        's/held=\([0-9]*\) served=\([0-9]*\) refused=\([0-9]*\) hanging=\([0-9]*\) rounds=\([0-9]*\)/\1 \2 \3 \4 \5/p' \
        "$TMP/$tag.out")
    [[ -n ${hanging:-} ]] || fail "$tag: flood: $(cat "$TMP/$tag.out")"
    ((hanging == 0)) || fail "$tag: $hanging clients of round $rounds neither served nor refused within $secs s" \
        "($(ss -Hltn "( sport = :$SERVER_PORT )" | awk '{printf "%s queued; ", $2}'))"
    ((served + refused == 6000)) || fail "$tag: served $served + refused $refused != 6000"
    ((held >= 20)) || fail "$tag: only $held connections held at 64 fds"
    # The held ones are gone: the server serves again.
    "$PYTHON" "$(dirname "$0")/clients.py" many "$SERVER_HOST" "$SERVER_PORT" 20 >/dev/null ||
        fail "$tag: not serving after the floods"
    stop_server "$SERVER_PID"
    pass "$tag: 64 fds, $held held, 3 x 2000 clients: served=$served refused=$refused, none hanging"
done
