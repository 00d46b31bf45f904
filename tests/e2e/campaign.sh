#!/usr/bin/env bash
# The end-to-end campaign of issue 5 item 8: kofu against the real kofu-mock, judged by kofu's own
# verifier (report.json), with no knowledge of what the server did.
#
#   tests/e2e/campaign.sh BUILD_DIR [CLEAN_RUNS] [CLEAN_SECONDS] [DEFECT_SECONDS] [MIN_REQUESTS] [DIALECT]
#
# DIALECT (default `reference`) is the protocol kofu-mock speaks: with `vendor-ja`
# (docs/vendor-ja.md) every run drives it through scenarios/profiles/vendor-ja.json, so the same
# campaign proves that kofu finds the same defects in a server that does not speak its protocol.
#
# 1. CLEAN_RUNS (default 5) runs of scenarios/campaign.json (32 users, hot set, households and
#    戸籍 across channels, updates, reflection batches, maintenance windows) against the correct
#    server, CLEAN_SECONDS each (default 40): each must pass with zero findings and at least
#    MIN_REQUESTS (default 200000) requests.
# 2. One run per defect of mock_server/DEFECTS.md, DEFECT_SECONDS each (default 15): each must fail
#    with a finding of the class that defect causes, and where the class names a victim
#    (WRONG_PERSON, FOREIGN_DATA), the leak graph must name real residents of the population.
#    spool-collision runs against two kofu-mock processes sharing one spool folder, round-robin.
#    The print-path defects (page-interleave, font-fallback) run against PDF print data
#    (scenarios/catalogue/print-data.json: kofu-mock --print-format pdf), PRINT_SECONDS each
#    (the smaller of DEFECT_SECONDS and 3: reading PDFs and drawing evidence pages cost more per
#    answer than JSON, and both defects strike within the first second), and must also show what
#    tests/e2e/print_checks.sh asks: the page and the victim named, a fold named and attributed to
#    nobody.
# Exit 0 when every run behaved; 1 otherwise. Prints one line per run. Loopback only; every process
# started here is stopped by its PID; every run is bounded by its duration.
set -uo pipefail
BUILD=${1:?usage: campaign.sh BUILD_DIR [CLEAN_RUNS] [CLEAN_SECONDS] [DEFECT_SECONDS] [MIN_REQUESTS]}
CLEAN_RUNS=${2:-5}
CLEAN_SECONDS=${3:-40}
DEFECT_SECONDS=${4:-15}
MIN_REQUESTS=${5:-200000}
DIALECT=${6:-reference}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KOFU=$(cd "$BUILD" && pwd)/harness/kofu
MOCK=$(cd "$BUILD" && pwd)/mock_server/kofu-mock
SCENARIO=$ROOT/scenarios/campaign.json
command -v jq >/dev/null || { echo "campaign: jq not installed (scripts/setup.sh installs it)"; exit 2; }
[[ -x $KOFU && -x $MOCK ]] || { echo "campaign: build $BUILD first (kofu, kofu-mock)"; exit 2; }
# Where a defect needs one overlap more than the mixed load gives, its run uses the catalogue
# scenario focused on it: cancelled-seal needs a 印鑑登録証明書 request within the moment a
# cancellation is being reflected (scenarios/catalogue/cancelled-seal.json: mostly inkan on a hot
# set of 8 residents whose seals keep changing).
# The print-path defects bite only PDF print data: scenarios/catalogue/print-data.json (multi-page
# household and 戸籍 certificates printing together, store and office requests of one household
# at once).
declare -A FOCUS=(
  [cancelled-seal]=$ROOT/scenarios/catalogue/cancelled-seal.json
  [page-interleave]=$ROOT/scenarios/catalogue/print-data.json
  [font-fallback]=$ROOT/scenarios/catalogue/print-data.json
)
PRINT_SECONDS=$((DEFECT_SECONDS < 3 ? DEFECT_SECONDS : 3))
WORK=$(mktemp -d)
MOCK_DIALECT=()
if [[ $DIALECT != reference ]]; then
  [[ -f $ROOT/scenarios/profiles/$DIALECT.json ]] || { echo "campaign: no profile for dialect $DIALECT"; exit 2; }
  MOCK_DIALECT=(--dialect "$DIALECT")
  # Against another server only the target and the profile change.
  for f in "$SCENARIO" "${FOCUS[@]}"; do
    jq --arg profile "$ROOT/scenarios/profiles/$DIALECT.json" --arg dialect "$DIALECT" \
      '.target.profile = $profile | .target.mock_args += ["--dialect", $dialect]' \
      "$f" >"$WORK/$(basename "$f" .json)-$DIALECT.json"
  done
  for d in "${!FOCUS[@]}"; do FOCUS[$d]=$WORK/$(basename "${FOCUS[$d]}" .json)-$DIALECT.json; done
  SCENARIO=$WORK/campaign-$DIALECT.json
fi
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export KOFU_MOCK=$MOCK
failures=0

# Finding classes each defect causes: EXPECT[defect].
# shellcheck source-path=SCRIPTDIR
source "$HERE/defect_classes.sh"
# print_defect_problem.
# shellcheck source-path=SCRIPTDIR
source "$HERE/print_checks.sh"

# run NAME EXPECTED_EXIT ARGS… : one kofu run into $WORK/NAME; prints its figures.
run() {
  local name=$1 want=$2
  shift 2
  local out=$WORK/$name
  local started=$SECONDS
  "$KOFU" run "$SCENARIO" --quiet --out "$out" "$@" >"$WORK/$name.log" 2>&1
  local code=$?
  local report=$out/report.json
  if [[ ! -f $report ]]; then
    echo "FAIL $name: no report (exit $code); log:"
    tail -20 "$WORK/$name.log"
    failures=$((failures + 1))
    return 1
  fi
  local requests answered findings kinds victims
  requests=$(jq '.exposure.requests' "$report")
  answered=$(jq '.answered' "$report")
  findings=$(jq '[.findings_by_kind[]] | add' "$report")
  kinds=$(jq -r '[.findings_by_kind | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"] | join(" ")' "$report")
  victims=$(jq '.leak_graph.victims | length' "$report")
  echo "$name: exit $code, verdict $(jq -r .verdict "$report"), $requests requests, $answered answered, $findings findings [${kinds:-none}], $victims victims, $((SECONDS - started)) s"
  if [[ $code != "$want" ]]; then
    echo "FAIL $name: exit $code, expected $want"
    tail -5 "$WORK/$name.log"
    failures=$((failures + 1))
    return 1
  fi
  return 0
}

# 1. Clean runs.
for i in $(seq "$CLEAN_RUNS"); do
  if run "clean-$i" 0 --duration "$CLEAN_SECONDS"; then
    r=$WORK/clean-$i/report.json
    n=$(jq '.exposure.requests' "$r")
    if ((n < MIN_REQUESTS)); then
      echo "FAIL clean-$i: $n requests < $MIN_REQUESTS (machine too slow for CLEAN_SECONDS=$CLEAN_SECONDS?)"
      failures=$((failures + 1))
    fi
    if [[ $(jq '[.findings_by_kind[]] | add' "$r") != 0 ]]; then
      echo "FAIL clean-$i: findings against the correct server"
      failures=$((failures + 1))
    fi
  fi
  rm -rf "$WORK/clean-$i/history.jsonl"  # keep the disk small; the report stays
done

# check_defect NAME: the report of a defect run shows the expected class, and real victims.
check_defect() {
  local name=$1 r=$WORK/$1/report.json pop=$2
  [[ -f $r ]] || return 1
  local ok=0 k
  for k in ${EXPECT[$name]}; do
    [[ $(jq --arg k "$k" '.findings_by_kind[$k]' "$r") -gt 0 ]] && ok=1
  done
  if ((ok == 0)); then
    echo "FAIL $name: none of the expected findings (${EXPECT[$name]})"
    failures=$((failures + 1))
    return 1
  fi
  local wp
  wp=$(jq '.findings_by_kind.WRONG_PERSON + .findings_by_kind.FOREIGN_DATA' "$r")
  if ((wp > 0)); then
    local v missing=0 count=0
    for v in $(jq -r '.leak_graph.victims[]' "$r" | head -20); do
      count=$((count + 1))
      grep -q "\"resident_id\":\"$v\"" "$pop" || missing=$((missing + 1))
    done
    if ((count == 0 || missing > 0)); then
      echo "FAIL $name: leak graph names $count victims, $missing not in the population"
      failures=$((failures + 1))
      return 1
    fi
  fi
  local problem
  problem=$(print_defect_problem "$name" "$r")
  if [[ -n $problem ]]; then
    echo "FAIL $name: $problem"
    failures=$((failures + 1))
    return 1
  fi
  return 0
}

# 2. One run per defect.
for d in timeout-partial-release reflection-race linkage-overwrite channel-slot \
  stale-index-after-update init-omission cancelled-seal no-version-check \
  page-interleave font-fallback; do
  scenario=${FOCUS[$d]:-$SCENARIO}
  seconds=$DEFECT_SECONDS
  [[ $d == page-interleave || $d == font-fallback ]] && seconds=$PRINT_SECONDS
  SCENARIO=$scenario run "$d" 1 --defect "$d" --duration "$seconds" &&
    check_defect "$d" "$WORK/$d/population.jsonl"
  rm -rf "$WORK/$d/history.jsonl"
done

# spool-collision: two instances on one spool folder, behind kofu's round-robin.
d=spool-collision
mkdir -p "$WORK/spool" "$WORK/$d-pop"
"$KOFU" population generate --residents 5000 --seed 7 --out "$WORK/$d-pop/population.jsonl" >/dev/null
urls=()
for i in 1 2; do
  "$MOCK" --population "$WORK/$d-pop/population.jsonl" --listen 127.0.0.1:0 --defect "$d" "${MOCK_DIALECT[@]}" \
    --spool-dir "$WORK/spool" --instance "$i" --admin-token kofu-admin \
    >"$WORK/mock$i.out" 2>"$WORK/mock$i.err" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q listening "$WORK/mock$i.out" 2>/dev/null && break; sleep 0.1; done
  urls+=(--target "$(sed -n 's/^listening on //p' "$WORK/mock$i.out" | head -1)")
done
jq --arg pop "$WORK/$d-pop/population.jsonl" \
  '.population = {"file": $pop} | .target.mock_args = []' "$SCENARIO" >"$WORK/$d.json"
SCENARIO=$WORK/$d.json run "$d" 1 "${urls[@]}" --duration "$DEFECT_SECONDS" &&
  check_defect "$d" "$WORK/$d-pop/population.jsonl"

if ((failures > 0)); then
  echo "campaign: $failures failures"
  exit 1
fi
echo "campaign ($DIALECT): all runs behaved"
