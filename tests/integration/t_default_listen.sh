#!/usr/bin/env bash
# `sockit serve` with no options serves echo on 127.0.0.1:7007 (the address
# `make run` uses). Checked only when that port is free on this machine.
. "$(dirname "$0")/lib.sh"

if [[ -n $(ss -Hltn 'sport = :7007') ]]; then
    echo "note: port 7007 is in use on this machine; skipping the default-address check"
    exit 0
fi
"$SOCKIT" serve -v 2>"$TMP/default.log" &
pid=$!
PIDS+=("$pid")
for ((i = 0; i < 100; i++)); do
    grep -q 'sockit: serving' "$TMP/default.log" && break
    if ! kill -0 "$pid" 2>/dev/null; then
        # Someone took the port between the check and the bind.
        grep -q 'Address already in use' "$TMP/default.log" &&
            { echo "note: port 7007 was taken meanwhile; skipping"; exit 0; }
        fail "sockit serve exited: $(cat "$TMP/default.log")"
    fi
    sleep 0.05
done
# The best backend is the first one `serve --help` lists.
best=$("$SOCKIT" serve --help | sed -n 's/.*event backend for loop models: \([a-z_]*\).*/\1/p')
[[ -n $best ]] || fail "serve --help lists no backends"
grep -qx "sockit: serving echo on 127.0.0.1:7007 (model loop, backend $best)" "$TMP/default.log" ||
    fail "default serve line: $(head -n1 "$TMP/default.log")"
# Loopback only: not on the wildcard address.
[[ $(ss -Hltn 'sport = :7007' | awk '{print $4}') == 127.0.0.1:7007 ]] || fail "not bound to 127.0.0.1:7007 alone"
expect_rc 0 sh -c "printf 'default\n' | '$SOCKIT' connect 127.0.0.1:7007"
[[ $(cat "$TMP/last.out") == default ]] || fail "echo on the default address gave '$(cat "$TMP/last.out")'"
expect_rc 0 sh -c "printf 'nc default\n' | nc -N 127.0.0.1 7007"
[[ $(cat "$TMP/last.out") == "nc default" ]] || fail "nc on the default address gave '$(cat "$TMP/last.out")'"
stop_server "$pid"
pass "sockit serve with no options: echo on 127.0.0.1:7007, loop model, backend $best"
