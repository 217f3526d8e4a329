#!/bin/sh
# Refuses, with one line per problem, to start the stack on a host that is not ready: Docker and
# Compose too old, env invalid, data directories missing or wrongly owned, too little free space,
# ports taken, no usable certificate. Run by deploy/up.sh before every start; safe to run any time.
set -eu

usage() {
  cat <<'USAGE'
Usage: deploy/preflight.sh [--env-file FILE] [--secrets-dir DIR]

Checks (every one, then exits 1 if any failed):
  Docker engine API >= PREFLIGHT_MIN_DOCKER_API (1.41, Docker 20.10) and Compose >= 2.20
  the env file and secrets pass deploy/validate-env.mjs
  FERRY_STAGE_DIR and FERRY_PRODUCTS_DIR exist, are directories owned by FERRY_UID with owner
    rwx and not world-writable, and have PREFLIGHT_MIN_STAGE_FREE_GB / _PRODUCTS_FREE_GB free
  Docker's data directory (PREFLIGHT_DOCKER_ROOT) has PREFLIGHT_MIN_STATE_FREE_GB free
  FERRY_HTTP_PORT and FERRY_HTTPS_PORT are free (unless this stack's nginx holds them)
  the TLS certificate and key exist and the certificate is valid for 14 more days
Values come from FILE (default .env.production); exported variables win, as with compose.
USAGE
}

root=$(cd "$(dirname "$0")/.." && pwd)
FERRY_ROOT=$root
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$root/deploy/lib.sh"
env_file="$root/.env.production"
secrets_dir="$root/secrets"
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --env-file|--secrets-dir)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      if [ "$1" = --env-file ]; then env_file=$2; else secrets_dir=$2; fi
      shift 2 ;;
    *) say "unknown argument: $1"; usage >&2; exit 2 ;;
  esac
done

failures=0
fail() { printf '✗ %s\n' "$*" >&2; failures=$((failures + 1)); }
pass() { printf '✓ %s\n' "$*" >&2; }
value() { v=$(env_value "$env_file" "$1"); printf '%s' "${v:-$2}"; }
# older A B: true when dotted version A is lower than B.
older() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$1" ]; }

min_api=$(value PREFLIGHT_MIN_DOCKER_API 1.41)
min_compose=$(value PREFLIGHT_MIN_COMPOSE 2.20.0)
if ! command -v docker >/dev/null 2>&1; then
  fail "docker: not installed (https://docs.docker.com/engine/install/)"
else
  api=$(docker version --format '{{.Server.APIVersion}}' 2>/dev/null || true)
  if [ -z "$api" ]; then fail "docker: the engine does not answer (running? is this user in the docker group?)"
  elif older "$api" "$min_api"; then fail "docker: engine API $api is older than $min_api"
  else pass "docker engine API $api"; fi
  compose=$(docker compose version --short 2>/dev/null || true)
  compose=${compose#v}
  if [ -z "$compose" ]; then fail "docker compose: the Compose v2 plugin is missing"
  elif older "$compose" "$min_compose"; then fail "docker compose: version $compose is older than $min_compose"
  else pass "docker compose $compose"; fi
fi

if run_node "$root/deploy/validate-env.mjs" --env "$env_file" --secrets-dir "$secrets_dir"; then :
else fail "environment: fix the problems listed above"; fi

uid=$(value FERRY_UID 1000)
# free_gb DIR: whole GB available to unprivileged writers on DIR's file system.
free_gb() { df -Pk "$1" | awk 'NR == 2 { print int($4 / 1048576) }'; }
check_space() {
  have=$(free_gb "$2")
  if [ "$have" -lt "$3" ]; then fail "$1: $2 has ${have} GB free, at least $3 GB needed ($4)"
  else pass "$1: ${have} GB free"; fi
}
check_data_dir() {
  name=$1 dir=$2 min=$3 knob=$4
  if [ -z "$dir" ]; then fail "$name: not set"; return; fi
  if [ ! -d "$dir" ]; then fail "$name: $dir does not exist (mkdir -p $dir && chown $uid $dir)"; return; fi
  owner=$(stat -c %u "$dir")
  mode=$(stat -c %a "$dir")
  [ "$owner" = "$uid" ] || fail "$name: $dir is owned by uid $owner, the services run as uid $uid (chown $uid $dir)"
  case "$mode" in
    7??) ;;
    *) fail "$name: $dir has mode $mode, its owner needs rwx (chmod u+rwx $dir)" ;;
  esac
  case "$mode" in
    *[2367]) fail "$name: $dir is world-writable (mode $mode; chmod o-w $dir)" ;;
  esac
  check_space "$name" "$dir" "$min" "$knob"
}
check_data_dir FERRY_STAGE_DIR "$(value FERRY_STAGE_DIR '')" "$(value PREFLIGHT_MIN_STAGE_FREE_GB 500)" PREFLIGHT_MIN_STAGE_FREE_GB
check_data_dir FERRY_PRODUCTS_DIR "$(value FERRY_PRODUCTS_DIR '')" "$(value PREFLIGHT_MIN_PRODUCTS_FREE_GB 2000)" PREFLIGHT_MIN_PRODUCTS_FREE_GB

state=$(value PREFLIGHT_DOCKER_ROOT "")
[ -n "$state" ] || state=$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || true)
if [ -n "$state" ] && [ -d "$state" ]; then
  check_space "Docker data ($state)" "$state" "$(value PREFLIGHT_MIN_STATE_FREE_GB 10)" PREFLIGHT_MIN_STATE_FREE_GB
else
  say "note: Docker's data directory is not on this host; its free space is not checked"
fi

# Ports: a re-run on a running stack finds them held by its own nginx, which is fine.
running=$(docker compose -f "$root/docker-compose.prod.yml" --env-file "$env_file" ps --status running -q nginx 2>/dev/null || true)
if [ -n "$running" ]; then
  pass "ports: held by this stack's running nginx"
elif command -v ss >/dev/null 2>&1; then
  for knob in FERRY_HTTP_PORT FERRY_HTTPS_PORT; do
    port=$(value "$knob" "")
    [ -n "$port" ] || continue
    if [ -n "$(ss -Hltn "sport = :$port")" ]; then fail "$knob: port $port is already in use (ss -ltnp 'sport = :$port')"
    else pass "$knob: port $port is free"; fi
  done
else
  say "note: ss (iproute2) is missing; ports not checked"
fi

cert=$(value TLS_CERTIFICATE_FILE ./certs/fullchain.pem)
key=$(value TLS_KEY_FILE ./certs/privkey.pem)
case "$cert" in /*) ;; *) cert="$root/$cert" ;; esac
case "$key" in /*) ;; *) key="$root/$key" ;; esac
if [ ! -s "$cert" ] || [ ! -s "$key" ]; then fail "TLS: $cert or $key is missing (deploy/generate-cert.sh, or see docs/deployment.md)"
elif ! openssl x509 -in "$cert" -noout -checkend 1209600 >/dev/null 2>&1; then fail "TLS: $cert expires within 14 days (or is not a certificate)"
else pass "TLS certificate valid for 14 days or more"; fi

if [ "$failures" -gt 0 ]; then
  say "$failures check(s) failed"
  exit 1
fi
say "all checks passed"
