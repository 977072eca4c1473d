#!/usr/bin/env bash
# The layer rule (tools/check_layers.py): the tree as built passes, and a
# deliberate violation of each kind fails with a line naming it: an include
# from a higher layer, a call into a higher layer written without any
# include (caught only by nm of the object), and a cycle between files.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SOCKIT_BUILD:-$(dirname "$SOCKIT")}
CHECK=(python3 "$ROOT/tools/check_layers.py")
command -v nm >/dev/null || fail "nm (binutils) is missing"

"${CHECK[@]}" --src "$ROOT" --objs "$BUILD/CMakeFiles" >"$TMP/ok.out" 2>&1 ||
    fail "the tree breaks its own layer rule: $(cat "$TMP/ok.out")"
grep -q '^check_layers: ok' "$TMP/ok.out" || fail "no ok line: $(cat "$TMP/ok.out")"
pass "$(cat "$TMP/ok.out")"

# A copy of the sources to break, and of the objects.
cp -r "$ROOT/src" "$ROOT/include" "$TMP/"
mkdir -p "$TMP/tools" && cp "$ROOT/tools/check_layers.py" "$TMP/tools/"
mkdir -p "$TMP/objs"
(cd "$BUILD/CMakeFiles" && find . -path '*/src/*' -name '*.o' -exec cp --parents {} "$TMP/objs/" \;)

# 1. base includes a server header.
printf '#include "server/conn_int.h"\n' >>"$TMP/src/base/error.c"
if "${CHECK[@]}" --src "$TMP" >"$TMP/inc.out" 2>&1; then fail "an upward include passed"; fi
grep -q 'src/base/error.c:[0-9]*: includes server/conn_int.h from layer server, above base' "$TMP/inc.out" ||
    fail "upward include not named: $(cat "$TMP/inc.out")"
pass "an include from a higher layer fails: $(grep -m1 error.c "$TMP/inc.out")"
cp "$ROOT/src/base/error.c" "$TMP/src/base/error.c"

# 2. codec calls the server without including anything of it.
base_obj=$(find "$TMP/objs" -path '*/src/codec/*' -name '*.o' | head -n1)
obj_dir=$(dirname "$base_obj")
cat >"$TMP/sneaky.c" <<'C'
/* A codec that stops a server, declaring what it calls by hand. */
struct sk_server;
void sk_server_stop(struct sk_server *s);
void codec_sneak(struct sk_server *s) { sk_server_stop(s); }
C
cc -c "$TMP/sneaky.c" -o "$obj_dir/sneaky.c.o" || fail "cc sneaky.c"
if "${CHECK[@]}" --src "$TMP" --objs "$TMP/objs" >"$TMP/call.out" 2>&1; then fail "an upward call passed"; fi
grep -q 'src/codec/sneaky.c: calls sk_server_stop from src/server/core.c, layer server is above codec' "$TMP/call.out" ||
    fail "upward call not named: $(cat "$TMP/call.out")"
pass "a call into a higher layer without an include fails (nm)"
rm "$obj_dir/sneaky.c.o"

# 3. Two files of one layer that call each other.
net_dir=$(dirname "$(find "$TMP/objs" -path '*/src/net/*' -name '*.o' | head -n1)")
printf 'int ping_b(int n);\nint ping_a(int n) { return n ? ping_b(n - 1) : 0; }\n' >"$TMP/a.c"
printf 'int ping_a(int n);\nint ping_b(int n) { return n ? ping_a(n - 1) : 1; }\n' >"$TMP/b.c"
cc -c "$TMP/a.c" -o "$net_dir/ping_a.c.o" && cc -c "$TMP/b.c" -o "$net_dir/ping_b.c.o" || fail "cc a.c b.c"
if "${CHECK[@]}" --src "$TMP" --objs "$TMP/objs" >"$TMP/cyc.out" 2>&1; then fail "a file cycle passed"; fi
grep -q 'files form a cycle: src/net/ping_a.c <-> src/net/ping_b.c' "$TMP/cyc.out" ||
    fail "file cycle not named: $(cat "$TMP/cyc.out")"
pass "a cycle between files fails"
