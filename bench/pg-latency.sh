#!/usr/bin/env bash
# Where the p99 at W=32 of acctlab serve on PostgreSQL comes from (issue 16's "p99 at W=32 <= 5 ms"),
# measured in one run on two kinds of storage for the cluster:
#   disk  - a directory under /tmp (this machine's block device): commits wait for fdatasync
#   tmpfs - a directory under /dev/shm: fdatasync returns at once, what is left is software
# On each, in this order:
#   fdatasync  - 4 KiB write + fdatasync in the cluster's directory, N times: median, p99 and the
#                share over 5 ms. No server that answers after a durable commit beats this floor.
#   pgbench    - PostgreSQL's own commit latency: 32 clients each committing a one-row INSERT
#                (synchronous_commit on), the same concurrency as W=32; p50/p99 from pgbench's
#                per-transaction log. The baseline acctlab's p99 is divided by.
#   acctlab    - acctlab serve on a fresh database of that cluster, acctlab_load at W=32 (every
#                answer's authenticator verified); p50/p99 of request to answer.
# Usage: bench/pg-latency.sh [BUILD_DIR] [SECONDS]   (loopback and Unix sockets only; the clusters
# and the server are stopped and removed at the end, also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-10}
source bench/lib.sh
pg_cluster_available || { echo "PostgreSQL 15 is not installed ($pg_bin)" >&2; exit 2; }
pgbench=$pg_bin/pgbench

disk=$(mktemp -d /tmp/acctlab-pglat.XXXXXX)
tmpfs=$(mktemp -d /dev/shm/acctlab-pglat.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_cluster_stop "$disk"
  pg_cluster_stop "$tmpfs"
  rm -rf "$disk" "$tmpfs"
}
trap cleanup EXIT

fsync_probe() { # dir -> "median p99 share_over_5ms"
  python3 - "$1/.fsync-probe" 1000 <<'PY'
import os, statistics, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
n = int(sys.argv[2])
samples = []
for i in range(n):
    t = time.perf_counter()
    os.pwrite(fd, b"x" * 4096, (i % 16) * 4096)
    os.fdatasync(fd)
    samples.append((time.perf_counter() - t) * 1000)
os.close(fd)
os.unlink(sys.argv[1])
samples.sort()
over = sum(s > 5 for s in samples) / n
print(f"{statistics.median(samples):.2f} {samples[int(0.99 * (n - 1))]:.2f} {100 * over:.1f}")
PY
}

percentiles() { # pgbench log files... -> "p50 p99" in ms (column 3 is the latency in us)
  cat "$@" | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {
    if (NR == 0) { print "? ?"; exit }
    printf "%.2f %.2f\n", v[int(0.5 * (NR - 1)) + 1] / 1000, v[int(0.99 * (NR - 1)) + 1] / 1000 }'
}

declare -A row
for kind in disk tmpfs; do
  dir=${!kind}
  read -r f50 f99 fover < <(fsync_probe "$dir")
  pg_cluster_start "$dir" -c max_connections=100
  uri_of() { pg_cluster_uri "$dir" "$1"; }
  for db in acctlab bench; do psql -q "$(uri_of postgres)" -c "CREATE DATABASE $db"; done
  psql -q "$(uri_of bench)" -c "CREATE TABLE t (id bigserial PRIMARY KEY, at timestamptz, v text)"
  echo 'INSERT INTO t (at, v) VALUES (now(), md5(random()::text));' >"$dir/insert.sql"
  mkdir -p "$dir/pgbench"
  (cd "$dir/pgbench" && "$pgbench" -n -h "$dir/pg" -U acctlab -c 32 -j 2 -T "$seconds" \
    -f "$dir/insert.sql" -l bench >"$dir/pgbench.out" 2>&1)
  read -r b50 b99 < <(percentiles "$dir"/pgbench/pgbench_log.*)
  btps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$dir/pgbench.out" | head -1)

  port=$(free_port)
  "$build/acctlab" serve --listen "127.0.0.1:$port" --db "$(uri_of acctlab)" >"$dir/serve.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_ready "$port"
  "$build/acctlab_load" --server "127.0.0.1:$port" --window 32 --duration 1 --json >/dev/null || true
  out=$("$build/acctlab_load" --server "127.0.0.1:$port" --window 32 --duration "$seconds" --json)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$kind acctlab W=32: $out"
  read -r a50 a99 arate < <(python3 -c 'import json,sys; j = json.loads(sys.argv[1]); print(j["p50_ms"], j["p99_ms"], int(j["rate"]))' "$out")
  row[$kind]="$f50 $f99 $fover $b50 $b99 ${btps%.*} $a50 $a99 $arate"
  pg_cluster_stop "$dir"
done

echo
echo "measured under: load average $(cut -d' ' -f1-3 /proc/loadavg) (2 cores), $(date -u +%F\ %H:%M) UTC, ${seconds} s per load"
printf '%-6s | %-26s | %-28s | %-28s | %s\n' storage "fdatasync med/p99 (>5 ms)" \
  "pgbench 32 clients p50/p99" "acctlab-pg W=32 p50/p99" "acctlab p99 / pgbench p99"
for kind in disk tmpfs; do
  read -r f50 f99 fover b50 b99 btps a50 a99 arate <<<"${row[$kind]}"
  ratio=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$a99" "$b99")
  printf '%-6s | %-26s | %-28s | %-28s | %s\n' "$kind" "$f50/$f99 ms ($fover%)" \
    "$b50/$b99 ms ($btps tx/s)" "$a50/$a99 ms ($arate/s)" "$ratio"
done
read -r _ _ _ _ _ _ _ disk99 _ <<<"${row[disk]}"
read -r _ _ _ _ _ _ _ tmpfs99 _ <<<"${row[tmpfs]}"
python3 - "$disk99" "$tmpfs99" <<'PY'
import sys
disk, tmpfs = map(float, sys.argv[1:])
verdict = lambda v: "met" if v <= 5 else "NOT met"
print(f"p99 at W=32 on the disk:  {disk:.2f} ms (target <= 5 ms: {verdict(disk)})")
print(f"p99 at W=32 on tmpfs:     {tmpfs:.2f} ms (the same software without the device's fsync: {verdict(tmpfs)})")
PY
