#!/usr/bin/env bash
# ctest strongswan_lab (label strongswan):
#   tests/lab/lab-check.sh ACCTLAB SCRATCH-DIR
# 1. runs `acctlab lab strongswan` with a few scenarios and the reference gateway's rekeys.scn
#    (JUnit report in SCRATCH-DIR) and requires every one to pass;
# 2. starts it again, interrupts it (SIGINT) while charon runs, and requires exit 130;
# after each, requires that nothing of the run is left: no network namespace or veth of its PID,
# and no process whose command line or environment names its work directory.
# Exit 77 (skipped) when the lab says it cannot run here (not root, packages missing).
set -euo pipefail
[[ $# -eq 2 ]] || {
  echo "usage: $0 ACCTLAB SCRATCH-DIR" >&2
  exit 2
}
acctlab=$1
scratch=$2
rm -rf "$scratch"
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Nothing left of the run with this PID whose work files were under DIR.
check_torn_down() { # PID DIR
  local pid=$1 dir=$2 ns proc
  for ns in "acctlab-lab-gw-$pid" "acctlab-lab-rw-$pid"; do
    if ip netns list | grep -qw "$ns"; then
      fail "network namespace $ns left behind"
    fi
  done
  for link in "lgw$pid" "lrw$pid"; do
    if ip link show "$link" >/dev/null 2>&1; then
      fail "interface $link left behind"
    fi
  done
  for proc in /proc/[0-9]*; do
    [[ ${proc#/proc/} == "$$" ]] && continue
    if { tr '\0' '\n' <"$proc/cmdline" | grep -qF "$dir"; } 2>/dev/null ||
      { tr '\0' '\n' <"$proc/environ" | grep -qF "$dir"; } 2>/dev/null; then
      fail "process ${proc#/proc/} ($(tr '\0' ' ' <"$proc/cmdline")) left behind"
    fi
  done
  echo "torn down: no namespace, veth or process of run $pid left"
}

# 1. A few scenarios, every one must pass.
runs=$scratch/runs
status=0
# rekeys.scn: the reference gateway's scenario file, on the real gateway and the IOS model.
"$acctlab" lab strongswan --scenario traffic --scenario ike-rekey --scenario reauth \
  --scenario server-down --scenario dpd --scenario "$(dirname "$0")/../../client/scenarios/rekeys.scn" \
  --keep "$runs" --report junit --out "$scratch/lab.xml" >"$scratch/lab.txt" &
lab_pid=$!
wait "$lab_pid" || status=$?
if ((status == 77)); then
  exit 77
fi
((status == 0)) || fail "acctlab lab strongswan exited $status"
cat "$scratch/lab.txt"
grep -q '<testsuite name="strongswan traffic"' "$scratch/lab.xml" || fail "no JUnit report"
grep -q '<testsuite name="strongswan rekeys"' "$scratch/lab.xml" || fail "rekeys.scn did not run"
grep -q 'model (IOS, acctlab conform)' "$scratch/lab.txt" || fail "no side-by-side report"
check_torn_down "$lab_pid" "$runs"

# 2. Interrupted while charon runs: everything torn down all the same, exit 130.
interrupted=$scratch/interrupted
"$acctlab" lab strongswan --scenario traffic --keep "$interrupted" --quiet &
lab_pid=$!
for _ in $(seq 100); do
  [[ -S $interrupted/traffic/rw/charon.vici ]] && break
  sleep 0.1
done
[[ -S $interrupted/traffic/rw/charon.vici ]] || fail "the interrupted run never started charon"
kill -INT "$lab_pid"
status=0
for _ in $(seq 300); do
  kill -0 "$lab_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$lab_pid" 2>/dev/null && fail "acctlab lab did not stop within 30 s of SIGINT"
wait "$lab_pid" || status=$?
((status == 130)) || fail "interrupted run exited $status, not 130"
check_torn_down "$lab_pid" "$interrupted"
echo "PASS"
