#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time,
# seeded from the packet vectors.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache shares objects across checkouts (CI clones elsewhere): paths relative to the root.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
seconds=${1:-60}
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DACCTLAB_FUZZ=ON -DACCTLAB_BENCH=OFF -DACCTLAB_WERROR=OFF >/dev/null
targets=$(cmake --build build-fuzz --target help | sed -n 's/^\(fuzz_[a-z_]*\):.*/\1/p' | sort -u)
for t in $targets; do
  cmake --build build-fuzz --target "$t" -j "$(nproc)"
  corpus=build-fuzz/corpus-$t
  mkdir -p "$corpus"
  [ -d "fuzz/seeds/$t" ] && cp -n fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $t for ${seconds}s"
  ./build-fuzz/fuzz/"$t" -max_total_time="$seconds" -print_final_stats=1 "$corpus" 2>build-fuzz/"$t".log \
    || { tail -n 60 build-fuzz/"$t".log; exit 1; }
  grep -E "stat::number_of_executed_units" build-fuzz/"$t".log || true
done
