#!/bin/sh
# Writes the stack's secrets (Docker secrets, one file each) into the secrets directory, creating
# only the missing ones: an existing secret is never overwritten.
set -eu

usage() {
  cat <<'USAGE'
Usage: deploy/generate-secrets.sh [--dir DIR]

Creates, when missing, random secrets for the production stack:
  postgres_password   (40 characters)   PostgreSQL password of POSTGRES_USER
  redis_password      (40 characters)   Redis requirepass
  ferry_admin_token   (48 characters)   bootstrap admin token (FERRY_ADMIN_TOKEN)
Existing files are kept. DIR defaults to ./secrets next to docker-compose.prod.yml.
The directory is made 0700 (only you can reach it on the host); the files 0644 so that the
containers' own users (uid 999, 1000) can read the single file Docker mounts for them.
USAGE
}

root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/secrets"
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; dir=$2; shift 2 ;;
    *) printf 'generate-secrets.sh: unknown argument: %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done

# random LENGTH: letters and digits from the kernel's CSPRNG (no quoting trouble anywhere).
random() {
  LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | dd bs=1 count="$1" 2>/dev/null
}

umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
for spec in postgres_password:40 redis_password:40 ferry_admin_token:48; do
  name=${spec%%:*}
  length=${spec#*:}
  file="$dir/$name"
  if [ -s "$file" ]; then
    printf 'kept     %s\n' "$file"
    continue
  fi
  value=$(random "$length")
  [ "${#value}" -eq "$length" ] || { printf 'generate-secrets.sh: could not read /dev/urandom\n' >&2; exit 1; }
  printf '%s' "$value" >"$file.tmp"
  chmod 0644 "$file.tmp"
  mv "$file.tmp" "$file"
  printf 'created  %s\n' "$file"
done
