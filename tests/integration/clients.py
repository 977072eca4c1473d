#!/usr/bin/env python3
"""Load and behaviour clients for the integration tests (not a test itself).

  clients.py many HOST PORT N          N echo clients connected at once, each
                                       checks its own payload comes back
  clients.py hold HOST PORT N SECS [STAGGER]
                                       N clients each send a line and hold the
                                       connection SECS; prints "served=A closed=B";
                                       STAGGER seconds between connection starts
  clients.py noread HOST PORT SECS     chargen client that reads nothing for
                                       SECS, then checks the RFC 864 pattern
  clients.py idle HOST PORT SECS       connect, send nothing; prints how long
                                       the server took to close (or "open")
Every wait is bounded; exit 0 on success, 1 with a message on failure.
"""
import asyncio
import os
import socket
import sys
import time


def die(msg):
    print("clients.py: " + msg, file=sys.stderr)
    sys.exit(1)


async def many(host, port, n):
    conns = []
    for i in range(n):
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except Exception as e:  # noqa: BLE001
            die(f"connect {i}/{n}: {e}")
        conns.append((r, w))

    async def one(i, r, w):
        payload = (f"client {i} ".encode() + os.urandom(16).hex().encode()) * (1 + i % 7) + b"\n"
        w.write(payload)
        await w.drain()
        got = await asyncio.wait_for(r.readexactly(len(payload)), 20)
        if got != payload:
            raise RuntimeError(f"client {i}: wrong echo")
        w.close()
        return True

    # Everyone is connected before anyone talks: n live connections at once.
    res = await asyncio.gather(*(one(i, r, w) for i, (r, w) in enumerate(conns)), return_exceptions=True)
    bad = [r for r in res if r is not True]
    if bad:
        die(f"{len(bad)}/{n} clients failed, first: {bad[0]!r}")
    print(f"many: {n} clients ok")


async def hold(host, port, n, secs, stagger=0.0):
    async def one(i):
        await asyncio.sleep(i * stagger)
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
        except Exception:  # noqa: BLE001
            return "closed"
        try:
            w.write(b"hello %d\n" % i)
            await w.drain()
            line = await asyncio.wait_for(r.readline(), 15)
            if not line:
                return "closed"
            await asyncio.sleep(secs)
            w.write(b"again\n")
            await w.drain()
            line = await asyncio.wait_for(r.readline(), 15)
            return "served" if line == b"again\n" else "closed"
        except Exception:  # noqa: BLE001
            return "closed"
        finally:
            w.close()

    res = await asyncio.gather(*(one(i) for i in range(n)))
    print(f"served={res.count('served')} closed={res.count('closed')}")


def noread(host, port, secs):
    s = socket.create_connection((host, port), 5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    time.sleep(secs)
    s.settimeout(5)
    data = b""
    while len(data) < 74 * 200:
        chunk = s.recv(65536)
        if not chunk:
            die("chargen closed the connection")
        data += chunk
    lines = data.split(b"\r\n")
    first = lines[0]
    # Every full line is the previous one rotated by one printable character.
    for a, b in zip(lines[1:-2], lines[2:-1]):
        if len(b) != 72 or (b[0] - 32) % 95 != (a[0] - 31) % 95:
            die("chargen line pattern broken")
    s.close()
    print(f"noread: pattern ok after {secs}s, first line {first[:10]!r}")


def idle(host, port, secs):
    s = socket.create_connection((host, port), 5)
    s.settimeout(secs)
    t0 = time.monotonic()
    try:
        data = s.recv(1)
    except socket.timeout:
        print("open")
        return
    except ConnectionResetError:
        data = b""
    print(f"closed after {time.monotonic() - t0:.1f}s" if not data else "data")


def main():
    if len(sys.argv) < 4:
        die(__doc__)
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "many":
        asyncio.run(many(host, port, int(sys.argv[4])))
    elif cmd == "hold":
        stagger = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
        asyncio.run(hold(host, port, int(sys.argv[4]), float(sys.argv[5]), stagger))
    elif cmd == "noread":
        noread(host, port, float(sys.argv[4]))
    elif cmd == "idle":
        idle(host, port, float(sys.argv[4]))
    else:
        die(__doc__)


if __name__ == "__main__":
    main()
