#!/usr/bin/env bash
# Fuzzing campaign of issue 18 within a CPU budget: each libFuzzer target of fuzz/ (built by
# scripts/fuzz.sh's clang ASan+UBSan configuration in build-fuzz/) runs alone (one libFuzzer
# process at a time) for its share of the budget, seeded from fuzz/seeds/ and fuzz/corpus/; then
# the grown corpus is minimised (-merge=1) against the seeds, and kept in fuzz/corpus/<target>/
# when it stays small (at most 200 files and 1 MiB), so CI's short runs start from it.
# Prints per target: executions, coverage (cov/ft of libFuzzer's last line), corpus kept, crashes.
# Usage: bench/reliability/fuzz-campaign.sh TARGET=SECONDS...
#   e.g. bench/reliability/fuzz-campaign.sh fuzz_packet_decode=600 fuzz_text_form=300
# A crash stops nothing: its artifact stays in build-fuzz/<target>-crash-* and is reported.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -gt 0 ] || { echo "usage: $0 TARGET=SECONDS..." >&2; exit 2; }
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DACCTLAB_FUZZ=ON -DACCTLAB_BENCH=OFF -DACCTLAB_WERROR=OFF >/dev/null
targets=()
for spec in "$@"; do targets+=("${spec%%=*}"); done
cmake --build build-fuzz --target "${targets[@]}" -j 2 >/dev/null

total=0
printf '%-22s %8s %12s %7s %7s %9s %8s\n' target seconds executions cov ft corpus crashes
for spec in "$@"; do
  t=${spec%%=*}
  seconds=${spec#*=}
  grown=build-fuzz/campaign-$t
  rm -rf "$grown"
  mkdir -p "$grown"
  for seeds in fuzz/seeds/"$t" fuzz/corpus/"$t"; do
    [ -d "$seeds" ] && cp -n "$seeds"/* "$grown"/ 2>/dev/null || true
  done
  rc=0
  timeout $((seconds + 120)) ./build-fuzz/fuzz/"$t" -max_total_time="$seconds" -timeout=10 \
    -print_final_stats=1 -artifact_prefix=build-fuzz/"$t"- "$grown" >build-fuzz/campaign-"$t".log 2>&1 || rc=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' build-fuzz/campaign-"$t".log | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' build-fuzz/campaign-"$t".log | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=$(find build-fuzz -maxdepth 1 -name "$t-crash-*" -o -maxdepth 1 -name "$t-leak-*" \
    -o -maxdepth 1 -name "$t-timeout-*" -o -maxdepth 1 -name "$t-oom-*" | wc -l)
  # Minimise against the seeds: what the seeds already cover is not kept twice.
  merged=build-fuzz/merged-$t
  rm -rf "$merged"
  mkdir -p "$merged"
  [ -d fuzz/seeds/"$t" ] && cp fuzz/seeds/"$t"/* "$merged"/
  ./build-fuzz/fuzz/"$t" -merge=1 -timeout=10 "$merged" "$grown" >build-fuzz/merge-"$t".log 2>&1 || true
  if [ -d fuzz/seeds/"$t" ]; then
    for f in fuzz/seeds/"$t"/*; do rm -f "$merged/$(basename "$f")"; done
  fi
  files=$(find "$merged" -type f | wc -l)
  bytes=$(du -sb "$merged" | cut -f1)
  if [ "$files" -le 200 ] && [ "$bytes" -le 1048576 ]; then
    rm -rf fuzz/corpus/"$t"
    if [ "$files" -gt 0 ]; then
      mkdir -p fuzz/corpus/"$t"
      cp "$merged"/* fuzz/corpus/"$t"/
    fi
    kept="$files"
  else
    kept="-($files)" # too large to keep in the repository
  fi
  total=$((total + ${executions:-0}))
  printf '%-22s %8s %12s %7s %7s %9s %8s%s\n' "$t" "$seconds" "${executions:-?}" "${cov:-?}" "${ft:-?}" \
    "$kept" "$crashes" "$([ "$rc" = 0 ] || echo "  (exit $rc)")"
done
echo "total executions: $total"
