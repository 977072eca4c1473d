#!/usr/bin/python3
"""An mDNS responder whose host's two address records come apart, for the
querier's side of RFC 6762: what a client does when one family's answer
comes first.

    mdns_split.py IF INSTANCE HOST PORT V4|- V6|- DELAY_MS

On interface IF (IPv4 multicast), answer every question about INSTANCE
(._echo._tcp.local), its type and HOST (.local): PTR, SRV and TXT at once
with the AAAA record (V6) beside them, and the A record (V4) only in a
packet of its own DELAY_MS later. "-" leaves that family out. Runs until
SIGTERM; prints "answering" once its socket is up and one line per answer.

Its DNS writing is its own (as mdns_conform.py's reading is), so sockit's
codec is not checking itself."""
import socket
import struct
import sys
import threading
import time

from mdns_conform import GROUP, PORT, out_of, parse, same

ifname, instance, host, port, v4, v6, delay_ms = sys.argv[1:8]
TYPE = "_echo._tcp.local"
INST = instance + "." + TYPE
HOST = host + ".local"


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        out += bytes([len(label.encode())]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, rdata, ttl=120, flush=True):
    return name(owner) + struct.pack("!HHIH", rtype, 0x8001 if flush else 1, ttl, len(rdata)) + rdata


def packet(answers, additional=()):
    return struct.pack("!6H", 0, 0x8400, 0, len(answers), 0, len(additional)) + b"".join(answers) + b"".join(additional)


def srv():
    return rr(INST, 33, struct.pack("!HHH", 0, 0, int(port)) + name(HOST))


def txt():
    t = b"from=split"
    return rr(INST, 16, bytes([len(t)]) + t)


def aaaa():
    return [rr(HOST, 28, socket.inet_pton(socket.AF_INET6, v6))] if v6 != "-" else []


def a():
    return [rr(HOST, 1, socket.inet_aton(v4))] if v4 != "-" else []


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("", PORT))
mreqn = struct.pack("4s4si", socket.inet_aton(GROUP), socket.inet_aton("0.0.0.0"), socket.if_nametoindex(ifname))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
out_of(s, ifname)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
lock = threading.Lock()


def send(p, what):
    with lock:
        s.sendto(p, (GROUP, PORT))
    print(what, flush=True)


def later_a():
    time.sleep(int(delay_ms) / 1000)
    if a():
        send(packet(a()), "A")


print("answering", flush=True)
while True:
    data, frm = s.recvfrom(9000)
    try:
        p = parse(data)
    except (ValueError, IndexError, struct.error):
        continue
    if p["qr"]:
        continue
    want = {q["type"] for q in p["questions"] if same(q["name"], TYPE) or same(q["name"], INST) or same(q["name"], HOST)}
    if not want:
        continue
    answers = []
    if "PTR" in want:
        answers.append(rr(TYPE, 12, name(INST), ttl=4500, flush=False))
    if want & {"PTR", "SRV", "TXT", "ANY"}:
        answers += [srv(), txt()]
    if want & {"PTR", "SRV", "TXT", "AAAA", "ANY"}:
        answers += aaaa()
    if answers:
        send(packet(answers), "answer " + ",".join(sorted(want)))
    if want & {"PTR", "SRV", "TXT", "A", "ANY"} and a():
        threading.Thread(target=later_a, daemon=True).start()
