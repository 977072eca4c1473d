#!/usr/bin/env bash
# sockit lifecycle: every scenario passes its own checks (the states each
# side goes through, errors, ListenOverflows), and with --packets the
# segments it saw are the ones tcpdump saw on lo for that port, with the
# same flags, in the same order (up to crossing pairs: same_segments); the
# side ss shows in TIME_WAIT is the one the scenario names. --json is valid against docs/schema/lifecycle.json.
. "$(dirname "$0")/lib.sh"
SCHEMAS="$(dirname "$0")/../../docs/schema"
CHECK="$(dirname "$0")/helpers/json_schema_check.py"

SCENARIOS="normal server-closes half-close simultaneous-close rst refused backlog-full unread-data-close"
expect_rc 0 "$SOCKIT" lifecycle --list
for s in $SCENARIOS; do
    grep -q "^$s " "$TMP/last.out" || fail "--list lacks $s"
done

# Without --packets (and as any user): the calls and the states.
for s in $SCENARIOS; do
    timeout 20 "$SOCKIT" lifecycle -s "$s" >"$TMP/$s.txt" 2>&1 || fail "$s: $(cat "$TMP/$s.txt")"
    grep -q "^verdict: as expected$" "$TMP/$s.txt" || fail "$s: no verdict: $(tail -3 "$TMP/$s.txt")"
done
grep -Eq "^ *\+[0-9.]+ ms  connect\([0-9]+, 127\.0\.0\.1:[0-9]+\) = -1 EINPROGRESS" "$TMP/normal.txt" || fail "normal: $(cat "$TMP/normal.txt")"
grep -Eq "\(kernel\) TIME_WAIT" "$TMP/normal.txt" || fail "normal: no TIME_WAIT line: $(cat "$TMP/normal.txt")"
grep -Eq "recv\([0-9]+, 64 bytes\) = 0 CLOSE_WAIT" "$TMP/normal.txt" || fail "normal: no CLOSE_WAIT recv: $(cat "$TMP/normal.txt")"
grep -Eq "send\([0-9]+, 6 bytes\) = 6 CLOSE_WAIT" "$TMP/half-close.txt" || fail "half-close: the server did not send in CLOSE_WAIT"
grep -Eq "getsockopt\([0-9]+, SO_ERROR -> 111 Connection refused\) = ECONNREFUSED" "$TMP/refused.txt" || fail "refused: $(cat "$TMP/refused.txt")"
grep -Eq "recv\([0-9]+, 64 bytes\) = -1 ECONNRESET" "$TMP/rst.txt" || fail "rst: $(cat "$TMP/rst.txt")"
grep -Eq "^ListenOverflows grew by [1-9]" "$TMP/backlog-full.txt" || fail "backlog-full: $(tail -3 "$TMP/backlog-full.txt")"
grep -Eq "^attempts: [0-9]+ of 20$" "$TMP/simultaneous-close.txt" || fail "simultaneous-close: $(cat "$TMP/simultaneous-close.txt")"
pass "8 scenarios: calls, states, errors and ListenOverflows as each expects"

[[ $(id -u) -eq 0 ]] || { echo "skip [$TEST_NAME]: --packets and tcpdump need root"; exit 0; }
command -v tcpdump >/dev/null || fail "tcpdump is missing (tests/install-deps.sh)"

# tcpdump's flags to sockit's letters: S -> S, S. -> SA, . -> A, P. -> PA,
# F. -> FA, FP. -> FPA, R -> R, R. -> RA.
tcpdump_flags() {
    sed -E 's/S/S/; s/F/F/; s/R/R/; s/P/P/; s/\./A/'
}

# This scenario's segments in tcpdump's capture, as "who FLAGS" lines.
theirs_segments() {
    tcpdump -nn -r "$TMP/cap.pcap" "tcp port $port" 2>/dev/null |
        sed -nE "s/.* IP 127\.0\.0\.1\.([0-9]+) > 127\.0\.0\.1\.([0-9]+): Flags \[([^]]*)\].*/\1 \2 \3/p" |
        while read -r src dst flags; do
            who=client other=$src
            [[ $src == "$port" ]] && who=server other=$dst
            [[ $cports == *" $other "* ]] || continue
            echo "$who $(echo "$flags" | tcpdump_flags)"
        done >"$TMP/theirs"
}

# The two captures agree: the same segments with the same flags, each side's
# in the same order. Two segments the two sides sent at the same moment
# (the crossing FINs of simultaneous-close) are handed to each packet
# socket by the CPU that sent each, so two captures may list such a pair
# either way round: adjacent segments of opposite sides may swap when
# neither acknowledges the other (by sockit's seq, ack and len). OURS has
# "side flags seq ack len" lines, THEIRS "side flags".
same_segments() {
    "$PYTHON" - "$1" "$2" <<'PY'
import sys
ours = [l.split() for l in open(sys.argv[1]).read().split("\n")[:-1]]
theirs = [l.split() for l in open(sys.argv[2]).read().split("\n")[:-1]]

def saw(b, a):
    """b acknowledges what a sent (a SYN or FIN counts one)."""
    end = int(a[2]) + int(a[4]) + ("S" in a[1]) + ("F" in a[1])
    return end > int(a[2]) and "A" in b[1] and int(b[3]) >= end

i = 0
while i < len(ours) and len(ours) == len(theirs):
    if ours[i][:2] != theirs[i]:
        if (i + 1 < len(ours) and ours[i][:2] == theirs[i + 1] and ours[i + 1][:2] == theirs[i]
                and ours[i][0] != ours[i + 1][0] and not saw(ours[i + 1], ours[i])
                and not saw(ours[i], ours[i + 1])):
            i += 2
            continue
        break
    i += 1
if len(ours) != len(theirs) or i < len(ours):
    print("sockit's:", " | ".join(" ".join(l[:2]) for l in ours))
    print("tcpdump's:", " | ".join(" ".join(l) for l in theirs))
    sys.exit(1)
PY
}

for s in $SCENARIOS; do
    rm -f "$TMP/cap.pcap" "$TMP/td.err"
    # Headers only and a large buffer: other programs' bulk traffic on lo
    # (a parallel test) must not make the kernel drop this run's segments.
    tcpdump -i lo -nn -U --immediate-mode -Z root -s 128 -B 65536 -w "$TMP/cap.pcap" 'tcp and host 127.0.0.1' \
        2>"$TMP/td.err" &
    td=$!
    PIDS+=("$td")
    for ((i = 0; i < 100; i++)); do grep -q "listening on" "$TMP/td.err" 2>/dev/null && break; sleep 0.05; done
    grep -q "listening on" "$TMP/td.err" || fail "tcpdump did not start: $(cat "$TMP/td.err")"
    sleep 0.5 # libpcap may still be settling its ring and filter after saying so
    timeout 20 "$SOCKIT" lifecycle --packets --json -s "$s" >"$TMP/$s.json" 2>"$TMP/$s.err" || fail "$s --packets: $(cat "$TMP/$s.err"; tail -1 "$TMP/$s.json")"
    timeout 60 /usr/bin/python3 "$CHECK" "$SCHEMAS" lifecycle "$TMP/$s.json" --lines --expect syscall,segment,verdict >/dev/null ||
        fail "$s --json against its schema"
    port=$("$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("call") == "listen" or (e.get("call") == "bind" and e.get("local")):
        print(e["local"].rsplit(":", 1)[1]); break
' "$TMP/$s.json")
    [[ -n $port ]] || fail "$s: no server port in the JSON"
    "$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "segment":
        print(e["from"], e["flags"], e["seq"], e["ack"], e["len"])
' "$TMP/$s.json" >"$TMP/ours"
    # The client's own ports: another program's connection may share the
    # server's port number as its ephemeral port.
    cports=" $("$PYTHON" -c '
import json, sys
ports = set()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("side") == "client" and e.get("local"):
        ports.add(e["local"].rsplit(":", 1)[1])
print(" ".join(sorted(ports)))
' "$TMP/$s.json") "
    # tcpdump may lag behind on a busy machine: wait until its capture holds
    # as many of this connection's segments as sockit saw (at most 5 s),
    # then stop it; the comparison below is on order and flags.
    want=$(wc -l <"$TMP/ours")
    for ((i = 0; i < 50; i++)); do
        theirs_segments
        (($(wc -l <"$TMP/theirs") >= want)) && break
        sleep 0.1
    done
    kill -TERM "$td"
    wait "$td" 2>/dev/null || true
    theirs_segments
    [[ -s $TMP/theirs ]] || fail "$s: tcpdump saw nothing on port $port: $(cat "$TMP/td.err"; ls -la "$TMP"; tcpdump -nn -r "$TMP/cap.pcap" 2>&1 | head -3)"
    same_segments "$TMP/ours" "$TMP/theirs" >"$TMP/diff" || fail "$s: sockit's segments differ from tcpdump's: $(cat "$TMP/diff")"
    grep -q '"event":"verdict","scenario":"'"$s"'","ok":true' "$TMP/$s.json" || fail "$s --packets verdict: $(tail -1 "$TMP/$s.json")"
done
pass "8 scenarios with --packets: the same segments, flags and order as tcpdump -i lo"

# As root the tracepoint shows every change, the short ones too: both
# sides of simultaneous-close through CLOSING, the client of normal
# through FIN_WAIT2; no tracefs instance is left behind.
sc="$TMP/simultaneous-close.json"
# Both FINs left before either was acknowledged: each FIN acks only the
# other's data (ack 7), not the other's FIN (ack 8).
[[ $(grep -c '"event":"segment","t_us":[0-9]*,"from":"[a-z]*","flags":"FA","seq":7,"ack":7,' "$sc") -eq 2 ]] ||
    fail "simultaneous-close: the FINs did not cross on the wire: $(grep segment "$sc")"
pass "simultaneous-close: both FINs on the wire before either was acknowledged"
if have_tracepoint; then
grep -q '"tracepoint":true' "$sc" || fail "as root, no tracepoint: $(tail -1 "$sc")"
for side in client server; do
    grep -q '"event":"state","t_us":[0-9]*,"side":"'"$side"'","state":"CLOSING","old_state":"FIN_WAIT1","source":"tracepoint"' "$sc" ||
        fail "simultaneous-close: no FIN_WAIT1 -> CLOSING on the $side: $(grep '"state"' "$sc")"
done
grep -q '"side":"client","state":"FIN_WAIT2","old_state":"FIN_WAIT1","source":"tracepoint"' "$TMP/normal.json" ||
    fail "normal: no FIN_WAIT1 -> FIN_WAIT2 from the tracepoint"
left=$(unshare -m sh -c 'mount -t tracefs nodev /sys/kernel/tracing && ls /sys/kernel/tracing/instances' 2>&1)
# An instance is sockit-PID: one whose process is gone was left behind (a
# test running beside this one may hold a live one of its own).
for inst in $left; do
    [[ $inst == sockit-* ]] || continue
    kill -0 "${inst#sockit-}" 2>/dev/null || fail "tracefs instance left by an exited sockit: $inst"
done
pass "tracepoint: FIN_WAIT1 -> CLOSING on both sides of simultaneous-close, FIN_WAIT2 in normal, no instance left"
else
    echo "skip [$TEST_NAME]: no tracepoint here (no tracefs it can mount): the sock_diag states only"
fi

# TIME_WAIT's side, from ss: normal leaves it on the client (local port is
# not the server's), server-closes on the server.
tw_side() {
    local json=$1 port cport
    read -r port cport < <("$PYTHON" -c '
import json, sys
port = cport = ""
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("call") == "listen" and not port:
        port = e["local"].rsplit(":", 1)[1]
    if e.get("side") == "client" and e.get("call") == "connect" and e.get("local") and not cport:
        cport = e["local"].rsplit(":", 1)[1]
print(port, cport)
' "$json")
    local srv=0 cli=0
    ss -Htan state time-wait "sport = :$port and dport = :$cport" | grep -q . && srv=1
    ss -Htan state time-wait "sport = :$cport and dport = :$port" | grep -q . && cli=1
    if ((srv && cli)); then echo both
    elif ((srv)); then echo server
    elif ss -Htan state time-wait "sport = :$cport and dport = :$port" | grep -q .; then echo client
    else echo none; fi
}
timeout 20 "$SOCKIT" lifecycle --json -s normal >"$TMP/n2.json" || fail "normal"
[[ $(tw_side "$TMP/n2.json") == client ]] || fail "normal: ss shows TIME_WAIT on $(tw_side "$TMP/n2.json")"
timeout 20 "$SOCKIT" lifecycle --json -s server-closes >"$TMP/s2.json" || fail "server-closes"
[[ $(tw_side "$TMP/s2.json") == server ]] || fail "server-closes: ss shows TIME_WAIT on $(tw_side "$TMP/s2.json")"
timeout 20 "$SOCKIT" lifecycle --json -s rst >"$TMP/r2.json" || fail "rst"
[[ $(tw_side "$TMP/r2.json") == none ]] || fail "rst: ss shows a TIME_WAIT"
timeout 60 "$SOCKIT" lifecycle --json -s simultaneous-close >"$TMP/x2.json" || fail "simultaneous-close"
[[ $(tw_side "$TMP/x2.json") == both ]] || fail "simultaneous-close: ss shows TIME_WAIT on $(tw_side "$TMP/x2.json")"
pass "ss -tan: TIME_WAIT on the client (normal), the server (server-closes), nowhere (rst), both (simultaneous-close)"

# --packets without CAP_NET_RAW: a clear line, the run goes on.
if command -v setpriv >/dev/null; then
    timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups "$SOCKIT" lifecycle --packets -s normal >"$TMP/np.out" 2>"$TMP/np.err" ||
        fail "as nobody: $(cat "$TMP/np.err")"
    grep -q "needs CAP_NET_RAW" "$TMP/np.err" || fail "as nobody: $(cat "$TMP/np.err")"
    grep -q "^sockit: lifecycle: the sock:inet_sock_set_state tracepoint: not permitted (tracefs and its instances are root's); the states after close come from sock_diag" "$TMP/np.err" ||
        fail "as nobody, tracepoint: $(cat "$TMP/np.err")"
    [[ $(wc -l <"$TMP/np.err") -eq 2 ]] || fail "as nobody: more than two lines: $(cat "$TMP/np.err")"
    grep -q "^verdict: as expected" "$TMP/np.out" || fail "as nobody: $(tail -2 "$TMP/np.out")"
    grep -q "(tracepoint)" "$TMP/np.out" && fail "as nobody: tracepoint lines"
    grep -q "(kernel) TIME_WAIT" "$TMP/np.out" || fail "as nobody: no sock_diag state: $(cat "$TMP/np.out")"
    pass "--packets as nobody: says CAP_NET_RAW and the tracepoint are missing, shows the calls and sock_diag's states"
fi
expect_rc 2 "$SOCKIT" lifecycle -s bogus
grep -q "unknown scenario 'bogus'" "$TMP/last.err" || fail "bad scenario: $(cat "$TMP/last.err")"
pass "a bad scenario is a usage error"
