#!/usr/bin/env bash
# ctest hostapd_live_capture (label hostapd):
#   tests/captures/hostapd-live-check.sh ACCTLAB SCRATCH-DIR
# records a fresh capture of a real 802.1X NAS (make-8021x-capture.sh: hostapd as a wired
# authenticator, wpa_supplicant logging in with EAP-MD5 through FreeRADIUS, acctlab serve taking
# the accounting; about 8 s) and judges it with `acctlab pcap analyze --db`: the test fails
# unless the rfc2866 verdict is a pass with no error and no warning (Accounting-On, one session
# opened and closed, Accounting-Off). Then `acctlab check` under the default profile: it fails
# the NAS (Cisco's tables require Cisco's attributes) and its report must say why, in a profile
# fit note. Skipped (exit 77) when not root or hostapd/wpa_supplicant/FreeRADIUS/tcpdump are
# missing.
set -euo pipefail
[[ $# -eq 2 ]] || {
  echo "usage: $0 ACCTLAB SCRATCH-DIR" >&2
  exit 2
}
acctlab=$1
scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$scratch"
rm -f "$scratch"/hostapd-live.db*
timeout 60 "$here/make-8021x-capture.sh" "$acctlab" --out "$scratch/hostapd-live.pcap"
report=$("$acctlab" pcap analyze "$scratch/hostapd-live.pcap" \
  --secrets "$here/hostapd-clients.conf" --db "$scratch/hostapd-live.db")
echo "$report"
grep -q "Acct-Status-Type: Start 1, Stop 1, Accounting-On 1, Accounting-Off 1" <<<"$report"
grep -q "sessions opened 1: closed 1" <<<"$report"
grep -Eq "^conformance \(profile rfc2866\): PASS; 0 of [0-9]+ rules failed; 0 errors, 0 warnings" \
  <<<"$report"
grep -q "^verdict: pass" <<<"$report"

# The same capture under the default profile, with the secret but no profile named.
status=0
findings=$("$acctlab" check --pcap "$scratch/hostapd-live.pcap" --secret acctlab-dot1x-secret \
  --colour never) || status=$?
echo "$findings"
[[ $status -ne 0 ]]
grep -q "^profile fit: NAS 127.0.0.1: none of its 4 Accounting-Requests carries a Cisco (vendor 9) attribute" \
  <<<"$findings"
