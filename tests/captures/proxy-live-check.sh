#!/usr/bin/env bash
# ctest freeradius_proxy_live_capture (label freeradius):
#   tests/captures/proxy-live-check.sh ACCTLAB SCRATCH-DIR
# records a fresh capture through a real FreeRADIUS proxy in front of acctlab serve
# (make-proxy-capture.sh --neighbours, about 6 s, with DNS queries from RADIUS port numbers
# beside it) and judges both legs with `acctlab pcap analyze --db`: the
# test fails unless the verdict is a pass with no error and no warning (one session, every
# Proxy-State returned). Then a second capture with the home server stopped for 3 s
# (--outage pause): still no error and no warning, and the late answers are EXC-LATENCY infos
# naming the path. Skipped (exit 77) when not root or FreeRADIUS/tcpdump are missing.
set -euo pipefail
[[ $# -eq 2 ]] || {
  echo "usage: $0 ACCTLAB SCRATCH-DIR" >&2
  exit 2
}
acctlab=$1
scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$scratch"
rm -f "$scratch"/proxy-live.db*
timeout 60 "$here/make-proxy-capture.sh" "$acctlab" --neighbours --out "$scratch/proxy-live.pcap"
report=$("$acctlab" pcap analyze "$scratch/proxy-live.pcap" --secrets "$here/proxy-clients.conf" \
  --db "$scratch/proxy-live.db")
echo "$report"
grep -q "sessions opened 1: closed 1" <<<"$report"
grep -Eq "^conformance \(profile rfc2866\): PASS; 0 of [0-9]+ rules failed; 0 errors, 0 warnings" \
  <<<"$report"
# dig's DNS queries from RADIUS port numbers (--neighbours) are another protocol's, left out.
grep -q "^other protocols on RADIUS port numbers: 36 datagrams" <<<"$report"
grep -q "^verdict: pass" <<<"$report" # not incomplete

rm -f "$scratch"/proxy-pause.db*
timeout 60 "$here/make-proxy-capture.sh" "$acctlab" --outage pause --out "$scratch/proxy-pause.pcap"
report=$("$acctlab" pcap analyze "$scratch/proxy-pause.pcap" --secrets "$here/proxy-clients.conf" \
  --db "$scratch/proxy-pause.db")
echo "$report"
grep -q "sessions opened 1: closed 1" <<<"$report"
grep -Eq "^conformance \(profile rfc2866\): PASS; 0 of [0-9]+ rules failed; 0 errors, 0 warnings" \
  <<<"$report"
findings=$("$acctlab" check --pcap "$scratch/proxy-pause.pcap" --secrets "$here/proxy-clients.conf" \
  --colour never)
echo "$findings"
grep -q "info: Interim-Update .* after its first transmission, .* after the latest of 2" <<<"$findings"
