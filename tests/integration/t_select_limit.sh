#!/usr/bin/env bash
# The select backend cannot hold fds past FD_SETSIZE (1024). A server on it
# with more clients than that must refuse the excess cleanly with one warning
# each, keep serving the rest, and never touch memory outside its fd_sets
# (the ASan build checks that part).
. "$(dirname "$0")/lib.sh"

CLIENTS=1100
hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < CLIENTS + 64)); then
    echo "note: hard fd limit $hard is below $((CLIENTS + 64)); skipping"
    exit 0
fi
log="$TMP/select.log"
(ulimit -n $((CLIENTS + 64)) && exec "$SOCKIT" serve --service echo --backend select --listen 127.0.0.1:0 -v \
    2>"$log") &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
for ((i = 0; i < 100; i++)); do
    grep -q 'sockit: serving' "$log" 2>/dev/null && break
    sleep 0.05
done
SERVER_ADDR=$(sed -n 's/^sockit: serving .* on \([^ ,]*\)[ ,].*/\1/p' "$log")
[[ -n $SERVER_ADDR ]] || fail "server did not start: $(cat "$log")"
grep -q "backend select)" "$log" || fail "server is not on the select backend"

timeout 120 "$PYTHON" - "${SERVER_ADDR%:*}" "${SERVER_ADDR##*:}" "$CLIENTS" >"$TMP/result" <<'PY' || fail "clients failed"
import resource, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, hard))
socks = [socket.create_connection((host, port), timeout=10) for _ in range(n)]
time.sleep(0.5)
served = refused = 0
for i, s in enumerate(socks):
    msg = b"%d\n" % i
    try:
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            b = s.recv(64)
            if not b:
                break
            got += b
    except (ConnectionResetError, BrokenPipeError):
        got = b""
    if got == msg:
        served += 1
    else:
        assert got == b"", got
        refused += 1
print(served, refused)
PY
read -r served refused <"$TMP/result"
((served + refused == CLIENTS)) || fail "served $served + refused $refused != $CLIENTS"
# Below FD_SETSIZE all fit (less the server's own few fds); above, none.
((served >= 1000 && served < 1024)) || fail "select served $served connections, wanted just under 1024"
warns=$(grep -c 'cannot watch connection: file descriptor too large for the select backend' "$log" || true)
((warns == refused)) || fail "$warns warnings for $refused refused connections"
pass "select: $served served, $refused beyond FD_SETSIZE refused with one warning each"

expect_rc 0 sh -c "printf 'after\n' | '$SOCKIT' connect '$SERVER_ADDR'"
[[ $(cat "$TMP/last.out") == after ]] || fail "select server did not recover"
stop_server "$SERVER_PID"
pass "the select server keeps serving and exits 0"
