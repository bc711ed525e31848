#!/usr/bin/env bash
# Malformed storm of issue 18: COUNT mutated Accounting-Requests (acctlab_storm: bit flips,
# truncations, Length lies, attribute Length 0/1, huge Length claims, wrong secrets, an unknown
# source address) at a live `acctlab serve`, interleaved with valid traffic (acctlab_load at a
# fixed rate, every answer verified). Checks that
#   - the valid requests keep being answered (answered / sent, none lost),
#   - none of the bad ones is answered or stored as a valid record (the database's verdicts per
#     storm source, and no record with a "storm-" session id),
#   - the server counts each cause: its /metrics counters and stored verdicts against the
#     storm's own prediction per cause (an independent model of RFC 2865's framing).
# Usage: bench/reliability/malformed-storm.sh [BUILD_DIR] [COUNT] [STORM_RATE] [VALID_RATE]
# Loopback only (the unknown source is 127.0.0.2), private ports; the server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
count=${2:-1000000}
storm_rate=${3:-20000}
valid_rate=${4:-2000}
work=$(mktemp -d /tmp/acctlab-storm.XXXXXX)
server=
load=
cleanup() {
  for p in $server $load; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
source bench/lib.sh

echo "malformed storm: $(date -u '+%F %T') UTC, $count mutated packets at $storm_rate/s, valid load at $valid_rate/s"
echo "machine: $(machine_state "$work")"
rcvbuf_errors() { awk '/^Udp:/ && ++n == 2 {print $6}' /proc/net/snmp; }

port=$(free_port)
web=$(free_port)
"$build/acctlab" serve --listen "127.0.0.1:$port" --db "$work/storm.db" --web "127.0.0.1:$web" \
  --stats 0 >"$work/serve.log" 2>&1 &
server=$!
wait_ready "$port"
errors_before=$(rcvbuf_errors)
seconds=$(python3 -c "print(int($count / $storm_rate) + 3)")
"$build/acctlab_load" --server "127.0.0.1:$port" --window 64 --rate "$valid_rate" \
  --duration "$seconds" --timeout 3 --json >"$work/load.json" 2>"$work/load.err" &
load=$!
sleep 1 # the valid load runs before, through and after the storm
"$build/acctlab_storm" --server "127.0.0.1:$port" --count "$count" --rate "$storm_rate" \
  --unknown-source 127.0.0.2 >"$work/storm.json" || true
wait "$load" || true
load=
errors_after=$(rcvbuf_errors)
# Everything received is committed (evidence included) before the counters are read: wait until
# received and committed stop moving (bounded: 60 s).
last=
for _ in $(seq 1 60); do
  now="$(metric "$web" acctlab_received_total) $(metric "$web" acctlab_committed_total)"
  [ "$now" = "$last" ] && break
  last=$now
  sleep 1
done
curl -s --max-time 5 "http://127.0.0.1:$web/metrics" >"$work/metrics.txt"
kill -TERM "$server"
wait "$server" 2>/dev/null || true
server=
echo "machine after: $(machine_state "$work")"

python3 - "$work" "$((errors_after - errors_before))" <<'PY'
import collections, json, sqlite3, sys
work, rcvbuf_errors = sys.argv[1], int(sys.argv[2])
storm = json.load(open(f"{work}/storm.json"))
load = json.load(open(f"{work}/load.json"))
metrics = {}
for line in open(f"{work}/metrics.txt"):
    if line.startswith("acctlab_") and "{" not in line.split()[0]:
        name, value = line.split()[:2]
        metrics[name] = float(value)
db = sqlite3.connect(f"file:{work}/storm.db?mode=ro", uri=True)
stored = collections.defaultdict(collections.Counter)
for addr, port, verdict, n in db.execute(
        "SELECT src_addr, src_port, verdict, count(*) FROM packets GROUP BY 1, 2, 3"):
    stored[f"{addr}:{port}"][verdict] = n
storm_records = db.execute("SELECT count(*) FROM records WHERE acct_session_id LIKE 'storm-%'").fetchone()[0]
valid_records = db.execute("SELECT count(*) FROM records WHERE acct_session_id != 'probe'").fetchone()[0]

ok = True
print(f"valid load: sent {load['sent']}, answered {load['answered']}, lost {load['lost']}, "
      f"bad authenticator {load['bad_authenticator']}; p99 {load['p99_ms']} ms, max {load['max_ms']} ms; "
      f"records stored {valid_records}")
ok &= load["lost"] == 0 and load["answered"] == load["sent"] and load["bad_authenticator"] == 0
ok &= valid_records >= load["answered"]
print(f"storm: {storm['sent']} sent in {storm['seconds']:.1f} s, {storm['answered']} answered, "
      f"{storm['send_errors']} send errors; UDP receive-buffer drops on this host meanwhile: {rcvbuf_errors}")
ok &= storm["answered"] == 0 and storm_records == 0
print(f"{'cause':<15} {'sent':>8}  {'predicted verdicts':<40} stored verdicts")
expected_total = collections.Counter()
for cause, s in storm["causes"].items():
    got = stored.get(s["source"], collections.Counter())
    expected_total.update(s["expected"])
    fmt = lambda c: ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "-"
    same = dict(got) == s["expected"]
    ok &= same and got.get("ok", 0) == 0
    print(f"{cause:<15} {s['sent']:>8}  {fmt(s['expected']):<40} {fmt(got)}{'' if same else '  MISMATCH'}")
print(f"records with a storm session id: {storm_records}")
print("the server's reasons per cause (stored packets.reason, offsets and values left out):")
for cause, s in storm["causes"].items():
    addr, port = s["source"].rsplit(":", 1)
    reasons = collections.Counter()
    for reason, n in db.execute("SELECT reason, count(*) FROM packets WHERE src_addr = ? AND "
                                "src_port = ? GROUP BY 1", (addr, int(port))):
        reasons[reason.split(" at offset")[0].split(":")[0]] += n
    print(f"  {cause:<15} " + "; ".join(f"{r} {n}" for r, n in reasons.most_common(4)) +
          (f"; {len(reasons) - 4} more" if len(reasons) > 4 else ""))
valid_sent = load["sent"]
print("server counters (/metrics) against what was sent:")
for name, verdict in [("acctlab_malformed_total", "malformed"),
                      ("acctlab_bad_authenticator_total", "bad-authenticator"),
                      ("acctlab_unknown_client_total", "unknown-client")]:
    got = int(metrics.get(name, -1))
    same = got == expected_total[verdict]
    ok &= same
    print(f"  {name:<34} {got:>8}  sent {expected_total[verdict]:>8}{'' if same else '  MISMATCH'}")
for name in ["acctlab_bad_message_authenticator_total", "acctlab_duplicates_total",
             "acctlab_status_server_total", "acctlab_overload_drops_total"]:
    got = int(metrics.get(name, -1))
    ok &= got == 0
    print(f"  {name:<34} {got:>8}  sent        0{'' if got == 0 else '  MISMATCH'}")
received = int(metrics.get("acctlab_received_total", -1))
print(f"  acctlab_received_total             {received:>8}  sent {storm['sent'] + valid_sent} "
      f"(+ the readiness probe)")
print(f"  acctlab_answered_total             {int(metrics.get('acctlab_answered_total', -1)):>8}  "
      f"valid answered {load['answered']} (+ the probe)")
print("malformed storm:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
