#!/usr/bin/env python3
"""Send crafted ICMP echo replies to 127.0.0.1 over a raw socket while a
sockit ping runs: bad checksums, another identifier, a sequence it never
sent, and a payload that is not what it sent. Needs root.
Usage: icmp_inject.py DIR - creates DIR/ready, then waits (up to 30 s) for
DIR/pid to hold the ping's process id, which is its ICMP identifier."""
import socket
import struct
import sys
import os
import time

d = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
open(os.path.join(d, "ready"), "w").close()
for _ in range(3000):
    try:
        with open(os.path.join(d, "pid")) as f:
            ident = int(f.read()) & 0xFFFF
        break
    except (OSError, ValueError):
        time.sleep(0.01)
else:
    sys.exit("no pid")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def reply(ident, seq, payload, good=True):
    hdr = struct.pack("!BBHHH", 0, 0, 0, ident, seq)
    c = csum(hdr + payload)
    if not good:
        c ^= 0x5A5A
    return struct.pack("!BBHHH", 0, 0, c, ident, seq) + payload


# Start only once the ping is running: its first reply shows its socket is open.
s.settimeout(10.0)
while True:
    pkt = s.recv(70000)
    icmp = pkt[(pkt[0] & 15) * 4:]
    if len(icmp) >= 8 and icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
        break
pad = bytes(range(8, 56))
for i in range(3):
    time.sleep(0.05)
    s.sendto(reply(ident, 1, b"\0" * 8 + pad, good=False), ("127.0.0.1", 0))  # bad checksum
    s.sendto(reply(ident ^ 0x5555, 1, b"\0" * 8 + pad), ("127.0.0.1", 0))  # someone else's
    s.sendto(reply(ident, 60000 + i, b"\0" * 8 + pad), ("127.0.0.1", 0))  # never sent
    s.sendto(reply(ident, 1, b"\1" * 8 + pad), ("127.0.0.1", 0))  # not our timestamp
    s.sendto(reply(ident, 1, b"\xff" * 3), ("127.0.0.1", 0))  # short, no timestamp, bad pattern
# Then replay two genuine replies as they were: duplicates the ping must
# report as such.
time.sleep(0.05)
s.setblocking(False)
try:
    while True:
        s.recv(70000)  # our own crafted packets, looped back: not genuine
except BlockingIOError:
    pass
s.settimeout(2.0)
replayed = 0
seen = set()
while replayed < 2:
    pkt = s.recv(70000)
    icmp = pkt[(pkt[0] & 15) * 4:]
    typ, _, _, pid, seq = struct.unpack("!BBHHH", icmp[:8])
    crafted = len(icmp) != 64 or icmp[8:16] in (b"\0" * 8, b"\1" * 8)
    if typ == 0 and pid == ident and seq < 60000 and not crafted and seq not in seen:
        seen.add(seq)
        s.sendto(icmp, ("127.0.0.1", 0))
        replayed += 1
print("sent 15 crafted packets and 2 duplicates")
