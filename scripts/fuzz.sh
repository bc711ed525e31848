#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time, seeded
# from fuzz/seeds/<target>/ (hand-written inputs) and fuzz/corpus/<target>/ (corpora grown by
# longer runs and minimised with -merge=1, docs/PERFORMANCE.md "Reliability").
# Usage: scripts/fuzz.sh [SECONDS per target, 60] [JOBS, nproc]
# Targets run JOBS at a time (each libFuzzer process is one thread), so the wall time is about
# ceil(targets / JOBS) x SECONDS plus the build; -timeout turns a hang into a finding instead of
# a stalled CI.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache shares objects across checkouts (CI clones elsewhere): paths relative to the root.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
seconds=${1:-60}
jobs=${2:-$(nproc)}
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DACCTLAB_FUZZ=ON -DACCTLAB_BENCH=OFF -DACCTLAB_WERROR=OFF >/dev/null
targets=$(cmake --build build-fuzz --target help | sed -n 's/^\(fuzz_[a-z_]*\):.*/\1/p' | sort -u)
# shellcheck disable=SC2086 # one word per target
cmake --build build-fuzz --target $targets -j "$jobs"

run() {
  local t=$1 corpus=build-fuzz/corpus-$1
  mkdir -p "$corpus"
  for seeds in fuzz/seeds/"$t" fuzz/corpus/"$t"; do
    [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  done
  local rc=0
  ./build-fuzz/fuzz/"$t" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix=build-fuzz/"$t"- "$corpus" >build-fuzz/"$t".log 2>&1 || rc=$?
  echo "$rc" >build-fuzz/"$t".rc
}

failed=()
for t in $targets; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n || true
  done
  echo "fuzz: $t for ${seconds}s"
  rm -f build-fuzz/"$t".rc
  run "$t" &
done
wait
for t in $targets; do
  if [ "$(cat build-fuzz/"$t".rc 2>/dev/null)" != 0 ]; then
    failed+=("$t")
  fi
  echo "fuzz: $t $(grep -E 'stat::number_of_executed_units' build-fuzz/"$t".log || echo '(no stats)')"
done
for t in "${failed[@]}"; do
  echo "fuzz: $t FAILED"
  tail -n 60 build-fuzz/"$t".log
done
[ ${#failed[@]} -eq 0 ]
