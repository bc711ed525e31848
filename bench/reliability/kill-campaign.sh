#!/usr/bin/env bash
# Kill campaign of issue 18: `acctlab serve` under load is killed with SIGKILL KILLS times in a
# row at random moments and restarted on the same port and database each time; acctlab_load
# (W outstanding Cisco IPsec records, every answer verified) runs through all of it and logs the
# key of every acknowledged record (--ack-log). At the end every acknowledged record must be in the
# database: acknowledged-but-missing = 0.
#
# Usage: bench/reliability/kill-campaign.sh [BUILD_DIR] [KILLS] [sqlite|pg] [WINDOW] [SEED]
#   sqlite: the default database (WAL, synchronous=FULL).
#   pg: a throwaway PostgreSQL 15 cluster in the work directory (as bench/compare-servers.sh:
#       initdb as nobody when run as root, Unix socket only, synchronous_commit on), removed at
#       the end. Only acctlab is killed, never the postmaster.
# Moments: after the server answers its first probe, a uniform random wait of 0-1.5 s under load;
# every fifth kill instead lands 0-0.3 s after the spawn, while the server may still be opening
# and recovering its database. SEED makes the moments repeat (bash $RANDOM).
# Loopback only, private ports; every process it started is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
kills=${2:-100}
engine=${3:-sqlite}
window=${4:-64}
seed=${5:-$$}
RANDOM=$seed
work=$(mktemp -d /tmp/acctlab-kill.XXXXXX)
server=
load=
source bench/lib.sh
cleanup() {
  # Only the current server and load client: the PIDs of the killed servers may be reused.
  for p in $server $load; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_cluster_stop "$work"
  rm -rf "$work"
}
trap cleanup EXIT

echo "kill campaign: $(date -u '+%F %T') UTC, $kills kills, $engine, W=$window, seed $seed"
echo "machine: $(machine_state "$work")"

case $engine in
sqlite) db="$work/acctlab.db" ;;
pg)
  pg_cluster_start "$work"
  db=$(pg_cluster_uri "$work" postgres)
  ;;
*)
  echo "kill-campaign: engine must be sqlite or pg" >&2
  exit 2
  ;;
esac

port=$(free_port)
start_server() {
  "$build/acctlab" serve --listen "127.0.0.1:$port" --db "$db" --stats 0 >>"$work/serve.log" 2>&1 &
  server=$!
}
ms() { date +%s%3N; }

start_server
wait_ready "$port"
"$build/acctlab_load" --server "127.0.0.1:$port" --window "$window" --duration 36000 --timeout 1 \
  --ack-log "$work/acks.txt" --json >"$work/load.json" 2>"$work/load.err" &
load=$!

recoveries=()
early=0
for k in $(seq 1 "$kills"); do
  if [ $((k % 5)) = 0 ]; then
    # While it starts: the database may be mid-recovery from the previous kill.
    sleep "0.$(printf '%03d' $((RANDOM % 300)))"
    early=$((early + 1))
  else
    r=$((RANDOM % 1500))
    sleep "$((r / 1000)).$(printf '%03d' $((r % 1000)))"
  fi
  kill -9 "$server"
  wait "$server" 2>/dev/null || true
  kill -0 "$load" || { echo "kill-campaign: the load client ended early" >&2; exit 1; }
  t0=$(ms)
  start_server
  if [ $((k % 5)) != 4 ]; then
    wait_ready "$port" || { echo "kill-campaign: no answer after kill $k" >&2; tail -5 "$work/serve.log" >&2; exit 1; }
    recoveries+=($(($(ms) - t0)))
  fi
  [ $((k % 10)) = 0 ] && echo "  $k kills, $(wc -l <"$work/acks.txt") acknowledged so far"
done
wait_ready "$port"
sleep 2 # the last server carries the load for a while: the campaign ends on a live server
kill -TERM "$load"
wait "$load" || true
load=
kill -TERM "$server"
wait "$server" 2>/dev/null || true
server=
cat "$work/load.json"

# Every acknowledged key (Acct-Session-Id, Acct-Status-Type, Acct-Session-Time; the Start has no
# Session-Time, logged as 0) against the records table.
query="SELECT acct_session_id || ' ' || status_type || ' ' || coalesce(session_time, 0) FROM records"
case $engine in
sqlite) python3 -c 'import sqlite3,sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(db.execute("PRAGMA integrity_check").fetchone()[0], file=sys.stderr)
for (row,) in db.execute(sys.argv[2]): print(row)' "$db" "$query" >"$work/stored.txt" 2>"$work/integrity.txt"
  integrity=$(cat "$work/integrity.txt") ;;
pg) pg_as psql -h "$work/pg" -U acctlab -d postgres -At -c "$query" >"$work/stored.txt"
  integrity="n/a (PostgreSQL)" ;;
esac
python3 - "$work/acks.txt" "$work/stored.txt" "$work/load.json" "$kills" "$early" "$integrity" \
  "${recoveries[*]}" <<'PY'
import collections, json, statistics, sys
acks = [line.strip() for line in open(sys.argv[1]) if line.strip()]
stored = collections.Counter(line.strip() for line in open(sys.argv[2]) if line.strip())
load = json.load(open(sys.argv[3]))
kills, early, integrity = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
recoveries = sorted(int(x) for x in sys.argv[7].split())
missing = [a for a in acks if a not in stored]
twice = sum(1 for a in set(acks) if stored[a] > 1)
print(f"kills: {kills} SIGKILLs ({early} within 0.3 s of a start), each followed by a restart")
print(f"restart to first answer: median {statistics.median(recoveries)} ms, max {max(recoveries)} ms "
      f"({len(recoveries)} restarts timed)")
acked = load["answered"] + load["late"]
print(f"load: sent {load['sent']}, acknowledged {acked} ({load['late']} of them after the client's "
      f"1 s timeout), never answered {load['sent'] - acked}, bad authenticator "
      f"{load['bad_authenticator']}")
print(f"records stored (all, incl. probes): {sum(stored.values())}; acknowledged keys logged: {len(acks)}")
print(f"acknowledged but missing: {len(missing)}; acknowledged and stored twice: {twice}; "
      f"integrity_check: {integrity}")
for m in missing[:10]:
    print("  missing:", m)
ok = not missing and len(acks) == acked and load["bad_authenticator"] == 0 and \
     integrity in ("ok", "n/a (PostgreSQL)")
print("kill campaign:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
