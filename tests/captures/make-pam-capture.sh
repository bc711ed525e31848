#!/usr/bin/env bash
# Records the RADIUS traffic of a real PAM login: pam_radius_auth (Debian's libpam-radius-auth
# 2.0.0) driven by pamtester, authenticating with FreeRADIUS and sending its accounting to
# acctlab serve (run as root).
#
#   tests/captures/make-pam-capture.sh ACCTLAB [--out FILE.pcap] [--session-seconds N]
#                                      [--outage SECONDS | --down SECONDS | --failover |
#                                      --containers] [--ipv6] [--retry N] [--keep]
#
# One network namespace of this process's own (acctlab-pam-PID); everything runs on its loopback:
#   FreeRADIUS 3.2 (private configuration) on 127.0.0.1:1812, PAP for one user, alice; its
#                  Access-Accept carries Class "acctlab-pam-class".
#   acctlab serve  on 127.0.0.1:1813. pam_radius_auth has one server list for both: a line
#                  `127.0.0.1:1812 SECRET 3` sends the Access-Request to port 1812 and the
#                  accounting to the port after it, 1813 (without a port: the services radius
#                  and radacct), with the same secret, acctlab-pam-secret.
#   pamtester      `pamtester -I rhost=198.51.100.20 acctlab-login alice authenticate
#                  open_session close_session`, the password on its standard input, in a mount
#                  and UTS namespace of its own: /etc/pam.d there is a private directory holding
#                  only the service acctlab-login (Linux-PAM reads /etc/pam.d and /usr/lib/pam.d
#                  only: pam_start has no other directory and no variable chooses one), /etc/hosts
#                  a private file naming the host acctlab-pam-nas 127.0.0.1, and the host name is
#                  acctlab-pam-nas. Nothing in the machine's /etc is written.
# The service:
#   auth     required pam_radius_auth.so conf=WORK/pam_radius_auth.conf
#   session  required pam_radius_auth.so conf=WORK/pam_radius_auth.conf
#   session  optional pam_exec.so type=open_session WORK/hold.sh
# pam_radius_auth sends the Start from open_session; hold.sh (open_session only) keeps the
# session open until this script says it ends, N seconds (default 3) after the Start's answer;
# then close_session sends the Stop. pam_radius_auth has no client_id here, so its
# NAS-Identifier is the PAM service's name; NAS-IP-Address is the host name's address; the
# remote host is Calling-Station-Id.
#
# --outage SECONDS: acctlab serve is stopped (SIGSTOP) before the session ends and continued
# SECONDS after the Stop was sent: it answers the Stop late (after the module's 3-s timeout when
# SECONDS > 3).
# --down SECONDS: acctlab serve is ended (SIGTERM) before the session ends, so the Stop meets a
# closed port (the kernel answers ICMP port unreachable); SECONDS after the Stop it is started
# again and alice logs in a second time (a session of 1 s), whose Start and Stop are answered: a
# trace that goes on after the lost Stop, long enough (SECONDS > 30) for a NAS to have resent it.
# --failover: the server list has a second line, 127.0.0.2:1812 with the same secret, and a
# second acctlab serve listens on 127.0.0.2:1813; the first is ended (SIGTERM) before the session
# ends, so the Stop goes to 127.0.0.1:1813 (refused), and 3 s later, the module failing over, to
# 127.0.0.2:1813.
# --containers: each pamtester runs in a PID namespace of its own, as a login in a fresh container
# does (the first process there has process id 1), and alice logs in twice: the second login
# (a 1-s session) 1 s after the first ends.
# --ipv6: the servers on ::1 (the server line [::1]:1812) and the host name on ::1 as well as
# 127.0.0.1 (not with --failover).
# --retry N: the module argument retry=N (the Access-Request's retransmissions).
# The module tries each accounting request once per server in its list and waits its timeout (the
# server line's third field, 3 s) for an answer.
#
# tcpdump records `udp port 1812 or udp port 1813 or icmp` on the namespace's lo.
#
# Every wait is bounded; a trap removes the namespace and the work directory and stops only the
# processes this script started, on any exit. Exit 77 (skipped) when not root or a tool is
# missing.
set -euo pipefail

skip() {
  echo "SKIP: $*" >&2
  exit 77
}
usage="usage: $0 ACCTLAB [--out FILE.pcap] [--session-seconds N] [--outage SECONDS | --down SECONDS | --failover | --containers] [--ipv6] [--retry N] [--keep]"
[[ $# -ge 1 ]] || {
  echo "$usage" >&2
  exit 2
}
acctlab=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/freeradius-conf.sh"
out="$here/pam-radius.pcap"
keep=0
seconds=3
outage=0
down=0
failover=0
containers=0
pid_namespace=""
ipv6=0
retry=""
while (($#)); do
  case "$1" in
  --out)
    out=$2
    shift
    ;;
  --session-seconds)
    seconds=$2
    [[ $seconds =~ ^[0-9]+(\.[0-9]+)?$ ]] || {
      echo "$usage" >&2
      exit 2
    }
    shift
    ;;
  --outage)
    outage=$2
    [[ $outage =~ ^[0-9]+(\.[0-9]+)?$ ]] || {
      echo "$usage" >&2
      exit 2
    }
    shift
    ;;
  --down)
    down=$2
    [[ $down =~ ^[0-9]+(\.[0-9]+)?$ ]] || {
      echo "$usage" >&2
      exit 2
    }
    shift
    ;;
  --failover) failover=1 ;;
  --ipv6) ipv6=1 ;;
  --containers)
    containers=1
    pid_namespace="--pid --fork"
    ;;
  --retry)
    [[ $2 =~ ^[0-9]+$ ]] || {
      echo "$usage" >&2
      exit 2
    }
    retry=" retry=$2"
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
variants=$((failover + containers))
[[ $outage == 0 ]] || variants=$((variants + 1))
[[ $down == 0 ]] || variants=$((variants + 1))
((variants <= 1 && !(ipv6 && failover))) || {
  echo "$usage" >&2
  exit 2
}
module=/lib/x86_64-linux-gnu/security/pam_radius_auth.so
[[ $(id -u) -eq 0 ]] || skip "needs root (a network namespace, mount namespaces, tcpdump)"
for tool in ip unshare freeradius tcpdump pamtester python3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[[ -r $module ]] || module=$(find /lib /usr/lib -name pam_radius_auth.so -print -quit 2>/dev/null)
[[ -n $module && -r $module ]] || skip "pam_radius_auth.so is missing (package libpam-radius-auth)"
[[ -r $(dirname "$module")/pam_exec.so ]] || skip "pam_exec.so is missing (package libpam-modules)"

source "$here/../support/netns-lab.sh"
lab_start acctlab-pam

secret=acctlab-pam-secret
service=acctlab-login
addr=127.0.0.1
server_host=127.0.0.1
if ((ipv6)); then
  addr=::1
  server_host=[::1]
fi

# --- acctlab serve, the accounting server ----------------------------------------------------
cat >"$work/clients.conf" <<EOF
client pam {
  ipaddr = $addr
  secret = $secret
}
EOF
start_serve() {
  ip netns exec "$ns" "$acctlab" serve --listen "$server_host:1813" --clients "$work/clients.conf" \
    --db "$work/acct.db" --stats 0 >>"$work/serve.log" 2>&1 &
  serve_pid=$!
  pids+=("$serve_pid")
}
start_serve
if ((failover)); then
  ip netns exec "$ns" "$acctlab" serve --listen 127.0.0.2:1813 --clients "$work/clients.conf" \
    --db "$work/acct-2.db" --stats 0 >"$work/serve-2.log" 2>&1 &
  pids+=($!)
fi

# --- FreeRADIUS, the authentication server ----------------------------------------------------
mkdir -p "$work/raddb" "$work/radlog" "$work/radrun"
{
  freeradius_skeleton "$work" no "  pap {
  }"
  cat <<EOF
client pam {
  ipaddr = $addr
  secret = $secret
}
server default {
  listen {
    type = auth
    ipaddr = $addr
    port = 1812
  }
  authorize {
    if (&User-Name == "alice") {
      update control {
        &Cleartext-Password := "alice-pam-password"
      }
      update reply {
        &Class := "acctlab-pam-class"
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
  'udp port 1812 or udp port 1813 or icmp' >"$work/tcpdump.log" 2>&1 &
tcpdump_pid=$!
pids+=("$tcpdump_pid")

freeradius_and_tcpdump_ready "$work"

# --- the PAM service, private to pamtester's mount namespace ----------------------------------
mkdir -p "$work/pam.d"
echo "$server_host:1812 $secret 3" >"$work/pam_radius_auth.conf"
((failover)) && echo "127.0.0.2:1812 $secret 3" >>"$work/pam_radius_auth.conf"
chmod 600 "$work/pam_radius_auth.conf"
# Says the session is open (the file opened), then holds it until the file leave exists (at most
# 60 s); both are removed before each login.
cat >"$work/hold.sh" <<EOF
#!/bin/sh
touch "$work/opened"
i=0
while [ ! -e "$work/leave" ] && [ \$i -lt 600 ]; do
  sleep 0.1
  i=\$((i + 1))
done
exit 0
EOF
chmod 755 "$work/hold.sh"
cat >"$work/pam.d/$service" <<EOF
auth     required pam_radius_auth.so conf=$work/pam_radius_auth.conf$retry
session  required pam_radius_auth.so conf=$work/pam_radius_auth.conf$retry
session  optional pam_exec.so type=open_session $work/hold.sh
EOF
printf '%s\n' "127.0.0.1 localhost" "127.0.0.1 acctlab-pam-nas" >"$work/hosts"
((ipv6)) && printf '%s\n' "::1 localhost" "::1 acctlab-pam-nas" >>"$work/hosts"

# What the capture holds so far, as acctlab reads it.
captured() { # -> "requests answers"
  "$acctlab" pcap analyze "$work/capture.pcap" --report json 2>/dev/null | python3 -c '
import json, sys
codes = json.load(sys.stdin)["totals"]["packets_by_code"]
print(codes.get("Accounting-Request", 0), codes.get("Accounting-Response", 0))' || echo "0 0"
}
count() { tcpdump -r "$work/capture.pcap" "$1" 2>/dev/null | wc -l || true; }
# Waits (at most TENTHS / 10 s, default 5 s) until at least N Accounting-Requests were sent and
# every one has its answer but LOST (default 0).
wait_answered() { # N [TENTHS] [LOST]
  local requests answers
  for _ in $(seq "${2:-50}"); do
    read -r requests answers < <(captured)
    ((answers + ${3:-0} >= requests && requests >= $1)) && return 0
    sleep 0.1
  done
  echo "waited $((${2:-50} / 10)) s for $1 Accounting-Requests and their answers: $requests sent, $answers answered" >&2
  return 1
}

# --- the logins ---------------------------------------------------------------------------------
echo alice-pam-password >"$work/password"
# Starts pamtester: authenticate, open_session (the Start; hold.sh then holds the session),
# close_session (the Stop) once the file leave exists. Waits until the session is open.
login() { # LOG
  rm -f "$work/opened" "$work/leave"
  ip netns exec "$ns" unshare --mount --uts $pid_namespace sh -c '
    mount --bind "$1/pam.d" /etc/pam.d && mount --bind "$1/hosts" /etc/hosts &&
      hostname acctlab-pam-nas && exec pamtester -v -I rhost=198.51.100.20 "$2" alice \
      authenticate open_session close_session' pamtester "$work" "$service" \
    <"$work/password" >"$1" 2>&1 &
  pamtester_pid=$!
  pids+=("$pamtester_pid")
  for _ in $(seq 100); do
    [[ -e $work/opened ]] && break
    sleep 0.1
  done
  [[ -e $work/opened ]] || {
    cat "$1" >&2
    echo "pamtester did not open the session" >&2
    exit 1
  }
}
# Ends the session (close_session sends the Stop), if not yet, and waits (at most 30 s) for pamtester to exit:
# its status in status.
logout() { # LOG
  touch "$work/leave"
  local pid=$pamtester_pid
  status=0
  timeout 30 tail --pid="$pid" -f /dev/null || status=$?
  wait "$pid" || status=$?
  cat "$1"
}

# Waits (at most 5 s) until the Stop, the second Accounting-Request of the login, was sent; its
# time in stop_sent.
wait_stop_sent() {
  for _ in $(seq 50); do
    (($(count "udp dst port 1813") >= 2)) && break
    sleep 0.1
  done
  (($(count "udp dst port 1813") >= 2)) || {
    echo "pam_radius_auth sent no Stop" >&2
    exit 1
  }
  stop_sent=$(date +%s.%N)
}
# Sleeps until SECONDS after the Stop was sent.
sleep_after_stop() { # SECONDS
  sleep "$(awk -v s="$1" -v t="$stop_sent" -v n="$(date +%s.%N)" \
    'BEGIN { d = s - (n - t); print (d > 0 ? d : 0) }')"
}

login "$work/pamtester.log"
# The Start went out before hold.sh ran.
wait_answered 1
sleep "$seconds"
if [[ $outage != 0 ]]; then
  kill -STOP "$serve_pid"
  touch "$work/leave"
  wait_stop_sent
  sleep_after_stop "$outage"
  kill -CONT "$serve_pid"
  logout "$work/pamtester.log"
  wait_answered 2
elif ((failover)); then
  kill "$serve_pid"
  timeout 5 tail --pid="$serve_pid" -f /dev/null || true
  logout "$work/pamtester.log"
  ((status == 0)) || {
    echo "pamtester failed ($status)" >&2
    exit 1
  }
  wait_answered 3 50 1
elif [[ $down != 0 ]]; then
  kill "$serve_pid"
  timeout 5 tail --pid="$serve_pid" -f /dev/null || true
  touch "$work/leave"
  wait_stop_sent
  logout "$work/pamtester.log"
  first_status=$status
  sleep_after_stop "$down"
  start_serve
  for _ in $(seq 50); do
    ip netns exec "$ns" ss -Hlun 'sport = :1813' | grep -q . && break
    sleep 0.1
  done
  login "$work/pamtester-2.log"
  wait_answered 3 50 1
  sleep 1
  logout "$work/pamtester-2.log"
  ((status == 0)) || {
    echo "the second login failed ($status)" >&2
    exit 1
  }
  wait_answered 4 50 1
  status="$first_status, then $status"
else
  logout "$work/pamtester.log"
  ((status == 0)) || {
    echo "pamtester failed ($status)" >&2
    exit 1
  }
  wait_answered 2
  if ((containers)); then
    sleep 1
    login "$work/pamtester-2.log"
    wait_answered 3
    sleep 1
    logout "$work/pamtester-2.log"
    ((status == 0)) || {
      echo "the second login failed ($status)" >&2
      exit 1
    }
    wait_answered 4
  fi
fi
sleep 0.5
frames=$(count udp)
kill -INT "$tcpdump_pid"
timeout 5 tail --pid="$tcpdump_pid" -f /dev/null || true
cp "$work/capture.pcap" "$out"
echo "wrote $out ($frames frames): pam_radius_auth via pamtester, FreeRADIUS $server_host:1812, acctlab $server_host:1813; pamtester exit $status"
echo "versions: $(dpkg-query -W -f '${Package} ${Version}; ' libpam-radius-auth pamtester libpam0g freeradius tcpdump 2>/dev/null)"
