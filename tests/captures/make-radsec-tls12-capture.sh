#!/bin/bash
# Records radsec-tls12.pcap and radsec-tls12.keys: acctlab's reference gateway sends the feature
# document's debug scenario to `acctlab serve --listen-tls` over TLS 1.2 on loopback, once per
# cipher suite, while tcpdump records the TCP stream; the gateway writes the NSS key log
# (SSLKEYLOGFILE). TLS 1.2 and the suite are forced on the gateway's side with an OpenSSL
# configuration file (OPENSSL_CONF: MaxProtocol, CipherString); the server is unchanged.
#   usage: make-radsec-tls12-capture.sh ACCTLAB OUT_DIR
# Every process it starts is stopped by its PID at the end, also on failure.
set -euo pipefail
acctlab=$(realpath "$1")
out=$(realpath "$2")
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# 127.0.0.83 on lo, RadSec's own port 2083: the capture needs no --port to be read.
address=127.0.0.83
port=2083
"$here/tests/support/make-test-certs.sh" "$work/pki"
printf 'client gw {\n  ipaddr = 127.0.0.0/8\n  proto = tls\n}\n' > "$work/clients.conf"
"$acctlab" serve --listen-tls $address:$port --tls-cert "$work/pki/server.pem" \
  --tls-key "$work/pki/server.key" --tls-ca "$work/pki/ca.pem" --clients "$work/clients.conf" \
  --db "$work/acct.db" --stats 0 > "$work/serve.log" 2>&1 &
pids+=($!)
tcpdump -i lo --immediate-mode -U -n -s 65535 -B 32768 -w "$work/capture.pcap" "host $address and tcp port $port" \
  2> "$work/tcpdump.log" &
pids+=($!)
for _ in $(seq 100); do # at most ten seconds
  grep -q "listening on" "$work/tcpdump.log" && grep -qi "tls" "$work/serve.log" && break
  sleep 0.1
done
sleep 0.5
for suite in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 \
  ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-ECDSA-AES128-SHA256; do
  cat > "$work/openssl.cnf" <<CNF
openssl_conf = acctlab_conf
[acctlab_conf]
ssl_conf = acctlab_ssl
[acctlab_ssl]
system_default = acctlab_tls12
[acctlab_tls12]
MaxProtocol = TLSv1.2
CipherString = $suite
CNF
  OPENSSL_CONF="$work/openssl.cnf" SSLKEYLOGFILE="$work/keys.log" timeout 60 "$acctlab" gateway \
    --scenario "$here/client/scenarios/document-debug.scn" --server-tls $address:$port \
    --tls-cert "$work/pki/client.pem" --tls-key "$work/pki/client.key" \
    --tls-ca "$work/pki/ca.pem" > "$work/gateway-$suite.log" 2>&1 ||
    { cat "$work/gateway-$suite.log"; exit 1; }
  tail -1 "$work/gateway-$suite.log"
done
sleep 0.5
kill -INT "${pids[1]}"
wait "${pids[1]}" || true
# A loaded machine can make the kernel drop frames; such a capture is not one to keep.
grep -q "^0 packets dropped by kernel" "$work/tcpdump.log" || { cat "$work/tcpdump.log"; exit 1; }
cp "$work/capture.pcap" "$out/radsec-tls12.pcap"
cp "$work/keys.log" "$out/radsec-tls12.keys"
echo "wrote $out/radsec-tls12.pcap ($(stat -c %s "$out/radsec-tls12.pcap") octets) and" \
  "$out/radsec-tls12.keys ($(wc -l < "$out/radsec-tls12.keys") lines)"
