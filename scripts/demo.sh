#!/usr/bin/env bash
# Sets up, builds (preset `release`) and runs the main job: scenarios/demo.json against the
# embedded reference server (kofu-mock, correct), which must pass; then the same scenario, shortened,
# with one of the 2023 defects switched on, to show what a finding looks like. Each run writes
# its history and report.json to its own folder.
# Usage: scripts/demo.sh [output folder, default kofu-out/demo]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release
cmake --build --preset release
out=${1:-kofu-out/demo}
mkdir -p "$out"
kofu=build/release/harness/kofu

echo "== 1. correct reference server: expect verdict pass"
"$kofu" run scenarios/demo.json --out "$out/correct" --force

echo
echo "== 2. reference server with defect channel-slot (④ window and store at the same moment): expect findings"
set +e
"$kofu" run scenarios/demo.json --out "$out/channel-slot" --force --defect channel-slot --duration 10
code=$?
set -e
if [[ $code -ne 1 ]]; then
  echo "demo: the defect run should have failed with findings (exit 1), it exited $code" >&2
  exit 1
fi
echo
echo "demo: reports in $out/correct/report.json and $out/channel-slot/report.json"
