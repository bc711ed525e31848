#!/usr/bin/env bash
# The server benchmark of issue 3, in one run on this machine: the same load (acctlab_load, W
# outstanding Cisco IPsec records, every response authenticator verified) against
#   null      - the no-work responder (verifies and answers, stores nothing), sending with
#               sendmmsg and with UDP segmentation: the faster of the two is the ceiling
#   acctlab   - acctlab serve, SQLite WAL with synchronous=FULL (the default)
#   acctlab-nosync - the same with --synchronous off (first round only, no target: the detail
#               file's guarantee, to show what durability costs)
#   fr-detail - FreeRADIUS 3.2 writing only its detail file
#   fr-sql    - FreeRADIUS 3.2 with rlm_sql + sqlite writing radacct
#   acctlab-pg - acctlab serve writing PostgreSQL 15 (first round only, when installed): a
#               throwaway cluster in the work directory (initdb as nobody when run as root, a Unix
#               socket there, no TCP), synchronous_commit on, stopped and removed at the end
#   acctlab-pg2 - two acctlab serve processes on one (fresh) database of that cluster, the load
#               split over both (W/2 each; the rate is the sum, the p99 the worse of the two)
#   fr-pg     - FreeRADIUS 3.2 with rlm_sql_postgresql (freeradius-postgresql's schema.sql and
#               queries.conf) on a database of the same cluster, synchronous_commit on, a pool of
#               32 connections (bench/freeradius/freeradius-lab.sh postgresql)
# Usage: bench/compare-servers.sh [BUILD_DIR] [SECONDS] [ROUNDS]   (loopback only; every server is
# stopped at the end). Prints a table and the ratios the issue asks for (the median over rounds).
# PG_ONLY=1: the PostgreSQL targets only, acctlab-pg and acctlab-pg2 in every round (fr-pg in the
# first). BASE_BUILD=DIR: also acctlab-pg-base and acctlab-pg2-base, the same two with DIR's
# acctlab (an earlier build), measured just before them in each round on fresh databases of the
# same cluster: a before/after in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-10}
rounds=${3:-1}
pg_only=${PG_ONLY:-0}
base_build=${BASE_BUILD:-}
work=$(mktemp -d /tmp/acctlab-bench.XXXXXX)
pids=()
source bench/lib.sh
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_cluster_stop "$work"
}
trap cleanup EXIT

fr_pg_schema=/etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql
fr_pg_rows=

# What the figures were measured under: the load average, and the latency of one 4 KiB write +
# fdatasync in the work directory (median and p90 of 100), what every synchronous commit waits for.
fsync_latency() {
  python3 - "$work/fsync-probe" <<'PY'
import os, statistics, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o600)
samples = []
for i in range(100):
    os.pwrite(fd, b"x" * 4096, (i % 16) * 4096)
    t = time.perf_counter()
    os.fdatasync(fd)
    samples.append((time.perf_counter() - t) * 1000)
os.close(fd)
os.unlink(sys.argv[1])
samples.sort()
print(f"fdatasync median {statistics.median(samples):.2f} ms, p90 {samples[89]:.2f} ms")
PY
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

declare -A rate p99 rss
run_target() { # name port pid
  local name=$1 port=$2 pid=$3
  wait_ready "$port"
  local out
  # One second of the same load first, unmeasured: every target starts warm (FreeRADIUS answers
  # its first second at a fraction of its pace, which a short run would count against it).
  "$build/acctlab_load" --server "127.0.0.1:$port" --window 256 --duration 1 --json >/dev/null || true
  out=$("$build/acctlab_load" --server "127.0.0.1:$port" --window 256 --duration "$seconds" --json || true)
  echo "$name W=256: $out"
  rate[$name]=$(python3 -c 'import json,sys; print(int(json.loads(sys.argv[1])["rate"]))' "$out")
  local rss_after_first=$(rss_kb "$pid")
  out=$("$build/acctlab_load" --server "127.0.0.1:$port" --window 32 --duration "$seconds" --json || true)
  echo "$name W=32:  $out"
  p99[$name]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["p99_ms"])' "$out")
  rss[$name]="$rss_after_first -> $(rss_kb "$pid")"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Two servers, the load split over both: each acctlab_load keeps W/2 outstanding on its server.
run_pair() { # name port_a pid_a port_b pid_b
  local name=$1 port_a=$2 pid_a=$3 port_b=$4 pid_b=$5
  wait_ready "$port_a"
  wait_ready "$port_b"
  local w out_a out_b
  for w in 256 32; do
    "$build/acctlab_load" --server "127.0.0.1:$port_a" --window $((w / 2)) --duration 1 --json >/dev/null &
    "$build/acctlab_load" --server "127.0.0.1:$port_b" --window $((w / 2)) --duration 1 --json >/dev/null
    wait $!
    "$build/acctlab_load" --server "127.0.0.1:$port_a" --window $((w / 2)) --duration "$seconds" --json >"$work/pair-a.json" &
    local load_a=$!
    out_b=$("$build/acctlab_load" --server "127.0.0.1:$port_b" --window $((w / 2)) --duration "$seconds" --json || true)
    wait $load_a || true
    out_a=$(cat "$work/pair-a.json")
    echo "$name W=$w: $out_a $out_b"
    if [ $w = 256 ]; then
      rate[$name]=$(python3 -c 'import json,sys; print(int(sum(json.loads(a)["rate"] for a in sys.argv[1:])))' "$out_a" "$out_b")
    else
      p99[$name]=$(python3 -c 'import json,sys; print(max(json.loads(a)["p99_ms"] for a in sys.argv[1:]))' "$out_a" "$out_b")
    fi
  done
  rss[$name]="$(rss_kb "$pid_a") + $(rss_kb "$pid_b")"
  kill "$pid_a" "$pid_b" 2>/dev/null || true
  wait "$pid_a" "$pid_b" 2>/dev/null || true
}

# The ceiling is the faster of the no-work responder's two ways of sending (sendmmsg, and the
# UDP segmentation acctlab serve answers with). With ROUNDS > 1 the targets are measured in turn,
# round after round, so a drift of the machine touches them all alike; FreeRADIUS with SQL (slow
# and far from its target) only in the first round.
start_null() { # extra args...
  port=$(free_port)
  "$build/acctlab_null_responder" --listen "127.0.0.1:$port" "$@" >>"$work/null.log" 2>&1 &
  pids+=($!)
}
have_serve=false
"$build/acctlab" --help 2>/dev/null | grep -qE "^ +serve" && have_serve=true
# acctlab on PostgreSQL, one server and two, with BUILD's acctlab, each on a fresh database.
run_pg_targets() { # round suffix build
  local round=$1 suffix=$2 with=$3
  local one="pg1_${round}${suffix//-/_}" two="pg2_${round}${suffix//-/_}"
  for db in $one $two; do psql -q "$(pg_uri postgres)" -c "CREATE DATABASE $db"; done
  port=$(free_port)
  "$with/acctlab" serve --listen "127.0.0.1:$port" --db "$(pg_uri $one)" \
    >"$work/acctlab-pg$suffix.log" 2>&1 &
  pids+=($!)
  run_target "acctlab-pg$suffix#$round" "$port" $!
  port_a=$(free_port)
  "$with/acctlab" serve --listen "127.0.0.1:$port_a" --db "$(pg_uri $two)" \
    >"$work/acctlab-pg2a$suffix.log" 2>&1 &
  pid_a=$!
  pids+=($pid_a)
  port_b=$(free_port)
  "$with/acctlab" serve --listen "127.0.0.1:$port_b" --db "$(pg_uri $two)" \
    >"$work/acctlab-pg2b$suffix.log" 2>&1 &
  pid_b=$!
  pids+=($pid_b)
  run_pair "acctlab-pg2$suffix#$round" "$port_a" "$pid_a" "$port_b" "$pid_b"
}
pg_started=false
for round in $(seq 1 "$rounds"); do
  [ "$rounds" -gt 1 ] && echo "== round $round of $rounds"
  if [ "$pg_only" = 0 ]; then
    start_null
    run_target "null-mmsg#$round" "$port" $!
    start_null --segment
    run_target "null-seg#$round" "$port" $!
  fi
  if $have_serve; then
    if [ "$pg_only" = 0 ]; then
      port=$(free_port)
      rm -f "$work/acctlab.db"*
      "$build/acctlab" serve --listen "127.0.0.1:$port" --db "$work/acctlab.db" >"$work/acctlab.log" 2>&1 &
      pids+=($!)
      run_target "acctlab#$round" "$port" $!
    fi
    if [ "$round" = 1 ] && [ "$pg_only" = 0 ]; then
      # Informational, no target: acctlab with the detail file's own guarantee (no fsync), so
      # the reader sees what durability costs and what it does not explain.
      port=$(free_port)
      rm -f "$work/acctlab-nosync.db"*
      "$build/acctlab" serve --listen "127.0.0.1:$port" --db "$work/acctlab-nosync.db" \
        --synchronous off >"$work/acctlab-nosync.log" 2>&1 &
      pids+=($!)
      run_target "acctlab-nosync#$round" "$port" $!
    fi
    if { [ "$round" = 1 ] || [ "$pg_only" = 1 ]; } && pg_cluster_available; then
      if ! $pg_started; then
        pg_cluster_start "$work" -c max_connections=100
        pg_started=true
        pg_uri() { pg_cluster_uri "$work" "$1"; }
        psql -q "$(pg_uri postgres)" -c "CREATE DATABASE radius"
      fi
      if [ -n "$base_build" ]; then
        run_pg_targets "$round" -base "$base_build"
      fi
      run_pg_targets "$round" "" "$build"
      if [ "$round" = 1 ] && [ -f "$fr_pg_schema" ]; then
        psql -q "$(pg_uri radius)" -f "$fr_pg_schema" >/dev/null
        port=$(free_port)
        FR_PG_CONNINFO="host=$work/pg dbname=radius user=acctlab" \
          bench/freeradius/freeradius-lab.sh postgresql "$port" "$work/fr-pg" >"$work/fr-pg.log" 2>&1 &
        pids+=($!)
        run_target "fr-pg#$round" "$port" $!
        fr_pg_rows=$(psql -Atq "$(pg_uri radius)" -c "SELECT count(*) FROM radacct")
      fi
    fi
  fi
  [ "$pg_only" = 1 ] && continue
  modes=detail
  [ "$round" = 1 ] && modes="detail sql"
  for mode in $modes; do
    port=$(free_port)
    bench/freeradius/freeradius-lab.sh "$mode" "$port" "$work/fr-$mode" >"$work/fr-$mode.log" 2>&1 &
    pids+=($!)
    run_target "fr-$mode#$round" "$port" $!
  done
done

echo
echo "measured under: load average $(cut -d' ' -f1-3 /proc/loadavg) (2 cores shared), $(fsync_latency)"
printf '%-19s %14s %10s   %s\n' target "acked/s W=256" "p99 W=32" "RSS kB (after W=256 -> after W=32)"
for round in $(seq 1 "$rounds"); do
  for t in null-mmsg null-seg acctlab acctlab-nosync acctlab-pg-base acctlab-pg acctlab-pg2-base \
    acctlab-pg2 fr-detail fr-sql fr-pg; do
    key="$t#$round"
    [ -n "${rate[$key]:-}" ] || continue
    name=$t
    [ "$rounds" -gt 1 ] && name="$t ($round)"
    printf '%-19s %14s %10s   %s\n' "$name" "${rate[$key]}" "${p99[$key]} ms" "${rss[$key]}"
  done
done
if $have_serve && [ "$pg_only" = 0 ]; then
  args=()
  for round in $(seq 1 "$rounds"); do
    args+=("${rate[null-mmsg#$round]}" "${rate[null-seg#$round]}" "${rate[acctlab#$round]}"
      "${rate[fr-detail#$round]}")
  done
  python3 - "${rate[fr-sql#1]}" "${rate[acctlab-nosync#1]}" "${args[@]}" <<'PY'
import statistics, sys
sql = float(sys.argv[1])
nosync = float(sys.argv[2])
values = list(map(float, sys.argv[3:]))
rounds = [values[i:i + 4] for i in range(0, len(values), 4)]
to_null = [a / max(m, s) for m, s, a, _ in rounds]
to_detail = [a / d for _, _, a, d in rounds]
first_acctlab = rounds[0][2]
if len(rounds) > 1:
    print("per round: acctlab / null " + " ".join(f"{r:.3f}" for r in to_null) +
          "; acctlab / detail " + " ".join(f"{r:.3f}" for r in to_detail))
label = "median of rounds" if len(rounds) > 1 else "this run"
# Three decimals and a verdict from the exact ratio: 0.3465 must not read as 0.35 met.
def line(name, ratio, target, note):
    verdict = "met" if ratio >= target else "NOT met"
    print(f"{name:<28} = {ratio:8.3f}  (target >= {target}: {verdict}; {note})")
line("acctlab / null responder", statistics.median(to_null), 0.35, f"ceiling: the faster null; {label}")
line("acctlab / FreeRADIUS detail", statistics.median(to_detail), 3, label)
line("acctlab / FreeRADIUS sql", first_acctlab / sql, 40, "round 1")
print(f"{'acctlab --synchronous off':<28} = {nosync / rounds[0][3]:8.3f}  x FreeRADIUS detail "
      "(no target: the detail file's own guarantee, no fsync; round 1)")
PY
fi
if [ -n "${rate[acctlab-pg#1]:-}" ] && [ -n "${rate[fr-pg#1]:-}" ]; then
  echo "fr-pg stored $fr_pg_rows radacct rows (one per session)"
  python3 - "${rate[acctlab-pg#1]}" "${rate[acctlab-pg2#1]:-0}" "${rate[fr-pg#1]}" "${p99[acctlab-pg#1]}" <<'PY'
import sys
one, two, fr, p99 = map(float, sys.argv[1:])
def line(name, ratio, target):
    print(f"{name:<28} = {ratio:8.3f}  (target >= {target}: {'met' if ratio >= target else 'NOT met'}; round 1)")
line("acctlab-pg / fr-pg", one / fr, 10)
line("acctlab-pg2 / fr-pg", two / fr, 10)
print(f"{'acctlab-pg p99 at W=32':<28} = {p99:8.2f} ms (target <= 5 ms: {'met' if p99 <= 5 else 'NOT met'})")
PY
fi
if [ -n "$base_build" ] && [ -n "${rate[acctlab-pg-base#1]:-}" ]; then
  for t in acctlab-pg acctlab-pg2; do
    line="$t / $t-base per round:"
    for round in $(seq 1 "$rounds"); do
      [ -n "${rate[$t#$round]:-}" ] || continue
      line+=" $(python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.3f}")' \
        "${rate[$t#$round]}" "${rate[$t-base#$round]}")"
    done
    echo "$line"
  done
fi
