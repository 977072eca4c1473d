# Rows of the fault table (docs/reliability.md), for the fault scenarios
# (tests/fault/f_*.sh) and the integration tests that already cover a row.
# Source after tests/integration/lib.sh:
#
#   fault_begin ATTACK MODEL PID   the attack starts on the server PID: its
#                                  RSS now, then sampled every 0.2 s
#   fault_end SERVED LOST [NOTE]   it held: the row, with RSS peak and after
#                                  (after: "exited" once PID is gone)
#
# A check that fails between the two (fail) writes the row with held=no
# before the test fails, so the table shows what did not hold. Rows go to
# $SOCKIT_BUILD/fault/rows/ID.tsv (ID: the script and its arguments), one
# file per ctest entry, rewritten by each run; tests/fault/table.py turns
# them into the table. Columns: attack, model, held, served, RSS before,
# peak, after (KiB), bytes lost, build, note.
FAULT_ID=$TEST_NAME${1:+-$1}
FAULT_ROWS=${SOCKIT_BUILD:+$SOCKIT_BUILD/fault/rows}
FAULT_ROWS=${FAULT_ROWS:-$TMP/rows}
mkdir -p "$FAULT_ROWS"
FAULT_FILE=$FAULT_ROWS/$FAULT_ID.tsv
: >"$FAULT_FILE"
FAULT_BUILD=release
is_sanitized && FAULT_BUILD=$SOCKIT_SANITIZE
FAULT_ATTACK="" FAULT_MODEL="" FAULT_PID="" FAULT_BEFORE="" FAULT_SAMPLER=""

# rss_kib PID: VmRSS of PID and of its children (prefork workers, fork's
# connection processes) summed, in KiB; threads share their process's.
rss_kib() {
    ps -o rss= -p "$1" --ppid "$1" 2>/dev/null | awk '{s += $1} END {print s + 0}'
}

fault_begin() {
    FAULT_ATTACK=$1 FAULT_MODEL=$2 FAULT_PID=$3
    FAULT_BEFORE=$(rss_kib "$3")
    : >"$TMP/rss.samples"
    (
        while kill -0 "$FAULT_PID" 2>/dev/null; do
            rss_kib "$FAULT_PID" >>"$TMP/rss.samples"
            sleep 0.2
        done
    ) &
    FAULT_SAMPLER=$!
    PIDS+=("$FAULT_SAMPLER")
}

# The peak: the largest sample, or the server's own high-water mark if a
# burst fell between two samples.
fault_measure() {
    local hwm after=exited
    if kill -0 "$FAULT_PID" 2>/dev/null; then
        after=$(rss_kib "$FAULT_PID")
        echo "$after" >>"$TMP/rss.samples"
    fi
    if [[ -n $FAULT_SAMPLER ]]; then
        kill "$FAULT_SAMPLER" 2>/dev/null || true
        wait "$FAULT_SAMPLER" 2>/dev/null || true
        FAULT_SAMPLER=""
    fi
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$FAULT_PID/status" 2>/dev/null || echo 0)
    FAULT_PEAK=$(awk -v h="${hwm:-0}" -v b="$FAULT_BEFORE" \
        'BEGIN {m = h > b ? h : b} $1 > m {m = $1} END {print m}' "$TMP/rss.samples")
    FAULT_AFTER=$after
}

fault_write() { # HELD SERVED LOST NOTE
    local note=${4//$'\t'/ }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$FAULT_ATTACK" "$FAULT_MODEL" "$1" "$2" \
        "$FAULT_BEFORE" "$FAULT_PEAK" "$FAULT_AFTER" "$3" "$FAULT_BUILD" "${note//$'\n'/ }" >>"$FAULT_FILE"
    FAULT_ATTACK=""
}

fault_end() {
    fault_measure
    fault_write yes "$1" "$2" "${3:-}"
}

# A failed check while an attack runs records it as not held.
eval "fault_fail_orig() $(declare -f fail | tail -n +2)"
fail() {
    if [[ -n $FAULT_ATTACK ]]; then
        fault_measure
        fault_write no "${FAULT_SERVED:--}" "${FAULT_LOST:--}" "$*"
    fi
    fault_fail_orig "$@"
}
