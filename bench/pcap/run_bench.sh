#!/usr/bin/env bash
# The capture benchmark of issue 6, all in one run on the same files:
#   - acctlab's read + decode + pair (and + authenticator verification) on a capture of about
#     2 x EXCHANGES packets, and on the smaller file the other tools read;
#   - tshark with full RADIUS dissection (-V) on the smaller file (about 2 x SMALL packets);
#   - radsniff in statistics mode (-W) on both files;
#   - the import into SQLite (and the conformance rules over it) on the smaller file, against
#     the analyse-only rate of the same file in the same process.
# Rates are packets per second of CPU time (user + sys): the machine is shared by several
# builders, so wall time is shown but not used for the ratios.
#
#   bench/pcap/run_bench.sh [EXCHANGES=500000] [SMALL=100000] [BUILD_DIR=build]
set -euo pipefail
cd "$(dirname "$0")/../.."
exchanges=${1:-500000}
small=${2:-100000}
build=${3:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gen=$build/bench/pcap/bench_pcap_generate
bench=$build/bench/pcap/bench_pcap_analyze
echo "== generate: $exchanges and $small exchanges (1% lost, 1% retransmitted, 16 NAS)"
$gen "$work/big.pcap" "$exchanges" 0.01 0.01 16
$gen "$work/small.pcap" "$small" 0.01 0.01 16
big_frames=$(capinfos -c -M "$work/big.pcap" | awk '/Number of packets/ {print $NF}')
small_frames=$(capinfos -c -M "$work/small.pcap" | awk '/Number of packets/ {print $NF}')

# cpu_rate FRAMES CMD...: runs CMD, prints "wall cpu rate" (rate on CPU time).
cpu_rate() {
  local frames=$1
  shift
  /usr/bin/time -o "$work/time.txt" -f "%e %U %S" "$@" >/dev/null 2>&1 || true
  # The last line: GNU time puts "Command exited with non-zero status" before it.
  tail -n 1 "$work/time.txt" |
    awk -v f="$frames" '{ cpu = $2 + $3; printf "%.2f %.2f %.0f\n", $1, cpu, f / cpu }'
}

echo "== acctlab on $big_frames packets"
$bench "$work/big.pcap" testing123 3 | tee "$work/acctlab-big.txt"
echo "== acctlab on $small_frames packets (the file tshark reads)"
$bench "$work/small.pcap" testing123 3 | tee "$work/acctlab-small.txt"
echo "== acctlab pcap analyze (the CLI, whole process) on $big_frames packets"
read -r cli_wall cli_cpu cli_rate < <(cpu_rate "$big_frames" "$build/acctlab" pcap analyze "$work/big.pcap")
echo "wall ${cli_wall}s cpu ${cli_cpu}s -> $cli_rate packets/s"

echo "== import into SQLite (pcap analyze --db) on $small_frames packets, against analyse-only"
$build/bench/pcap/bench_pcap_import "$work/small.pcap" "$work" testing123 1 | tee "$work/import.txt"

echo "== tshark -V (full dissection) on $small_frames packets"
read -r ts_wall ts_cpu ts_rate < <(cpu_rate "$small_frames" tshark -n -r "$work/small.pcap" -V)
echo "wall ${ts_wall}s cpu ${ts_cpu}s -> $ts_rate packets/s"

# radsniff 3.2.1 exits 1 after reading a file in statistics mode; it has read it all by then.
echo "== radsniff -W (statistics mode) on $small_frames and $big_frames packets"
read -r rs_wall rs_cpu rs_rate < <(cpu_rate "$small_frames" radsniff -I "$work/small.pcap" -p 1813 -W 10 -q)
echo "small: wall ${rs_wall}s cpu ${rs_cpu}s -> $rs_rate packets/s"
read -r rb_wall rb_cpu rb_rate < <(cpu_rate "$big_frames" radsniff -I "$work/big.pcap" -p 1813 -W 10 -q)
echo "big:   wall ${rb_wall}s cpu ${rb_cpu}s -> $rb_rate packets/s"

pair_big=$(sed -n 's/^RESULT pair=\([0-9]*\) verify=\([0-9]*\)/\1/p' "$work/acctlab-big.txt")
verify_big=$(sed -n 's/^RESULT pair=\([0-9]*\) verify=\([0-9]*\)/\2/p' "$work/acctlab-big.txt")
pair_small=$(sed -n 's/^RESULT pair=\([0-9]*\) verify=\([0-9]*\)/\1/p' "$work/acctlab-small.txt")
import_rate=$(sed -n 's/^RESULT analyse=\([0-9]*\) import=\([0-9]*\) judged=.*/\2/p' "$work/import.txt")
analyse_rate=$(sed -n 's/^RESULT analyse=\([0-9]*\) import=.*/\1/p' "$work/import.txt")
echo "== summary (packets/s of CPU time; the import line is wall time)"
awk -v pb="$pair_big" -v vb="$verify_big" -v ps="$pair_small" -v ts="$ts_rate" \
    -v rs="$rs_rate" -v rb="$rb_rate" -v ir="$import_rate" -v ar="$analyse_rate" 'BEGIN {
  printf "acctlab decode+pair      %10.0f (big)  %10.0f (small)\n", pb, ps
  printf "acctlab +verify          %10.0f (big)\n", vb
  printf "tshark -V                %10.0f (small)  acctlab/tshark   = %.0fx (same file)\n", ts, ps / ts
  printf "radsniff -W              %10.0f (small)  acctlab/radsniff = %.1fx (same file)\n", rs, ps / rs
  printf "radsniff -W              %10.0f (big)    acctlab/radsniff = %.1fx (same file)\n", rb, pb / rb
  printf "import into SQLite       %10.0f (small, wall) = %.3f of analyse-only (same run)\n", ir, ir / ar
}'
