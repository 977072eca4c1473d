#!/usr/bin/env bash
# models: loop thread fork prefork hybrid
# Slowloris: 2,000 connections (fork under sanitizers: 500) each send a request
# line and then a header byte every 2 s, never ending the head; while all
# of them are open, 40 normal http clients must be served, and once the
# head timeout (4 s) passes every slow connection is answered 408 and
# closed. fork runs with --max-conns 2500: at its default bound (512) the
# slow connections take every slot until the head timeout frees them,
# which is the bound doing its job, not the attack this row measures.
. "$(dirname "$0")/lib.sh"
N=2000 M=40 HEAD=4
[[ $MODEL == fork ]] && is_sanitized && N=500
args=("${MODEL_ARGS[@]}" --service http --head-timeout "${HEAD}s" --listen 127.0.0.1:0)
[[ $MODEL == fork ]] && args+=(--max-conns 2500)
start_server "slowloris-$MODEL" "${args[@]}"
sleep 0.2 # prefork: the workers are up before the baseline
fault_begin "slowloris, $N connections" "$ROW_MODEL" "$SERVER_PID"
got=$(timeout 60 "${FAULT_PY[@]}" slowloris "$SERVER_HOST" "$SERVER_PORT" "$N" 2 "$HEAD" "$M") ||
    fail "slowloris client: $got"
FAULT_SERVED=$(field served "$got")
[[ $FAULT_SERVED == "$M/$M" ]] || fail "normal clients served $FAULT_SERVED while $N slow connections were open ($got)"
[[ $(field slow "$got") == "$N" && $(field open "$got") == "$N" ]] ||
    fail "the slow connections did not all stay open until the normal clients were done ($got)"
[[ $(field got408 "$got") == "$N" ]] || fail "not every slow connection got 408 at the head timeout ($got)"
fault_end "$FAULT_SERVED" - "every slow connection open during the normal clients, then 408 at the ${HEAD} s head timeout"
stop_server "$SERVER_PID"
pass "$MODEL: $got"
