#!/usr/bin/env bash
# `serve --listen :0` binds IPv4 and IPv6 on ONE port (the kernel's choice
# for the first family is reused for the second), says both in its banner
# and its JSON listen event, and each family answers on that port.
. "$(dirname "$0")/lib.sh"

for proto in tcp udp; do
    "$SOCKIT" serve --proto "$proto" --listen :0 2>"$TMP/$proto.log" &
    pid=$!
    PIDS+=("$pid")
    for ((i = 0; i < 100; i++)); do
        grep -q 'sockit: serving' "$TMP/$proto.log" && break
        sleep 0.05
    done
    line=$(grep 'sockit: serving' "$TMP/$proto.log") || fail "$proto: no banner: $(cat "$TMP/$proto.log")"
    [[ $line =~ ^sockit:\ serving\ echo(/udp)?\ on\ 0\.0\.0\.0:([0-9]+),\ \[::\]:([0-9]+)\ \(model\ loop ]] ||
        fail "$proto: banner does not list both listeners: $line"
    p4=${BASH_REMATCH[2]} p6=${BASH_REMATCH[3]}
    ((p4 == p6)) || fail "$proto: IPv4 on $p4, IPv6 on $p6"
    flag=-t
    [[ $proto == udp ]] && flag=-u
    socks=$(ss -Hln "$flag" "sport = :$p4" | awk '{print $4}' | sort | tr '\n' ' ')
    [[ $socks == "0.0.0.0:$p4 [::]:$p4 " || $socks == "*:$p4 [::]:$p4 " ]] || fail "$proto: ss shows: $socks"
    if [[ $proto == tcp ]]; then
        for host in 127.0.0.1 '[::1]'; do
            got=$(printf 'hi %s\n' "$host" | timeout 10 "$SOCKIT" connect "$host:$p4") || fail "connect $host:$p4"
            [[ $got == "hi $host" ]] || fail "echo over $host: '$got'"
        done
    else
        got=$(printf 'v4\n' | timeout 10 socat -t 2 - "UDP4:127.0.0.1:$p4") || fail "socat udp4"
        [[ $got == v4 ]] || fail "udp echo over IPv4: '$got'"
        got=$(printf 'v6\n' | timeout 10 socat -t 2 - "UDP6:[::1]:$p4") || fail "socat udp6"
        [[ $got == v6 ]] || fail "udp echo over IPv6: '$got'"
    fi
    kill -TERM "$pid"
    wait "$pid" || fail "$proto: serve exited $?"
    pass "$proto: one port ($p4) for both families, both in the banner, both answer"
done

"$SOCKIT" serve --listen :0 --json >"$TMP/json.out" 2>"$TMP/json.log" &
pid=$!
PIDS+=("$pid")
for ((i = 0; i < 100; i++)); do
    grep -q '"event":"listen"' "$TMP/json.out" && break
    sleep 0.05
done
python3 - "$TMP/json.out" <<'PY' || fail "JSON listen event: $(head -n1 "$TMP/json.out")"
import json, sys
ev = json.loads(open(sys.argv[1]).readline())
assert ev["event"] == "listen", ev
port = ev["addr"].rsplit(":", 1)[1]
assert ev["addrs"] == ["0.0.0.0:" + port, "[::]:" + port], ev
PY
kill -TERM "$pid"
wait "$pid" || true
pass "the JSON listen event lists every listener"
