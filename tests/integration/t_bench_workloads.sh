#!/usr/bin/env bash
# sockit bench's other workloads, each checked against what the server saw:
# --procs 3 with 300 held connections from three source addresses (the
# merged counts equal the server's accept and byte counts, ss shows 100 per
# source), --new-conn against sockit (accepts, bytes, TIME_WAIT) and against
# a python3 HTTP server that counts its connections and their requests,
# --proto udp against sockit, socat and a python3 server that drops every
# 5th datagram (loss counted exactly), --idle's longest gap, usage errors
# and a small sweep of each new workload.
. "$(dirname "$0")/lib.sh"

# serve --json: SERVER_ADDR from the listen event; stats at exit.
start_json_server() { # NAME ARGS...
    local name=$1 i
    shift
    # The file exists before the server starts: the redirection happens in
    # the child, and sed on a missing file would end the test (pipefail).
    : >"$TMP/$name.json"
    "$SOCKIT" serve "$@" --json >"$TMP/$name.json" 2>"$TMP/$name.log" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for ((i = 0; i < 100; i++)); do
        SERVER_ADDR=$(sed -n 's/.*"event":"listen","addr":"\([^"]*\)".*/\1/p' "$TMP/$name.json" 2>/dev/null | head -n1)
        [[ -n $SERVER_ADDR ]] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || fail "server $name exited: $(cat "$TMP/$name.log")"
        sleep 0.05
    done
    fail "server $name did not start: $(cat "$TMP/$name.log")"
}
stats_of() { # NAME KEY: the last stats event's KEY
    $PYTHON - "$TMP/$1.json" "$2" <<'PY'
import json, sys
last = [json.loads(l) for l in open(sys.argv[1]) if '"event":"stats"' in l][-1]
print(last[sys.argv[2]])
PY
}
jget() { # FILE PYTHON-EXPR over r
    $PYTHON -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# 1. --procs 3, 300 held connections, one echo each every 200 ms, from
# 127.0.0.2-127.0.0.4: each process binds its own source address.
start_json_server procs --service echo --listen 127.0.0.1:0
port=${SERVER_ADDR##*:}
"$SOCKIT" bench "$SERVER_ADDR" --procs 3 -c 300 --idle 200ms -d 3 --source 127.0.0.2-127.0.0.4 --json \
    >"$TMP/procs.out" 2>"$TMP/procs.err" &
bpid=$!
PIDS+=("$bpid")
sleep 1.8
ss -Htn state established "( dport = :$port )" >"$TMP/ss.out"
wait "$bpid" || fail "bench --procs 3: $(cat "$TMP/procs.err")"
for a in 127.0.0.2 127.0.0.3 127.0.0.4; do
    n=$(grep -c " $a:[0-9]* *127.0.0.1:$port\$" "$TMP/ss.out" || true)
    ((n == 100)) || fail "ss shows $n connections from $a, wanted 100: $(head -5 "$TMP/ss.out")"
done
stop_server "$SERVER_PID"
acc=$(stats_of procs accepted) sin=$(stats_of procs bytes_in)
$PYTHON - "$TMP/procs.out" "$acc" "$sin" <<'PY' || fail "bench --procs 3: $(cat "$TMP/procs.out")"
import json, sys
r = json.load(open(sys.argv[1]))
acc, sin = int(sys.argv[2]), int(sys.argv[3])
assert r["procs"] == 3 and r["connections"] == 300 and r["source_addrs"] == 3, r
assert r["connects"] == 300 == acc, (r["connects"], acc)
assert r["bytes_out"] == sin, (r["bytes_out"], sin)       # merged over the processes, byte for byte
assert sum(r["errors"].values()) == 0, r["errors"]
i = r["idle"]
assert i["open_at_end"] == 300 and 0.15 <= i["max_gap_s"] < 0.9, i
assert 300 * 3 / 0.2 * 0.6 <= r["requests"] <= 300 * 3 / 0.2 * 1.1, r["requests"]
assert r["established_s"] is not None and r["established_s"] < 2, r["established_s"]
PY
pass "--procs 3 -c 300 from 3 sources: 300 connects = server's accepts, bytes equal, 100 per source in ss"

# -n over 3 processes and 2 threads each: exactly that many requests, and
# the server read exactly their bytes.
start_json_server count --service echo --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" --procs 3 -t 2 -c 31 -n 7001 --json
cp "$TMP/last.out" "$TMP/count.out"
stop_server "$SERVER_PID"
sin=$(stats_of count bytes_in) acc=$(stats_of count accepted)
$PYTHON - "$TMP/count.out" "$sin" "$acc" <<'PY' || fail "bench --procs 3 -n 7001: $(cat "$TMP/count.out"), server read $sin"
import json, sys
r = json.load(open(sys.argv[1]))
sin, acc = int(sys.argv[2]), int(sys.argv[3])
assert r["requests_asked"] == 7001 and r["requests"] == 7001, r
assert r["bytes_out"] == r["bytes_in"] == sin == 7001 * 64, (r, sin)
assert r["connects"] == acc == 31 and sum(r["errors"].values()) == 0, (r, acc)
PY
pass "--procs 3 -t 2 -c 31 -n 7001: 7001 requests merged, the server read 7001 x 64 bytes"

# The same merge in the text report.
start_server echo --service echo --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" --procs 2 -c 6 -d 0.5
grep -q '^sockit bench .*: 6 connections, 2 processes, 1 threads each,' "$TMP/last.out" ||
    fail "--procs report head: $(cat "$TMP/last.out")"
grep -qE '^  connects +6 ' "$TMP/last.out" || fail "--procs report connects: $(cat "$TMP/last.out")"
pass "--procs text report"

# A parent killed with SIGKILL takes its processes with it.
"$SOCKIT" bench "$SERVER_ADDR" --procs 3 -c 6 -d 30 >/dev/null 2>&1 &
bpid=$!
PIDS+=("$bpid")
kids=
for ((i = 0; i < 100; i++)); do
    kids=$(pgrep -P "$bpid" || true)
    (($(wc -w <<<"$kids") == 3)) && break
    sleep 0.05
done
(($(wc -w <<<"$kids") == 3)) || fail "bench --procs 3 started $(wc -w <<<"$kids") processes: $kids"
kill -9 "$bpid"
wait "$bpid" 2>/dev/null || true
for ((i = 0; i < 40; i++)); do
    alive=0
    for k in $kids; do kill -0 "$k" 2>/dev/null && alive=$((alive + 1)); done
    ((alive == 0)) && break
    sleep 0.05
done
((alive == 0)) || fail "$alive of bench's 3 processes outlived their parent's SIGKILL"
pass "--procs: the processes end with their parent (SIGKILL)"

# 2. --new-conn against sockit echo: every connection carries one request;
# what the server accepted and read matches, and the client's closes are
# TIME_WAIT on the client side.
start_json_server churn --service echo --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" --new-conn -c 4 -d 1 --json
cp "$TMP/last.out" "$TMP/churn.out"
stop_server "$SERVER_PID"
acc=$(stats_of churn accepted) sin=$(stats_of churn bytes_in)
$PYTHON - "$TMP/churn.out" "$acc" "$sin" <<'PY' || fail "bench --new-conn: $(cat "$TMP/churn.out") accepted $acc"
import json, sys
r = json.load(open(sys.argv[1]))
acc, sin = int(sys.argv[2]), int(sys.argv[3])
c = r["connections"]
assert r["new_conn"] and sum(r["errors"].values()) == 0, r
assert r["requests"] > 100, r["requests"]
# One request per connection: completed <= connects <= completed + the
# connections open (not yet answered) at the end.
assert r["requests"] <= r["connects"] <= r["requests"] + c, r
# A connect still in flight at the end can reach the server uncounted.
assert r["connects"] <= acc <= r["connects"] + c, (r["connects"], acc)
assert r["bytes_out"] == sin and r["bytes_in"] == r["requests"] * 64, (r, sin)
k = r["kernel"]
assert k["listen_overflows"] >= 0 and k["listen_drops"] >= 0, k
# The client closes first: TIME_WAIT is its side, one per connection,
# but for those closed at the end with an answer unread (reset, no
# TIME_WAIT) or still connecting.
assert r["connects"] - c <= k["time_wait"] <= r["connects"] + c, k
assert abs(r["connects_per_s"] - r["connects"] / r["elapsed_s"]) < 1, r
cu = r["connect_us"]
assert 0 < cu["p50"] <= cu["p99"] <= cu["max"], cu
PY
pass "--new-conn echo: $(jget "$TMP/churn.out" 'r["connects"]') connects, server accepted $acc, TIME_WAIT $(jget "$TMP/churn.out" 'r["kernel"]["time_wait"]')"

# --new-conn over HTTP against a python3 server that counts connections,
# requests and the requests that asked for Connection: close.
cat >"$TMP/http_count.py" <<'PY'
import signal, socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(128)
print(s.getsockname()[1], flush=True)
n = {"accepts": 0, "requests": 0, "close": 0, "most": 0}
lock = threading.Lock()
def serve(c):
    buf, reqs = b"", 0
    while True:
        while b"\r\n\r\n" not in buf:
            try:
                d = c.recv(4096)
            except OSError:  # reset: the client closed at the end of its run
                d = b""
            if not d:
                c.close()
                with lock:
                    n["most"] = max(n["most"], reqs)
                return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        reqs += 1
        with lock:
            n["requests"] += 1
            n["close"] += b"\r\nconnection: close" in head.lower()
        try:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except OSError:
            pass
def stop(*_):
    with lock:
        with open(sys.argv[1], "w") as f:
            print(n["accepts"], n["requests"], n["close"], n["most"], file=f)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    c, _ = s.accept()
    with lock:
        n["accepts"] += 1
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
$PYTHON "$TMP/http_count.py" "$TMP/http_count.counts" >"$TMP/http_count.out" 2>"$TMP/http_count.log" &
hpid=$!
PIDS+=("$hpid")
for ((i = 0; i < 100; i++)); do
    [[ -s $TMP/http_count.out ]] && break
    sleep 0.05
done
hport=$(head -n1 "$TMP/http_count.out")
[[ $hport =~ ^[0-9]+$ ]] || fail "python3 HTTP server: $(cat "$TMP/http_count.out")"
expect_rc 0 "$SOCKIT" bench "127.0.0.1:$hport" --proto http --new-conn -c 3 -d 1 --json
cp "$TMP/last.out" "$TMP/hchurn.out"
sleep 0.3
kill -TERM "$hpid"
wait "$hpid" || true
[[ -s $TMP/http_count.counts ]] || fail "python3 server wrote no counts: $(cat "$TMP/http_count.log")"
read -r acc reqs closes most <"$TMP/http_count.counts"
$PYTHON - "$TMP/hchurn.out" "$acc" "$reqs" "$closes" "$most" <<'PY' || fail "HTTP --new-conn: $(cat "$TMP/hchurn.out"); server: $acc $reqs $closes $most"
import json, sys
r = json.load(open(sys.argv[1]))
acc, reqs, closes, most = map(int, sys.argv[2:6])
c = r["connections"]
assert sum(r["errors"].values()) == 0 and r["requests"] > 20, r
assert closes == reqs and most == 1, (reqs, closes, most)   # every request asked to close, one per connection
assert r["requests"] <= reqs <= r["requests"] + c, (r["requests"], reqs)
assert r["connects"] <= acc <= r["connects"] + c, (r["connects"], acc)
PY
pass "--new-conn http against python3: $reqs requests on $acc connections, each one with Connection: close"

# 3. UDP echo against sockit: nothing lost, every datagram answered.
start_server udp --proto udp --service echo --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" --proto udp -c 3 -t 2 --pipeline 4 --size 100 -d 1 --json
$PYTHON - "$TMP/last.out" <<'PY' || fail "udp against sockit: $(cat "$TMP/last.out")"
import json, sys
r = json.load(open(sys.argv[1]))
d = r["datagrams"]
assert r["service"] == "udp" and d["sent"] > 1000, r
assert d["sent"] == d["answered"] + d["lost"] and d["answered"] == r["requests"], d
assert d["lost"] == 0 and d["late"] == 0 and sum(r["errors"].values()) == 0, r
assert r["bytes_out"] == d["sent"] * 100 and r["bytes_in"] == d["answered"] * 100, r
assert r["connects"] == 3, r
PY
pass "udp against sockit: $(jget "$TMP/last.out" 'r["datagrams"]["sent"]') datagrams, none lost"
stop_server "$SERVER_PID"

# Against socat's UDP echo (a child per peer), at a fixed rate.
command -v socat >/dev/null || fail "socat is missing (tests/install-deps.sh installs it)"
socat UDP4-RECVFROM:0,bind=127.0.0.1,fork PIPE 2>"$TMP/socat.log" &
spid=$!
PIDS+=("$spid")
sport=$(listening_port "$spid" udp) || fail "socat did not bind: $(cat "$TMP/socat.log")"
expect_rc 0 "$SOCKIT" bench "127.0.0.1:$sport" --proto udp -c 1 --rate 100 -d 1 --timeout 1s --json
$PYTHON - "$TMP/last.out" <<'PY' || fail "udp against socat: $(cat "$TMP/last.out")"
import json, sys
r = json.load(open(sys.argv[1]))
d = r["datagrams"]
assert 70 <= d["sent"] <= 110 and d["answered"] == d["sent"] and d["lost"] == 0, d
PY
pass "udp against socat: $(jget "$TMP/last.out" 'r["datagrams"]["answered"]') answered of $(jget "$TMP/last.out" 'r["datagrams"]["sent"]')"
kill "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true

# A python3 echo that drops every 5th datagram it receives: the loss is
# counted exactly, and what was answered is what the server echoed.
cat >"$TMP/udp_drop.py" <<'PY'
import signal, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
n = {"recv": 0, "echoed": 0}
def stop(*_):
    with open(sys.argv[1], "w") as f:
        print(n["recv"], n["echoed"], file=f)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    d, peer = s.recvfrom(65536)
    n["recv"] += 1
    if n["recv"] % 5 != 0:
        s.sendto(d, peer)
        n["echoed"] += 1
PY
$PYTHON "$TMP/udp_drop.py" "$TMP/udp_drop.counts" >"$TMP/udp_drop.out" 2>"$TMP/udp_drop.log" &
dpid=$!
PIDS+=("$dpid")
for ((i = 0; i < 100; i++)); do
    [[ -s $TMP/udp_drop.out ]] && break
    sleep 0.05
done
dport=$(head -n1 "$TMP/udp_drop.out")
[[ $dport =~ ^[0-9]+$ ]] || fail "python3 UDP server: $(cat "$TMP/udp_drop.out")"
expect_rc 0 "$SOCKIT" bench "127.0.0.1:$dport" --proto udp -c 2 --pipeline 32 --rate 400 -d 1 --timeout 300ms --json
cp "$TMP/last.out" "$TMP/drop.json"
kill -TERM "$dpid"
wait "$dpid" || true
[[ -s $TMP/udp_drop.counts ]] || fail "python3 server wrote no counts: $(cat "$TMP/udp_drop.log")"
read -r recv echoed <"$TMP/udp_drop.counts"
$PYTHON - "$TMP/drop.json" "$recv" "$echoed" <<'PY' || fail "udp loss: $(cat "$TMP/drop.json"); server recv $recv echoed $echoed"
import json, sys
r = json.load(open(sys.argv[1]))
recv, echoed = int(sys.argv[2]), int(sys.argv[3])
d = r["datagrams"]
assert d["sent"] == recv, (d, recv)
assert d["answered"] == echoed and d["lost"] == recv - echoed == recv // 5, (d, recv, echoed)
assert d["late"] == 0 and d["sent"] == d["answered"] + d["lost"], d
assert 300 <= d["sent"] <= 440, d
PY
pass "udp loss: server dropped $((recv - echoed)) of $recv, bench counted $(jget "$TMP/drop.json" 'r["datagrams"]["lost"]') lost"

# The same with -n: every one of the 500 datagrams sent, a fifth lost.
$PYTHON "$TMP/udp_drop.py" "$TMP/udp_drop2.counts" >"$TMP/udp_drop2.out" 2>"$TMP/udp_drop2.log" &
dpid=$!
PIDS+=("$dpid")
for ((i = 0; i < 100; i++)); do
    [[ -s $TMP/udp_drop2.out ]] && break
    sleep 0.05
done
dport=$(head -n1 "$TMP/udp_drop2.out")
expect_rc 0 "$SOCKIT" bench "127.0.0.1:$dport" --proto udp -c 3 --pipeline 4 -n 500 --timeout 200ms --json
kill -TERM "$dpid"
wait "$dpid" || true
[[ -s $TMP/udp_drop2.counts ]] || fail "python3 server wrote no counts: $(cat "$TMP/udp_drop2.log")"
read -r recv echoed <"$TMP/udp_drop2.counts"
$PYTHON - "$TMP/last.out" "$recv" "$echoed" <<'PY' || fail "udp -n 500: $(cat "$TMP/last.out"); server recv $recv echoed $echoed"
import json, sys
r = json.load(open(sys.argv[1]))
recv, echoed = int(sys.argv[2]), int(sys.argv[3])
d = r["datagrams"]
assert d["sent"] == recv == 500 and d["answered"] == echoed == 400 and d["lost"] == 100, (d, recv, echoed)
PY
pass "udp -n 500 against a server dropping every 5th: 400 answered, 100 lost"

# Nothing listening on a UDP port: refused, exit 1.
uport=$($PYTHON -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
expect_rc 1 "$SOCKIT" bench "127.0.0.1:$uport" --proto udp -c 2 -d 2
grep -q "sockit: bench connect 127.0.0.1:$uport: Connection refused" "$TMP/last.err" ||
    fail "udp to nothing: $(cat "$TMP/last.err")"
pass "udp to a closed port: refused, exit 1"

# 4. --idle: 40 connections held, one echo each per 250 ms.
start_server idle --service echo --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" -c 40 --idle 250ms -d 2
grep -qE '^  held +40 open at the end, all in [0-9.]+ s, one echo each 0.250 s, longest gap 0\.[2-7][0-9]* s$' \
    "$TMP/last.out" || fail "--idle report: $(cat "$TMP/last.out")"
grep -qE 'errors +connect 0  read 0  write 0  timeout 0  bad status 0' "$TMP/last.out" ||
    fail "--idle errors: $(cat "$TMP/last.out")"
pass "--idle 250ms: $(sed -n 's/^  held *//p' "$TMP/last.out")"

# 5. Usage errors: one line, exit 2.
for args in "--procs 0" "--procs 65" "--procs 4 -c 2" "--source nope" "--source 127.0.0.9-127.0.0.2" \
    "--source 10.0.0.0/4" "--new-conn --pipeline 2" "--idle 1s --rate 10" "--idle 1ms" "--new-conn --idle 1s" \
    "--proto udp --size 8" "--proto udp --new-conn" "--workload churn" "--source ::1-::2" "-n 0" "--idle 1s -n 5"; do
    # shellcheck disable=SC2086
    expect_rc 2 "$SOCKIT" bench $args -d 0.2 "$SERVER_ADDR"
    [[ $(wc -l <"$TMP/last.err") == 1 ]] || fail "bench $args: not one line: $(cat "$TMP/last.err")"
    [[ ! -s $TMP/last.out ]] || fail "bench $args ran: $(cat "$TMP/last.out")"
done
expect_rc 2 "$SOCKIT" bench --sweep --workload bogus
expect_rc 2 "$SOCKIT" bench --sweep --workload udp --service http
expect_rc 2 "$SOCKIT" bench --sweep --procs 2
expect_rc 2 "$SOCKIT" bench --sweep --new-conn
expect_rc 2 "$SOCKIT" bench --sweep -n 100
pass "usage errors"
stop_server "$SERVER_PID"

# 6. The sweep over each new workload: its own columns in results.md,
# "workload" in results.json (checked against the schema in
# t_json_schemas), models that cannot run it skipped with the reason.
expect_rc 0 "$SOCKIT" bench --sweep --workload churn -d 0.5 --conns 2 --models loop --out "$TMP/sw-churn"
grep -qE '^\| loop \| [a-z]+ \| 2 \| [0-9]+ .*\| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ \|$' "$TMP/sw-churn/results.md" ||
    fail "churn sweep: $(cat "$TMP/sw-churn/results.md")"
grep -q 'conn/s | connect p99 us | ListenDrops | TIME_WAIT' "$TMP/sw-churn/results.md" || fail "churn columns"
expect_rc 0 "$SOCKIT" bench --sweep --workload udp -d 0.5 --conns 2 --models loop,fork --out "$TMP/sw-udp"
grep -qE '^\| loop \| [a-z]+ \| 2 \| [0-9]+ .*\| [0-9]+ \| 0 \| 0 \|$' "$TMP/sw-udp/results.md" ||
    fail "udp sweep: $(cat "$TMP/sw-udp/results.md")"
grep -q 'skipping model fork backend default: --proto udp runs under the loop and hybrid models only' "$TMP/last.err" ||
    fail "udp sweep did not skip fork: $(cat "$TMP/last.err")"
expect_rc 0 "$SOCKIT" bench --sweep --workload idle --idle 200ms -d 1.5 --conns 20 --models loop --json \
    --out "$TMP/sw-idle"
$PYTHON - "$TMP/last.out" <<'PY' || fail "idle sweep: $(cat "$TMP/last.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["workload"] == "idle", r
x = r["runs"][0]
assert x["server_rss_kb"] > 0 and x["server_rss_base_kb"] > 0, x
assert x["result"]["idle"]["open_at_end"] == 20 and x["result"]["requests"] > 0, x
PY
pass "sweep --workload churn, udp (fork skipped), idle (server RSS)"
