#!/bin/sh
# The one command from a Docker host to a healthy, TLS-protected Ferry: first-run setup (env file,
# secrets, certificate), preflight, data-root markers, then compose up --wait.
set -eu

usage() {
  cat <<'USAGE'
Usage: deploy/up.sh [--help]

1. First run: copies .env.production.example to .env.production (never overwriting one), taking
   any of its variables already exported in the shell, FERRY_DOMAIN from the shell or hostname -f.
2. deploy/generate-secrets.sh: creates the missing files in ./secrets/ (existing ones are kept).
3. deploy/generate-cert.sh: a self-signed certificate when TLS_CERTIFICATE_FILE does not exist.
4. deploy/preflight.sh: refuses to go on when anything is missing.
5. Writes the .ferry-data-root marker into FERRY_STAGE_DIR and FERRY_PRODUCTS_DIR.
6. docker compose -f docker-compose.prod.yml --env-file .env.production up -d --build --wait
Exported variables override .env.production, as compose does (e.g. FERRY_HTTPS_PORT=8443).
USAGE
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  '') ;;
  *) printf 'up.sh: unknown argument: %s\n' "$1" >&2; usage >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
FERRY_ROOT=$root
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$root/deploy/lib.sh"
cd "$root"
env_file="$root/.env.production"

if [ ! -f "$env_file" ]; then
  domain=${FERRY_DOMAIN:-$(hostname -f 2>/dev/null || hostname)}
  https_port=${FERRY_HTTPS_PORT:-443}
  url="https://$domain"
  [ "$https_port" = 443 ] || url="$url:$https_port"
  umask 077
  # Each KEY=value line: the exported value if there is one, else the example's.
  while IFS= read -r line || [ -n "$line" ]; do
    key=${line%%=*}
    case "$line" in
      FERRY_DOMAIN=*) printf 'FERRY_DOMAIN=%s\n' "$domain" ;;
      FERRY_PUBLIC_URL=*) printf 'FERRY_PUBLIC_URL=%s\n' "${FERRY_PUBLIC_URL:-$url}" ;;
      [A-Z]*=*) if printenv "$key" >/dev/null 2>&1; then printf '%s=%s\n' "$key" "$(printenv "$key")"; else printf '%s\n' "$line"; fi ;;
      *) printf '%s\n' "$line" ;;
    esac
  done <"$root/.env.production.example" >"$env_file.tmp"
  mv "$env_file.tmp" "$env_file"
  umask 022
  say "created $env_file for $domain: review it, then run deploy/up.sh again to change settings"
fi

sh "$root/deploy/generate-secrets.sh" --dir "$root/secrets"

cert=$(env_value "$env_file" TLS_CERTIFICATE_FILE)
key=$(env_value "$env_file" TLS_KEY_FILE)
sh "$root/deploy/generate-cert.sh" --domain "$(env_value "$env_file" FERRY_DOMAIN)" \
  --cert "${cert:-./certs/fullchain.pem}" --key "${key:-./certs/privkey.pem}"
webroot=$(env_value "$env_file" ACME_WEBROOT)
mkdir -p "${webroot:-./acme}"

sh "$root/deploy/preflight.sh" --env-file "$env_file" --secrets-dir "$root/secrets"

# The services refuse to start without these (REQUIRE_DATA_ROOT_MARKER=true): proof that the
# bind mount, not an empty directory in the container, is what they write to.
for knob in FERRY_STAGE_DIR FERRY_PRODUCTS_DIR; do
  dir=$(env_value "$env_file" "$knob")
  [ -f "$dir/.ferry-data-root" ] || printf 'Ferry data root (%s), written by deploy/up.sh\n' "$knob" >"$dir/.ferry-data-root"
  chmod 0644 "$dir/.ferry-data-root"
done

docker compose -f docker-compose.prod.yml --env-file .env.production up -d --build --wait

say "Ferry is up: $(env_value "$env_file" FERRY_PUBLIC_URL)"
say "admin token: $root/secrets/ferry_admin_token (Authorization: Bearer <token>)"
