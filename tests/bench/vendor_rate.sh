#!/usr/bin/env bash
# kofu's closed-model rate against kofu-mock's vendor-ja dialect beside the reference dialect
# (issue 11, "Speed"), or with PDF print data answers beside JSON answers (VARIANT pdf: kofu-mock
# --print-format pdf, read by kofu with poppler; issue 12). Not a test: prints figures, measured
# side by side in one invocation.
#
#   tests/bench/vendor_rate.sh BUILD_DIR [SECONDS] [ROUNDS] [vendor-ja|pdf]
#
# Runs scenarios/campaign.json (32 closed-model users, updates, batches, maintenance) for SECONDS
# against the embedded kofu-mock, alternating reference and vendor-ja (through
# scenarios/profiles/vendor-ja.json) ROUNDS times, with --verify-after-only (the load alone) and
# then once each with the online verifier. For every run: requests/s, and the CPU time each
# process spent per answered request (utime + stime from /proc, sampled until it exits), so that
# kofu's own cost per answer is separated from the server's even on a busy machine.
# Loopback only; every process is kofu's own child and ends with it.
set -euo pipefail
BUILD=${1:?usage: vendor_rate.sh BUILD_DIR [SECONDS] [ROUNDS]}
SECS=${2:-10}
ROUNDS=${3:-2}
VARIANT=${4:-vendor-ja}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KOFU=$(cd "$BUILD" && pwd)/harness/kofu
export KOFU_MOCK=$(cd "$BUILD" && pwd)/mock_server/kofu-mock
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TICKS=$(getconf CLK_TCK)
if [[ $VARIANT == pdf ]]; then
  jq '.target.print = {"format": "pdf"}' "$ROOT/scenarios/campaign.json" >"$WORK/pdf.json"
else
  jq --arg p "$ROOT/scenarios/profiles/vendor-ja.json" \
    '.target.profile = $p | .target.mock_args += ["--dialect", "vendor-ja"]' \
    "$ROOT/scenarios/campaign.json" >"$WORK/vendor-ja.json"
fi
cp "$ROOT/scenarios/campaign.json" "$WORK/reference.json"

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
  one reference load-only --verify-after-only | tee -a "$WORK/all"
  one "$VARIANT" load-only --verify-after-only | tee -a "$WORK/all"
done
one reference online-verify | tee -a "$WORK/all"
one "$VARIANT" online-verify | tee -a "$WORK/all"
python3 - "$WORK/all" "$VARIANT" <<'PY'
import re, sys, collections
variant = sys.argv[2]
rate = collections.defaultdict(list)
kofu = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    rate[(f[0], f[1])].append(float(f[2]))
    kofu[(f[0], f[1])].append(float(f[7]))
for mode in ("load-only", "online-verify"):
    r, v = rate[("reference", mode)], rate[(variant, mode)]
    kr, kv = kofu[("reference", mode)], kofu[(variant, mode)]
    if r and v:
        print(f"{mode}: {variant} / reference rate = {sum(v)/len(v) / (sum(r)/len(r)):.2f}; "
              f"kofu CPU per answer {sum(kv)/len(kv):.1f} vs {sum(kr)/len(kr):.1f} µs")
PY
