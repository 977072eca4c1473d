#!/usr/bin/env bash
# Hex dumps: sockit connect -x (TCP and UDP, to stderr or --hexdump-file)
# shows every byte sent (>) and received (<) with its offset, hex and ASCII,
# like ncat -x / socat -x; sockit serve -v -v shows each connection's bytes
# the same way (the library's SK_EV_DATA), under the loop and thread models,
# and plain -v shows none. Peers: socat and nc.
. "$(dirname "$0")/lib.sh"
CHECK="$(dirname "$0")/helpers/hexdump_check.py"

socat TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork PIPE 2>"$TMP/socat.log" &
echo_pid=$!
PIDS+=("$echo_pid")
port=$(listening_port "$echo_pid" tcp) || fail "socat TCP echo did not listen"

# 1. The exact text for a short exchange, every kind of byte in it.
printf 'GET / HTTP/1.0\r\n\x00\x01\x7f\xff tab\there~\n' >"$TMP/short"
expect_rc 0 "$SOCKIT" connect -x "127.0.0.1:$port" <"$TMP/short"
cmp -s "$TMP/short" "$TMP/last.out" || fail "-x changed the data on stdout"
want='> 00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 30 0d 0a  |GET / HTTP/1.0..|
> 00000010  00 01 7f ff 20 74 61 62  09 68 65 72 65 7e 0a     |.... tab.here~.|
< 00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 30 0d 0a  |GET / HTTP/1.0..|
< 00000010  00 01 7f ff 20 74 61 62  09 68 65 72 65 7e 0a     |.... tab.here~.|'
[[ $(cat "$TMP/last.err") == "$want" ]] || fail "-x dump:
$(cat "$TMP/last.err")
wanted:
$want"
pass "connect -x: 31 bytes each way, exact offset/hex/ASCII lines on stderr"

# 2. 200 KiB of random bytes: many chunks each way, offsets continuous, the
# bytes of both directions rebuilt from the dump exactly.
head -c 204800 /dev/urandom >"$TMP/big"
timeout 30 "$SOCKIT" connect --hexdump "127.0.0.1:$port" <"$TMP/big" >"$TMP/big.out" 2>"$TMP/big.dump" ||
    fail "connect --hexdump with 200 KiB failed: $(tail -n 3 "$TMP/big.dump")"
cmp -s "$TMP/big" "$TMP/big.out" || fail "200 KiB echo differs"
"$PYTHON" "$CHECK" "$TMP/big.dump" "$TMP/big" "$TMP/big" || fail "200 KiB dump does not rebuild the bytes"
pass "connect --hexdump: 200 KiB each way rebuilt byte for byte from $(wc -l <"$TMP/big.dump") dump lines"

# 3. --hexdump-file: the same lines in the file, nothing on stderr.
expect_rc 0 "$SOCKIT" connect --hexdump-file "$TMP/dump.txt" "127.0.0.1:$port" <"$TMP/short"
[[ ! -s $TMP/last.err ]] || fail "--hexdump-file wrote to stderr: $(cat "$TMP/last.err")"
[[ $(cat "$TMP/dump.txt") == "$want" ]] || fail "--hexdump-file: $(cat "$TMP/dump.txt")"
expect_rc 1 "$SOCKIT" connect --hexdump-file "$TMP/no/such/dir" "127.0.0.1:$port"
[[ $(cat "$TMP/last.err") == "sockit: hexdump file $TMP/no/such/dir: No such file or directory" ]] ||
    fail "unwritable --hexdump-file: $(cat "$TMP/last.err")"
pass "--hexdump-file FILE: the same dump in the file; an unwritable one is exit 1"
kill "$echo_pid"
wait "$echo_pid" 2>/dev/null || true

# 4. UDP: one line per datagram each way (a datagram echo: socat's UDP
# PIPE would merge the two replies).
start_server udp-echo --proto udp --service echo --listen 127.0.0.1:0
expect_rc 0 "$SOCKIT" connect -u -x "$SERVER_ADDR" < <(printf 'one\ntwo\n')
want='> 00000000  6f 6e 65 0a                                       |one.|
> 00000004  74 77 6f 0a                                       |two.|
< 00000000  6f 6e 65 0a                                       |one.|
< 00000004  74 77 6f 0a                                       |two.|'
sorted=$(sort -s -k1,1r "$TMP/last.err")
[[ $sorted == "$want" ]] || fail "-u -x: $(cat "$TMP/last.err")"
pass "connect -u -x: each datagram dumped with its stream offset"
stop_server "$SERVER_PID"

# 5. serve -v -v: each connection's bytes, read (<) and sent (>), after a
# line naming the connection; plain -v has no data lines.
printf 'hi there\n' >"$TMP/hi"
for model in loop thread; do
    start_server "vv-$model" --service echo --model "$model" -v -v --listen 127.0.0.1:0
    log="$TMP/vv-$model.log"
    timeout 10 nc -N "$SERVER_HOST" "$SERVER_PORT" <"$TMP/hi" >"$TMP/nc.out" || fail "nc to serve -v -v"
    cmp -s "$TMP/hi" "$TMP/nc.out" || fail "echo under -v -v: '$(cat "$TMP/nc.out")'"
    for ((i = 0; i < 100; i++)); do grep -q '^sockit: close' "$log" && break; sleep 0.05; done
    conn=$(sed -n 's/^sockit: open  \(.*\)$/\1/p' "$log")
    [[ $conn == "127.0.0.1:"*" -> $SERVER_ADDR" ]] || fail "$model: open line: $(cat "$log")"
    got=$(grep -A1 '^sockit: data' "$log")
    want="sockit: data  $conn in 9 bytes at 0
< 00000000  68 69 20 74 68 65 72 65  0a                       |hi there.|
sockit: data  $conn out 9 bytes at 0
> 00000000  68 69 20 74 68 65 72 65  0a                       |hi there.|"
    [[ $got == "$want" ]] || fail "$model -v -v:
$got
wanted:
$want"
    stop_server "$SERVER_PID"
    pass "serve --model $model -v -v: the 9 bytes in and out, dumped under their connection"
done

start_server v1 --service echo -v --listen 127.0.0.1:0
timeout 10 nc -N "$SERVER_HOST" "$SERVER_PORT" <"$TMP/hi" >/dev/null || fail "nc to serve -v"
for ((i = 0; i < 100; i++)); do grep -q '^sockit: close' "$TMP/v1.log" && break; sleep 0.05; done
grep -q '^sockit: close' "$TMP/v1.log" || fail "serve -v: no close line"
if grep -Eq '^(sockit: data|[<>] [0-9a-f]{8} )' "$TMP/v1.log"; then fail "serve -v printed data: $(cat "$TMP/v1.log")"; fi
stop_server "$SERVER_PID"
pass "serve -v alone: open and close lines, no bytes"
