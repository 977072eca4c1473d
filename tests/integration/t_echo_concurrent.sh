#!/usr/bin/env bash
# 200 echo clients connected at once, each sending its own data and checking
# that exactly its own data comes back, on every event backend; parallel
# `sockit connect` runs; and clients that send without reading cannot grow
# the server's memory.
. "$(dirname "$0")/lib.sh"

CLIENTS=200
backends=$("$SOCKIT" serve --help | sed -n 's/.*event backend for loop models: //p')
[[ -n $backends ]] || fail "serve --help lists no backends"

# concurrent_clients: $CLIENTS python clients against SERVER_HOST:SERVER_PORT,
# all connected before any sends, with a deadline.
concurrent_clients() {
    timeout 90 "$PYTHON" - "$SERVER_HOST" "$SERVER_PORT" "$CLIENTS" <<'PY' || fail "python echo clients failed"
import os, selectors, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + 60
socks = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=10)
    s.setblocking(False)
    # Distinct per client: its index, then random bytes of a varying size.
    data = b"client-%03d:" % i + os.urandom(16384 + 97 * i)
    socks.append({"s": s, "data": data, "sent": 0, "got": bytearray(), "i": i})
# Every client is connected before anyone sends.
sel = selectors.DefaultSelector()
for c in socks:
    sel.register(c["s"], selectors.EVENT_READ | selectors.EVENT_WRITE, c)
left = n
while left:
    if time.monotonic() > deadline:
        sys.exit("deadline: %d clients unfinished" % left)
    for key, ev in sel.select(timeout=1):
        c = key.data
        s = c["s"]
        if ev & selectors.EVENT_WRITE and c["sent"] < len(c["data"]):
            c["sent"] += s.send(c["data"][c["sent"]:c["sent"] + 8192])
            if c["sent"] == len(c["data"]):
                s.shutdown(socket.SHUT_WR)
                sel.modify(s, selectors.EVENT_READ, c)
        if ev & selectors.EVENT_READ:
            try:
                b = s.recv(65536)
            except BlockingIOError:
                continue
            if b:
                c["got"] += b
                continue
            # EOF: the server finished this client.
            sel.unregister(s)
            s.close()
            left -= 1
            if bytes(c["got"]) != c["data"]:
                sys.exit("client %d: got %d bytes, sent %d, mismatch" % (c["i"], len(c["got"]), len(c["data"])))
print("python: %d clients verified" % n)
PY
}

for be in $backends; do
    start_server "echo-$be" --service echo --backend "$be" --listen 127.0.0.1:0 -v
    log="$TMP/echo-$be.log"
    grep -q "backend $be)" "$log" || fail "server did not use backend $be"
    concurrent_clients
    pass "$be: $CLIENTS concurrent python clients each got exactly their own data back"

    # The server really had them all at once: $CLIENTS opens before the first close.
    first_close=$(grep -m1 -n 'sockit: close' "$log" | cut -d: -f1)
    [[ -n $first_close ]] || fail "$be: no close line in the server log"
    opens_before=$(head -n "$((first_close - 1))" "$log" | grep -c 'sockit: open' || true)
    ((opens_before == CLIENTS)) || fail "$be: only $opens_before opens before the first close, wanted $CLIENTS"
    stop_server "$SERVER_PID"
    grep -q "stats accepted=$CLIENTS active=0 closed=$CLIENTS " "$log" || fail "$be: counters: $(grep stats "$log")"
    pass "$be: server held $opens_before connections at once and closed them all"
done

start_server echo --service echo --listen 127.0.0.1:0 -v
log="$TMP/echo.log"

# Parallel sockit connect processes, each with its own payload.
PAR=40
is_sanitized && PAR=20
pids=()
for ((i = 0; i < PAR; i++)); do
    { printf 'sockit-client-%d\n' "$i"; head -c $((50000 + i * 1000)) /dev/urandom; } >"$TMP/in.$i"
    timeout 60 "$SOCKIT" connect "$SERVER_ADDR" <"$TMP/in.$i" >"$TMP/out.$i" 2>"$TMP/err.$i" &
    pids+=($!)
done
for ((i = 0; i < PAR; i++)); do
    rc=0
    wait "${pids[$i]}" || rc=$?
    ((rc == 0)) || fail "sockit connect #$i exited $rc: $(cat "$TMP/err.$i")"
    cmp -s "$TMP/in.$i" "$TMP/out.$i" || fail "sockit connect #$i: reply differs from what it sent"
done
pass "$PAR parallel sockit connect clients each got their own data back"

# Backpressure: clients that keep sending but never read. Once their replies
# fill the socket buffers and the server's bounded buffer, the server must
# stop reading from them, so its memory stays flat while they push.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
STUCK=20
rss0=$(rss_kb)
timeout 30 "$PYTHON" - "$SERVER_HOST" "$SERVER_PORT" "$STUCK" "$TMP/stuck.ready" "$TMP/stuck.done" <<'PY' &
import os, socket, sys, time
host, port, n, ready, done = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
socks = [socket.create_connection((host, port), timeout=10) for _ in range(n)]
for s in socks:
    s.setblocking(False)
chunk = b"x" * 65536
sent = [0] * n
def push():
    for i, s in enumerate(socks):
        try:
            sent[i] += s.send(chunk)
        except BlockingIOError:
            pass
end = time.monotonic() + 3
while time.monotonic() < end:
    push()
    time.sleep(0.01)
# Each one got stuck: the server stopped taking its bytes (bounded, not
# 3 s of loopback bandwidth).
for i in range(n):
    assert 0 < sent[i] < 64 << 20, (i, sent[i])
print("stuck senders pushed %d..%d bytes each before the server stopped reading" % (min(sent), max(sent)))
open(ready, "w").close()
# Keep pushing (and stay connected) while the server is measured.
end = time.monotonic() + 20
while not os.path.exists(done) and time.monotonic() < end:
    push()
    time.sleep(0.05)
PY
stuck=$!
PIDS+=("$stuck")
for ((i = 0; i < 200; i++)); do
    [[ -e $TMP/stuck.ready ]] && break
    kill -0 "$stuck" 2>/dev/null || break
    sleep 0.05
done
[[ -e $TMP/stuck.ready ]] || fail "non-reading senders misbehaved"
rss1=$(rss_kb)
growth=$(((rss1 - rss0) / 1024))
echo "echo: RSS ${rss0} kB before, ${rss1} kB with $STUCK stuck senders"
((growth < 20)) || fail "server RSS grew by $growth MiB with $STUCK clients that never read"
# And it still serves everyone else while they are stuck.
expect_rc 0 sh -c "printf 'still here\n' | '$SOCKIT' connect '$SERVER_ADDR'"
[[ $(cat "$TMP/last.out") == "still here" ]] || fail "server stopped serving while clients were stuck"
touch "$TMP/stuck.done"
wait "$stuck" || fail "non-reading senders failed"
pass "RSS growth ${growth} MiB (< 20) with $STUCK clients that send and never read; others still served"
stop_server "$SERVER_PID"
