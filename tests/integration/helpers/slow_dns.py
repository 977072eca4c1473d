#!/usr/bin/python3
"""A DNS server on 127.0.0.1 whose AAAA answers come late: the one thing
dnsmasq cannot do, and what RFC 8305's resolution delay is about.

    slow_dns.py A_ADDR AAAA_ADDR AAAA_DELAY_MS

Every name gets A_ADDR for A and, AAAA_DELAY_MS later, AAAA_ADDR for AAAA
(other types: an empty answer). Prints its UDP port, then serves until
killed; stops by itself after 120 s."""
import socket
import struct
import sys
import threading
import time

a_addr, aaaa_addr, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]) / 1000.0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)


def answer(query, peer):
    qid, flags = struct.unpack("!HH", query[:4])
    i = 12
    while query[i] != 0:
        i += 1 + query[i]
    qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
    question = query[12:i + 5]
    rdata = b""
    if qtype == 1:
        rdata = socket.inet_pton(socket.AF_INET, a_addr)
    elif qtype == 28:
        rdata = socket.inet_pton(socket.AF_INET6, aaaa_addr)
    head = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100), 1, 1 if rdata else 0, 0, 0)
    rr = struct.pack("!HHHIH", 0xC00C, qtype, 1, 30, len(rdata)) + rdata if rdata else b""
    s.sendto(head + question + rr, peer)


end = time.time() + 120
s.settimeout(1)
while time.time() < end:
    try:
        q, peer = s.recvfrom(4096)
    except socket.timeout:
        continue
    if len(q) < 17:
        continue
    i = 12
    while i < len(q) and q[i] != 0:
        i += 1 + q[i]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 0
    if qtype == 28:
        threading.Timer(delay, answer, (q, peer)).start()
    else:
        answer(q, peer)
