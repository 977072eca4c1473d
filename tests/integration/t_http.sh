#!/usr/bin/env bash
# The http service end to end: curl for GET/HEAD/keep-alive/HTTP 1.0 and
# /stats, raw requests through socat for pipelining and every error status,
# a slowloris head for 408, and a short wrk run.
. "$(dirname "$0")/lib.sh"

start_server http --service http --head-timeout 1 --stats-table loopback --listen 127.0.0.1:0
URL="http://$SERVER_ADDR"
PORT=$SERVER_PORT
HTTP_PID=$SERVER_PID

# GET / and HEAD /
body=$(curl -sS --max-time 5 "$URL/")
[[ $body == hello ]] || fail "GET / body: '$body'"
[[ $(curl -sS --max-time 5 "$URL/?x=1") == hello ]] || fail "GET /?x=1 is not /"
[[ $(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$URL/index.html") == 404 ]] || fail "GET /index.html not 404"
curl -sS --max-time 5 -D "$TMP/head.txt" -o /dev/null -I "$URL/"
grep -qi '^content-length: 6' "$TMP/head.txt" || fail "HEAD / has no Content-Length: 6: $(cat "$TMP/head.txt")"
printf 'HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' | timeout 5 socat -t 2 - "TCP:127.0.0.1:$PORT" >"$TMP/head.raw"
[[ $(tail -c 4 "$TMP/head.raw" | od -An -tx1 | tr -d ' ') == 0d0a0d0a ]] || fail "HEAD / sent a body: $(cat "$TMP/head.raw")"
grep -q '^HTTP/1.1 200 OK' "$TMP/head.txt" || fail "HEAD / status: $(head -1 "$TMP/head.txt")"
pass "GET / and HEAD /"

# Keep-alive: curl reuses the connection for a second URL.
curl -sv --max-time 5 "$URL/" "$URL/" >"$TMP/ka.out" 2>"$TMP/ka.err"
grep -q 'Re-using existing connection' "$TMP/ka.err" || fail "keep-alive: connection not reused"
[[ $(grep -c hello "$TMP/ka.out") == 2 ]] || fail "keep-alive: two bodies expected"
pass "keep-alive reuse"

# HTTP/1.0: closes unless keep-alive was asked for.
curl -sS -0 --max-time 5 -D "$TMP/h10.txt" -o /dev/null "$URL/"
grep -qi '^connection: close' "$TMP/h10.txt" || fail "HTTP/1.0 without keep-alive must close"
curl -sv -0 -H 'Connection: keep-alive' --max-time 5 "$URL/" "$URL/" >/dev/null 2>"$TMP/ka10.err"
grep -q 'Re-using existing connection' "$TMP/ka10.err" || fail "HTTP/1.0 keep-alive: connection not reused"
grep -qi '^< connection: keep-alive' "$TMP/ka10.err" || fail "HTTP/1.0 keep-alive: header missing"
pass "HTTP/1.0 close and keep-alive"

# /stats: valid JSON listing this very connection's 4-tuple.
me=$(curl -sS --max-time 5 -o "$TMP/stats.json" -w '%{local_ip}:%{local_port}' "$URL/stats")
python3 -m json.tool "$TMP/stats.json" >/dev/null || fail "/stats is not JSON: $(head -c 300 "$TMP/stats.json")"
python3 - "$TMP/stats.json" "$me" "$SERVER_ADDR" <<'EOF' || fail "/stats lacks the client's connection"
import json, sys
d = json.load(open(sys.argv[1]))
conns = [c for c in d["connections"] if c["peer"] == sys.argv[2] and c["local"] == sys.argv[3]]
assert conns, d
c = conns[0]
assert c["state"] == "ESTABLISHED" and c["bytes_in"] > 0 and c["age_ms"] >= 0 and c["rtt_us"] >= 0, c
assert d["stats"]["accepted"] >= 1 and d["stats"]["active"] >= 1 and d["connections_total"] >= 1, d
EOF
pass "/stats JSON has $me"

# The counters in /stats include the request that asks: on a fresh server
# (loop, hybrid, prefork), the first request's bytes are the whole bytes_in.
for model in loop "hybrid --workers 2" "prefork --workers 2"; do
    # shellcheck disable=SC2086
    start_server "fresh-${model%% *}" --service http --model $model --listen 127.0.0.1:0
    req=$'GET /stats HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
    printf '%s' "$req" | timeout 5 socat -t 2 - "TCP:127.0.0.1:$SERVER_PORT" >"$TMP/fresh.out"
    body=$(sed '1,/^\r$/d' "$TMP/fresh.out")
    python3 -c 'import json, sys; s = json.loads(sys.argv[1])["stats"]
assert s["bytes_in"] == int(sys.argv[2]) and s["bytes_out"] == 0, s' "$body" "${#req}" ||
        fail "$model: a fresh server's /stats counts its own request (${#req} bytes): $body"
    stop_server "$SERVER_PID"
done
pass "/stats bytes_in counts the asking request (loop, hybrid, prefork)"

# raw REQ...: send the bytes, keep the write side open up to 5 s, and record
# the answer and how long the server took to close (socat ends 0.2 s later).
raw() {
    local start end
    start=$(date +%s%N)
    # Process substitution: bash does not wait for the sleeping writer.
    timeout 10 socat -t 0.2 - "TCP:127.0.0.1:$PORT" < <(printf "$@"; sleep 5) >"$TMP/raw.out" 2>/dev/null || true
    end=$(date +%s%N)
    RAW_MS=$(((end - start) / 1000000))
}
closed_fast() { ((RAW_MS < 4000)) || fail "$1: connection not closed after the answer (${RAW_MS} ms)"; }
status_is() {
    local got
    got=$(head -n1 "$TMP/raw.out" | tr -d '\r')
    [[ $got == "HTTP/1.1 $1"* ]] || fail "$2: wanted $1, got '$got'"
}

# Pipelining: three requests in one write, answers in order; a GET with a
# body is skipped by Content-Length; the last one asks to close.
raw 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nxxxxxGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
closed_fast "pipelined with Connection: close"
got=$(grep -a '^HTTP/1.1' "$TMP/raw.out" | tr -d '\r' | tr '\n' '|')
[[ $got == 'HTTP/1.1 200 OK|HTTP/1.1 404 Not Found|HTTP/1.1 200 OK|' ]] || fail "pipelined statuses: $got"
[[ $(grep -ac '^hello' "$TMP/raw.out") == 2 ]] || fail "pipelined: two hello bodies expected"
pass "pipelining (200, 404 with a skipped body, 200 + close)"

# Many pipelined requests in one go: every one answered.
reqs=$(for i in $(seq 200); do printf 'GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'; done)
raw "${reqs}GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
[[ $(grep -ac '^HTTP/1.1 200' "$TMP/raw.out") == 201 ]] || fail "201 pipelined answers expected"
pass "201 pipelined requests"

# Every error status; each closes the connection.
long=$(head -c 9000 /dev/zero | tr '\0' a)
raw 'GARBAGE\r\n\r\n'
status_is 400 "garbage"; closed_fast "400"
raw 'GET / HTTP/1.1\r\n\r\n'
status_is 400 "1.1 without Host"; closed_fast "400 no host"
# A method other than GET/HEAD with a framed body: 405, the body read past,
# the connection kept (the next request is answered).
raw 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc'
status_is 405 "POST"; closed_fast "405 with Connection: close"
grep -qi '^allow: GET, HEAD' "$TMP/raw.out" || fail "405 without Allow"
raw 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
status_is 405 "pipelined POST"
[[ $(grep -ac '^HTTP/1.1 200' "$TMP/raw.out") == 1 ]] || fail "the request pipelined after a 405 was not answered: $(cat "$TMP/raw.out")"
raw "GET /$long HTTP/1.1\r\nHost: a\r\n\r\n"
status_is 414 "long URI"; closed_fast "414"
raw "GET / HTTP/1.1\r\nHost: a\r\nX: $long\r\n\r\n"
status_is 431 "long header"; closed_fast "431"
raw 'GET / HTTP/2.0\r\nHost: a\r\n\r\n'
status_is 505 "HTTP/2.0"; closed_fast "505"
# Chunked request bodies are decoded (RFC 9112 7.1): 405 for the method,
# then the pipelined GET; extensions and trailers are read past.
raw 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
status_is 405 "chunked POST"
[[ $(grep -ac '^HTTP/1.1 200' "$TMP/raw.out") == 1 ]] || fail "the GET after a chunked body was not answered: $(cat "$TMP/raw.out")"
# Ambiguous or unknowable framing stays 400, and closes: Content-Length with
# Transfer-Encoding, a final coding that is not chunked, a bad chunk size.
raw 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
status_is 400 "CL + TE"; closed_fast "CL + TE"
raw 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nxx'
status_is 400 "TE gzip"; closed_fast "TE gzip"
raw 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'
[[ $(grep -ac '^HTTP/1.1 400' "$TMP/raw.out") == 1 && $(grep -ac '^HTTP/1.1 200' "$TMP/raw.out") == 0 ]] ||
    fail "a bad chunk size: $(cat "$TMP/raw.out")"
closed_fast "bad chunk"
# Host (RFC 9112 3.2): userinfo, a path, a list, a space are 400.
for h in 'user@example.com' 'example.com/path' 'a.example, b.example' 'a b' '[::1' 'a:8x'; do
    raw "GET / HTTP/1.1\r\nHost: $h\r\n\r\n"
    status_is 400 "Host: $h"; closed_fast "Host: $h"
done
for h in 'example.com' 'example.com:8080' '[::1]:80' '127.0.0.1'; do
    raw "GET / HTTP/1.1\r\nHost: $h\r\nConnection: close\r\n\r\n"
    status_is 200 "Host: $h"
done
# The absolute form (RFC 9112 3.2.2) is routed by its path.
raw 'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'
status_is 200 "absolute-form /"
raw 'GET http://example.com/stats HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'
status_is 200 "absolute-form /stats"
grep -q '"accepted"' "$TMP/raw.out" || fail "absolute-form /stats: $(cat "$TMP/raw.out")"
raw 'GET http://example.com/nope HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'
status_is 404 "absolute-form /nope"
pass "400, 414, 431, 505 answered and closed; 405 keeps a framed connection; chunked bodies decoded; Host checked; absolute-form routed"

# Slowloris: a head that never ends gets 408 after --head-timeout (1 s),
# and so does a connection that never sends anything.
raw 'GET / HTTP/1.1\r\nHost: a\r\n'
status_is 408 "slow head"; closed_fast "408"
((RAW_MS >= 900)) || fail "408 came too early (${RAW_MS} ms)"
raw ''
status_is 408 "silent connection"; closed_fast "408 silent"
# An idle keep-alive connection after an answer closes without a 408.
raw 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'
closed_fast "idle keep-alive"
grep -aq '408' "$TMP/raw.out" && fail "idle keep-alive connection got a 408"
pass "408 on slow heads, idle keep-alive closed"

# The server survived all of it.
[[ $(curl -sS --max-time 5 "$URL/") == hello ]] || fail "server broken after bad input"

# Large bodies stream under backpressure, byte-exact and in order.
start_server big --service http --body-size 1000000 --buffer-size 16896 --listen 127.0.0.1:0
BIG="http://$SERVER_ADDR/"
PORT=$SERVER_PORT
want=$(python3 -c 'import sys; n=1000000; b=bytes(97+i%26 for i in range(n-1))+b"\n"; sys.stdout.buffer.write(b)' | sha)
curl -sS --max-time 20 -o "$TMP/b1" -o "$TMP/b2" "$BIG" "$BIG"
[[ $(sha <"$TMP/b1") == "$want" && $(sha <"$TMP/b2") == "$want" ]] || fail "1 MB body differs"
curl -sS --max-time 5 -I "$BIG" | grep -qi '^content-length: 1000000' || fail "HEAD of 1 MB body"
# Pipelined behind a large body: the answers stay in order.
raw 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
got=$(grep -a '^HTTP/1.1' "$TMP/raw.out" | tr -d '\r' | tr '\n' '|')
[[ $got == 'HTTP/1.1 200 OK|HTTP/1.1 404 Not Found|' ]] || fail "pipelined after a large body: $got"
# A client that reads nothing: memory stays bounded (RSS grows < 8 MB for 20
# connections each owed 1 MB).
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
before=$(rss)
lazy=()
for i in $(seq 20); do
    timeout 5 socat -u - "TCP:127.0.0.1:$SERVER_PORT,rcvbuf=4096" < <(printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'; sleep 3) >/dev/null 2>&1 &
    lazy+=($!)
done
sleep 2
after=$(rss)
wait "${lazy[@]}" || true
((after - before < 8192)) || fail "RSS grew ${before} -> ${after} KiB with non-reading clients"
pass "1 MB bodies: exact, in order, bounded memory (RSS ${before} -> ${after} KiB)"

stop_server "$SERVER_PID"
PORT=$(sed 's/.*://' <<<"$URL")

# wrk: no socket errors, no non-2xx answers.
if command -v wrk >/dev/null; then
    timeout 20 wrk -t1 -c20 -d2s "$URL/" >"$TMP/wrk.out" 2>&1 || fail "wrk failed: $(cat "$TMP/wrk.out")"
    grep -q 'Socket errors' "$TMP/wrk.out" && fail "wrk socket errors: $(cat "$TMP/wrk.out")"
    grep -q 'Non-2xx' "$TMP/wrk.out" && fail "wrk non-2xx: $(cat "$TMP/wrk.out")"
    reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
    ((reqs > 100)) || fail "wrk made only $reqs requests"
    pass "wrk: $reqs requests, $(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.out") req/s, no errors"
else
    fail "wrk is not installed (tests/install-deps.sh installs it)"
fi

stop_server "$HTTP_PID"
