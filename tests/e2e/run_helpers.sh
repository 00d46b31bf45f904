# shellcheck shell=bash
# Helpers of the scripts that drive `kofu run` against kofu-mock many times (tests/e2e/matrix.sh,
# tests/bench/sync_arrival.sh). Source it, then call open_work; it uses the caller's KOFU and MOCK.

# PIDS: the kofu-mock processes started here; stop_mocks stops them, by PID.
PIDS=()
stop_mocks() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  PIDS=()
}

# open_work: a scratch folder WORK, removed (every kofu-mock stopped first) when the script exits;
# KOFU_MOCK set for the embedded server of `kofu run`.
open_work() {
  WORK=$(mktemp -d)
  trap 'stop_mocks; rm -rf "$WORK"' EXIT
  export KOFU_MOCK=$MOCK
}

# start_pair SCENARIO_FILE DEFECT TAG: two kofu-mock on one spool folder (spool-collision needs two
# processes behind one address); writes $WORK/TAG.json, the scenario with the population handed
# over as a file, and sets TARGETS to the two --target arguments.
TARGETS=()
start_pair() {
  local file=$1 defect=$2 tag=$3 pop=$WORK/$3-pop.jsonl
  "$KOFU" population generate --residents "$(jq '.population.residents // 1000' "$file")" \
    --seed "$(jq '.population.seed // 1' "$file")" --out "$pop" >/dev/null || return 1
  mkdir -p "$WORK/$tag-spool"
  local extra=() i
  [[ $defect != none ]] && extra=(--defect "$defect")
  TARGETS=()
  for i in 1 2; do
    "$MOCK" --population "$pop" --listen 127.0.0.1:0 "${extra[@]}" --spool-dir "$WORK/$tag-spool" \
      --instance "$i" --admin-token kofu-admin >"$WORK/$tag-mock$i.out" 2>"$WORK/$tag-mock$i.err" &
    PIDS+=($!)
    for _ in $(seq 100); do grep -q listening "$WORK/$tag-mock$i.out" 2>/dev/null && break; sleep 0.1; done
    TARGETS+=(--target "$(sed -n 's/^listening on //p' "$WORK/$tag-mock$i.out" | head -1)")
  done
  jq --arg pop "$pop" '.population = {"file": $pop} | .target.mock_args = []' "$file" >"$WORK/$tag.json"
}

# requests_until_first REPORT HISTORY: issue requests sent up to the earliest-sent request with a
# finding; empty when there is no finding.
requests_until_first() {
  local first
  first=$(jq '[.findings[].evidence.request.sent_ns // empty] | min // empty' "$1")
  [[ -n $first ]] || return 0
  local cat=cat
  [[ $2 == *.zst ]] && cat=zstdcat
  $cat "$2" | grep -F '"type":"invoke","op":"issue"' |
    awk -F'"t":' -v first="$first" '{ split($2, a, ","); if (a[1] + 0 <= first) n++ } END { print n + 0 }'
}
