#!/usr/bin/env bash
# Soak of issue 18: `acctlab serve` (SQLite, synchronous=FULL) under a steady load for SECONDS at
# half its measured maximum rate. acctlab_load keeps Cisco IPsec sessions opening and closing
# (Start, Interim-Updates, Stop; a ring of ~1,000 sessions open at any time) at a fixed --rate and
# verifies every answer. Every minute: the server's RSS, its open sessions and answered count
# (/metrics), the load average. At the end: RSS first/last/max, 0 lost, 0 unanswered, and every
# answered record in the database.
#
# Usage: bench/reliability/soak.sh [BUILD_DIR] [SECONDS] [RATE|auto] [OUT_DIR]
#   RATE auto: a 10 s run at W=256 against a scratch server first; the soak runs at half of it.
#   OUT_DIR keeps samples.tsv, the load client's JSON and the server's log (default: a temp dir).
# Loopback only, private ports; the server is stopped at the end. Bound it from outside too
# (`timeout`), e.g. nohup timeout 4500 bench/reliability/soak.sh build 3600 auto out/ &
# The database grows with every record (about 1 kB each): check free space before a long run.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
seconds=${2:-3600}
rate=${3:-auto}
out=${4:-$(mktemp -d /tmp/acctlab-soak.XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/acctlab-soak-db.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
source bench/lib.sh

echo "soak: $(date -u '+%F %T') UTC, $seconds s, output in $out"
echo "before: $(machine_state "$work")" | tee "$out/machine.txt"

if [ "$rate" = auto ]; then
  port=$(free_port)
  "$build/acctlab" serve --listen "127.0.0.1:$port" --db "$work/max.db" --stats 0 >"$out/max-serve.log" 2>&1 &
  pids+=($!)
  max_pid=$!
  wait_ready "$port"
  "$build/acctlab_load" --server "127.0.0.1:$port" --window 256 --duration 1 --json >/dev/null || true
  max=$("$build/acctlab_load" --server "127.0.0.1:$port" --window 256 --duration 10 --json || true)
  echo "maximum (W=256, 10 s): $max" | tee -a "$out/machine.txt"
  kill "$max_pid"
  wait "$max_pid" 2>/dev/null || true
  pids=()
  rm -f "$work/max.db"*
  rate=$(python3 -c 'import json,sys; print(int(json.loads(sys.argv[1])["rate"] / 2))' "$max")
fi
echo "rate: $rate requests/s" | tee -a "$out/machine.txt"

port=$(free_port)
web=$(free_port)
"$build/acctlab" serve --listen "127.0.0.1:$port" --db "$work/soak.db" --web "127.0.0.1:$web" \
  --stats 60 >"$out/serve.log" 2>&1 &
pids+=($!)
server=$!
wait_ready "$port"
"$build/acctlab_load" --server "127.0.0.1:$port" --window 256 --rate "$rate" --duration "$seconds" \
  --timeout 3 --json >"$out/load.json" 2>"$out/load.err" &
pids+=($!)
load=$!

printf 'utc\telapsed_s\trss_kb\topen_sessions\tanswered\tdb_mb\tloadavg\n' >"$out/samples.tsv"
started=$(date +%s)
sample() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%T)" $(($(date +%s) - started)) "$(rss_kb "$server")" \
    "$(metric "$web" acctlab_open_sessions)" "$(metric "$web" acctlab_answered_total)" \
    "$(du -sm "$work" | cut -f1)" "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,)" >>"$out/samples.tsv"
}
sample
# One sample a minute while the load runs; bounded by the run's length plus five minutes.
for _ in $(seq 1 $((seconds / 60 + 5))); do
  for _ in $(seq 1 60); do
    kill -0 "$load" 2>/dev/null || break 2
    sleep 1
  done
  sample
done
wait "$load" || true
pids=("$server")
sample
echo "after: $(machine_state "$work")" | tee -a "$out/machine.txt"

stored=$(python3 - "$work/soak.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
# The probe of wait_ready is one more valid record than the load client sent.
print(db.execute("SELECT count(*) FROM records WHERE acct_session_id != 'probe'").fetchone()[0])
PY
)
kill "$server"
wait "$server" 2>/dev/null || true
pids=()
python3 - "$out" "$stored" <<'PY'
import json, sys
out, stored = sys.argv[1], int(sys.argv[2])
load = json.load(open(f"{out}/load.json"))
rows = [line.rstrip("\n").split("\t") for line in open(f"{out}/samples.tsv")][1:]
rss = [int(r[2]) for r in rows if r[2] not in ("", "0")]
opened = [int(float(r[3])) for r in rows if r[3] != "-"]
unanswered = load["sent"] - load["answered"]
print(f"load: sent {load['sent']}, answered {load['answered']} ({load['rate']}/s), lost {load['lost']}, "
      f"bad {load['bad_authenticator']}, unanswered {unanswered}; p50 {load['p50_ms']} ms, "
      f"p99 {load['p99_ms']} ms, max {load['max_ms']} ms")
print(f"stored records {stored}; answered but not stored {max(0, load['answered'] - stored)}")
print(f"RSS kB: first {rss[0]}, last {rss[-1]}, max {max(rss)}, min {min(rss)} ({len(rss)} samples)")
if opened:
    print(f"open sessions: first {opened[0]}, last {opened[-1]}, max {max(opened)}")
ok = load["lost"] == 0 and unanswered == 0 and load["bad_authenticator"] == 0 and stored >= load["answered"]
print("soak:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
