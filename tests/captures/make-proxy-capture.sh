#!/usr/bin/env bash
# Records RADIUS accounting through a real FreeRADIUS proxy in front of acctlab (run as root).
#
#   tests/captures/make-proxy-capture.sh ACCTLAB [--out FILE.pcap] [--outage pause|down]
#                                        [--neighbours] [--keep]
#
# One network namespace of this process's own (acctlab-px-PID), so the standard ports are free
# and nothing leaves the machine; everything runs on its loopback:
#   NAS      127.0.0.1  FreeRADIUS's radclient: Start, two Interim-Updates, Stop of one
#                       session, each record carrying the NAS's own Proxy-State (as a NAS behind
#                       another proxy would), with Acct-Session-Time the real elapsed time
#   proxy    127.0.0.2  FreeRADIUS 3.2 (private configuration) on 1813, client 127.0.0.1 with
#                       secret acctlab-nas-secret; it forwards every accounting request to the
#                       home server 127.0.0.3:1813 from 127.0.0.2 with secret acctlab-proxy-secret
#   server   127.0.0.3  acctlab serve on 1813, client 127.0.0.2
# tcpdump records `udp port 1813` on that lo: both legs of every exchange.
#
# --outage pause: acctlab is stopped (SIGSTOP) for 2.5 s while the first Interim-Update is on its
# way, then continued: the NAS retransmits (radclient -r 3 -t 2), the proxy forwards what it
# forwards, and acctlab answers the queued datagrams when it wakes (a duplicate from its RFC 5080
# cache). A correct NAS and a correct proxy; the late answers are the server's.
# --outage down: acctlab is stopped for good after the Start; the NAS sends an Interim-Update and
# a Stop, three copies each 2 s apart (radclient -r 3 -t 2), that the proxy forwards and nobody
# answers. A correct NAS; the proxy and its home server leave it unanswered.
#
# --neighbours: beside the accounting, dig (BIND 9) sends DNS queries to 127.0.0.4:53 from source
# ports 1645, 1646, 1812 and 1813 of 127.0.0.1, as a host whose ephemeral port range includes
# RADIUS's numbers does; nothing answers them (the kernel's ICMP port unreachable does). tcpdump
# then records all UDP: a capture where RADIUS shares its port numbers with another protocol.
#
# Every wait is bounded; a trap removes the namespace and stops only the processes this script
# started, on any exit. Exit 77 (skipped) when not root or a tool is missing.
set -euo pipefail

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
[[ $# -ge 1 ]] || {
  echo "usage: $0 ACCTLAB [--out FILE.pcap] [--outage pause|down] [--neighbours] [--keep]" >&2
  exit 2
}
acctlab=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/freeradius-conf.sh"
out="$here/freeradius-proxy.pcap"
keep=0
neighbours=0
outage=none
while (($#)); do
  case "$1" in
  --out)
    out=$2
    shift
    ;;
  --outage)
    outage=$2
    [[ $outage == pause || $outage == down ]] || {
      echo "--outage takes pause or down" >&2
      exit 2
    }
    shift
    ;;
  --keep) keep=1 ;;
  --neighbours) neighbours=1 ;;
  *)
    echo "usage: $0 ACCTLAB [--out FILE.pcap] [--outage pause|down] [--neighbours] [--keep]" >&2
    exit 2
    ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || skip "needs root (a network namespace, tcpdump)"
tools=(ip freeradius radclient tcpdump)
((neighbours)) && tools+=(dig)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done

source "$here/../support/netns-lab.sh"
lab_start acctlab-px

nas_secret=acctlab-nas-secret
proxy_secret=acctlab-proxy-secret

# --- acctlab serve, the home server ---------------------------------------------------------
cat >"$work/clients.conf" <<EOF
client proxy {
  ipaddr = 127.0.0.2
  secret = $proxy_secret
}
EOF
ip netns exec "$ns" "$acctlab" serve --listen 127.0.0.3:1813 --clients "$work/clients.conf" \
  --db "$work/acct.db" --stats 0 >"$work/serve.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")

# --- FreeRADIUS, the proxy ------------------------------------------------------------------
mkdir -p "$work/raddb" "$work/radlog" "$work/radrun"
{
  freeradius_skeleton "$work" yes
  cat <<EOF
proxy server {
  default_fallback = no
}
home_server acctlab {
  type = acct
  ipaddr = 127.0.0.3
  port = 1813
  src_ipaddr = 127.0.0.2
  secret = $proxy_secret
  response_window = 5
  zombie_period = 20
  status_check = none
}
home_server_pool acctlab_pool {
  type = fail-over
  home_server = acctlab
}
realm acctlab {
  acct_pool = acctlab_pool
  nostrip
}
client nas {
  ipaddr = 127.0.0.1
  secret = $nas_secret
  require_message_authenticator = no
}
server default {
  listen {
    type = acct
    ipaddr = 127.0.0.2
    port = 1813
  }
  preacct {
    update control {
      &Proxy-To-Realm := "acctlab"
    }
  }
  accounting {
    ok
  }
}
EOF
} >"$work/raddb/radiusd.conf"
ip netns exec "$ns" freeradius -f -X -d "$work/raddb" >"$work/radiusd.out" 2>&1 &
pids+=($!)

filter='udp port 1813'
((neighbours)) && filter=udp
ip netns exec "$ns" tcpdump -i lo --immediate-mode -U -s 0 -w "$work/capture.pcap" "$filter" >"$work/tcpdump.log" 2>&1 &
tcpdump_pid=$!
pids+=("$tcpdump_pid")

freeradius_and_tcpdump_ready "$work"

# --- the NAS ---------------------------------------------------------------------------------
send() { # STATUS SESSION-TIME [RETRIES TIMEOUT]
  local status=$1 elapsed=$2 retries=${3:-1} wait=${4:-4}
  {
    echo "Acct-Status-Type = $status"
    echo "Acct-Session-Id = \"proxied-0001\""
    echo "User-Name = \"alice@lab.example\""
    echo "NAS-IP-Address = 192.0.2.10"
    echo "NAS-Port-Type = Virtual"
    echo "Acct-Authentic = RADIUS"
    echo "Framed-IP-Address = 198.51.100.20"
    echo "Proxy-State = 0x6e61732d73696465" # "nas-side"
    if [[ $status != Start ]]; then
      echo "Acct-Session-Time = $elapsed"
      echo "Acct-Input-Octets = $((elapsed * 1000))"
      echo "Acct-Output-Octets = $((elapsed * 2000))"
      echo "Acct-Input-Packets = $((elapsed * 10))"
      echo "Acct-Output-Packets = $((elapsed * 20))"
    fi
    if [[ $status == Stop ]]; then echo "Acct-Terminate-Cause = User-Request"; fi
  } | in_ns radclient -r "$retries" -t "$wait" 127.0.0.2:1813 acct "$nas_secret" \
    >>"$work/radclient.log" 2>&1
}
dns_queries=0
neighbour() { # DNS queries from each RADIUS port number of 127.0.0.1, unanswered (one try each)
  ((neighbours)) || return 0
  local port name
  for port in 1645 1646 1812 1813; do
    for name in nas.lab.example radius.lab.example time.lab.example; do
      in_ns dig -b "127.0.0.1#$port" @127.0.0.4 -p 53 +tries=1 +time=1 "$name" A >/dev/null 2>&1 || true
      dns_queries=$((dns_queries + 1))
    done
  done
}
start=$(date +%s.%N)
at() { # sleep until SECONDS after the Start
  local wait
  wait=$(awk -v s="$start" -v d="$1" -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f", s + d - n }')
  [[ $wait == -* ]] || sleep "$wait"
}
send Start 0
if [[ $outage == pause ]]; then
  # The home server stops before the first Interim-Update and wakes 2.5 s later: after the NAS's
  # second copy (2 s), well inside max-latency of it (1 s) and inside the proxy's response_window
  # (5 s), so the proxy never gives up on it.
  at 2 && kill -STOP "$serve_pid"
  send Interim-Update 2 3 2 &
  sender=$!
  sleep 2.5
  kill -CONT "$serve_pid"
  wait "$sender"
  at 7 && send Interim-Update 7
  at 8 && send Stop 8
elif [[ $outage == down ]]; then
  at 2 && kill "$serve_pid"
  timeout 5 tail --pid="$serve_pid" -f /dev/null || true
  send Interim-Update 2 3 2 || true # unanswered: radclient says so and fails
  send Stop 8 3 2 || true
else
  neighbour
  at 2 && send Interim-Update 2
  neighbour
  at 4 && send Interim-Update 4
  neighbour
  at 5 && send Stop 5
fi
sleep 0.5

answers=$(grep -c "Received Accounting-Response" "$work/radclient.log" || true)
want_answers=4 want_frames=16
if [[ $outage == down ]]; then
  # The Start's four datagrams, then three copies of each of the two records from the NAS and
  # at least one forward of each.
  want_answers=1 want_frames=12
fi
want_frames=$((want_frames + dns_queries))
[[ $answers -eq $want_answers ]] || {
  cat "$work/radclient.log" "$work/serve.log" >&2
  echo "radclient got $answers of $want_answers answers" >&2
  exit 1
}
# Every datagram of the four exchanges on both legs (16, more with an outage's retransmissions)
# is in the file before tcpdump stops: a loaded machine may deliver the last ones late (bounded
# wait).
for _ in $(seq 50); do
  frames=$(tcpdump -r "$work/capture.pcap" 2>/dev/null | wc -l || true)
  ((frames >= want_frames)) && break
  sleep 0.1
done
kill -INT "$tcpdump_pid"
timeout 5 tail --pid="$tcpdump_pid" -f /dev/null || true
cp "$work/capture.pcap" "$out"
echo "wrote $out ($frames frames, outage $outage, $dns_queries DNS queries): records from the NAS 127.0.0.1 through the FreeRADIUS proxy 127.0.0.2 to acctlab 127.0.0.3"
echo "versions: $(dpkg-query -W -f '${Package} ${Version}; ' freeradius freeradius-utils tcpdump bind9-dnsutils 2>/dev/null)"
