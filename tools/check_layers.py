#!/usr/bin/env python3
"""The layer rule, checked: a file under src/LAYER/ may include and call only
its own layer and the layers below it (LAYERS), and the folders form no cycle.

Two sources of truth, so neither hides a violation: the #include lines of
every source and header, and `nm` of the built objects (a call written
without its header is caught by the second). Public headers in
include/sockit/ belong to the layer that implements them (HEADERS).

    check_layers.py [--src DIR] [--objs DIR]... [--graph]

--src is the repository root (default: this script's parent folder); each
--objs is a folder searched for *.o files whose path contains src/LAYER/
(CMake puts src/server/conn.c at .../src/server/conn.c.o). Exit 0 when the
rule holds, 1 with one line per violation when it does not, 2 on usage.
"""
import argparse
import os
import re
import subprocess
import sys

# Each layer and what it may use. Order matters only for printing.
LAYERS = {
    "base": [],
    "net": ["base"],
    "loop": ["base"],
    "codec": ["base"],
    "diag": ["base", "net"],
    "server": ["base", "net", "loop", "codec", "diag"],
    "client": ["base", "net", "loop", "codec", "diag"],
    "services": ["base", "net", "loop", "codec", "diag", "server"],
    "cli": ["base", "net", "loop", "codec", "diag", "server", "client", "services"],
}

# The layer of each public header; sockit.h (everything) is for the CLI and
# for library users only.
HEADERS = {
    "error.h": "base", "clock.h": "base", "hist.h": "base", "version.h": "base",
    "addr.h": "net", "sock.h": "net", "udp.h": "net", "transport.h": "net", "icmp_sock.h": "net",
    "loop.h": "loop",
    "http.h": "codec", "icmp.h": "codec", "dns.h": "codec", "http_response.h": "codec",
    "tcpinfo.h": "diag", "sockdiag.h": "diag", "trace.h": "diag", "capture.h": "diag",
    "tcpstate.h": "diag",
    "server.h": "server", "service.h": "server", "stats.h": "server",
    "bench.h": "client", "resolve.h": "client", "dial.h": "client", "etcd.h": "client", "mdns.h": "client",
    "sockit.h": "cli",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def allowed(frm, to):
    return frm == to or to in LAYERS[frm]


def layer_of_path(path):
    """The layer of a path below src/, or None."""
    parts = path.replace(os.sep, "/").split("/")
    for i in range(len(parts) - 1, 0, -1):
        if parts[i - 1] == "src" and parts[i] in LAYERS:
            return parts[i]
    return None


def check_table(errors):
    # The table itself must be a DAG (the layers' order).
    state = {}

    def visit(n, stack):
        state[n] = 1
        for m in LAYERS[n]:
            if m not in LAYERS:
                errors.append(f"layers: {n} uses unknown layer {m}")
            elif state.get(m) == 1:
                errors.append("layers: cycle " + " -> ".join(stack + [n, m]))
            elif m not in state:
                visit(m, stack + [n])
        state[n] = 2

    for n in LAYERS:
        if n not in state:
            visit(n, [])


def check_includes(root, errors, edges):
    src = os.path.join(root, "src")
    for folder in sorted(os.listdir(src)):
        # Files beside the folders (the linker version script) are no layer.
        if not os.path.isdir(os.path.join(src, folder)):
            continue
        if folder not in LAYERS:
            errors.append(f"src/{folder}: folder is no layer (add it to tools/check_layers.py)")
            continue
        for name in sorted(os.listdir(os.path.join(src, folder))):
            if not name.endswith((".c", ".h")):
                continue
            rel = f"src/{folder}/{name}"
            with open(os.path.join(src, folder, name), encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    kind, target = m.groups()
                    if kind == "<":
                        if not target.startswith("sockit/"):
                            continue
                        hdr = target[len("sockit/"):]
                        to = HEADERS.get(hdr)
                        if to is None:
                            errors.append(f"{rel}:{lineno}: public header {target} has no layer "
                                          "(add it to HEADERS in tools/check_layers.py)")
                            continue
                    else:
                        to = target.split("/")[0] if "/" in target else folder
                        if to not in LAYERS:
                            errors.append(f"{rel}:{lineno}: include \"{target}\" names no layer")
                            continue
                    edges.add((folder, to))
                    if not allowed(folder, to):
                        errors.append(f"{rel}:{lineno}: includes {target} from layer {to}, "
                                      f"above {folder} (may use: {', '.join(LAYERS[folder]) or 'nothing'})")
    inc = os.path.join(root, "include", "sockit")
    for name in sorted(os.listdir(inc)):
        if name.endswith(".h") and name not in HEADERS:
            errors.append(f"include/sockit/{name}: public header has no layer (add it to HEADERS)")
            continue
        if not name.endswith(".h"):
            continue
        frm = HEADERS[name]
        with open(os.path.join(inc, name), encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m and m.group(2).startswith("sockit/"):
                    to = HEADERS.get(m.group(2)[len("sockit/"):])
                    if to and not allowed(frm, to) and frm != "cli":
                        errors.append(f"include/sockit/{name}:{lineno}: includes {m.group(2)} from layer "
                                      f"{to}, above {frm}")


def nm(path):
    out = subprocess.run(["nm", "-P", path], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        sym, kind = f[0], f[1]
        if kind == "U":
            undefined.add(sym)
        elif kind in "TDBRVWCGS" or kind in "tdbr":
            if kind.isupper() or kind in "VWC":
                defined.add(sym)
    return defined, undefined


def check_objects(dirs, errors, edges, graph):
    objs = []
    for d in dirs:
        for base, _, files in os.walk(d):
            for name in files:
                if name.endswith(".o"):
                    path = os.path.join(base, name)
                    layer = layer_of_path(path)
                    if layer:
                        objs.append((path, layer))
    if not objs:
        errors.append("no objects found under " + ", ".join(dirs))
        return
    owner = {}
    syms = []
    for path, layer in objs:
        defined, undefined = nm(path)
        short = path[path.rindex("/src/") + 1:].removesuffix(".o")
        for s in defined:
            owner.setdefault(s, (layer, short))
        syms.append((short, layer, undefined))
    for short, layer, undefined in syms:
        for s in sorted(undefined):
            if s not in owner:
                continue  # libc, pthreads, liburing
            to, where = owner[s]
            edges.add((layer, to))
            if where != short:
                graph.setdefault(short, set()).add(where)
            if not allowed(layer, to):
                errors.append(f"{short}: calls {s} from {where}, layer {to} is above {layer}")


def cycles(graph):
    """Strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            strong(v)
    return out


def main():
    ap = argparse.ArgumentParser(description="check that src/ layers only point down")
    ap.add_argument("--src", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--objs", action="append", default=[])
    ap.add_argument("--graph", action="store_true", help="print the folder graph that was found")
    args = ap.parse_args()
    errors, edges, files = [], set(), {}
    check_table(errors)
    check_includes(args.src, errors, edges)
    if args.objs:
        check_objects(args.objs, errors, edges, files)
    folders = {}
    for a, b in edges:
        if a != b:
            folders.setdefault(a, set()).add(b)
    for comp in cycles(folders):
        errors.append("folders form a cycle: " + " <-> ".join(comp))
    for comp in cycles(files):
        errors.append("files form a cycle: " + " <-> ".join(comp))
    if args.graph:
        for a in LAYERS:
            print(f"{a:9} -> {' '.join(sorted(folders.get(a, ()))) or '-'}")
    for e in errors:
        print("check_layers: " + e, file=sys.stderr)
    if not errors:
        n = len(files)
        print(f"check_layers: ok ({len(LAYERS)} layers, {n} object files with calls, no upward edge, no cycle)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
