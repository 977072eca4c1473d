#!/usr/bin/python3
"""Validate sockit --json output against its schema in docs/schema.

    json_schema_check.py SCHEMA_DIR NAME FILE [--lines] [--expect KIND,...]

NAME is a schema file without .json (serve, bench, ...). With --lines FILE
is JSON lines and every line is checked on its own; each line's "event"
picks the schema's definition of that kind, so an error names the kind.
--expect lists the kinds that must all occur (the run exercised them).
Every schema in SCHEMA_DIR is first checked against draft 7, and every
key a schema names must be documented in docs/json.md. Exit 1 with the
first problem on stderr."""
import glob
import json
import os
import re
import sys

import jsonschema


def keys_of(node, out):
    if isinstance(node, dict):
        for k, v in node.get("properties", {}).items():
            out.add(k)
            keys_of(v, out)
        for k, v in node.items():
            if k != "properties":
                keys_of(v, out)
    elif isinstance(node, list):
        for v in node:
            keys_of(v, out)
    return out


def main():
    args = sys.argv[1:]
    lines = "--lines" in args
    expect = []
    if "--expect" in args:
        i = args.index("--expect")
        expect = [k for k in args[i + 1].split(",") if k]
        del args[i:i + 2]
    args = [a for a in args if a != "--lines"]
    schema_dir, name, path = args

    store = {}
    for f in sorted(glob.glob(os.path.join(schema_dir, "*.json"))):
        s = json.load(open(f))
        jsonschema.Draft7Validator.check_schema(s)
        store[s["$id"]] = s
    schema = json.load(open(os.path.join(schema_dir, name + ".json")))

    doc = open(os.path.join(schema_dir, "..", "json.md")).read()
    documented = set()
    for span in re.findall(r"`([^`\n]+)`", doc):  # `runs[].ok` documents ok
        documented.update(re.findall(r"[a-z0-9_]+", span))
    missing = sorted(keys_of(schema, set()) - documented)
    if missing:
        sys.exit("%s: keys not documented in docs/json.md: %s" % (name, ", ".join(missing)))

    resolver = jsonschema.RefResolver.from_schema(schema, store=store)
    check = jsonschema.Draft7Validator(schema, resolver=resolver)
    defs = schema.get("definitions", {})
    text = open(path).read()
    docs = text.splitlines() if lines else [text]
    if not docs or not text.strip():
        sys.exit("%s: %s is empty" % (name, path))
    seen = set()
    for n, raw in enumerate(docs, 1):
        try:
            v = json.loads(raw)
        except ValueError as e:
            sys.exit("%s: line %d is not JSON (%s): %s" % (name, n, e, raw))
        kind = v.get("event") if isinstance(v, dict) else None
        if lines and kind not in defs and "event" in schema.get("properties", {}):
            kind = kind if kind == schema["properties"]["event"].get("const") else None
        if lines and kind is None:
            sys.exit("%s: line %d has no known \"event\": %s" % (name, n, raw))
        seen.add(kind)
        target = check
        if kind in defs:
            target = jsonschema.Draft7Validator(defs[kind], resolver=resolver)
        err = jsonschema.exceptions.best_match(target.iter_errors(v))
        if err is None:
            err = jsonschema.exceptions.best_match(check.iter_errors(v))
        if err is not None:
            where = "/".join(str(p) for p in err.absolute_path) or "(top)"
            sys.exit("%s: line %d (%s) at %s: %s\n  %s" % (name, n, kind or "document", where, err.message, raw))
    absent = [k for k in expect if k not in seen]
    if absent:
        sys.exit("%s: no %s line in %s" % (name, ", ".join(absent), path))
    print("%s: %d %s valid (%s)" % (name, len(docs), "lines" if lines else "document", ",".join(sorted(
        k for k in seen if k)) or "-"))


if __name__ == "__main__":
    main()
