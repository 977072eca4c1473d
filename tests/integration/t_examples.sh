#!/usr/bin/env bash
# examples/: installed like any user would get the library, built with their
# own Makefile against the installed headers and libsockit.so through
# pkg-config, and run against real peers with exact replies: echo_server
# probed by nc and socat, custom_service under every model, loop_client
# against `sockit serve --service echo` on every event backend, and its
# refused-connect and timeout paths.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SOCKIT_BUILD:-$(dirname "$SOCKIT")}
PREFIX="$TMP/prefix"
cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 || fail "cmake --install: $(tail -5 "$TMP/install.log")"
LIBDIR=$(cd "$(dirname "$(find "$PREFIX" -name sockit.pc | head -n1)")/.." && pwd)
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"

# A copy, so nothing but the installed headers and library can be found and
# the source tree gets no binaries.
cp -r "$SRC/examples" "$TMP/examples"
flags="-std=c11 -O1 -g -Wall -Wextra -Werror"
ldflags=""
# A sanitizer build installs an instrumented library: its users need the
# same runtime.
if [[ -n ${SOCKIT_SANITIZE:-} ]]; then
    flags+=" -fsanitize=$SOCKIT_SANITIZE"
    ldflags="-fsanitize=$SOCKIT_SANITIZE"
fi
make -C "$TMP/examples" CFLAGS="$flags" LDFLAGS="$ldflags" >"$TMP/make.log" 2>&1 ||
    fail "make in examples/: $(tail -20 "$TMP/make.log")"
incdir=$(pkg-config --cflags-only-I sockit | sed 's/^ *-I//; s/ *$//')
[[ $(realpath "$incdir") == $(realpath "$PREFIX/include") ]] || fail "sockit.pc includedir $incdir is not under $PREFIX"
grep -qF -- "-I$incdir" "$TMP/make.log" || fail "examples were not compiled with the installed headers: $(cat "$TMP/make.log")"
EX="$TMP/examples"
export LD_LIBRARY_PATH="$LIBDIR"
for prog in echo_server custom_service loop_client; do
    [[ -x $EX/$prog ]] || fail "examples/Makefile did not build $prog"
    ldd "$EX/$prog" >"$TMP/ldd" || fail "ldd $prog"
    grep -qF "libsockit.so.0 => $LIBDIR/libsockit.so.0 " "$TMP/ldd" ||
        fail "$prog does not load the installed libsockit.so: $(cat "$TMP/ldd")"
done
pass "examples/Makefile built echo_server, custom_service, loop_client with pkg-config against $PREFIX"

# start_example NAME CMD...: run CMD, wait for its first line, "... on ADDR",
# and set EX_PID, EX_HOST, EX_PORT, EX_ADDR.
start_example() {
    local name=$1 log="$TMP/$1.log" i
    shift
    "$@" >"$log" 2>&1 &
    EX_PID=$!
    PIDS+=("$EX_PID")
    for ((i = 0; i < 100; i++)); do
        EX_ADDR=$(sed -n '1s/.* on \([^ ]*\).*/\1/p' "$log" 2>/dev/null || true) # the log may not exist yet
        if [[ -n $EX_ADDR ]]; then
            EX_PORT=${EX_ADDR##*:}
            EX_HOST=${EX_ADDR%:*}
            return 0
        fi
        kill -0 "$EX_PID" 2>/dev/null || fail "$name exited early: $(cat "$log")"
        sleep 0.05
    done
    fail "$name did not start: $(cat "$log")"
}

# same WANT_FILE GOT_FILE WHAT: exact bytes, or fail showing both.
same() { cmp -s "$1" "$2" || fail "$3: got '$(od -c "$2" | head -5)', wanted '$(od -c "$1" | head -5)'"; }

# --- echo_server: the built-in echo service under the loop model ----------
start_example echo_server "$EX/echo_server" 127.0.0.1:0
[[ $(head -n1 "$TMP/echo_server.log") == "echo_server: listening on 127.0.0.1:$EX_PORT" ]] ||
    fail "echo_server first line: $(head -n1 "$TMP/echo_server.log")"
printf 'hello, echo\nsecond line\n' >"$TMP/want"
timeout 20 nc -N "$EX_HOST" "$EX_PORT" <"$TMP/want" >"$TMP/got" || fail "nc to echo_server exited $?"
same "$TMP/want" "$TMP/got" "echo_server via nc"
if is_sanitized; then size=262144; else size=1048576; fi
head -c "$size" /dev/urandom >"$TMP/payload"
timeout 60 socat -t 10 - "TCP:$EX_ADDR" <"$TMP/payload" >"$TMP/got" || fail "socat to echo_server exited $?"
[[ $(sha <"$TMP/got") == $(sha <"$TMP/payload") ]] || fail "echo_server via socat: $(wc -c <"$TMP/got") bytes back of $size, or they differ"
stop_server "$EX_PID" 0
pass "echo_server: nc gets its 2 lines back exactly, socat $size random bytes (sha256 equal); SIGTERM exits 0"

# --- custom_service: its own service under every model ----------------------
for model in fork prefork thread loop hybrid; do
    start_example "custom_$model" "$EX/custom_service" "$model" 127.0.0.1:0
    [[ $(head -n1 "$TMP/custom_$model.log") == "custom_service: serving shout on 127.0.0.1:$EX_PORT (model $model)" ]] ||
        fail "custom_service $model first line: $(head -n1 "$TMP/custom_$model.log")"

    # A line split across two segments is answered once, whole.
    printf '1: HELLO\n2: WORLD 42\n3: X\n' >"$TMP/want"
    { printf 'hello\nWor'; sleep 0.2; printf 'ld 42\nx\n'; } | timeout 20 nc -N "$EX_HOST" "$EX_PORT" >"$TMP/got" ||
        fail "$model: nc exited $?"
    same "$TMP/want" "$TMP/got" "custom_service $model via nc (split line)"

    # Concurrent clients each count their own lines.
    clients=()
    for i in 1 2 3 4; do
        printf 'client %s\nline Two\n' "$i" | timeout 20 socat -t 10 - "TCP:$EX_ADDR" >"$TMP/got.$i" &
        clients+=($!)
    done
    wait_rc=0
    for pid in "${clients[@]}"; do wait "$pid" || wait_rc=$?; done
    ((wait_rc == 0)) || fail "$model: a socat client exited $wait_rc"
    for i in 1 2 3 4; do
        printf '1: CLIENT %s\n2: LINE TWO\n' "$i" >"$TMP/want"
        same "$TMP/want" "$TMP/got.$i" "custom_service $model via socat, client $i"
    done

    # A line past MAX_LINE (1024) gets the error and the server closes.
    printf 'error: line too long\n' >"$TMP/want"
    head -c 2000 /dev/zero | tr '\0' a | timeout 20 nc -N "$EX_HOST" "$EX_PORT" >"$TMP/got" ||
        fail "$model: nc (long line) exited $?"
    same "$TMP/want" "$TMP/got" "custom_service $model, line too long"
    stop_server "$EX_PID" 0
done
pass "custom_service under fork, prefork, thread, loop, hybrid: split line, 4 concurrent socat clients, long-line error, all exact"

# --- loop_client: sk_loop against sockit serve --service echo ---------------
start_server echo --service echo --listen 127.0.0.1:0
backends=$("$SOCKIT" serve --help 2>&1 | sed -n 's/.*event backend for loop models: //p')
[[ -n $backends ]] || fail "no backend list in sockit serve --help"
printf 'hello, loop\n' >"$TMP/want"
for b in $backends; do
    rc=0
    timeout 20 "$EX/loop_client" "$SERVER_ADDR" $'hello, loop\n' 5000 "$b" >"$TMP/got" 2>"$TMP/client.err" || rc=$?
    ((rc == 0)) || fail "loop_client ($b) exited $rc: $(cat "$TMP/client.err")"
    same "$TMP/want" "$TMP/got" "loop_client ($b)"
    [[ ! -s $TMP/client.err ]] || fail "loop_client ($b) wrote to stderr: $(cat "$TMP/client.err")"
done
# 100000 bytes: more than one send, read back while still sending.
big=$(head -c 100000 /dev/zero | tr '\0' z)
printf '%s' "$big" >"$TMP/want"
timeout 20 "$EX/loop_client" "$SERVER_ADDR" "$big" 5000 >"$TMP/got" || fail "loop_client (100000 bytes) exited $?"
same "$TMP/want" "$TMP/got" "loop_client, 100000 bytes"
stop_server "$SERVER_PID" 0
pass "loop_client on ${backends// /,}: 'hello, loop' echoed exactly; 100000 bytes echoed exactly"

# hold_port MODE: a socket bound to a free port that is either not listening
# (connects are refused) or listening but never accepting (connects
# complete in the backlog, nothing is ever answered); sets HOLD_PORT.
hold_port() {
    rm -f "$TMP/hold.port"
    "$PYTHON" - "$TMP/hold.port" "$1" <<'PY' &
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
if sys.argv[2] == "listen":
    s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
PY
    PIDS+=($!)
    local i
    for ((i = 0; i < 200; i++)); do [[ -e $TMP/hold.port ]] && break; sleep 0.05; done
    HOLD_PORT=$(cat "$TMP/hold.port")
}

hold_port bound
expect_rc 1 "$EX/loop_client" "127.0.0.1:$HOLD_PORT" hi 5000
[[ $(cat "$TMP/last.err") == "loop_client: connect 127.0.0.1:$HOLD_PORT: Connection refused" ]] ||
    fail "refused: stderr '$(cat "$TMP/last.err")'"
[[ ! -s $TMP/last.out ]] || fail "refused: stdout '$(cat "$TMP/last.out")'"

hold_port listen
start=$(date +%s%N)
expect_rc 1 "$EX/loop_client" "127.0.0.1:$HOLD_PORT" hi 300
ms=$((($(date +%s%N) - start) / 1000000))
[[ $(cat "$TMP/last.err") == "loop_client: wait 127.0.0.1:$HOLD_PORT: Connection timed out" ]] ||
    fail "timeout: stderr '$(cat "$TMP/last.err")'"
((ms >= 300 && ms < 10000)) || fail "timeout: the 300 ms timer fired after $ms ms"
expect_rc 2 "$EX/loop_client" "127.0.0.1:$HOLD_PORT" hi 300 nosuch
[[ $(cat "$TMP/last.err") == "loop_client: unknown backend 'nosuch'" ]] || fail "bad backend: stderr '$(cat "$TMP/last.err")'"
pass "loop_client: refused connect and 300 ms timeout (after $ms ms) reported in one line, exit 1; unknown backend exit 2"
