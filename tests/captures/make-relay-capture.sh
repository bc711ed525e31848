#!/usr/bin/env bash
# Records RADIUS accounting relayed store-and-forward by a real FreeRADIUS 3.2 from a detail file
# (the radrelay pattern) to acctlab serve (run as root).
#
#   tests/captures/make-relay-capture.sh ACCTLAB [--out FILE.pcap] [--outage SECONDS [--pause]]
#                                        [--event-timestamp] [--keep]
#
# One network namespace of this process's own (acctlab-relay-PID), so the standard ports are free
# and nothing leaves the machine; everything runs on its loopback:
#   NAS      127.0.0.1  FreeRADIUS's radclient: Start, four Interim-Updates 2 s apart and a Stop of
#                       one session, Acct-Session-Time the real elapsed time, Acct-Delay-Time 0
#                       (and Event-Timestamp, the sending second, with --event-timestamp)
#   front    127.0.0.2  FreeRADIUS 3.2 (private configuration), virtual server `default`: accepts
#                       accounting on 1813 from 127.0.0.1 (secret acctlab-nas-secret), writes each
#                       request to the detail file WORK/radlog/relay/detail and answers at once
#   relay               the same FreeRADIUS, virtual server `relay`: a `listen { type = detail }`
#                       reading that file and forwarding each record, one at a time, to the home
#                       server 127.0.0.3:1813 from 127.0.0.2 (secret acctlab-relay-secret),
#                       retrying a record 4 s (retry_interval, its minimum) after the 2-s response_window until it is answered
#   server   127.0.0.3  acctlab serve on 1813, client 127.0.0.2
# tcpdump records `udp port 1813 or icmp` on that lo: both legs (NAS -> front, relay -> acctlab),
# and the ICMP port unreachable the kernel sends back while acctlab is down.
#
# --outage S: acctlab is killed 3 s after the Start and started again S seconds later on the same
# address and database: the NAS keeps sending and is answered by the front at once, the relay
# keeps the records in the detail file and retries the one in hand; once acctlab is back the
# records arrive late, in a burst, their Acct-Delay-Time raised by the time they waited.
# --pause: acctlab is stopped (SIGSTOP) and continued (SIGCONT) instead: the relay's copies wait in
# its socket and are all answered when it wakes, those the relay had given up on too.
#
# Every wait is bounded; a trap removes the namespace and stops only the processes this script
# started, on any exit. Exit 77 (skipped) when not root or a tool is missing.
set -euo pipefail

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
usage() {
  echo "usage: $0 ACCTLAB [--out FILE.pcap] [--outage SECONDS [--pause]] [--event-timestamp]" \
    "[--keep]" >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
acctlab=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/freeradius-conf.sh"
out="$here/relay-detail.pcap"
keep=0
outage=0
event_timestamp=0
pause=0
while (($#)); do
  case "$1" in
  --out)
    out=$2
    shift
    ;;
  --outage)
    outage=$2
    [[ $outage =~ ^[0-9]+$ ]] && ((outage <= 30)) || {
      echo "--outage takes whole seconds, at most 30" >&2
      exit 2
    }
    shift
    ;;
  --event-timestamp) event_timestamp=1 ;;
  --pause) pause=1 ;;
  --keep) keep=1 ;;
  *) usage ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || skip "needs root (a network namespace, tcpdump)"
for tool in ip freeradius radclient tcpdump; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done

source "$here/../support/netns-lab.sh"
lab_start acctlab-relay

nas_secret=acctlab-nas-secret
relay_secret=acctlab-relay-secret

# --- acctlab serve, the home server ---------------------------------------------------------
cat >"$work/clients.conf" <<EOF
client relay {
  ipaddr = 127.0.0.2
  secret = $relay_secret
}
EOF
serve() {
  ip netns exec "$ns" "$acctlab" serve --listen 127.0.0.3:1813 --clients "$work/clients.conf" \
    --db "$work/acct.db" --stats 0 >>"$work/serve.log" 2>&1 &
  serve_pid=$!
  pids+=("$serve_pid")
}
serve

# --- FreeRADIUS: the front (detail writer) and the relay (detail reader) ----------------------
mkdir -p "$work/raddb" "$work/radlog/relay" "$work/radrun"
detail="$work/radlog/relay/detail"
{
  freeradius_skeleton "$work" yes "  detail relay_detail {
    filename = $detail
    escape_filenames = no
    permissions = 0600
    header = \"%t\"
    locking = yes
  }"
  cat <<EOF
proxy server {
  default_fallback = no
}
home_server acctlab {
  type = acct
  ipaddr = 127.0.0.3
  port = 1813
  src_ipaddr = 127.0.0.2
  secret = $relay_secret
  response_window = 2
  zombie_period = 60
  revive_interval = 10
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
    ok
  }
  accounting {
    relay_detail
  }
}
server relay {
  listen {
    type = detail
    filename = $detail
    load_factor = 100
    poll_interval = 1
    retry_interval = 4
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

ip netns exec "$ns" tcpdump -i lo --immediate-mode -U -s 0 -w "$work/capture.pcap" \
  'udp port 1813 or icmp' >"$work/tcpdump.log" 2>&1 &
tcpdump_pid=$!
pids+=("$tcpdump_pid")

freeradius_and_tcpdump_ready "$work"

# --- the NAS ---------------------------------------------------------------------------------
send() { # STATUS SESSION-TIME
  local status=$1 elapsed=$2
  {
    echo "Acct-Status-Type = $status"
    echo "Acct-Session-Id = \"relayed-0001\""
    echo "User-Name = \"bob@lab.example\""
    echo "NAS-IP-Address = 192.0.2.11"
    echo "NAS-Port-Type = Virtual"
    echo "Acct-Authentic = RADIUS"
    echo "Framed-IP-Address = 203.0.113.20"
    echo "Acct-Delay-Time = 0"
    ((event_timestamp)) && echo "Event-Timestamp = $(date +%s)"
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
for t in 2 4 6 8; do
  if ((outage > 0 && t == 4)); then
    at 3
    if ((pause)); then
      kill -STOP "$serve_pid"
    else
      kill "$serve_pid"
      timeout 5 tail --pid="$serve_pid" -f /dev/null || true
    fi
  fi
  at "$t" && send Interim-Update "$t"
done
at 10 && send Stop 10
if ((outage > 0)); then
  at $((3 + outage))
  if ((pause)); then kill -CONT "$serve_pid"; else serve; fi
fi

answers=$(grep -c "Received Accounting-Response" "$work/radclient.log" || true)
[[ $answers -eq 6 ]] || {
  cat "$work/radclient.log" "$work/radiusd.out" >&2
  echo "radclient got $answers of 6 answers from the front" >&2
  exit 1
}
# The relay is done when it has read the detail file through and removed its work copy
# (detail.work); bounded: 30 s past the outage.
for _ in $(seq 300); do
  [[ -e $detail || -e $detail.work ]] || break
  sleep 0.1
done
[[ -e $detail || -e $detail.work ]] && {
  tail -60 "$work/radiusd.out" >&2
  echo "the relay did not deliver the detail file" >&2
  exit 1
}
sleep 0.5
kill -INT "$tcpdump_pid"
timeout 5 tail --pid="$tcpdump_pid" -f /dev/null || true
frames=$(tcpdump -r "$work/capture.pcap" 2>/dev/null | wc -l || true)
cp "$work/capture.pcap" "$out"
echo "wrote $out ($frames frames, outage ${outage}s, Event-Timestamp $event_timestamp): records from the NAS 127.0.0.1 to the FreeRADIUS front 127.0.0.2, relayed from its detail file to acctlab 127.0.0.3"
echo "versions: $(dpkg-query -W -f '${Package} ${Version}; ' freeradius freeradius-utils tcpdump 2>/dev/null)"
