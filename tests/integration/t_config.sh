#!/usr/bin/env bash
# Settings from a config file (--config FILE, or the default files) and
# SOCKIT_<OPTION> variables: flags beat the environment, which beats the
# file, for one option of every subcommand; --print-config says where each
# came from; every malformed file is one line naming the file and line,
# exit 2; a file's settings really take effect.
. "$(dirname "$0")/lib.sh"

# Nothing of the machine's: no default file, no stray variable.
export XDG_CONFIG_HOME=$TMP/xdg HOME=$TMP/home
for v in $(env | sed -n 's/^\(SOCKIT_[A-Z_]*\)=.*/\1/p'); do
    [[ $v == SOCKIT_BUILD || $v == SOCKIT_SANITIZE ]] || unset "$v"
done

# origin SUB KEY ARGS...: the "KEY = VALUE  # ORIGIN" line of --print-config.
origin() {
    local sub=$1 key=$2
    shift 2
    # shellcheck disable=SC2086
    "$SOCKIT" $sub "$@" --print-config | grep -E "^(# )?$key( |$)" | head -n1
}

# SUB KEY FILE_VALUE ENV_VALUE FLAG...: the three levels in turn.
precedence() {
    local sub=$1 key=$2 fv=$3 ev=$4
    shift 4
    local section=${sub%% *} var line
    var=SOCKIT_$(tr 'a-z-' 'A-Z_' <<<"$key")
    printf '# for %s\n[%s]\n%s = %s\n' "$sub" "$section" "$key" "$fv" >"$TMP/p.conf"
    line=$(origin "$sub" "$key" --config "$TMP/p.conf")
    [[ $line =~ ^$key\ =\ $fv\ +#\ file\ $TMP/p.conf:3$ ]] || fail "$sub: file alone: '$line'"
    line=$(env "$var=$ev" bash -c "$(declare -f origin); SOCKIT='$SOCKIT' origin '$sub' '$key' --config '$TMP/p.conf'")
    [[ $line =~ ^$key\ =\ $ev\ +#\ environment\ $var$ ]] || fail "$sub: env over file: '$line'"
    line=$(env "$var=$ev" bash -c "$(declare -f origin); SOCKIT='$SOCKIT' origin '$sub' '$key' --config '$TMP/p.conf' $*")
    [[ $line =~ ^$key\ =\ .*\ +#\ flag$ ]] || fail "$sub: flag over env: '$line'"
    line=$(origin "$sub" "$key")
    [[ $line =~ ^#\ $key\ +\(default\)$ ]] || fail "$sub: default: '$line'"
    pass "$sub: $key from the file < $var < the flag, and the default otherwise"
}
precedence serve model thread loop --model hybrid
precedence connect attempt-delay 100ms 200ms --attempt-delay 300ms
precedence "connect --udp" multicast-ttl 2 3 --multicast-ttl 4
precedence ping socket raw dgram --socket raw
precedence trace-route max-hops 5 6 --max-hops 7
precedence bench connections 3 4 -c 5
precedence resolve type SRV TXT --type A

# A flag's false in the environment takes back the file's true.
printf '[ping]\njson = true\n' >"$TMP/f.conf"
[[ $(origin ping json --config "$TMP/f.conf") == "json = true"*"# file $TMP/f.conf:2" ]] || fail "flag from the file"
[[ $(SOCKIT_JSON=false origin ping json --config "$TMP/f.conf") == "# json"*"(default)" ]] ||
    fail "SOCKIT_JSON=false did not turn the file's json off"
pass "a flag set true in the file and false in the environment is off"

# connect and connect --udp share [connect]: each ignores the other's keys.
printf '[connect]\nraw = true\nattempt-delay = 90ms\n' >"$TMP/c.conf"
[[ $(origin connect attempt-delay --config "$TMP/c.conf") == "attempt-delay = 90ms"* ]] || fail "connect: [connect]"
[[ $(origin "connect --udp" raw --config "$TMP/c.conf") == "raw = true"* ]] || fail "connect --udp: [connect]"
pass "[connect] holds both modes' keys"

# The settings take effect: serve listens where the file says, with the
# model the environment says, unless a flag says otherwise.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '[serve]\nlisten = 127.0.0.1:%s\nmodel = thread\nverbose = true\n' "$port" >"$TMP/serve.conf"
SOCKIT_MODEL=loop "$SOCKIT" serve --config "$TMP/serve.conf" 2>"$TMP/serve.log" &
pid=$!
PIDS+=("$pid")
for ((i = 0; i < 100; i++)); do
    grep -q 'sockit: serving' "$TMP/serve.log" && break
    sleep 0.05
done
grep -qx "sockit: serving echo on 127.0.0.1:$port (model loop, backend epoll)" "$TMP/serve.log" ||
    grep -qx "sockit: serving echo on 127.0.0.1:$port (model loop, backend .*)" "$TMP/serve.log" ||
    fail "serve from the file: $(head -n1 "$TMP/serve.log")"
[[ $(printf 'conf\n' | timeout 10 "$SOCKIT" connect "127.0.0.1:$port") == conf ]] || fail "echo from the configured server"
for ((i = 0; i < 100; i++)); do
    grep -q '^sockit: close ' "$TMP/serve.log" && break
    sleep 0.05
done
grep -q '^sockit: open  ' "$TMP/serve.log" || fail "verbose = true from the file did not take effect"
kill -TERM "$pid"
wait "$pid" || fail "serve exited $?"
pass "serve listens where the file says, with the environment's model and the file's -v"

# The default file, when there is no --config.
mkdir -p "$XDG_CONFIG_HOME/sockit"
printf '[bench]\nthreads = 2\n' >"$XDG_CONFIG_HOME/sockit/config"
[[ $(origin bench threads) == "threads = 2"*"# file $XDG_CONFIG_HOME/sockit/config:2" ]] ||
    fail "default file not read: $(origin bench threads)"
[[ $(origin bench threads --config /dev/null) == "# threads"*"(default)" ]] || fail "--config does not replace the default file"
rm "$XDG_CONFIG_HOME/sockit/config"
pass "\$XDG_CONFIG_HOME/sockit/config is read when present; --config replaces it"

# bad CONTENT PATTERN [ENV...]: the file is refused with one line, exit 2.
bad() {
    printf '%b' "$1" >"$TMP/bad.conf"
    expect_rc 2 env "${@:3}" "$SOCKIT" serve --config "$TMP/bad.conf" --listen 127.0.0.1:0
    local err
    err=$(<"$TMP/last.err")
    [[ $err != *$'\n'* && $err =~ $2 ]] || fail "config '$1': stderr '$err' lacks /$2/"
}
F="sockit: $TMP/bad.conf"
bad '[serve]\nbogus = 1\n' "^$F:2: unknown key 'bogus' in \[serve\] \(see 'sockit serve --help'\)$"
bad '[serve]\nidle-timeout = abc\n' "^$F:2: --idle-timeout wants a time .*not 'abc'"
bad '[serve]\nworkers = -3\n' "^$F:2: "
bad '[serve]\nmodel = nope\n' "^$F:2: .*nope"
bad 'listen = :0\n' "^$F:1: 'listen' before any \[section\]"
bad '[serve\nlisten = :0\n' "^$F:1: a section is \[NAME\]"
bad '[]\n' "^$F:1: empty section name"
bad '[serve]\njust words\n' "^$F:2: wants KEY = VALUE, not 'just words'"
bad '[serve]\nlisten =\n' "^$F:2: listen wants a value \(ADDR\)"
bad '[serve]\nverbose = maybe\n' "^$F:2: verbose is a flag: wants true or false, not 'maybe'"
bad '# fine\n[serve]\n' "^sockit: SOCKIT_IDLE_TIMEOUT: --idle-timeout wants a time" SOCKIT_IDLE_TIMEOUT=zz
expect_rc 2 "$SOCKIT" serve --config "$TMP/none.conf"
grep -qx "sockit: $TMP/none.conf: cannot read: No such file or directory (see 'sockit serve --help')" "$TMP/last.err" ||
    fail "unreadable file: $(cat "$TMP/last.err")"
# Another subcommand's section is not checked by this one.
printf '[bench]\nbogus = 1\n[serve]\nlisten = 127.0.0.1:0\n' >"$TMP/other.conf"
[[ $(origin serve listen --config "$TMP/other.conf") == "listen = 127.0.0.1:0"* ]] || fail "[bench] broke serve"
pass "every malformed file is one line naming the file and line (or the variable), exit 2"
