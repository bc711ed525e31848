#!/usr/bin/env bash
# Records a real strongSwan gateway's RADIUS accounting into a pcap (run as root).
#
#   tests/captures/make-strongswan-capture.sh [--outage pause|down] [--out FILE.pcap] [--keep]
#
# Two network namespaces of this process's own (acctlab-gw-PID, acctlab-rw-PID) joined by a veth
# pair on 192.0.2.0/24 (RFC 5737 documentation space; nothing leaves the machine):
#   gateway      192.0.2.1  charon with eap-radius accounting, FreeRADIUS on 127.0.0.1:1813
#                           (private config, in the gateway namespace), tcpdump on its lo;
#                           203.0.113.1/32 on lo is the network behind the gateway
#   road warrior 192.0.2.2  charon, asks for a virtual IP (the gateway's pool 198.51.100.10/32)
# The kernel here has no ESP transforms, so both charons use kernel-libipsec (ESP in userspace
# over a TUN device, UDP-encapsulated).
#
# Lifecycle: connect, pings of known size through the tunnel, CHILD_SA rekey, IKE rekey, two
# interim updates, reauthentication (a new IKE_SA), pings, disconnect.
# --outage pause: after the Start, FreeRADIUS is frozen (SIGSTOP) for OUTAGE seconds (default 10)
#   and thawed (SIGCONT): a server that is silent for a while, so charon retransmits an update
#   and the server answers the queued copies late.
# --outage down: FreeRADIUS is stopped for OUTAGE seconds and started again: the port is closed,
#   the kernel answers ICMP port unreachable (captured too) and charon gives the update up.
#
# Every wait is bounded; a trap removes the namespaces and stops only the processes this
# script started, on any exit. The output is a small pcap (a few KB); the provenance (versions,
# addresses, secret, lifecycle with times) goes to standard output, for tests/captures/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/freeradius-conf.sh"
out="$here/strongswan-lifecycle.pcap"
outage=none
outage_seconds=${OUTAGE:-10}
keep=0
while (($#)); do
  case "$1" in
  --outage)
    outage=$2
    shift
    ;;
  --out)
    out=$2
    shift
    ;;
  --keep) keep=1 ;;
  *)
    echo "usage: $0 [--outage pause|down] [--out FILE.pcap] [--keep]" >&2
    exit 2
    ;;
  esac
  shift
done

case $outage in
none | pause | down) ;;
esac

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, charon, tcpdump)"
command -v ip >/dev/null || skip "no ip(8)"
charon=/usr/lib/ipsec/charon
[[ -x $charon ]] || skip "no $charon (install strongswan-charon)"
for tool in swanctl tcpdump freeradius; do
  command -v "$tool" >/dev/null || skip "no $tool"
done
[[ -e /usr/lib/ipsec/plugins/libstrongswan-eap-radius.so ]] ||
  skip "no eap-radius plugin (install libcharon-extra-plugins)"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun (kernel-libipsec needs it)"

secret=acctlab-swan-secret
gw_ns=acctlab-gw-$$
rw_ns=acctlab-rw-$$
work=$(mktemp -d /tmp/acctlab-swan.XXXXXX)
pids=()
netns_made=()

cleanup() {
  local rc=$?
  set +e
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    # Bounded: at most 5 s each, then SIGKILL.
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for ns in "${netns_made[@]}"; do
    ip netns del "$ns" 2>/dev/null
  done
  if ((keep)); then
    echo "kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s %s\n' "$(date -u +%H:%M:%S.%N | cut -c1-12)" "$*" | tee -a "$work/lifecycle.txt" >&2; }

# --- network ------------------------------------------------------------------------------
ip netns add "$gw_ns" || skip "ip netns add failed (no network namespaces here)"
netns_made+=("$gw_ns")
ip netns add "$rw_ns"
netns_made+=("$rw_ns")
ip link add "gw$$" netns "$gw_ns" type veth peer name "rw$$" netns "$rw_ns"
ip -n "$gw_ns" addr add 192.0.2.1/24 dev "gw$$"
ip -n "$rw_ns" addr add 192.0.2.2/24 dev "rw$$"
ip -n "$gw_ns" addr add 203.0.113.1/32 dev lo
for ns in "$gw_ns" "$rw_ns"; do
  ip -n "$ns" link set lo up
done
ip -n "$gw_ns" link set "gw$$" up
ip -n "$rw_ns" link set "rw$$" up

# --- FreeRADIUS (private config; accounting only) ------------------------------------------
mkdir -p "$work/raddb" "$work/radlog" "$work/radrun"
{
  freeradius_skeleton "$work" no
  cat <<EOF
client gateway {
  ipaddr = 127.0.0.1
  secret = $secret
  require_message_authenticator = no
}
server default {
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = 1813
  }
  preacct {
    ok
  }
  accounting {
    ok
  }
}
EOF
} >"$work/raddb/radiusd.conf"

start_radius() {
  ip netns exec "$gw_ns" freeradius -f -X -d "$work/raddb" >>"$work/radiusd.out" 2>&1 &
  radius_pid=$!
  pids+=("$radius_pid")
  for _ in $(seq 50); do
    grep -q 'Ready to process requests' "$work/radiusd.out" 2>/dev/null && return 0
    kill -0 "$radius_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FreeRADIUS did not start; its output:" >&2
  tail -20 "$work/radiusd.out" >&2
  return 1
}
stop_radius() {
  kill "$radius_pid"
  for _ in $(seq 50); do
    kill -0 "$radius_pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$radius_pid" 2>/dev/null || true
}

# --- charon configs -----------------------------------------------------------------------
plugins="random nonce aes sha1 sha2 md5 hmac gmp kdf pem pkcs1 x509 pubkey attr"
plugins="$plugins kernel-libipsec kernel-netlink socket-default vici updown"
write_strongswan_conf() { # NAME EXTRA-PLUGINS EXTRA-SECTION
  local dir=$work/$1
  mkdir -p "$dir/run" "$dir"/{x509,x509ca,x509ocsp,x509aa,x509ac,x509crl,pubkey,private,rsa,ecdsa,bliss,pkcs8,pkcs12}
  cat >"$dir/strongswan.conf" <<EOF
charon {
  load = $plugins $2
  # A road warrior's virtual IP and the ESP in userspace (kernel-libipsec).
  install_virtual_ip = yes
  filelog {
    charon {
      path = $dir/charon.log
      time_format = %H:%M:%S
      default = 1
      cfg = 2
      ike = 2
    }
  }
  plugins {
    vici {
      socket = unix://$dir/charon.vici
    }
    kernel-libipsec {
      load = yes
    }
$3
  }
}
swanctl {
  load = random nonce aes sha1 sha2 md5 hmac gmp pem pkcs1 x509 pubkey
}
EOF
}

accounting_interval=5
write_strongswan_conf gw eap-radius "    eap-radius {
      accounting = yes
      accounting_interval = $accounting_interval
      # The outage capture keeps the IKE_SA when an update times out.
      accounting_close_on_timeout = no
      nas_identifier = acctlab-swan-gw
      servers {
        lab {
          address = 127.0.0.1
          secret = $secret
          auth_port = 1812
          acct_port = 1813
        }
      }
    }"
write_strongswan_conf rw "" ""

psk=acctlab-lab-psk-0123456789
cat >"$work/gw/swanctl.conf" <<EOF
connections {
  rw {
    version = 2
    local_addrs = 192.0.2.1
    remote_addrs = %any
    proposals = aes128-sha256-modp2048
    encap = yes
    pools = rw_pool
    rekey_time = 0
    local {
      auth = psk
      id = gw.acctlab.test
    }
    remote {
      auth = psk
      id = rw.acctlab.test
    }
    children {
      lab {
        local_ts = 203.0.113.1/32
        esp_proposals = aes128-sha256
        rekey_time = 0
      }
    }
  }
}
pools {
  rw_pool {
    addrs = 198.51.100.10/32
  }
}
secrets {
  ike-lab {
    id-gw = gw.acctlab.test
    id-rw = rw.acctlab.test
    secret = $psk
  }
}
EOF
cat >"$work/rw/swanctl.conf" <<EOF
connections {
  rw {
    version = 2
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    vips = 0.0.0.0
    proposals = aes128-sha256-modp2048
    encap = yes
    rekey_time = 0
    local {
      auth = psk
      id = rw.acctlab.test
    }
    remote {
      auth = psk
      id = gw.acctlab.test
    }
    children {
      lab {
        remote_ts = 203.0.113.1/32
        esp_proposals = aes128-sha256
        rekey_time = 0
      }
    }
  }
}
secrets {
  ike-lab {
    id-gw = gw.acctlab.test
    id-rw = rw.acctlab.test
    secret = $psk
  }
}
EOF

# charon writes /var/run/charon.pid: each runs in a mount namespace of its own with a private
# /run (under $work), so neither touches the host's.
start_charon() { # NAME NAMESPACE
  local dir=$work/$1
  # shellcheck disable=SC2016 # $1..$3 are the inner shell's arguments
  ip netns exec "$2" unshare --mount --propagation private \
    sh -c 'mount --bind "$1" /run && STRONGSWAN_CONF="$2" exec "$3"' charon \
    "$dir/run" "$dir/strongswan.conf" "$charon" >"$dir/charon.out" 2>&1 &
  pids+=("$!")
  for _ in $(seq 100); do
    [[ -S $dir/charon.vici ]] && return 0
    sleep 0.1
  done
  echo "charon ($1) did not open its VICI socket; its output:" >&2
  tail -20 "$dir/charon.out" "$dir/charon.log" >&2 || true
  return 1
}
swan() { # NAME swanctl-args...
  local dir=$work/$1
  shift
  local command=$1
  shift
  STRONGSWAN_CONF=$dir/strongswan.conf timeout 30 swanctl "$command" --uri "unix://$dir/charon.vici" "$@"
}

# No ping(8) here: the road warrior sends UDP datagrams of known size from its virtual IP to an
# echo service on the gateway's protected address, through the tunnel, and counts the echoes.
udp_echo='
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("203.0.113.1", 7))
s.settimeout(1.0)
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        continue
    s.sendto(data, peer)
'
udp_ping='
import socket, sys
count, size = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.10", 0))
s.settimeout(2.0)
echoed = 0
for i in range(count):
    s.sendto(bytes([i % 256]) * size, ("203.0.113.1", 7))
    try:
        if len(s.recv(2048)) == size:
            echoed += 1
    except socket.timeout:
        pass
print(f"{count} datagrams of {size} octets sent, {echoed} echoed")
'
ping_tunnel() { # COUNT SIZE
  ip netns exec "$rw_ns" timeout 30 python3 -c "$udp_ping" "$1" "$2" | tee -a "$work/lifecycle.txt" >&2
}
# --- run ----------------------------------------------------------------------------------
raw_pcap=$work/capture.pcap
ip netns exec "$gw_ns" tcpdump -i lo -n -U -s 0 -w "$raw_pcap" \
  'udp port 1813 or udp port 1812 or icmp' \
  >"$work/tcpdump.out" 2>&1 &
tcpdump_pid=$!
pids+=("$tcpdump_pid")
for _ in $(seq 50); do
  grep -q 'listening on' "$work/tcpdump.out" && break
  sleep 0.1
done

start_radius
ip netns exec "$gw_ns" python3 -c "$udp_echo" 120 &
pids+=("$!")
start_charon gw "$gw_ns"
start_charon rw "$rw_ns"
swan gw --load-all --file "$work/gw/swanctl.conf" >/dev/null
swan rw --load-all --file "$work/rw/swanctl.conf" >/dev/null

ike_sas() { swan gw --list-sas --raw 2>/dev/null | grep -o 'uniqueid=[0-9]*' | tr '\n' ' '; }
wait_for_log() { # FILE PATTERN COUNT SECONDS: the PATTERN's COUNTth line, bounded
  local n
  for _ in $(seq $(($4 * 10))); do
    n=$(grep -c -- "$2" "$1" 2>/dev/null || true)
    ((n >= $3)) && return 0
    sleep 0.1
  done
  echo "timed out waiting for $3 x '$2' in $1" >&2
  return 1
}
acct_count() { grep -c 'Received Accounting-Request' "$work/radiusd.out" || true; }

log "connect (road warrior initiates)"
swan rw --initiate --child lab --timeout 20 >"$work/initiate.out"
wait_for_log "$work/radiusd.out" 'Acct-Status-Type = Start' 1 10
log "IKE_SAs at the gateway: $(ike_sas)"
log "traffic: 5 datagrams of 100 octets"
ping_tunnel 5 100

case $outage in
pause)
  log "RADIUS server frozen (SIGSTOP) for $outage_seconds s"
  kill -STOP "$radius_pid"
  sleep "$outage_seconds"
  kill -CONT "$radius_pid"
  log "RADIUS server thawed (SIGCONT)"
  wait_for_log "$work/radiusd.out" 'Acct-Status-Type = Interim-Update' 1 30
  ;;
down)
  log "RADIUS server stopped for $outage_seconds s"
  stop_radius
  sleep "$outage_seconds"
  start_radius
  log "RADIUS server restarted"
  wait_for_log "$work/radiusd.out" 'Acct-Status-Type = Interim-Update' 1 30
  ;;
none)
  wait_for_log "$work/radiusd.out" 'Acct-Status-Type = Interim-Update' 1 $((accounting_interval * 3))
  ;;
esac
log "CHILD_SA rekey"
swan gw --rekey --child lab >/dev/null
sleep 1
ping_tunnel 3 200
log "IKE rekey"
swan gw --rekey --ike rw >/dev/null
sleep 1
log "IKE_SAs at the gateway: $(ike_sas)"
ping_tunnel 3 300
n=$(grep -c 'Acct-Status-Type = Interim-Update' "$work/radiusd.out" || true)
wait_for_log "$work/radiusd.out" 'Acct-Status-Type = Interim-Update' $((n + 2)) \
  $((accounting_interval * 4))
log "reauthentication (road warrior)"
swan rw --rekey --ike rw --reauth >/dev/null
wait_for_log "$work/radiusd.out" 'Acct-Status-Type = Start' 2 15
sleep 1
log "IKE_SAs at the gateway: $(ike_sas)"
ping_tunnel 3 400
n=$(grep -c 'Acct-Status-Type = Interim-Update' "$work/radiusd.out" || true)
wait_for_log "$work/radiusd.out" 'Acct-Status-Type = Interim-Update' $((n + 1)) \
  $((accounting_interval * 3))
log "disconnect (road warrior terminates the IKE_SA)"
swan rw --terminate --ike rw --timeout 20 >/dev/null
wait_for_log "$work/radiusd.out" 'Acct-Status-Type = Stop' 2 15
sleep 1
log "accounting requests FreeRADIUS received: $(acct_count)"

kill "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null || true
cp "$raw_pcap" "$out"
{
  echo "command: tests/captures/$(basename "$0") --outage $outage --out $(basename "$out")"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "versions:"
  dpkg-query -W -f='  ${Package} ${Version}\n' strongswan-charon libcharon-extra-plugins \
    strongswan-swanctl freeradius 2>/dev/null || true
  echo "secret: $secret"
  echo "gateway (NAS) 192.0.2.1, road warrior 192.0.2.2, virtual IP 198.51.100.10,"
  echo "RADIUS 127.0.0.1:1813 (gateway namespace, captured on its lo), accounting_interval $accounting_interval s"
  echo "lifecycle:"
  sed 's/^/  /' "$work/lifecycle.txt"
}
echo "wrote $out ($(stat -c %s "$out") octets)" >&2
