#!/usr/bin/env bash
# kofu's closed-model rate with PDF print data answers beside JSON answers (issue 12, "Proof and
# speed"). Not a test: prints figures, measured side by side in one invocation.
#
#   tests/bench/pdf_rate.sh BUILD_DIR [SECONDS] [ROUNDS]
#
# Runs scenarios/campaign.json (32 closed-model users, updates, batches, maintenance) for SECONDS
# against the embedded kofu-mock, alternating JSON answers and PDF answers (`--print-format pdf`:
# kofu-mock renders a PDF, kofu reads it with poppler) ROUNDS times, with --verify-after-only (the
# load alone) and then once each with the online verifier. For every run: requests/s, and the CPU time each
# process spent per answered request (utime + stime from /proc, sampled until it exits), so that
# kofu's own cost per answer is separated from the server's even on a busy machine.
# Loopback only; every process is kofu's own child and ends with it.
set -euo pipefail
BUILD=${1:?usage: pdf_rate.sh BUILD_DIR [SECONDS] [ROUNDS]}
SECS=${2:-10}
ROUNDS=${3:-2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KOFU=$(cd "$BUILD" && pwd)/harness/kofu
export KOFU_MOCK=$(cd "$BUILD" && pwd)/mock_server/kofu-mock
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TICKS=$(getconf CLK_TCK)
jq '.target.print = {"format": "pdf"}' "$ROOT/scenarios/campaign.json" >"$WORK/pdf.json"
cp "$ROOT/scenarios/campaign.json" "$WORK/json.json"

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# one DIALECT EXTRA_ARGS…: prints "dialect mode rate kofu_us mock_us"
one() {
  local dialect=$1 mode=$2
  shift 2
  rm -rf "$WORK/out"
  "$KOFU" run "$WORK/$dialect.json" --quiet --out "$WORK/out" --duration "$SECS" "$@" \
    >"$WORK/run.log" 2>&1 &
  local kofu=$! mock="" kofu_cpu=0 mock_cpu=0 c
  while kill -0 "$kofu" 2>/dev/null; do
    [[ -z $mock ]] && mock=$(pgrep -P "$kofu" -f kofu-mock | head -1 || true)
    c=$(cpu_of "$kofu"); ((c > kofu_cpu)) && kofu_cpu=$c
    if [[ -n $mock ]]; then c=$(cpu_of "$mock"); ((c > mock_cpu)) && mock_cpu=$c; fi
    sleep 0.2
  done
  wait "$kofu" || true
  local answered requests
  answered=$(jq '.answered' "$WORK/out/report.json")
  requests=$(jq '.exposure.requests' "$WORK/out/report.json")
  python3 - "$dialect" "$mode" "$requests" "$answered" "$SECS" "$kofu_cpu" "$mock_cpu" "$TICKS" <<'PY'
import sys
d, mode, req, ans, secs, kc, mc, ticks = sys.argv[1:]
req, ans, secs, kc, mc, ticks = int(req), int(ans), float(secs), int(kc), int(mc), int(ticks)
us = lambda c: 1e6 * c / ticks / max(ans, 1)
print(f"{d:10} {mode:14} {req / secs:9.0f} req/s  {ans:8} answered  kofu {us(kc):6.1f} µs CPU/answer  kofu-mock {us(mc):6.1f} µs CPU/answer")
PY
}

echo "campaign scenario, $SECS s a run, $(nproc) cores"
for r in $(seq "$ROUNDS"); do
  one json load-only --verify-after-only | tee -a "$WORK/all"
  one pdf load-only --verify-after-only | tee -a "$WORK/all"
done
one json online-verify | tee -a "$WORK/all"
one pdf online-verify | tee -a "$WORK/all"
python3 - "$WORK/all" <<'PY'
import re, sys, collections
rate = collections.defaultdict(list)
kofu = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    rate[(f[0], f[1])].append(float(f[2]))
    kofu[(f[0], f[1])].append(float(f[7]))
for mode in ("load-only", "online-verify"):
    r, v = rate[("json", mode)], rate[("pdf", mode)]
    kr, kv = kofu[("json", mode)], kofu[("pdf", mode)]
    if r and v:
        print(f"{mode}: pdf / json rate = {sum(v)/len(v) / (sum(r)/len(r)):.2f}; "
              f"kofu CPU per answer {sum(kv)/len(kv):.1f} vs {sum(kr)/len(kr):.1f} µs")
PY
