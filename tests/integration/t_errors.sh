#!/usr/bin/env bash
# Every error path of serve and connect, with its exit code (0 ok, 1 runtime
# failure, 2 usage error) and its one-line message on stderr; --help and
# --version; and SIGTERM/SIGINT draining to exit 0.
. "$(dirname "$0")/lib.sh"

# one_line WHO: stderr of the last command is exactly one "sockit: " line.
# (Bash tests only, no extra processes: this runs for dozens of commands.)
one_line() {
    local err
    err=$(<"$TMP/last.err")
    [[ $err == "sockit: "* && $err != *$'\n'* && $(tail -c 1 "$TMP/last.err") == "" ]] ||
        fail "$1: stderr is not one 'sockit: ' line: $err"
}

# usage_error PATTERN CMD...: exit 2, one line on stderr matching PATTERN
# (an extended regex), nothing on stdout.
usage_error() {
    local pat=$1
    shift
    expect_rc 2 "$@"
    one_line "$*"
    [[ $(<"$TMP/last.err") =~ $pat ]] || fail "'$*': stderr '$(cat "$TMP/last.err")' lacks /$pat/"
    [[ ! -s $TMP/last.out ]] || fail "'$*' wrote to stdout on a usage error"
}

# wait_gone PID SECONDS: true once PID has exited, false after SECONDS.
wait_gone() {
    local i
    for ((i = 0; i < $2 * 50; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.02
    done
    return 1
}

# --- help and version: exit 0, text on stdout ---------------------------------
for args in "--help" "-h" "help" "serve --help" "serve -h" "connect --help" "connect -h"; do
    # shellcheck disable=SC2086
    expect_rc 0 "$SOCKIT" $args
    grep -q '^usage: sockit' "$TMP/last.out" || fail "sockit $args: no usage on stdout"
    [[ ! -s $TMP/last.err ]] || fail "sockit $args wrote to stderr"
done
expect_rc 0 "$SOCKIT" --version
grep -Eq '^sockit [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/last.out" || fail "--version printed '$(cat "$TMP/last.out")'"
expect_rc 0 "$SOCKIT" -V
pass "--help for each command and --version exit 0 and print to stdout"

# --- usage errors: exit 2 ----------------------------------------------------
expect_rc 2 "$SOCKIT"
grep -q 'usage: sockit' "$TMP/last.err" || fail "bare sockit: no usage on stderr"
usage_error "unknown command 'bogus'" "$SOCKIT" bogus
usage_error "unknown option '--bogus'" "$SOCKIT" serve --bogus
usage_error "unknown option '-Z'" "$SOCKIT" serve -Z
usage_error "unknown option '--bogus'" "$SOCKIT" connect --bogus 127.0.0.1:7
usage_error "unexpected argument 'extra'" "$SOCKIT" serve extra
usage_error "unexpected argument 'extra'" "$SOCKIT" connect 127.0.0.1:7 extra
# Missing arguments.
usage_error "missing ADDR" "$SOCKIT" connect
usage_error "'--listen' needs a value" "$SOCKIT" serve --listen
usage_error "'--service' needs a value" "$SOCKIT" serve --service
usage_error "'--timeout' needs a value" "$SOCKIT" connect 127.0.0.1:7 --timeout
usage_error "--timeout wants seconds" "$SOCKIT" connect --timeout soon 127.0.0.1:7
usage_error "--timeout wants seconds" "$SOCKIT" connect --timeout -1 127.0.0.1:7
usage_error "--workers wants a number" "$SOCKIT" serve --workers 0
# Unknown names.
usage_error "unknown service 'nosuch'" "$SOCKIT" serve --service nosuch --listen 127.0.0.1:0
usage_error "unknown model 'nosuch'" "$SOCKIT" serve --model nosuch --listen 127.0.0.1:0
usage_error "unknown backend 'nosuch'" "$SOCKIT" serve --backend nosuch --listen 127.0.0.1:0
# Bad address forms, for both commands.
for cmd in "connect" "serve --listen"; do
    # shellcheck disable=SC2086
    {
        usage_error "::1: IPv6 address needs brackets" "$SOCKIT" $cmd ::1
        usage_error "::1:7007: IPv6 address needs brackets" "$SOCKIT" $cmd ::1:7007
        usage_error "host:: address has no port" "$SOCKIT" $cmd host:
        usage_error "localhost:: address has no port" "$SOCKIT" $cmd localhost:
        usage_error "localhost: address has no port" "$SOCKIT" $cmd localhost
        usage_error "\[::1\]: address has no port" "$SOCKIT" $cmd '[::1]'
        usage_error "host:99999: port out of range" "$SOCKIT" $cmd host:99999
        usage_error "127.0.0.1:65536: port out of range" "$SOCKIT" $cmd 127.0.0.1:65536
        usage_error "localhost:nosuchsvc: unknown service name" "$SOCKIT" $cmd localhost:nosuchsvc
        usage_error "malformed address" "$SOCKIT" $cmd '[::1]7007'
        usage_error "malformed address" "$SOCKIT" $cmd 'a b:80'
    }
done
# Mistakes with their own words: a URL, too many colons, a port alone, a
# signed port, an empty host.
for cmd in "connect" "serve --listen" "bench"; do
    # shellcheck disable=SC2086
    {
        usage_error "^sockit: (listen )?127\.0\.0\.1:1:1: too many colons \(expected host:port; an IPv6 address goes in brackets" \
            "$SOCKIT" $cmd 127.0.0.1:1:1
        usage_error "^sockit: (listen )?localhost:-1: port out of range \(0-65535\)" "$SOCKIT" $cmd localhost:-1
        usage_error "^sockit: (listen )?:\+80: port out of range" "$SOCKIT" $cmd :+80
        usage_error "^sockit: (listen )?fe80::1:7: IPv6 address needs brackets" "$SOCKIT" $cmd fe80::1:7
    }
done
usage_error "^sockit: http://127\.0\.0\.1:7102/: a URL is not an address \(expected host:port, no scheme or path\); did you mean '127\.0\.0\.1:7102 --proto http'\? \(see 'sockit bench --help'\)$" \
    "$SOCKIT" bench http://127.0.0.1:7102/
usage_error "^sockit: http://localhost/x: a URL is not an address .*; did you mean 'localhost:80 --proto http'\?" \
    "$SOCKIT" bench http://localhost/x
usage_error "^sockit: http://\[::1\]:8080/: a URL is not an address .*; did you mean '\[::1\]:8080 --proto http'\?" \
    "$SOCKIT" bench 'http://[::1]:8080/'
usage_error "^sockit: tcp://127\.0\.0\.1:7/: a URL is not an address \(expected host:port, no scheme or path\)" \
    "$SOCKIT" connect tcp://127.0.0.1:7/
usage_error "^sockit: listen 7007: a port alone is not an address \(expected :port or host:port\); did you mean ':7007'\? \(see 'sockit serve --help'\)$" \
    "$SOCKIT" serve --listen 7007
usage_error "^sockit: 7007: a port alone is not an address \(expected :port or host:port\); did you mean ':7007'\?" \
    "$SOCKIT" bench 7007
for cmd in connect "connect -u"; do
    # shellcheck disable=SC2086
    {
        usage_error "^sockit: 7007: a port alone is not an address \(expected :port or host:port\); did you mean ':7007'\? \(see 'sockit connect --help'\)$" \
            "$SOCKIT" $cmd 7007
        usage_error "^sockit: http://127\.0\.0\.1:80/: a URL is not an address .*; did you mean '127\.0\.0\.1:80'\? \(see 'sockit connect --help'\)$" \
            "$SOCKIT" $cmd http://127.0.0.1:80/
    }
done
# The kernel refuses a broadcast destination without SO_BROADCAST (EACCES,
# so nothing is sent): the message names the cure.
expect_rc 1 sh -c "printf 'x\n' | '$SOCKIT' connect -u 255.255.255.255:9"
one_line "connect -u 255.255.255.255:9"
grep -qx "sockit: send 255.255.255.255:9: Permission denied (a broadcast address needs --broadcast)" "$TMP/last.err" ||
    fail "broadcast without --broadcast: $(cat "$TMP/last.err")"
usage_error "^sockit: HOST is empty \(see 'sockit ping --help'\)$" "$SOCKIT" ping ''
usage_error "^sockit: HOST is empty \(see 'sockit trace-route --help'\)$" "$SOCKIT" trace-route ''
# Options that cannot apply are refused, not ignored.
usage_error "^sockit: --backend nope: model fork has no event loop \(backends apply to loop, prefork, hybrid\)" \
    "$SOCKIT" serve -m fork -b nope --listen 127.0.0.1:0
usage_error "^sockit: --backend epoll: model thread has no event loop" "$SOCKIT" serve -m thread -b epoll --listen 127.0.0.1:0
usage_error "^sockit: --join 198\.18\.0\.1: not a multicast group address \(224\.0\.0\.0/4, ff00::/8\) \(see 'sockit serve --help'\)$" \
    "$SOCKIT" serve --proto udp --join 198.18.0.1 --listen 127.0.0.1:0
usage_error "^sockit: --join 255\.255\.255\.255@nosuchif0: not a multicast group address" \
    "$SOCKIT" serve --proto udp --join 255.255.255.255@nosuchif0 --listen 127.0.0.1:0
expect_rc 1 "$SOCKIT" serve --proto udp --join 239.1.2.3@nosuchif0 --listen 127.0.0.1:0
[[ $(<"$TMP/last.err") == "sockit: --join 239.1.2.3@nosuchif0: no interface named 'nosuchif0' here" ]] ||
    fail "--join with an unknown interface: '$(cat "$TMP/last.err")'"
pass "unknown flags, missing arguments, unknown names and bad addresses exit 2 with one line"

# --- runtime failures: exit 1 --------------------------------------------------
# Refused: a port held by a socket that is bound but not listening, so the
# kernel answers a SYN with RST and nobody else can take the port meanwhile.
"$PYTHON" - "$TMP/hold.port" "$TMP/hold.done" <<'PY' &
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
deadline = time.monotonic() + 60
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.05)
PY
PIDS+=($!)
for ((i = 0; i < 200; i++)); do [[ -e $TMP/hold.port ]] && break; sleep 0.05; done
port=$(cat "$TMP/hold.port")
expect_rc 1 "$SOCKIT" connect "127.0.0.1:$port"
[[ $(cat "$TMP/last.err") == "sockit: connect 127.0.0.1:$port: Connection refused" ]] ||
    fail "refused: stderr '$(cat "$TMP/last.err")'"
expect_rc 1 "$SOCKIT" connect -4 "localhost:$port"
[[ $(cat "$TMP/last.err") == "sockit: connect 127.0.0.1:$port: Connection refused" ]] ||
    fail "refused via localhost: stderr '$(cat "$TMP/last.err")'"
touch "$TMP/hold.done"
pass "connection refused: exit 1, 'sockit: connect 127.0.0.1:$port: Connection refused'"

# Timeout: a listener with backlog 0 that never accepts; once its one queue
# slot is taken the kernel drops further SYNs, so a connect can only time out.
# All on loopback: nothing leaves the machine.
"$PYTHON" - "$TMP/full.port" "$TMP/full.done" <<'PY' &
import os, socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(0)
port = l.getsockname()[1]
fill = []
for _ in range(4):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", port))
    fill.append(c)
time.sleep(0.3)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(port))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
deadline = time.monotonic() + 60
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.05)
PY
PIDS+=($!)
for ((i = 0; i < 200; i++)); do [[ -e $TMP/full.port ]] && break; sleep 0.05; done
port=$(cat "$TMP/full.port")
start=$(date +%s%N)
expect_rc 1 "$SOCKIT" connect --timeout 1 "127.0.0.1:$port"
ms=$((($(date +%s%N) - start) / 1000000))
one_line "timeout"
grep -q "^sockit: connect 127.0.0.1:$port: .*timed out" "$TMP/last.err" || fail "timeout: stderr '$(cat "$TMP/last.err")'"
((ms >= 900 && ms < 5000)) || fail "--timeout 1 gave up after $ms ms"
start=$(date +%s%N)
expect_rc 1 "$SOCKIT" connect -t 0.3 "127.0.0.1:$port"
ms2=$((($(date +%s%N) - start) / 1000000))
((ms2 >= 250 && ms2 < 3000)) || fail "--timeout 0.3 gave up after $ms2 ms"
touch "$TMP/full.done"
pass "connect timeout: exit 1, '$(cat "$TMP/last.err")' after $ms ms (--timeout 1), $ms2 ms (0.3)"

# A family filter that leaves no address: a runtime failure, not usage.
expect_rc 1 "$SOCKIT" connect -6 127.0.0.1:7
[[ $(cat "$TMP/last.err") == "sockit: resolve 127.0.0.1:7: no address of the requested family" ]] ||
    fail "-6 on an IPv4 address: '$(cat "$TMP/last.err")'"
expect_rc 1 "$SOCKIT" connect -4 '[::1]:7'
[[ $(cat "$TMP/last.err") == "sockit: resolve [::1]:7: no address of the requested family" ]] ||
    fail "-4 on an IPv6 address: '$(cat "$TMP/last.err")'"
pass "-4/-6 with no address of that family: exit 1 with one line"

# Address in use, on both families.
for host in 127.0.0.1 '[::1]'; do
    start_server "busy-${host//[^0-9a-z]/}" --service echo --listen "$host:0"
    expect_rc 1 "$SOCKIT" serve --service echo --listen "$SERVER_ADDR"
    [[ $(cat "$TMP/last.err") == "sockit: listen $SERVER_ADDR: Address already in use" ]] ||
        fail "address in use: stderr '$(cat "$TMP/last.err")'"
    stop_server "$SERVER_PID"
done
pass "address in use: exit 1, 'sockit: listen ADDR: Address already in use'"

# --- signals: drain, then exit 0 ----------------------------------------------
for sig in TERM INT; do
    start_server "idle-$sig" --service echo --listen 127.0.0.1:0
    kill -"$sig" "$SERVER_PID"
    rc=0
    wait_gone "$SERVER_PID" 10 || fail "idle server ignored SIG$sig"
    wait "$SERVER_PID" || rc=$?
    ((rc == 0)) || fail "idle server exited $rc on SIG$sig"
done
pass "idle server exits 0 on SIGTERM and on SIGINT"

# Drain: a chargen client that has not read yet has output queued in the
# server. On the signal the server stops accepting at once, but delivers
# every byte it queued before it closes and exits 0.
for sig in TERM INT; do
    start_server "drain-$sig" --service chargen --listen 127.0.0.1:0 -v
    log="$TMP/drain-$sig.log"
    timeout 30 "$PYTHON" - "$SERVER_HOST" "$SERVER_PORT" "$TMP/drain.ready" "$TMP/drain.go" >"$TMP/drain.count" <<'PY' &
import os, socket, sys, time
s = socket.socket()
# A small window: the kernel holds little, so the server's own buffer fills
# and must still be flushed after the signal.
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
s.settimeout(10)
s.connect((sys.argv[1], int(sys.argv[2])))
time.sleep(0.5)  # let the server fill our socket and its own buffer
open(sys.argv[3], "w").close()
deadline = time.monotonic() + 20
while not os.path.exists(sys.argv[4]) and time.monotonic() < deadline:
    time.sleep(0.02)
data = bytearray()
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    data += b
# Whole lines only, each rotating one further: nothing lost in the middle.
assert len(data) % 74 == 0, len(data)
for k in range(len(data) // 74):
    line = data[k * 74:(k + 1) * 74]
    assert line[0] == 32 + k % 95 and line[72:] == b"\r\n", k
print(len(data))
PY
    client=$!
    PIDS+=("$client")
    for ((i = 0; i < 200; i++)); do [[ -e $TMP/drain.ready ]] && break; sleep 0.05; done
    [[ -e $TMP/drain.ready ]] || fail "drain client did not connect"
    kill -"$sig" "$SERVER_PID"
    sleep 0.5
    # Output is still queued for the client: the server must be waiting.
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited on SIG$sig before delivering queued output"
    # ... but no longer taking new connections.
    expect_rc 1 "$SOCKIT" connect --timeout 2 "$SERVER_ADDR"
    grep -q "Connection refused" "$TMP/last.err" || fail "new connection during drain: $(cat "$TMP/last.err")"
    touch "$TMP/drain.go"
    rc=0
    wait "$client" || rc=$?
    ((rc == 0)) || fail "drain client failed (rc $rc)"
    got=$(cat "$TMP/drain.count")
    rc=0
    wait_gone "$SERVER_PID" 10 || fail "server did not exit after draining"
    wait "$SERVER_PID" || rc=$?
    ((rc == 0)) || fail "server exited $rc after SIG$sig"
    out=$(sed -n 's/^sockit: close .* out=\([0-9]*\)$/\1/p' "$log")
    [[ $out == "$got" ]] || fail "server sent $out bytes, the client got $got"
    ((got > 65536)) || fail "only $got bytes were queued; the test did not exercise the drain"
    rm -f "$TMP/drain.ready" "$TMP/drain.go"
    pass "SIG$sig: refused new connections, delivered all $got queued bytes, exit 0"
done

# Drain deadline: a client that never reads cannot hold the server forever.
start_server drain-deadline --service chargen --listen 127.0.0.1:0 --drain-timeout 1
"$PYTHON" - "$SERVER_HOST" "$SERVER_PORT" "$TMP/stall.ready" <<'PY' &
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
open(sys.argv[3], "w").close()
time.sleep(15)
PY
PIDS+=($!)
for ((i = 0; i < 200; i++)); do [[ -e $TMP/stall.ready ]] && break; sleep 0.05; done
sleep 0.3
start=$(date +%s%N)
kill -TERM "$SERVER_PID"
wait_gone "$SERVER_PID" 10 || fail "server hung on a client that never reads"
ms=$((($(date +%s%N) - start) / 1000000))
rc=0
wait "$SERVER_PID" || rc=$?
((rc == 0)) || fail "server exited $rc after the drain deadline"
((ms >= 900 && ms < 4000)) || fail "--drain-timeout 1 took $ms ms"
pass "drain deadline: a stalled client is dropped after --drain-timeout 1 ($ms ms), exit 0"

# A second signal during a long drain ends the server at once (^C^C).
start_server drain-twice --service chargen --listen 127.0.0.1:0 --drain-timeout 60
"$PYTHON" - "$SERVER_HOST" "$SERVER_PORT" "$TMP/twice.ready" <<'PY' &
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
open(sys.argv[3], "w").close()
time.sleep(15)
PY
PIDS+=($!)
for ((i = 0; i < 200; i++)); do [[ -e $TMP/twice.ready ]] && break; sleep 0.05; done
sleep 0.3
kill -INT "$SERVER_PID"
sleep 0.3
kill -0 "$SERVER_PID" 2>/dev/null || fail "server did not drain its stalled client after one SIGINT"
kill -INT "$SERVER_PID"
wait_gone "$SERVER_PID" 5 || fail "a second SIGINT did not end a draining server"
rc=0
wait "$SERVER_PID" || rc=$?
((rc == 130)) || fail "server ended with $rc after a second SIGINT, wanted 130 (killed by SIGINT)"
pass "a second SIGINT during the drain ends the server at once"

# A repeated --listen is refused (it used to keep the last one silently);
# a flag over the environment's or the file's is the usual precedence.
expect_rc 2 "$SOCKIT" serve --listen 127.0.0.1:0 --listen 127.0.0.1:1
grep -q "^sockit: --listen given twice ('127.0.0.1:0', '127.0.0.1:1')" "$TMP/last.err" || fail "repeated --listen: $(cat "$TMP/last.err")"
SOCKIT_LISTEN=127.0.0.1:1 start_server envlisten --listen 127.0.0.1:0
[[ $SERVER_PORT != 1 ]] || fail "the flag did not win over SOCKIT_LISTEN"
stop_server "$SERVER_PID"
pass "a repeated --listen is a usage error; a flag still beats SOCKIT_LISTEN"
