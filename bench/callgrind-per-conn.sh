#!/usr/bin/env bash
# User-space instructions and system calls per churned connection (one
# HTTP request per connection, Connection: close): the deterministic
# measure of the accept path's cost, where timing on a shared machine is
# noise. The server runs under valgrind --tool=callgrind (instructions) or
# strace -f -c (system calls); the client, sockit bench --new-conn -c 4
# --proto http, makes SHORT and then LONG connections to a fresh server
# each time; per connection = (count_long - count_short) / (LONG - SHORT),
# which cancels start-up and shutdown.
# Each of VARIANTS is "label=ARGS" for sockit serve --service http (ARGS
# with commas for spaces); BASE, when set, is another sockit binary measured
# with plain --model loop as "base". nginx (master_process off) alongside.
# Env: RUNS (5), SHORT (1000), LONG (4000), TOOL (callgrind|strace), BASE.
. "$(dirname "$0")/lib.sh"
SHORT=${SHORT:-1000}
LONG=${LONG:-4000}
TOOL=${TOOL:-callgrind}
VARIANTS=${VARIANTS:-"loop=--model,loop defer=--model,loop,--defer-accept,1s"}
command -v valgrind >/dev/null || { echo "callgrind-per-conn: valgrind not installed"; exit 1; }

# wrap OUT: the tool's command line in front of the server.
wrap() {
    case $TOOL in
    callgrind) echo "valgrind --tool=callgrind --callgrind-out-file=$1" ;;
    strace) echo "strace -f -c -o $1" ;;
    esac
}
# count_of OUT: instructions (callgrind) or system calls (strace) in OUT.
count_of() {
    case $TOOL in
    callgrind) awk '/^(summary|totals):/ {print $2; exit}' "$1" ;;
    strace) awk '$NF == "total" {print $(NF - 2)}' "$1" ;;
    esac
}

# one_load BIN ARGS N: serve N new connections under the tool; prints the count.
one_load() {
    local bin=$1 args=${2//,/ } n=$3 out="$WORK/cnt.$RANDOM" addr pid i log
    log="$out.log"
    # shellcheck disable=SC2086
    $(wrap "$out") "$bin" serve --service http $args --listen 127.0.0.1:0 2>"$log" >/dev/null &
    pid=$!
    BG_PIDS+=("$pid")
    addr=$(serving_addr "$log" "$pid" 300) || true
    "$SOCKIT" bench "$addr" --proto http --new-conn -c 4 -n "$n" --json >"$WORK/b.json"
    # strace runs the server as its child and passes no SIGTERM on.
    [[ $TOOL == strace ]] && kill -TERM "$(ps -o pid= --ppid "$pid")"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    count_of "$out"
}

nginx_load() {
    local n=$1 out="$WORK/cnt.$RANDOM" port
    port=$(free_port)
    NGINX_PREFIX_CMD="$(wrap "$out")" NGINX_MAIN_EXTRA="master_process off;" nginx_start "$WORK/ngx" "$port" 1 \
        2>/dev/null || return 1
    "$SOCKIT" bench "127.0.0.1:$port" --proto http --new-conn -c 4 -n "$n" --json >"$WORK/b.json"
    if [[ $TOOL == strace ]]; then
        kill -QUIT "$(ps -o pid= --ppid "$NGINX_PID")"
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    nginx_stop
    count_of "$out"
}

per_conn() {
    local a b
    if [[ $1 == nginx ]]; then
        a=$(nginx_load "$SHORT")
        b=$(nginx_load "$LONG")
    else
        a=$(one_load "$1" "$2" "$SHORT")
        b=$(one_load "$1" "$2" "$LONG")
    fi
    awk -v a="$a" -v b="$b" -v n=$((LONG - SHORT)) 'BEGIN { printf "%.1f", (b - a) / n }'
}

labels=()
[[ -n ${BASE:-} ]] && labels+=(base)
for v in $VARIANTS; do labels+=("${v%%=*}"); done
labels+=(nginx)
echo "# $TOOL per connection: sockit serve --service http ARGS | nginx 1 process (master_process off)"
echo "# client: sockit bench ADDR --proto http --new-conn -c 4 -n $SHORT and -n $LONG; (dN) / $((LONG - SHORT))"
echo "# variants: ${BASE:+base=$BASE --model loop }$VARIANTS"
for l in "${labels[@]}"; do : >"$WORK/r.$l"; done
for ((i = 1; i <= RUNS; i++)); do
    line="run $i:"
    for l in "${labels[@]}"; do
        case $l in
        base) r=$(per_conn "$BASE" "--model,loop") ;;
        nginx) r=$(per_conn nginx) ;;
        *)
            for v in $VARIANTS; do [[ ${v%%=*} == "$l" ]] && args=${v#*=}; done
            r=$(per_conn "$SOCKIT" "$args")
            ;;
        esac
        echo "$r" >>"$WORK/r.$l"
        line+=" $l $r"
    done
    echo "$line"
done
for l in "${labels[@]}"; do
    [[ $l == nginx ]] && continue
    report "$TOOL per churned connection" "$l" "$WORK/r.$l" "nginx" "$WORK/r.nginx"
done
