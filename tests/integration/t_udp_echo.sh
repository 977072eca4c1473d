#!/usr/bin/env bash
# UDP echo and daytime over loopback: serve --proto udp under loop and hybrid,
# 10,000 datagrams of mixed sizes verified byte for byte, and sockit connect
# --udp with lines, --raw, the 65,507-byte limit and lost replies.
. "$(dirname "$0")/lib.sh"
CHECK="$(dirname "$0")/helpers/udp_echo_check.py"
N=10000
is_sanitized && N=4000

start_server loop --proto udp --service echo --listen 127.0.0.1:0
out=$(timeout 60 python3 "$CHECK" "$SERVER_HOST" "$SERVER_PORT" "$N") || fail "loop echo: $out"
pass "loop: $out"

# sockit connect --udp: one datagram per line, replies to stdout.
printf 'one\ntwo\nthree\n' >"$TMP/lines"
expect_rc 0 "$SOCKIT" connect --udp -t 2 "$SERVER_ADDR" <"$TMP/lines"
cmp -s "$TMP/lines" "$TMP/last.out" || fail "connect --udp lines: got '$(cat "$TMP/last.out")'"
head -c 65507 /dev/urandom >"$TMP/max"
expect_rc 0 "$SOCKIT" connect --udp --raw "$SERVER_ADDR" <"$TMP/max"
cmp -s "$TMP/max" "$TMP/last.out" || fail "connect --udp --raw 65507 bytes not echoed intact"
head -c 65508 /dev/zero >"$TMP/big"
expect_rc 1 "$SOCKIT" connect --udp --raw "$SERVER_ADDR" <"$TMP/big"
grep -q 'larger than the UDP maximum of 65507 over IPv4' "$TMP/last.err" || fail "oversize: $(cat "$TMP/last.err")"
pass "connect --udp: lines, 65507-byte datagram, oversize refused"
stop_server "$SERVER_PID" 0

# IPv6 carries 20 bytes more: 65,508 to 65,527-byte datagrams to [::1] come
# back whole (they used to be dropped without a word).
start_server v6 --proto udp --service echo --listen "[::1]:0"
V6=$SERVER_PORT
"$PYTHON" - "$V6" <<'PY' || fail "IPv6 datagrams past 65507 bytes were not echoed"
import hashlib, os, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(3)
for n in (65507, 65508, 65520, 65527):
    data = os.urandom(n)
    s.sendto(data, ("::1", int(sys.argv[1])))
    got, _ = s.recvfrom(70000)
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), (n, len(got))
PY
head -c 65527 /dev/urandom >"$TMP/max6"
expect_rc 0 "$SOCKIT" connect --udp --raw "[::1]:$V6" <"$TMP/max6"
cmp -s "$TMP/max6" "$TMP/last.out" || fail "connect --udp --raw 65527 bytes over IPv6 not echoed intact"
head -c 65528 /dev/zero >"$TMP/big6"
expect_rc 1 "$SOCKIT" connect --udp --raw "[::1]:$V6" <"$TMP/big6"
grep -q 'larger than the UDP maximum of 65527 over IPv6' "$TMP/last.err" || fail "IPv6 oversize: $(cat "$TMP/last.err")"
stop_server "$SERVER_PID" 0
pass "IPv6: 65508-65527-byte datagrams echoed whole (server and connect --udp); 65528 refused"

# Nothing listens on a freshly freed port: every request is lost, reported, exit 1.
start_server gone --proto udp --listen 127.0.0.1:0
gone=$SERVER_ADDR
stop_server "$SERVER_PID" 0
expect_rc 1 "$SOCKIT" connect --udp -t 0.3 "$gone" <"$TMP/lines"
grep -q '3 of 3 datagrams got no reply' "$TMP/last.err" || fail "lost report: $(cat "$TMP/last.err")"
pass "connect --udp reports lost replies"

start_server hybrid --proto udp --model hybrid --workers 3 --service echo --listen '[::1]:0'
out=$(timeout 60 python3 "$CHECK" "::1" "$SERVER_PORT" $((N / 2))) || fail "hybrid echo: $out"
pass "hybrid [::1]: $out"
stop_server "$SERVER_PID" 0

start_server daytime --proto udp --service daytime --listen 127.0.0.1:0
echo x | expect_rc 0 "$SOCKIT" connect --udp "$SERVER_ADDR"
grep -Eq '^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}' "$TMP/last.out" ||
    fail "daytime/udp: '$(cat "$TMP/last.out")'"
pass "daytime/udp: $(tr -d '\r' <"$TMP/last.out")"
stop_server "$SERVER_PID" 0

# Usage errors: a service without a UDP form, --join without udp.
expect_rc 2 "$SOCKIT" serve --proto udp --service chargen
expect_rc 2 "$SOCKIT" serve --join 239.1.2.3
expect_rc 2 "$SOCKIT" serve --proto udp --model fork
pass "usage errors"
