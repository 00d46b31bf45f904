#!/usr/bin/env bash
# Memory of `kofu run` over a long run (issue 4: "memory stays flat over a 10-minute run").
# Not a test: prints kofu's resident set size every 15 s while it drives the embedded kofu-mock.
#
#   tests/bench/driver_memory.sh BUILD_DIR [SECONDS=600] [RATE=2000] [KOFU_RUN_FLAGS…]
#
# e.g. `--verify-after-only` to measure the driver without the online verifier (which keeps
# the answered serials for DUPLICATE, as runs of counters, and one record per update).
#
# UPDATES=N sets the update stream's rate (default 20/s; 0: no updates, so that what still grows
# grows with requests).
#
# Open model at RATE requests/s with updates, history on; traffic to 127.0.0.1 only; the run
# stops by itself after SECONDS, and kofu stops the kofu-mock it started.
set -euo pipefail
build=${1:?usage: driver_memory.sh BUILD_DIR [SECONDS] [RATE]}
seconds=${2:-600}
rate=${3:-2000}
updates=${UPDATES:-20}
shift $(( $# < 3 ? $# : 3 ))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/memory.json" <<JSON
{
  "name": "memory",
  "seed": 1,
  "target": {"kind": "embedded"},
  "population": {"residents": 20000, "seed": 1},
  "load": {"connections": 32, "timeout_ms": 3000},
  "phases": [{"name": "steady", "duration_s": $seconds, "rate": $rate}],
  "concentration": {"hot_residents": 100, "hot_share": 0.3},
  "updates": {"rate": $updates, "concurrency": 4},
  "thresholds": {"max_findings": 0}
}
JSON
"$build/harness/kofu" run "$work/memory.json" --out "$work/run" "$@" > "$work/run.log" 2>&1 &
pid=$!
echo "kofu run pid $pid: ${seconds} s at ${rate}/s $*"
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || true)
  [[ -n $rss ]] && echo "t=$(( $(date +%s) - start ))s rss_kib=$rss"
  sleep 15
done
wait "$pid" && code=0 || code=$?
tail -8 "$work/run.log"
echo "kofu run exit $code"
