#!/usr/bin/env bash
# RadSec vs UDP in one run: one `acctlab serve` listening on UDP and TLS (same database, same
# commit pipeline), acctlab_load over UDP at W=256, then acctlab_radsec_load over TLS at W=256
# with 1 and 64 connections, then new TLS connections per second. Private ports, a temporary
# directory, and only the server this script started is stopped (by its PID).
#   usage: bench/radsec/tls-vs-udp.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:?build directory}
seconds=${2:-5}
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$here/tests/support/make-test-certs.sh" "$work/certs" >/dev/null
"$build/acctlab" serve --listen 127.0.0.1:0 --listen-tls 127.0.0.1:0 --db "$work/acct.db" \
  --tls-cert "$work/certs/server.pem" --tls-key "$work/certs/server.key" \
  --tls-ca "$work/certs/ca.pem" --stats 0 --synchronous full >"$work/serve.log" 2>&1 &
server_pid=$!
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
    --duration "$seconds" --handshakes $([[ $c == 1 ]] && echo 200 || echo 0)
done
