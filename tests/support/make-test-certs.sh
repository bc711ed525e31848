#!/bin/sh
# Makes the RadSec test certificates in DIR with openssl: a CA; a server certificate for
# 127.0.0.1/::1/localhost; a client certificate (CN gw1, DNS gw1.example.net); an expired client
# certificate; a client certificate from another CA. Keys are EC P-256 (fast handshakes).
#   usage: make-test-certs.sh DIR
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

for ca in ca other-ca; do
  key $ca.key
  openssl req -x509 -new -key $ca.key -sha256 -days 3650 -subj "/O=acctlab test/CN=$ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out $ca.pem 2>/dev/null
done

# issue NAME CA SUBJECT SAN EXTENDED_KEY_USAGE [startdate enddate]
issue() {
  name=$1 ca=$2 subject=$3 san=$4 eku=$5
  key $name.key
  openssl req -new -key $name.key -subj "$subject" -out $name.csr 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "$san" "$eku" \
    > $name.ext
  if [ $# -ge 7 ]; then
    # openssl x509 cannot backdate; the ca command can.
    rm -f index.txt && touch index.txt && echo 1000 > serial
    cat > ca.cnf <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
CNF
    openssl ca -batch -config ca.cnf -cert $ca.pem -keyfile $ca.key -in $name.csr -out $name.pem \
      -startdate "$6" -enddate "$7" -extfile $name.ext -notext 2>/dev/null
  else
    openssl x509 -req -in $name.csr -CA $ca.pem -CAkey $ca.key -CAcreateserial -days 3650 \
      -sha256 -extfile $name.ext -out $name.pem 2>/dev/null
  fi
}

issue server ca "/O=acctlab test/CN=localhost" "DNS:localhost,IP:127.0.0.1,IP:::1" serverAuth
issue client ca "/O=acctlab test/CN=gw1" "DNS:gw1.example.net" clientAuth
issue expired ca "/O=acctlab test/CN=gw1" "DNS:gw1.example.net" clientAuth \
  20200101000000Z 20200201000000Z
issue stranger other-ca "/O=acctlab test/CN=gw1" "DNS:gw1.example.net" clientAuth
# radsecproxy and FreeRADIUS present one certificate as client and server.
issue proxy ca "/O=acctlab test/CN=proxy" "DNS:proxy.example.net,IP:127.0.0.1" \
  "clientAuth,serverAuth"
echo ok
