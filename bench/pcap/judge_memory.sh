#!/usr/bin/env bash
# Peak memory and wall time of `acctlab pcap analyze --db` (import + conformance rules) on the
# generator's captures, the judge in parts (the default) against the whole run in memory
# (--judge-part 0, the judge as it was before parts), in the same run on the same files. Also the
# import alone (--no-check) and the analysis alone (no --db), so the judge's share shows.
#
#   bench/pcap/judge_memory.sh [EXCHANGES...=100000 300000] [BUILD_DIR=build]
#
# EXCHANGES: each makes one capture of about 2 x EXCHANGES packets (1% lost, 1% retransmitted,
# 16 NAS), as run_bench.sh makes its small file. Set BEFORE=path/to/acctlab to also measure
# another binary (e.g. one built from the commit before parts) with its default options.
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=()
build=build
for arg in "$@"; do
  if [[ $arg =~ ^[0-9]+$ ]]; then sizes+=("$arg"); else build=$arg; fi
done
((${#sizes[@]})) || sizes=(100000 300000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'client all4 {\n ipaddr = 0.0.0.0/0\n secret = testing123\n shortname = bench\n}\n' \
  >"$work/clients.conf"

# run NAME CMD...: prints NAME, peak RSS (MiB) and wall time (s) of CMD.
run() {
  local name=$1
  shift
  rm -f "$work"/run.db*
  /usr/bin/time -v "$@" >/dev/null 2>"$work/time.txt"
  local rss wall
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f", s}' "$work/time.txt")
  local findings=-
  if [[ -f $work/run.db ]]; then findings=$(sqlite3 "$work/run.db" "SELECT count(*) FROM findings"); fi
  printf "%-34s %8s MiB %8s s  %8s findings\n" "$name" "$rss" "$wall" "$findings"
}

for n in "${sizes[@]}"; do
  "$build/bench/pcap/bench_pcap_generate" "$work/cap.pcap" "$n" 0.01 0.01 16 >/dev/null
  frames=$(capinfos -c -M "$work/cap.pcap" | awk '/Number of packets/ {print $NF}')
  echo "== $frames packets ($n exchanges): peak RSS, wall time"
  analyze=("$build/acctlab" pcap analyze "$work/cap.pcap" --secrets "$work/clients.conf")
  run "analyze, no --db" "${analyze[@]}"
  run "--db --no-check (import only)" "${analyze[@]}" --db "$work/run.db" --no-check
  run "--db --judge-part 0 (whole run)" "${analyze[@]}" --db "$work/run.db" --judge-part 0
  run "--db (judge in parts, default)" "${analyze[@]}" --db "$work/run.db"
  if [[ -n ${BEFORE:-} ]]; then
    run "--db with $BEFORE" "$BEFORE" pcap analyze "$work/cap.pcap" --secrets "$work/clients.conf" \
      --db "$work/run.db"
  fi
done
