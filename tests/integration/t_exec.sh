#!/usr/bin/env bash
# sockit serve --exec CMD (like ncat --exec, socat EXEC:): each connection
# gets /bin/sh -c CMD with the connection as its stdin and stdout, under
# every model. Real clients (nc, socat); the client's FIN ends the child's
# stdin, the child's exit closes the connection; 1 MiB of random bytes
# through cat keeps its sha256; --max-conns bounds the children; no child
# is left (zombie or not) once clients leave; SIGTERM drains.
. "$(dirname "$0")/lib.sh"

BIG=$TMP/big.bin
head -c $((1024 * 1024)) /dev/urandom >"$BIG"
WANT=$(sha <"$BIG")

# descendants PID: every process below PID, "pid stat comm" a line.
descendants() {
    local p
    for p in $(pgrep -P "$1" || true); do
        ps -o pid=,stat=,comm= -p "$p" || true
        descendants "$p"
    done
}

# started PID: when PID started (clock ticks since boot), or nothing when
# there is no such process.
started() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }

# settled PID [WORKERS]: wait (5 s at most) until PID has no descendant but
# its WORKERS (prefork's, named sockit), and none is a zombie.
settled() {
    local pid=$1 workers=${2:-0} i list
    for ((i = 0; i < 100; i++)); do
        list=$(descendants "$pid")
        if [[ -z $list && $workers == 0 ]] ||
            [[ $(grep -c . <<<"$list") == "$workers" && -z $(awk '$3 != "sockit" || $2 ~ /Z/' <<<"$list") ]]; then
            return 0
        fi
        sleep 0.05
    done
    fail "$tag: processes left under the server after the clients left: $list"
}

# all_closed LOG: wait (5 s at most) until the -v log of a server shows as
# many closes as opens: a finished client's connection still counts against
# --max-conns while its close lingers for the peer's FIN.
all_closed() {
    local i opens closes
    for ((i = 0; i < 100; i++)); do
        opens=$(grep -c '^sockit: open ' "$1" || true)
        closes=$(grep -c '^sockit: close ' "$1" || true)
        ((opens == closes)) && return 0
        sleep 0.05
    done
    fail "$tag: $opens connections opened, only $closes closed"
}

FDS=()
# spawn IN OUT CMD...: CMD in the background from IN to OUT, none of FDS
# inherited (a fifo another process holds never reaches EOF); sets SPAWNED.
spawn() {
    local in=$1 out=$2
    shift 2
    (
        exec 0<"$in"
        for fd in "${FDS[@]}"; do eval "exec $fd>&-"; done
        exec "$@" >"$out"
    ) &
    SPAWNED=$!
    PIDS+=("$SPAWNED")
}

wait_for() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -qxF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "$tag: '$2' never reached $(basename "$1"): '$(head -c 200 "$1")'"
}

exec_model() {
    local model=$1 workers=0
    tag=$model
    local args=(--model "$model")
    [[ $model == prefork || $model == hybrid ]] && args+=(--workers 2)
    [[ $model == prefork ]] && workers=2

    start_server "tr-$model" "${args[@]}" --exec 'tr a-z A-Z' --listen 127.0.0.1:0
    local got
    got=$(printf 'hello exec\n' | timeout 10 nc -N "$SERVER_HOST" "$SERVER_PORT") || fail "$tag: nc failed"
    [[ $got == "HELLO EXEC" ]] || fail "$tag: nc through tr got '$got'"
    got=$(printf 'from socat' | timeout 10 socat -t 10 - "TCP:$SERVER_ADDR") || fail "$tag: socat failed"
    [[ $got == "FROM SOCAT" ]] || fail "$tag: socat through tr got '$got'"
    settled "$SERVER_PID" "$workers"
    stop_server "$SERVER_PID"
    pass "$model: --exec 'tr a-z A-Z' with nc and socat; the client's FIN ends tr, tr's exit ends the connection"

    start_server "cat-$model" "${args[@]}" --exec cat --max-conns 2 -v --listen 127.0.0.1:0
    local pid=$SERVER_PID log=$TMP/cat-$model.log
    got=$(timeout 30 nc -N "$SERVER_HOST" "$SERVER_PORT" <"$BIG" | sha)
    [[ $got == "$WANT" ]] || fail "$tag: 1 MiB through cat with nc came back different"
    got=$(timeout 30 socat -t 10 - "TCP:$SERVER_ADDR" <"$BIG" | sha)
    [[ $got == "$WANT" ]] || fail "$tag: 1 MiB through cat with socat came back different"
    settled "$pid" "$workers"
    pass "$model: 1 MiB of random bytes through --exec cat keeps its sha256 (nc, socat); no child left"

    # Two clients stay connected (the --max-conns), a third is refused.
    all_closed "$log"
    rm -f "$TMP"/h?.{in,out}
    mkfifo "$TMP/h1.in" "$TMP/h2.in"
    FDS=()
    spawn "$TMP/h1.in" "$TMP/h1.out" socat - "TCP:$SERVER_ADDR"
    local h1=$SPAWNED
    exec {H1}>"$TMP/h1.in"
    FDS+=("$H1")
    spawn "$TMP/h2.in" "$TMP/h2.out" socat - "TCP:$SERVER_ADDR"
    local h2=$SPAWNED
    exec {H2}>"$TMP/h2.in"
    FDS+=("$H2")
    echo one >&$H1
    echo two >&$H2
    wait_for "$TMP/h1.out" one
    wait_for "$TMP/h2.out" two
    got=$(printf 'third\n' | timeout 10 nc -N "$SERVER_HOST" "$SERVER_PORT" || true)
    [[ -z $got ]] || fail "$tag: a third client beyond --max-conns 2 got '$got'"
    grep -q 'reject: max-conns reached' "$log" || fail "$tag: the third client was not rejected"
    local kids k starts=()
    kids=$(descendants "$pid" | awk '$3 == "cat" {print $1}')
    [[ $(grep -c . <<<"$kids") == 2 ]] || fail "$tag: wanted 2 cat children, have: $(descendants "$pid")"
    # Each cat as PID and start time: with pid_max at 32768 and other tests
    # forking thousands, a PID alone may name someone else's process later.
    for k in $kids; do starts+=("$k:$(started "$k")"); done

    # SIGTERM with both connected: the server drains and exits 0, each
    # client gets a FIN and ends, each cat is gone.
    stop_server "$pid"
    timeout 10 tail --pid="$h1" -f /dev/null || fail "$tag: client 1 did not end after the drain"
    timeout 10 tail --pid="$h2" -f /dev/null || fail "$tag: client 2 did not end after the drain"
    exec {H1}>&- {H2}>&-
    for k in "${starts[@]}"; do
        [[ $(started "${k%%:*}") != "${k#*:}" ]] || fail "$tag: cat ${k%%:*} outlived the server"
    done
    [[ $(<"$TMP/h1.out") == one && $(<"$TMP/h2.out") == two ]] || fail "$tag: held clients got more than their echo"
    pass "$model: --max-conns 2 bounds the children (third refused); SIGTERM drains both, exit 0, no cat left"
}

for model in fork prefork thread loop hybrid; do
    exec_model "$model"
done

# Usage errors: exec needs its command, and --exec belongs to exec.
expect_rc 2 "$SOCKIT" serve --service exec --listen 127.0.0.1:0
[[ $(<"$TMP/last.err") == "sockit: --service exec needs --exec CMD (see 'sockit serve --help')" ]] ||
    fail "--service exec alone: '$(cat "$TMP/last.err")'"
expect_rc 2 "$SOCKIT" serve --service echo --exec cat --listen 127.0.0.1:0
[[ $(<"$TMP/last.err") == "sockit: --exec applies to --service exec (see 'sockit serve --help')" ]] ||
    fail "--exec with echo: '$(cat "$TMP/last.err")'"
expect_rc 2 "$SOCKIT" serve --exec '' --listen 127.0.0.1:0
pass "--service exec without --exec, --exec with another service, an empty command: exit 2"
