# shellcheck shell=bash
# Shared by the benchmark scripts (not part of make test): find the sockit
# binary, start servers by PID, alternate runs, print medians and ratios.
# Source it:  . "$(dirname "$0")/lib.sh"
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOCKIT=${SOCKIT:-$BENCH_DIR/../build/sockit}
RUNS=${RUNS:-5}
DUR=${DUR:-5}
WORK=$(mktemp -d /tmp/sockit-bench.XXXXXX)
BG_PIDS=()
. "$BENCH_DIR/nginx.sh"

bench_cleanup() {
    nginx_stop || true
    for pid in "${BG_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap bench_cleanup EXIT

[[ -x $SOCKIT ]] || { echo "bench: $SOCKIT not built (run make)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# sockit_start NAME ARGS...: `sockit serve ARGS --listen 127.0.0.1:0` in the
# background; sets SK_PID and SK_ADDR. Returns 1 (with the reason on
# stderr) when the server does not come up.
sockit_start() {
    local name=$1 log
    shift
    log="$WORK/$name.log"
    : >"$log" # there before the first look, even if the server is slow to start
    "$SOCKIT" serve "$@" --listen 127.0.0.1:0 2>"$log" >/dev/null &
    SK_PID=$!
    BG_PIDS+=("$SK_PID")
    # shellcheck disable=SC2034 # read by the scripts
    if SK_ADDR=$(serving_addr "$log" "$SK_PID" 100) && [[ -n $SK_ADDR ]]; then
        sleep 0.2
        kill -0 "$SK_PID" 2>/dev/null && return 0
    fi
    echo "bench: sockit serve $* did not start: $(grep -v '^Try' "$log" | tail -n1)" >&2
    return 1
}

# serving_addr LOG PID [TRIES]: wait (TRIES x 50 ms, default 1200: a server
# under valgrind starts slowly) for the "sockit: serving ... on ADDR" line
# of the server PID writes its stderr to; print ADDR. Returns 1 (printing
# nothing) when PID exits or the time runs out first.
serving_addr() {
    local log=$1 pid=$2 tries=${3:-1200} i
    for ((i = 0; i < tries; i++)); do
        if grep -qs 'sockit: serving .* on ' "$log"; then
            sed -n 's/^sockit: serving .* on \([^ ,]*\)[ ,].*/\1/p' "$log" | head -n1
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# stop_pid PID: SIGTERM, wait (bounded), then SIGKILL.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# build_floor [parse]: compile bench/floor.c (the recv+send reference
# server) into $WORK and set FLOOR to its path; with "parse", with its parse
# mode, linked with the libsockit.a beside $SOCKIT (as $WORK/floor-parse, so
# both can be built in one run).
build_floor() {
    FLOOR=$WORK/floor${1:+-$1}
    local extra=()
    if [[ ${1:-} == parse ]]; then
        local lib
        lib=$(dirname "$SOCKIT")/libsockit.a
        [[ -f $lib ]] || { echo "bench: no $lib for the floor's parse mode" >&2; exit 1; }
        extra=(-DFLOOR_PARSE -I"$BENCH_DIR/../include" "$lib" -lpthread -lm)
    fi
    cc -O2 -o "$FLOOR" "$BENCH_DIR/floor.c" "${extra[@]}" || { echo "bench: cannot build bench/floor.c" >&2; exit 1; }
}

# wait_http ADDR [TRIES]: wait (TRIES x 50 ms, 5 s by default) until GET /
# answers on ADDR.
wait_http() {
    local i
    for ((i = 0; i < ${2:-100}; i++)); do
        curl -fs "http://$1/" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "bench: nothing answers on $1" >&2
    return 1
}

# Does this build have `--service http`?
have_http_service() {
    "$SOCKIT" serve --help 2>/dev/null | grep -qE '^ +http '
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0) print "n/a"; else printf "%.2f", a/b }'; }

# wrk_rps URL ARGS...: requests/s from one wrk run.
wrk_rps() {
    local url=$1
    shift
    wrk "$@" "$url" | awk '/^Requests\/sec:/ {print $2}'
}

# tree_cpu_ticks PID: user+system CPU ticks of a process (all its threads)
# and its children, e.g. nginx's master and workers.
tree_cpu_ticks() {
    local t=0 p v
    for p in "$1" $(pgrep -P "$1" || true); do
        v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
        t=$((t + v))
    done
    echo "$t"
}

# wrk_cpu SERVER_PID URL ARGS...: one wrk run; prints "req/s server_us_per_req
# wrk_cpu_percent": the server's CPU time (user+system, from /proc) per
# request during the run, and how busy wrk itself was (100 = one core).
# CLIENT_PREFIX (e.g. "taskset -c 1") runs in front of the client.
wrk_cpu() {
    local pid=$1 url=$2 a b out
    shift 2
    a=$(tree_cpu_ticks "$pid")
    # shellcheck disable=SC2086
    out=$(/usr/bin/time -f 'WRKCPU %U %S %e' ${CLIENT_PREFIX:-} wrk "$@" "$url" 2>&1)
    b=$(tree_cpu_ticks "$pid")
    awk -v a="$a" -v b="$b" -v hz="$(getconf CLK_TCK)" '
        /^Requests\/sec:/ {rps = $2}
        /requests in/ {req = $1}
        /^WRKCPU/ {wrk = ($2 + $3) / $4 * 100}
        END {printf "%s %.2f %.0f\n", rps, (b - a) / hz * 1e6 / req, wrk}' <<<"$out"
}

# bench_cpu SERVER_PID ADDR ARGS...: like wrk_cpu with sockit bench as the
# client (-p http); prints "req/s server_us_per_req client_cpu_percent".
bench_cpu() {
    local pid=$1 addr=$2 a b out
    shift 2
    a=$(tree_cpu_ticks "$pid")
    # shellcheck disable=SC2086
    out=$(/usr/bin/time -f 'CLICPU %U %S %e' ${CLIENT_PREFIX:-} "$SOCKIT" bench "$addr" --proto http "$@" --json 2>&1)
    b=$(tree_cpu_ticks "$pid")
    python3 -c '
import json, sys
a, b, hz = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
lines = sys.stdin.read().splitlines()
j = json.loads(next(l for l in lines if l.startswith("{")))
u, s, e = map(float, next(l for l in lines if l.startswith("CLICPU")).split()[1:])
print("%.2f %.2f %.0f" % (j["requests_per_s"], (b - a) / hz * 1e6 / j["requests"], (u + s) / e * 100))
' "$a" "$b" "$(getconf CLK_TCK)" <<<"$out"
}

# sockit_rps ADDR ARGS...: requests/s from one sockit bench --json run.
sockit_rps() {
    local addr=$1
    shift
    "$SOCKIT" bench "$addr" "$@" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_per_s"])'
}

# report TITLE NAME_A FILE_A NAME_B FILE_B: medians of two columns of
# numbers and A/B.
report() {
    local title=$1 na=$2 fa=$3 nb=$4 fb=$5 ma mb
    ma=$(median <"$fa")
    mb=$(median <"$fb")
    printf '%-44s %-10s median %14s   %-10s median %14s   ratio %s/%s = %s\n' "$title" "$na" "$ma" "$nb" "$mb" \
        "$na" "$nb" "$(ratio "$ma" "$mb")"
    echo "RESULT|$title|$na|$ma|$nb|$mb|$(ratio "$ma" "$mb")" >>"${BENCH_RESULTS:-/dev/null}"
}

# report_paired TITLE NAME_A FILE_A NAME_B FILE_B: the median of the
# per-run ratios A/B (line i of FILE_A over line i of FILE_B). When the two
# were measured back to back in each run, this cancels slow drifts of the
# machine that the ratio of the two medians keeps.
report_paired() {
    local title=$1 na=$2 fa=$3 nb=$4 fb=$5 m runs
    runs=$(paste -d' ' "$fa" "$fb" | awk '$2 + 0 > 0 { printf "%.2f ", $1 / $2 }')
    m=$(tr ' ' '\n' <<<"$runs" | grep . | median)
    printf '%-44s per-run %s/%s: %s  median %s\n' "$title" "$na" "$nb" "$runs" "$m"
    echo "RESULT|$title (median of per-run ratios)|$na|-|$nb|-|$m" >>"${BENCH_RESULTS:-/dev/null}"
}

# json_get EXPR: one value from the JSON object on stdin (the first line
# starting with "{"), EXPR a Python expression over it as r, e.g.
#   sockit bench ... --json | json_get 'r["datagrams"]["lost"]'
json_get() {
    python3 -c '
import json, sys
line = next(l for l in sys.stdin.read().splitlines() if l.startswith("{"))
r = json.loads(line)
print(eval(sys.argv[1]))' "$1"
}

# build_udp_floor: compile bench/udp_floor.c into $WORK, set UDP_FLOOR.
build_udp_floor() {
    UDP_FLOOR=$WORK/udp_floor
    cc -O2 -o "$UDP_FLOOR" "$BENCH_DIR/udp_floor.c" || { echo "bench: cannot build bench/udp_floor.c" >&2; exit 1; }
}

# udp_floor_start simple|batch: start it on 127.0.0.1, port chosen by the
# kernel; sets UF_PID and UF_ADDR.
udp_floor_start() {
    local out=$WORK/udp_floor-$1.out i
    "$UDP_FLOOR" 127.0.0.1 0 "$1" >"$out" &
    UF_PID=$!
    BG_PIDS+=("$UF_PID")
    for ((i = 0; i < 100; i++)); do
        if grep -q '^port ' "$out"; then
            # shellcheck disable=SC2034 # read by the scripts
            UF_ADDR=127.0.0.1:$(awk '/^port / {print $2}' "$out")
            return 0
        fi
        sleep 0.05
    done
    echo "bench: udp_floor $1 did not start" >&2
    return 1
}

# rss_tree_kb PID: resident memory of a process and its children, KiB.
rss_tree_kb() {
    local total=0 p
    for p in "$1" $(pgrep -P "$1" || true); do
        total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
