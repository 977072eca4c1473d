#!/usr/bin/env bash
# The overload policies under every model where they apply, each seen from
# real clients and in its counter (docs/reliability.md):
#   --max-conns-per-ip: 127.0.0.2 past its limit refused, 127.0.0.3 served;
#   --on-max-conns reject (closed at once) / queue (waits in the backlog,
#     ss shows it, served once a slot frees);
#   --min-rate: a chargen client that never reads and an http head trickled
#     a byte at a time are closed; a reading client, a client asking every
#     300 ms and an idle one are not;
#   --on-fd-limit spare-fd (closed at once) / pause-accept (waits, then
#     served), with the server's fd limit at 64 (not fork: its parent never
#     sits at the limit);
#   the kernel's listen-queue overflows in the stats and the exit summary.
. "$(dirname "$0")/lib.sh"
OV=("$PYTHON" "$(dirname "$0")/helpers/overload.py")

# The counter NAME in the server's exit stats line (0 when absent).
counter() {
    local v
    v=$(sed -n "s/^sockit: stats .*[ ]$2=\([0-9]*\).*/\1/p" "$TMP/$1.log" | tail -n1)
    echo "${v:-0}"
}

# Bad values: one line, exit 2.
for bad in "--on-max-conns drop" "--on-fd-limit wait" "--max-conns-per-ip -1" "--min-rate 1000" \
    "--min-rate 0,1s" "--min-rate 1000,10ms" "--service http --stats-table all" "--service http --stats-rate x" \
    "--on-max-conns queue" "--proto udp --max-conns-per-ip 2" "--proto udp --min-rate 1000,1s"; do
    rc=0
    # shellcheck disable=SC2086
    "$SOCKIT" serve $bad --listen 127.0.0.1:0 2>"$TMP/bad.err" || rc=$?
    ((rc == 2)) || fail "serve $bad: exit $rc, not 2"
    (($(wc -l <"$TMP/bad.err") == 1)) || fail "serve $bad: more than one line: $(cat "$TMP/bad.err")"
done
pass "bad policy values: one line, exit 2"

minrate_secs=4
is_sanitized && minrate_secs=6
for spec in loop thread fork prefork:2 hybrid:2; do
    model=${spec%:*}
    args=(--model "$model")
    [[ $spec == *:* ]] && args+=(--workers "${spec#*:}")
    tag=${spec/:/-}

    start_server "$tag-perip" "${args[@]}" --max-conns-per-ip 2 -v --listen 127.0.0.1:0
    timeout 60 "${OV[@]}" perip "$SERVER_HOST" "$SERVER_PORT" 2 >"$TMP/out" || fail "$tag: per-ip: $(cat "$TMP/out")"
    stop_server "$SERVER_PID"
    (($(counter "$tag-perip" per_ip_refused) >= 1)) || fail "$tag: per_ip_refused not counted"
    grep -q 'reject: 127.0.0.2:[0-9]*: at --max-conns-per-ip' "$TMP/$tag-perip.log" || fail "$tag: no per-ip reject line"
    pass "$tag: $(cat "$TMP/out")"

    for policy in reject queue; do
        start_server "$tag-$policy" "${args[@]}" --max-conns 3 --on-max-conns "$policy" -v --listen 127.0.0.1:0
        timeout 60 "${OV[@]}" maxconns "$SERVER_HOST" "$SERVER_PORT" 3 "$policy" >"$TMP/out" ||
            fail "$tag: --on-max-conns $policy: $(cat "$TMP/out")"
        stop_server "$SERVER_PID"
        if [[ $policy == reject ]]; then
            (($(counter "$tag-$policy" max_conns_refused) >= 1)) || fail "$tag: max_conns_refused not counted"
        else
            (($(counter "$tag-$policy" max_conns_paused) >= 1)) || fail "$tag: max_conns_paused not counted"
            (($(counter "$tag-$policy" max_conns_refused) == 0)) || fail "$tag: queue refused a client"
        fi
        pass "$tag: $(cat "$TMP/out")"
    done

    start_server "$tag-chargen" "${args[@]}" --service chargen --min-rate 10000,1s -v --listen 127.0.0.1:0
    timeout 60 "${OV[@]}" minrate "$SERVER_HOST" "$SERVER_PORT" "$minrate_secs" chargen >"$TMP/out" ||
        fail "$tag: min-rate chargen: $(cat "$TMP/out")"
    stop_server "$SERVER_PID"
    (($(counter "$tag-chargen" slow_closed) == 1)) || fail "$tag: chargen: slow_closed is not 1"
    grep -q 'min-rate: closed .*, a slow reader' "$TMP/$tag-chargen.log" || fail "$tag: no slow reader line"
    pass "$tag: $(cat "$TMP/out")"

    start_server "$tag-http" "${args[@]}" --service http --head-timeout 0 --min-rate 1000,1s -v --listen 127.0.0.1:0
    timeout 60 "${OV[@]}" minrate "$SERVER_HOST" "$SERVER_PORT" "$minrate_secs" http >"$TMP/out" ||
        fail "$tag: min-rate http: $(cat "$TMP/out")"
    stop_server "$SERVER_PID"
    (($(counter "$tag-http" slow_closed) == 1)) || fail "$tag: http: slow_closed is not 1"
    grep -q 'min-rate: closed .*, a slow writer' "$TMP/$tag-http.log" || fail "$tag: no slow writer line"
    pass "$tag: $(cat "$TMP/out")"

    [[ $model == fork ]] && continue
    for policy in spare-fd pause-accept; do
        start_server "$tag-$policy" "${args[@]}" --on-fd-limit "$policy" -v --listen 127.0.0.1:0
        sleep 0.1 # prefork: let the workers start, so they get the limit too
        for p in "$SERVER_PID" $(pgrep -P "$SERVER_PID" || true); do
            prlimit --pid "$p" --nofile=64:64
        done
        # prefork: a listener per worker, but under pause-accept one shared
        # listener, so a worker out of descriptors leaves its queue to the others.
        if [[ $model == prefork ]]; then
            nl=$(ss -Hltn "sport = :$SERVER_PORT" | wc -l)
            want=2
            [[ $policy == pause-accept ]] && want=1
            ((nl == want)) || fail "$tag: --on-fd-limit $policy: $nl listening sockets, wanted $want"
        fi
        timeout 120 "${OV[@]}" fdlimit "$SERVER_HOST" "$SERVER_PORT" "$policy" >"$TMP/out" ||
            fail "$tag: --on-fd-limit $policy: $(cat "$TMP/out")"
        stop_server "$SERVER_PID"
        if [[ $policy == spare-fd ]]; then
            (($(counter "$tag-$policy" fd_limit_refused) >= 1)) || fail "$tag: fd_limit_refused not counted"
        else
            (($(counter "$tag-$policy" fd_limit_paused) >= 1)) || fail "$tag: fd_limit_paused not counted"
            (($(counter "$tag-$policy" fd_limit_refused) == 0)) || fail "$tag: pause-accept refused a client"
        fi
        pass "$tag: $(cat "$TMP/out")"
    done
done

# Listen-queue overflow: one slot, queued, a backlog of 1: connection
# attempts past the accept queue are dropped by the kernel, counted in
# TcpExt ListenOverflows and reported at exit.
start_server overflow --max-conns 1 --on-max-conns queue --backlog 1 -v --listen 127.0.0.1:0
exec 5<>"/dev/tcp/$SERVER_HOST/$SERVER_PORT"
timeout 20 "${OV[@]}" overflow "$SERVER_HOST" "$SERVER_PORT" 20 >/dev/null || fail "overflow client"
exec 5>&-
stop_server "$SERVER_PID"
(($(counter overflow listen_overflows) >= 1)) || fail "listen_overflows not counted: $(grep stats "$TMP/overflow.log")"
grep -q '^sockit: listen queue: [1-9][0-9]* overflows, [0-9]* drops' "$TMP/overflow.log" ||
    fail "no listen queue line at exit: $(cat "$TMP/overflow.log")"
pass "listen overflows: $(grep '^sockit: listen queue' "$TMP/overflow.log")"
