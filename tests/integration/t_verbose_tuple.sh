#!/usr/bin/env bash
# serve -v logs exactly one open and one close line per connection, each with
# the 4-tuple "clientip:port -> serverip:port" that matches the client's real
# local port; --json gives the same events as JSON lines.
. "$(dirname "$0")/lib.sh"

# python_clients HOST PORT N: N echo round trips, printing each client's own
# "ip port" as the kernel bound it (getsockname), one per line.
python_clients() {
    timeout 30 "$PYTHON" - "$@" <<'PY'
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    s = socket.create_connection((host, port), timeout=10)
    ip, lport = s.getsockname()[:2]
    msg = b"tuple %d\n" % i
    s.sendall(msg)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
    assert got == msg, got
    s.close()
    print(ip, lport, len(msg))
PY
}

# fmt IP PORT: the address as sockit prints it.
fmt() { if [[ $1 == *:* ]]; then echo "[$1]:$2"; else echo "$1:$2"; fi; }

for host in 127.0.0.1 '[::1]'; do
    name="v-${host//[^0-9a-z]/}"
    start_server "$name" --service echo --listen "$host:0" -v
    log="$TMP/$name.log"
    python_clients "$SERVER_HOST" "$SERVER_PORT" 5 >"$TMP/clients" || fail "python clients failed"

    # And our own client: its local port read from the kernel's socket table
    # while the connection is up.
    mkfifo "$TMP/fifo.$name"
    "$SOCKIT" connect "$SERVER_ADDR" <"$TMP/fifo.$name" >"$TMP/sc.out" 2>&1 &
    sc=$!
    PIDS+=("$sc")
    exec 3>"$TMP/fifo.$name"
    lport=
    for ((i = 0; i < 100; i++)); do
        lport=$(ss -Htn state established "( dport = :$SERVER_PORT )" | awk 'NR == 1 {sub(/.*:/, "", $3); print $3}')
        [[ -n $lport ]] && break
        sleep 0.05
    done
    [[ -n $lport ]] || fail "could not see sockit connect's socket in ss"
    printf 'own\n' >&3
    exec 3>&-
    wait "$sc" || fail "sockit connect failed: $(cat "$TMP/sc.out")"
    echo "$SERVER_HOST $lport 4" >>"$TMP/clients"

    # Let the last close line land, then stop.
    for ((i = 0; i < 100; i++)); do
        (($(grep -c 'sockit: close' "$log") >= 6)) && break
        sleep 0.05
    done
    stop_server "$SERVER_PID"
    (($(grep -c 'sockit: open ' "$log") == 6)) || fail "$host: wanted 6 open lines: $(cat "$log")"
    (($(grep -c 'sockit: close ' "$log") == 6)) || fail "$host: wanted 6 close lines: $(cat "$log")"
    while read -r ip port bytes; do
        tuple="$(fmt "$ip" "$port") -> $SERVER_ADDR"
        (($(grep -cxF "sockit: open  $tuple" "$log") == 1)) || fail "no single open line for '$tuple': $(cat "$log")"
        (($(grep -cxF "sockit: close $tuple in=$bytes out=$bytes" "$log") == 1)) ||
            fail "no single close line for '$tuple' in=$bytes out=$bytes: $(cat "$log")"
    done <"$TMP/clients"
    pass "$host: one open and one close line per connection, each with the client's real port"
done

# --json: the same events, machine-readable, on stdout.
"$SOCKIT" serve --service echo --listen 127.0.0.1:0 --json >"$TMP/json.out" 2>"$TMP/json.log" &
jpid=$!
PIDS+=("$jpid")
for ((i = 0; i < 100; i++)); do
    grep -q '"event":"listen"' "$TMP/json.out" 2>/dev/null && break
    sleep 0.05
done
jport=$(sed -n 's/.*"addr":"127.0.0.1:\([0-9]*\)".*/\1/p' "$TMP/json.out")
[[ -n $jport ]] || fail "--json gave no listen event: $(cat "$TMP/json.out")"
python_clients 127.0.0.1 "$jport" 3 >"$TMP/jclients" || fail "python clients failed against --json server"
stop_server "$jpid"
"$PYTHON" - "$TMP/json.out" "$TMP/jclients" "$jport" <<'PY' || fail "--json events wrong: $(cat "$TMP/json.out")"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
clients = [l.split() for l in open(sys.argv[2])]
port = sys.argv[3]
assert events[0]["event"] == "listen" and events[0]["addr"] == "127.0.0.1:" + port, events[0]
assert events[0]["service"] == "echo" and events[0]["model"] == "loop", events[0]
for ip, lport, n in clients:
    conn = "%s:%s -> 127.0.0.1:%s" % (ip, lport, port)
    opens = [e for e in events if e["event"] == "open" and e["conn"] == conn]
    closes = [e for e in events if e["event"] == "close" and e["conn"] == conn]
    assert len(opens) == 1 and len(closes) == 1, conn
    assert closes[0]["bytes_in"] == int(n) and closes[0]["bytes_out"] == int(n), closes[0]
assert len([e for e in events if e["event"] == "open"]) == len(clients)
st = events[-1]
assert st["event"] == "stats" and st["accepted"] == len(clients) and st["active"] == 0, st
PY
pass "--json: listen, open/close per connection with the 4-tuple and byte counts, stats at exit"
