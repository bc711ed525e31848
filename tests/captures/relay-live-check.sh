#!/usr/bin/env bash
# ctest relay_live_capture (label relay):
#   tests/captures/relay-live-check.sh ACCTLAB SCRATCH-DIR
# records two fresh captures of FreeRADIUS 3.2 relaying accounting store-and-forward from a detail
# file to acctlab serve (make-relay-capture.sh): one plain (about 14 s), one with acctlab down for
# 10 s and Event-Timestamp in every record (about 20 s), so the relay delivers four records late in
# a burst with Acct-Delay-Time raised. Each is judged with `acctlab pcap analyze --db` and
# `acctlab check --interim-interval 2` (the NAS's pace): the test fails unless both legs make one
# session, the verdict is a pass with no error and no warning, and only the held update's late
# answer is noted (an info naming the path). Skipped (exit 77) when not root or FreeRADIUS/tcpdump
# are missing.
set -euo pipefail
[[ $# -eq 2 ]] || {
  echo "usage: $0 ACCTLAB SCRATCH-DIR" >&2
  exit 2
}
acctlab=$1
scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
secrets="$here/relay-clients.conf"
mkdir -p "$scratch"

judge() { # NAME LATE-NOTES
  local name=$1 late=$2 report findings
  rm -f "$scratch/$name.db"*
  report=$("$acctlab" pcap analyze "$scratch/$name.pcap" --secrets "$secrets" --db "$scratch/$name.db")
  echo "$report"
  grep -q "sessions opened 1: closed 1" <<<"$report"
  grep -Eq "^conformance \(profile rfc2866\): PASS; 0 of [0-9]+ rules failed; 0 errors, 0 warnings" \
    <<<"$report"
  grep -q "^verdict: pass" <<<"$report"
  findings=$("$acctlab" check --pcap "$scratch/$name.pcap" --secrets "$secrets" \
    --interim-interval 2 --colour never)
  echo "$findings"
  grep -q "findings: 0 errors, 0 warnings, $late info" <<<"$findings"
  if ((late)); then
    grep -q "info: Interim-Update .* after its first transmission, .* after the latest of 3" \
      <<<"$findings"
  fi
}

status=0
timeout 60 "$here/make-relay-capture.sh" "$acctlab" --out "$scratch/relay-live.pcap" || status=$?
((status == 0)) || exit "$status"
judge relay-live 0
timeout 70 "$here/make-relay-capture.sh" "$acctlab" --outage 10 --event-timestamp \
  --out "$scratch/relay-live-outage.pcap"
judge relay-live-outage 1
