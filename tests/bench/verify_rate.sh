#!/usr/bin/env bash
# Re-check rate of `kofu verify` on a real history (issue 5: 1,000,000 answered requests per second
# per core from a history already in memory). Not a test.
#
#   tests/bench/verify_rate.sh BUILD_DIR [SECONDS=20] [ROUNDS=3]
#
# Records one run of scenarios/campaign.json against the embedded kofu-mock for SECONDS
# (`--verify-after-only`: the load alone), puts its folder in memory (/dev/shm when there is one,
# and it is read once before timing so the page cache holds it), then times `kofu verify` on it
# ROUNDS times with one thread (KOFU_VERIFY_THREADS=1) and with the default thread count. Prints
# answered requests per CPU second (user + system: the per-core rate) and per wall second.
# KOFU_COMPARE=/path/to/other/kofu times another binary on the same history in the same rounds
# (side by side, as the machines are shared and noisy). KOFU_FLOOR=1 then runs
# BUILD/tests/bench/verify_floor on the same history: where the time goes (reader, check) against
# the least any verifier must spend (SHA-256 of the certificates and seals, a simdjson parse).
# Traffic goes to 127.0.0.1 only; the run stops by itself; kofu stops the kofu-mock it started.
set -euo pipefail
build=${1:?usage: verify_rate.sh BUILD_DIR [SECONDS] [ROUNDS]}
seconds=${2:-20}
rounds=${3:-3}
kofu="$build/harness/kofu"
root=$(cd "$(dirname "$0")/../.." && pwd)
base=/dev/shm
[[ -d $base && -w $base ]] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/kofu-verify-rate.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$kofu" run "$root/scenarios/campaign.json" --out "$work/run" --duration "$seconds" \
  --verify-after-only >"$work/run.log" 2>&1 || true
[[ -f $work/run/report.json ]] || { cat "$work/run.log" >&2; exit 1; }
answered=$(jq '.outcomes.answered' "$work/run/report.json")
echo "history: $(du -h "$work/run/history.jsonl" | cut -f1), $answered answered requests, in $base"
cat "$work/run/history.jsonl" "$work/run/population.jsonl" >/dev/null

measure() {  # label, binary, threads ("" = default)
  local label=$1 bin=$2 threads=$3 wall user sys rss
  env ${threads:+KOFU_VERIFY_THREADS=$threads} /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$bin" verify "$work/run" >/dev/null 2>"$work/verify.err" ||
    { echo "  $label: kofu verify failed:" >&2; cat "$work/verify.err" >&2; }
  read -r wall user sys rss <"$work/time"
  python3 -c "
a, w, u, s = $answered, $wall, $user, $sys
print(f'  {\"$label\":<28} wall {w:6.2f} s  cpu {u + s:6.2f} s  '
      f'{a / (u + s):>10,.0f} answered/s/core  {a / w:>10,.0f} answered/s  rss {$rss // 1024} MiB')"
}

for ((i = 1; i <= rounds; ++i)); do
  echo "round $i"
  measure "kofu verify, 1 thread" "$kofu" 1
  measure "kofu verify, default threads" "$kofu" ""
  if [[ -n ${KOFU_COMPARE:-} ]]; then
    measure "compare, 1 thread" "$KOFU_COMPARE" 1
    measure "compare, default threads" "$KOFU_COMPARE" ""
  fi
done

if [[ -n ${KOFU_FLOOR:-} ]]; then
  echo "where the time goes (verify_floor, one thread):"
  "$build/tests/bench/verify_floor" "$work/run" "$rounds"
fi
