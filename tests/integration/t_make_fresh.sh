#!/usr/bin/env bash
# A fresh clone builds with plain `make` without the test suite's packages
# (the build never looks for cmocka), and `make install PREFIX=...` puts
# everything under that prefix even after `make` configured build/ with
# the default one.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v git >/dev/null || fail "git is missing"
command -v tar >/dev/null || fail "tar is missing"
# The tree under test as a fresh clone has it (tracked and new files, no
# build directory), uncommitted work included.
mkdir "$TMP/src"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
    tar -C "$TMP/src" -xf - || fail "copying the tree"
[[ -f $TMP/src/Makefile && ! -e $TMP/src/build ]] || fail "the copy is not a clean tree"
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
