#!/usr/bin/env python3
"""UDP echo checker: send COUNT datagrams of mixed sizes (up to 65507 bytes)
to HOST PORT with a small window, verify every reply byte for byte, and
print one summary line. Exit 1 on any missing, corrupt or unexpected reply."""
import random
import socket
import sys
import time

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
window = 8
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.connect((host, port))
s.settimeout(5.0)

rng = random.Random(862)


def size_for(i):
    r = rng.random()
    if i % 997 == 0:
        return 65507
    if r < 0.6:
        return rng.randint(4, 512)
    if r < 0.9:
        return rng.randint(513, 8192)
    return rng.randint(8193, 32768)


sizes = [size_for(i) for i in range(count)]


def payload(i):
    body = random.Random(i).randbytes(sizes[i] - 4)
    return i.to_bytes(4, "big") + body


pending = {}
nxt = 0
got = 0
total = 0
start = time.monotonic()
while got < count:
    while nxt < count and len(pending) < window:
        p = payload(nxt)
        pending[nxt] = p
        s.send(p)
        nxt += 1
    try:
        r = s.recv(65536)
    except socket.timeout:
        print(f"FAIL: timeout, {got} of {count} replies, missing {sorted(pending)[:10]}")
        sys.exit(1)
    seq = int.from_bytes(r[:4], "big")
    want = pending.pop(seq, None)
    if want is None:
        print(f"FAIL: unexpected or duplicate reply seq={seq} len={len(r)}")
        sys.exit(1)
    if r != want:
        print(f"FAIL: reply {seq} differs ({len(r)} bytes, wanted {len(want)})")
        sys.exit(1)
    got += 1
    total += len(r)
el = time.monotonic() - start
print(f"ok {got} datagrams, {total} bytes, max {max(sizes)}, {el:.2f} s, {got / el:.0f} datagrams/s")
