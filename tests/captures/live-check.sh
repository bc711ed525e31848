#!/usr/bin/env bash
# ctest strongswan_live_capture (label strongswan):
#   tests/captures/live-check.sh ACCTLAB OUT.pcap
# records a fresh capture of a real strongSwan gateway (make-strongswan-capture.sh, about 30 s)
# and judges it with the strongswan profile: the test fails on any error finding. It is skipped
# (exit 77) when not root or when network namespaces, charon, swanctl, tcpdump or FreeRADIUS are
# missing.
set -euo pipefail
[[ $# -eq 2 ]] || {
  echo "usage: $0 ACCTLAB OUT.pcap" >&2
  exit 2
}
acctlab=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$out")"
# The capture script's exit status (77: skipped) is this test's.
timeout 80 "$here/make-strongswan-capture.sh" --out "$out"
"$acctlab" check --pcap "$out" --secret acctlab-swan-secret \
  --profile "$here/../../conformance/profiles/strongswan" --interim-interval 5 --colour never
