#!/usr/bin/env bash
# What serve --trace costs when it is off: the server built as usual
# (tracing compiled in, not asked for) against the same source built with
# -DSOCKIT_TRACE=OFF (every traced branch compiled out), both Release.
# Counted with valgrind --tool=callgrind (user-space instructions, so the
# figure repeats on a busy machine): per request (sockit bench --proto
# echo -c1, short and long loads, dIr / drequests) and per connection (a
# client that connects, sends 64 bytes, reads them back and closes, 200
# and 1000 times, dIr / dconnections). Alternating runs, medians, ratio
# on/off (1.00: nothing measurable). Not part of make test.
# Env: RUNS (3), SHORT (1 s), LONG (3 s), SOCKIT_ON / SOCKIT_OFF (existing
# binaries instead of building them).
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-3}
SHORT=${SHORT:-1}
LONG=${LONG:-3}
SRC=$(cd "$BENCH_DIR/.." && pwd)
command -v valgrind >/dev/null || { echo "trace-cost: valgrind not installed"; exit 1; }

build() { # build DIR on|off: a Release sockit there, its path printed
    cmake -S "$SRC" -B "$1" -DCMAKE_BUILD_TYPE=Release -DSOCKIT_TRACE="$2" >"$1.log" 2>&1 &&
        cmake --build "$1" -j2 --target sockit >>"$1.log" 2>&1 || { echo "trace-cost: build failed: $(tail -5 "$1.log")" >&2; exit 1; }
    echo "$1/sockit"
}
ON=${SOCKIT_ON:-$(build "$WORK/on" ON)}
OFF=${SOCKIT_OFF:-$(build "$WORK/off" OFF)}
"$OFF" serve --trace >/dev/null 2>&1 && { echo "trace-cost: $OFF has --trace: not built with SOCKIT_TRACE=OFF"; exit 1; }

ir_of() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }

# load BIN KIND N: serve echo under callgrind, load it (requests: N
# seconds of bench -c1; connections: N of them), stop it; prints "Ir count".
load() {
    local bin=$1 kind=$2 n=$3 out="$WORK/cg.$RANDOM" pid addr count i
    local log=$out.log
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" serve --service echo --model loop \
        --listen 127.0.0.1:0 2>"$log" >/dev/null &
    pid=$!
    BG_PIDS+=("$pid")
    addr=$(serving_addr "$log" "$pid" 300) || true
    if [[ $kind == requests ]]; then
        count=$("$SOCKIT" bench "$addr" --proto echo -c1 -d"${n}s" --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
    else
        count=$(/usr/bin/python3 - "${addr##*:}" "$n" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"x" * 64)
    got = b""
    while len(got) < 64:
        got += c.recv(64)
    c.close()
print(n)
PY
)
    fi
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$(ir_of "$out") $count"
}

per() { # per BIN KIND SMALL LARGE: instructions per request / connection
    local a b
    a=$(load "$1" "$2" "$3")
    b=$(load "$1" "$2" "$4")
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, s, " "); split(b, l, " "); printf "%.0f", (l[1]-s[1]) / (l[2]-s[2]) }'
}

echo "# valgrind --tool=callgrind on: sockit serve --service echo --model loop"
echo "# on:  $ON (tracing compiled in, off)"
echo "# off: $OFF (-DSOCKIT_TRACE=OFF)"
for kind in requests connections; do
    small=$SHORT large=$LONG
    [[ $kind == connections ]] && small=200 large=1000
    : >"$WORK/$kind.on" && : >"$WORK/$kind.off"
    for ((i = 1; i <= RUNS; i++)); do
        a=$(per "$ON" "$kind" "$small" "$large")
        b=$(per "$OFF" "$kind" "$small" "$large")
        echo "run $i: per ${kind%s}: compiled in, off $a Ir, compiled out $b Ir"
        echo "$a" >>"$WORK/$kind.on"
        echo "$b" >>"$WORK/$kind.off"
    done
    report "user instructions per ${kind%s} (echo)" "in,off" "$WORK/$kind.on" "out" "$WORK/$kind.off"
done
