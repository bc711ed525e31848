#!/usr/bin/env bash
# Fuzzing campaign of issue 18 within a CPU budget: each libFuzzer target of fuzz/ (built by
# scripts/fuzz.sh's clang ASan+UBSan configuration in build-fuzz/) runs alone (one libFuzzer
# process at a time) for its share of the budget, seeded from fuzz/seeds/ and fuzz/corpus/; then
# the grown corpus is minimised (-merge=1) against the seeds, and kept in fuzz/corpus/<target>/
# so CI's short runs start from it: at most 200 files (past that the 200 largest, minimised again)
# and 1 MiB. Prints per target: the CPU seconds the fuzzer got (less than its wall-clock seconds
# on a shared machine), executions, coverage (cov/ft of libFuzzer's last line), crashes,
# the files kept and the coverage CI's runs start from (seeds + kept corpus, and seeds alone:
# libFuzzer's INITED line).
# Usage: bench/reliability/fuzz-campaign.sh TARGET=SECONDS...
#   e.g. bench/reliability/fuzz-campaign.sh fuzz_packet_decode=600 fuzz_text_form=300
# FUZZ_CPU=1: SECONDS is CPU time, not wall clock: the fuzzer runs until it has had that much CPU
# (read from /proc/PID/stat every 5 s, then stopped with SIGINT, after which libFuzzer prints its
# final figures), within a wall-clock cap of FUZZ_WALL_CAP seconds (default 4 x SECONDS). On a
# shared machine this gives every target the same amount of fuzzing; run it under
# `chrt --idle 0` (SCHED_IDLE) and it takes only the CPU nothing else wants, so a measurement may
# run beside it. Do not SIGSTOP a fuzzer to make room: libFuzzer's -timeout is a wall-clock
# alarm, and a unit that was stopped for 10 s is reported as a timeout that is none. A fuzzer
# starved of CPU that long (SCHED_IDLE under a full machine) is in the same case: every timeout
# artifact is run again alone afterwards, and one that then finishes within the timeout is moved
# to build-fuzz/starved-* and reported as starved, not as a finding. FUZZ_TIMEOUT sets
# libFuzzer's -timeout (default 10 s).
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

# CPU seconds (user + system) the shell's waited-for children used so far, from bash's `times`
# (its second line is the children's "XmY.YYYs XmY.YYYs"). `times` runs in this shell, not in a
# command substitution: a forked shell's children start from zero.
children_cpu() { # file to write the figure to
  times >"$1.times"
  tail -1 "$1.times" | awk '{ s = 0; for (i = 1; i <= 2; ++i) { split($i, p, "m"); s += p[1] * 60 + p[2] } printf "%d", s }' >"$1"
}

total=0
unit_timeout=${FUZZ_TIMEOUT:-10}
printf '%-22s %8s %8s %12s %7s %7s %8s %14s %12s %12s\n' target seconds cpu-s executions cov ft crashes "corpus kept" "CI start cov/ft" \
  "seeds cov/ft"
for spec in "$@"; do
  t=${spec%%=*}
  seconds=${spec#*=}
  grown=build-fuzz/campaign-$t # kept across runs: a campaign can go on where the last stopped
  mkdir -p "$grown"
  for seeds in fuzz/seeds/"$t" fuzz/corpus/"$t"; do
    [ -d "$seeds" ] && cp -n "$seeds"/* "$grown"/ 2>/dev/null || true
  done
  rc=0
  children_cpu build-fuzz/cpu-before-"$t"
  if [ "${FUZZ_CPU:-0}" = 1 ]; then
    cap=${FUZZ_WALL_CAP:-$((seconds * 4))}
    ./build-fuzz/fuzz/"$t" -max_total_time="$cap" -timeout="$unit_timeout" -print_final_stats=1 \
      -artifact_prefix=build-fuzz/"$t"- "$grown" >build-fuzz/campaign-"$t".log 2>&1 &
    fuzzer=$!
    echo "$fuzzer" >build-fuzz/campaign-"$t".pid
    ticks=$(getconf CLK_TCK)
    deadline=$((SECONDS + cap + 120))
    while kill -0 "$fuzzer" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 5
      # utime + stime, fields 14 and 15 (the name in field 2 holds no space: a target's name)
      used=$(awk -v t="$ticks" '{ printf "%d", ($14 + $15) / t }' /proc/"$fuzzer"/stat 2>/dev/null || echo 0)
      if [ "$used" -ge "$seconds" ]; then
        kill -INT "$fuzzer" 2>/dev/null || true
        break
      fi
    done
    [ "$SECONDS" -lt "$deadline" ] || kill -KILL "$fuzzer" 2>/dev/null || true
    wait "$fuzzer" || rc=$?
    [ "$rc" != 72 ] || rc=0 # libFuzzer's exit code after SIGINT: stopped at its budget
  else
    timeout $((seconds + 120)) ./build-fuzz/fuzz/"$t" -max_total_time="$seconds" -timeout="$unit_timeout" \
      -print_final_stats=1 -artifact_prefix=build-fuzz/"$t"- "$grown" >build-fuzz/campaign-"$t".log 2>&1 || rc=$?
  fi
  children_cpu build-fuzz/cpu-after-"$t"
  cpu=$(($(cat build-fuzz/cpu-after-"$t") - $(cat build-fuzz/cpu-before-"$t"))) # what the fuzzer got: shared cores give it less than $seconds
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' build-fuzz/campaign-"$t".log | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' build-fuzz/campaign-"$t".log | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  # A timeout that does not happen again alone was the fuzzer starved of CPU, not a slow input.
  starved=0
  for artifact in build-fuzz/"$t"-timeout-*; do
    [ -e "$artifact" ] || continue
    if timeout 120 ./build-fuzz/fuzz/"$t" -timeout="$unit_timeout" "$artifact" >/dev/null 2>&1; then
      mv "$artifact" "build-fuzz/starved-$(basename "$artifact")"
      starved=$((starved + 1))
      [ "$rc" != 70 ] || rc=0 # libFuzzer's exit code for a timeout
    fi
  done
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
  if [ "$files" -gt 200 ]; then
    # Too many to keep in the repository: the 200 largest (they carry the most structure each),
    # minimised again against the seeds.
    capped=build-fuzz/capped-$t
    rm -rf "$capped" "$merged.all"
    mkdir -p "$capped"
    mv "$merged" "$merged.all"
    mkdir -p "$merged"
    [ -d fuzz/seeds/"$t" ] && cp fuzz/seeds/"$t"/* "$merged"/
    find "$merged.all" -type f -size -8k -printf '%s %p\n' | sort -rn | awk 'NR <= 200' | cut -d' ' -f2- |
      xargs -r cp -t "$capped"
    ./build-fuzz/fuzz/"$t" -merge=1 -timeout=10 "$merged" "$capped" >>build-fuzz/merge-"$t".log 2>&1 || true
    if [ -d fuzz/seeds/"$t" ]; then
      for f in fuzz/seeds/"$t"/*; do rm -f "$merged/$(basename "$f")"; done
    fi
    kept_note="of $files"
    files=$(find "$merged" -type f | wc -l)
  else
    kept_note=
  fi
  bytes=$(du -sb "$merged" | cut -f1)
  if [ "$bytes" -le 1048576 ]; then
    rm -rf fuzz/corpus/"$t"
    if [ "$files" -gt 0 ]; then
      mkdir -p fuzz/corpus/"$t"
      cp "$merged"/* fuzz/corpus/"$t"/
    fi
    kept="$files${kept_note:+ $kept_note}"
  else
    kept="-($files, $bytes bytes)" # too large to keep in the repository
  fi
  # What CI starts from, with the kept corpus and with the seeds alone (libFuzzer's INITED line).
  inited() { # dirs...
    ./build-fuzz/fuzz/"$t" -runs=0 -timeout=10 "$@" 2>&1 |
      sed -n 's/.*INITED cov: \([0-9]*\) ft: \([0-9]*\).*/\1\/\2/p' | tail -1
  }
  # shellcheck disable=SC2046 # the directories that exist, one word each
  start=$(inited $(ls -d fuzz/seeds/"$t" fuzz/corpus/"$t" 2>/dev/null))
  # shellcheck disable=SC2046
  seeds_only=$(inited $(ls -d fuzz/seeds/"$t" 2>/dev/null))
  total=$((total + ${executions:-0}))
  printf '%-22s %8s %8s %12s %7s %7s %8s %14s %12s %12s%s\n' "$t" "$seconds" "$cpu" "${executions:-?}" \
    "${cov:-?}" "${ft:-?}" "$crashes" "$kept" "${start:-?}" "${seeds_only:-?}" \
    "$([ "$rc" = 0 ] || echo "  (exit $rc)")$([ "$starved" = 0 ] || echo "  ($starved timeout(s) starved of CPU: not again alone)")"
done
echo "total executions: $total"
