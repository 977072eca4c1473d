#!/usr/bin/env bash
# The training run of a profile-guided build (make build, make test; see
# docs/architecture.md "Builds"): an instrumented sockit serves the loads
# the benchmarks measure, on loopback, with itself as the client, and writes
# its profile when each process exits. About ten seconds in all; every
# server is started here and stopped here by its PID.
#   tools/pgo-train.sh PATH/TO/INSTRUMENTED/sockit
set -euo pipefail
SOCKIT=${1:?usage: tools/pgo-train.sh SOCKIT}
LOG=$(mktemp)
PID=
cleanup() {
    [[ -n $PID ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -f "$LOG"
}
trap cleanup EXIT

# serve ARGS...: start a server on an ephemeral loopback port; sets ADDR.
serve() {
    "$SOCKIT" serve "$@" --listen 127.0.0.1:0 2>"$LOG" &
    PID=$!
    ADDR=
    for _ in $(seq 1 100); do
        ADDR=$(sed -n 's/^sockit: serving .* on \([^ ,]*\)[ ,].*/\1/p' "$LOG" | head -1)
        [[ -n $ADDR ]] && return 0
        sleep 0.05
    done
    echo "pgo-train: the server did not start: $(head -1 "$LOG")" >&2
    return 1
}

# stop: SIGTERM (a clean exit writes the profile); after 10 s SIGKILL, so
# a server that does not finish costs its profile, not a hung build.
stop() {
    kill -TERM "$PID"
    for _ in $(seq 1 200); do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" || true
    PID=
}

load() { timeout 20 "$SOCKIT" bench "$ADDR" "$@" >/dev/null; }

serve --service http --model loop
load --proto http -c100 -d2
load --proto http -c1000 -d1
load --proto http -c10 -d1 --pipeline 8
load --proto http -c50 -d1 --new-conn
stop

serve --service http --model hybrid --workers 2
load --proto http -c100 -d1
stop

serve --service echo --model loop
load --proto echo -c50 -d1
load --proto echo -c50 -d1 --new-conn
stop

serve --service echo --proto udp
load --proto udp -c8 -d1
stop
echo "pgo-train: profile written"
