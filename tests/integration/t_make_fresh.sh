#!/usr/bin/env bash
# A fresh clone builds with plain `make` without the test suite's packages
# (the build never looks for cmocka), and `make install PREFIX=...` puts
# everything under that prefix even after `make` configured build/ with
# the default one.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v git >/dev/null || fail "git is missing"
git clone -q "$ROOT" "$TMP/src" 2>"$TMP/clone.log" || fail "git clone: $(cat "$TMP/clone.log")"
# Uncommitted work in the tree under test counts too.
(cd "$ROOT" && git diff HEAD) | (cd "$TMP/src" && git apply --allow-empty 2>/dev/null || true)
cd "$TMP/src"
timeout 600 make JOBS=2 >"$TMP/make.log" 2>&1 || fail "make: $(tail -5 "$TMP/make.log")"
[[ -x build/sockit ]] || fail "make built no build/sockit"
grep -q 'CMOCKA' build/CMakeCache.txt && fail "a plain build looked for cmocka: $(grep CMOCKA build/CMakeCache.txt)"
grep -q 'SOCKIT_TESTS:BOOL=OFF' build/CMakeCache.txt || fail "a plain build configured the tests"
pass "a plain make builds without looking for the test packages"

timeout 300 make install PREFIX="$TMP/prefix" >"$TMP/install.log" 2>&1 || fail "make install: $(tail -5 "$TMP/install.log")"
[[ -x $TMP/prefix/bin/sockit ]] || fail "PREFIX ignored: no $TMP/prefix/bin/sockit ($(grep -m1 Installing "$TMP/install.log"))"
grep -q "Installing: /usr/local" "$TMP/install.log" && fail "files went to /usr/local"
"$TMP/prefix/bin/sockit" --version >"$TMP/version" 2>&1 || fail "installed sockit --version: $(cat "$TMP/version")"
pass "make install PREFIX=... after make installs under the prefix: $(cat "$TMP/version")"
