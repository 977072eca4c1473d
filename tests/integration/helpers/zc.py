#!/usr/bin/python3
"""python3-zeroconf on one side of the mDNS tests.

    zc.py register NAME TYPE PORT ADDR [key=value ...]   until SIGTERM (then unregisters: a goodbye)
    zc.py browse TYPE SECONDS                             JSON lines: add (resolved), remove

TYPE is "_echo._tcp"; ADDR the address to publish. Output is flushed per line."""
import json
import signal
import socket
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf


def register(name, typ, port, addr, txt):
    zc = Zeroconf(ip_version=IPVersion.All)
    props = dict(kv.split("=", 1) for kv in txt)
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    info = ServiceInfo(typ + ".local.", name + "." + typ + ".local.", port=int(port),
                       addresses=[socket.inet_pton(fam, addr)], properties=props,
                       server="zc-host.local.")
    zc.register_service(info)
    print(json.dumps({"event": "registered", "name": info.name}), flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    while not stop:
        time.sleep(0.1)
    zc.unregister_service(info)
    zc.close()


def browse(typ, seconds):
    zc = Zeroconf(ip_version=IPVersion.All)
    full = typ + ".local."
    out = threading.Lock()

    def say(event):
        with out:
            print(json.dumps(event), flush=True)

    def resolve(service_type, name):
        info = zc.get_service_info(service_type, name, timeout=3000)
        if info is None:
            say({"event": "unresolved", "name": name, "at_s": round(time.time() - start, 2)})
            return
        say({"event": "add", "name": name, "port": info.port, "server": info.server,
             "addrs": info.parsed_addresses(), "at_s": round(time.time() - start, 2),
             "txt": {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()}})

    # The browser's own thread runs the handlers one at a time: a resolve
    # that waited there (up to 3 s when a record is missing) would hold back
    # every later change, the remove of a goodbye too. Resolving happens in
    # a thread of its own.
    def on_change(zeroconf, service_type, name, state_change):
        if state_change is ServiceStateChange.Removed:
            say({"event": "remove", "name": name, "at_s": round(time.time() - start, 2)})
        elif state_change is ServiceStateChange.Added:
            threading.Thread(target=resolve, args=(service_type, name), daemon=True).start()

    start = time.time()
    ServiceBrowser(zc, full, handlers=[on_change])
    end = start + float(seconds)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    while time.time() < end and not stop:
        time.sleep(0.1)
    zc.close()
    # The end of the browse: a failed wait for a remove can tell the
    # browser's time running out from a goodbye that never came.
    say({"event": "end", "after_s": round(time.time() - start, 2), "by": "SIGTERM" if stop else "timeout"})


if __name__ == "__main__":
    if sys.argv[1] == "register":
        register(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    elif sys.argv[1] == "browse":
        browse(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: zc.py register|browse ...")
