#!/usr/bin/env bash
# ctest pam_live_capture (label pam):
#   tests/captures/pam-live-check.sh ACCTLAB SCRATCH-DIR
# records five fresh captures of a real PAM login (make-pam-capture.sh: pam_radius_auth driven
# by pamtester, PAP to FreeRADIUS, the accounting answered by acctlab serve) and judges them:
#   - a 3-s session: `acctlab pcap analyze --db` must give one session opened and closed and an
#     rfc2866 pass with no error and no warning, and `acctlab check --secrets` no finding;
#   - --failover (the first accounting server ended before the Stop, a second one listed): the
#     Stop is refused by the first server's host and sent 3 s later to the second, answered; one
#     session, and the only finding the first server's EXC-UNANSWERED naming the ICMP refusal;
#   - --down 31 (acctlab ended before the Stop, back 31 s later for a second login): the module
#     sent the Stop once and never again, so EXC-UNANSWERED (the server's error) and
#     EXC-NO-RETRANSMISSION (the NAS's warning), nothing else;
#   - --containers (each pamtester process 1 of a PID namespace of its own, two logins): both
#     sessions are Acct-Session-Id 00000001, so SES-AFTER-STOP twice, the NAS's: the second
#     login's Start and its Stop after the session's Stop;
#   - --ipv6 (everything on ::1; NAS-IPv6-Address and NAS-IP-Address both sent): no finding.
# About 85 s. Skipped (exit 77) when not root or pamtester/libpam-radius-auth/FreeRADIUS/tcpdump
# are missing.
set -euo pipefail
[[ $# -eq 2 ]] || {
  echo "usage: $0 ACCTLAB SCRATCH-DIR" >&2
  exit 2
}
acctlab=$1
scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
secrets=$here/pam-clients.conf
mkdir -p "$scratch"
rm -f "$scratch"/pam-live*.db* "$scratch"/pam-live*.pcap

# findings FILE EXPECTED-STATUS: acctlab check's report, its exit status required.
findings() {
  local status=0 report
  report=$("$acctlab" check --pcap "$1" --secrets "$secrets" --colour never) || status=$?
  echo "$report" >&2
  [[ $status -eq $2 ]] || {
    echo "acctlab check exited $status, not $2" >&2
    return 1
  }
  echo "$report"
}

# --- a 3-s session ------------------------------------------------------------------------------
timeout 60 "$here/make-pam-capture.sh" "$acctlab" --out "$scratch/pam-live.pcap"
report=$("$acctlab" pcap analyze "$scratch/pam-live.pcap" --secrets "$secrets" \
  --db "$scratch/pam-live.db")
echo "$report"
grep -q "packets: Access-Request 1, Access-Accept 1, Accounting-Request 2, Accounting-Response 2" \
  <<<"$report"
grep -q "Acct-Status-Type: Start 1, Stop 1" <<<"$report"
grep -q "sessions opened 1: closed 1" <<<"$report"
grep -Eq "^conformance \(profile rfc2866\): PASS; 0 of [0-9]+ rules failed; 0 errors, 0 warnings" \
  <<<"$report"
grep -q "^verdict: pass" <<<"$report"
result=$(findings "$scratch/pam-live.pcap" 0)
grep -q "findings: 0 errors, 0 warnings, 0 info" <<<"$result"

# --- failover to the second server ------------------------------------------------------------
timeout 60 "$here/make-pam-capture.sh" "$acctlab" --failover --out "$scratch/pam-live-failover.pcap"
report=$("$acctlab" pcap analyze "$scratch/pam-live-failover.pcap" --secrets "$secrets" \
  --db "$scratch/pam-live-failover.db") || true
echo "$report"
grep -q "packets: Access-Request 1, Access-Accept 1, Accounting-Request 3, Accounting-Response 2" \
  <<<"$report"
grep -q "sessions opened 1: closed 1" <<<"$report"
result=$(findings "$scratch/pam-live-failover.pcap" 1)
grep -q "findings: 1 errors, 0 warnings, 0 info" <<<"$result"
grep -q "^verdict: FAIL (NAS pass; server fail: 1 errors" <<<"$result"
grep -Eq "error: Stop id [0-9]+ .* sent 1 time\(s\) and never answered .*drew ICMP port unreachable .*nothing listened on 127\.0\.0\.1:1813" \
  <<<"$result"

# --- the accounting server down for the Stop ----------------------------------------------------
timeout 90 "$here/make-pam-capture.sh" "$acctlab" --down 31 --out "$scratch/pam-live-down.pcap"
result=$(findings "$scratch/pam-live-down.pcap" 1)
grep -q "findings: 1 errors, 1 warnings, 0 info" <<<"$result"
grep -q "^verdict: FAIL (NAS pass: 0 errors, 1 warnings; server fail: 1 errors, 0 warnings" \
  <<<"$result"
grep -q "^FAIL EXC-UNANSWERED " <<<"$result"
grep -Eq "warning: Stop id [0-9]+ .* was never answered and never sent again" <<<"$result"

# --- two logins, each in a fresh PID namespace ------------------------------------------------
timeout 60 "$here/make-pam-capture.sh" "$acctlab" --containers \
  --out "$scratch/pam-live-containers.pcap"
result=$(findings "$scratch/pam-live-containers.pcap" 1)
grep -q "findings: 2 errors, 0 warnings, 0 info" <<<"$result"
grep -q "^verdict: FAIL (NAS fail: 2 errors, 0 warnings; server pass; path pass)" <<<"$result"
grep -q 'error: session "00000001" of NAS 127.0.0.1: Start after the session.s Stop' <<<"$result"
grep -q 'error: session "00000001" of NAS 127.0.0.1: Stop after the session.s Stop' <<<"$result"

# --- over IPv6 ----------------------------------------------------------------------------------
timeout 60 "$here/make-pam-capture.sh" "$acctlab" --ipv6 --out "$scratch/pam-live-ipv6.pcap"
report=$("$acctlab" pcap analyze "$scratch/pam-live-ipv6.pcap" --secrets "$secrets")
echo "$report"
grep -q "packets: Access-Request 1, Access-Accept 1, Accounting-Request 2, Accounting-Response 2" \
  <<<"$report"
grep -q "^server \[::1\]:1813:" <<<"$report"
result=$(findings "$scratch/pam-live-ipv6.pcap" 0)
grep -q "findings: 0 errors, 0 warnings, 0 info" <<<"$result"
echo "pam live check: pass"
