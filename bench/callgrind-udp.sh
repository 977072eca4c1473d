#!/usr/bin/env bash
# User-space instructions per UDP echo datagram under valgrind
# --tool=callgrind (deterministic where timing is not): sockit serve
# --proto udp --service echo (loop) against bench/udp_floor.c simple and
# batch. Each server answers a short and a long count of datagrams from
# one client (sockit bench --proto udp -c1, window 1, so every datagram
# is its own batch in the worst case, and WINDOW>1 for batches); per
# datagram = (Ir_long - Ir_short) / (answered_long - answered_short),
# which cancels start-up and shutdown. The kernel's share is not counted:
# udp-vs-floor.sh prints the server's CPU time per datagram for that.
# Env: SHORT (2000), LONG (10000) datagrams, SOCKS (4), WINDOW (8).
. "$(dirname "$0")/lib.sh"
SHORT=${SHORT:-2000}
LONG=${LONG:-10000}
SOCKS=${SOCKS:-4}
WINDOW=${WINDOW:-8}
command -v valgrind >/dev/null || { echo "callgrind-udp: valgrind not installed"; exit 1; }
build_udp_floor

ir_of() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }

# one_load KIND N: the server under callgrind answers N datagrams; prints
# "Ir answered".
one_load() {
    local kind=$1 n=$2 out="$WORK/cg.$1.$2.$RANDOM" log="$WORK/vg.$RANDOM.log" addr pid i ans
    : >"$log"
    case $kind in
    sockit)
        valgrind --tool=callgrind --callgrind-out-file="$out" "$SOCKIT" serve --proto udp --service echo \
            --model loop --listen 127.0.0.1:0 2>"$log" >/dev/null &
        pid=$!
        addr=$(serving_addr "$log" "$pid" 1200) || true
        ;;
    simple | batch)
        valgrind --tool=callgrind --callgrind-out-file="$out" "$UDP_FLOOR" 127.0.0.1 0 "$kind" >"$log" 2>/dev/null &
        pid=$!
        for ((i = 0; i < 1200; i++)); do
            grep -q '^port ' "$log" && break
            sleep 0.05
        done
        addr=127.0.0.1:$(awk '/^port / {print $2}' "$log")
        ;;
    esac
    BG_PIDS+=("$pid")
    ans=$("$SOCKIT" bench "$addr" --proto udp -c "$SOCKS" --pipeline "$WINDOW" -n "$n" --size 64 --timeout 2s \
        --json | json_get 'r["requests"]')
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$(ir_of "$out") $ans"
}

per_dgram() {
    local a b
    a=$(one_load "$1" "$SHORT")
    b=$(one_load "$1" "$LONG")
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, s, " "); split(b, l, " ");
        printf "%.0f", (l[1]-s[1]) / (l[2]-s[2]) }'
}

echo "# valgrind --tool=callgrind SERVER; sockit bench ADDR --proto udp -c $SOCKS --pipeline $WINDOW -n $SHORT|$LONG --size 64"
s=$(per_dgram sockit)
f1=$(per_dgram simple)
fb=$(per_dgram batch)
echo "user-space instructions per datagram: sockit $s, simple floor $f1, batch floor $fb"
echo "RESULT|UDP echo user-space Ir per datagram|sockit|$s|batch|$fb|$(ratio "$s" "$fb")" >>"${BENCH_RESULTS:-/dev/null}"
