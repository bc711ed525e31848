#!/usr/bin/env bash
# Sets everything up, builds acctlab, and runs the lab demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target acctlab
exec ./build/acctlab demo "$@"
