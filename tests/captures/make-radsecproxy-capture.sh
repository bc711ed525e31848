#!/usr/bin/env bash
# Records RADIUS accounting through a real radsecproxy in front of acctlab over RadSec (as root).
#
#   tests/captures/make-radsecproxy-capture.sh ACCTLAB [--out FILE.pcap] [--keep]
#
# One network namespace of this process's own (acctlab-rsp-PID), everything on its loopback:
#   NAS      127.0.0.1  FreeRADIUS's radclient: Start, two Interim-Updates and a Stop of one
#                       session, with Acct-Session-Time the real elapsed time, secret
#                       acctlab-nas-secret, to the proxy's UDP port 127.0.0.2:1813
#   proxy    127.0.0.2  radsecproxy (private configuration), forwarding every accounting request
#                       over one TLS connection (client certificate CN=proxy, SourceTLS
#                       127.0.0.2) to 127.0.0.1:2083 with the RadSec secret "radsec"
#   server   127.0.0.1  acctlab serve --listen-tls 127.0.0.1:2083, writing the connection's TLS
#                       secrets with --tls-keylog
# tcpdump records `udp port 1813 or tcp port 2083` on that lo: both legs, the TLS one encrypted.
# Writes FILE.pcap and FILE.keys (the key log, NSS format) beside it.
#
# Every wait is bounded; a trap removes the namespace and stops only the processes this script
# started, on any exit. Exit 77 (skipped) when not root or a tool is missing.
set -euo pipefail

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
usage() {
  echo "usage: $0 ACCTLAB [--out FILE.pcap] [--keep]" >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
acctlab=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
out="$here/radsecproxy.pcap"
keep=0
while (($#)); do
  case "$1" in
  --out)
    out=$2
    shift
    ;;
  --keep) keep=1 ;;
  *) usage ;;
  esac
  shift
done
keys="${out%.pcap}.keys"
[[ $(id -u) -eq 0 ]] || skip "needs root (a network namespace, tcpdump)"
for tool in ip ss radsecproxy radclient tcpdump openssl; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done

source "$here/../support/netns-lab.sh"
lab_start acctlab-rsp
listening() { # tcp|udp PORT
  local flag=-ltnH
  [[ $1 == udp ]] && flag=-lunH
  in_ns ss "$flag" "sport = :$2" | grep -q "$2"
}

"$here/../support/make-test-certs.sh" "$work/certs" >"$work/certs.log" 2>&1
nas_secret=acctlab-nas-secret

# --- acctlab serve over TLS -------------------------------------------------------------------
printf 'client proxy {\n  ipaddr = 127.0.0.2\n  proto = tls\n  certificate_name = proxy.example.net\n}\n' \
  >"$work/clients.conf"
ip netns exec "$ns" "$acctlab" serve --listen-tls 127.0.0.1:2083 --tls-cert "$work/certs/server.pem" \
  --tls-key "$work/certs/server.key" --tls-ca "$work/certs/ca.pem" --tls-keylog "$work/keys" \
  --clients "$work/clients.conf" --db "$work/acct.db" --stats 0 >"$work/serve.log" 2>&1 &
pids+=($!)

# --- radsecproxy ------------------------------------------------------------------------------
{
  echo "ListenUDP 127.0.0.2:1813"
  echo "SourceTLS 127.0.0.2"
  echo "LogLevel 4"
  echo "LogDestination file://$work/radsecproxy.log"
  echo "tls default {"
  echo "  CACertificateFile $work/certs/ca.pem"
  echo "  CertificateFile $work/certs/proxy.pem"
  echo "  CertificateKeyFile $work/certs/proxy.key"
  echo "}"
  echo "client nas {"
  echo "  host 127.0.0.1"
  echo "  type udp"
  echo "  secret $nas_secret"
  echo "}"
  echo "server acctlab {"
  echo "  host 127.0.0.1"
  echo "  port 2083"
  echo "  type tls"
  echo "  secret radsec"
  echo "}"
  echo "realm * {"
  echo "  accountingServer acctlab"
  echo "}"
} >"$work/radsecproxy.conf"

ip netns exec "$ns" tcpdump -i lo --immediate-mode -U -s 0 -w "$work/capture.pcap" \
  'udp port 1813 or tcp port 2083' >"$work/tcpdump.log" 2>&1 &
tcpdump_pid=$!
pids+=("$tcpdump_pid")
for _ in $(seq 50); do
  grep -q "listening on" "$work/tcpdump.log" 2>/dev/null && listening tcp 2083 && break
  sleep 0.2
done
listening tcp 2083 || {
  cat "$work/serve.log" >&2
  echo "acctlab serve did not listen on 2083" >&2
  exit 1
}
ip netns exec "$ns" radsecproxy -f -c "$work/radsecproxy.conf" >"$work/radsecproxy.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  listening udp 1813 && break
  sleep 0.2
done
listening udp 1813 || {
  cat "$work/radsecproxy.out" "$work/radsecproxy.log" >&2 || true
  echo "radsecproxy did not listen on 1813" >&2
  exit 1
}

# --- the NAS ---------------------------------------------------------------------------------
send() { # STATUS SESSION-TIME
  local status=$1 elapsed=$2
  {
    echo "Acct-Status-Type = $status"
    echo "Acct-Session-Id = \"radsec-0001\""
    echo "User-Name = \"bob@lab.example\""
    echo "NAS-IP-Address = 192.0.2.10"
    echo "NAS-Port-Type = Virtual"
    echo "Acct-Authentic = RADIUS"
    echo "Framed-IP-Address = 198.51.100.21"
    if [[ $status != Start ]]; then
      echo "Acct-Session-Time = $elapsed"
      echo "Acct-Input-Octets = $((elapsed * 1000))"
      echo "Acct-Output-Octets = $((elapsed * 2000))"
      echo "Acct-Input-Packets = $((elapsed * 10))"
      echo "Acct-Output-Packets = $((elapsed * 20))"
    fi
    if [[ $status == Stop ]]; then echo "Acct-Terminate-Cause = User-Request"; fi
  } | in_ns radclient -r 1 -t 4 127.0.0.2:1813 acct "$nas_secret" >>"$work/radclient.log" 2>&1
}
start=$(date +%s.%N)
at() { # sleep until SECONDS after the Start
  local wait
  wait=$(awk -v s="$start" -v d="$1" -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f", s + d - n }')
  [[ $wait == -* ]] || sleep "$wait"
}
send Start 0
at 2 && send Interim-Update 2
at 4 && send Interim-Update 4
at 5 && send Stop 5
sleep 0.5

answers=$(grep -c "Received Accounting-Response" "$work/radclient.log" || true)
[[ $answers -eq 4 ]] || {
  cat "$work/radclient.log" "$work/serve.log" "$work/radsecproxy.log" >&2 || true
  echo "radclient got $answers of 4 answers" >&2
  exit 1
}
# The 8 UDP datagrams (and the TLS records around them) are in the file before tcpdump stops
# (bounded wait for a loaded machine).
for _ in $(seq 50); do
  udp=$(tcpdump -r "$work/capture.pcap" udp 2>/dev/null | wc -l || true)
  ((udp >= 8)) && break
  sleep 0.1
done
sleep 0.3
kill -INT "$tcpdump_pid"
timeout 5 tail --pid="$tcpdump_pid" -f /dev/null || true
mode=$(stat -c %a "$work/keys")
[[ $mode == 600 ]] || {
  echo "serve wrote its TLS key log with mode $mode, not 600" >&2
  exit 1
}
cp "$work/capture.pcap" "$out"
cp "$work/keys" "$keys"
echo "wrote $out and $keys ($(tcpdump -r "$out" 2>/dev/null | wc -l) frames): records from the NAS 127.0.0.1 through radsecproxy 127.0.0.2 over TLS to acctlab 127.0.0.1:2083"
echo "versions: $(dpkg-query -W -f '${Package} ${Version}; ' radsecproxy freeradius-utils tcpdump openssl 2>/dev/null)"
