# The conformance body shared by t_model_*.sh: every service under one
# model, once per event backend the model uses. Source after lib.sh, then
# call conform_model MODEL.
CLIENTS=(python3 "$(dirname "${BASH_SOURCE[0]}")/clients.py")

# Loads scale down under sanitizers (everything is 2-3x slower there).
if is_sanitized; then NCLIENTS=${NCLIENTS:-200}; else NCLIENTS=${NCLIENTS:-500}; fi

backends_for() {
    case $1 in
    loop | hybrid | prefork) echo "select poll epoll uring" ;;
    *) echo "-" ;;
    esac
}

# serve_args MODEL BACKEND: the serve options for that combination.
serve_args() {
    ARGS=(--model "$1")
    [[ $2 != - ]] && ARGS+=(--backend "$2")
    [[ $1 == prefork || $1 == hybrid ]] && ARGS+=(--workers 2)
    return 0
}

# stat_of LOG NAME: a counter from the "-v" snapshot printed on exit.
stat_of() { sed -n "s/^sockit: stats .*$2=\([0-9]*\).*/\1/p" "$1" | tail -n1; }

# tree_rss_kb PID: resident memory of PID and its children (fork, prefork).
tree_rss_kb() {
    local total=0 p kb
    for p in "$1" $(pgrep -P "$1" || true); do
        kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

conform_echo() {
    local tag=$1 big=$TMP/big.bin
    [[ -f $big ]] || head -c $((16 * 1024 * 1024)) /dev/urandom >"$big"
    start_server "echo-$tag" "${ARGS[@]}" --service echo -v --listen 127.0.0.1:0
    local pid=$SERVER_PID log=$TMP/echo-$tag.log

    local want got
    want=$(sha <"$big")
    got=$(timeout 60 "$SOCKIT" connect "$SERVER_ADDR" <"$big" | sha)
    [[ $got == "$want" ]] || fail "$tag: 16 MiB echo came back different"

    timeout 60 "${CLIENTS[@]}" many "$SERVER_HOST" "$SERVER_PORT" "$NCLIENTS" >"$TMP/many.out" ||
        fail "$tag: $NCLIENTS concurrent clients: $(cat "$TMP/many.out")"

    # Half-close: the data sent right before our FIN still comes back.
    got=$(printf 'half-close test' | timeout 10 "$SOCKIT" connect "$SERVER_ADDR")
    [[ $got == "half-close test" ]] || fail "$tag: half-close: got '$got'"

    stop_server "$pid"
    local acc act bin
    acc=$(stat_of "$log" accepted) act=$(stat_of "$log" active) bin=$(stat_of "$log" bytes_in)
    ((acc >= NCLIENTS + 2)) || fail "$tag: stats accepted=$acc, wanted >= $((NCLIENTS + 2))"
    ((act == 0)) || fail "$tag: stats active=$act after stop"
    ((bin >= 16 * 1024 * 1024)) || fail "$tag: stats bytes_in=$bin"
    pass "$tag echo: 16 MiB sha256, $NCLIENTS concurrent, half-close, stats"
}

conform_discard() {
    local tag=$1
    start_server "discard-$tag" "${ARGS[@]}" --service discard -v --listen 127.0.0.1:0
    local pid=$SERVER_PID got
    got=$(head -c 1000000 /dev/zero | timeout 10 "$SOCKIT" connect "$SERVER_ADDR" | wc -c)
    ((got == 0)) || fail "$tag: discard sent $got bytes back"
    stop_server "$pid"
    (($(stat_of "$TMP/discard-$tag.log" bytes_in) == 1000000)) || fail "$tag: discard bytes_in wrong"
    pass "$tag discard"
}

conform_chargen() {
    local tag=$1
    start_server "chargen-$tag" "${ARGS[@]}" --service chargen --listen 127.0.0.1:0
    local pid=$SERVER_PID before after
    sleep 0.2
    before=$(tree_rss_kb "$pid")
    # The client reads nothing for 2 s: the server must stop producing once
    # its bounded buffer and the socket buffers are full.
    "${CLIENTS[@]}" noread "$SERVER_HOST" "$SERVER_PORT" 2 >"$TMP/noread.out" 2>&1 &
    local cpid=$!
    PIDS+=("$cpid")
    sleep 1.5
    after=$(tree_rss_kb "$pid")
    wait "$cpid" || fail "$tag: chargen client: $(cat "$TMP/noread.out")"
    # 64 KiB buffer per direction; allow for a forked child's own pages.
    ((after - before < 16 * 1024)) || fail "$tag: chargen RSS grew from ${before} to ${after} KiB"
    stop_server "$pid"
    pass "$tag chargen: backpressure (RSS ${before} -> ${after} KiB), RFC 864 pattern"
}

conform_daytime() {
    local tag=$1
    start_server "daytime-$tag" "${ARGS[@]}" --service daytime --listen 127.0.0.1:0
    local pid=$SERVER_PID got
    got=$(timeout 10 "$SOCKIT" connect "$SERVER_ADDR" </dev/null)
    [[ $got =~ ^[A-Z][a-z]{2}\ [A-Z][a-z]{2}\ [\ 0-9][0-9]\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ [0-9]{4}$'\r'?$ ]] ||
        fail "$tag: daytime line '$got'"
    stop_server "$pid"
    pass "$tag daytime"
}

conform_model() {
    local model=$1 b
    for b in $(backends_for "$model"); do
        serve_args "$model" "$b"
        local tag=$model${b/#-/}
        [[ $b != - ]] && tag=$model-$b
        conform_echo "$tag"
        conform_discard "$tag"
        conform_chargen "$tag"
        conform_daytime "$tag"
    done
}
