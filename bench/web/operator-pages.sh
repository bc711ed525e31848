#!/usr/bin/env bash
# The viewer's pages over HTTP as an admin and as an operator whose NAS group holds 5 of the 20
# NASes, on SQLite and on PostgreSQL, through a real `acctlab web` (accounts, a clients file with
# `group = NAME`, a signed session cookie from POST /login) and curl's timings. The database is
# bench_web's (build/bench/web/bench_web: N records of 5,000 users on 20 NASes, 10.1.1.1-20, each
# NAS's requests from its own address); the PostgreSQL copy of it is made in a throwaway cluster
# in the work directory (initdb as nobody when run as root, a Unix socket only, stopped at the
# end), its schema by the build under test, its rows copied with sqlite3 | psql COPY.
#
#   bench/web/operator-pages.sh [build] [records=1000000] [runs=5] [engines="sqlite postgres"]
#
# Prints one Markdown table per engine: page, admin ms, operator ms, operator/admin (median of
# `runs` requests each, curl's time_total: connection, query, HTML), and the machine's state
# (load average, fdatasync latency: bench/lib.sh). Work files in a temporary directory, removed
# at the end. Set KEEP_DB=PATH to reuse (or keep) the SQLite database between runs.
# BASE_BUILD=DIR (PostgreSQL only): a before/after in one run. The rows are copied twice into the
# same cluster, one database with DIR's schema (an earlier build) and one with this build's; a
# viewer of each build serves its own, and each page is timed on both in turn (base admin, admin,
# base operator, operator), so a change of the machine's load touches both alike.
set -euo pipefail

build=${1:-build}
records=${2:-1000000}
runs=${3:-5}
engines=${4:-sqlite postgres}
base_build=${BASE_BUILD:-}
cd "$(dirname "$0")/../.."
source bench/lib.sh

work=$(mktemp -d /tmp/acctlab-operator-pages.XXXXXX)
pids=()
pg_bin=/usr/lib/postgresql/15/bin
pg_started=false
pg_as() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u nobody -- "$@"); else "$@"; fi; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if $pg_started; then
    pg_as "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

db=${KEEP_DB:-$work/web.db}
if [ ! -f "$db" ]; then
  "$build/bench/web/bench_web" "$records" "$db" --build-only
fi

# Accounts and the clients file: the operator's group holds the clients 10.1.1.1-10.1.1.5.
printf 'password1\n' | "$build/acctlab" users add admin --role admin \
  --accounts "$work/viewer.accounts" 2>/dev/null
printf 'password2\n' | "$build/acctlab" users add op --role operator --nas-group bench \
  --accounts "$work/viewer.accounts" 2>/dev/null
: >"$work/clients.conf"
for n in $(seq 1 20); do
  group=$([ "$n" -le 5 ] && echo "group = bench" || echo "group = other")
  printf 'client nas%d {\n  ipaddr = 10.1.1.%d\n  secret = s\n  %s\n}\n' "$n" "$n" "$group" \
    >>"$work/clients.conf"
done

# The pages, with ids from the database: a closed session of an operator's NAS and its user, the
# rule with the most findings, the serve run.
session=$(sqlite3 "$db" "SELECT id FROM sessions WHERE nas_key = '10.1.1.3' AND state = 'closed'
  AND id >= (SELECT max(id) / 2 FROM sessions) ORDER BY id LIMIT 1")
user=$(sqlite3 "$db" "SELECT user_name FROM sessions WHERE id = $session")
rule=$(sqlite3 "$db" "SELECT rule_id FROM finding_tally GROUP BY rule_id ORDER BY sum(findings)
  DESC LIMIT 1")
pages=("/" "/api/overview" "/sessions" "/sessions?page=100" "/sessions?user=${user/@/%40}"
  "/sessions?q=11.1.7" "/sessions?state=open" "/sessions/$session" "/usage" "/conformance"
  "/conformance/$rule" "/runs" "/runs/1" "/nas")

ms() { # cookie-jar target: median time_total of $runs requests, in ms; exits on a status not 200
  local samples=() line
  for _ in $(seq 1 "$runs"); do
    line=$(curl -s -o /dev/null -b "$1" -w '%{http_code} %{time_total}' "http://127.0.0.1:$port$2")
    if [ "${line%% *}" != 200 ]; then
      echo "operator-pages: GET $2 answered ${line%% *}, not 200: nothing timed" >&2
      exit 1
    fi
    samples+=("${line#* }")
  done
  printf '%s\n' "${samples[@]}" | sort -g | awk '{a[NR] = $1} END {printf "%.1f", 1000 * a[int((NR + 1) / 2)]}'
}

start_viewer() { # name build database: sets port, logs in admin and op (cookie jars name-*.jar)
  port=$(free_port)
  "$2/acctlab" web --db "$3" --listen "127.0.0.1:$port" --accounts "$work/viewer.accounts" \
    --clients "$work/clients.conf" >"$work/web-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/login" && break
    sleep 0.1
  done
  for who in admin:password1 op:password2; do
    curl -s -o /dev/null -c "$work/$1-${who%%:*}.jar" -d "user=${who%%:*}&password=${who#*:}" \
      "http://127.0.0.1:$port/login"
  done
}

ratio() { awk -v a="$1" -v o="$2" 'BEGIN {printf "%.2f", (a > 0 ? o / a : 0)}'; }

run_engine() { # engine database
  start_viewer "$1" "$build" "$2"
  cp "$work/$1-admin.jar" "$work/admin.jar"
  cp "$work/$1-op.jar" "$work/op.jar"
  echo
  echo "$1, $records records, $(date -u '+%Y-%m-%d %H:%M UTC'), median of $runs; $(machine_state "$work" 100)"
  echo
  echo "| page | admin ms | operator ms | operator/admin |"
  echo "|---|---:|---:|---:|"
  for page in "${pages[@]}"; do
    ms "$work/admin.jar" "$page" >/dev/null # warm the cache and the connection pool
    a=$(ms "$work/admin.jar" "$page")
    o=$(ms "$work/op.jar" "$page")
    echo "| \`$page\` | $a | $o | $(awk -v a="$a" -v o="$o" 'BEGIN {printf "%.2f", (a > 0 ? o / a : 0)}') |"
  done
  kill "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
}

for engine in $engines; do
  if [ "$engine" = sqlite ]; then
    run_engine sqlite "$db"
    continue
  fi
  if [ ! -x "$pg_bin/initdb" ]; then
    echo "operator-pages: PostgreSQL 15 not installed ($pg_bin): no PostgreSQL figures" >&2
    continue
  fi
  mkdir -p "$work/pg"
  if [ "$(id -u)" = 0 ]; then chmod o+x "$work"; chown nobody "$work/pg"; fi
  pg_as "$pg_bin/initdb" -D "$work/pg/data" -A trust -U acctlab --no-sync -E UTF8 >"$work/pg-initdb.log" 2>&1
  pg_as "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/postgres.log" -w \
    -o "-k $work/pg -c listen_addresses='' -c max_connections=40" start >/dev/null
  pg_started=true
  pg_load() { # uri build: that build's schema, then the SQLite database's rows
    local uri=$1
    "$2/bench/web/bench_web" 0 "$db" --pg-schema "$uri"
    copy() { # table "columns" "select list"
      sqlite3 -csv "$db" "SELECT $3 FROM $1" |
        psql -X -q -v ON_ERROR_STOP=1 "$uri" -c "\\copy $1 ($2) FROM STDIN WITH (FORMAT csv)"
    }
    copy runs "id, kind, started, finished, verdict, report" "id, kind, started, finished, verdict, report"
    copy nas "id, identity, address, first_seen, last_seen, requests, accepted" \
      "id, identity, address, first_seen, last_seen, requests, accepted"
    cols="id, nas_key, acct_session_id, unique_id, state, start_time, update_time, stop_time,
      last_record_time, input_octets, output_octets, input_packets, output_packets, session_time,
      user_name, framed_ip, peer, nas_ip, record_count"
    copy sessions "$cols" "$cols"
    cols="id, run_id, receive_time, src_addr, src_port, code, identifier, verdict, session_row,
      status_type, acct_session_id, nas_identity, user_name, event_time, delay, session_time,
      input_octets, output_octets, input_packets, output_packets"
    copy packets "$cols, raw" "$cols, '\\x' || hex(raw)"
    cols="id, run_id, rule_id, severity, scope, message, packet_id, record_id, session_id"
    copy findings "$cols" "$cols"
    psql -X -q -v ON_ERROR_STOP=1 "$uri" -c "VACUUM ANALYZE"
  }
  uri="postgresql://acctlab@/postgres?host=$work/pg"
  if [ -z "$base_build" ]; then
    pg_load "$uri" "$build"
    run_engine postgres "$uri"
    continue
  fi
  base_uri="postgresql://acctlab@/base?host=$work/pg"
  psql -X -q "$uri" -c "CREATE DATABASE base"
  pg_load "$base_uri" "$base_build"
  pg_load "$uri" "$build"
  start_viewer base "$base_build" "$base_uri"
  base_port=$port
  start_viewer new "$build" "$uri"
  new_port=$port
  echo
  echo "postgres, $records records, before ($base_build) and after ($build), $(date -u '+%Y-%m-%d %H:%M UTC'), median of $runs; $(machine_state "$work" 100)"
  echo
  echo "| page | admin before ms | admin after ms | after/before | operator before ms | operator after ms | after/before |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for page in "${pages[@]}"; do
    port=$base_port ms "$work/base-admin.jar" "$page" >/dev/null
    port=$new_port ms "$work/new-admin.jar" "$page" >/dev/null
    ab=$(port=$base_port ms "$work/base-admin.jar" "$page")
    an=$(port=$new_port ms "$work/new-admin.jar" "$page")
    ob=$(port=$base_port ms "$work/base-op.jar" "$page")
    on=$(port=$new_port ms "$work/new-op.jar" "$page")
    echo "| \`$page\` | $ab | $an | $(ratio "$ab" "$an") | $ob | $on | $(ratio "$ob" "$on") |"
  done
done
