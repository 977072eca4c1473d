#!/usr/bin/env bash
# RLIMIT_NOFILE: every command raises its soft limit to the hard one at
# start (servers, their prefork workers, bench, ping), and bench with more
# connections than the hard limit allows says so before connecting and
# exits 2 instead of reporting a run made of connect errors.
. "$(dirname "$0")/lib.sh"
command -v prlimit >/dev/null || fail "prlimit is missing (util-linux)"

# soft_limit PID: the soft "Max open files" of PID.
soft_limit() { awk '/^Max open files/ { print $4 }' "/proc/$1/limits"; }

# A server started with soft 64, hard 4096 runs with 4096; so do its
# prefork workers.
for model in loop prefork; do
    SOCKIT_REAL=$SOCKIT
    SOCKIT=$TMP/limited
    printf '#!/bin/sh\nexec prlimit --nofile=64:4096 %q "$@"\n' "$SOCKIT_REAL" >"$SOCKIT"
    chmod +x "$SOCKIT"
    start_server "lim-$model" --model "$model" --workers 2 --service echo --listen 127.0.0.1:0
    SOCKIT=$SOCKIT_REAL
    [[ $(soft_limit "$SERVER_PID") == 4096 ]] || fail "serve --model $model kept soft limit $(soft_limit "$SERVER_PID")"
    if [[ $model == prefork ]]; then
        for ((i = 0; i < 100; i++)); do (($(pgrep -c -P "$SERVER_PID" || true) >= 2)) && break; sleep 0.05; done
        for w in $(pgrep -P "$SERVER_PID"); do
            [[ $(soft_limit "$w") == 4096 ]] || fail "prefork worker $w has soft limit $(soft_limit "$w")"
        done
    fi
    stop_server "$SERVER_PID"
done
pass "serve (loop, prefork and its workers) started with 64:4096 runs with a soft limit of 4096"

# ping, while it runs.
prlimit --nofile=64:4096 "$SOCKIT" ping -c 20 -i 0.1 127.0.0.1 >"$TMP/ping.out" 2>&1 &
ppid=$!
PIDS+=("$ppid")
for ((i = 0; i < 100; i++)); do grep -q '^PING' "$TMP/ping.out" && break; sleep 0.05; done
[[ $(soft_limit "$ppid") == 4096 ]] || fail "ping kept soft limit $(soft_limit "$ppid")"
kill -INT "$ppid"
wait "$ppid" || fail "ping exited $?"
pass "ping started with 64:4096 runs with 4096"

start_server echo --service echo -v --listen 127.0.0.1:0
# bench: 200 connections fit once the soft limit is raised to the hard one.
expect_rc 0 prlimit --nofile=64:4096 "$SOCKIT" bench -c 200 -d 0.5 --json "$SERVER_ADDR"
python3 - "$TMP/last.out" <<'PY' || fail "bench -c 200 with 64:4096: $(cat "$TMP/last.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["connections"] == 200 and r["connects"] >= 200, r
assert all(v == 0 for v in r["errors"].values()), r["errors"]
assert r["requests"] > 200, r
PY
pass "bench -c 200 under 64:4096: 200 connections, no connect errors"

# ... and do not fit under a hard limit of 64: refused before connecting.
opens=$(grep -c '^sockit: open ' "$TMP/echo.log" || true)
for how in prlimit ulimit; do
    if [[ $how == prlimit ]]; then
        expect_rc 2 prlimit --nofile=64:64 "$SOCKIT" bench -c 200 -d 2 "$SERVER_ADDR"
    else
        expect_rc 2 bash -c 'ulimit -n 64 && exec "$0" bench -c 200 -d 2 "$1"' "$SOCKIT" "$SERVER_ADDR"
    fi
    [[ $(<"$TMP/last.err") == "sockit: 200 connections need about 218 file descriptors, but RLIMIT_NOFILE allows 64 (hard limit 64): lower -c or raise the limit (ulimit -n) (see 'sockit bench --help')" ]] ||
        fail "bench -c 200 under a hard limit of 64 ($how): '$(cat "$TMP/last.err")'"
    [[ ! -s $TMP/last.out ]] || fail "bench printed a report for a run it refused: $(cat "$TMP/last.out")"
done
expect_rc 2 prlimit --nofile=64:64 "$SOCKIT" bench --sweep --conns 1,100 -d 0.5 --out "$TMP/sweep"
grep -q '^sockit: 100 connections need about 118 file descriptors, but RLIMIT_NOFILE allows 64' "$TMP/last.err" ||
    fail "sweep over the limit: '$(cat "$TMP/last.err")'"
[[ ! -e $TMP/sweep ]] || fail "a refused sweep created its output folder"
sleep 0.2
[[ $(grep -c '^sockit: open ' "$TMP/echo.log" || true) == "$opens" ]] || fail "a refused bench still connected"
pass "bench -c 200 (prlimit and ulimit -n 64) and a sweep to 100 under a hard limit of 64: exit 2 before connecting"
stop_server "$SERVER_PID"
