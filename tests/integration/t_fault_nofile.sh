#!/usr/bin/env bash
# fd exhaustion: with RLIMIT_NOFILE at 64 and 200 clients connecting at
# once, every model keeps serving the clients it has, refuses the rest
# cleanly, burns no CPU while blocked (no accept busy loop) and recovers.
. "$(dirname "$0")/lib.sh"
CLIENTS=(python3 "$(dirname "$0")/clients.py")

# CPU ticks (utime + stime) of PID and its children.
cpu_ticks() {
    local total=0 p t
    for p in "$1" $(pgrep -P "$1" || true); do
        t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
        total=$((total + ${t:-0}))
    done
    echo "$total"
}

# Wait (at most ~4 s) until the server is settled: the same number of
# established connections and of child processes for 0.3 s. Before that it
# is still working (a fork per connection is slow under sanitizers).
settle() {
    local last="" now i
    for ((i = 0; i < 14; i++)); do
        now="$(ss -Htn state established "( sport = :$SERVER_PORT )" | wc -l) $(pgrep -P "$1" | wc -l || true)"
        [[ $now == "$last" ]] && return 0
        last=$now
        sleep 0.3
    done
}

hz=$(getconf CLK_TCK)
for spec in loop:epoll loop:uring loop:select thread:- fork:- prefork:epoll hybrid:epoll; do
    model=${spec%:*} backend=${spec#*:}
    args=(--model "$model")
    [[ $backend != - ]] && args+=(--backend "$backend")
    [[ $model == prefork || $model == hybrid ]] && args+=(--workers 2)
    tag=$model${backend/#-/}
    [[ $backend != - ]] && tag=$model-$backend
    start_server "$tag" "${args[@]}" --service echo -v --listen 127.0.0.1:0
    pid=$SERVER_PID
    sleep 0.1 # prefork: let the workers start, so they get the limit too
    for p in "$pid" $(pgrep -P "$pid" || true); do
        prlimit --pid "$p" --nofile=64:64
    done

    "${CLIENTS[@]}" hold "$SERVER_HOST" "$SERVER_PORT" 200 4 >"$TMP/hold.out" 2>&1 &
    hold=$!
    PIDS+=("$hold")
    sleep 0.5
    settle "$pid"
    t0=$(cpu_ticks "$pid")
    sleep 1
    t1=$(cpu_ticks "$pid")
    wait "$hold" || fail "$tag: hold client: $(cat "$TMP/hold.out")"
    read -r served closed < <(sed -n 's/served=\([0-9]*\) closed=\([0-9]*\)/\1 \2/p' "$TMP/hold.out")
    ((served + closed == 200)) || fail "$tag: hold: $(cat "$TMP/hold.out")"
    ((served >= 20)) || fail "$tag: only $served of 200 clients served at 64 fds"
    # Blocked at the fd limit, the server waits: well under 30% of a core.
    used=$((t1 - t0))
    ((used * 100 < 30 * hz)) || fail "$tag: $used CPU ticks in 1 s while at the fd limit (busy loop?)"

    # Recovered: the held connections are gone, new clients are served.
    "${CLIENTS[@]}" many "$SERVER_HOST" "$SERVER_PORT" 30 >/dev/null || fail "$tag: not serving after fd exhaustion"
    stop_server "$pid"
    rejected=$(sed -n 's/^sockit: stats .*rejected=\([0-9]*\).*/\1/p' "$TMP/$tag.log")
    if [[ $model != fork ]]; then
        # fork's parent holds one fd per connection only briefly.
        ((closed > 0 && rejected > 0)) || fail "$tag: no refusals at 64 fds (closed=$closed rejected=$rejected)"
    fi
    pass "$tag: 64 fds, 200 clients: served=$served refused=$closed, $used ticks/s while blocked, recovered"
done
