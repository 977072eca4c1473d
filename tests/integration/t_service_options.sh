#!/usr/bin/env bash
# Options the services declare themselves (service.h): serve --help lists
# each under its service's name, the service served gets them, and giving
# one to another service is the usage error it always was.
. "$(dirname "$0")/lib.sh"

expect_rc 0 "$SOCKIT" serve --help
help=$(<"$TMP/last.out")

# Every long option serve accepts appears once: no service may shadow
# serve's own options or another service's.
longs=$(sed -nE 's/^  (-., |    )--([a-z][a-z0-9-]*).*/\2/p' <<<"$help" | sort)
[[ -z $(uniq -d <<<"$longs") ]] || fail "serve --help lists an option twice: $(uniq -d <<<"$longs" | tr '\n' ' ')"

# The service options' group, each tagged with its service.
section=$(sed -n '/^Service options/,$p' <<<"$help")
[[ -n $section ]] || fail "serve --help has no 'Service options' group: $help"
grep -Eq '^      --body-size N +http: bytes of the GET / body' <<<"$section" ||
    fail "--body-size not listed as an http option: $section"
grep -Eq '^      --head-timeout S +http: a request head must arrive within S seconds' <<<"$section" ||
    fail "--head-timeout not listed as an http option: $section"
# Serve's own options are not in that group.
if grep -Eq -- '--(listen|model|json)' <<<"$section"; then fail "serve's own options in the service group: $section"; fi
pass "serve --help lists the services' options, tagged http:, once each"

# usage_exact WANT CMD...: exit 2, stderr exactly WANT, stdout empty.
usage_exact() {
    local want=$1
    shift
    expect_rc 2 "$@"
    [[ $(<"$TMP/last.err") == "$want" ]] || fail "'$*': stderr '$(cat "$TMP/last.err")', wanted '$want'"
    [[ ! -s $TMP/last.out ]] || fail "'$*' wrote to stdout on a usage error"
}

# Given to another service, before or after --service.
want="sockit: --body-size, --head-timeout, --stats-table and --stats-rate apply to --service http (see 'sockit serve --help')"
for svc in echo discard chargen daytime; do
    usage_exact "$want" "$SOCKIT" serve --service "$svc" --body-size 10 --listen 127.0.0.1:0
    usage_exact "$want" "$SOCKIT" serve --head-timeout 1 --service "$svc" --listen 127.0.0.1:0
done
# Without --service the default (echo) is served.
usage_exact "$want" "$SOCKIT" serve --body-size 10 --listen 127.0.0.1:0
pass "an http option given to echo, discard, chargen, daytime (or the default) is a usage error"

# Bad values: the service's own words, checked where they stand on the line.
usage_exact "sockit: --body-size wants 0 to 1099511627776 bytes, not 'x' (see 'sockit serve --help')" \
    "$SOCKIT" serve --service http --body-size x
usage_exact "sockit: --body-size wants 0 to 1099511627776 bytes, not '1099511627777' (see 'sockit serve --help')" \
    "$SOCKIT" serve --service http --body-size 1099511627777
usage_exact "sockit: --head-timeout wants a time (10, 500ms, 1m), not '-1' (see 'sockit serve --help')" \
    "$SOCKIT" serve --service http --head-timeout -1
usage_exact "sockit: --head-timeout wants a time (10, 500ms, 1m), not 'soon' (see 'sockit serve --help')" \
    "$SOCKIT" serve --head-timeout soon --service echo
usage_exact "sockit: option '--body-size' needs a value (see 'sockit serve --help')" "$SOCKIT" serve --body-size
# An unknown service is reported before the options that do not fit it.
usage_exact "sockit: unknown service 'nosuch' (echo, discard, chargen, daytime, http, chat, exec) (see 'sockit serve --help')" \
    "$SOCKIT" serve --service nosuch --body-size 1
pass "bad values and missing values of service options: exit 2 with the exact message"

# The service served gets them: a 10-byte body, and a head deadline.
start_server body --service http --body-size 10 --head-timeout 500ms --listen 127.0.0.1:0
body=$(curl -sS --max-time 5 "http://$SERVER_ADDR/")
[[ $body == abcdefghi ]] || fail "--body-size 10: body '$body'"
[[ $(curl -sS --max-time 5 -o /dev/null -w '%{size_download}' "http://$SERVER_ADDR/") == 10 ]] ||
    fail "--body-size 10: not 10 bytes"
start=$(date +%s%N)
reply=$("$PYTHON" - "$SERVER_HOST" "$SERVER_PORT" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")  # a head that never ends
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(data.split(b"\r\n")[0].decode())
PY
)
ms=$((($(date +%s%N) - start) / 1000000))
[[ $reply == "HTTP/1.1 408 Request Timeout" ]] || fail "--head-timeout 0.5: got '$reply'"
((ms >= 400 && ms < 3000)) || fail "--head-timeout 0.5 answered 408 after $ms ms"
stop_server "$SERVER_PID"
# Without options http keeps its defaults.
start_server plain --service http --listen 127.0.0.1:0
[[ $(curl -sS --max-time 5 "http://$SERVER_ADDR/") == hello ]] || fail "http without options: not hello"
stop_server "$SERVER_PID"
pass "http gets its options: --body-size 10 answers 10 bytes, --head-timeout 0.5 answers 408 after $ms ms"
