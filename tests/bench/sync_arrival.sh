#!/usr/bin/env bash
# Last-byte synchronisation, measured (issue 14 item 3): for each timing-sensitive defect, its own
# catalogue scenario run with group synchronisation on and off, side by side, several times each.
#
#   tests/bench/sync_arrival.sh BUILD_DIR [RUNS] [SECONDS]
#
# Per (defect, sync): the arrival spread of request groups as kofu-mock measured it (first to last
# complete arrival of a group's requests, X-Kofu-Group; p50 and p99 of each run, median over the
# runs, in µs), the share of runs that detected the defect (a finding of the class it causes,
# tests/e2e/defect_classes.sh), and the median number of issue requests until the first finding
# (as tests/e2e/matrix.sh counts it). spool-collision runs against two kofu-mock behind
# round-robin targets: a group's members then reach different servers, so no server sees a whole
# group and the spread is not measured there (n/a).
# Writes sync_arrival.md and sync_arrival.tsv into $SYNC_OUT (default BUILD_DIR/sync_arrival);
# SYNC_DEFECTS="channel-slot linkage-overwrite" limits the defects.
# Loopback only; every run is bounded (--duration and timeout); every process started here is
# stopped by its PID.
set -uo pipefail
BUILD=${1:?usage: sync_arrival.sh BUILD_DIR [RUNS] [SECONDS]}
RUNS=${2:-3}
DURATION=${3:-8}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
KOFU=$BUILD/harness/kofu
MOCK=$BUILD/mock_server/kofu-mock
CATALOGUE=$ROOT/scenarios/catalogue
OUT=${SYNC_OUT:-$BUILD/sync_arrival}
command -v jq >/dev/null || { echo "sync_arrival: jq not installed"; exit 2; }
[[ -x $KOFU && -x $MOCK ]] || { echo "sync_arrival: build $BUILD first (kofu, kofu-mock)"; exit 2; }
mkdir -p "$OUT"
# shellcheck source-path=SCRIPTDIR
source "$ROOT/tests/e2e/run_helpers.sh"
open_work
# shellcheck source-path=SCRIPTDIR
source "$ROOT/tests/e2e/defect_classes.sh"

DEFECTS=(channel-slot linkage-overwrite spool-collision timeout-partial-release reflection-race)
# SYNC_DEFECTS="a b": only these (a quick look).
if [[ -n ${SYNC_DEFECTS:-} ]]; then read -r -a DEFECTS <<<"$SYNC_DEFECTS"; fi
declare -A OWN=(
  [channel-slot]=incident-4-cross-channel
  [linkage-overwrite]=incident-3-koseki-linkage
  [spool-collision]=multi-server
  [timeout-partial-release]=incident-1-load-concentration
  [reflection-race]=incident-2-reflection-during-print
)
for d in "${DEFECTS[@]}"; do
  [[ -n ${OWN[$d]:-} ]] || { echo "sync_arrival: $d is not one of: ${!OWN[*]}"; exit 2; }
done

# quantile METRICS_FILE Q: the group arrival spread quantile in µs, empty when not measured.
quantile() {
  [[ -f $1 ]] || return 0
  awk -v q="$2" '$1 == "kofu_mock_group_arrival_spread_seconds{quantile=\"" q "\"}" { printf "%d", $2 * 1e6 }' "$1"
}

# one DEFECT SYNC RUN: one kofu run; appends "defect sync run p50 p99 detected until_first".
one() {
  local defect=$1 sync=$2 n=$3 tag="$1.$2.$3" file args=()
  jq --argjson s "$sync" '.concentration.last_byte_sync = {"household": $s, "koseki": $s}' \
    "$CATALOGUE/${OWN[$defect]}.json" >"$WORK/$tag.src.json"
  file=$WORK/$tag.src.json
  if [[ $defect == spool-collision ]]; then
    start_pair "$file" "$defect" "$tag" || { echo "$tag: population failed"; return 0; }
    file=$WORK/$tag.json
    args=("${TARGETS[@]}")
  else
    args=(--defect "$defect")
  fi
  local out=$WORK/$tag
  timeout $((DURATION * 4 + 120)) "$KOFU" run "$file" --quiet --out "$out" --duration "$DURATION" \
    "${args[@]}" >"$WORK/$tag.log" 2>&1
  stop_mocks
  local r=$out/report.json
  if [[ ! -f $r ]]; then
    echo "$tag: no report"; tail -5 "$WORK/$tag.log"; return 0
  fi
  local detected=0 k history until p50 p99
  for k in ${EXPECT[$defect]}; do
    [[ $(jq --arg k "$k" '.findings_by_kind[$k] // 0' "$r") -gt 0 ]] && detected=1
  done
  history=$out/history.jsonl
  [[ -f $history ]] || history=$out/history.jsonl.zst
  until=$(requests_until_first "$r" "$history")
  p50=$(quantile "$out/kofu-mock-metrics.txt" 0.5)
  p99=$(quantile "$out/kofu-mock-metrics.txt" 0.99)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$defect" "$sync" "$n" "$p50" "$p99" "$detected" "$until" \
    >>"$WORK/runs.tsv"
  echo "$tag: spread p50 ${p50:-n/a} µs p99 ${p99:-n/a} µs, detected $detected, first after ${until:--} requests"
  rm -rf "$out"
}

: >"$WORK/runs.tsv"
# Interleaved (on, off, on, off, …) so that a change in machine load hits both alike.
for d in "${DEFECTS[@]}"; do
  for n in $(seq "$RUNS"); do
    one "$d" true "$n"
    one "$d" false "$n"
  done
done
cp "$WORK/runs.tsv" "$OUT/sync_arrival.tsv"

jq -R -s '
  def median: sort | if length == 0 then null elif length % 2 == 1 then .[(length - 1) / 2]
    else ((.[length / 2 - 1] + .[length / 2]) / 2) end;
  split("\n") | map(select(length > 0) | split("\t")
    | {defect: .[0], sync: (.[1] == "true"), p50: ((.[3] | tonumber?) // null),
       p99: ((.[4] | tonumber?) // null), detected: (.[5] == "1"),
       until_first: ((.[6] | tonumber?) // null)})
  | group_by([.defect, (.sync | not)]) | map({defect: .[0].defect, sync: .[0].sync, runs: length,
      spread_p50_us: (map(.p50 | values) | median), spread_p99_us: (map(.p99 | values) | median),
      detected_share: ((map(select(.detected)) | length) / length),
      median_requests_until_first: (map(.until_first | values) | median)})' \
  "$WORK/runs.tsv" >"$OUT/sync_arrival.json" || { echo "sync_arrival: aggregation failed"; exit 2; }

{
  echo "Last-byte synchronisation: \`tests/bench/sync_arrival.sh BUILD $RUNS $DURATION\` ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)."
  echo "Group arrival spread at kofu-mock (µs, median over runs of each run's p50 / p99); runs that"
  echo "detected the defect; median issue requests until the first finding."
  echo
  echo '| defect | scenario | sync | spread p50 µs | spread p99 µs | detected | requests until first |'
  echo '|---|---|---|---|---|---|---|'
  jq -r --argjson own "$(for d in "${DEFECTS[@]}"; do printf '{"%s":"%s"}' "$d" "${OWN[$d]}"; done | jq -s add)" '
    .[] | "| \(.defect) | \($own[.defect]) | \(if .sync then "on" else "off" end) | \(.spread_p50_us // "n/a") | \(.spread_p99_us // "n/a") | \(.detected_share * 100 | floor) % of \(.runs) | \(.median_requests_until_first // "–") |"' \
    "$OUT/sync_arrival.json"
} >"$OUT/sync_arrival.md"
cat "$OUT/sync_arrival.md"
