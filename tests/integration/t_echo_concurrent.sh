#!/usr/bin/env bash
# 200 echo clients connected at once, each sending its own data and checking
# that exactly its own data comes back; plus parallel `sockit connect` runs.
. "$(dirname "$0")/lib.sh"

CLIENTS=200
start_server echo --service echo --listen 127.0.0.1:0 -v

# One python process holds all the connections open at once (so they are
# truly concurrent), then interleaves sends and reads with a deadline.
timeout 90 python3 - "$SERVER_HOST" "$SERVER_PORT" "$CLIENTS" <<'PY' || fail "python echo clients failed"
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
pass "$CLIENTS concurrent python clients each got exactly their own data back"

# The server really had them all at once: $CLIENTS opens before the first close.
log="$TMP/echo.log"
first_close=$(grep -n 'sockit: close' "$log" | head -n1 | cut -d: -f1)
opens_before=$(head -n "$((first_close - 1))" "$log" | grep -c 'sockit: open')
((opens_before == CLIENTS)) || fail "only $opens_before opens before the first close, wanted $CLIENTS"
pass "server held $opens_before connections at once"

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

stop_server "$SERVER_PID"
total=$((CLIENTS + PAR))
grep -q "stats accepted=$total active=0 closed=$total " "$log" || fail "server counters: $(grep stats "$log")"
pass "server counted $total connections, all closed"
