# Helpers shared by the integration tests. Source it first:
#   . "$(dirname "$0")/lib.sh"
# Every server a test starts listens on port 0 (the kernel picks a free
# port) and is stopped by PID when the test exits, pass or fail.
set -euo pipefail

SOCKIT=${SOCKIT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/sockit}
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "/tmp/sockit-${TEST_NAME}.XXXXXX")
PIDS=()

cleanup() {
    local rc=$? running kids
    # Only children still running: a PID that already exited may have been
    # reused by some other process on the machine.
    running=" $(jobs -pr | tr '\n' ' ') "
    for pid in "${PIDS[@]}"; do
        [[ $running == *" $pid "* ]] || continue
        # A wrapper (timeout, a subshell) cannot pass SIGKILL on: its
        # children, read while it still runs, go first.
        kids=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
        kill -KILL "$pid" $kids 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if ((rc != 0)); then
        for f in "$TMP"/*.log; do
            [[ -f $f ]] || continue
            echo "--- $f (last 20 lines)" >&2
            tail -n 20 "$f" >&2
        done
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT

fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    exit 1
}
pass() { echo "ok   [$TEST_NAME]: $*"; }

# Under AddressSanitizer everything is slower; tests scale their loads.
is_sanitized() { [[ -n ${SOCKIT_SANITIZE:-} ]]; }

# start_server NAME ARGS... : start `sockit serve ARGS --listen HOST:0`
# (append your own --listen to override the host), wait for its
# "serving ... on ADDR" line, and set SERVER_PID, SERVER_ADDR (as printed,
# e.g. 127.0.0.1:41234 or [::1]:41234), SERVER_HOST and SERVER_PORT.
start_server() {
    local name=$1
    shift
    local log="$TMP/$name.log"
    "$SOCKIT" serve "$@" 2>"$log" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        if grep -q 'sockit: serving .* on ' "$log" 2>/dev/null; then
            SERVER_ADDR=$(sed -n 's/^sockit: serving .* on \([^ ,]*\)[ ,].*/\1/p' "$log" | head -n1)
            SERVER_PORT=${SERVER_ADDR##*:}
            SERVER_HOST=${SERVER_ADDR%:*}
            SERVER_HOST=${SERVER_HOST#[}
            SERVER_HOST=${SERVER_HOST%]}
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || fail "server $name exited early: $(cat "$log")"
        sleep 0.05
    done
    fail "server $name did not start: $(cat "$log")"
}

# stop_server PID [EXPECTED_RC]: SIGTERM, wait (bounded), check the exit code.
stop_server() {
    local pid=$1 want=${2:-0} rc=0 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && fail "server $pid did not stop within 10 s of SIGTERM"
    wait "$pid" || rc=$?
    ((rc == want)) || fail "server $pid exited $rc, wanted $want"
}

# expect_rc WANT CMD... : run CMD (stdout/stderr to $TMP/last.{out,err}),
# fail unless it exits WANT.
expect_rc() {
    local want=$1 rc=0
    shift
    timeout 30 "$@" >"$TMP/last.out" 2>"$TMP/last.err" || rc=$?
    ((rc == want)) || fail "'$*' exited $rc, wanted $want; stderr: $(cat "$TMP/last.err")"
}

sha() { sha256sum | cut -d' ' -f1; }

# Python for raw-socket clients: the system one when there is one, since a
# version manager's shim (pyenv) can cost seconds per start on a busy host.
PYTHON=python3
[[ -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3
# Tests run the system's tools: Debian's python3 is the one apt's python3-*
# modules belong to, and a version manager's shim in front of it would also
# cost seconds per start.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

# have_tracepoint: whether sockit can read the sock:inet_sock_set_state
# tracepoint here: root, and a tracefs with the event (mounted, or one it
# can mount in a private mount namespace, as sockit does). Not every root
# can (a container without CAP_SYS_ADMIN).
have_tracepoint() {
    [[ $(id -u) -eq 0 ]] || return 1
    local m
    m=$(awk '$3 == "tracefs" {print $2; exit}' /proc/self/mounts)
    [[ -n $m && -e $m/events/sock/inet_sock_set_state ]] && return 0
    unshare -m sh -c 'mount -t tracefs nodev /sys/kernel/tracing && test -e /sys/kernel/tracing/events/sock/inet_sock_set_state' 2>/dev/null
}

# listening_port PID tcp|udp: wait (up to 5 s) until process PID has a
# listening TCP socket / a bound UDP socket, and print its port. For peers
# started on port 0 (socat TCP-LISTEN:0, UDP-RECV:0), so no test guesses a
# free port.
listening_port() {
    local pid=$1 flag=-ltnp i port
    [[ $2 == udp ]] && flag=-lunp
    for ((i = 0; i < 100; i++)); do
        port=$(ss -H "$flag" 2>/dev/null | sed -n "s/^[^ ]* *[0-9]* *[0-9]* *[^ ]*:\([0-9]*\) .*pid=$pid,.*/\1/p" | head -n1)
        [[ -n $port ]] && { echo "$port"; return 0; }
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# "${WITH_HOSTS[@]}" FILE CMD...: run CMD in a private mount namespace
# whose /etc/hosts is FILE (a name with several addresses in a chosen order).
# An array, not a function, so expect_rc and timeout can run it.
# shellcheck disable=SC2016
WITH_HOSTS=(unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"')
