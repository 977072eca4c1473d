#!/usr/bin/env bash
# Every README example works as typed on one machine: the ping and
# trace-route lines of the tour target loopback (a documentation address
# would send probes out of the default route), and the namespace recipe in
# docs/udp-and-raw.md that the README points to runs as written, showing
# the router and then the destination.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/netns.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
n=0
while IFS= read -r line; do
    target=$(sed -E 's/#.*//; s/[[:space:]]+$//; s/.*[[:space:]]//' <<<"$line")
    [[ $target == 127.0.0.1 || $target == ::1 || $target == localhost ]] ||
        fail "README: '$line' does not target loopback ($target): it would leave the machine"
    n=$((n + 1))
done < <(grep -E '^\$ sockit (ping|trace-route) ' "$SRC/README.md")
((n >= 2)) || fail "README has $n ping/trace-route examples; the check found none to check"
grep -q 'docs/udp-and-raw.md' "$SRC/README.md" || fail "README does not point to docs/udp-and-raw.md"
pass "README's $n ping and trace-route examples target loopback"

ns_require
# The recipe, with its namespace names made unique to this run and
# registered for deletion should it fail half way.
awk '/^<!-- recipe:trace-route -->$/ { on = 1; next } on && /^```sh$/ { body = 1; next } body && /^```$/ { exit } body' \
    "$SRC/docs/udp-and-raw.md" >"$TMP/recipe.sh"
(($(wc -l <"$TMP/recipe.sh") >= 10)) || fail "no trace-route recipe in docs/udp-and-raw.md: $(cat "$TMP/recipe.sh")"
sed -i "s/sk-demo-/sk-$$-/g" "$TMP/recipe.sh"
NETNS+=("sk-$$-a" "sk-$$-r" "sk-$$-b")
mkdir "$TMP/bin" && ln -s "$SOCKIT" "$TMP/bin/sockit"
PATH="$TMP/bin:$PATH" timeout 60 bash -e "$TMP/recipe.sh" >"$TMP/recipe.out" 2>&1 || fail "the recipe failed: $(cat "$TMP/recipe.out")"
grep -Eq '^ 1  198\.18\.1\.1  [0-9.]+ ms$' "$TMP/recipe.out" || fail "recipe: no hop 1 via r: $(cat "$TMP/recipe.out")"
grep -Eq '^ 2  198\.18\.2\.2  [0-9.]+ ms$' "$TMP/recipe.out" || fail "recipe: no hop 2 to b: $(cat "$TMP/recipe.out")"
grep -Eq '^ 1  fd00:5ec::1:1  [0-9.]+ ms$' "$TMP/recipe.out" && grep -Eq '^ 2  fd00:5ec::2:2  [0-9.]+ ms$' "$TMP/recipe.out" ||
    fail "recipe: IPv6 trace: $(cat "$TMP/recipe.out")"
for ns in a r b; do
    ! ip netns list | grep -q "^sk-$$-$ns\b" || fail "the recipe left namespace sk-$$-$ns behind"
done
pass "docs/udp-and-raw.md's namespace recipe runs as written: 198.18.1.1 then 198.18.2.2 (and IPv6)"
