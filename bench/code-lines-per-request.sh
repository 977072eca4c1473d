#!/usr/bin/env bash
# The code a keep-alive HTTP request runs in user space, counted in 64-byte
# cache lines (valgrind --tool=callgrind --dump-instr=yes, repeatable where
# hardware counters are unavailable). Between two requests the kernel's
# receive and send paths push a server's code out of the instruction cache,
# so each line of code a request touches is a likely refill: beside the
# instruction count (bench/callgrind-per-request.sh) this is the other
# deterministic half of a request's user-space cost.
#
# A line counts when some instruction in it ran at least once per two
# requests over the whole load, so per-wakeup code shared by many events
# (and loop copies unrolled several times) falls below it: read the figures
# side by side, not as absolutes. Servers: sockit serve --service http
# --model loop ($SOCKIT, and $SOCKIT_B when set, e.g. a build without the
# profile), the floor (bench/floor.c) and the floor parsing each head with
# sockit's parser (floor parse). Client: sockit bench -c$CONNS for
# $DUR s. Env: CONNS (100), DUR (5), SOCKIT_B.
. "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-100}
command -v valgrind >/dev/null || { echo "code-lines-per-request: valgrind not installed"; exit 1; }
build_floor parse
FLOOR_PARSE=$FLOOR
build_floor

# lines OUT REQUESTS: the line count and the lines per object and function.
lines() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import collections, sys
out, req = sys.argv[1], int(sys.argv[2])
count, fn_of = collections.Counter(), {}
obj = fn = None
after_call = False
for line in open(out):
    if line.startswith('ob='):
        obj = line[3:].strip()
    elif line.startswith('fn='):
        fn = line[3:].strip()
    elif line.startswith('calls='):
        after_call = True  # the next cost line is the callee's, inclusive
    elif line.startswith('0x'):
        if after_call:
            after_call = False
            continue
        f = line.split()
        if len(f) >= 3:
            addr = int(f[0], 16)
            count[(obj, addr)] += int(f[2])
            fn_of[(obj, addr)] = fn
hot = {(o, a >> 6) for (o, a), n in count.items() if n >= 0.5 * req}
per_fn = collections.Counter()
for key in {(fn_of[(o, a)], a >> 6) for (o, a), n in count.items() if n >= 0.5 * req}:
    per_fn[key[0]] += 1
top = ", ".join("%s %d" % (f.split('/')[-1], k) for f, k in per_fn.most_common(6))
print("%d lines (%s)" % (len(hot), top))
PY
}

# one NAME: load NAME under callgrind; prints its line count.
one() {
    local name=$1 out="$WORK/cg.$1" log="$WORK/vg.$1.log" pid addr req bin
    local vg=(valgrind --tool=callgrind --dump-instr=yes --compress-pos=no --compress-strings=no
        --callgrind-out-file="$out")
    case $name in
    floor | floor-parse)
        local port bin=$FLOOR mode=()
        [[ $name == floor-parse ]] && bin=$FLOOR_PARSE mode=(parse)
        port=$(free_port)
        "${vg[@]}" "$bin" 127.0.0.1 "$port" "${mode[@]}" 2>"$log" &
        pid=$!
        addr=127.0.0.1:$port
        BG_PIDS+=("$pid")
        wait_http "$addr" 1200 || { echo "bench: $name did not start" >&2; exit 1; }
        ;;
    *)
        bin=$SOCKIT
        [[ $name == sockit_b ]] && bin=$SOCKIT_B
        "${vg[@]}" "$bin" serve --service http --model loop --listen 127.0.0.1:0 2>"$log" >/dev/null &
        pid=$!
        BG_PIDS+=("$pid")
        addr=$(serving_addr "$log" "$pid" 1200) || { echo "bench: $name did not start" >&2; exit 1; }
        ;;
    esac
    req=$("$SOCKIT" bench "$addr" --proto http -c"$CONNS" -d"$DUR" --json | json_get 'r["requests"]')
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$name: $req requests, $(lines "$out" "$req")"
}

echo "# valgrind --tool=callgrind --dump-instr=yes; client sockit bench --proto http -c$CONNS -d$DUR"
echo "# lines of code run at least once per two requests"
one sockit
[[ -n ${SOCKIT_B:-} ]] && one sockit_b
one floor
one floor-parse
