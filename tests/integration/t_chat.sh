#!/usr/bin/env bash
# The chat service (like ncat --broker): each line a client sends reaches
# every other client, prefixed by the sender's 4-tuple, under loop, hybrid
# and thread; three real clients (socat, nc, bash's /dev/tcp) and exact
# lines. A reader that falls behind loses lines, is told how many, and costs
# the server bounded memory. fork and prefork refuse it at start (exit 2).
. "$(dirname "$0")/lib.sh"
# Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
# default) before it is reused, so the RSS after the flood would measure
# how much the server allocated and freed, not what it kept: with a 1 MiB
# quarantine the bound below checks what it kept.
is_sanitized && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"

# Far more than the kernel buffers a reader that does not read can hold
# (about 3 MiB per reader, more under sanitizers, whose sender is slower).
FLOOD=100000

# wait_for FILE TEXT: until FILE has a line exactly TEXT (10 s at most).
wait_for() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -qxF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "$tag: '$2' never reached $(basename "$1"): $(tail -n 3 "$1" 2>/dev/null)"
}

# The fds this shell holds for its clients. A background client must not
# inherit them: a fifo or socket stays open while anyone holds it, so a
# client's FIN would never be sent.
FDS=()
# spawn IN OUT CMD...: CMD in the background, stdin IN (a file or &FD),
# stdout OUT, none of FDS inherited; sets SPAWNED.
spawn() {
    local in=$1 out=$2
    shift 2
    (
        if [[ $in == '&'* ]]; then exec 0<&"${in#&}"; else exec 0<"$in"; fi
        for fd in "${FDS[@]}"; do eval "exec $fd>&-"; done
        exec "$@" >"$out"
    ) &
    SPAWNED=$!
    PIDS+=("$SPAWNED")
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# opened N: the tuple of the Nth connection the server logged (-v).
opened() {
    local i t
    for ((i = 0; i < 200; i++)); do
        t=$(sed -n 's/^sockit: open  \(.*\)$/\1/p' "$log" | sed -n "$1p")
        [[ -n $t ]] && echo "$t" && return 0
        sleep 0.05
    done
    fail "$tag: connection $1 was not logged"
}

# expect_file FILE LINE...: FILE is exactly these lines.
expect_file() {
    local f=$1 want
    shift
    want=$(printf '%s\n' "$@")
    [[ $(<"$f") == "$want" ]] || fail "$tag: $(basename "$f") is '$(head -c 600 "$f")', wanted '$want'"
}

chat_model() {
    local model=$1
    tag=$model
    local args=(--model "$model")
    [[ $model == hybrid ]] && args+=(--workers 2)
    start_server "chat-$model" "${args[@]}" --service chat -v --listen 127.0.0.1:0
    local pid=$SERVER_PID
    log=$TMP/chat-$model.log
    rm -f "$TMP"/{a,b,c,d}.{in,out}

    # A: socat, B: nc, C: bash itself; A and B read their input from fifos.
    mkfifo "$TMP/a.in" "$TMP/b.in"
    FDS=()
    spawn "$TMP/a.in" "$TMP/a.out" socat - "TCP:$SERVER_ADDR"
    local apid=$SPAWNED
    exec {A}>"$TMP/a.in"
    FDS+=("$A")
    local ta tb tc
    ta=$(opened 1)
    spawn "$TMP/b.in" "$TMP/b.out" nc -N "$SERVER_HOST" "$SERVER_PORT"
    local bpid=$SPAWNED
    exec {B}>"$TMP/b.in"
    FDS+=("$B")
    tb=$(opened 2)
    exec {C}<>"/dev/tcp/$SERVER_HOST/$SERVER_PORT"
    FDS+=("$C")
    spawn "&$C" "$TMP/c.out" cat
    local cpid=$SPAWNED
    tc=$(opened 3)
    [[ $ta == 127.0.0.1:*" -> $SERVER_ADDR" ]] || fail "$tag: tuple '$ta'"

    printf 'hello from socat\r\n' >&$A
    wait_for "$TMP/b.out" "[$ta] hello from socat"
    wait_for "$TMP/c.out" "[$ta] hello from socat"
    echo "hi from nc" >&$B
    wait_for "$TMP/a.out" "[$tb] hi from nc"
    wait_for "$TMP/c.out" "[$tb] hi from nc"
    # A line longer than 4096 bytes arrives as pieces of at most 4096.
    local long
    long=$(head -c 5000 /dev/zero | tr '\0' x)
    echo "$long" >&$C
    wait_for "$TMP/a.out" "[$tc] ${long:4096}"
    wait_for "$TMP/b.out" "[$tc] ${long:4096}"
    expect_file "$TMP/a.out" "[$tb] hi from nc" "[$tc] ${long:0:4096}" "[$tc] ${long:4096}"
    expect_file "$TMP/b.out" "[$ta] hello from socat" "[$tc] ${long:0:4096}" "[$tc] ${long:4096}"
    expect_file "$TMP/c.out" "[$ta] hello from socat" "[$tb] hi from nc"
    pass "$model: 3 clients (socat, nc, bash), each line to the 2 others with the sender's 4-tuple, long lines cut"

    # A slow reader: D connects and reads nothing while F floods; then D
    # reads, A says "end", and D's lines plus the drops it was told of are
    # exactly the flood.
    exec {D}<>"/dev/tcp/$SERVER_HOST/$SERVER_PORT"
    FDS+=("$D")
    local td rss0 rss1
    td=$(opened 4)
    rss0=$(rss_kb "$pid")
    seq -f "flood line %05g of the slow-reader test" 1 "$FLOOD" >"$TMP/flood.txt"
    spawn "$TMP/flood.txt" /dev/null nc -N "$SERVER_HOST" "$SERVER_PORT"
    timeout 60 tail --pid="$SPAWNED" -f /dev/null || fail "$tag: the flood client did not finish"
    local tf
    tf=$(opened 5)
    rss1=$(rss_kb "$pid")
    # Sanitizers add shadow memory and per-thread state to every allocation.
    local bound=$((8 * 1024))
    is_sanitized && bound=$((32 * 1024))
    ((rss1 - rss0 < bound)) || fail "$tag: server RSS grew from $rss0 to $rss1 KiB during the flood"
    spawn "&$D" "$TMP/d.out" cat
    local dpid=$SPAWNED size=-1 i
    for ((i = 0; i < 100; i++)); do
        sleep 0.1
        [[ $(stat -c %s "$TMP/d.out") == "$size" ]] && break
        size=$(stat -c %s "$TMP/d.out")
    done
    echo end >&$A
    for f in b d; do
        wait_for "$TMP/$f.out" "[$ta] end"
        local got dropped
        got=$(grep -c "^\[$tf\] flood line " "$TMP/$f.out" || true)
        dropped=$(sed -n 's/^\[sockit\] \([0-9]*\) lines dropped: reading too slowly$/\1/p' "$TMP/$f.out" | awk '{s += $1} END {print s + 0}')
        ((got + ${dropped:-0} == FLOOD)) || fail "$tag: $f got $got flood lines and was told of ${dropped:-0} drops, of $FLOOD"
        [[ $f == d ]] && { ((dropped > 0 && got < FLOOD)) || fail "$tag: the slow reader lost no line ($got)"; }
        eval "n_$f=$got d_$f=${dropped:-0}"
    done
    pass "$model: slow reader got $n_d of $FLOOD flood lines and was told of $d_d drops (B: $n_b + $d_b); RSS $rss0 -> $rss1 KiB"

    # A's FIN ends A; the others stay and still talk.
    exec {A}>&-
    timeout 10 tail --pid="$apid" -f /dev/null || fail "$tag: socat did not end after its FIN"
    echo "after A left" >&$C
    wait_for "$TMP/b.out" "[$tc] after A left"
    wait_for "$TMP/d.out" "[$tc] after A left"
    # SIGTERM with B, C and D connected: each gets a FIN and ends.
    stop_server "$pid"
    timeout 10 tail --pid="$cpid" -f /dev/null || fail "$tag: C's reader did not end after the drain"
    timeout 10 tail --pid="$dpid" -f /dev/null || fail "$tag: D's reader did not end after the drain"
    # OpenBSD nc keeps reading its stdin after the server's FIN: end it.
    exec {B}>&- {C}>&- {D}>&-
    timeout 10 tail --pid="$bpid" -f /dev/null || fail "$tag: nc did not end"
    [[ $(tail -n 1 "$TMP/c.out") == "[$ta] end" ]] || fail "$tag: C's last line: '$(tail -n 1 "$TMP/c.out")'"
    pass "$model: a client's FIN ends only it; SIGTERM drains the rest (FIN to each), exit 0"
}

for model in loop hybrid thread; do
    chat_model "$model"
done

# fork and prefork: one clear line, exit 2, nothing bound.
for model in fork prefork; do
    expect_rc 2 "$SOCKIT" serve --service chat --model "$model" --listen 127.0.0.1:0
    [[ $(<"$TMP/last.err") == "sockit: --service chat needs all its connections in one process: use --model loop, thread or hybrid (fork and prefork share no memory) (see 'sockit serve --help')" ]] ||
        fail "chat under $model: '$(cat "$TMP/last.err")'"
done
pass "fork and prefork refuse chat at start with one line, exit 2"
