#!/usr/bin/env bash
# What the viewer's per-NAS tallies (schema migration 8) cost the live server: `acctlab serve`
# of two builds, alternating in one run, under the same load (acctlab_load, W=256, then W=32 for
# the latency), each on a fresh SQLite database (synchronous=full, the default). The baseline
# build is one without the per-source tallies (e.g. main before they were merged).
#
#   bench/web/writer-cost.sh BASELINE_ACCTLAB NEW_ACCTLAB [build] [seconds=10] [rounds=3]
#
# Prints acknowledged requests/s at W=256, the server's CPU microseconds per request (utime +
# stime from /proc over the W=256 run) and p99 at W=32 per run, and the machine's state.
# acctlab_load sends from one address (one NAS), so each batch adds one row per hour and status
# type to the per-source tallies; a batch from n NASes adds up to n times that. A third server,
# "base+index", is the baseline build on a database given the alternative the tallies were
# chosen over: an index on packets (src_addr, event_time), one entry more per packet written.
set -euo pipefail

base=$1
new=$2
build=${3:-build}
seconds=${4:-10}
rounds=${5:-3}
cd "$(dirname "$0")/../.."
source bench/lib.sh

work=$(mktemp -d /tmp/acctlab-writer-cost.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(machine_state "$work" 100)"
echo "| run | server | acked/s W=256 | CPU us/request | p99 ms W=32 |"
echo "|---|---|---:|---:|---:|"
for round in $(seq 1 "$rounds"); do
  for which in base new base+index; do
    binary=$([ "$which" = new ] && echo "$new" || echo "$base")
    rm -f "$work/acct.db"*
    port=$(free_port)
    if [ "$which" = base+index ]; then
      "$binary" serve --listen "127.0.0.1:$port" --db "$work/acct.db" >"$work/serve.log" 2>&1 &
      pid=$!
      wait_ready "$port"
      kill "$pid"
      wait "$pid" 2>/dev/null || true
      sqlite3 "$work/acct.db" "CREATE INDEX packets_source ON packets (src_addr, event_time)"
    fi
    "$binary" serve --listen "127.0.0.1:$port" --db "$work/acct.db" >"$work/serve.log" 2>&1 &
    pid=$!
    wait_ready "$port"
    "$build/acctlab_load" --server "127.0.0.1:$port" --window 256 --duration 1 --json >/dev/null || true
    before=$(cpu_ticks "$pid")
    out=$("$build/acctlab_load" --server "127.0.0.1:$port" --window 256 --duration "$seconds" --json)
    after=$(cpu_ticks "$pid")
    lat=$("$build/acctlab_load" --server "127.0.0.1:$port" --window 32 --duration "$seconds" --json)
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
    python3 - "$round" "$which" "$out" "$lat" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import json, sys
r, which, out, lat, before, after, hz = sys.argv[1:]
o, l = json.loads(out), json.loads(lat)
acked = o["answered"]
cpu_us = (int(after) - int(before)) / int(hz) * 1e6 / max(1, acked)
print(f"| {r} | {which} | {int(o['rate'])} | {cpu_us:.1f} | {l['p99_ms']} |")
PY
  done
done
