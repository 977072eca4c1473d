#!/usr/bin/env bash
# sockit lifecycle ADDR: only the client runs, against a server that is not
# sockit (socat, python3); the server's column holds what this host shows
# of its socket (sock_diag, or the tracepoint as root), --packets its
# segments; only the client's side is checked. Bad input: a name that
# does not resolve, a scenario that needs sockit's own server, a bad ADDR.
. "$(dirname "$0")/lib.sh"
SCHEMAS="$(dirname "$0")/../../docs/schema"
CHECK="$(dirname "$0")/helpers/json_schema_check.py"

# socat echoes each connection through cat and closes after its input
# ends: the client's FIN first, then socat's.
socat TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork EXEC:cat 2>"$TMP/socat.err" &
SOCAT=$!
PIDS+=("$SOCAT")
SP=$(listening_port "$SOCAT" tcp) || fail "socat did not listen: $(cat "$TMP/socat.err")"

for s in normal half-close rst; do
    timeout 20 "$SOCKIT" lifecycle -s "$s" "127.0.0.1:$SP" >"$TMP/$s.txt" 2>"$TMP/$s.err" || fail "$s against socat: $(cat "$TMP/$s.txt" "$TMP/$s.err")"
    head -n1 "$TMP/$s.txt" | grep -q "^sockit lifecycle: $s against 127\.0\.0\.1:$SP: the client's side of: " || fail "$s: $(head -n1 "$TMP/$s.txt")"
    grep -Eq "^ *\+[0-9.]+ ms  connect\([0-9]+, 127\.0\.0\.1:$SP\) = -1 EINPROGRESS" "$TMP/$s.txt" || fail "$s: no connect: $(cat "$TMP/$s.txt")"
    grep -q "^verdict: as expected$" "$TMP/$s.txt" || fail "$s: $(cat "$TMP/$s.txt")"
    # The server's column: socat's socket seen ESTABLISHED (while the
    # client waits for the watcher's first look), from this host's table.
    grep -Eq "^ *\+[0-9.]+ ms {40,}.*(\(kernel\) ESTABLISHED|\(tracepoint\) SYN_RECV -> ESTABLISHED)" "$TMP/$s.txt" ||
        fail "$s: the server's column shows nothing of socat: $(cat "$TMP/$s.txt")"
    # No server calls: they are socat's.
    grep -Eq "^ *\+[0-9.]+ ms {40,}.*(socket|bind|listen|accept)\(" "$TMP/$s.txt" && fail "$s: server calls: $(cat "$TMP/$s.txt")"
done
grep -Eq "^ *\+[0-9.]+ ms  \(kernel\) TIME_WAIT" "$TMP/normal.txt" || fail "normal: no TIME_WAIT on the client: $(cat "$TMP/normal.txt")"
grep -Eq "\(kernel\) TIME_WAIT" "$TMP/rst.txt" && fail "rst: a TIME_WAIT: $(cat "$TMP/rst.txt")"
pass "against socat: normal, half-close and rst as expected, the server's socket in its own column"

# A python3 server that answers and closes first (as serve --close-first
# does): server-closes, checked on the client's side, with --json.
cat >"$TMP/closer.py" <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
s.settimeout(30)
while True:
    c, _ = s.accept()
    c.sendall(c.recv(64))
    c.shutdown(socket.SHUT_WR)
    c.settimeout(2)
    try:
        while c.recv(64):
            pass
    except OSError:
        pass
    c.close()
PY
"$PYTHON" "$TMP/closer.py" >"$TMP/cport" &
CL=$!
PIDS+=("$CL")
for ((i = 0; i < 100; i++)); do [[ -s $TMP/cport ]] && break; sleep 0.05; done
CP=$(<"$TMP/cport")
[[ $CP =~ ^[0-9]+$ ]] || fail "python3 server gave no port"
timeout 20 "$SOCKIT" lifecycle --json -s server-closes "127.0.0.1:$CP" >"$TMP/sc.json" 2>"$TMP/sc.err" || fail "server-closes: $(cat "$TMP/sc.err"; tail -3 "$TMP/sc.json")"
grep -q '"event":"verdict","scenario":"server-closes","ok":true,.*"target":"127.0.0.1:'"$CP"'","server_seen":true' "$TMP/sc.json" || fail "server-closes verdict: $(tail -1 "$TMP/sc.json")"
grep -q '"side":"client","call":"recv","fd":[0-9]*,"args":"64 bytes","result":0,"state":"CLOSE_WAIT"' "$TMP/sc.json" || fail "server-closes: the client did not read EOF in CLOSE_WAIT: $(grep recv "$TMP/sc.json")"
timeout 60 /usr/bin/python3 "$CHECK" "$SCHEMAS" lifecycle "$TMP/sc.json" --lines --expect syscall,state,verdict >/dev/null || fail "--json against the schema"
# The same scenario against socat, which does not close first: the
# client's side is not what server-closes expects, and it says so.
expect_rc 1 timeout 20 "$SOCKIT" lifecycle -s server-closes "127.0.0.1:$SP"
grep -q "^unexpected: client states: wanted ESTABLISHED,CLOSE_WAIT" "$TMP/last.out" || fail "server-closes against socat: $(cat "$TMP/last.out")"
pass "server-closes against a python3 server that closes first (CLOSE_WAIT on the client, --json valid), and against socat which does not: exit 1 naming it"

if [[ $(id -u) -eq 0 ]]; then
    timeout 20 "$SOCKIT" lifecycle --packets --json "127.0.0.1:$SP" >"$TMP/p.json" 2>"$TMP/p.err" ||
        fail "--packets: $(cat "$TMP/p.err"; tail -3 "$TMP/p.json")"
    "$PYTHON" -c '
import json, sys
print(" ".join(e["from"][0] + ">" + e["flags"] for e in map(json.loads, open(sys.argv[1])) if e["event"] == "segment"))
' "$TMP/p.json" >"$TMP/flags"
    grep -Eq "^c>S s>SA c>A .*c>FA .*s>FA c>A$" "$TMP/flags" || fail "--packets against socat: $(cat "$TMP/flags")"
    if have_tracepoint; then
        grep -q '"side":"server","state":"CLOSE_WAIT","old_state":"ESTABLISHED","source":"tracepoint"' "$TMP/p.json" ||
            fail "as root: socat's CLOSE_WAIT from the tracepoint: $(grep '"side":"server"' "$TMP/p.json")"
    fi
    pass "--packets against socat: SYN, SYN+ACK, ACK ... FIN, FIN, ACK; socat's own states from the tracepoint (where there is one)"
fi

# refused needs no server: a port where nothing listens.
free=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_rc 0 timeout 20 "$SOCKIT" lifecycle -s refused "127.0.0.1:$free"
grep -q "ECONNREFUSED" "$TMP/last.out" || fail "refused: $(cat "$TMP/last.out")"
pass "refused against a port with no listener: ECONNREFUSED"

expect_rc 1 "$SOCKIT" lifecycle nosuch.invalid:80
grep -q "^sockit: lifecycle: resolve nosuch.invalid:80: " "$TMP/last.err" || fail "bad name: $(cat "$TMP/last.err")"
[[ $(wc -l <"$TMP/last.err") -eq 1 ]] || fail "bad name: more than one line: $(cat "$TMP/last.err")"
expect_rc 2 "$SOCKIT" lifecycle -s simultaneous-close "127.0.0.1:$SP"
grep -q "scenario simultaneous-close needs sockit's own server" "$TMP/last.err" || fail "own server: $(cat "$TMP/last.err")"
expect_rc 2 "$SOCKIT" lifecycle -s unread-data-close "127.0.0.1:$SP"
expect_rc 2 "$SOCKIT" lifecycle ":$SP"
expect_rc 2 "$SOCKIT" lifecycle "127.0.0.1:$SP" "127.0.0.1:$SP"
pass "a name that does not resolve (exit 1), scenarios that need sockit's server, a port alone, two operands (exit 2): one line each"
