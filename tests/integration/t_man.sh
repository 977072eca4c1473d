#!/usr/bin/env bash
# The man page and --help cannot drift: docs/sockit.1 is exactly what
# 'sockit --man docs/sockit.1.in' prints (make man), it keeps its prose, and
# every option each subcommand's --help lists is documented in that
# subcommand's part of OPTIONS, in the roff and in the page man renders.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
PAGE=$SRC/docs/sockit.1

expect_rc 0 "$SOCKIT" --man "$SRC/docs/sockit.1.in"
[[ ! -s $TMP/last.err ]] || fail "sockit --man wrote to stderr: $(cat "$TMP/last.err")"
cmp -s "$TMP/last.out" "$PAGE" ||
    fail "docs/sockit.1 is stale, run 'make man': $(diff "$PAGE" "$TMP/last.out" | head -n 20)"
grep -q '^\.TH SOCKIT 1 .*"sockit '"$("$SOCKIT" --version | cut -d' ' -f2)"'"' "$PAGE" ||
    fail "the page's .TH does not carry the version: $(grep '^\.TH' "$PAGE")"
pass "docs/sockit.1 is what 'sockit --man docs/sockit.1.in' generates"

# The hidden generator's own errors.
expect_rc 2 "$SOCKIT" --man
[[ $(<"$TMP/last.err") == "sockit: --man wants the prose file (docs/sockit.1.in) (see 'sockit --help')" ]] ||
    fail "--man without a file: '$(cat "$TMP/last.err")'"
expect_rc 1 "$SOCKIT" --man "$TMP/nosuch.1.in"
[[ $(<"$TMP/last.err") == "sockit: man: $TMP/nosuch.1.in: No such file or directory" ]] ||
    fail "--man with a missing file: '$(cat "$TMP/last.err")'"
printf '.TH X 1\n.SH NAME\nx\n' >"$TMP/nomark.1.in"
expect_rc 1 "$SOCKIT" --man "$TMP/nomark.1.in"
grep -q "has no '.\\\\\" @OPTIONS@' line" "$TMP/last.err" || fail "--man without the mark: '$(cat "$TMP/last.err")'"
pass "sockit --man: a missing argument is a usage error, a missing file or mark a failure"

# The prose survives generation.
for section in NAME SYNOPSIS DESCRIPTION ADDRESSES COMMANDS OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
    grep -q "^\.SH \"\?$section\"\?$" "$PAGE" || fail "docs/sockit.1 has no $section section"
done
pass "docs/sockit.1 keeps its prose sections and has OPTIONS"

# The rendered page, when man is here; the roff is checked either way.
rendered=
if command -v man >/dev/null 2>&1; then
    MANWIDTH=200 man -l "$PAGE" >"$TMP/man.txt" 2>"$TMP/man.err" || fail "man -l docs/sockit.1: $(cat "$TMP/man.err")"
    [[ ! -s $TMP/man.err ]] || fail "man -l docs/sockit.1 warns: $(cat "$TMP/man.err")"
    rendered=$TMP/man.txt
fi

# roff_part SUB: the roff of SUB's options, from its .SS to the next .SS/.SH.
# (awk -v would take the backslashes of "trace\-route" as escapes: ENVIRON.)
roff_part() {
    H=".SS \"sockit ${1//-/\\-}\"" awk '$0 == ENVIRON["H"] {on = 1; next} on && /^\.S[SH] / {exit} on' "$PAGE"
}
# man_part SUB: the same part of the rendered page.
man_part() { awk -v h="   sockit $1" '$0 == h {on = 1; next} on && /^ {0,3}[^ ]/ {exit} on' "$rendered"; }

# Every command 'sockit --help' lists, and connect's UDP form.
subs=()
while read -r name; do subs+=("$name"); done < <("$SOCKIT" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')
((${#subs[@]} >= 5)) || fail "sockit --help lists ${#subs[@]} commands"
subs+=("connect --udp")

total=0
for sub in "${subs[@]}"; do
    # shellcheck disable=SC2086
    expect_rc 0 "$SOCKIT" $sub --help
    help=$(<"$TMP/last.out")
    longs=$(sed -nE 's/^  (-[^ ], |    )--([a-z][a-z0-9-]*).*/\2/p' <<<"$help")
    shorts=$(sed -nE 's/^  -([A-Za-z0-9])([ ,].*)?$/\1/p' <<<"$help")
    [[ -n $longs ]] || fail "sockit $sub --help lists no long option"
    grep -qx help <<<"$longs" || fail "sockit $sub --help does not list --help"
    roff=$(roff_part "$sub")
    [[ -n $roff ]] || fail "docs/sockit.1 has no .SS part for sockit $sub"
    text=
    if [[ -n $rendered ]]; then
        text=$(man_part "$sub")
        [[ -n $text ]] || fail "the rendered page has no 'sockit $sub' part"
    fi
    for opt in $longs; do
        roffname=${opt//-/\\-}
        grep -qF "\\fB\\-\\-$roffname\\fR" <<<"$roff" || fail "docs/sockit.1 does not document $sub --$opt"
        if [[ -n $rendered ]]; then
            grep -Eq -- "(^|[ ,])--$opt( |$)" <<<"$text" || fail "man -l docs/sockit.1: no --$opt under sockit $sub"
        fi
        total=$((total + 1))
    done
    for letter in $shorts; do
        grep -qF "\\fB\\-$letter\\fR" <<<"$roff" || fail "docs/sockit.1 does not document $sub -$letter"
        if [[ -n $rendered ]]; then
            grep -Eq -- "^ +-$letter( |,|$)" <<<"$text" || fail "man -l docs/sockit.1: no -$letter under sockit $sub"
        fi
    done
done
pass "every option of ${subs[*]} --help ($total long ones) is in its part of the man page${rendered:+ (roff and man -l)}"

# The services' options are there too, under serve, with their service.
grep -qF 'http: bytes of the GET / body' <<<"$(roff_part serve)" || fail "the man page lacks http's --body-size help"
pass "serve's part of the man page has the services' options"
