#!/usr/bin/env python3
"""Open N idle TCP connections to HOST:PORT, print "ready" on stdout, hold them
until stdin closes, then drop them with RST (SO_LINGER 0) so no TIME_WAIT
piles up across runs. With a fourth argument "served", each connection first
sends one HTTP/1.1 keep-alive request and reads its whole answer, so it is
held idle between requests rather than before its first one. Used by
mem-idle-conns.sh."""
import resource, socket, struct, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
served = len(sys.argv) > 4 and sys.argv[4] == "served"
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
REQ = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


def answer(s):
    """Read one response: its head, then Content-Length bytes of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("idle_conns: connection closed before the answer")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("idle_conns: connection closed in the body")
        body += chunk


socks = []
for _ in range(n):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if served:
        s.sendall(REQ)
        answer(s)
    socks.append(s)
print("ready", len(socks), flush=True)
sys.stdin.read()
for s in socks:
    s.close()
