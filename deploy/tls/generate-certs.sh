#!/usr/bin/env bash
# Certificates for the cluster's mutual TLS (Cluster:Tls): a CA of the cluster's own and the certificate every silo
# shows, with openssl. Nothing it writes is checked in (deploy/tls/certs is ignored by git).
#   deploy/tls/generate-certs.sh [--out DIR] [--days N]        the CA (ca.crt, ca.key) and the silos' certificate
#                                                              (cluster.crt, cluster.key) in DIR (default deploy/tls/certs)
#   deploy/tls/generate-certs.sh [--out DIR] client NAME       one more certificate of the CA, for a cluster client only
#                                                              (NAME.crt, NAME.key), e.g. an operator's CLI outside the pods
# The CA is the cluster's identity: every certificate it issues is let in, so it must serve this cluster alone, and
# ca.key belongs in a safe place (it mints members), not on the silos. The silos need ca.crt, cluster.crt and
# cluster.key. Host names are not checked (silos meet at IP addresses), so the certificates name none.
#   docker compose: run this once; docker-compose.yml mounts deploy/tls/certs into the silos.
#   Kubernetes:     kubectl -n outbox-relay create secret generic outbox-relay-tls \
#                     --from-file=ca.crt=deploy/tls/certs/ca.crt --from-file=tls.crt=deploy/tls/certs/cluster.crt \
#                     --from-file=tls.key=deploy/tls/certs/cluster.key
# Rotation: issue a new cluster certificate with the same CA (run again with the CA kept) and restart the silos one by
# one before the old one expires (the silos log its expiry at start, event 4201).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$ROOT/deploy/tls/certs" days=825 client=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift ;;
    --days) days="$2"; shift ;;
    client) client="${2:?client needs a NAME}"; shift ;;
    *) echo "generate-certs: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"
cd "$out"
extensions="$(mktemp)"
trap 'rm -f "$extensions" ./*.csr' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# Signs NAME's key with the CA, with the extended key usages given (a silo serves and connects, a client connects).
issue() {
  local name="$1" usages="$2"
  key "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$usages" >"$extensions"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
    -extfile "$extensions" -out "$name.crt" 2>/dev/null
  # Readable by the silo's container user (uid 1654) through compose's bind mount; the CA key stays private.
  chmod 644 "$name.key"
  echo "generate-certs: $out/$name.crt, $name.key ($(openssl x509 -in "$name.crt" -noout -enddate))"
}

if [ -n "$client" ]; then
  [ -f ca.key ] || { echo "generate-certs: no CA in $out (ca.key); run without 'client' first" >&2; exit 1; }
  issue "$client" clientAuth
  exit 0
fi
if [ -f ca.key ]; then
  echo "generate-certs: keeping the CA in $out (delete ca.key and ca.crt for a new one)"
else
  key ca.key
  chmod 600 ca.key
  openssl req -x509 -new -key ca.key -sha256 -days $((days * 2)) -subj "/CN=outbox-relay cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt
  echo "generate-certs: $out/ca.crt, ca.key (keep ca.key safe: it admits members)"
fi
issue cluster serverAuth,clientAuth
