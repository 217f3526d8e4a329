#!/usr/bin/env bash
# Starts, stops and inspects Ferry's monitoring profile beside the main stack (same Compose project).
set -eu

usage() {
  cat <<'USAGE'
Usage: deploy/monitoring.sh start|stop|status|logs [SERVICE...]|cert-metrics|--help

  start         create missing monitoring secrets, render the alert rules with the runbook base
                URL into monitoring/prometheus/rendered-rules/ (what Prometheus mounts), start
                Prometheus, Alertmanager, Grafana and the exporters, wait until healthy, then apply
                secrets/grafana_admin_password to Grafana's admin user (Grafana itself reads it on
                its very first start only); start SERVICE... starts only the services named
  stop          stop and remove the monitoring containers (data volumes are kept)
  status        show the monitoring containers and their health
  logs          follow the logs of the monitoring services (or of the SERVICEs named)
  cert-metrics  write the TLS certificate's expiry for node-exporter's textfile collector
                (run hourly from cron: 0 * * * * cd /srv/ferry && deploy/monitoring.sh cert-metrics)

Environment: FERRY_ENV_FILE (default .env.production). Read from the env file:
NODE_EXPORTER_TEXTFILE_DIR (/var/lib/node_exporter/textfile_collector),
TLS_CERTIFICATE_FILE (./certs/fullchain.pem), GRAFANA_PORT (3000), PROMETHEUS_PORT (9090),
ALERTMANAGER_PORT (9093), FERRY_RUNBOOK_BASE_URL (exported or in the env file; default: this
checkout's git origin at its commit, https://<host>/<repository>/blob/<commit>/docs).
USAGE
}

cd "$(dirname "$0")/.."
env_file="${FERRY_ENV_FILE:-.env.production}"
services=(prometheus alertmanager grafana node-exporter cadvisor postgres-exporter redis-exporter nginx-exporter)

# The value of NAME in the env file (last assignment wins), or DEFAULT.
env_value() {
  local value=""
  if [ -f "$env_file" ]; then
    value="$(sed -n "s/^[[:space:]]*$1=//p" "$env_file" | tail -n 1 | sed -e "s/^[\"']//" -e "s/[\"']\$//")"
  fi
  printf '%s\n' "${value:-$2}"
}

compose() {
  docker compose -f docker-compose.prod.yml -f docker-compose.monitoring.yml --env-file "$env_file" \
    --profile monitoring "$@"
}

# Secret files mounted into the monitoring containers. The directory is private (0700); the files
# are world-readable so the images' own unprivileged users (nobody, grafana) can read the bind mount.
ensure_secrets() {
  mkdir -p secrets
  chmod 700 secrets
  if [ ! -s secrets/grafana_admin_password ]; then
    (umask 022 && openssl rand -base64 24 | tr -d '\n' > secrets/grafana_admin_password)
    echo "created secrets/grafana_admin_password (Grafana user: $(env_value GRAFANA_ADMIN_USER admin))"
  fi
  for name in alertmanager_smtp_password alertmanager_slack_webhook_url alertmanager_pagerduty_routing_key; do
    [ -e "secrets/$name" ] || (umask 022 && : > "secrets/$name")
  done
  chmod 644 secrets/grafana_admin_password secrets/alertmanager_*
}

cert_metrics() {
  local dir cert out end epoch
  dir="$(env_value NODE_EXPORTER_TEXTFILE_DIR /var/lib/node_exporter/textfile_collector)"
  cert="$(env_value TLS_CERTIFICATE_FILE ./certs/fullchain.pem)"
  mkdir -p "$dir"
  out="$dir/ferry_tls.prom"
  if [ ! -f "$cert" ]; then
    echo "no certificate at $cert; nothing written" >&2
    return 0
  fi
  # Checked explicitly: `start` calls this in an || list, where set -e does not apply.
  end="$(openssl x509 -in "$cert" -noout -enddate | sed 's/^notAfter=//')" || end=""
  epoch="$(date -u -d "$end" +%s 2>/dev/null)" || epoch=""
  if [ -z "$end" ] || [ -z "$epoch" ]; then
    echo "cannot read the expiry of $cert" >&2
    return 1
  fi
  {
    echo '# HELP ferry_tls_certificate_expiry_timestamp_seconds Unix time the served TLS certificate expires.'
    echo '# TYPE ferry_tls_certificate_expiry_timestamp_seconds gauge'
    printf 'ferry_tls_certificate_expiry_timestamp_seconds{file="%s"} %s\n' "$(basename "$cert")" "$epoch"
  } > "$out.tmp"
  mv "$out.tmp" "$out"
  echo "wrote $out (expires $end)"
}

# The absolute URL of Ferry's docs/ folder that alerts link their runbooks under:
# FERRY_RUNBOOK_BASE_URL (exported, as compose would take it, or from the env file), else this
# checkout's git origin as a web address at the checked-out commit. Empty when neither is known.
runbook_base() {
  local base="${FERRY_RUNBOOK_BASE_URL:-$(env_value FERRY_RUNBOOK_BASE_URL '')}" remote commit
  if [ -z "$base" ]; then
    remote="$(git remote get-url origin 2>/dev/null)" || remote=""
    commit="$(git rev-parse HEAD 2>/dev/null)" || commit=""
    case "$remote" in
      # Credentials in an https remote stay out of the link.
      https://*@*) remote="${remote#https://*@}" ;;
      https://*) remote="${remote#https://}" ;;
      ssh://*) remote="${remote#ssh://}"; remote="${remote#*@}"; remote="${remote%%:*}/${remote#*/}" ;;
      *@*:*) remote="${remote#*@}"; remote="${remote%%:*}/${remote#*:}" ;;
      *) remote="" ;;
    esac
    [ -z "$remote" ] || [ -z "$commit" ] || base="https://${remote%.git}/blob/$commit/docs"
  fi
  printf '%s\n' "$base"
}

# Alert rules with absolute runbook links, where docker-compose.monitoring.yml mounts them from.
render_rules() {
  local base
  base="$(runbook_base)"
  if [ -z "$base" ]; then
    echo "set FERRY_RUNBOOK_BASE_URL in $env_file: the https:// address of Ferry's docs/ folder (alerts link its runbooks.md)" >&2
    exit 1
  fi
  FERRY_RUNBOOK_BASE_URL="$base" sh monitoring/prometheus/render-rules.sh monitoring/prometheus/rules monitoring/prometheus/rendered-rules
  echo "alert rules rendered with runbooks under $base"
}

start() {
  [ -f "$env_file" ] || { echo "missing $env_file: run deploy/up.sh first" >&2; exit 1; }
  ensure_secrets
  render_rules
  mkdir -p "$(env_value NODE_EXPORTER_TEXTFILE_DIR /var/lib/node_exporter/textfile_collector)"
  cert_metrics || echo "could not write the certificate metric; TlsCertificateExpiring has no data" >&2
  local wanted=("${services[@]}") checked=() s
  [ "$#" -eq 0 ] || wanted=("$@")
  # nginx-exporter has no health check (FROM scratch): start it, but wait only for the others,
  # since podman reports an empty health status for it, which `up --wait` refuses.
  for s in "${wanted[@]}"; do [ "$s" = nginx-exporter ] || checked+=("$s"); done
  compose up -d "${wanted[@]}"
  [ "${#checked[@]}" -eq 0 ] || compose up -d --wait "${checked[@]}"
  # GF_SECURITY_ADMIN_PASSWORD__FILE only applies when Grafana creates its database.
  if printf '%s\n' "${wanted[@]}" | grep -qx grafana; then
    compose exec -T grafana grafana cli admin reset-admin-password --password-from-stdin \
      < secrets/grafana_admin_password >/dev/null
  fi
  echo "Grafana:      http://127.0.0.1:$(env_value GRAFANA_PORT 3000)/ (user $(env_value GRAFANA_ADMIN_USER admin), password in secrets/grafana_admin_password)"
  echo "Prometheus:   http://127.0.0.1:$(env_value PROMETHEUS_PORT 9090)/"
  echo "Alertmanager: http://127.0.0.1:$(env_value ALERTMANAGER_PORT 9093)/"
  echo "Bound to 127.0.0.1 only: from another machine use ssh -L 3000:127.0.0.1:3000 this-host"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) compose stop "${services[@]}" && compose rm -f "${services[@]}" ;;
  status) compose ps "${services[@]}" ;;
  logs) shift; if [ "$#" -gt 0 ]; then compose logs -f --tail=200 "$@"; else compose logs -f --tail=200 "${services[@]}"; fi ;;
  cert-metrics) cert_metrics ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
