#!/bin/sh
# Readies the container lab (../shared/lab/compose, see its README) for the stack test, after
# `lab.sh setup`: gives the Node stand-in's npm this host's CA bundle when this host needs one to
# reach the registry, then tags the stand-ins under every image name Ferry's compose files use.
set -eu

usage() {
  cat <<'USAGE'
Usage: test/stack/prepare-lab.sh [--help]

Run after `../shared/lab/compose/lab.sh setup` (idempotent, a few seconds):
  1. When NODE_EXTRA_CA_CERTS is set (this host reaches the npm registry through a TLS-inspecting
     proxy), rebuilds the lab's Node stand-in (lab/node:24) with that bundle as npm's cafile, so
     `npm ci` inside an image build trusts the same CAs as npm on this host. Nothing else changes.
  2. `lab.sh images docker-compose.prod.yml docker-compose.monitoring.yml` (the stand-in tags).
Variables: FERRY_LAB (path of lab.sh; default ../shared/lab/compose/lab.sh beside the checkout).
Does nothing (exit 0) when there is no lab.
USAGE
}
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

repo=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
lab=${FERRY_LAB:-$repo/../shared/lab/compose/lab.sh}
if [ ! -f "$lab" ]; then
  echo "prepare-lab: no lab at $lab; nothing to do" >&2
  exit 0
fi
log() { printf '[prepare-lab] %s\n' "$*" >&2; }

ca=${NODE_EXTRA_CA_CERTS:-}
if [ -n "$ca" ] && [ -f "$ca" ]; then
  sum=$(sha256sum "$ca" | cut -c1-16)
  # Keep the lab's own image once, so a changed bundle is applied to it and never stacked.
  podman image exists lab/node:24-plain || podman tag lab/node:24 lab/node:24-plain
  have=$(podman image inspect lab/node:24 --format '{{index .Config.Labels "ferry.lab.host-ca"}}' 2>/dev/null || true)
  if [ "$have" != "$sum" ]; then
    log "giving the Node stand-in's npm this host's CA bundle ($ca)"
    ctx=$(mktemp -d)
    trap 'rm -rf "$ctx"' EXIT
    cp "$ca" "$ctx/host-ca.crt"
    printf '%s\n' 'FROM lab/node:24-plain' \
      'COPY host-ca.crt /usr/local/etc/ferry-lab-host-ca.crt' \
      'RUN printf "cafile=/usr/local/etc/ferry-lab-host-ca.crt\nupdate-notifier=false\n" >/usr/local/etc/npmrc' \
      "LABEL ferry.lab.host-ca=$sum" >"$ctx/Dockerfile"
    podman build -q -t lab/node:24 "$ctx" >/dev/null
  fi
fi

bash "$lab" images "$repo/docker-compose.prod.yml" "$repo/docker-compose.monitoring.yml"
