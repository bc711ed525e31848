#!/usr/bin/env bash
# Records the accounting of a real 802.1X NAS: hostapd 2.10 as a wired authenticator
# (driver=wired), authenticating a supplicant (wpa_supplicant 2.10, EAP-MD5) against FreeRADIUS
# and accounting to acctlab serve (run as root).
#
#   tests/captures/make-8021x-capture.sh ACCTLAB [--out FILE.pcap] [--seconds N] [--interim]
#                                        [--nas-stops] [--outage SECONDS] [--keep]
#
# Two network namespaces of this process's own joined by a veth pair, so nothing leaves the
# machine:
#   acctlab-dot1x-PID    the NAS side. hostapd on the port nas0 (198.51.100.1/24); on its
#                        loopback FreeRADIUS 3.2 (private configuration) on 127.0.0.1:1812,
#                        EAP-MD5 for one user, alice; acctlab serve on 127.0.0.1:1813. hostapd
#                        sends both from 127.0.0.1 with the secret acctlab-dot1x-secret.
#   acctlab-dot1x-PID-b  the subscriber: wpa_supplicant on sup0 (198.51.100.20/24) logs in as
#                        alice, pings the NAS side, and after N seconds (default 4) logs off
#                        (wpa_cli logoff: an EAPOL-Logoff, so the Stop says User-Request).
# Then hostapd is stopped (SIGTERM), as an administrator stops the service.
#
# --outage SECONDS: acctlab serve is stopped (SIGSTOP) just before the log-off and continued
# SECONDS later: hostapd retransmits its Stop, and acctlab answers the queued copies when it wakes.
#
# --nas-stops: the subscriber never logs off; hostapd is stopped while the port is authorized,
# so hostapd itself ends the session (its Stop, then its Accounting-Off). tcpdump records
# `udp port 1812 or udp port 1813` on the NAS side's lo: hostapd's Accounting-On at start, the
# EAP exchange (Access-Request, Access-Challenge, Access-Accept), the Start, any Interim-Update,
# the Stop and the Accounting-Off at the end, with their answers.
#
# --interim: radius_acct_interim_interval=60 (hostapd's floor) and the port stays authorized 65 s:
# one Interim-Update.
#
# Every wait is bounded; a trap removes both namespaces and stops only the processes this script
# started, on any exit. Exit 77 (skipped) when not root or a tool is missing.
set -euo pipefail

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
usage="usage: $0 ACCTLAB [--out FILE.pcap] [--seconds N] [--interim] [--nas-stops] [--outage SECONDS] [--keep]"
[[ $# -ge 1 ]] || {
  echo "$usage" >&2
  exit 2
}
acctlab=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/freeradius-conf.sh"
out="$here/hostapd-8021x.pcap"
keep=0
seconds=4
interim=0
logoff=1
outage=0
while (($#)); do
  case "$1" in
  --out)
    out=$2
    shift
    ;;
  --seconds)
    seconds=$2
    shift
    ;;
  --interim)
    interim=1
    seconds=65
    ;;
  --nas-stops) logoff=0 ;;
  --outage)
    outage=$2
    shift
    ;;
  --keep) keep=1 ;;
  *)
    echo "$usage" >&2
    exit 2
    ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, raw sockets, tcpdump)"
for tool in ip freeradius tcpdump hostapd wpa_supplicant wpa_cli; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done

source "$here/../support/netns-lab.sh"
lab_start acctlab-dot1x
peer_ns="$ns-b"
lab_add_namespace "$peer_ns"

secret=acctlab-dot1x-secret
nas_addr=198.51.100.1
peer_addr=198.51.100.20
ip -n "$ns" link add nas0 type veth peer name sup0 netns "$peer_ns"
ip -n "$ns" addr add "$nas_addr/24" dev nas0
ip -n "$peer_ns" addr add "$peer_addr/24" dev sup0
ip -n "$ns" link set nas0 up
ip -n "$peer_ns" link set sup0 up

# --- acctlab serve, the accounting server ----------------------------------------------------
cat >"$work/clients.conf" <<EOF
client hostapd {
  ipaddr = 127.0.0.1
  secret = $secret
}
EOF
ip netns exec "$ns" "$acctlab" serve --listen 127.0.0.1:1813 --clients "$work/clients.conf" \
  --db "$work/acct.db" --stats 0 >"$work/serve.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")

# --- FreeRADIUS, the authentication server ----------------------------------------------------
mkdir -p "$work/raddb" "$work/radlog" "$work/radrun"
{
  freeradius_skeleton "$work" no "  eap {
    default_eap_type = md5
    timer_expire = 60
    max_sessions = 64
    md5 {
    }
  }"
  cat <<EOF
client hostapd {
  ipaddr = 127.0.0.1
  secret = $secret
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = 1812
  }
  authorize {
    if (&User-Name == "alice") {
      update control {
        &Cleartext-Password := "alice-dot1x-password"
      }
    }
    eap
  }
  authenticate {
    Auth-Type EAP {
      eap
    }
  }
}
EOF
} >"$work/raddb/radiusd.conf"
ip netns exec "$ns" freeradius -f -X -d "$work/raddb" >"$work/radiusd.out" 2>&1 &
pids+=($!)

ip netns exec "$ns" tcpdump -i lo --immediate-mode -U -s 0 -w "$work/capture.pcap" \
  'udp port 1812 or udp port 1813' >"$work/tcpdump.log" 2>&1 &
tcpdump_pid=$!
pids+=("$tcpdump_pid")

freeradius_and_tcpdump_ready "$work"

# --- hostapd, the NAS --------------------------------------------------------------------------
cat >"$work/hostapd.conf" <<EOF
interface=nas0
driver=wired
logger_stdout=-1
logger_stdout_level=1
ctrl_interface=$work/hostapd-ctrl
ieee8021x=1
eapol_version=2
eap_reauth_period=0
use_pae_group_addr=1
own_ip_addr=127.0.0.1
nas_identifier=acctlab-dot1x
auth_server_addr=127.0.0.1
auth_server_port=1812
auth_server_shared_secret=$secret
acct_server_addr=127.0.0.1
acct_server_port=1813
acct_server_shared_secret=$secret
EOF
((interim)) && echo "radius_acct_interim_interval=60" >>"$work/hostapd.conf"
ip netns exec "$ns" hostapd -d "$work/hostapd.conf" >"$work/hostapd.log" 2>&1 &
hostapd_pid=$!
pids+=("$hostapd_pid")
for _ in $(seq 50); do
  grep -q "nas0: interface state .*ENABLED\|nas0: AP-ENABLED" "$work/hostapd.log" 2>/dev/null && break
  sleep 0.1
done

# What the capture holds so far, as acctlab reads it: Accounting-Requests and -Responses (RADIUS
# packets, not frames: acctlab serve answers a burst with UDP segmentation offload, and a capture
# on loopback records such answers as one datagram).
captured() { # -> "requests answers"
  "$acctlab" pcap analyze "$work/capture.pcap" --report json 2>/dev/null | python3 -c '
import json, sys
codes = json.load(sys.stdin)["totals"]["packets_by_code"]
print(codes.get("Accounting-Request", 0), codes.get("Accounting-Response", 0))' || echo "0 0"
}
count() { tcpdump -r "$work/capture.pcap" "$1" 2>/dev/null | wc -l || true; }
# Waits (at most 5 s) until at least N Accounting-Requests were sent and every one, copies
# included, has its answer.
wait_answered() { # N
  local requests answers
  for _ in $(seq 50); do
    read -r requests answers < <(captured)
    ((answers >= requests && requests >= $1)) && return 0
    sleep 0.1
  done
  echo "waited 5 s for $1 Accounting-Requests and their answers: $requests sent, $answers answered" >&2
  return 1
}

# --- wpa_supplicant, the subscriber ----------------------------------------------------------
cat >"$work/wpa.conf" <<EOF
ctrl_interface=$work/wpa-ctrl
ap_scan=0
network={
  key_mgmt=IEEE8021X
  eap=MD5
  identity="alice"
  password="alice-dot1x-password"
  eapol_flags=0
}
EOF
ip netns exec "$peer_ns" wpa_supplicant -D wired -i sup0 -c "$work/wpa.conf" -d \
  >"$work/wpa.log" 2>&1 &
pids+=($!)

for _ in $(seq 100); do
  grep -q "CTRL-EVENT-EAP-SUCCESS" "$work/wpa.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "CTRL-EVENT-EAP-SUCCESS" "$work/wpa.log" || {
  tail -40 "$work/hostapd.log" "$work/wpa.log" >&2
  echo "the supplicant was not authenticated" >&2
  exit 1
}
ip netns exec "$peer_ns" ping -q -c 3 -i 0.2 -s 1000 -W 1 "$nas_addr" >"$work/ping.log" 2>&1 || true
sleep "$seconds"
if ((logoff)); then
  ((outage > 0)) && kill -STOP "$serve_pid"
  ip netns exec "$peer_ns" wpa_cli -p "$work/wpa-ctrl" -i sup0 logoff >"$work/wpa_cli.log" 2>&1
  if ((outage > 0)); then
    sleep "$outage"
    kill -CONT "$serve_pid"
  fi
  # hostapd answers the EAPOL-Logoff with the Stop: wait until acctlab has answered it.
  wait_answered $((3 + interim))
fi
kill "$hostapd_pid"
timeout 10 tail --pid="$hostapd_pid" -f /dev/null || true
# And the Accounting-Off hostapd sends as it stops (or its Stop, then that, with --nas-stops).
wait_answered $((4 + interim))
frames=$(count udp)
kill -INT "$tcpdump_pid"
timeout 5 tail --pid="$tcpdump_pid" -f /dev/null || true
cp "$work/capture.pcap" "$out"
echo "wrote $out ($frames frames): hostapd (wired 802.1X NAS), FreeRADIUS 127.0.0.1:1812, acctlab 127.0.0.1:1813"
echo "versions: $(dpkg-query -W -f '${Package} ${Version}; ' hostapd wpasupplicant freeradius tcpdump 2>/dev/null)"
