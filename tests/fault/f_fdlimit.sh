#!/usr/bin/env bash
# models: hybrid hybrid-4
# 2,000 clients past the fd limit: hybrid (2 and 4 loop threads) started
# with `ulimit -n 64`; 100 clients connect one after another and the served
# ones keep their connections (the fd table is full), then three rounds of
# 2,000 clients connect at once, each sends a line and waits for its echo
# or a clean refusal. None may be left without an answer within 10 s (20 s
# under sanitizers), and 20 normal clients are served once the rounds are
# gone. (t_fd_reserve runs the same floods with the limit lowered on a
# running server, under every model.)
. "$(dirname "$0")/lib.sh"
secs=10
is_sanitized && secs=20
printf '#!/bin/sh\nulimit -n 64 || exit 1\nexec %q "$@"\n' "$SOCKIT" >"$TMP/sockit-64"
chmod +x "$TMP/sockit-64"
SOCKIT=$TMP/sockit-64 start_server "fdlimit-$MODEL" "${MODEL_ARGS[@]}" --service echo --listen 127.0.0.1:0
[[ $(awk '/^Max open files/ {print $4}' "/proc/$SERVER_PID/limits") == 64 ]] || fail "the server's fd limit is not 64"
fault_begin "2,000 clients at once past the fd limit (ulimit -n 64)" "$ROW_MODEL" "$SERVER_PID"
timeout $((3 * secs + 30)) "${ABUSE[@]}" flood "$SERVER_HOST" "$SERVER_PORT" 100 2000 3 "$secs" >"$TMP/flood.out" ||
    fail "flood client: $(cat "$TMP/flood.out")"
got=$(cat "$TMP/flood.out")
held=$(field held "$got") served=$(field served "$got") refused=$(field refused "$got") hanging=$(field hanging "$got")
[[ -n $hanging ]] || fail "flood: $got"
FAULT_SERVED="$served/6000"
((hanging == 0)) || fail "$hanging clients neither served nor refused within $secs s ($got;" \
    "$(ss -Hltn "( sport = :$SERVER_PORT )" | awk '{printf "%s queued; ", $2}'))"
((served + refused == 6000)) || fail "served $served + refused $refused != 6000"
((held >= 20)) || fail "only $held connections held at 64 fds"
"$PYTHON" "$FAULT_DIR/../integration/clients.py" many "$SERVER_HOST" "$SERVER_PORT" 20 >/dev/null ||
    fail "not serving after the floods"
fault_end "$served/6000 + 20/20 after" - "$held held the table full; of 3 x 2,000 at once $refused refused cleanly, none left hanging"
stop_server "$SERVER_PID"
pass "$ROW_MODEL: 64 fds: $got; 20 served after"
