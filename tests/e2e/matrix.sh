#!/usr/bin/env bash
# The detection matrix of issue 14 item 2: every catalogue scenario (scenarios/catalogue/) against
# the real kofu-mock with no defect and with each defect of mock_server/DEFECTS.md, judged by
# kofu's own report.json.
#
#   tests/e2e/matrix.sh BUILD_DIR [RUNS] [SECONDS] [MODE]
#
# RUNS (default 3) runs per (scenario, defect), each cut to SECONDS (default 8) with --duration.
# MODE `full` (default): every scenario × (none + every defect). MODE `fast`: each defect once
# against its own scenario, baseline and multi-server once against the correct server (CTest
# e2e_matrix_fast).
# Writes matrix.md, matrix.tsv and matrix.json into $MATRIX_OUT (default BUILD_DIR/matrix): per
# (scenario, defect) the finding kinds raised, the share of runs that detected the defect (a
# finding of the class the defect causes, the classes of campaign.sh) and the median number of
# requests until the first finding: the issue requests sent (history `invoke`) up to the send time
# of the earliest-sent request that has a finding (report.json `findings[].evidence.request`).
#
# spool-collision, and the multi-server scenario, run against two kofu-mock processes sharing one
# spool folder, round-robin (--target twice) with the population handed over as a file: the
# embedded target is one process. Every other run uses the scenario as is (embedded kofu-mock).
#
# Exit 0 when the scenario named after each defect detected it in every run and no run against the
# correct server raised a finding; 1 otherwise. Loopback only; every run is bounded (--duration and
# timeout); every process started here is stopped by its PID.
set -uo pipefail
BUILD=${1:?usage: matrix.sh BUILD_DIR [RUNS] [SECONDS] [full|fast]}
RUNS=${2:-3}
DURATION=${3:-8}
MODE=${4:-full}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
KOFU=$BUILD/harness/kofu
MOCK=$BUILD/mock_server/kofu-mock
CATALOGUE=$ROOT/scenarios/catalogue
OUT=${MATRIX_OUT:-$BUILD/matrix}
command -v jq >/dev/null || { echo "matrix: jq not installed (scripts/setup.sh installs it)"; exit 2; }
[[ -x $KOFU && -x $MOCK ]] || { echo "matrix: build $BUILD first (kofu, kofu-mock)"; exit 2; }
[[ $MODE == full || $MODE == fast ]] || { echo "matrix: MODE is full or fast"; exit 2; }
mkdir -p "$OUT"
# stop_mocks, open_work, start_pair and requests_until_first.
# shellcheck source-path=SCRIPTDIR
source "$HERE/run_helpers.sh"
open_work

DEFECTS=(timeout-partial-release reflection-race linkage-overwrite channel-slot
  stale-index-after-update init-omission spool-collision cancelled-seal no-version-check
  page-interleave font-fallback)
SCENARIOS=(baseline incident-1-load-concentration incident-2-reflection-during-print
  incident-3-koseki-linkage incident-4-cross-channel incident-5-update-during-maintenance
  init-omission multi-server cancelled-seal moving-season-peak soak print-data)
# The scenario named after each defect (no-version-check has no incident of its own: the
# moving-season peak, many moves while requests are in flight, is its scenario).
declare -A OWN=(
  [timeout-partial-release]=incident-1-load-concentration
  [reflection-race]=incident-2-reflection-during-print
  [linkage-overwrite]=incident-3-koseki-linkage
  [channel-slot]=incident-4-cross-channel
  [stale-index-after-update]=incident-5-update-during-maintenance
  [init-omission]=init-omission
  [spool-collision]=multi-server
  [cancelled-seal]=cancelled-seal
  [no-version-check]=moving-season-peak
  [page-interleave]=print-data
  [font-fallback]=print-data
)
# Finding classes each defect causes: EXPECT[defect].
# shellcheck source-path=SCRIPTDIR
source "$HERE/defect_classes.sh"
# print_defect_problem: the print-path defects must also name the page and victim, or the fold.
# shellcheck source-path=SCRIPTDIR
source "$HERE/print_checks.sh"

# one SCENARIO DEFECT RUN: one kofu run; appends a line to $WORK/runs.tsv:
# scenario defect run exit verdict requests kinds detected until_first
one() {
  local sc=$1 defect=$2 n=$3 tag="$1.$2.$3" file=$CATALOGUE/$1.json args=()
  if [[ $defect == spool-collision || $sc == multi-server ]]; then
    if ! start_pair "$file" "$defect" "$tag"; then
      echo "matrix: $tag: population failed"
      printf '%s\t%s\t%s\t2\tnone\t0\t\t0\t\n' "$sc" "$defect" "$n" >>"$WORK/runs.tsv"
      return 0
    fi
    file=$WORK/$tag.json
    args=("${TARGETS[@]}")
  elif [[ $defect != none ]]; then
    args=(--defect "$defect")
  fi
  local out=$WORK/$tag
  timeout $((DURATION * 4 + 120)) "$KOFU" run "$file" --quiet --out "$out" --duration "$DURATION" \
    "${args[@]}" >"$WORK/$tag.log" 2>&1
  local code=$?
  stop_mocks
  local r=$out/report.json
  if [[ ! -f $r ]]; then
    echo "matrix: $tag: no report (exit $code)"
    tail -5 "$WORK/$tag.log"
    printf '%s\t%s\t%s\t%s\tnone\t0\t\t0\t\n' "$sc" "$defect" "$n" "$code" >>"$WORK/runs.tsv"
    return 0
  fi
  local kinds detected=0 k history until
  kinds=$(jq -r '[.findings_by_kind | to_entries[] | select(.value > 0) | .key] | join(",")' "$r")
  if [[ $defect == none ]]; then
    [[ -z $kinds ]] && detected=1  # "detected" here: clean, as it must be
  else
    for k in ${EXPECT[$defect]}; do
      [[ $(jq --arg k "$k" '.findings_by_kind[$k] // 0' "$r") -gt 0 ]] && detected=1
    done
    # Only print data shows the print-path defects: judged where the scenario prints PDF.
    if ((detected)) && [[ $(jq -r '.target.print.format // "json"' "$file") == pdf ]]; then
      local problem
      problem=$(print_defect_problem "$defect" "$r")
      [[ -z $problem ]] || { detected=0; echo "matrix: $tag: $problem"; }
    fi
  fi
  history=$out/history.jsonl
  [[ -f $history ]] || history=$out/history.jsonl.zst
  until=$(requests_until_first "$r" "$history")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sc" "$defect" "$n" "$code" \
    "$(jq -r .verdict "$r")" "$(jq '.exposure.requests' "$r")" "$kinds" "$detected" "$until" \
    >>"$WORK/runs.tsv"
  echo "$tag: exit $code, $(jq '.exposure.requests' "$r") requests, findings [${kinds:-none}], first after ${until:--} requests"
  rm -rf "$out"
}

: >"$WORK/runs.tsv"
if [[ $MODE == fast ]]; then
  one baseline none 1
  one multi-server none 1  # two correct instances on one spool folder stay clean
  for d in "${DEFECTS[@]}"; do one "${OWN[$d]}" "$d" 1; done
else
  for sc in "${SCENARIOS[@]}"; do
    for d in none "${DEFECTS[@]}"; do
      for n in $(seq "$RUNS"); do one "$sc" "$d" "$n"; done
    done
  done
fi

# Aggregate per (scenario, defect): kinds (union), detected share, median requests until first.
own_json=$(for d in "${DEFECTS[@]}"; do printf '%s\t%s\n' "$d" "${OWN[$d]}"; done |
  jq -R -s 'split("\n") | map(select(length > 0) | split("\t") | {(.[0]): .[1]}) | add')
jq -R -s --argjson own "$own_json" '
  split("\n") | map(select(length > 0) | split("\t")
    | {scenario: .[0], defect: .[1], run: (.[2] | tonumber), exit: (.[3] | tonumber), verdict: .[4],
       requests: (.[5] | tonumber? // 0), kinds: (if .[6] == "" then [] else (.[6] | split(",")) end),
       detected: (.[7] == "1"), until_first: (if (.[8] // "") == "" then null else (.[8] | tonumber) end)})
  | group_by([.scenario, .defect]) | map(
      (map(.until_first | select(. != null)) | sort) as $u
      | {scenario: .[0].scenario, defect: .[0].defect, runs: length,
         kinds: ([.[].kinds[]] | unique),
         detected_share: ((map(select(.detected)) | length) / length),
         median_requests_until_first: (if ($u | length) == 0 then null
           elif ($u | length) % 2 == 1 then $u[($u | length - 1) / 2]
           else (($u[($u | length) / 2 - 1] + $u[($u | length) / 2]) / 2) end),
         median_requests: ([.[].requests] | sort | .[(length - 1) / 2 | floor]),
         own: ($own[.[0].defect] == .[0].scenario)})' \
  "$WORK/runs.tsv" >"$OUT/matrix.json" 2>"$WORK/jq.err" || {
  echo "matrix: aggregation failed"; cat "$WORK/jq.err"; exit 2; }
cp "$WORK/runs.tsv" "$OUT/runs.tsv"

{
  printf 'scenario\tdefect\truns\tkinds\tdetected_share\tmedian_requests_until_first\tmedian_requests\town\n'
  jq -r '.[] | [.scenario, .defect, .runs, (.kinds | join(",")), .detected_share,
    (.median_requests_until_first // ""), .median_requests, .own] | @tsv' "$OUT/matrix.json"
} >"$OUT/matrix.tsv"

{
  echo "Detection matrix: \`tests/e2e/matrix.sh BUILD $RUNS $DURATION $MODE\` ($(date -u +%Y-%m-%dT%H:%MZ))."
  echo "Cell: finding kinds raised; detected share (defect columns: runs with a finding of the class"
  echo "the defect causes; \`none\`: runs with no finding at all); median requests until the first"
  echo "finding. **Bold**: the scenario named after the defect."
  echo
  printf '| scenario |'
  cols=(none "${DEFECTS[@]}")
  for d in "${cols[@]}"; do printf ' %s |' "$d"; done
  echo
  printf '|---|'
  for _ in "${cols[@]}"; do printf -- '---|'; done
  echo
  for sc in "${SCENARIOS[@]}"; do
    row=$(jq -r --arg sc "$sc" 'map(select(.scenario == $sc)) | length' "$OUT/matrix.json")
    ((row > 0)) || continue
    printf '| %s |' "$sc"
    for d in "${cols[@]}"; do
      cell=$(jq -r --arg sc "$sc" --arg d "$d" '
        map(select(.scenario == $sc and .defect == $d)) | .[0] // empty
        | "\(if (.kinds | length) == 0 then "–" else (.kinds | join(" ")) end); \(.detected_share * 100 | floor) %\(if .median_requests_until_first == null then "" else "; \(.median_requests_until_first)" end)"' "$OUT/matrix.json")
      if [[ -z $cell ]]; then
        printf ' |'
      elif [[ $d != none && ${OWN[$d]} == "$sc" ]]; then
        printf ' **%s** |' "$cell"
      else
        printf ' %s |' "$cell"
      fi
    done
    echo
  done
} >"$OUT/matrix.md"
cat "$OUT/matrix.md"

# Judge: own scenarios detect in every run; no finding against the correct server.
bad=$(jq -r '.[] | select((.own and .detected_share < 1) or (.defect == "none" and .detected_share < 1))
  | "\(.scenario) × \(.defect): detected share \(.detected_share), kinds \(.kinds | join(","))"' \
  "$OUT/matrix.json")
if [[ -n $bad ]]; then
  echo "FAIL matrix:"
  echo "$bad"
  exit 1
fi
echo "matrix: every defect detected by its scenario in every run; no finding against the correct server ($OUT)"
