#!/usr/bin/env bash
# Echo integrity: a 16 MiB random payload comes back byte-identical (SHA-256)
# through sockit connect, nc (netcat-openbsd) and socat, over IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"

SIZE_MB=16
head -c "$((SIZE_MB << 20))" /dev/urandom >"$TMP/payload"
want=$(sha <"$TMP/payload")

# check CLIENT HOST: send the payload through CLIENT, compare what came back.
check() {
    local client=$1 host=$2 out="$TMP/out.$1" rc=0
    case $client in
    sockit) timeout 60 "$SOCKIT" connect "$SERVER_ADDR" <"$TMP/payload" >"$out" 2>"$TMP/client.log" || rc=$? ;;
    # -N: shut the socket down for writing at stdin EOF, keep reading.
    nc) timeout 60 nc -N "$host" "$SERVER_PORT" <"$TMP/payload" >"$out" 2>"$TMP/client.log" || rc=$? ;;
    # -t: after stdin EOF, wait (up to 30 s) for the server to finish.
    socat) timeout 60 socat -t 30 - "TCP:$SERVER_ADDR" <"$TMP/payload" >"$out" 2>"$TMP/client.log" || rc=$? ;;
    esac
    ((rc == 0)) || fail "$client via $SERVER_ADDR exited $rc: $(cat "$TMP/client.log")"
    local size got
    size=$(stat -c %s "$out")
    got=$(sha <"$out")
    [[ $got == "$want" ]] || fail "$client via $SERVER_ADDR: $size bytes back, sha256 differs"
    pass "$client $SERVER_ADDR: $SIZE_MB MiB echoed byte-identical"
}

for host in 127.0.0.1 '[::1]'; do
    start_server "echo-${host//[^0-9a-z]/}" --service echo --listen "$host:0" -v
    for client in sockit nc socat; do
        check "$client" "$SERVER_HOST"
    done
    # Three connections, each 16 MiB in and out, all counted by the server.
    pid=$SERVER_PID
    stop_server "$pid"
    log="$TMP/echo-${host//[^0-9a-z]/}.log"
    want_bytes=$((3 * (SIZE_MB << 20)))
    grep -q "stats accepted=3 .*bytes_in=$want_bytes bytes_out=$want_bytes" "$log" ||
        fail "server $host counters: $(grep stats "$log")"
done
pass "server counted every byte in and out on both families"

# The same payload through every backend and through tiny buffers, where
# backpressure kicks in on nearly every read.
backends=$("$SOCKIT" serve --help | sed -n 's/.*event backend for loop models: //p')
for variant in $backends "buffer-size 256" "buffer-size 4097"; do
    case $variant in
    buffer-size*) args=(--buffer-size "${variant#* }") ;;
    *) args=(--backend "$variant") ;;
    esac
    start_server "v-${variant// /}" --service echo "${args[@]}" --listen 127.0.0.1:0
    check sockit "$SERVER_HOST"
    stop_server "$SERVER_PID"
done
pass "16 MiB byte-identical on every backend (${backends// /, }) and with 256 and 4097-byte buffers"
