#!/usr/bin/env bash
# The server benchmark of issue 3, in one run on this machine: the same load (acctlab_load, W
# outstanding Cisco IPsec records, every response authenticator verified) against
#   null      - the no-work responder (verifies and answers, stores nothing), sending with
#               sendmmsg and with UDP segmentation: the faster of the two is the ceiling
#   acctlab   - acctlab serve, SQLite WAL with synchronous=FULL (the default)
#   fr-detail - FreeRADIUS 3.2 writing only its detail file
#   fr-sql    - FreeRADIUS 3.2 with rlm_sql + sqlite writing radacct
# Usage: bench/compare-servers.sh [BUILD_DIR] [SECONDS]   (loopback only; every server is stopped
# at the end). Prints a table and the ratios the issue asks for.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-10}
work=$(mktemp -d /tmp/acctlab-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

source bench/lib.sh

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

declare -A rate p99 rss
run_target() { # name port pid
  local name=$1 port=$2 pid=$3
  wait_ready "$port"
  local out
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

# The ceiling is the faster of the no-work responder's two ways of sending (sendmmsg, and the
# UDP segmentation acctlab serve answers with).
port=$(free_port)
"$build/acctlab_null_responder" --listen "127.0.0.1:$port" >"$work/null.log" 2>&1 &
pids+=($!)
run_target null-mmsg "$port" $!
port=$(free_port)
"$build/acctlab_null_responder" --listen "127.0.0.1:$port" --segment >"$work/null-seg.log" 2>&1 &
pids+=($!)
run_target null-seg "$port" $!
if [ "${rate[null-seg]}" -gt "${rate[null-mmsg]}" ]; then ceiling=null-seg; else ceiling=null-mmsg; fi
rate[null]=${rate[$ceiling]}

if "$build/acctlab" --help 2>/dev/null | grep -qE "^ +serve"; then
  port=$(free_port)
  "$build/acctlab" serve --listen "127.0.0.1:$port" --db "$work/acctlab.db" >"$work/acctlab.log" 2>&1 &
  pids+=($!)
  run_target acctlab "$port" $!
fi

for mode in detail sql; do
  port=$(free_port)
  bench/freeradius/freeradius-lab.sh "$mode" "$port" "$work/fr-$mode" >"$work/fr-$mode.log" 2>&1 &
  pids+=($!)
  run_target "fr-$mode" "$port" $!
done

echo
printf '%-10s %14s %10s   %s\n' target "acked/s W=256" "p99 W=32" "RSS kB (after W=256 -> after W=32)"
for t in null-mmsg null-seg acctlab fr-detail fr-sql; do
  [ -n "${rate[$t]:-}" ] || continue
  printf '%-10s %14s %10s   %s\n' "$t" "${rate[$t]}" "${p99[$t]} ms" "${rss[$t]}"
done
if [ -n "${rate[acctlab]:-}" ]; then
  python3 - "${rate[acctlab]}" "${rate[null]}" "${rate[fr-detail]}" "${rate[fr-sql]}" <<'PY'
import sys
a, null, det, sql = map(float, sys.argv[1:])
print(f"acctlab / null responder     = {a / null:6.2f}  (target >= 0.35; ceiling: the faster null)")
print(f"acctlab / FreeRADIUS detail  = {a / det:6.2f}  (target >= 3)")
print(f"acctlab / FreeRADIUS sql     = {a / sql:6.2f}  (target >= 40)")
PY
fi
