#!/usr/bin/env bash
# Sets everything up, builds acctlab, and runs the lab demo (arguments go to `acctlab demo`:
# --no-web, --no-lab skips the strongSwan step, which runs only as root with its packages).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache shares objects across checkouts (CI clones elsewhere): paths relative to the root.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build build -j "$(nproc)" --target acctlab
exec ./build/acctlab demo "$@"
