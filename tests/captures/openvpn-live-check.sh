#!/usr/bin/env bash
# ctest openvpn_live_capture (label openvpn):
#   tests/captures/openvpn-live-check.sh ACCTLAB SCRATCH-DIR
# records two fresh captures of a real SSL-VPN gateway (make-openvpn-capture.sh: OpenVPN 2.6 with
# radiusplugin, its client logging in with a password checked by FreeRADIUS, acctlab serve taking
# the accounting; about 12 s each) and judges them:
#   - login, traffic, logout: `acctlab pcap analyze --db` must give one session opened and closed
#     and an rfc2866 pass with no error and no warning, and `acctlab check --secrets` a pass;
#   - --outage 1.5 (acctlab paused as the client leaves): radiusplugin sends its Stop again from a
#     new source port, which `acctlab check` must fail as the NAS's RFC5080-RESEND-NEW-ID error.
# Skipped (exit 77) when not root or OpenVPN/radiusplugin/FreeRADIUS/tcpdump are missing.
set -euo pipefail
[[ $# -eq 2 ]] || {
  echo "usage: $0 ACCTLAB SCRATCH-DIR" >&2
  exit 2
}
acctlab=$1
scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$scratch"
rm -f "$scratch"/openvpn-live.db* "$scratch"/openvpn-live*.pcap
timeout 60 "$here/make-openvpn-capture.sh" "$acctlab" --out "$scratch/openvpn-live.pcap"
report=$("$acctlab" pcap analyze "$scratch/openvpn-live.pcap" \
  --secrets "$here/openvpn-clients.conf" --db "$scratch/openvpn-live.db")
echo "$report"
grep -q "packets: Access-Request 1, Access-Accept 1, Accounting-Request 2, Accounting-Response 2" \
  <<<"$report"
grep -q "Acct-Status-Type: Start 1, Stop 1" <<<"$report"
grep -q "sessions opened 1: closed 1" <<<"$report"
grep -Eq "^conformance \(profile rfc2866\): PASS; 0 of [0-9]+ rules failed; 0 errors, 0 warnings" \
  <<<"$report"
grep -q "^verdict: pass" <<<"$report"
findings=$("$acctlab" check --pcap "$scratch/openvpn-live.pcap" \
  --secrets "$here/openvpn-clients.conf" --colour never)
echo "$findings"
grep -q "findings: 0 errors, 0 warnings, 0 info" <<<"$findings"

# The Stop resent to a paused acctlab: the copy comes from another source port.
timeout 60 "$here/make-openvpn-capture.sh" "$acctlab" --outage 1.5 \
  --out "$scratch/openvpn-live-outage.pcap"
status=0
findings=$("$acctlab" check --pcap "$scratch/openvpn-live-outage.pcap" \
  --secrets "$here/openvpn-clients.conf" --colour never) || status=$?
echo "$findings"
[[ $status -eq 1 ]]
grep -q "^verdict: FAIL (NAS fail: 1 errors" <<<"$findings"
grep -Eq "error: Stop id [0-9]+ .* is an unchanged retransmission of id [0-9]+ from 127\.0\.0\.1:[0-9]+ under a new source port" \
  <<<"$findings"
