#!/usr/bin/env bash
# serve --user: bind first (a port below 1024 needs root), then drop root
# for good: the server and everything it starts (fork children, --exec
# programs) run as the user, and a drop that cannot happen stops the server.
. "$(dirname "$0")/lib.sh"
[[ $(id -u) -eq 0 ]] || { echo "skip [$TEST_NAME]: needs root"; exit 0; }
getent passwd nobody >/dev/null || { echo "skip [$TEST_NAME]: no user nobody"; exit 0; }
NOBODY=$(id -u nobody)

# Port 7 (echo's well-known port) needs root to bind; pick it only if free.
port=7
ss -Htln "sport = :7" | grep -q . && port=0
start_server low --service echo --user nobody --listen "127.0.0.1:$port"
uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$SERVER_PID/status")
[[ $uid == "$NOBODY $NOBODY $NOBODY $NOBODY" ]] || fail "server uids: $uid"
[[ $(awk '/^Groups:/ {print $2}' "/proc/$SERVER_PID/status") == "" ]] || fail "supplementary groups kept"
[[ $(printf 'low\n' | timeout 5 "$SOCKIT" connect "$SERVER_ADDR") == low ]] || fail "echo after the drop"
stop_server "$SERVER_PID"
pass "bound 127.0.0.1:$SERVER_PORT as root, then serving as nobody (every uid $NOBODY, no groups)"

start_server exec --exec 'id -u' --user nobody --listen 127.0.0.1:0
[[ $(timeout 5 "$SOCKIT" connect "$SERVER_ADDR" </dev/null) == "$NOBODY" ]] || fail "--exec ran as someone else"
stop_server "$SERVER_PID"
start_server fork --service echo --model fork --user nobody --listen 127.0.0.1:0
(printf 'f\n'; sleep 1) | timeout 5 "$SOCKIT" connect "$SERVER_ADDR" >/dev/null &
cpid=$!
sleep 0.4
child=$(pgrep -P "$SERVER_PID" | head -n1)
[[ -n $child ]] || fail "no fork child to look at"
[[ $(awk '/^Uid:/ {print $2}' "/proc/$child/status") == "$NOBODY" ]] || fail "the fork child runs as $(awk '/^Uid:/ {print $2}' "/proc/$child/status")"
wait "$cpid" || true
stop_server "$SERVER_PID"
pass "--exec programs and fork children run as nobody too"

expect_rc 2 "$SOCKIT" serve --user no-such-user-here --listen 127.0.0.1:0
grep -q "^sockit: --user no-such-user-here: no such user$" "$TMP/last.err" || fail "unknown user: $(cat "$TMP/last.err")"
expect_rc 1 setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups "$SOCKIT" serve --user root --listen 127.0.0.1:0
grep -q "^sockit: --user root: dropping to another user needs root$" "$TMP/last.err" || fail "not root: $(cat "$TMP/last.err")"
pass "an unknown user is a usage error; a drop that cannot happen stops the server (exit 1)"
