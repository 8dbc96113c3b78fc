#!/bin/sh
# Test PKI for the broker end-to-end tests, written into DIR (created, 0700):
#   ca.pem/ca.key             the upstream CA the broker is told to trust (WARDEN_BROKER_UPSTREAM_CA)
#   server.pem/server.key     leaf for api.broker.test, git.broker.test, other.broker.test, signed by ca
#   rogue-ca.pem, rogue.pem/rogue.key   another CA and a leaf for the same names (an impostor upstream)
#   agent-ca.pem/agent-ca.key a CA the agent brings along (SSL_CERT_FILE pointed at it)
# Only the openssl command-line tool is needed (Debian package `openssl`).
set -eu
dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
names="DNS:api.broker.test,DNS:git.broker.test,DNS:other.broker.test,DNS:slow.broker.test"

ca() { # NAME SUBJECT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$2" -keyout "$1.key" -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() { # NAME CA
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=api.broker.test" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$names" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca "Warden e2e upstream CA"
leaf server ca
ca rogue-ca "Warden e2e rogue CA"
leaf rogue rogue-ca
ca agent-ca "Warden e2e agent CA"
chmod 600 ./*.key
