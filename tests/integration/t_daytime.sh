#!/usr/bin/env bash
# daytime (RFC 867): one line in the ctime(3) form "Www Mmm dd hh:mm:ss yyyy"
# (day space-padded, %e) ended by CR LF, the current local time, then the
# server closes; through nc, socat and sockit connect.
. "$(dirname "$0")/lib.sh"

start_server daytime --service daytime --listen 127.0.0.1:0 -v

RE='^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ( [1-9]|[12][0-9]|3[01]) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] [0-9]{4}$'

# check_reply FILE WHO: exactly one CRLF-terminated line of the right form,
# naming the current time (within a few seconds).
check_reply() {
    local f=$1 who=$2
    (($(wc -l <"$f") == 1)) || fail "$who: wanted exactly one line, got: $(od -c "$f" | head -5)"
    [[ $(tail -c 2 "$f" | od -An -c | tr -d ' ') == '\r\n' ]] || fail "$who: line does not end in CR LF"
    local line
    line=$(head -n1 "$f")
    line=${line%$'\r'}
    [[ $line =~ $RE ]] || fail "$who: '$line' is not 'Www Mmm dd hh:mm:ss yyyy'"
    # Same form as ctime(3)/date's %c in the C locale, day padded with a space.
    # The time must fall between the client's start (T0) and now: exact,
    # however slow a loaded machine makes the client.
    "$PYTHON" - "$line" "$T0" <<'PY' || fail "$who: '$line' is not the current local time"
import sys, time
t = time.mktime(time.strptime(sys.argv[1].rstrip("\r"), "%a %b %d %H:%M:%S %Y"))
assert int(sys.argv[2]) - 1 <= t <= time.time() + 1, (t, sys.argv[2], time.time())
assert sys.argv[1].rstrip("\r") == time.strftime("%a %b %e %H:%M:%S %Y", time.localtime(t))
PY
}

# Each client must end on its own once the server closes: a bounded run.
T0=$(date +%s)
expect_rc 0 nc -d "$SERVER_HOST" "$SERVER_PORT"
check_reply "$TMP/last.out" "nc -d"
pass "nc -d: '$(tr -d '\r' <"$TMP/last.out")', then the server closed"

T0=$(date +%s)
expect_rc 0 sh -c "nc '$SERVER_HOST' '$SERVER_PORT' </dev/null"
check_reply "$TMP/last.out" "nc"
pass "nc </dev/null: one line, then the server closed"

T0=$(date +%s)
expect_rc 0 socat -u "TCP:$SERVER_ADDR" -
check_reply "$TMP/last.out" "socat"
pass "socat: one line, then the server closed"

T0=$(date +%s)
expect_rc 0 sh -c "'$SOCKIT' connect '$SERVER_ADDR' </dev/null"
check_reply "$TMP/last.out" "sockit connect"
pass "sockit connect: one line, then exit 0"

# sockit connect must not wait for its stdin once the server has closed.
mkfifo "$TMP/stdin"
sleep 30 >"$TMP/stdin" &
holder=$!
PIDS+=("$holder")
start=$(date +%s%N)
T0=$(date +%s)
expect_rc 0 "$SOCKIT" connect "$SERVER_ADDR" <"$TMP/stdin"
kill "$holder"
check_reply "$TMP/last.out" "sockit connect (stdin open)"
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 5000)) || fail "sockit connect waited ${ms} ms for its stdin after the server closed"
pass "sockit connect with stdin still open exits when the server closes (${ms} ms)"

# A raw client: the FIN follows the line at once; and a client that never
# closes its side is dropped by the server after a short linger (< 5 s).
"$PYTHON" - "$SERVER_HOST" "$SERVER_PORT" <<'PY' || fail "raw client: server did not half-close after one line"
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
data = b""
while True:
    b = s.recv(4096)  # raises on the 3 s timeout: no FIN came
    if not b:
        break
    data += b
assert data.endswith(b"\r\n") and data.count(b"\n") == 1, data
# Keep our side open: the server must still close on its own.
time.sleep(3)
PY
log="$TMP/daytime.log"
opens=$(grep -c 'sockit: open' "$log" || true)
closes=$(grep -c 'sockit: close' "$log" || true)
((opens == 6 && closes == 6)) || fail "server log: $opens opens, $closes closes, wanted 6 each"
pass "server closed all 6 connections, including one whose client never closed"

stop_server "$SERVER_PID"
grep -q "stats accepted=6 active=0 closed=6 rejected=0 bytes_in=0 bytes_out=156" "$log" ||
    fail "server stats: $(grep stats "$log")"
pass "server counters: 6 lines of 26 bytes"
