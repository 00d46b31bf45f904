#!/usr/bin/env bash
# Fails when a tracked C++ file is not formatted as .clang-format says (run by CTest as
# `format_check`). Fix with: scripts/check-format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
((${#files[@]})) || { echo "no C++ files tracked"; exit 0; }
if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run -Werror "${files[@]}"
  echo "format: ${#files[@]} files clean"
fi
