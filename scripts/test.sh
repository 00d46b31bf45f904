#!/usr/bin/env bash
# Sets up, builds (preset `dev`: warnings as errors) and runs the whole test suite through CTest.
# Then builds the libFuzzer targets with clang-14 (build/fuzz) and runs each briefly
# (KOFU_FUZZ_SECONDS each, default 10, two at a time; 0 skips them): on 2 cores the clang build
# takes about 1.5-2 minutes from a clean clone (more with the six fuzzers: not re-measured) and the
# fuzzing about 35 s (six fuzzers, two at a time).
# Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset dev
cmake --build --preset dev
ctest --preset dev "$@"
fuzz_seconds=${KOFU_FUZZ_SECONDS:-10}
if [[ $fuzz_seconds != 0 ]]; then
  tests/fuzz/run.sh "$fuzz_seconds"
fi
