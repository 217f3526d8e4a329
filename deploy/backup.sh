#!/bin/sh
# Registry and configuration backups: a thin wrapper around dist/ops/backup.js (docs/backup.md).
set -eu

usage() {
  cat <<'USAGE'
Usage: deploy/backup.sh [--verify-restore | --config] [--dir DIR] [--mode native|compose] [--env-file FILE]

  (no option)        pg_dump the registry (custom format) to BACKUP_DIR as ferry-<UTC>.dump with
                     .dump.sha256 and .json metadata, verify it, apply retention, write metrics.
  --verify-restore   restore the newest good backup into a scratch database, compare row counts
                     and the product checksum with its metadata, drop the scratch database.
  --config           encrypted archive of .env.production, certs/, secrets/ and local overrides.

Run from anywhere: settings and relative BACKUP_* paths are read from the deployment directory
(this script's parent, FERRY_ROOT); paths given as arguments are relative to the current directory.
Modes: compose (default on the host: tools run in the postgres container via docker compose exec)
or native (DATABASE_URL / PG* set: the local pg_dump, pg_restore and psql).

Variables (environment or .env.production): BACKUP_DIR (/var/backups/ferry),
BACKUP_RETENTION_DAYS (7), BACKUP_TEXTFILE_DIR (NODE_EXPORTER_TEXTFILE_DIR, else
/var/lib/node_exporter/textfile_collector if it exists), BACKUP_COMPRESS_LEVEL (6),
BACKUP_MODE, BACKUP_PASSPHRASE_FILE, BACKUP_CONFIG_PATHS, BACKUP_CONFIG_DIR, FERRY_COMPOSE,
FERRY_NODE (node).
Exit status: 0 ok, 1 failed (reason on stderr), 2 bad usage.
USAGE
}

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname -- "$0")/lib.sh"
exec_ops_script backup "$@"
