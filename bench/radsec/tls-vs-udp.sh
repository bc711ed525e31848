#!/usr/bin/env bash
# RadSec vs UDP in one run: one `acctlab serve` listening on UDP and TLS (same database, same
# commit pipeline), acctlab_load over UDP at W=256, then acctlab_radsec_load over TLS at W=256
# with 1 and 64 connections, then new TLS connections per second; then the same UDP load through
# radsecproxy (UDP in, one TLS connection out) to FreeRADIUS 3.2's TLS listener (a private
# configuration writing its detail file) and, for the proxy's own share, to acctlab's TLS
# listener. Private ports, a temporary directory, and only the processes this script started are
# stopped (by their PIDs).
# The TLS load also goes straight to FreeRADIUS's TLS listener and to acctlab's, over 256
# connections with one request each (FreeRADIUS 3.2 reads one packet per TLS record).
#   usage: bench/radsec/tls-vs-udp.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$(cd "${1:?build directory}" && pwd)
seconds=${2:-5}
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
stop() { # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
source "$here/bench/lib.sh"
free_port() { # tcp|udp (after bench/lib.sh: this one takes the protocol)
  python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1]=='tcp' else socket.SOCK_DGRAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"
}
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
"$here/tests/support/make-test-certs.sh" "$work/certs" >/dev/null
"$build/acctlab" serve --listen 127.0.0.1:0 --listen-tls 127.0.0.1:0 --db "$work/acct.db" \
  --tls-cert "$work/certs/server.pem" --tls-key "$work/certs/server.key" \
  --tls-ca "$work/certs/ca.pem" --stats 0 --synchronous full >"$work/serve.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 100); do
  [[ $(grep -c "listening on" "$work/serve.log" || true) -ge 2 ]] && break
  sleep 0.05
done
udp=$(grep -m1 "listening on .* (database" "$work/serve.log" | sed -E 's/.*listening on ([^ ]+) .*/\1/')
tls=$(grep -m1 "RadSec" "$work/serve.log" | sed -E 's/.*listening on ([^ ]+) .*/\1/')
echo "server: udp $udp, tls $tls, ${seconds}s per run"
echo "UDP W=256:"
"$build/acctlab_load" --server "$udp" --secret testing123 --window 256 --duration "$seconds"
for c in 1 64; do
  echo "TLS W=256 connections=$c:"
  "$build/acctlab_radsec_load" --server "$tls" --cert "$work/certs/client.pem" \
    --key "$work/certs/client.key" --ca "$work/certs/ca.pem" --connections "$c" --window 256 \
    --duration "$seconds" --handshakes "$([[ $c == 1 ]] && echo 200 || echo 0)"
done

# --- radsecproxy -> FreeRADIUS over TLS, and radsecproxy -> acctlab over TLS ---
if [[ ! -x /usr/sbin/radsecproxy || ! -x /usr/sbin/freeradius ]]; then
  echo "radsecproxy or freeradius not installed: the comparison is skipped"
  exit 0
fi
fr=$work/freeradius
mkdir -p "$fr"/{log,run,radacct}
echo '$INCLUDE /usr/share/freeradius/dictionary' >"$fr/dictionary"
fr_tls=$(free_port tcp)
c=$work/certs
freeradius_bench_head "$fr" 32 files >"$fr/radiusd.conf"
cat >>"$fr/radiusd.conf" <<CONF
clients radsec {
  client local {
    ipaddr = 127.0.0.1
    proto = tls
    secret = radsec
    limit {
      max_connections = 0
      lifetime = 0
      idle_timeout = 0
    }
  }
}
modules {
  detail {
    filename = $fr/radacct/detail
    escape_filenames = no
    permissions = 0600
    header = "%t"
    locking = no
  }
}
server default {
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = $fr_tls
    proto = tcp
    clients = radsec
    tls {
      private_key_file = $c/server.key
      certificate_file = $c/server.pem
      ca_file = $c/ca.pem
      require_client_cert = yes
      fragment_size = 8192
    }
    limit {
      max_connections = 0
      lifetime = 0
      idle_timeout = 0
    }
  }
  preacct {
  }
  accounting {
    detail
  }
}
CONF
/usr/sbin/freeradius -f -d "$fr" >"$work/freeradius.out" 2>&1 &
fr_pid=$!
pids+=("$fr_pid")
for _ in $(seq 100); do # at most ten seconds
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $fr_tls), 0.2).close()" \
    2>/dev/null && break
  sleep 0.1
done

# radsecproxy answers an Accounting-Request without User-Name itself and forwards nothing, so the
# load through it puts User-Name in every record (acctlab_load sends it in Starts only).
proxy_run() { # name tls_address
  local name=$1 target=$2 port
  port=$(free_port udp)
  cat >"$work/radsecproxy-$name.conf" <<CONF
ListenUDP 127.0.0.1:$port
LogLevel 2
LogDestination file://$work/radsecproxy-$name.log
tls default {
  CACertificateFile $c/ca.pem
  CertificateFile $c/proxy.pem
  CertificateKeyFile $c/proxy.key
}
client nas {
  host 127.0.0.1
  type udp
  secret testing123
}
server $name {
  host ${target%:*}
  port ${target##*:}
  type tls
  secret radsec
}
realm * {
  accountingServer $name
}
CONF
  /usr/sbin/radsecproxy -f -c "$work/radsecproxy-$name.conf" >"$work/radsecproxy-$name.out" 2>&1 &
  local proxy_pid=$!
  pids+=("$proxy_pid")
  sleep 1
  # One second unmeasured first: the TLS connection is opened by the first request.
  "$build/acctlab_load" --server "127.0.0.1:$port" --secret testing123 --window 256 \
    --duration 1 --user-name-always >/dev/null 2>&1 || true
  echo "radsecproxy (UDP in, TLS out) -> $name, W=256:"
  "$build/acctlab_load" --server "127.0.0.1:$port" --secret testing123 --window 256 \
    --duration "$seconds" --user-name-always || true
  stop "$proxy_pid"
}
# The TLS load straight at each TLS listener, 256 connections with one request outstanding each:
# FreeRADIUS 3.2 reads one RADIUS packet per TLS record, so no record may carry two.
for target in "freeradius 127.0.0.1:$fr_tls" "acctlab $tls"; do
  set -- $target
  echo "TLS W=256 connections=256 (one request per record) -> $1:"
  "$build/acctlab_radsec_load" --server "$2" --cert "$c/client.pem" --key "$c/client.key" \
    --ca "$c/ca.pem" --connections 256 --window 256 --duration "$seconds" --handshakes 0 || true
done
proxy_run freeradius "127.0.0.1:$fr_tls"
proxy_run acctlab "$tls"
stop "$fr_pid"
stop "$server_pid"
# The commit's fsync latency over the whole run (acctlab's own counters, printed at stop).
grep -o "commit_batches=[0-9]*\|syncs=[0-9]*\|sync_ms_avg=[0-9.]*\|sync_ms_max=[0-9.]*" \
  "$work/serve.log" | tr '\n' ' '
echo
# What each server stored: FreeRADIUS's detail entries (one per request it accounted), acctlab's
# records of all the runs.
echo "stored: FreeRADIUS detail entries $(grep -c 'Acct-Session-Id' "$fr/radacct/detail" || true)," \
  "acctlab records $(sqlite3 "$work/acct.db" 'SELECT count(*) FROM records' 2>/dev/null || echo '?')"
echo "acctlab packets by verdict: $(sqlite3 "$work/acct.db" \
  "SELECT group_concat(verdict || ' ' || n, ', ') FROM (SELECT verdict, count(*) AS n FROM packets GROUP BY verdict)" 2>/dev/null || echo '?')"
