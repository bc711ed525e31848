#!/usr/bin/env bash
# The PostgreSQL writer's cost per acknowledged record, builds against each other in one run:
# for each round and each build (in turn, the order reversed every other round), `acctlab serve`
# on a fresh database of one throwaway cluster (bench/lib.sh: initdb as nobody, Unix socket only,
# synchronous_commit on) under acctlab_load at W=256 for SECONDS, then the acknowledged rate and
# the CPU time the cluster's processes (postmaster, backends, WAL writer, checkpointer; from
# /proc/PID/stat) and acctlab serve spent per acknowledged record. CPU per record is steadier than
# the rate on a loaded machine: it does not count the time a process waited for a core.
#
#   bench/pg-writer-cpu.sh SECONDS ROUNDS BUILD...      e.g. bench/pg-writer-cpu.sh 10 3 base/build build
#
# A BUILD may be DIR@SQL: the database gets DIR's schema first (DIR/bench/web/bench_web
# --pg-schema), then SQL runs on it before the server starts (to switch a part off and see what
# it costs, e.g. "build@ALTER TABLE sessions DISABLE TRIGGER USER").
set -euo pipefail
seconds=${1:-10}
rounds=${2:-3}
shift 2
builds=("$@")
cd "$(dirname "$0")/.."
source bench/lib.sh
work=$(mktemp -d /tmp/acctlab-pg-cpu.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_cluster_stop "$work"
  rm -rf "$work"
}
trap cleanup EXIT
pg_cluster_available || { echo "pg-writer-cpu: PostgreSQL 15 not installed" >&2; exit 1; }
pg_cluster_start "$work" -c max_connections=100
uri() { pg_cluster_uri "$work" "$1"; }

ticks() { # pid...: utime + stime of the processes, in clock ticks
  local total=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    total=$((total + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat")))
  done
  echo "$total"
}
cluster_pids() { # the postmaster and its children
  local pm
  pm=$(head -1 "$work/pg/data/postmaster.pid")
  echo "$pm" $(pgrep -P "$pm" || true)
}
hz=$(getconf CLK_TCK)

echo "measured under: $(machine_state "$work" 100)"
echo "| round | build | acked/s W=256 | DB CPU µs/record | acctlab CPU µs/record |"
echo "|---:|---|---:|---:|---:|"
n=0
for round in $(seq 1 "$rounds"); do
  order=("${builds[@]}")
  if [ $((round % 2)) = 0 ]; then
    order=()
    for ((i = ${#builds[@]} - 1; i >= 0; i--)); do order+=("${builds[$i]}"); done
  fi
  for b in "${order[@]}"; do
    n=$((n + 1))
    psql -q "$(uri postgres)" -c "CREATE DATABASE run$n"
    label=$b
    sql=
    if [[ $b == *@* ]]; then
      sql=${b#*@}
      b=${b%%@*}
      "$b/bench/web/bench_web" 0 "$work/unused.db" --pg-schema "$(uri run$n)"
      psql -q "$(uri run$n)" -c "$sql"
    fi
    port=$(free_port)
    "$b/acctlab" serve --listen "127.0.0.1:$port" --db "$(uri run$n)" >"$work/serve$n.log" 2>&1 &
    serve=$!
    pids+=($serve)
    wait_ready "$port"
    "$b/acctlab_load" --server "127.0.0.1:$port" --window 256 --duration 1 --json >/dev/null || true
    db0=$(ticks $(cluster_pids))
    s0=$(ticks "$serve")
    out=$("$b/acctlab_load" --server "127.0.0.1:$port" --window 256 --duration "$seconds" --json)
    db1=$(ticks $(cluster_pids))
    s1=$(ticks "$serve")
    kill "$serve" 2>/dev/null || true
    wait "$serve" 2>/dev/null || true
    python3 - "$round" "$label" "$out" "$((db1 - db0))" "$((s1 - s0))" "$hz" <<'PY'
import json, sys
round_, build, out, db, serve, hz = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), *map(int, sys.argv[4:])
n = max(out["answered"], 1)
print(f"| {round_} | {build} | {out['rate']:,} | {db / hz / n * 1e6:.1f} | {serve / hz / n * 1e6:.1f} |")
PY
  done
done
echo "after: $(machine_state "$work" 100)"
