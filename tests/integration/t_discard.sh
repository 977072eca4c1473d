#!/usr/bin/env bash
# discard (RFC 863): 64 MiB go in, nothing comes back, the client exits 0
# and the server's counters show every byte arrived.
. "$(dirname "$0")/lib.sh"

BYTES=$((64 << 20))
start_server discard --service discard --listen 127.0.0.1:0 -v

# sockit connect: stdin EOF half-closes, the server then closes, exit 0.
expect_rc 0 sh -c "head -c $BYTES /dev/zero | '$SOCKIT' connect '$SERVER_ADDR'"
[[ ! -s $TMP/last.out ]] || fail "discard sent something back: $(head -c 100 "$TMP/last.out" | od -c | head -3)"
pass "sockit connect pushed 64 MiB into discard, got nothing back, exit 0"

# A real client too, random bytes this time.
expect_rc 0 sh -c "head -c $BYTES /dev/urandom | nc -N '$SERVER_HOST' '$SERVER_PORT'"
[[ ! -s $TMP/last.out ]] || fail "discard sent something back to nc"
pass "nc pushed 64 MiB into discard, exit 0"

# Both connections closed with every byte counted in, none out.
log="$TMP/discard.log"
for ((i = 0; i < 100; i++)); do
    (($(grep -c 'sockit: close' "$log") == 2)) && break
    sleep 0.05
done
n=$(grep -c "sockit: close .* in=$BYTES out=0\$" "$log" || true)
((n == 2)) || fail "close lines do not show in=$BYTES out=0: $(grep close "$log")"
stop_server "$SERVER_PID"
grep -Eq "stats accepted=2 active=0 closed=2 rejected=0 bytes_in=$((2 * BYTES)) bytes_out=0 cut=0( |$)" "$log" ||
    fail "server stats: $(grep stats "$log")"
pass "server counters: bytes_in=$((2 * BYTES)) bytes_out=0"
