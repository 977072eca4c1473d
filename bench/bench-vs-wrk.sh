#!/usr/bin/env bash
# sockit bench vs wrk as HTTP clients against the same nginx (1 worker,
# `return 200 "hello\n"`, keep-alive): alternating runs, medians, ratio.
# Target: sockit bench >= 1.0x wrk.  Env: RUNS (5), DUR (5 s), CONNS (100).
. "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-100}
port=$(free_port)
nginx_start "$WORK/nginx" "$port" 1 || exit 1
url="http://127.0.0.1:$port/"
echo "# nginx 1 worker on 127.0.0.1:$port; $RUNS alternating runs of:"
echo "#   wrk -t1 -c$CONNS -d${DUR}s $url"
echo "#   sockit bench -t1 -c$CONNS -d$DUR --proto http 127.0.0.1:$port"
: >"$WORK/wrk" && : >"$WORK/sockit"
for ((i = 1; i <= RUNS; i++)); do
    w=$(wrk_rps "$url" -t1 -c"$CONNS" -d"${DUR}s")
    s=$(sockit_rps "127.0.0.1:$port" -t1 -c"$CONNS" -d"$DUR" --proto http)
    echo "run $i: wrk $w req/s, sockit bench $s req/s"
    echo "$w" >>"$WORK/wrk"
    echo "$s" >>"$WORK/sockit"
done
report "client req/s vs nginx, c=$CONNS" "sockit" "$WORK/sockit" "wrk" "$WORK/wrk"
