#!/usr/bin/env bash
# Address text with service names and host names: host:service-name takes the
# port from the services database (localhost:echo -> 7), host names try
# every address they resolve to, and :port means loopback for a client.
. "$(dirname "$0")/lib.sh"

start_server echo --service echo --listen 127.0.0.1:0

# Numeric, then by name, then the :port shorthand: all reach the server.
for addr in "127.0.0.1:$SERVER_PORT" "localhost:$SERVER_PORT" ":$SERVER_PORT"; do
    expect_rc 0 sh -c "printf 'name test\n' | '$SOCKIT' connect -v -4 '$addr'"
    [[ $(cat "$TMP/last.out") == "name test" ]] || fail "$addr: echo came back as '$(cat "$TMP/last.out")'"
    grep -q "^sockit: connected to 127.0.0.1:$SERVER_PORT\$" "$TMP/last.err" ||
        fail "$addr: -v did not name 127.0.0.1:$SERVER_PORT: $(cat "$TMP/last.err")"
done
pass "127.0.0.1:PORT, localhost:PORT and :PORT all reach the server"

# A name that resolves to several addresses is tried in order: localhost may
# give ::1 first (nothing listens there) and must fall through to 127.0.0.1.
expect_rc 0 sh -c "printf 'fallback\n' | '$SOCKIT' connect -v 'localhost:$SERVER_PORT'"
[[ $(cat "$TMP/last.out") == fallback ]] || fail "localhost:PORT without -4 did not reach the server"
pass "localhost:PORT reaches a 127.0.0.1-only server whatever order the resolver gives"

# Service names resolve to their well-known ports. Nothing may be listening
# there, so the client's own error message shows which port it tried.
# (Servers in tests never bind fixed ports: this only connects.)
check_port() {
    local name=$1 port=$2
    if [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then
        echo "note: something listens on port $port; skipping the $name lookup check"
        return 0
    fi
    expect_rc 1 "$SOCKIT" connect --timeout 2 -4 "localhost:$name"
    [[ $(cat "$TMP/last.err") == "sockit: connect 127.0.0.1:$port: Connection refused" ]] ||
        fail "localhost:$name: stderr '$(cat "$TMP/last.err")', wanted port $port"
    expect_rc 1 "$SOCKIT" connect --timeout 2 "127.0.0.1:$name"
    grep -q "^sockit: connect 127.0.0.1:$port: Connection refused\$" "$TMP/last.err" ||
        fail "127.0.0.1:$name: stderr '$(cat "$TMP/last.err")'"
    expect_rc 1 "$SOCKIT" connect --timeout 2 "[::1]:$name"
    grep -q "^sockit: connect \[::1\]:$port: Connection refused\$" "$TMP/last.err" ||
        fail "[::1]:$name: stderr '$(cat "$TMP/last.err")'"
    pass "$name resolves to port $port (localhost, 127.0.0.1 and [::1])"
}
check_port echo 7
check_port discard 9
check_port daytime 13
check_port chargen 19

# Unknown names are a usage error (exit 2), not a runtime failure.
expect_rc 2 "$SOCKIT" connect "localhost:no-such-service-name"
grep -q "unknown service name" "$TMP/last.err" || fail "unknown service: $(cat "$TMP/last.err")"
pass "an unknown service name is a usage error"
stop_server "$SERVER_PID"
