# Shared by the fault scenarios: tests/fault/f_NAME.sh MODEL is one ctest
# entry (fault/NAME/MODEL), one attack on one model, bounded in time, that
# records its row of the fault table (rows.sh) and fails when it did not
# hold. Source it first:
#   . "$(dirname "$0")/lib.sh"
FAULT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$FAULT_DIR/../integration/lib.sh"
. "$FAULT_DIR/rows.sh"
FAULT_PY=("$PYTHON" "$FAULT_DIR/fault.py")
ABUSE=("$PYTHON" "$FAULT_DIR/../integration/helpers/abuse.py")

# MODEL: loop, thread, fork, prefork or hybrid (2 workers), or prefork-N,
# hybrid-N for N workers; MODEL_ARGS: its options, ROW_MODEL: its name in
# the table.
MODEL=${1:-} ROW_MODEL=${1:-}
case $MODEL in
loop | thread | fork) MODEL_ARGS=(--model "$MODEL") ;;
prefork | hybrid) MODEL_ARGS=(--model "$MODEL" --workers 2) ;;
prefork-[0-9]* | hybrid-[0-9]*)
    MODEL_ARGS=(--model "${MODEL%-*}" --workers "${MODEL##*-}")
    ROW_MODEL="${MODEL%-*} (${MODEL##*-} workers)"
    ;;
*) fail "usage: $0 loop|thread|fork|prefork|hybrid[-WORKERS]" ;;
esac

# Thousands of connections: the test's clients and its server need the fds.
[[ $(ulimit -n) == unlimited ]] || (($(ulimit -n) >= 8192)) || ulimit -n 8192 2>/dev/null || true

# established PORT [NETNS]: the server's established connections on PORT.
established() {
    local cmd=(ss -Htn state established "( sport = :$1 )")
    [[ -n ${2:-} ]] && cmd=(ip netns exec "$2" "${cmd[@]}")
    "${cmd[@]}" | wc -l
}

# field NAME TEXT: the value of NAME=VALUE in TEXT.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2" | head -n1; }
