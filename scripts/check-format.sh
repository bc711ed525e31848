#!/usr/bin/env bash
# Fails when any C++ source differs from what .clang-format says.
set -euo pipefail
cd "$(dirname "$0")/.."
format=$(command -v clang-format-14 || command -v clang-format)
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
if ((${#files[@]} == 0)); then exit 0; fi
"$format" --dry-run --Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
