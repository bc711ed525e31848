#!/usr/bin/env bash
# Records the RADIUS of a real SSL VPN gateway: ocserv (an AnyConnect-compatible server) whose
# authentication and accounting go through radcli, its client openconnect logging in with a
# username and a password (run as root).
#
#   tests/captures/make-ocserv-capture.sh ACCTLAB [--out FILE.pcap] [--seconds N] [--interim]
#                                         [--gateway-stops] [--bulk MIB] [--outage SECONDS]
#                                         [--keep]
#
# Two network namespaces of this process's own joined by a veth pair, so nothing leaves the
# machine:
#   acctlab-ocserv-PID    the gateway. ocserv on gw0 (203.0.113.1/25, TCP and UDP port 443),
#                         its tunnel pool 203.0.113.128/25; on its loopback FreeRADIUS 3.2
#                         (private configuration) on 127.0.0.1:1812, PAP for one user, alice;
#                         acctlab serve on 127.0.0.1:1813. radcli (ocserv's RADIUS library) sends
#                         both from 127.0.0.1 with the secret acctlab-ocserv-secret, configured
#                         by a radiusclient.conf and servers file of this script's and Debian's
#                         radcli dictionary.
#   acctlab-ocserv-PID-c  the user: openconnect on cli0 (203.0.113.20/25) logs in as alice
#                         (--passwd-on-stdin, the gateway's self-signed certificate pinned by
#                         its public key), a script of this one's sets up the tunnel device,
#                         pings the gateway's end of the tunnel (5 x 1000 octets, python3), sends
#                         5 UDP datagrams of 1200 octets one way (to 203.0.113.250, which no
#                         one holds: they count as the user's input only), waits N
#                         seconds (default 3) and logs out (SIGINT: openconnect sends its BYE,
#                         ocserv closes the session at once and sends the Stop).
# Then ocserv is stopped (SIGTERM), as an administrator stops the service.
#
# ocserv sends an Interim-Update with the final figures just before each Stop: its worker reports
# its counters as it exits, and sec-mod turns every report into an update.
#
# --interim: stats-report-time = 30 and the tunnel stays up 70 s: periodic Interim-Updates (ocserv
# sends its first 10 s in, the next when its worker's periodic check finds 30 s passed).
# --gateway-stops: the user never logs out; ocserv is stopped (SIGTERM) with the tunnel up (it
# then sends no Stop at all).
# --outage SECONDS: acctlab serve is stopped (SIGSTOP) just before the logout and continued
# SECONDS later: radcli (radius_timeout 3, radius_retries 3) sends the closing update again.
# --bulk MIB: after the ping, the user sends MIB mebibytes one way through the tunnel (UDP
# datagrams of 1400 octets). Not all of it reaches ocserv (on a 2-core machine it counted 5.3 GB
# of the 12.6 GB tun0 passed with --bulk 12000); past 4 GiB, Acct-Input-Gigawords shows.
#
# tcpdump records `udp port 1812 or udp port 1813` on the gateway's lo: the Access-Request and
# Access-Accept, the Start, any Interim-Update, the Stop, with their answers.
#
# Every wait is bounded; a trap removes both namespaces and stops only the processes this script
# started, on any exit. Exit 77 (skipped) when not root or a tool is missing.
set -euo pipefail

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
usage="usage: $0 ACCTLAB [--out FILE.pcap] [--seconds N] [--interim] [--gateway-stops] [--bulk MIB] [--outage SECONDS] [--keep]"
[[ $# -ge 1 ]] || {
  echo "$usage" >&2
  exit 2
}
acctlab=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/freeradius-conf.sh"
out="$here/ocserv-radius.pcap"
keep=0
seconds=3
interim=0
logout=1
bulk=0
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
    seconds=70
    ;;
  --gateway-stops) logout=0 ;;
  --bulk)
    bulk=$2
    shift
    ;;
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
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, tun devices, tcpdump)"
for tool in ip freeradius tcpdump ocserv openconnect openssl python3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[[ -r /etc/radcli/dictionary ]] || skip "radcli's dictionary (/etc/radcli/dictionary) is missing"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"

source "$here/../support/netns-lab.sh"
lab_start acctlab-ocserv
# ocserv's workers run as nobody and reach the security module through a socket in $work.
chmod 755 "$work"
client_ns="$ns-c"
lab_add_namespace "$client_ns"

secret="acctlab-ocserv-secret"
gw_addr=203.0.113.1
client_addr=203.0.113.20
pool=203.0.113.128/25
ip -n "$ns" link add gw0 type veth peer name cli0 netns "$client_ns"
ip -n "$ns" addr add "$gw_addr/25" dev gw0
ip -n "$client_ns" addr add "$client_addr/25" dev cli0
ip -n "$ns" link set gw0 up
ip -n "$client_ns" link set cli0 up

# --- acctlab serve, the accounting server ----------------------------------------------------
cat >"$work/clients.conf" <<EOF
client ocserv {
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
  freeradius_skeleton "$work" no "  pap {
  }"
  cat <<EOF
client ocserv {
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
        &Cleartext-Password := "alice-vpn-password"
      }
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

# --- ocserv, the gateway -----------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/O=acctlab test/CN=$gw_addr" -addext "subjectAltName=IP:$gw_addr" \
  -keyout "$work/server.key" -out "$work/server.pem" 2>/dev/null
pin=$(openssl x509 -in "$work/server.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)

# radcli: the servers and its secret, its dictionary, a short timeout (3 tries of 3 s).
cat >"$work/radcli-servers" <<EOF
127.0.0.1 $secret
EOF
chmod 600 "$work/radcli-servers"
cat >"$work/radiusclient.conf" <<EOF
nas-identifier acctlab-ocserv
authserver 127.0.0.1:1812
acctserver 127.0.0.1:1813
servers $work/radcli-servers
dictionary /etc/radcli/dictionary
default_realm
radius_timeout 3
radius_retries 3
bindaddr *
EOF

cat >"$work/ocserv.conf" <<EOF
auth = "radius[config=$work/radiusclient.conf]"
acct = "radius[config=$work/radiusclient.conf]"
stats-report-time = $((interim ? 30 : 360))
listen-host = $gw_addr
tcp-port = 443
udp-port = 443
run-as-user = nobody
run-as-group = nogroup
socket-file = $work/ocserv.sock
occtl-socket-file = $work/occtl.sock
use-occtl = true
pid-file = $work/ocserv.pid
server-cert = $work/server.pem
server-key = $work/server.key
isolate-workers = false
max-clients = 4
max-same-clients = 2
keepalive = 32400
dpd = 90
mobile-dpd = 1800
switch-to-tcp-timeout = 25
try-mtu-discovery = false
auth-timeout = 240
idle-timeout = 1200
cookie-timeout = 300
deny-roaming = false
rekey-time = 172800
rekey-method = ssl
device = vpns
predictable-ips = true
default-domain = example.net
ipv4-network = $pool
tunnel-all-dns = false
ping-leases = false
cisco-client-compat = true
dtls-legacy = true
EOF
ip netns exec "$ns" ocserv -f -d 3 -c "$work/ocserv.conf" >"$work/ocserv.log" 2>&1 &
ocserv_pid=$!
pids+=("$ocserv_pid")
for _ in $(seq 50); do
  ip netns exec "$ns" ss -ltn "sport = :443" 2>/dev/null | grep -q LISTEN && break
  sleep 0.1
done
ip netns exec "$ns" ss -ltn "sport = :443" | grep -q LISTEN || {
  cat "$work/ocserv.log" >&2
  echo "ocserv did not start" >&2
  exit 1
}

# What the capture holds so far, as acctlab reads it: Accounting-Requests and -Responses.
captured() { # -> "requests answers"
  "$acctlab" pcap analyze "$work/capture.pcap" --report json 2>/dev/null | python3 -c '
import json, sys
codes = json.load(sys.stdin)["totals"]["packets_by_code"]
print(codes.get("Accounting-Request", 0), codes.get("Accounting-Response", 0))' || echo "0 0"
}
count() { tcpdump -r "$work/capture.pcap" "$1" 2>/dev/null | wc -l || true; }
# Waits (at most 10 s) until at least N Accounting-Requests were sent and every one has its answer.
wait_answered() { # N
  local requests answers
  for _ in $(seq 100); do
    read -r requests answers < <(captured)
    ((answers >= requests && requests >= $1)) && return 0
    sleep 0.1
  done
  echo "waited 10 s for $1 Accounting-Requests and their answers: $requests sent, $answers answered" >&2
  return 1
}

# --- openconnect, the user -----------------------------------------------------------------------
# openconnect runs this with reason=connect when the tunnel is up (and reason=disconnect): it
# gives the tun device its address and a route to the pool, as vpnc-script would, and nothing
# else (no DNS, no default route).
cat >"$work/tun-script.sh" <<'EOF'
#!/bin/sh
case "$reason" in
connect)
  ip link set dev "$TUNDEV" up mtu "${INTERNAL_IP4_MTU:-1400}"
  ip addr add "$INTERNAL_IP4_ADDRESS/32" dev "$TUNDEV"
  ip route add 203.0.113.128/25 dev "$TUNDEV"
  echo "tunnel up: $TUNDEV $INTERNAL_IP4_ADDRESS" >"$TUN_STATE"
  ;;
esac
exit 0
EOF
chmod 755 "$work/tun-script.sh"
echo "alice-vpn-password" >"$work/password"
TUN_STATE="$work/tun-state" ip netns exec "$client_ns" openconnect --protocol=anyconnect \
  --user=alice --passwd-on-stdin --non-inter --servercert "pin-sha256:$pin" \
  --script "$work/tun-script.sh" --interface tun0 --verbose "https://$gw_addr/" \
  <"$work/password" >"$work/openconnect.log" 2>&1 &
openconnect_pid=$!
pids+=("$openconnect_pid")

for _ in $(seq 150); do
  [[ -s "$work/tun-state" ]] && break
  sleep 0.1
done
[[ -s "$work/tun-state" ]] || {
  tail -40 "$work/ocserv.log" "$work/openconnect.log" >&2
  echo "openconnect did not bring the tunnel up" >&2
  exit 1
}
# The Start follows the login.
wait_answered 1
# The gateway's end of the tunnel: the address of ocserv's vpns device.
gw_tun=$(ip -n "$ns" -4 -o addr show | awk '$2 ~ /^vpns/ { sub("/.*", "", $4); print $4; exit }')
[[ -n $gw_tun ]] || {
  ip -n "$ns" addr >&2
  echo "no vpns device on the gateway" >&2
  exit 1
}
# Five ICMP echo requests of 1000 octets of data through the tunnel (a raw socket: the machine has
# no ping), each answer awaited at most 1 s.
ip netns exec "$client_ns" python3 -c '
import socket, struct, sys, time
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock.settimeout(1.0)
answered = 0
for seq in range(1, 6):
    body = struct.pack("!HH", 0x4163, seq) + bytes(1000)
    sock.sendto(struct.pack("!BBH", 8, 0, checksum(b"\x08\x00\x00\x00" + body)) + body, (sys.argv[1], 0))
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            packet = sock.recv(2048)
        except socket.timeout:
            break
        header = (packet[0] & 15) * 4
        if packet[header] == 0 and struct.unpack("!HH", packet[header + 4:header + 8]) == (0x4163, seq):
            answered += 1
            break
    time.sleep(0.2)
print("%d of 5 echo requests answered" % answered)
# Then one way only: 5 UDP datagrams of 1200 octets (1228 with headers) to an address of the
# pool no one holds. ocserv counts them as it writes them to its tun device, as octets from the
# user (Acct-Input-Octets), and nothing comes back.
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5):
    udp.sendto(bytes(1200), (sys.argv[2], 9))
    time.sleep(0.05)
print("5 UDP datagrams of 1200 octets sent to %s" % sys.argv[2])
sys.exit(0 if answered == 5 else 1)' "$gw_tun" 203.0.113.250 >"$work/ping.log" 2>&1 || {
  cat "$work/ping.log" >&2
  echo "no answer through the tunnel from $gw_tun" >&2
  exit 1
}
if ((bulk > 0)); then
  # One way, as fast as the tunnel takes them: UDP datagrams of 1400 octets (1428 with headers)
  # to 203.0.113.250 until tun0 has passed MIB mebibytes to openconnect (its tx_bytes; what the
  # queue drops is not counted there), for at most 300 s.
  ip netns exec "$client_ns" python3 -c '
import socket, sys, time
def sent():
    with open("/sys/class/net/tun0/statistics/tx_bytes") as f:
        return int(f.read())
target = sent() + int(sys.argv[1]) * 1048576
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = bytes(1400)
deadline = time.monotonic() + 300
began = time.monotonic()
while sent() < target and time.monotonic() < deadline:
    for _ in range(2000):
        try:
            udp.sendto(payload, ("203.0.113.250", 9))
        except OSError:
            time.sleep(0.001)
print("tun0 passed %d octets to openconnect in %.1f s" % (sent(), time.monotonic() - began))
sys.exit(0 if sent() >= target else 1)' "$bulk" >"$work/bulk.log" 2>&1 || {
    cat "$work/bulk.log" >&2
    echo "the bulk transfer did not finish" >&2
    exit 1
  }
fi
sleep "$seconds"
if ((logout)); then
  ((outage > 0)) && kill -STOP "$serve_pid"
  kill -INT "$openconnect_pid"
  timeout 10 tail --pid="$openconnect_pid" -f /dev/null || true
  if ((outage > 0)); then
    sleep "$outage"
    kill -CONT "$serve_pid"
  fi
  wait_answered $((2 + interim))
fi
kill "$ocserv_pid"
timeout 10 tail --pid="$ocserv_pid" -f /dev/null || true
# Whatever ocserv sends as it stops.
sleep 1
((logout)) || wait_answered $((1 + interim)) || true
frames=$(count udp)
kill -INT "$tcpdump_pid"
timeout 5 tail --pid="$tcpdump_pid" -f /dev/null || true
cp "$work/capture.pcap" "$out"
echo "wrote $out ($frames frames): ocserv (radcli), FreeRADIUS 127.0.0.1:1812, acctlab 127.0.0.1:1813"
echo "$(cat "$work/tun-state"), gateway end $gw_tun; $(cat "$work/ping.log")"
((bulk > 0)) && cat "$work/bulk.log"
echo "versions: $(dpkg-query -W -f '${Package} ${Version}; ' ocserv openconnect libradcli4 freeradius tcpdump 2>/dev/null)"
