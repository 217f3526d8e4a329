#!/bin/sh
# Renders the Prometheus rule files with the runbook base URL, so every alert's runbook_url is an
# absolute link a pager can open. Prometheus cannot read the environment in rule files, and
# promtool 2.42 cannot set external labels in its unit tests, so the URL is written in beforehand.
set -eu

usage() {
  cat <<'USAGE'
Usage: render-rules.sh SOURCE_DIR TARGET_DIR

Copies every *.yml of SOURCE_DIR (monitoring/prometheus/rules) to TARGET_DIR with each
"${FERRY_RUNBOOK_BASE_URL}" replaced by the value of FERRY_RUNBOOK_BASE_URL: the absolute http(s)
URL of the folder holding runbooks.md (a trailing slash is dropped). Files in TARGET_DIR that
SOURCE_DIR no longer has are removed. Exit 2 on a missing or non-absolute URL or bad arguments.
USAGE
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
esac
if [ "$#" -ne 2 ]; then usage >&2; exit 2; fi
source_dir=$1
target_dir=$2
base=${FERRY_RUNBOOK_BASE_URL:-}
base=${base%/}
case "$base" in
  http://?*|https://?*) ;;
  *) printf 'render-rules.sh: FERRY_RUNBOOK_BASE_URL must be an absolute http(s) URL, got "%s"\n' "$base" >&2; exit 2 ;;
esac
case "$base" in
  *'#'*|*'?'*|*' '*) printf 'render-rules.sh: FERRY_RUNBOOK_BASE_URL must have no query, fragment or space: "%s"\n' "$base" >&2; exit 2 ;;
esac

mkdir -p "$target_dir"
for old in "$target_dir"/*.yml; do
  [ -e "$old" ] || continue
  [ -e "$source_dir/$(basename "$old")" ] || rm -f "$old"
done
for src in "$source_dir"/*.yml; do
  [ -e "$src" ] || continue
  out="$target_dir/$(basename "$src")"
  # awk, not sed: the URL is used literally, whatever characters it holds.
  RUNBOOK_BASE=$base awk '
    {
      line = $0; rendered = ""; token = "${FERRY_RUNBOOK_BASE_URL}"
      while ((i = index(line, token)) > 0) {
        rendered = rendered substr(line, 1, i - 1) ENVIRON["RUNBOOK_BASE"]
        line = substr(line, i + length(token))
      }
      print rendered line
    }' "$src" >"$out.tmp"
  mv "$out.tmp" "$out"
done
