#!/usr/bin/env bash
# ctest radsecproxy_live_capture (label radsecproxy):
#   tests/captures/radsecproxy-live-check.sh ACCTLAB SCRATCH-DIR
# records a fresh capture through a real radsecproxy in front of acctlab serve over RadSec
# (make-radsecproxy-capture.sh, about 6 s; serve writes the TLS key log) and judges both legs
# with `acctlab pcap analyze --tls-keylog --db`: the test fails unless the TLS leg is decrypted,
# both legs are stored (16 packets: the proxy's 4 forwards are the NAS's 4 records again, kept as
# duplicates naming them; 4 records, one session) and the verdict is a pass with no error and no
# warning. Skipped (exit 77) when not root or radsecproxy/tcpdump are missing.
set -euo pipefail
[[ $# -eq 2 ]] || {
  echo "usage: $0 ACCTLAB SCRATCH-DIR" >&2
  exit 2
}
acctlab=$1
scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$scratch"
rm -f "$scratch"/radsecproxy-live.db*
timeout 60 "$here/make-radsecproxy-capture.sh" "$acctlab" --out "$scratch/radsecproxy-live.pcap"
report=$("$acctlab" pcap analyze "$scratch/radsecproxy-live.pcap" \
  --tls-keylog "$scratch/radsecproxy-live.keys" --secrets "$here/radsecproxy-clients.conf" \
  --db "$scratch/radsecproxy-live.db")
echo "$report"
grep -q "0 session(s) not decrypted, 0 line(s) not read" <<<"$report"
grep -q "8 RADIUS packets decrypted" <<<"$report"
grep -q "packets 16 (duplicate 4, ok 12), records 4" <<<"$report"
grep -q "sessions opened 1: closed 1" <<<"$report"
grep -Eq "^conformance \(profile rfc2866\): PASS; 0 of [0-9]+ rules failed; 0 errors, 0 warnings" \
  <<<"$report"
grep -q "^verdict: pass" <<<"$report"
