#!/usr/bin/env bash
# Sets up, builds (preset `dev`: warnings as errors) and runs the whole test suite through CTest.
# Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset dev
cmake --build --preset dev
ctest --preset dev "$@"
