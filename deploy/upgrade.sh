#!/bin/sh
# Upgrades the compose stack with a way back: a thin wrapper around dist/ops/upgrade.js (docs/backup.md).
set -eu

usage() {
  cat <<'USAGE'
Usage: deploy/upgrade.sh [--pull] [--env-file FILE]

Upgrades the running compose stack to the code in this checkout (or, with --pull, to the images in
the registry), in this order:
  1. deploy/preflight.sh, when it exists (UPGRADE_PREFLIGHT names another);
  2. a verified backup of the registry (ferry-pre-upgrade-<UTC>.dump in BACKUP_DIR):
     if it fails the upgrade stops and nothing is changed;
  3. the running image ferry:$FERRY_IMAGE_TAG is kept as ferry:previous (UPGRADE_PREVIOUS_IMAGE);
  4. docker compose build --pull (or pull);
  5. docker compose run --rm migrate (the one-shot migration step);
  6. docker compose up -d --wait (UPGRADE_WAIT_TIMEOUT_SECONDS, default 300).
If 4-6 fail: the previous image is tagged back, the pre-upgrade backup is restored when the schema
had already moved, the previous version is started, and every step taken is printed.
Exit status: 0 upgraded, 1 failed (what happened on stderr), 2 bad usage.
USAGE
}

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname -- "$0")/lib.sh"
exec_ops_script upgrade "$@"
