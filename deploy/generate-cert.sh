#!/bin/sh
# Creates a self-signed TLS certificate for the stack when none exists yet (first run, tests,
# private networks). Public servers should use Let's Encrypt: see docs/deployment.md.
set -eu

usage() {
  cat <<'USAGE'
Usage: deploy/generate-cert.sh --domain NAME [--cert FILE] [--key FILE] [--days N] [--force]

Writes a self-signed ECDSA P-256 certificate for NAME (subjectAltName DNS:NAME, or IP:NAME for an
address) and its key. Defaults: --cert ./certs/fullchain.pem --key ./certs/privkey.pem --days 397.
An existing certificate is kept unless --force is given. The key file is 0644 inside a 0700
directory: nginx (uid 101) reads the single file Docker mounts as a secret; no one else on the
host can reach it.
USAGE
}

root=$(cd "$(dirname "$0")/.." && pwd)
domain=""
cert="$root/certs/fullchain.pem"
key="$root/certs/privkey.pem"
days=397
force=no
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --domain|--cert|--key|--days)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      case "$1" in --domain) domain=$2 ;; --cert) cert=$2 ;; --key) key=$2 ;; --days) days=$2 ;; esac
      shift 2 ;;
    --force) force=yes; shift ;;
    *) printf 'generate-cert.sh: unknown argument: %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$domain" ] || { printf 'generate-cert.sh: --domain is required\n' >&2; usage >&2; exit 2; }
case "$domain" in
  *[!A-Za-z0-9.:-]*) printf 'generate-cert.sh: not a host name or address: %s\n' "$domain" >&2; exit 2 ;;
esac
case "$days" in ''|*[!0-9]*) printf 'generate-cert.sh: --days must be a number\n' >&2; exit 2 ;; esac

if [ -s "$cert" ] && [ -s "$key" ] && [ "$force" = no ]; then
  printf 'kept     %s\n' "$cert"
  exit 0
fi
command -v openssl >/dev/null 2>&1 || { printf 'generate-cert.sh: openssl is required\n' >&2; exit 1; }

case "$domain" in
  *[!0-9.]*) case "$domain" in *:*) san="IP:$domain" ;; *) san="DNS:$domain" ;; esac ;;
  *) san="IP:$domain" ;;
esac

umask 077
for d in "$(dirname "$cert")" "$(dirname "$key")"; do
  mkdir -p "$d"
  chmod 0700 "$d"
done
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
  -days "$days" -subj "/CN=$domain" -addext "subjectAltName=$san" \
  -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
  -addext "extendedKeyUsage=serverAuth" -keyout "$key.tmp" -out "$cert.tmp" 2>/dev/null
chmod 0644 "$cert.tmp" "$key.tmp"
mv "$key.tmp" "$key"
mv "$cert.tmp" "$cert"
printf 'created  %s (self-signed for %s, %s days)\n' "$cert" "$domain" "$days"
