#!/bin/sh
# Renders alertmanager.yml.tmpl from the environment, then (unless --render-only) runs Alertmanager
# with the rendered file. Alertmanager 0.25 cannot expand variables in its configuration itself.
set -eu

usage() {
  cat <<'USAGE'
Usage: render-config.sh [--render-only] [ALERTMANAGER_ARGS...]

Renders $ALERTMANAGER_TEMPLATE (default /etc/alertmanager/alertmanager.yml.tmpl) to
$ALERTMANAGER_CONFIG (default /tmp/alertmanager/alertmanager.yml), then execs
`alertmanager --config.file=$ALERTMANAGER_CONFIG ALERTMANAGER_ARGS...`.

Template rules: ${NAME} is replaced by the variable's value; a line ending in "#when NAME" is
kept only when NAME is set and not "false".

Variables (defaults): ALERT_EMAIL_TO (empty: no email), ALERT_EMAIL_FROM (alertmanager@localhost),
ALERT_SMTP_SMARTHOST (localhost:587), ALERT_SMTP_USERNAME (empty: no SMTP auth),
ALERT_SMTP_REQUIRE_TLS (true), ALERT_SLACK_CHANNEL (empty: no Slack),
ALERT_PAGERDUTY_ENABLED (false), ALERT_WEBHOOK_URL (empty: no webhook),
ALERT_SECRETS_DIR (/run/secrets: alertmanager_smtp_password, alertmanager_slack_webhook_url,
alertmanager_pagerduty_routing_key).
USAGE
}

render_only=false
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --render-only) render_only=true; shift ;;
esac

template="${ALERTMANAGER_TEMPLATE:-/etc/alertmanager/alertmanager.yml.tmpl}"
config="${ALERTMANAGER_CONFIG:-/tmp/alertmanager/alertmanager.yml}"
export ALERT_EMAIL_TO="${ALERT_EMAIL_TO:-}"
export ALERT_EMAIL_FROM="${ALERT_EMAIL_FROM:-alertmanager@localhost}"
export ALERT_SMTP_SMARTHOST="${ALERT_SMTP_SMARTHOST:-localhost:587}"
export ALERT_SMTP_USERNAME="${ALERT_SMTP_USERNAME:-}"
export ALERT_SMTP_REQUIRE_TLS="${ALERT_SMTP_REQUIRE_TLS:-true}"
export ALERT_SLACK_CHANNEL="${ALERT_SLACK_CHANNEL:-}"
export ALERT_PAGERDUTY_ENABLED="${ALERT_PAGERDUTY_ENABLED:-false}"
export ALERT_WEBHOOK_URL="${ALERT_WEBHOOK_URL:-}"
export ALERT_SECRETS_DIR="${ALERT_SECRETS_DIR:-/run/secrets}"

mkdir -p "$(dirname "$config")"
# awk, not sed: values are used literally, whatever characters they hold.
awk '
  function enabled(name) { return ENVIRON[name] != "" && ENVIRON[name] != "false" }
  {
    line = $0
    if (match(line, /[ \t]*#when [A-Z0-9_]+[ \t]*$/)) {
      cond = substr(line, RSTART, RLENGTH)
      sub(/^[ \t]*#when /, "", cond); sub(/[ \t]*$/, "", cond)
      if (!enabled(cond)) next
      line = substr(line, 1, RSTART - 1)
    }
    out = ""
    while (match(line, /\$\{[A-Z0-9_]+\}/)) {
      out = out substr(line, 1, RSTART - 1) ENVIRON[substr(line, RSTART + 2, RLENGTH - 3)]
      line = substr(line, RSTART + RLENGTH)
    }
    print out line
  }
' "$template" > "$config.tmp"
mv "$config.tmp" "$config"

if [ "$render_only" = true ]; then
  exit 0
fi
exec alertmanager --config.file="$config" "$@"
