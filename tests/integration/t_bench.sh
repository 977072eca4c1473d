#!/usr/bin/env bash
# sockit bench against sockit serve: echo load with zero errors and valid
# JSON, a fixed rate that holds, connect errors and exit 1 when nothing
# listens, usage errors, and a tiny --sweep that writes table, JSON and SVG.
. "$(dirname "$0")/lib.sh"

start_server echo --service echo --listen 127.0.0.1:0

# 1. Closed loop for 2 s: requests, no errors, the documented JSON fields.
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" --proto echo -c 8 -d 2 --json
python3 -m json.tool "$TMP/last.out" >/dev/null || fail "bench --json is not JSON: $(cat "$TMP/last.out")"
python3 - "$TMP/last.out" <<'PY' || fail "bench JSON content: $(cat "$TMP/last.out")"
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("addr", "service", "connections", "threads", "pipeline", "elapsed_s", "rate_per_s", "requests",
          "requests_per_s", "bytes_in", "bytes_out", "bytes_in_per_s", "bytes_out_per_s", "connects",
          "errors", "latency_us"):
    assert k in r, k
for k in ("connect", "read", "write", "timeout", "status"):
    assert r["errors"][k] == 0, (k, r["errors"])
for k in ("mean", "p50", "p90", "p99", "p99_9", "max"):
    assert k in r["latency_us"], k
l = r["latency_us"]
assert 0 < l["p50"] <= l["p90"] <= l["p99"] <= l["p99_9"] <= l["max"], l
assert r["requests"] > 100, r["requests"]
assert r["service"] == "echo" and r["connections"] == 8
assert r["bytes_in"] == r["bytes_out"] or abs(r["bytes_in"] - r["bytes_out"]) <= 8 * 64
assert 1.5 < r["elapsed_s"] < 4, r["elapsed_s"]
PY
pass "echo closed loop: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["requests"], "requests,", r["latency_us"]["p99"], "us p99")' "$TMP/last.out")"

# Human-readable report, several threads and pipelining.
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" -c 6 -t 2 --pipeline 4 --size 100 -d 1
grep -q 'requests ' "$TMP/last.out" || fail "no requests line: $(cat "$TMP/last.out")"
grep -q 'p99.9' "$TMP/last.out" || fail "no latency line"
grep -qE 'errors +connect 0  read 0  write 0  timeout 0  bad status 0' "$TMP/last.out" ||
    fail "errors in pipelined run: $(cat "$TMP/last.out")"
pass "pipelined, 2 threads, human report"

# 2. Fixed rate: 2 s at 500 req/s gives about 1000 requests (loose bound;
# sanitizer builds are slower but the rate is low).
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" -c 4 -d 2 --rate 500 --json
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$TMP/last.out")
((n >= 700 && n <= 1200)) || fail "--rate 500 for 2 s gave $n requests"
pass "--rate 500 for 2 s: $n requests"

# --busy-poll: the client polls instead of sleeping. Same correct echo
# traffic, and the option shows in the client's CPU time: 1 s at 20 req/s
# sleeps almost all the time without it and spins almost all the time with
# it (200 ms of polling before each wait, and waits are at most 50 ms). The
# bound leaves room for a machine busy with other tests and for sanitizer
# builds, whose start-up alone costs a tenth of a second: polling must add
# at least a quarter of a second of CPU.
cpu_of() { # ARGS...: user+system seconds of one sockit bench run
    local TIMEFORMAT='%U %S'
    { time "$SOCKIT" bench "$SERVER_ADDR" "$@" >"$TMP/bp.out" 2>&1; } 2>&1 | awk '{ print $1 + $2 }'
}
idle=$(cpu_of -c 1 -d 1 --rate 20 --json)
busy=$(cpu_of -c 1 -d 1 --rate 20 --busy-poll 200000 --json)
python3 - "$TMP/bp.out" <<'PY' || fail "--busy-poll run: $(cat "$TMP/bp.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["busy_poll_us"] == 200000, r
assert 10 <= r["requests"] <= 30, r["requests"]
assert all(v == 0 for v in r["errors"].values()), r["errors"]
assert r["bytes_in"] == r["bytes_out"], r
PY
awk -v i="$idle" -v b="$busy" 'BEGIN { exit !(b - i > 0.25) }' ||
    fail "--busy-poll did not change the client's CPU: ${idle}s without, ${busy}s with"
pass "--busy-poll: ${idle}s CPU without, ${busy}s with, same echo traffic"

# Coordinated omission: stop the server for 0.5 s during a fixed-rate run.
# Requests due during the stall keep their intended send times, so about a
# quarter of them show up to 0.5 s of latency; a client that measured from
# its actual (delayed) send would report only a couple of slow requests.
# Every request scheduled at s inside a stall ending at b waits b - s at
# least: at 200/s the ones due in its first 0.225 s (45, a tenth of at most
# 450) wait over 0.275 s, so p90 >= 250 ms; and together they wait
# 200 * 0.5^2 / 2 = 25 s, a mean over at most 450 requests of 55 ms or more
# (a client timing from its late sends: about 2.5 ms).
"$SOCKIT" bench "$SERVER_ADDR" -c 2 -d 2 --rate 200 --json >"$TMP/co.out" 2>"$TMP/co.err" &
bpid=$!
PIDS+=("$bpid")
sleep 0.6
kill -STOP "$SERVER_PID"
sleep 0.5
kill -CONT "$SERVER_PID"
wait "$bpid" || fail "rate run during a stall failed: $(cat "$TMP/co.err")"
python3 - "$TMP/co.out" <<'PY' || fail "coordinated-omission run: $(cat "$TMP/co.out")"
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency_us"]
assert 300 <= r["requests"] <= 450, r["requests"]
assert l["max"] >= 350000, l
assert l["p90"] >= 250000, l
assert l["mean"] >= 50000, l
PY
pass "--rate with a 0.5 s server stall: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); l=r["latency_us"]; print(r["requests"], "requests, mean", l["mean"], "us, p90", l["p90"], "us, max", l["max"], "us")' "$TMP/co.out")"

# A rate's schedule starts once every connection is open: a connect that
# takes long is the connect's time (connect_us), not its requests'. A
# server with --backlog 4, stopped at first, holds 5 completed handshakes in
# its accept queue and drops the other 3 SYNs; their retransmission a second
# later finds it running again. So 3 of the 8 connections take about 1 s to
# open, and then 1 s at 100/s sends 100 requests, none of them
# waiting for a connect or for the stop (a schedule from the run's start
# would have had every request due in the first second wait up to 1 s).
ECHO_PID=$SERVER_PID ECHO_ADDR=$SERVER_ADDR
start_server backlog --service echo --backlog 4 --listen 127.0.0.1:0
BL_PID=$SERVER_PID
kill -STOP "$BL_PID"
"$SOCKIT" bench "$SERVER_ADDR" --proto echo -c 8 -d 1 --rate 100 --json >"$TMP/bl.out" 2>"$TMP/bl.err" &
bpid=$!
PIDS+=("$bpid")
sleep 0.5
kill -CONT "$BL_PID"
wait "$bpid" || fail "rate run with slow connects failed: $(cat "$TMP/bl.err")"
python3 - "$TMP/bl.out" <<'PY' || fail "rate run with slow connects: $(cat "$TMP/bl.out")"
import json, sys
r = json.load(open(sys.argv[1]))
l, c = r["latency_us"], r["connect_us"]
assert r["connects"] == 8 and all(v == 0 for v in r["errors"].values()), r
assert c["max"] >= 800000, c
assert 97 <= r["requests"] <= 100, r["requests"]  # the last ones may be in flight at the end
assert l["max"] < 300000, l
assert 0.9 <= r["elapsed_s"] < 1.5, r["elapsed_s"]
PY
pass "--rate starts once all are open: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["requests"], "requests, slowest connect", r["connect_us"]["max"], "us, slowest request", r["latency_us"]["max"], "us")' "$TMP/bl.out")"
stop_server "$BL_PID"
SERVER_PID=$ECHO_PID SERVER_ADDR=$ECHO_ADDR

# --timeout: a server stopped for longer than the timeout costs timeout
# errors (the connections are reopened and the run goes on).
"$SOCKIT" bench "$SERVER_ADDR" -c 2 -d 2 --timeout 0.3 --json >"$TMP/to.out" 2>"$TMP/to.err" &
bpid=$!
PIDS+=("$bpid")
sleep 0.5
kill -STOP "$SERVER_PID"
sleep 0.8
kill -CONT "$SERVER_PID"
wait "$bpid" || fail "timeout run failed: $(cat "$TMP/to.err")"
python3 - "$TMP/to.out" <<'PY' || fail "timeout run: $(cat "$TMP/to.out")"
import json, sys
r = json.load(open(sys.argv[1]))
e = r["errors"]
assert e["timeout"] >= 2 and e["connect"] == 0 and e["read"] == 0 and e["write"] == 0, e
assert r["requests"] > 100, r["requests"]
PY
pass "--timeout 0.3 across a 0.8 s stall: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["errors"]["timeout"])' "$TMP/to.out") timeouts"

# Discard: requests end when written; bytes flow.
start_server discard --service discard --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" bench "$SERVER_ADDR" --proto discard --size 16384 -c 2 -d 1 --json
python3 - "$TMP/last.out" <<'PY' || fail "discard JSON: $(cat "$TMP/last.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["requests"] > 10 and r["bytes_out"] >= r["requests"] * 16384 and r["bytes_in"] == 0, r
assert sum(r["errors"].values()) == 0, r["errors"]
PY
pass "discard"

# HTTP against another implementation: python3's http.server answers
# HTTP/1.0 and closes after each response, so every request also tests the
# reconnect path; a missing path is a 404, counted as bad status.
mkdir -p "$TMP/www" && echo hello >"$TMP/www/hello.txt"
(cd "$TMP/www" && exec python3 -u -m http.server 0 --bind 127.0.0.1) >"$TMP/pyhttp.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do
    grep -q 'Serving HTTP' "$TMP/pyhttp.log" && break
    sleep 0.05
done
hport=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$TMP/pyhttp.log" | head -n1)
[[ -n $hport ]] || fail "python3 http.server did not start: $(cat "$TMP/pyhttp.log")"
expect_rc 0 "$SOCKIT" bench "127.0.0.1:$hport" --proto http --path /hello.txt -c 2 -d 1 --json
python3 - "$TMP/last.out" <<'PY' || fail "HTTP bench: $(cat "$TMP/last.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["requests"] > 5 and r["connects"] >= r["requests"], r
assert sum(r["errors"].values()) == 0, r["errors"]
PY
expect_rc 0 "$SOCKIT" bench "127.0.0.1:$hport" --proto http --path /nope -c 1 -d 0.5 --json
python3 - "$TMP/last.out" <<'PY' || fail "HTTP 404 bench: $(cat "$TMP/last.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["requests"] > 0 and r["errors"]["status"] == r["requests"], r
PY
pass "http against python3 http.server: keep-alive off, 404 counted as bad status"

# 3. Nothing listening: connect errors counted, a clear message, exit 1.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
expect_rc 1 "$SOCKIT" bench "127.0.0.1:$port" -c 3 -d 2 --json
grep -q "sockit: bench connect 127.0.0.1:$port: Connection refused" "$TMP/last.err" ||
    fail "unclear unreachable message: $(cat "$TMP/last.err")"
c=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["errors"]["connect"])' "$TMP/last.out")
((c >= 3)) || fail "connect errors $c, wanted >= 3"
pass "unreachable: $c connect errors, exit 1"

# Usage errors exit 2.
expect_rc 2 "$SOCKIT" bench
expect_rc 2 "$SOCKIT" bench "$SERVER_ADDR" --proto gopher
expect_rc 2 "$SOCKIT" bench "$SERVER_ADDR" -c 0
expect_rc 2 "$SOCKIT" bench "$SERVER_ADDR" --rate -5
expect_rc 2 "$SOCKIT" bench "$SERVER_ADDR" --path nope
expect_rc 2 "$SOCKIT" bench "$SERVER_ADDR" --bogus
expect_rc 2 "$SOCKIT" bench "$SERVER_ADDR" --busy-poll -1
expect_rc 2 "$SOCKIT" bench "$SERVER_ADDR" --busy-poll 2000000
expect_rc 2 "$SOCKIT" bench --sweep --models loop,nosuch
expect_rc 2 "$SOCKIT" bench --sweep --conns 1,,4
# Options that would be ignored are refused, each with one line.
for opt in "--models loop" "--backends epoll" "--conns 1,2" "--service http" "--out $TMP/nowhere"; do
    # shellcheck disable=SC2086
    expect_rc 2 "$SOCKIT" bench $opt -d 0.2 "$SERVER_ADDR"
    [[ $(<"$TMP/last.err") == "sockit: ${opt%% *} is a --sweep option; add --sweep, or leave it out for one run (see 'sockit bench --help')" ]] ||
        fail "bench $opt without --sweep: '$(cat "$TMP/last.err")'"
    [[ ! -s $TMP/last.out ]] || fail "bench $opt without --sweep ran: $(cat "$TMP/last.out")"
done
[[ ! -e $TMP/nowhere ]] || fail "bench --out without --sweep created its folder"
expect_rc 2 "$SOCKIT" bench -t 4 -c 2 -d 0.2 "$SERVER_ADDR"
[[ $(<"$TMP/last.err") == "sockit: -t 4 is more threads than -c 2 connections: each thread needs a connection (see 'sockit bench --help')" ]] ||
    fail "bench -t 4 -c 2: '$(cat "$TMP/last.err")'"
expect_rc 0 "$SOCKIT" bench --help
grep -q -- '--sweep' "$TMP/last.out" || fail "--help does not mention --sweep"
pass "usage errors"

# 4. A tiny sweep: table, JSON and SVG that parse.
expect_rc 0 "$SOCKIT" bench --sweep -d 1 --conns 1,4 --models loop --out "$TMP/sweep"
for f in results.md results.json rps.svg p99.svg; do
    [[ -s $TMP/sweep/$f ]] || fail "sweep did not write $f"
done
python3 -m json.tool "$TMP/sweep/results.json" >/dev/null || fail "results.json is not JSON"
python3 - "$TMP/sweep/results.json" <<'PY' || fail "results.json content: $(cat "$TMP/sweep/results.json")"
import json, sys
r = json.load(open(sys.argv[1]))
runs = r["runs"]
assert [x["connections"] for x in runs] == [1, 4], runs
for x in runs:
    assert x["model"] == "loop" and x["ok"] and x["result"]["requests"] > 0, x
PY
grep -qE '^\| loop \| [a-z]+ \| 4 \| [0-9]+ ' "$TMP/sweep/results.md" || fail "results.md table: $(cat "$TMP/sweep/results.md")"
if command -v xmllint >/dev/null; then
    xmllint --noout "$TMP/sweep/rps.svg" "$TMP/sweep/p99.svg" || fail "SVG is not well-formed"
else
    python3 -c 'import sys, xml.dom.minidom as m; [m.parse(f) for f in sys.argv[1:]]' "$TMP/sweep/rps.svg" \
        "$TMP/sweep/p99.svg" || fail "SVG is not well-formed"
fi
grep -q '<polyline' "$TMP/sweep/rps.svg" || fail "rps.svg has no line"

# --sweep --json: the same results on stdout, with fewer connections than
# threads run one thread per connection (and a note says so).
expect_rc 0 "$SOCKIT" bench --sweep --json -t 2 -d 0.5 --conns 1,4 --models loop --out "$TMP/sweepj"
cmp -s "$TMP/last.out" "$TMP/sweepj/results.json" || fail "--sweep --json stdout differs from results.json: $(head -c 300 "$TMP/last.out")"
python3 - "$TMP/last.out" <<'PY' || fail "--sweep --json: $(cat "$TMP/last.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["threads"] == 2, r
assert [(x["connections"], x["result"]["threads"]) for x in r["runs"]] == [(1, 1), (4, 2)], r["runs"]
assert all(x["ok"] and x["result"]["requests"] > 0 for x in r["runs"]), r["runs"]
PY
grep -qx 'sockit: sweep: runs with fewer connections than the 2 threads use one thread per connection' "$TMP/last.err" ||
    fail "no note about capped threads: $(cat "$TMP/last.err")"
grep -q 'loop/' "$TMP/sweep/rps.svg" || fail "rps.svg has no legend"
pass "sweep wrote results.md, results.json, rps.svg, p99.svg"

# A model that cannot start is skipped with a reason, not fatal, as long
# as one model ran.
expect_rc 0 "$SOCKIT" bench --sweep -d 0.5 --conns 2 --models loop --backends epoll,nosuch --service discard \
    --out "$TMP/sweep2"
grep -q '| loop | epoll | 2 |' "$TMP/sweep2/results.md" || fail "discard sweep table: $(cat "$TMP/sweep2/results.md")"
grep -q 'skipping model loop backend nosuch' "$TMP/last.err" || fail "no skip message: $(cat "$TMP/last.err")"
grep -q 'backend nosuch: .*unknown backend' "$TMP/sweep2/results.md" || fail "skip reason not in results.md"
pass "discard sweep, unknown backend skipped with its reason"

# wrk habits: the same -c -t -d (with units) and --timeout given to wrk and
# to bench against one sockit http server; both run that many connections
# and threads for that long, with no errors.
command -v wrk >/dev/null || fail "wrk is missing (tests/install-deps.sh installs it)"
start_server http --service http --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" bench --proto http -c 4 -t 2 -d 1s --timeout 2s --json "$SERVER_ADDR"
python3 - "$TMP/last.out" <<'PY' || fail "bench with wrk's flags: $(cat "$TMP/last.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["connections"] == 4 and r["threads"] == 2 and r["service"] == "http", r
assert 0.9 <= r["elapsed_s"] < 2 and r["requests"] > 100, r
assert all(v == 0 for v in r["errors"].values()), r["errors"]
PY
timeout 30 wrk -c 4 -t 2 -d 1s --timeout 2s "http://$SERVER_ADDR/" >"$TMP/wrk.out" 2>&1 || fail "wrk: $(cat "$TMP/wrk.out")"
grep -q '2 threads and 4 connections' "$TMP/wrk.out" || fail "wrk: $(cat "$TMP/wrk.out")"
grep -Eq '^ +[0-9]+ requests in 1\.[0-9]+s' "$TMP/wrk.out" || fail "wrk duration: $(cat "$TMP/wrk.out")"
! grep -q 'Socket errors\|Non-2xx' "$TMP/wrk.out" || fail "wrk saw errors: $(cat "$TMP/wrk.out")"
# wrk's URL is not an address for bench: the message says what to type.
expect_rc 2 "$SOCKIT" bench -c 4 -t 2 -d 1s "http://$SERVER_ADDR/"
[[ $(<"$TMP/last.err") == "sockit: http://$SERVER_ADDR/: a URL is not an address (expected host:port, no scheme or path); did you mean '$SERVER_ADDR --proto http'? (see 'sockit bench --help')" ]] ||
    fail "bench with wrk's URL: '$(cat "$TMP/last.err")'"
pass "wrk's -c 4 -t 2 -d 1s --timeout 2s mean the same to bench; its URL gets a hint"

stop_server "$SERVER_PID"
