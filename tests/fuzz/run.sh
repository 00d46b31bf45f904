#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (ASan + UBSan + libFuzzer) in build/fuzz and runs
# each for FUZZ_SECONDS (default 20) through CTest, two at a time. Prints how many executions
# each ran. Usage: tests/fuzz/run.sh [FUZZ_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-${FUZZ_SECONDS:-20}}
jobs=${FUZZ_JOBS:-2}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build/fuzz -G Ninja "${launcher[@]}" \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKOFU_BUILD_FUZZERS=ON -DKOFU_SANITIZE="address;undefined" -DKOFU_FUZZ_SECONDS="$seconds" \
  -DKOFU_BUILD_TESTS=OFF -DKOFU_BUILD_BENCHMARKS=OFF -DKOFU_JEMALLOC=OFF >/dev/null
nice cmake --build build/fuzz --target kofu_fuzzers -j "$jobs"
status=0
ctest --test-dir build/fuzz -L fuzz -j "$jobs" --output-on-failure -V >build/fuzz/fuzz.log 2>&1 || status=$?
# libFuzzer's final stats: one line per fuzzer with the executions it ran.
for t in scenario_loader population_reader history_line answer vendor_answer vendor_profile; do
  # CTest prefixes a test's output with its number; no match (a fuzzer that did not start) is "?".
  n=$(grep -E "Test command: .*fuzz_${t} " build/fuzz/fuzz.log | head -1 | cut -d: -f1 || true)
  runs=
  if [[ -n $n ]]; then
    runs=$(grep -E "^${n}: stat::number_of_executed_units" build/fuzz/fuzz.log |
      awk '{print $NF}' | head -1 || true)
  fi
  echo "fuzz_${t}: ${runs:-?} executions"
done
grep -E "Test +#|tests passed" build/fuzz/fuzz.log || true
if ((status != 0)); then
  echo "fuzz: a fuzzer failed; see build/fuzz/fuzz.log and build/fuzz/tests/fuzz/fuzz_*-crash-*" >&2
fi
exit "$status"
