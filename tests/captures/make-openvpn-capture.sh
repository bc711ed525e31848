#!/usr/bin/env bash
# Records the accounting of a real SSL-VPN gateway: OpenVPN 2.6 with radiusplugin
# (openvpn-auth-radius), a client logging in with a username and password checked by FreeRADIUS,
# the accounting answered by acctlab serve (run as root).
#
#   tests/captures/make-openvpn-capture.sh ACCTLAB [--out FILE.pcap] [--seconds N]
#                                          [--interim SECONDS] [--gw-stops] [--outage SECONDS]
#                                          [--keep]
#
# Two network namespaces of this process's own joined by a veth pair, so nothing leaves the
# machine:
#   acctlab-ovpn-PID    the gateway. openvpn in server mode on vpn0 (198.51.100.1/24, UDP 1194),
#                       tunnel network 203.0.113.0/24 (topology subnet: the gateway 203.0.113.1,
#                       the client 203.0.113.2 from the pool), radiusplugin.so loaded with a
#                       configuration written here; on the namespace's loopback FreeRADIUS 3.2
#                       (private configuration) on 127.0.0.1:1812, PAP for one user, alice, and
#                       acctlab serve on 127.0.0.1:1813. radiusplugin takes one server address
#                       with an authentication and an accounting port, so both share 127.0.0.1
#                       and the secret acctlab-ovpn-secret.
#   acctlab-ovpn-PID-b  the subscriber: openvpn in client mode on cli0 (198.51.100.20/24) with
#                       auth-user-pass (alice) and no certificate of its own (the gateway runs
#                       `verify-client-cert none` and `username-as-common-name`). Once the
#                       tunnel is up it sends 5 UDP datagrams of 1000 octets through it to an
#                       echo service on the gateway's tunnel address, each echoed; N seconds
#                       (default 3) later it is stopped (SIGTERM) and, with
#                       `explicit-exit-notify`, tells the gateway, which ends the client's
#                       instance 5 s later (OpenVPN's delayed exit): radiusplugin sends the Stop.
# Then the gateway is stopped (SIGTERM).
#
# --interim SECONDS: FreeRADIUS's Access-Accept carries Acct-Interim-Interval SECONDS, which
# radiusplugin takes as the period of its Interim-Updates (RFC 2869 §5.16 says the value SHOULD
# NOT be below 60; radiusplugin takes what it is given), and the client stays until the second
# Interim-Update is answered.
#
# --gw-stops: the client never leaves; the gateway is stopped while it is connected.
#
# --outage SECONDS: acctlab serve is stopped (SIGSTOP) just before the client leaves and
# continued SECONDS after the Stop's first copy. radiusplugin (`retry=1`, `wait=1`) sends the
# Stop again after 1 s, from a new socket (another source port), and gives it up at once: it waits
# for no answer to its last copy.
#
# radiusplugin reads the counters it reports from OpenVPN's status file (version 1), so the
# gateway rewrites it every second (`status FILE 1`).
#
# tcpdump records `udp port 1812 or udp port 1813` on the gateway's lo: the Access-Request and
# its Access-Accept, the Start, any Interim-Updates, the Stop, with their answers.
#
# Every wait is bounded; a trap removes both namespaces and stops only the processes this script
# started, on any exit. Exit 77 (skipped) when not root or a tool is missing.
set -euo pipefail

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
usage="usage: $0 ACCTLAB [--out FILE.pcap] [--seconds N] [--interim SECONDS] [--gw-stops] [--outage SECONDS] [--keep]"
[[ $# -ge 1 ]] || {
  echo "$usage" >&2
  exit 2
}
acctlab=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/freeradius-conf.sh"
out="$here/openvpn-radius.pcap"
keep=0
seconds=3
interim=0
client_leaves=1
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
    interim=$2
    [[ $interim =~ ^[1-9][0-9]*$ ]] || {
      echo "$usage" >&2
      exit 2
    }
    shift
    ;;
  --gw-stops) client_leaves=0 ;;
  --outage)
    outage=$2
    [[ $outage =~ ^[0-9]+(\.[0-9]+)?$ ]] || {
      echo "$usage" >&2
      exit 2
    }
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
plugin=/usr/lib/openvpn/radiusplugin.so
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, tun devices, tcpdump)"
for tool in ip freeradius tcpdump openvpn openssl python3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[[ -r $plugin ]] || skip "$plugin is missing (package openvpn-auth-radius)"
[[ -c /dev/net/tun ]] || skip "/dev/net/tun is missing"

source "$here/../support/netns-lab.sh"
lab_start acctlab-ovpn
peer_ns="$ns-b"
lab_add_namespace "$peer_ns"

secret=acctlab-ovpn-secret
gw_addr=198.51.100.1
peer_addr=198.51.100.20
tunnel_gw=203.0.113.1
ip -n "$ns" link add vpn0 type veth peer name cli0 netns "$peer_ns"
ip -n "$ns" addr add "$gw_addr/24" dev vpn0
ip -n "$peer_ns" addr add "$peer_addr/24" dev cli0
ip -n "$ns" link set vpn0 up
ip -n "$peer_ns" link set cli0 up

# --- certificates: a CA and the gateway's certificate (the client has none) -------------------
mkdir -p "$work/pki"
(
  cd "$work/pki"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/O=acctlab test/CN=acctlab ovpn ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out gw.key 2>/dev/null
  openssl req -new -key gw.key -subj "/O=acctlab test/CN=acctlab-ovpn-gw" -out gw.csr 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyAgreement" \
    "extendedKeyUsage=serverAuth" >gw.ext
  openssl x509 -req -in gw.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -sha256 \
    -extfile gw.ext -out gw.pem 2>/dev/null
)

# --- acctlab serve, the accounting server ----------------------------------------------------
cat >"$work/clients.conf" <<EOF
client radiusplugin {
  ipaddr = 127.0.0.1
  secret = $secret
}
EOF
ip netns exec "$ns" "$acctlab" serve --listen 127.0.0.1:1813 --clients "$work/clients.conf" \
  --db "$work/acct.db" --stats 0 >"$work/serve.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")

# --- FreeRADIUS, the authentication server ----------------------------------------------------
reply=""
((interim)) && reply="
      update reply {
        &Acct-Interim-Interval := $interim
      }"
mkdir -p "$work/raddb" "$work/radlog" "$work/radrun"
{
  freeradius_skeleton "$work" no "  pap {
  }"
  cat <<EOF
client radiusplugin {
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
        &Cleartext-Password := "alice-ovpn-password"
      }$reply
    }
    pap
  }
  authenticate {
    Auth-Type PAP {
      pap
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

# --- the OpenVPN gateway with radiusplugin ----------------------------------------------------
mkdir -p "$work/ccd" "$work/tmp"
cat >"$work/server.conf" <<EOF
mode server
tls-server
dev tun
dev-type tun
disable-dco
proto udp4
local $gw_addr
port 1194
topology subnet
server 203.0.113.0 255.255.255.0
ca $work/pki/ca.pem
cert $work/pki/gw.pem
key $work/pki/gw.key
dh none
verify-client-cert none
username-as-common-name
client-config-dir $work/ccd
tmp-dir $work/tmp
status $work/openvpn-status.log 1
status-version 1
keepalive 2 10
verb 4
plugin $plugin $work/radiusplugin.cnf
EOF
cat >"$work/radiusplugin.cnf" <<EOF
NAS-Identifier=acctlab-ovpn-gw
Service-Type=5
Framed-Protocol=1
NAS-Port-Type=5
NAS-IP-Address=$gw_addr
OpenVPNConfig=$work/server.conf
subnet=255.255.255.0
overwriteccfiles=true
server
{
	acctport=1813
	authport=1812
	name=127.0.0.1
	retry=1
	wait=1
	sharedsecret=$secret
}
EOF
ip netns exec "$ns" openvpn --config "$work/server.conf" >"$work/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 100); do
  grep -q "Initialization Sequence Completed" "$work/server.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "Initialization Sequence Completed" "$work/server.log" || {
  tail -40 "$work/server.log" >&2
  echo "the OpenVPN gateway did not start" >&2
  exit 1
}

# An echo service on the gateway's tunnel address (up once the gateway is initialised).
ip netns exec "$ns" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7))
s.settimeout(120)
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)' "$tunnel_gw" >"$work/echo-server.log" 2>&1 &
pids+=($!)

# What the capture holds so far, as acctlab reads it.
captured() { # -> "requests answers"
  "$acctlab" pcap analyze "$work/capture.pcap" --report json 2>/dev/null | python3 -c '
import json, sys
codes = json.load(sys.stdin)["totals"]["packets_by_code"]
print(codes.get("Accounting-Request", 0), codes.get("Accounting-Response", 0))' || echo "0 0"
}
count() { tcpdump -r "$work/capture.pcap" "$1" 2>/dev/null | wc -l || true; }
# Waits (at most TENTHS / 10 s, default 5 s) until at least N Accounting-Requests were sent and
# every one has its answer.
wait_answered() { # N [TENTHS]
  local requests answers
  for _ in $(seq "${2:-50}"); do
    read -r requests answers < <(captured)
    ((answers >= requests && requests >= $1)) && return 0
    sleep 0.1
  done
  echo "waited $((${2:-50} / 10)) s for $1 Accounting-Requests and their answers: $requests sent, $answers answered" >&2
  return 1
}

# --- the client -----------------------------------------------------------------------------
printf '%s\n' alice alice-ovpn-password >"$work/alice.pass"
chmod 600 "$work/alice.pass"
cat >"$work/client.conf" <<EOF
client
dev tun
disable-dco
proto udp4
remote $gw_addr 1194
nobind
ca $work/pki/ca.pem
verify-x509-name acctlab-ovpn-gw name
remote-cert-tls server
auth-user-pass $work/alice.pass
explicit-exit-notify 1
connect-retry-max 3
verb 4
EOF
ip netns exec "$peer_ns" openvpn --config "$work/client.conf" >"$work/client.log" 2>&1 &
client_pid=$!
pids+=("$client_pid")
for _ in $(seq 150); do
  grep -q "Initialization Sequence Completed" "$work/client.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "Initialization Sequence Completed" "$work/client.log" || {
  tail -40 "$work/server.log" "$work/client.log" >&2
  echo "the client did not log in" >&2
  exit 1
}
# The Start goes out from radiusplugin's accounting process after client-connect.
wait_answered 1
# Traffic through the tunnel: 5 datagrams of 1000 octets from the client's tunnel address to the
# echo service on the gateway's, each echoed (1028 IP octets each way per datagram).
ip netns exec "$peer_ns" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
for i in range(5):
    payload = bytes([i]) * 1000
    s.sendto(payload, (sys.argv[1], 7))
    data, _ = s.recvfrom(2048)
    assert data == payload
print("5 datagrams echoed")' "$tunnel_gw" >"$work/echo.log" 2>&1 || {
  cat "$work/echo.log" >&2
  echo "no echo across the tunnel" >&2
  exit 1
}
if ((interim)); then
  # Stays until the second Interim-Update has been answered.
  wait_answered 3 $((25 * interim))
else
  # Long enough for the status file (rewritten every second) to take in the echoes.
  sleep "$seconds"
fi
# Requests so far; the Stop makes one more.
read -r requests _ < <(captured)
if ((client_leaves)); then
  [[ $outage == 0 ]] || kill -STOP "$serve_pid"
  kill "$client_pid"
  timeout 10 tail --pid="$client_pid" -f /dev/null || true
  if [[ $outage != 0 ]]; then
    # The Stop comes after the gateway's delayed exit: the outage runs from its first copy.
    for _ in $(seq 100); do
      (($(count "udp dst port 1813") > requests)) && break
      sleep 0.1
    done
    sleep "$outage"
    kill -CONT "$serve_pid"
  fi
  # explicit-exit-notify: the gateway ends the client's instance after its delayed exit (5 s)
  # and radiusplugin sends the Stop.
  wait_answered $((requests + 1)) 100
fi
kill "$server_pid"
timeout 10 tail --pid="$server_pid" -f /dev/null || true
# With --gw-stops, the Stop radiusplugin sends as the gateway shuts down.
((client_leaves)) || wait_answered $((requests + 1)) 50
sleep 0.5
frames=$(count udp)
kill -INT "$tcpdump_pid"
timeout 5 tail --pid="$tcpdump_pid" -f /dev/null || true
cp "$work/capture.pcap" "$out"
echo "wrote $out ($frames frames): OpenVPN gateway with radiusplugin, FreeRADIUS 127.0.0.1:1812, acctlab 127.0.0.1:1813"
echo "versions: $(dpkg-query -W -f '${Package} ${Version}; ' openvpn openvpn-auth-radius freeradius tcpdump 2>/dev/null)"
