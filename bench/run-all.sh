#!/usr/bin/env bash
# Every benchmark in bench/, one after the other, then a summary table of
# the medians and ratios (paste into docs/performance.md).
# Env: RUNS (5), DUR (5 s), SOCKIT (build/sockit); each script documents more.
# bench/c100k.sh (100,000 held connections, minutes per run) runs on its own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export BENCH_RESULTS
BENCH_RESULTS=$(mktemp /tmp/sockit-bench-results.XXXXXX)
trap 'rm -f "$BENCH_RESULTS"' EXIT
echo "sockit benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for s in bench-vs-wrk http-vs-nginx http-pinned http-cpu-pairs bulk-vs-iperf3 mem-idle-conns callgrind-per-request code-lines-per-request \
    churn udp-vs-floor \
    callgrind-udp bulk-udp-vs-iperf3 latency-under-load; do
    echo
    echo "=== $s"
    bash "$here/$s.sh" || { echo "=== $s FAILED"; status=1; }
done
echo
echo "| comparison | sockit side | median | reference | median | ratio |"
echo "|---|---|---:|---|---:|---:|"
awk -F'|' '$1 == "RESULT" { printf "| %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7 }' "$BENCH_RESULTS"
exit "$status"
