# dnsmasq for the tests that need a real DNS server on loopback (sourced
# after lib.sh): start_dnsmasq serves $TMP/zone.conf on a free port of
# 127.0.0.1 and sets DNS_PORT and DNS_PID; $TMP/zone.conf must answer
# a.example.test A 127.0.0.2 (its readiness probe).

# A free loopback port for UDP and TCP alike (dnsmasq serves both).
free_port() {
    "$PYTHON" -c '
import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        t.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        t.close(); u.close()
'
}

# dnsmasq in the foreground (so its PID is ours to stop), loopback only.
# As root it would switch to an unprivileged user; --user=root keeps it
# as it is, so it can read the test's files.
start_dnsmasq() {
    local try user=()
    [[ $(id -u) -eq 0 ]] && user=(--user=root --group=root)
    for try in 1 2 3; do
        DNS_PORT=$(free_port)
        dnsmasq --no-daemon --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
            --no-poll --pid-file= --conf-file="$TMP/zone.conf" --log-queries --log-facility=- "${user[@]}" \
            >"$TMP/dnsmasq.log" 2>&1 &
        DNS_PID=$!
        PIDS+=("$DNS_PID")
        local i
        for ((i = 0; i < 100; i++)); do
            if kdig @127.0.0.1 -p "$DNS_PORT" +short +time=1 +retry=0 a.example.test A 2>/dev/null | grep -q 127.0.0.2; then
                return 0
            fi
            kill -0 "$DNS_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill "$DNS_PID" 2>/dev/null || true
        wait "$DNS_PID" 2>/dev/null || true
    done
    fail "dnsmasq did not start: $(cat "$TMP/dnsmasq.log")"
}

