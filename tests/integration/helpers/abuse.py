#!/usr/bin/env python3
"""Clients that abuse a server, for the reliability tests (not a test itself).

  abuse.py silent HOST PORT N M echo|http SECS
      open N connections that send nothing, then M normal clients (each
      retries while it is refused) must be served within SECS. Prints
      "served=S/M last=T silent_closed=C got408=G": T seconds until the last
      normal client was served, C silent connections the server closed
      within SECS, G of them after a 408 answer.
  abuse.py stream HOST PORT N SECS
      N echo clients each send 1 KiB every 10 ms and read the echo for SECS,
      then half-close and read the rest. Prints "streaming" once all N are
      connected, then "bytes sent=A got=B" (all clients' totals) and
      "ok=K/N" with the first failures (a reset, an EOF mid-stream, an echo
      whose SHA-256 differs).
  abuse.py bulk HOST PORT BYTES READ_RATE OUTFILE
      one echo client sends BYTES random bytes while it reads the echo at
      READ_RATE bytes/s (0: as fast as it comes), half-closes and reads
      until EOF. Writes "started" to OUTFILE once the first echo bytes are
      back (the caller signals the server then); prints "sent=A got=B
      same=yes|no eof=clean|reset".
  abuse.py hold HOST PORT SECS [http]
      connect, send one line (http: one keep-alive GET /), read the answer,
      then print "ready" and hold the connection open without a word for
      SECS, reading what comes; prints "closed after T" when the server ends
      it first, or "held".
  abuse.py flood HOST PORT HOLD N ROUNDS SECS
      HOLD echo clients connect one after another, each sends a line and
      keeps its connection open (the served ones fill the server's fd
      table); then, ROUNDS times, N clients connect at once, each sends a
      line and waits for its echo or for the server to close or reset it
      (one that got its echo keeps its connection until the round ends).
      Prints "held=H served=S refused=R hanging=G rounds=K": G clients that
      got neither an answer nor a refusal within SECS of their round's
      start (connect attempts still unanswered included); the rounds stop
      after the first with a hanging client.
Every wait is bounded; exit 0 unless the client itself broke (bad usage).
"""
import hashlib
import os
import selectors
import socket
import sys
import threading
import time


def connect(host, port, timeout=5):
    return socket.create_connection((host, port), timeout)


def normal_client(host, port, proto, deadline):
    """One request; True once it got an answer, retrying while refused."""
    req = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" if proto == "http" else b"hello\n"
    while time.monotonic() < deadline:
        try:
            with connect(host, port, 2) as c:
                c.settimeout(max(0.1, min(2, deadline - time.monotonic())))
                c.sendall(req)
                if c.recv(100):
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def silent(host, port, n, m, proto, secs):
    t0 = time.monotonic()
    deadline = t0 + secs
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = connect(host, port)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, bytearray())
        socks.append(s)
    closed = {}
    # The silent ones are watched on this thread; the normal clients run
    # on others, started once every silent connection holds its slot.
    time.sleep(0.3)
    served = []
    t_served = [0.0]

    def normals():
        for _ in range(m):
            if normal_client(host, port, proto, deadline):
                served.append(1)
                t_served[0] = time.monotonic() - t0

    th = threading.Thread(target=normals)
    th.start()
    while len(closed) < n and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if data:
                key.data.extend(data)
                continue
            closed[key.fileobj] = bytes(key.data)
            sel.unregister(key.fileobj)
    th.join()
    got408 = sum(1 for d in closed.values() if d.startswith(b"HTTP/1.1 408"))
    for s in socks:
        s.close()
    print(f"served={len(served)}/{m} last={t_served[0]:.1f} silent_closed={len(closed)} got408={got408}")


def stream_one(host, port, secs, out, i, connected, counts):
    ns = nr = 0
    try:
        s = connect(host, port)
        connected.release()
        s.setblocking(False)
        sent, got = hashlib.sha256(), hashlib.sha256()
        chunk = os.urandom(1024)
        end = time.monotonic() + secs
        sel = selectors.DefaultSelector()
        sel.register(s, selectors.EVENT_READ)
        next_send = 0.0
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_send:
                try:
                    k = s.send(chunk)
                    sent.update(chunk[:k])
                    ns += k
                except BlockingIOError:
                    pass
                next_send = now + 0.01
            if sel.select(timeout=0.01):
                d = s.recv(65536)
                if not d:
                    raise RuntimeError(f"EOF from the server after {nr} of {ns} bytes")
                got.update(d)
                nr += len(d)
        s.setblocking(True)
        s.settimeout(20)
        s.shutdown(socket.SHUT_WR)
        while True:
            d = s.recv(65536)
            if not d:
                break
            got.update(d)
            nr += len(d)
        s.close()
        out[i] = "ok" if nr == ns and sent.digest() == got.digest() else f"echo differs: sent {ns} got {nr}"
    except Exception as e:  # noqa: BLE001
        out[i] = repr(e)
    counts[i] = (ns, nr)


def stream(host, port, n, secs):
    out = [None] * n
    counts = [(0, 0)] * n
    connected = threading.Semaphore(0)
    ths = [threading.Thread(target=stream_one, args=(host, port, secs, out, i, connected, counts)) for i in range(n)]
    for t in ths:
        t.start()
    for _ in range(n):
        if not connected.acquire(timeout=10):
            break
    print("streaming", flush=True)
    for t in ths:
        t.join()
    bad = [r for r in out if r != "ok"]
    print(f"bytes sent={sum(c[0] for c in counts)} got={sum(c[1] for c in counts)}")
    print(f"ok={n - len(bad)}/{n}", "; ".join(sorted(set(bad))[:3]))


def bulk(host, port, total, rate, outfile):
    s = connect(host, port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.setblocking(False)
    data = os.urandom(total)
    sent_sha, got_sha = hashlib.sha256(data).hexdigest(), hashlib.sha256()
    ns = nr = 0
    half = False
    eof = "clean"
    started = False
    t0 = time.monotonic()
    deadline = t0 + 60
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    while time.monotonic() < deadline:
        if not half and ns == total:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                eof = "reset"
            half = True
            sel.modify(s, selectors.EVENT_READ)
        # Reading at a bounded rate keeps the server's buffers full, so the
        # signal lands with bytes read and not yet echoed.
        allowed = True
        if rate > 0 and nr >= rate * (time.monotonic() - t0):
            allowed = False
        for key, ev in sel.select(timeout=0.01):
            if ev & selectors.EVENT_WRITE and ns < total:
                try:
                    ns += s.send(data[ns : ns + 65536])
                except BlockingIOError:
                    pass
                except OSError:
                    eof = "reset"
                    ns = total
            if ev & selectors.EVENT_READ and allowed:
                try:
                    d = s.recv(16384)
                except ConnectionResetError:
                    eof = "reset"
                    d = b""
                except BlockingIOError:
                    continue
                if not d:
                    deadline = 0
                    break
                got_sha.update(d)
                nr += len(d)
                if not started:
                    started = True
                    with open(outfile, "w") as f:
                        f.write("started\n")
        if not allowed:
            time.sleep(0.005)
    s.close()
    same = "yes" if nr == total and got_sha.hexdigest() == sent_sha else "no"
    print(f"sent={ns} got={nr} same={same} eof={eof}")


def hold(host, port, secs, proto):
    s = connect(host, port)
    s.settimeout(5)
    if proto == "http":
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        got = b""
        while not got.endswith(b"\r\n\r\nhello\n"):
            d = s.recv(4096)
            if not d:
                break
            got += d
    else:
        s.sendall(b"hello\n")
        s.recv(100)
    print("ready", flush=True)
    s.settimeout(secs)
    t0 = time.monotonic()
    try:
        while s.recv(4096):
            pass
        print(f"closed after {time.monotonic() - t0:.1f}")
    except socket.timeout:
        print("held")
    except OSError:
        print(f"closed after {time.monotonic() - t0:.1f}")


def hold_many(host, port, n):
    """n clients one after another, each served keeps its connection."""
    held = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.settimeout(2)
        try:
            s.connect((host, port))
            s.sendall(b"hold\n")
            if s.recv(100) == b"hold\n":
                held.append(s)
                continue
        except OSError:
            pass
        s.close()
    return held


def flood_round(host, port, n, secs):
    deadline = time.monotonic() + secs
    sel = selectors.DefaultSelector()
    state, kept = {}, []
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.setblocking(False)
        s.connect_ex((host, port))
        state[s] = "connecting"
        sel.register(s, selectors.EVENT_WRITE)
    served = refused = 0
    while state and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                if state[s] == "connecting":
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise ConnectionRefusedError(err, os.strerror(err))
                    s.send(b"x\n")
                    state[s] = "waiting"
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                d = s.recv(100)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            sel.unregister(s)
            del state[s]
            if d == b"x\n":
                served += 1
                kept.append(s)
            else:
                refused += 1
                s.close()
    for s in list(state) + kept:
        s.close()
    return served, refused, len(state)


def flood(host, port, nhold, n, rounds, secs):
    held = hold_many(host, port, nhold)
    served = refused = hanging = k = 0
    while k < rounds and hanging == 0:
        s, r, hanging = flood_round(host, port, n, secs)
        served, refused, k = served + s, refused + r, k + 1
    for s in held:
        s.close()
    print(f"held={len(held)} served={served} refused={refused} hanging={hanging} rounds={k}")


def main():
    a = sys.argv
    if len(a) < 4:
        sys.exit(__doc__)
    cmd, host, port = a[1], a[2], int(a[3])
    if cmd == "silent" and len(a) == 8:
        silent(host, port, int(a[4]), int(a[5]), a[6], float(a[7]))
    elif cmd == "stream" and len(a) == 6:
        stream(host, port, int(a[4]), float(a[5]))
    elif cmd == "bulk" and len(a) == 7:
        bulk(host, port, int(a[4]), int(a[5]), a[6])
    elif cmd == "hold" and len(a) in (5, 6):
        hold(host, port, float(a[4]), a[5] if len(a) == 6 else "echo")
    elif cmd == "flood" and len(a) == 8:
        flood(host, port, int(a[4]), int(a[5]), int(a[6]), float(a[7]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
