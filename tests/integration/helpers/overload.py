#!/usr/bin/env python3
"""Clients for the overload policies (t_overload.sh, t_stats_limits.sh); not a
test itself. Every wait is bounded; exit 0 and a result line on success, 1 and
a message on failure.

  overload.py perip HOST PORT N        N echo clients from 127.0.0.2 served, the
                                       next from 127.0.0.2 refused, one from
                                       127.0.0.3 served; one .2 closes, a new .2
                                       is served
  overload.py maxconns HOST PORT N reject|queue
                                       N clients hold the slots; one more: reject
                                       sees its close at once; queue sees nothing
                                       while it waits in the backlog (ss Recv-Q),
                                       then its echo once a slot frees
  overload.py fdlimit HOST PORT spare-fd|pause-accept
                                       hold echo clients until the server (at its
                                       fd limit) serves no more; spare-fd: the
                                       next is closed at once; pause-accept: it
                                       waits, then is served once some close
  overload.py minrate HOST PORT SECS chargen|http
                                       chargen: a client that never reads is
                                       closed within SECS, a reading one is not;
                                       http: a head trickled a byte every 100 ms
                                       is closed within SECS, a client asking
                                       every 300 ms and an idle one are not
  overload.py overflow HOST PORT N     N connection attempts at once (non-blocking)
                                       at a server that accepts nothing
  overload.py latency HOST PORT N [STATS_URL_PATH SECS]
                                       p50 of N GET / on one keep-alive connection,
                                       with 4 connections hammering STATS_URL_PATH
                                       meanwhile when given; prints p50_ms= and the
                                       /stats answers by status
"""
import socket
import struct
import subprocess
import sys
import threading
import time

TCP_CLOSE = 7


def die(msg):
    print("overload.py: " + msg, file=sys.stderr)
    sys.exit(1)


def connect(host, port, src=None, timeout=5):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def echo_ok(s, tag, wait=3.0):
    """Send a line, True when it comes back whole within wait."""
    line = f"hello {tag}\n".encode()
    s.sendall(line)
    s.settimeout(wait)
    got = b""
    try:
        while len(got) < len(line):
            b = s.recv(4096)
            if not b:
                return False
            got += b
    except OSError:
        return False
    return got == line


def outcome(s, wait):
    """What a client that sent a line sees within wait: 'echo', 'closed'
    (EOF or reset) or 'waiting'."""
    s.settimeout(wait)
    try:
        b = s.recv(4096)
    except socket.timeout:
        return "waiting"
    except OSError:
        return "closed"
    return "echo" if b else "closed"


def tcp_state(s):
    return struct.unpack("B", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[:1])[0]


def backlog(port):
    """Connections queued in the accept queues of every listener on port."""
    out = subprocess.run(["ss", "-Hltn", f"( sport = :{port} )"], capture_output=True, text=True).stdout
    return sum(int(line.split()[1]) for line in out.splitlines() if line.split())


def perip(host, port, n):
    held = []
    for i in range(n):
        s = connect(host, port, "127.0.0.2")
        if not echo_ok(s, f"a{i}"):
            die(f"client {i} from 127.0.0.2 not served under the limit")
        held.append(s)
    extra = connect(host, port, "127.0.0.2")
    extra.sendall(b"over\n")
    if outcome(extra, 3) != "closed":
        die(f"client {n + 1} from 127.0.0.2 was not refused")
    other = connect(host, port, "127.0.0.3")
    if not echo_ok(other, "b"):
        die("client from 127.0.0.3 not served while 127.0.0.2 is at its limit")
    held.pop().close()
    # The server sees the close on its own time: retry for a while.
    deadline = time.time() + 5
    while True:
        s = connect(host, port, "127.0.0.2")
        if echo_ok(s, "again", 1):
            break
        s.close()
        if time.time() > deadline:
            die("127.0.0.2 still refused after one of its connections closed")
        time.sleep(0.1)
    print(f"perip: {n} served, the next refused, 127.0.0.3 served, a slot given back")


def maxconns(host, port, n, mode):
    held = []
    for i in range(n):
        s = connect(host, port)
        if not echo_ok(s, f"h{i}"):
            die(f"holder {i} not served")
        held.append(s)
    extra = connect(host, port)
    extra.sendall(b"extra\n")
    got = outcome(extra, 1.5)
    if mode == "reject":
        if got != "closed":
            die(f"reject: the client past --max-conns saw '{got}', not a close")
        print("maxconns reject: closed at once")
        return
    if got != "waiting":
        die(f"queue: the client past --max-conns saw '{got}' instead of waiting")
    q = backlog(port)
    if q < 1:
        die(f"queue: nothing in the accept queue (ss Recv-Q {q})")
    held.pop().close()
    got = outcome(extra, 5)
    if got != "echo":
        die(f"queue: once a slot freed the waiting client saw '{got}'")
    print(f"maxconns queue: waited in the backlog (Recv-Q {q}), served once a slot freed")


def fdlimit(host, port, mode):
    held = []
    for i in range(200):
        s = connect(host, port)
        s.sendall(b"x\n")
        got = outcome(s, 1.0)
        if got == "echo":
            held.append(s)
            continue
        if len(held) < 10:
            die(f"only {len(held)} served before the fd limit")
        if mode == "spare-fd":
            if got != "closed":
                die(f"spare-fd: client past the fd limit saw '{got}', not a close")
            print(f"fdlimit spare-fd: {len(held)} held, the next closed at once")
            return
        if got != "waiting":
            die(f"pause-accept: client past the fd limit saw '{got}' instead of waiting")
        if outcome(s, 1.0) != "waiting":
            die("pause-accept: the waiting client was closed")
        for _ in range(5):
            held.pop().close()
        got = outcome(s, 5)
        if got != "echo":
            die(f"pause-accept: once fds freed the waiting client saw '{got}'")
        print(f"fdlimit pause-accept: {len(held) + 5} held, the next waited, then was served")
        return
    die("200 clients served: no fd limit reached")


def minrate(host, port, secs, service):
    if service == "chargen":
        slow = connect(host, port)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        fast = connect(host, port)
        t0 = time.time()
        got = 0
        closed_at = None
        fast.settimeout(0.05)
        while time.time() - t0 < secs:
            try:
                b = fast.recv(65536)
            except socket.timeout:
                b = b"."
            if not b:
                die("chargen: the reading client was closed")
            got += len(b)
            time.sleep(0.01)  # a few MB/s: far above the rate, light on a shared box
            if closed_at is None and tcp_state(slow) == TCP_CLOSE:
                closed_at = time.time() - t0
        if closed_at is None:
            die(f"chargen: the client that never reads is still open after {secs} s")
        if tcp_state(fast) == TCP_CLOSE:
            die("chargen: the reading client was closed")
        print(f"minrate chargen: non-reader closed after {closed_at:.1f} s, reader kept ({got} bytes)")
        return
    # http: a head trickled a byte every 100 ms is a slow writer; a client
    # asking for / every 300 ms is a conversation, and an idle one is idle.
    slow = connect(host, port)
    idle = connect(host, port)
    talker = connect(host, port)
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Trickle: " + b"a" * 1000
    t0 = time.time()
    closed_at = None
    asked = 0
    i = 0
    while time.time() - t0 < secs:
        if closed_at is None:
            try:
                slow.send(head[i : i + 1])
                i += 1
            except OSError:
                closed_at = time.time() - t0
            if closed_at is None and tcp_state(slow) == TCP_CLOSE:
                closed_at = time.time() - t0
        if i % 3 == 0 or closed_at is not None:
            st, _ = http_get(talker, "/")
            if st != 200:
                die(f"http: the talking client got {st}")
            asked += 1
            if closed_at is not None:
                time.sleep(0.2)
        time.sleep(0.1)
    if closed_at is None:
        die(f"http: the trickling client is still open after {secs} s")
    if tcp_state(talker) == TCP_CLOSE or http_get(talker, "/")[0] != 200:
        die("http: the talking client was closed")
    if http_get(idle, "/")[0] != 200:
        die("http: the idle client was closed (idle is the idle timeout's)")
    print(f"minrate http: trickler closed after {closed_at:.1f} s, talker ({asked} requests) and idle client kept")


def overflow(host, port, n):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((host, port))
        except BlockingIOError:
            pass
        socks.append(s)
    time.sleep(1.5)  # SYNs retransmitted: more overflows
    for s in socks:
        s.close()
    print(f"overflow: {n} attempts")


def http_get(s, path):
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            raise OSError("closed")
        buf += b
    head, _, body = buf.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    clen = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v)
    while len(body) < clen:
        b = s.recv(65536)
        if not b:
            raise OSError("closed")
        body += b
    return status, len(body)


def latency(host, port, n, path=None, secs=0):
    stop = threading.Event()
    answers = {}
    lock = threading.Lock()

    def hammer():
        s = connect(host, port)
        end = time.time() + secs
        while not stop.is_set() and time.time() < end:
            try:
                st, _ = http_get(s, path)
            except OSError:
                s.close()
                s = connect(host, port)
                continue
            with lock:
                answers[st] = answers.get(st, 0) + 1
        s.close()

    threads = []
    if path:
        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3)
    s = connect(host, port)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        st, _ = http_get(s, "/")
        times.append(time.perf_counter() - t0)
        if st != 200:
            die(f"GET / answered {st}")
    stop.set()
    for t in threads:
        t.join()
    times.sort()
    print(f"p50_ms={times[len(times) // 2] * 1000:.3f} " + " ".join(f"s{k}={v}" for k, v in sorted(answers.items())))


def main():
    a = sys.argv[1:]
    if len(a) < 3:
        die(__doc__)
    host, port = a[1], int(a[2])
    if a[0] == "perip":
        perip(host, port, int(a[3]))
    elif a[0] == "maxconns":
        maxconns(host, port, int(a[3]), a[4])
    elif a[0] == "fdlimit":
        fdlimit(host, port, a[3])
    elif a[0] == "minrate":
        minrate(host, port, float(a[3]), a[4])
    elif a[0] == "overflow":
        overflow(host, port, int(a[3]))
    elif a[0] == "latency":
        latency(host, port, int(a[3]), a[4] if len(a) > 4 else None, float(a[5]) if len(a) > 5 else 0)
    else:
        die(__doc__)


if __name__ == "__main__":
    main()
