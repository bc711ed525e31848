#!/usr/bin/env bash
# ctest ocserv_live_capture (label ocserv):
#   tests/captures/ocserv-live-check.sh ACCTLAB SCRATCH-DIR
# records a fresh capture of a real SSL VPN gateway (make-ocserv-capture.sh: ocserv 1.1 with
# radcli, openconnect logging in through FreeRADIUS, pinging through the tunnel, sending 5 UDP
# datagrams of 1200 octets one way and logging out; acctlab serve taking the accounting; about
# 10 s) and judges it with `acctlab pcap analyze --db`. The test fails unless:
#   - the capture holds ocserv's shape: Start, the Interim-Update ocserv sends as each session
#     closes (and one 10 s in, should the session last that long on a slow machine), Stop with
#     Acct-Terminate-Cause User-Request (1), one session opened and closed;
#   - the counters are sane: the Stop's equal the closing Interim-Update's; Acct-Input-Octets
#     (from the user) holds the 5 echo requests and the 5 datagrams (5 x 1028 + 5 x 1228 octets),
#     Acct-Output-Octets the 5 echo replies and less than one datagram besides;
#   - the rfc2866 verdict is a pass with no error and exactly one warning, the true one:
#     SES-ATTRIBUTE-CONSISTENCY, the Start lacking the Framed-IP-Address the later records carry
#     (ocserv sends its Start at authentication, before it leases the address).
# Skipped (exit 77) when not root or ocserv/openconnect/FreeRADIUS/tcpdump/sqlite3 are missing.
set -euo pipefail
[[ $# -eq 2 ]] || {
  echo "usage: $0 ACCTLAB SCRATCH-DIR" >&2
  exit 2
}
acctlab=$1
scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v sqlite3 >/dev/null || {
  echo "SKIP: sqlite3 is not installed" >&2
  exit 77
}
mkdir -p "$scratch"
rm -f "$scratch"/ocserv-live.db*
timeout 90 "$here/make-ocserv-capture.sh" "$acctlab" --out "$scratch/ocserv-live.pcap"
report=$("$acctlab" pcap analyze "$scratch/ocserv-live.pcap" \
  --secrets "$here/ocserv-clients.conf" --db "$scratch/ocserv-live.db")
echo "$report"
# One update as the session closes; one more 10 s in on a machine so slow the session lasts that.
grep -Eq "Acct-Status-Type: Start 1, Stop 1, Interim-Update [12]$" <<<"$report"
grep -q "sessions opened 1: closed 1" <<<"$report"
grep -Eq "^conformance \(profile rfc2866\): PASS; 1 of [0-9]+ rules failed; 0 errors, 1 warnings, 0 infos" \
  <<<"$report"
grep -q "SES-ATTRIBUTE-CONSISTENCY .*Start (record 1 of the session) lacks Framed-IP-Address" \
  <<<"$report"
grep -q "^verdict: pass" <<<"$report"

# The records as stored: status, session time, octets in and out, address, terminate cause.
records=$(sqlite3 -separator ' ' "$scratch/ocserv-live.db" \
  "SELECT status_type, IFNULL(session_time, '-'), IFNULL(input_octets, '-'),
          IFNULL(output_octets, '-'), IFNULL(framed_ip, '-'), IFNULL(terminate_cause, '-')
   FROM records ORDER BY id")
echo "$records"
python3 - "$records" <<'EOF'
import sys
rows = [line.split() for line in sys.argv[1].splitlines()]
statuses = [row[0] for row in rows]
assert statuses in (["1", "3", "2"], ["1", "3", "3", "2"]), rows  # Start, Interim-Update(s), Stop
start, interim, stop = rows[0], rows[-2], rows[-1]
assert start[1:] == ["-"] * 5, start  # no counters, no address, no cause
assert interim[1:5] == stop[1:5], (interim, stop)  # the closing update repeats the Stop's figures
assert stop[4].startswith("203.0.113.") and stop[5] == "1", stop  # pool address; User-Request
octets_in, octets_out = int(stop[2]), int(stop[3])
# From the user: the 5 echo requests and the 5 datagrams; to the user: the 5 echo replies and
# less than one datagram's worth besides (the UDP went one way).
assert octets_in >= 5 * 1028 + 5 * 1228, stop
assert 5 * 1028 <= octets_out < 5 * 1028 + 1228, stop
print("counters sane: in %d, out %d" % (octets_in, octets_out))
EOF
