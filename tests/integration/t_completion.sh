#!/usr/bin/env bash
# Shell completion: 'sockit --completion bash' is a script generated from the
# option tables, make install puts it where bash-completion finds it, and a
# real bash that sources it completes subcommands, options and their values
# through 'complete' and 'compgen'.
. "$(dirname "$0")/lib.sh"

BUILD=${SOCKIT_BUILD:-$(dirname "$SOCKIT")}
SCRIPT=$TMP/sockit.bash
expect_rc 0 "$SOCKIT" --completion bash
cp "$TMP/last.out" "$SCRIPT"
[[ ! -s $TMP/last.err ]] || fail "--completion wrote to stderr: $(cat "$TMP/last.err")"
bash -n "$SCRIPT" || fail "the completion script is not valid bash"

expect_rc 2 "$SOCKIT" --completion zsh
[[ $(<"$TMP/last.err") == "sockit: --completion wants the shell: bash (see 'sockit --help')" ]] ||
    fail "--completion zsh: '$(cat "$TMP/last.err")'"
expect_rc 2 "$SOCKIT" --completion
pass "sockit --completion bash is valid bash; another shell or none is a usage error"

# The build made the same script, and make install's rule puts it in
# share/bash-completion/completions/sockit.
cmp -s "$SCRIPT" "$BUILD/sockit.bash" || fail "$BUILD/sockit.bash differs from 'sockit --completion bash'"
cmake --install "$BUILD" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1 || fail "cmake --install: $(tail -5 "$TMP/install.log")"
cmp -s "$SCRIPT" "$TMP/prefix/share/bash-completion/completions/sockit" ||
    fail "not installed as share/bash-completion/completions/sockit"
pass "built with the CLI and installed as share/bash-completion/completions/sockit"

# complete_line LINE: what bash offers for LINE (the cursor at its end), one
# word a line, sorted; run the way readline does: COMP_WORDS split at
# spaces and '=', then the function 'complete -p sockit' names.
complete_line() {
    bash --norc --noprofile -c '
        . "$1"
        spec=$(complete -p sockit) || exit 3
        [[ $spec == "complete -F _sockit sockit" ]] || { echo "spec: $spec" >&2; exit 4; }
        line=$2
        read -ra COMP_WORDS <<<"${line//=/ = }"
        [[ $line == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE=$line COMP_POINT=${#line}
        _sockit sockit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$SCRIPT" "$1"
}

# expect_completion LINE WANT...: exactly these words (any order).
expect_completion() {
    local line=$1 got want
    shift
    got=$(complete_line "$line") || fail "completing '$line' failed"
    want=$(printf '%s\n' "$@" | sort)
    [[ $got == "$want" ]] || fail "completing '$line': got '$(tr '\n' ' ' <<<"$got")', wanted '$*'"
}

expect_completion "sockit se" serve
expect_completion "sockit serve --mo" --model
expect_completion "sockit serve --model " loop fork prefork thread hybrid
expect_completion "sockit serve --model h" hybrid
expect_completion "sockit serve -m " loop fork prefork thread hybrid
expect_completion "sockit serve --model=p" prefork
pass "sockit se -> serve, --mo -> --model, --model offers the five models (also -m, --model=)"

# The services are whatever the build registers: the same list --help shows.
mapfile -t services < <("$SOCKIT" serve --help | sed -n '/--service NAME/,/--listen/p' | sed -n 's/^ \{20,\}\([a-z]*\) .*/\1/p')
((${#services[@]} >= 5)) || fail "serve --help lists ${#services[@]} services"
expect_completion "sockit serve --service " "${services[@]}"
expect_completion "sockit serve --service ec" echo
expect_completion "sockit serve --proto " tcp udp
pass "--service offers ${services[*]}; --proto tcp|udp"

# Every long option serve --help lists, the services' own included.
mapfile -t longs < <("$SOCKIT" serve --help | sed -nE 's/^  (-., |    )(--[a-z][a-z0-9-]*).*/\2/p')
expect_completion "sockit serve --" "${longs[@]}"
expect_completion "sockit serve --body" --body-size
# A value that cannot be listed gets no option names.
expect_completion "sockit serve --listen "
expect_completion "sockit serve --workers "
# Subcommands, variants and the top level.
expect_completion "sockit " serve connect ping trace-route bench resolve discover conns lifecycle --help --version
expect_completion "sockit resolve --type " A AAAA SRV TXT PTR any
expect_completion "sockit resolve --tr" --trace
expect_completion "sockit connect --b"
expect_completion "sockit connect --udp --b" --broadcast
expect_completion "sockit bench --du" --duration
pass "all ${#longs[@]} serve options, free values, connect --udp's own options, the subcommands"
