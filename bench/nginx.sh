# shellcheck shell=bash
# Helpers for the benchmarks that use nginx (Debian nginx-light) as the
# reference: a private config under a temp prefix, started and stopped by PID.
# Source it:  . "$(dirname "$0")/nginx.sh"

# nginx_start DIR PORT WORKERS [CONNS]: start nginx in the foreground
# (daemon off) in the background; sets NGINX_PID. NGINX_PREFIX_CMD (e.g. a
# valgrind command line) runs in front of nginx; NGINX_MAIN_EXTRA adds
# main-context directives (e.g. "master_process off;"); NGINX_ACCESS_LOG (a
# file) turns the access log on, one line per request served.
nginx_start() {
    local dir=$1 port=$2 workers=${3:-1} conns=${4:-20000}
    mkdir -p "$dir/logs" "$dir/tmp"
    cat >"$dir/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
worker_rlimit_nofile 20000;
${NGINX_MAIN_EXTRA:-}
events { worker_connections $conns; }
http {
    access_log ${NGINX_ACCESS_LOG:-off};
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "hello\n"; }
    }
}
CONF
    # shellcheck disable=SC2086
    ${NGINX_PREFIX_CMD:-} nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" &
    NGINX_PID=$!
    local i
    for ((i = 0; i < 300; i++)); do
        curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && return 0
        kill -0 "$NGINX_PID" 2>/dev/null || { echo "nginx failed: $(cat "$dir/logs/error.log")" >&2; return 1; }
        sleep 0.05
    done
    echo "nginx did not answer on port $port" >&2
    return 1
}

nginx_stop() {
    [[ -n ${NGINX_PID:-} ]] || return 0
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$NGINX_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=
}

# A free TCP port on 127.0.0.1 (the kernel picks; tiny race accepted in
# benchmarks, never used by the test suite).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
