#!/usr/bin/env bash
# Installs and starts what the tests need on a CI machine; every step is idempotent.
set -eu
log() { printf '[ci] %s\n' "$*" >&2; }

need_apt=""
for tool in nginx:nginx promtool:prometheus amtool:prometheus-alertmanager prometheus-alertmanager:prometheus-alertmanager \
  prometheus-node-exporter:prometheus-node-exporter prometheus-postgres-exporter:prometheus-postgres-exporter \
  prometheus-redis-exporter:prometheus-redis-exporter prometheus-nginx-exporter:prometheus-nginx-exporter \
  shellcheck:shellcheck testssl:testssl.sh rclone:rclone wrk:wrk rsync:rsync pg_dump:postgresql-client openssl:openssl \
  docker-compose:docker-compose ip:iproute2 chromium:chromium; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt="$need_apt ${tool#*:}"
done
if [ -n "$need_apt" ]; then
  log "installing:$need_apt"
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_apt >/dev/null
fi
# The astronomy fixtures are written by the field's own libraries (Debian's python3).
for mod in astropy:python3-astropy casacore:python3-casacore; do
  if ! /usr/bin/python3 -c "import ${mod%%:*}" >/dev/null 2>&1; then
    log "installing ${mod#*:}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${mod#*:}" >/dev/null
  fi
done
# Debian's packages start their daemons on install; the tests start their own on loopback ports.
for d in nginx prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter \
  prometheus-redis-exporter prometheus-nginx-exporter; do
  # The kernel keeps 15 characters of a process name.
  pkill -x "$(printf '%.15s' "$d")" 2>/dev/null || true
done

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
# Two jest workers, each test file with pools of its own, beside the Ferry processes the e2e tests
# start: more connections at once than PostgreSQL's default of 100.
if [ "$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW max_connections')" -lt 400 ]; then
  log "raising PostgreSQL's max_connections to 400"
  psql -h 127.0.0.1 -U postgres -qc 'ALTER SYSTEM SET max_connections = 400'
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

lab=../shared/lab/compose/lab.sh
if [ -x "$lab" ] || [ -f "$lab" ]; then
  log "preparing the container lab"
  # The lab's runtime wrapper calls runc; podman's package may have brought crun instead.
  if ! [ -x /usr/sbin/runc ]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc >/dev/null
  fi
  # podman pods (the Kubernetes trial overlay under `podman kube play`) need catatonit as their init.
  if ! command -v catatonit >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq catatonit >/dev/null
  fi
  bash "$lab" setup
  # npm's CA for image builds, and the stand-in tags for the images the compose files name.
  sh test/stack/prepare-lab.sh
fi
