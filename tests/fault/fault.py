#!/usr/bin/env python3
"""Attack clients for the fault scenarios (not a test itself).

  fault.py slowloris HOST PORT N INTERVAL HEAD M
      N connections each send a request line and then one header byte every
      INTERVAL seconds, never ending the head; once they are all connected,
      M normal http clients (one GET each, 4 at a time, each retrying while
      refused) must be served while the N stay open, within HEAD seconds
      (the server's --head-timeout). Then the N are watched until HEAD + 4
      s: each must get 408 and a close. Prints "served=S/M slow=N open=O
      got408=G closed=C": O slow connections still open when the normal
      clients were done, G answered 408, C closed by the server.
  fault.py slowread HOST PORT N BYTES M
      N echo clients (receive buffer 4 KiB) each write up to BYTES and never
      read, until the server stops taking their data (no progress for 1 s);
      then M normal echo clients each send 256 KiB and check the echo by
      SHA-256, while the N stay connected. Prints "pushed=P stalled=K/N
      served=S/M lost=L" (P: bytes the N got into the server, L: bytes the
      normal clients sent and did not get back), then holds the N, still
      reading nothing, for 10 s.
  fault.py bulk HOST PORT BYTES SECS
      one echo client sends BYTES random bytes, reading the echo as it
      comes, half-closes and reads to EOF, within SECS. Prints "sent=A
      got=B same=yes|no eof=clean|reset|timeout secs=T".
  fault.py vanish HOST PORT
      one echo client that streams: it writes as fast as the server takes
      it and reads slowly, so the server always has output in flight.
      Prints "up" once bytes come back, then streams until killed.
Every wait is bounded; exit 0 unless the client itself broke (bad usage).
"""
import hashlib
import os
import selectors
import socket
import sys
import threading
import time

GET = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"


def open_many(host, port, n, timeout=10):
    """n non-blocking connections, returned once every one is connected."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    pending, done = set(), []
    sel = selectors.DefaultSelector()
    for _ in range(n):
        s = socket.socket(fam)
        s.setblocking(False)
        s.connect_ex((host, port))
        sel.register(s, selectors.EVENT_WRITE)
        pending.add(s)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            sel.unregister(s)
            pending.discard(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done.append(s)
            else:
                s.close()
    for s in pending:
        s.close()
    return done


def http_get(host, port, deadline):
    """One GET; True once a complete 200 arrived, retrying while refused."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), 2) as c:
                c.settimeout(max(0.1, min(2, deadline - time.monotonic())))
                c.sendall(GET)
                got = b""
                while True:
                    d = c.recv(4096)
                    if not d:
                        break
                    got += d
                if got.startswith(b"HTTP/1.1 200") and got.endswith(b"\r\n\r\nhello\n"):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def run_normals(m, threads, fn):
    """m calls of fn() on `threads` threads; how many returned True."""
    ok = []
    lock = threading.Lock()
    left = [m]

    def worker():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            if fn():
                with lock:
                    ok.append(1)

    ths = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ths:
        t.start()
    return ths, ok


def slowloris(host, port, n, interval, head, m):
    t0 = time.monotonic()
    socks = open_many(host, port, n)
    state = {}
    sel = selectors.DefaultSelector()
    for s in socks:
        try:
            s.send(b"GET / HTTP/1.1\r\nHost: t\r\n")
        except OSError:
            s.close()
            continue
        state[s] = b""
        sel.register(s, selectors.EVENT_READ)
    header = b"X-Slow: " + b"a" * 1000
    pos = 0
    next_byte = time.monotonic() + interval
    closed = got408 = 0

    def watch(until):
        nonlocal closed, got408, pos, next_byte
        while state and time.monotonic() < until:
            for key, _ in sel.select(timeout=0.05):
                s = key.fileobj
                try:
                    d = s.recv(4096)
                except OSError:
                    d = b""
                if d:
                    state[s] += d
                    continue
                if state[s].startswith(b"HTTP/1.1 408"):
                    got408 += 1
                closed += 1
                sel.unregister(s)
                del state[s]
                s.close()
            if time.monotonic() >= next_byte:
                for s in list(state):
                    try:
                        s.send(header[pos : pos + 1])
                    except OSError:
                        pass
                pos = (pos + 1) % len(header)
                next_byte += interval

    # The normal clients run while every slow connection is open, and must
    # be done before the head timeout could free any of them.
    deadline = t0 + head - 0.2
    ths, ok = run_normals(m, 4, lambda: http_get(host, port, deadline))
    while any(t.is_alive() for t in ths):
        watch(time.monotonic() + 0.1)
        if not state:
            time.sleep(0.05)
    opened = len(state)
    watch(t0 + head + 4)
    for s in state:
        s.close()
    print(f"served={len(ok)}/{m} slow={len(socks)} open={opened} got408={got408} closed={closed}")


def echo_check(host, port, size, deadline):
    data = os.urandom(size)
    try:
        with socket.create_connection((host, port), 2) as c:
            c.settimeout(max(0.1, deadline - time.monotonic()))
            t = threading.Thread(target=c.sendall, args=(data,))
            t.start()
            got = hashlib.sha256()
            n = 0
            while n < size:
                d = c.recv(65536)
                if not d:
                    break
                got.update(d)
                n += len(d)
            t.join(max(0.1, deadline - time.monotonic()))
            return n == size and got.digest() == hashlib.sha256(data).digest(), size - n
    except OSError:
        return False, size


def slowread(host, port, n, total, m):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect((host, port))
        s.setblocking(False)
        socks.append(s)
    chunk = os.urandom(65536)
    pushed = [0] * n
    last = [time.monotonic()] * n
    active = set(range(n))
    deadline = time.monotonic() + 30
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_WRITE, i)
    while active and time.monotonic() < deadline:
        now = time.monotonic()
        for key, _ in sel.select(timeout=0.1):
            i = key.data
            try:
                k = key.fileobj.send(chunk[: min(len(chunk), total - pushed[i])])
            except BlockingIOError:
                continue
            except OSError:
                k = 0
                last[i] = 0
            pushed[i] += k
            if k:
                last[i] = now
            if pushed[i] >= total or not k:
                active.discard(i)
                sel.unregister(key.fileobj)
        for i in list(active):
            if now - last[i] > 1.0:
                active.discard(i)
                sel.unregister(socks[i])
    stalled = sum(1 for p in pushed if p < total)
    # The normal clients, while the slow readers hold their connections.
    lost = [0]
    ndeadline = time.monotonic() + 20

    def one():
        ok, missing = echo_check(host, port, 256 << 10, ndeadline)
        lost[0] += missing
        return ok

    ths, ok = run_normals(m, 4, one)
    for t in ths:
        t.join()
    print(f"pushed={sum(pushed)} stalled={stalled}/{n} served={len(ok)}/{m} lost={lost[0]}", flush=True)
    # Held (nothing read) until the server ends them or 10 s pass; the
    # caller watches the server's side.
    time.sleep(10)
    for s in socks:
        s.close()


def bulk(host, port, total, secs):
    data = os.urandom(total)
    want = hashlib.sha256(data).digest()
    got = hashlib.sha256()
    t0 = time.monotonic()
    deadline = t0 + secs
    eof = "timeout"
    ns = nr = 0
    s = socket.create_connection((host, port), 10)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    half = False
    while time.monotonic() < deadline:
        if not half and ns == total:
            s.shutdown(socket.SHUT_WR)
            half = True
            sel.modify(s, selectors.EVENT_READ)
        done = False
        for _, ev in sel.select(timeout=0.1):
            try:
                if ev & selectors.EVENT_WRITE and ns < total:
                    ns += s.send(data[ns : ns + 262144])
                if ev & selectors.EVENT_READ:
                    d = s.recv(262144)
                    if not d:
                        eof, done = "clean", True
                        break
                    got.update(d)
                    nr += len(d)
            except BlockingIOError:
                pass
            except OSError:
                eof, done = "reset", True
                break
        if done:
            break
    s.close()
    same = "yes" if nr == total and got.digest() == want else "no"
    print(f"sent={ns} got={nr} same={same} eof={eof} secs={time.monotonic() - t0:.1f}")


def vanish(host, port):
    s = socket.create_connection((host, port), 10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.setblocking(False)
    chunk = os.urandom(65536)
    up = False
    end = time.monotonic() + 60
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    while time.monotonic() < end:
        for _, ev in sel.select(timeout=0.1):
            try:
                if ev & selectors.EVENT_WRITE:
                    s.send(chunk)
                if ev & selectors.EVENT_READ:
                    if not s.recv(1024):
                        return
                    if not up:
                        up = True
                        print("up", flush=True)
                    time.sleep(0.01)
            except BlockingIOError:
                pass
            except OSError:
                return


def main():
    a = sys.argv
    if len(a) < 4:
        sys.exit(__doc__)
    cmd, host, port = a[1], a[2], int(a[3])
    if cmd == "slowloris" and len(a) == 8:
        slowloris(host, port, int(a[4]), float(a[5]), float(a[6]), int(a[7]))
    elif cmd == "slowread" and len(a) == 7:
        slowread(host, port, int(a[4]), int(a[5]), int(a[6]))
    elif cmd == "bulk" and len(a) == 6:
        bulk(host, port, int(a[4]), float(a[5]))
    elif cmd == "vanish" and len(a) == 4:
        vanish(host, port)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
