#!/bin/sh
# Puts a registry backup back, or unpacks a configuration backup: a thin wrapper around
# dist/ops/restore.js (docs/backup.md, docs/disaster-recovery.md).
set -eu

usage() {
  cat <<'USAGE'
Usage: deploy/restore.sh [--yes] [--mode native|compose] [--safety-dir DIR] BACKUP.dump
       deploy/restore.sh --config [--into DIR] ARCHIVE.tar.gz.enc

Registry restore, in this order:
  1. checks BACKUP.dump against BACKUP.dump.sha256 and reads it with pg_restore --list
     (a corrupted or unchecked file is refused before anything is touched);
  2. asks for confirmation (type "yes") unless --yes;
  3. takes a safety backup of the current database (ferry-pre-restore-<UTC>.dump);
  4. stops api and worker (compose mode; native mode tells you to);
  5. drops and recreates the database (terminating connections) and restores in one transaction;
  6. compares row counts and the product checksum with BACKUP.json;
  7. migrates to head (compose: the one-shot migrate service) and starts api and worker.
On failure it prints the command that rolls back to the safety backup.

--config decrypts (BACKUP_PASSPHRASE_FILE) and unpacks into --into (default ./restored-config).
Variables: as deploy/backup.sh --help. Exit status: 0 ok, 1 failed or cancelled, 2 bad usage.
USAGE
}

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname -- "$0")/lib.sh"
exec_ops_script restore "$@"
