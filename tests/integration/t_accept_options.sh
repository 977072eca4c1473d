#!/usr/bin/env bash
# serve --defer-accept and --fastopen, with real clients.
# --defer-accept: a client that connects and says nothing is not handed to
# the server (its connection waits in SYN-RECV on the server's side) while
# a client that sends its request is answered at once; after the defer time
# the silent one is accepted too.
# --fastopen: in a network namespace of the test's own where
# net.ipv4.tcp_fastopen allows the server side, curl --tcp-fastopen's
# second request (with the cookie from the first) carries its data in the
# SYN, and the kernel counts a passive Fast Open (TcpExtTCPFastOpenPassive);
# so do sockit bench --fastopen's connections.
. "$(dirname "$0")/lib.sh"

expect_rc 2 "$SOCKIT" serve --defer-accept 0
expect_rc 2 "$SOCKIT" serve --defer-accept soon
expect_rc 2 "$SOCKIT" serve --fastopen 0
expect_rc 2 "$SOCKIT" serve --proto udp --fastopen 16
expect_rc 2 "$SOCKIT" serve --proto udp --defer-accept 2s
expect_rc 2 "$SOCKIT" bench 127.0.0.1:9 --proto udp --fastopen
pass "bad --defer-accept / --fastopen values are usage errors"

for model in loop prefork hybrid; do
    start_server "defer-$model" --service http --model "$model" --workers 2 --defer-accept 2s --listen 127.0.0.1:0
    # The silent client: a python socket that connects and waits.
    "$PYTHON" -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(6)' "$SERVER_PORT" &
    SILENT=$!
    PIDS+=("$SILENT")
    for ((i = 0; i < 40; i++)); do
        (($(ss -tnH state syn-recv "( sport = :$SERVER_PORT )" | wc -l) == 1)) && break
        sleep 0.05
    done
    (($(ss -tnH state syn-recv "( sport = :$SERVER_PORT )" | wc -l) == 1)) ||
        fail "$model: the silent client is not held in SYN-RECV: $(ss -tanH "( sport = :$SERVER_PORT )")"
    code=$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://$SERVER_ADDR/") || fail "$model: curl failed"
    [[ $code == 200 ]] || fail "$model: curl got $code"
    (($(ss -tnH state established "( sport = :$SERVER_PORT )" | wc -l) == 0)) ||
        fail "$model: the silent client was accepted before the defer time"
    pass "$model --defer-accept 2s: the silent client waits in SYN-RECV, curl is answered at once"
    # After the defer time (one SYN-ACK retransmission or two) it is accepted.
    for ((i = 0; i < 100; i++)); do
        (($(ss -tnH state established "( sport = :$SERVER_PORT )" | wc -l) == 1)) && break
        sleep 0.05
    done
    (($(ss -tnH state established "( sport = :$SERVER_PORT )" | wc -l) == 1)) ||
        fail "$model: the silent client was never accepted: $(ss -tanH "( sport = :$SERVER_PORT )")"
    pass "$model: the silent client is accepted after the defer time"
    kill "$SILENT" 2>/dev/null || true
    wait "$SILENT" 2>/dev/null || true
    stop_server "$SERVER_PID"
done

# http's connections run with TCP_NODELAY, set once on the listener and
# inherited by every accepted socket: the test takes a copy of the server's
# side of a connection (pidfd_getfd) and reads the option; echo's have none.
cat >"$TMP/nodelay.py" <<'PY'
import ctypes, os, socket, sys, time
# nodelay.py PID PORT: connect to 127.0.0.1:PORT, find the server's side of
# that connection in process PID or a child of it, take a copy of it (pidfd_getfd) and print
# its TCP_NODELAY.
pid, port = int(sys.argv[1]), int(sys.argv[2])
c = socket.create_connection(("127.0.0.1", port))
c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
c.recv(4096)
cport = c.getsockname()[1]
inode = None
for line in open("/proc/net/tcp").readlines()[1:]:
    f = line.split()
    if int(f[1].split(":")[1], 16) == port and int(f[2].split(":")[1], 16) == cport:
        inode = f[9]
libc = ctypes.CDLL(None, use_errno=True)
# The server or one of its children (prefork's workers, fork's per-connection
# processes) holds it.
procs = [pid] + [int(d) for d in os.listdir("/proc") if d.isdigit() and
                 open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1] == str(pid)]
for p in procs:
    for fd in os.listdir(f"/proc/{p}/fd"):
        try:
            if os.readlink(f"/proc/{p}/fd/{fd}") != f"socket:[{inode}]":
                continue
        except OSError:
            continue
        mine = libc.syscall(438, os.pidfd_open(p), int(fd), 0)  # pidfd_getfd
        if mine < 0:
            sys.exit("pidfd_getfd: errno %d" % ctypes.get_errno())
        s = socket.socket(fileno=mine)
        print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        sys.exit(0)
sys.exit("the server's side of the connection was not found")
PY
for model in loop prefork hybrid fork thread; do
    for svc in http echo; do
        start_server "nodelay-$model-$svc" --service "$svc" --model "$model" --workers 2 --listen 127.0.0.1:0
        got=
        for ((try = 0; try < 20; try++)); do
            got=$("$PYTHON" "$TMP/nodelay.py" "$SERVER_PID" "$SERVER_PORT" 2>/dev/null) && break
            sleep 0.1 # prefork's workers start just after the server says it serves
        done
        want=0
        [[ $svc == http ]] && want=1
        [[ $got == "$want" ]] || fail "$model $svc: TCP_NODELAY '$got' on the server's side, wanted $want"
        stop_server "$SERVER_PID"
    done
done
pass "http's connections have TCP_NODELAY from the listener (loop, prefork, hybrid, fork, thread); echo's do not"

. "$(dirname "$0")/helpers/netns.sh"
NS="sk-$$-tfo"
if ! ip netns add "$NS" 2>/dev/null; then
    echo "skip [$TEST_NAME]: 'ip netns add' is not permitted here; --fastopen not tested"
    exit 0
fi
NETNS+=("$NS")
IN=(ip netns exec "$NS")
IN_SOCKIT=$(ns_sockit "$NS")
"${IN[@]}" ip link set lo up
"${IN[@]}" sysctl -qw net.ipv4.tcp_fastopen=3
tfo_passive() { "${IN[@]}" nstat -az TcpExtTCPFastOpenPassive | awk '$1 == "TcpExtTCPFastOpenPassive" {print $2}'; }
for model in loop prefork; do
    SOCKIT=$IN_SOCKIT start_server "tfo-$model" --service http --model "$model" --workers 2 --fastopen 16 \
        --listen 127.0.0.1:0
    addr=$SERVER_ADDR
    before=$(tfo_passive)
    for ((i = 0; i < 3; i++)); do
        code=$("${IN[@]}" timeout 5 curl -s --tcp-fastopen -o /dev/null -w '%{http_code}' "http://$addr/") ||
            fail "$model: curl --tcp-fastopen failed"
        [[ $code == 200 ]] || fail "$model: curl --tcp-fastopen got $code"
    done
    after=$(tfo_passive)
    ((after - before >= 2)) || fail "$model: $((after - before)) passive Fast Opens for 3 requests (want >= 2)"
    pass "$model --fastopen 16: curl --tcp-fastopen answered, $((after - before)) of 3 with data in the SYN"
    # sockit bench --fastopen as the client: after the first connection's
    # cookie every request rides in its SYN.
    before=$(tfo_passive)
    "${IN[@]}" timeout 20 "$SOCKIT" bench "$addr" --proto http --new-conn --fastopen -c 4 -n 200 --json >"$TMP/tfo.json" ||
        fail "$model: sockit bench --fastopen failed"
    grep -q '"errors":{"connect":0,"read":0,"write":0,"timeout":0,"status":0}' "$TMP/tfo.json" ||
        fail "$model: sockit bench --fastopen errors: $(cat "$TMP/tfo.json")"
    after=$(tfo_passive)
    ((after - before >= 190)) || fail "$model: $((after - before)) passive Fast Opens for 200 bench connections"
    pass "$model: sockit bench --fastopen: $((after - before)) of 200 connections with the request in the SYN"
    stop_server "$SERVER_PID"
done
# Without --fastopen the server takes none (the cookie is refused).
SOCKIT=$IN_SOCKIT start_server tfo-off --service http --listen 127.0.0.1:0
addr=$SERVER_ADDR
before=$(tfo_passive)
for ((i = 0; i < 3; i++)); do
    "${IN[@]}" timeout 5 curl -s --tcp-fastopen -o /dev/null "http://$addr/" || fail "curl to the plain server failed"
done
after=$(tfo_passive)
((after == before)) || fail "$((after - before)) passive Fast Opens without --fastopen"
pass "without --fastopen: no data taken in the SYN"
stop_server "$SERVER_PID"
