#!/usr/bin/env bash
# sockit connect -z: a port scan like nc -z. A helper holds a whole range of
# 1024 loopback ports so nothing else can answer there: five of them listen
# (open), one listens with a full backlog and never accepts (its SYNs are
# dropped: filtered), the rest are bound but not listening (RST: closed).
# The scan must find exactly that, in well under the time bound, as text,
# with -v and as JSON; nc -z agrees on the open ones.
. "$(dirname "$0")/lib.sh"

"$PYTHON" - "$TMP/range" "$TMP/range.done" <<'PY' &
import os, random, resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = 1024 + 64
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
# Below the ephemeral range, so our own connects never land in it.
for attempt in range(50):
    base = random.randrange(10000, 32000 - 1024)
    socks = []
    try:
        for p in range(base, base + 1024):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", p))
        break
    except OSError:
        for s in socks:
            s.close()
else:
    sys.exit("no free range of 1024 ports")
offsets = [3, 100, 511, 777, 1023]
for o in offsets:
    socks[o].listen(16)
full = base + 600
socks[600].listen(0)
fill = []
for _ in range(4):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", full))
    fill.append(c)
time.sleep(0.3)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d %d %s\n" % (base, full, " ".join(str(base + o) for o in offsets)))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
deadline = time.monotonic() + 120
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
    for o in offsets:  # accept and drop the scanner's connections
        socks[o].setblocking(False)
        try:
            while True:
                socks[o].accept()[0].close()
        except OSError:
            pass
    time.sleep(0.02)
PY
PIDS+=($!)
for ((i = 0; i < 200; i++)); do [[ -e $TMP/range ]] && break; sleep 0.05; done
[[ -e $TMP/range ]] || fail "the port range helper did not start"
read -r base full open_ports <"$TMP/range"
last=$((base + 1023))

# Text: the open ports only, in order; exit 0.
start=$(date +%s%N)
expect_rc 0 "$SOCKIT" connect -z -w 500ms 127.0.0.1 "$base-$last"
ms=$((($(date +%s%N) - start) / 1000000))
want=$(for p in $open_ports; do echo "127.0.0.1:$p open"; done)
[[ $(cat "$TMP/last.out") == "$want" ]] || fail "scan found '$(cat "$TMP/last.out")', wanted '$want'"
((ms < 5000)) || fail "1024 ports took $ms ms"
pass "-z 127.0.0.1 $base-$last: exactly the 5 listeners open, in $ms ms"

# Without the filtered port nothing waits for a timeout: 1023 ports at the
# speed of loopback (the bound is generous for a loaded machine).
start=$(date +%s%N)
expect_rc 0 "$SOCKIT" connect -z 127.0.0.1 "$base-$((full - 1)),$((full + 1))-$last"
ms=$((($(date +%s%N) - start) / 1000000))
[[ $(cat "$TMP/last.out") == "$want" ]] || fail "scan without $full found '$(cat "$TMP/last.out")'"
((ms < 5000)) || fail "1023 answering ports took $ms ms"
pass "1023 ports that all answer: the same 5 open, in $ms ms"

# -v: every port, with the summary.
expect_rc 0 "$SOCKIT" connect -zv -w 500ms 127.0.0.1 "$base-$last"
[[ $(wc -l <"$TMP/last.out") == 1024 ]] || fail "-v printed $(wc -l <"$TMP/last.out") lines"
[[ $(grep -c ' closed$' "$TMP/last.out") == 1018 ]] || fail "-v: $(grep -c ' closed$' "$TMP/last.out") closed"
[[ $(grep ' filtered' "$TMP/last.out") == "127.0.0.1:$full filtered (timeout)" ]] ||
    fail "-v filtered: '$(grep ' filtered' "$TMP/last.out")'"
grep -Eq "^sockit: scanned 1024 ports of 127\.0\.0\.1 in [0-9]+ ms: 5 open, 1018 closed, 1 filtered$" "$TMP/last.err" ||
    fail "-v summary: $(cat "$TMP/last.err")"
pass "-zv: 1024 lines, 5 open, 1018 closed, $full filtered (its SYNs dropped)"

# JSON: one object per port, snake_case keys, units in the names.
expect_rc 0 "$SOCKIT" connect -z --json -w 500ms 127.0.0.1 "$((base + 590))-$((base + 610)),$base-$((base + 5)),$last"
"$PYTHON" - "$TMP/last.out" "$base" "$full" "$open_ports" <<'PY' || fail "scan --json: $(head -c 600 "$TMP/last.out")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
base, full = int(sys.argv[2]), int(sys.argv[3])
opens = set(int(p) for p in sys.argv[4].split())
ports = sorted(set(range(base + 590, base + 611)) | set(range(base, base + 6)) | {base + 1023})
assert [r["port"] for r in rows] == ports, [r["port"] for r in rows]
for r in rows:
    want = "open" if r["port"] in opens else "filtered" if r["port"] == full else "closed"
    assert r["state"] == want, r
    assert r["event"] == "port", r
    assert r["addr"] == "127.0.0.1:%d" % r["port"] and r["host"] == "127.0.0.1" and r["proto"] == "tcp", r
    assert isinstance(r["elapsed_ms"], float) and r["elapsed_ms"] >= 0, r
    if want == "open":
        assert "reason" not in r, r
    elif want == "closed":
        assert r["reason"] == "Connection refused", r
    else:
        assert r["reason"] == "timeout" and 450 <= r["elapsed_ms"] < 3000, r
PY
pass "-z --json: one object per port in order (event, addr, host, port, proto, state, elapsed_ms, reason)"

# nc -z agrees on the open ones; nothing open is exit 1.
for p in $open_ports; do
    timeout 5 nc -z 127.0.0.1 "$p" || fail "nc -z finds $p closed"
done
expect_rc 1 "$SOCKIT" connect -z 127.0.0.1 "$((base + 4))-$((base + 99))"
[[ ! -s $TMP/last.out && ! -s $TMP/last.err ]] || fail "nothing open: '$(cat "$TMP/last.out" "$TMP/last.err")'"
pass "nc -z agrees on the 5 open ports; a range with none open: exit 1, no output"
touch "$TMP/range.done"

# Bad input: one line, exit 2.
for bad in 0 70000 5-1 1- ,5 5, a 1-2-3; do
    expect_rc 2 "$SOCKIT" connect -z 127.0.0.1 "$bad"
    [[ $(cat "$TMP/last.err") == "sockit: PORTS wants ports and ranges like 1-1024,8080, not '$bad' (see 'sockit connect --help')" ]] ||
        fail "ports '$bad': $(cat "$TMP/last.err")"
done
expect_rc 2 "$SOCKIT" connect -z 127.0.0.1
grep -q "^sockit: -z wants HOST PORTS" "$TMP/last.err" || fail "-z without ports: $(cat "$TMP/last.err")"
expect_rc 2 "$SOCKIT" connect -z -l 127.0.0.1 80
grep -q "^sockit: -z scans TCP ports" "$TMP/last.err" || fail "-z -l: $(cat "$TMP/last.err")"
expect_rc 2 "$SOCKIT" connect --json 127.0.0.1:80
grep -q "^sockit: --json goes with -z" "$TMP/last.err" || fail "--json alone: $(cat "$TMP/last.err")"
pass "bad port lists, missing ports, -z with -l, --json without -z: exit 2 with one line"
