#!/usr/bin/env bash
# Sets up, builds (preset `release`) and runs the main job: a demo against the embedded
# reference server. Until `kofu run` lands it generates a synthetic population and prints its
# summary. Usage: scripts/demo.sh [output folder, default kofu-out/demo]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release
cmake --build --preset release
out=${1:-kofu-out/demo}
mkdir -p "$out"
kofu=build/release/harness/kofu
"$kofu" population generate --residents 10000 --seed 1 --out "$out/population.jsonl"
"$kofu" population stats "$out/population.jsonl"
