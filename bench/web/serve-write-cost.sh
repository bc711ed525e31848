#!/usr/bin/env bash
# What the report viewer's schema (storage/schema.cpp, migration 3) costs `acctlab serve`: the same
# load (acctlab_load, W=256, the feature document's records) against the server on a fresh
# database, alternating between the schema as it is and the schema without the viewer's session
# triggers and indexes (dropped once the server is up; the tallies stay, the writer fills them).
# Prints acknowledged requests/s and the server's CPU time per request (utime + stime from /proc).
#
#   bench/web/serve-write-cost.sh [build dir] [seconds per run] [rounds]
set -euo pipefail
build=${1:-build}
seconds=${2:-5}
rounds=${3:-3}
work=$(mktemp -d /tmp/acctlab-serve-cost-XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

source "$(dirname "$0")/../lib.sh"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() { # variant
  local variant=$1 port db
  port=$(free_port)
  db="$work/$variant.db"
  rm -f "$db" "$db-wal" "$db-shm"
  "$build/acctlab" serve --listen "127.0.0.1:$port" --db "$db" >"$work/serve.log" 2>&1 &
  pid=$!
  wait_ready "$port"
  if [ "$variant" = without ]; then
    sqlite3 "$db" "DROP TRIGGER session_insert; DROP TRIGGER session_update;
                   DROP TRIGGER session_delete; DROP TABLE session_find; DROP TABLE session_tally;"
  fi
  local before after out
  before=$(cpu_ticks "$pid")
  out=$("$build/acctlab_load" --server "127.0.0.1:$port" --window 256 --duration "$seconds" --json)
  after=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  python3 - "$variant" "$out" "$before" "$after" <<'PY'
import json, os, sys
variant, out, before, after = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
acked = out["answered"]
cpu_us = (after - before) / os.sysconf("SC_CLK_TCK") * 1e6 / acked
print(f"{variant} {out['rate']:.0f} {cpu_us:.2f}")
PY
}

results=()
for _ in $(seq 1 "$rounds"); do
  for variant in with without; do
    line=$(run "$variant")
    echo "$line" >&2
    results+=("$line")
  done
done
printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
rows = {}
for line in sys.stdin:
    v, rate, cpu = line.split()
    rows.setdefault(v, []).append((float(rate), float(cpu)))
base = statistics.median(r for r, _ in rows["without"])
base_cpu = statistics.median(c for _, c in rows["without"])
print("| schema | acknowledged/s (median) | server CPU us/request | vs without |")
print("|---|---:|---:|---:|")
for v, label in (("without", "without the viewer session triggers and indexes"), ("with", "migration 3 as it is")):
    rate = statistics.median(r for r, _ in rows[v]); cpu = statistics.median(c for _, c in rows[v])
    print(f"| {label} | {rate:,.0f} | {cpu:.1f} | {rate / base:.2f} (CPU {cpu / base_cpu:.2f}) |")
'
