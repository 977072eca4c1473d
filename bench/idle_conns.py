#!/usr/bin/env python3
"""Open N idle TCP connections to HOST:PORT, print "ready" on stdout, hold them
until stdin closes, then drop them with RST (SO_LINGER 0) so no TIME_WAIT
piles up across runs. Used by mem-idle-conns.sh."""
import resource, socket, struct, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
socks = []
for _ in range(n):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    socks.append(s)
print("ready", len(socks), flush=True)
sys.stdin.read()
for s in socks:
    s.close()
