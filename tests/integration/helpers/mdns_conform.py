#!/usr/bin/python3
"""A small mDNS responder conformance check, written from RFC 6762 / 6763,
for any responder on the link (sockit's, and avahi's to check the check).

    mdns_conform.py watch IF INSTANCE.TYPE.local OUT.json
        Until SIGTERM: record every mDNS packet on interface IF (IPv4), then
        judge the responder's life for that instance name and write the
        verdict: probes (count, spacing), announcements (count, spacing),
        TTLs, cache-flush bits, goodbye.
    mdns_conform.py legacy IF NAME TYPE
        A legacy unicast query (from an ephemeral port) to the group; judge
        the unicast answer: ID echoed, question echoed, TTLs <= 10 s, no
        cache-flush bit. Prints JSON; exit 1 when a rule fails.
    mdns_conform.py qu-ka IF ADDR TYPE INSTANCE
        The QU bit (RFC 6762 5.4): a PTR query for TYPE with QU set, sent
        from ADDR:5353, gets a unicast answer to ADDR:5353. Known answers
        (7.1): a multicast query that lists the instance's PTR with its full
        TTL gets no answer naming it; with a TTL below half, it does.
    mdns_conform.py qu-window IF ADDR TYPE INSTANCE
        For a responder with a short TTL (a quarter of it under a second):
        a QU query 0.85 s after the PTR went on the group -- past a quarter
        of the TTL, inside the second in which it may not be multicast again
        (RFC 6762 5.4, 6) -- still gets an answer, by unicast or multicast.
    mdns_conform.py malformed IF
        Send malformed packets to the group (truncated, compression loops,
        pointers forward and to themselves, huge counts, long labels).

The DNS reading here is its own (a few dozen lines), so sockit's codec is
not checking itself."""
import json
import random
import signal
import socket
import struct
import sys
import time

GROUP, PORT = "224.0.0.251", 5353
TYPES = {1: "A", 12: "PTR", 16: "TXT", 28: "AAAA", 33: "SRV", 47: "NSEC", 255: "ANY"}


def name_at(msg, off, depth=0):
    labels = []
    while True:
        if depth > 20:
            raise ValueError("loop")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            ptr = ((n & 0x3F) << 8) | msg[off + 1]
            rest, _ = name_at(msg, ptr, depth + 1)
            return ".".join(labels + ([rest] if rest else [])), off + 2
        if n == 0:
            return ".".join(labels), off + 1
        labels.append(msg[off + 1:off + 1 + n].decode("utf-8", "replace"))
        off += 1 + n


def parse(msg):
    ident, flags, qd, an, ns, ar = struct.unpack("!6H", msg[:12])
    off, qs, rrs = 12, [], []
    for _ in range(qd):
        name, off = name_at(msg, off)
        t, c = struct.unpack("!HH", msg[off:off + 4])
        off += 4
        qs.append({"name": name, "type": TYPES.get(t, t), "qu": bool(c & 0x8000)})
    for section, count in (("an", an), ("ns", ns), ("ar", ar)):
        for _ in range(count):
            name, off = name_at(msg, off)
            t, c, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            rd = msg[off:off + rdlen]
            rr = {"section": section, "name": name, "type": TYPES.get(t, t), "flush": bool(c & 0x8000), "ttl": ttl}
            if t == 33:
                rr["port"] = struct.unpack("!H", rd[4:6])[0]
                rr["target"] = name_at(msg, off + 6)[0]
            elif t == 12:
                rr["target"] = name_at(msg, off)[0]
            off += rdlen
            rrs.append(rr)
    return {"id": ident, "qr": bool(flags & 0x8000), "questions": qs, "records": rrs}


def same(a, b):
    return a.rstrip(".").lower() == b.rstrip(".").lower()


def watch(ifname, instance, out):
    ifaddr = socket.if_nametoindex(ifname)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", PORT))
    mreq = struct.pack("4s4si", socket.inet_aton(GROUP), socket.inet_aton("0.0.0.0"), ifaddr)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    s.settimeout(0.2)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    print("watching", flush=True)
    packets = []
    while not stop:
        try:
            data, frm = s.recvfrom(9000)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        try:
            p = parse(data)
        except Exception:
            continue
        p["t"] = time.monotonic()
        p["from"] = frm[0]
        packets.append(p)
    json.dump(judge(packets, instance), open(out, "w"), indent=1)


def judge(packets, instance):
    v = {"instance": instance, "ok": True, "problems": []}

    def problem(text):
        v["ok"] = False
        v["problems"].append(text)

    probes = [p for p in packets if not p["qr"] and any(r["section"] == "ns" and same(r["name"], instance)
                                                        for r in p["records"])]
    v["probes"] = len(probes)
    gaps = [round((b["t"] - a["t"]) * 1000) for a, b in zip(probes, probes[1:])]
    v["probe_gaps_ms"] = gaps
    if len(probes) < 3:
        problem("%d probes, RFC 6762 8.1 wants 3" % len(probes))
    elif any(g < 150 or g > 600 for g in gaps[:2]):
        problem("probes %s ms apart, RFC 6762 8.1 wants 250 ms" % gaps[:2])
    if probes and not all(q["qu"] for q in probes[0]["questions"]):
        v["first_probe_qu"] = False
    else:
        v["first_probe_qu"] = bool(probes)
    after = probes[-1]["t"] if probes else 0

    def holds(p, ttl0):
        return p["qr"] and any(r["type"] == "SRV" and same(r["name"], instance) and (r["ttl"] == 0) == ttl0
                               for r in p["records"])

    announces = [p for p in packets if p["t"] > after and holds(p, False)]
    v["announcements"] = len(announces)
    if len(announces) < 2:
        problem("%d announcements, RFC 6762 8.3 wants at least 2" % len(announces))
    else:
        gap = round((announces[1]["t"] - announces[0]["t"]) * 1000)
        v["announce_gap_ms"] = gap
        if gap < 900:
            problem("announcements %d ms apart, RFC 6762 8.3 wants at least 1 s" % gap)
    ttls, flush = {}, {}
    for p in announces[:1]:
        for r in p["records"]:
            owner = same(r["name"], instance) or (r["type"] == "PTR" and same(r.get("target", ""), instance))
            host = any(r2["type"] == "SRV" and same(r2["name"], instance) and same(r2["target"], r["name"])
                       for r2 in p["records"])
            if owner or (host and r["type"] in ("A", "AAAA")):
                ttls.setdefault(r["type"], r["ttl"])
                flush.setdefault(r["type"], r["flush"])
    v["ttls"], v["cache_flush"] = ttls, flush
    want = {"SRV": 120, "A": 120, "AAAA": 120, "PTR": 4500, "TXT": 4500}
    for t, w in want.items():
        if t in ttls and ttls[t] != w:
            problem("%s TTL %d, RFC 6762 10 wants %d" % (t, ttls[t], w))
    for t in ("SRV", "PTR", "TXT", "A"):
        if t not in ttls:
            problem("no %s record in the announcement" % t)
    for t, f in flush.items():
        if f != (t != "PTR"):
            problem("%s cache-flush bit %s, RFC 6762 10.2 wants it on unique records only" % (t, f))
    goodbyes = [p for p in packets if holds(p, True) or (p["qr"] and any(
        r["type"] == "PTR" and same(r.get("target", ""), instance) and r["ttl"] == 0 for r in p["records"]))]
    v["goodbye"] = bool(goodbyes)
    if not goodbyes:
        problem("no goodbye (TTL 0, RFC 6762 10.1)")
    return v


def out_of(s, ifname):
    """Send multicast out of ifname (a namespace has no route to 224/4)."""
    mreqn = struct.pack("4s4si", socket.inet_aton("0.0.0.0"), socket.inet_aton("0.0.0.0"), socket.if_nametoindex(ifname))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)


def legacy(ifname, name, qtype):
    code = {v: k for k, v in TYPES.items()}[qtype]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", 0))
    out_of(s, ifname)
    ident = random.randint(1, 65535)
    q = struct.pack("!6H", ident, 0, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", code, 1)
    s.settimeout(0.5)
    answers = []
    for _ in range(3):
        s.sendto(q, (GROUP, PORT))
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            try:
                data, frm = s.recvfrom(9000)
            except socket.timeout:
                continue
            answers.append((frm, parse(data)))
        if answers:
            break
    v = {"ok": True, "problems": [], "answers": len(answers)}
    if not answers:
        v["ok"] = False
        v["problems"].append("no answer to a legacy unicast query")
    for frm, p in answers:
        v["from_port"] = frm[1]
        v["id_echoed"] = p["id"] == ident
        v["question_echoed"] = any(same(x["name"], name) for x in p["questions"])
        v["max_ttl"] = max((r["ttl"] for r in p["records"]), default=None)
        v["any_flush"] = any(r["flush"] for r in p["records"])
        v["records"] = ["%s %s %d" % (r["name"], r["type"], r["ttl"]) for r in p["records"]]
        for ok, text in ((frm[1] == PORT, "answered from port %d" % frm[1]),
                         (v["id_echoed"], "ID not echoed (RFC 6762 6.7)"),
                         (v["question_echoed"], "question not repeated (RFC 6762 6.7)"),
                         (v["max_ttl"] is not None and v["max_ttl"] <= 10, "TTL %s over 10 s (RFC 6762 6.7)" % v["max_ttl"]),
                         (not v["any_flush"], "cache-flush bit in a legacy answer (RFC 6762 10.2)"),
                         (len(p["records"]) > 0, "no records")):
            if not ok:
                v["ok"] = False
                v["problems"].append(text)
    print(json.dumps(v))
    return 0 if v["ok"] else 1


def query(name, qtype, qu=False, known=None):
    q = struct.pack("!6H", 0, 0, 1, 1 if known else 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", qtype, 0x8001 if qu else 1)
    if known:
        target, ttl = known
        rd = b""
        for label in target.rstrip(".").split("."):
            rd += bytes([len(label)]) + label.encode()
        rd += b"\0"
        q += b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, ttl, len(rd)) + rd
    return q


def names_instance(data, instance):
    try:
        p = parse(data)
    except Exception:
        return False
    return p["qr"] and any(same(r.get("target", ""), instance) for r in p["records"])


def sockets(ifname, addr):
    uni = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uni.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    uni.bind((addr, PORT))  # only unicast to addr:5353 lands here, never the group's traffic
    out_of(uni, ifname)
    grp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    grp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    grp.bind(("", PORT))
    out_of(grp, ifname)
    grp.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                   struct.pack("4s4si", socket.inet_aton(GROUP), socket.inet_aton("0.0.0.0"), socket.if_nametoindex(ifname)))
    return uni, grp


def heard(socks, seconds, instance):
    """Whether a packet naming instance arrives on any of socks in time."""
    for s in socks:
        s.setblocking(False)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for s in socks:
            try:
                data, _ = s.recvfrom(9000)
            except BlockingIOError:
                continue
            if names_instance(data, instance):
                return True
        time.sleep(0.01)
    return False


def drain(socks):
    """Read and drop whatever is queued on socks."""
    for s in socks:
        s.setblocking(False)
        try:
            while True:
                s.recvfrom(9000)
        except BlockingIOError:
            pass


def qu_ka(ifname, addr, qtype, instance):
    v = {"ok": True, "problems": []}
    uni, grp = sockets(ifname, addr)
    time.sleep(1.2)  # past any recent multicast's rate limit
    uni.sendto(query(qtype, 12, qu=True), (GROUP, PORT))
    v["qu_unicast"] = heard([uni], 0.5, instance)
    if not v["qu_unicast"]:
        v["ok"] = False
        v["problems"].append("no unicast answer to a QU query (RFC 6762 5.4)")
    time.sleep(0.3)
    for ttl, want in ((4500, False), (1000, True)):
        drain([grp])
        grp.sendto(query(qtype, 12, known=(instance, ttl)), (GROUP, PORT))
        got = heard([grp], 0.6, instance)
        v["known_answer_ttl_%d_answered" % ttl] = got
        if got != want:
            v["ok"] = False
            v["problems"].append("known answer with TTL %d: %s (RFC 6762 7.1)" % (ttl, "answered" if got else "silent"))
    print(json.dumps(v))
    return 0 if v["ok"] else 1


def qu_window(ifname, addr, qtype, instance):
    v = {"ok": True, "problems": []}
    uni, grp = sockets(ifname, addr)
    time.sleep(1.2)  # past any recent multicast's rate limit
    grp.sendto(query(qtype, 12), (GROUP, PORT))
    v["multicast_answer"] = heard([grp], 1.0, instance)
    if not v["multicast_answer"]:
        v["ok"] = False
        v["problems"].append("no multicast answer to a QM query")
    time.sleep(0.85)
    drain([uni, grp])
    uni.sendto(query(qtype, 12, qu=True), (GROUP, PORT))
    v["qu_answered"] = heard([uni, grp], 0.5, instance)
    if not v["qu_answered"]:
        v["ok"] = False
        v["problems"].append("a QU query 0.85 s after the multicast answer went unanswered (RFC 6762 5.4, 6)")
    print(json.dumps(v))
    return 0 if v["ok"] else 1


def malformed(ifname):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", PORT))
    out_of(s, ifname)
    hdr = lambda qr, qd, an, ns, ar: struct.pack("!6H", 0, 0x8400 if qr else 0, qd, an, ns, ar)
    good = b"\x05_echo\x04_tcp\x05local\x00" + struct.pack("!HH", 12, 1)
    bad = [
        hdr(0, 1, 0, 0, 0) + good[:7],                                     # truncated in a label
        hdr(1, 0, 1, 0, 0) + good + struct.pack("!IH", 4500, 20) + b"\x01",  # rdata past the end
        hdr(0, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 12, 1),       # pointer to itself
        hdr(0, 1, 0, 0, 0) + b"\xc0\x0e\x01a\x00" + struct.pack("!HH", 12, 1),  # pointer forward
        hdr(0, 1, 0, 0, 0) + b"\x01a\xc0\x0c" + struct.pack("!HH", 12, 1),  # loop through a label
        hdr(1, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF) + good,                       # huge counts
        hdr(0, 1, 0, 0, 0) + b"\x40" + b"a" * 64 + b"\x00" + struct.pack("!HH", 12, 1),  # label of 64
        hdr(0, 1, 0, 0, 0) + (b"\x3f" + b"b" * 63) * 5 + b"\x00" + struct.pack("!HH", 1, 1),  # name over 255
        b"\x00\x01\x02",                                                     # shorter than a header
    ]
    for b in bad:
        s.sendto(b, (GROUP, PORT))
        time.sleep(0.02)
    print(len(bad))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "watch":
        watch(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "legacy":
        sys.exit(legacy(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif cmd == "qu-ka":
        sys.exit(qu_ka(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]))
    elif cmd == "qu-window":
        sys.exit(qu_window(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]))
    elif cmd == "malformed":
        malformed(sys.argv[2])
    else:
        sys.exit(__doc__)
