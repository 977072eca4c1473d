#!/usr/bin/env bash
# CPU per request of two sockit bench binaries (the client, not the server)
# against one server: user-space instructions per request under valgrind
# --tool=callgrind (difference of a SHORT and a LONG run, so start-up and
# shutdown cancel), then wall-clock req/s and the client's own CPU time per
# request (user + system from /usr/bin/time), RUNS alternating runs each,
# medians and ratios. The server is `sockit serve --service http --model
# loop` from SOCKIT, the same process for every run.
#   OLD=/path/to/old/sockit bench/client-cpu.sh
# Env: OLD (required), NEW (default SOCKIT), RUNS (5), DUR (5 s wall runs),
# CONNS (100, wall runs), CG_CONNS (10, callgrind runs), SHORT (1), LONG (3).
. "$(dirname "$0")/lib.sh"
OLD=${OLD:?set OLD to the sockit binary to compare against}
NEW=${NEW:-$SOCKIT}
CONNS=${CONNS:-100}
CG_CONNS=${CG_CONNS:-10}
SHORT=${SHORT:-1}
LONG=${LONG:-3}
command -v valgrind >/dev/null || { echo "client-cpu: valgrind not installed"; exit 1; }

sockit_start http --service http --model loop || exit 1
addr=$SK_ADDR
wait_http "$addr" || exit 1
echo "# server: sockit serve --service http --model loop on $addr (pid $SK_PID)"
echo "# old: $OLD"
echo "# new: $NEW"

# cg_one BIN DUR: "Ir requests" of one client run under callgrind.
cg_one() {
    local out="$WORK/cg.$RANDOM" req
    req=$(valgrind --tool=callgrind --callgrind-out-file="$out" "$1" bench "$addr" --proto http -t1 -c"$CG_CONNS" \
        -d"$2" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
    echo "$(awk '/^(summary|totals):/ {print $2; exit}' "$out") $req"
    rm -f "$out"
}
cg_per() {
    local a b
    a=$(cg_one "$1" "$SHORT")
    b=$(cg_one "$1" "$LONG")
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, s, " "); split(b, l, " "); printf "%.0f", (l[1]-s[1]) / (l[2]-s[2]) }'
}

# wall BIN: "req/s client_us_per_request" of one run.
wall() {
    local out
    out=$(/usr/bin/time -f 'CLICPU %U %S' "$1" bench "$addr" --proto http -t1 -c"$CONNS" -d"$DUR" --json 2>&1)
    python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
j = json.loads(next(l for l in lines if l.startswith("{")))
u, s = map(float, next(l for l in lines if l.startswith("CLICPU")).split()[1:])
assert all(v == 0 for v in j["errors"].values()), j["errors"]
print("%.0f %.3f" % (j["requests_per_s"], (u + s) * 1e6 / j["requests"]))
' <<<"$out"
}

echo "# callgrind: <bin> bench $addr --proto http -t1 -c$CG_CONNS -d$SHORT and -d$LONG; Ir/request = dIr / drequests"
: >"$WORK/cg.old" && : >"$WORK/cg.new"
for ((i = 1; i <= RUNS; i++)); do
    o=$(cg_per "$OLD")
    n=$(cg_per "$NEW")
    echo "run $i: old $o Ir/request, new $n Ir/request"
    echo "$o" >>"$WORK/cg.old"
    echo "$n" >>"$WORK/cg.new"
done
report "client Ir/request, c=$CG_CONNS" "new" "$WORK/cg.new" "old" "$WORK/cg.old"

echo "# wall clock: <bin> bench $addr --proto http -t1 -c$CONNS -d$DUR, alternating"
: >"$WORK/w.old" && : >"$WORK/w.new" && : >"$WORK/c.old" && : >"$WORK/c.new"
for ((i = 1; i <= RUNS; i++)); do
    read -r orps ocpu <<<"$(wall "$OLD")"
    read -r nrps ncpu <<<"$(wall "$NEW")"
    echo "run $i: old $orps req/s ($ocpu us CPU/request), new $nrps req/s ($ncpu us CPU/request)"
    echo "$orps" >>"$WORK/w.old"
    echo "$nrps" >>"$WORK/w.new"
    echo "$ocpu" >>"$WORK/c.old"
    echo "$ncpu" >>"$WORK/c.new"
done
report "client req/s, c=$CONNS" "new" "$WORK/w.new" "old" "$WORK/w.old"
report_paired "client req/s, c=$CONNS" "new" "$WORK/w.new" "old" "$WORK/w.old"
report "client CPU us/request, c=$CONNS" "new" "$WORK/c.new" "old" "$WORK/c.old"
stop_pid "$SK_PID"
