# shellcheck shell=sh
# The ops programs on a host with only Docker and a POSIX shell (sourced by lib.sh; see
# docs/backup.md): each runs in a one-shot container of the `ops` service (the Ferry image, which
# carries Node, the programs and the PostgreSQL client of the server's version) on the backend
# network, in native mode against postgres:5432. Host directories are mounted at the same paths
# inside, so the settings in .env.production, the arguments and every message mean the same on
# both sides; the container runs as the calling user, so what it writes is theirs.

ops_mounts=''
ops_envs=''

# ops_compose ARGS...: docker compose of the deployment (FERRY_COMPOSE), from FERRY_ROOT.
ops_compose() {
  # Word-split on purpose: FERRY_COMPOSE is a command line, as the ops programs take it.
  # shellcheck disable=SC2086
  (cd "$FERRY_ROOT" && ${FERRY_COMPOSE:-docker compose -f docker-compose.prod.yml --env-file .env.production} "$@")
}

# ops_mount HOST_PATH [ro]: mounts the path at the same place in the next ops container.
ops_mount() {
  case "$ops_mounts" in
    *"
$1:$1"*) return 0 ;;
  esac
  ops_mounts="$ops_mounts
$1:$1${2:+:$2}"
}

# ops_setenv NAME VALUE: a variable of the next ops container.
ops_setenv() {
  ops_envs="$ops_envs
$1=$2"
}

# ops_passthrough NAME...: the variables exported here, handed on (the env file is read inside).
ops_passthrough() {
  for name in "$@"; do
    if printenv "$name" >/dev/null 2>&1; then ops_setenv "$name" "$(printenv "$name")"; fi
  done
}

# ops_abs PATH: absolute against the current directory (arguments); ops_root_path: against FERRY_ROOT (settings).
ops_abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac; }
ops_root_path() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$FERRY_ROOT" "$1" ;; esac; }

# ops_setting NAME DEFAULT: the exported value, else the deployment's env file, else DEFAULT.
ops_setting() {
  value=$(env_value "$FERRY_ROOT/.env.production" "$1")
  printf '%s\n' "${value:-$2}"
}

# ops_textfile_dir NAME: node-exporter's textfile directory for the metrics, created when configured:
# NAME (e.g. BACKUP_TEXTFILE_DIR), else NODE_EXPORTER_TEXTFILE_DIR, else the default one if it
# exists; nothing when none (the same rule as services/ops/backup/ops-env.ts).
ops_textfile_dir() {
  dir=$(ops_setting "$1" "")
  [ -n "$dir" ] || dir=$(ops_setting NODE_EXPORTER_TEXTFILE_DIR "")
  if [ -n "$dir" ]; then
    dir=$(ops_root_path "$dir")
    mkdir -p "$dir"
    printf '%s\n' "$dir"
  elif [ -d /var/lib/node_exporter/textfile_collector ]; then
    printf '%s\n' /var/lib/node_exporter/textfile_collector
  fi
}

# ops_backup_dir: BACKUP_DIR resolved and created into $backup_dir, mounted read-write, handed on
# (not in a command substitution: the mount would be queued in a subshell).
ops_backup_dir() {
  backup_dir=$(ops_root_path "$(ops_setting BACKUP_DIR /var/backups/ferry)")
  mkdir -p "$backup_dir"
  ops_mount "$backup_dir"
  ops_setenv BACKUP_DIR "$backup_dir"
}

# ops_run CMD...: `docker compose run --rm ops CMD...` with the queued mounts and variables, the
# deployment directory read-only at its own path as the working directory, as the calling user.
ops_run() {
  set -- ops "$@"
  saved_ifs=$IFS
  IFS='
'
  set -f
  for mount in $ops_mounts; do set -- -v "$mount" "$@"; done
  for var in $ops_envs; do set -- -e "$var" "$@"; done
  set +f
  IFS=$saved_ifs
  [ -t 0 ] || set -- -T "$@"
  ops_compose --profile ops run --rm --no-deps --user "$(id -u):$(id -g)" \
    -v "$FERRY_ROOT:$FERRY_ROOT:ro" -w "$FERRY_ROOT" -e "FERRY_ROOT=$FERRY_ROOT" "$@"
}

# ops_refuse_host_only ARG: options that name the host's own tools or files have no meaning here.
ops_refuse_host_only() {
  case "$1" in
    --mode | --mode=* | --env-file | --env-file=*)
      say "error: $1 is for the ops programs on the host (FERRY_OPS_RUNNER=host); with Docker only they use postgres:5432 and .env.production"
      exit 2
      ;;
  esac
}

# backup_in_containers ARGS...: deploy/backup.sh with Docker only.
backup_in_containers() {
  cli_dir=''
  config=''
  n=$#
  while [ "$n" -gt 0 ]; do
    arg=$1
    shift
    n=$((n - 1))
    ops_refuse_host_only "$arg"
    case "$arg" in
      --dir)
        [ "$n" -gt 0 ] || { say "error: --dir needs a directory"; exit 2; }
        cli_dir=$(ops_abs "$1")
        shift
        n=$((n - 1))
        set -- "$@" --dir "$cli_dir"
        ;;
      --dir=*) cli_dir=$(ops_abs "${arg#--dir=}"); set -- "$@" --dir "$cli_dir" ;;
      --config) config=1; set -- "$@" "$arg" ;;
      *) set -- "$@" "$arg" ;;
    esac
  done
  if [ -n "$cli_dir" ]; then
    mkdir -p "$cli_dir"
    ops_mount "$cli_dir"
  else
    ops_backup_dir
  fi
  textfile=$(ops_textfile_dir BACKUP_TEXTFILE_DIR)
  if [ -n "$textfile" ]; then
    ops_mount "$textfile"
    ops_setenv BACKUP_TEXTFILE_DIR "$textfile"
  fi
  if [ -n "$config" ]; then
    config_dir=$(ops_setting BACKUP_CONFIG_DIR "")
    if [ -n "$config_dir" ]; then
      config_dir=$(ops_root_path "$config_dir")
      mkdir -p "$config_dir"
      ops_mount "$config_dir"
      ops_setenv BACKUP_CONFIG_DIR "$config_dir"
    fi
    passphrase=$(ops_setting BACKUP_PASSPHRASE_FILE "")
    if [ -n "$passphrase" ]; then
      passphrase=$(ops_root_path "$passphrase")
      [ -f "$passphrase" ] && ops_mount "$passphrase" ro
      ops_setenv BACKUP_PASSPHRASE_FILE "$passphrase"
    fi
  fi
  ops_passthrough BACKUP_RETENTION_DAYS BACKUP_COMPRESS_LEVEL BACKUP_CONFIG_PATHS
  ops_run node /app/dist/ops/backup.js --mode native "$@"
}

# restore_in_containers ARGS...: deploy/restore.sh with Docker only. The checks run first and touch
# nothing; then the api and worker are stopped here, the container restores (safety backup, replace,
# verify, migrate with this image's migrations), and they are started again here.
restore_in_containers() {
  yes=''
  config=''
  into=''
  safety=''
  extra=''
  backup=''
  while [ $# -gt 0 ]; do
    ops_refuse_host_only "$1"
    case "$1" in
      -y | --yes) yes=1 ;;
      --config) config=1 ;;
      --into) [ $# -ge 2 ] || { say "error: --into needs a directory"; exit 2; }; into=$(ops_abs "$2"); shift ;;
      --safety-dir) [ $# -ge 2 ] || { say "error: --safety-dir needs a directory"; exit 2; }; safety=$(ops_abs "$2"); shift ;;
      --if-schema-moved) extra=$1 ;;
      -*) say "error: unknown option $1 (see --help)"; exit 2 ;;
      *) [ -z "$backup" ] || { say "error: one backup file only"; exit 2; }; backup=$(ops_abs "$1") ;;
    esac
    shift
  done
  [ -n "$backup" ] || { say "error: name the backup file to restore (see --help)"; exit 2; }
  [ -f "$backup" ] || die "error: $backup does not exist"
  ops_backup_dir
  [ "$(dirname -- "$backup")" = "$backup_dir" ] || ops_mount "$(dirname -- "$backup")" ro
  restore=/app/dist/ops/restore.js
  if [ -n "$config" ]; then
    into=${into:-$PWD/restored-config}
    mkdir -p "$into"
    ops_mount "$into"
    passphrase=$(ops_setting BACKUP_PASSPHRASE_FILE "")
    if [ -n "$passphrase" ]; then
      passphrase=$(ops_root_path "$passphrase")
      [ -f "$passphrase" ] && ops_mount "$passphrase" ro
      ops_setenv BACKUP_PASSPHRASE_FILE "$passphrase"
    fi
    ops_run node "$restore" --config --into "$into" "$backup"
    return
  fi
  set -- --mode native
  if [ -n "$safety" ]; then
    mkdir -p "$safety"
    ops_mount "$safety"
    set -- "$@" --safety-dir "$safety"
  fi
  ops_passthrough BACKUP_COMPRESS_LEVEL
  # Called from upgrade.sh's roll-back inside an `if`, where set -e is off: every step checks itself.
  ops_run node "$restore" "$@" --check-only "$backup" || exit 1
  if [ -z "$yes" ]; then
    [ -t 0 ] || die "not a terminal, so nobody can confirm: pass --yes to restore without asking"
    printf 'Replace the registry database with %s (the api and worker stop meanwhile)? Type "yes" to continue: ' "$backup"
    read -r answer || answer=''
    [ "$answer" = yes ] || die "restore cancelled: nothing was changed"
  fi
  say "stopping api and worker"
  ops_compose stop api worker || die "could not stop api and worker: nothing was changed"
  status=0
  ops_run node "$restore" "$@" --yes --services-stopped ${extra:+"$extra"} "$backup" || status=$?
  case "$status" in
    0)
      # The restore has migrated; postgres and redis were never stopped, and compose's check of
      # their health must not keep the api down: started without their dependencies, not awaited.
      say "starting api and worker"
      ops_compose up -d --no-deps api worker
      ;;
    3)
      say "the api and worker stay stopped: the database was replaced before the failure (see above for the way back)"
      exit 1
      ;;
    *)
      say "nothing was changed: starting api and worker again"
      ops_compose up -d --no-deps api worker || true
      exit 1
      ;;
  esac
}

# upgrade_in_containers ARGS...: deploy/upgrade.sh with Docker only, the same steps as
# services/ops/upgrade/upgrade-stack.ts with the database work in ops containers: preflight, a
# verified pre-upgrade backup (none, no upgrade), keep the running image, build or pull, migrate,
# wait healthy; on a failure the previous image back, the pre-upgrade backup restored by the
# previous image when the schema moved, the previous version started, every step reported.
upgrade_in_containers() {
  source=build
  while [ $# -gt 0 ]; do
    ops_refuse_host_only "$1"
    case "$1" in
      --pull) source=pull ;;
      *) say "error: unknown argument $1 (see --help)"; exit 2 ;;
    esac
    shift
  done
  image="ferry:$(ops_setting FERRY_IMAGE_TAG local)"
  previous=$(ops_setting UPGRADE_PREVIOUS_IMAGE ferry:previous)
  wait_timeout=$(ops_setting UPGRADE_WAIT_TIMEOUT_SECONDS 300)
  preflight=$(ops_setting UPGRADE_PREFLIGHT "")
  preflight=$(ops_root_path "${preflight:-deploy/preflight.sh}")
  steps=''
  step() {
    say "$*"
    steps="$steps
  - $*"
  }
  finish() {
    if [ "$1" = ok ]; then
      printf '\nupgrade.sh: upgrade succeeded. What happened:%s\n' "$steps"
    else
      printf '\nupgrade.sh: UPGRADE FAILED. What happened:%s\n' "$steps" >&2
    fi
  }
  new_images() {
    if [ "$source" = pull ]; then ops_compose pull; else ops_compose build --pull; fi
  }

  if [ -f "$preflight" ]; then
    if output=$("$preflight" 2>&1); then step "preflight passed"; else
      step "preflight failed, nothing was changed: $output"
      finish failed
      return 1
    fi
  else
    step "no $preflight: preflight skipped"
  fi

  ops_backup_dir
  ops_passthrough BACKUP_COMPRESS_LEVEL
  if ! ops_run node /app/dist/ops/backup.js --mode native --pre-upgrade; then
    step "refusing to upgrade: the pre-upgrade backup failed, nothing was changed (see above)"
    finish failed
    return 1
  fi
  # The newest by name: the names carry their UTC start time.
  dump=$(find "$backup_dir" -maxdepth 1 -name 'ferry-pre-upgrade-*.dump' | sort | tail -n 1)
  step "pre-upgrade backup $dump verified"

  had_previous=''
  if docker image inspect "$image" >/dev/null 2>&1; then
    had_previous=1
    docker tag "$image" "$previous" || {
      step "refusing to upgrade: cannot keep the running image as $previous, nothing was changed"
      finish failed
      return 1
    }
    step "running image $image kept as $previous"
  else
    step "no image $image yet (first install): there is no previous image to roll back to"
  fi

  phase=build
  if new_images && step "new images $([ "$source" = pull ] && echo pulled || echo built)" && phase=migrate &&
    ops_compose run --rm migrate && step "migrations applied (one-shot migrate service)" &&
    phase=start && ops_compose up -d --wait --wait-timeout "$wait_timeout"; then
    step "every service is up and healthy: upgrade complete"
    finish ok
    return 0
  fi
  steps="$steps
  - FAILED at $phase"
  say "upgrade failed at $phase"

  problems=''
  if [ -n "$had_previous" ]; then
    if docker tag "$previous" "$image"; then step "previous image put back: $previous tagged as $image again"; else
      problems="$problems
  - NEEDS ATTENTION: could not put the previous image back: run docker tag $previous $image"
    fi
  fi
  if [ "$phase" != build ] && [ -z "$had_previous" ]; then
    step "no previous version to return to: the database was left as the failed upgrade left it; the pre-upgrade backup is $dump"
  elif [ "$phase" != build ]; then
    step "restoring the pre-upgrade backup $dump with the previous image if the schema moved"
    if (restore_in_containers --yes --if-schema-moved "$dump"); then
      step "registry checked against the pre-upgrade backup (restored only if the schema had moved)"
    else
      problems="$problems
  - NEEDS ATTENTION: the roll-back restore failed (see above)"
    fi
  fi
  if [ -n "$had_previous" ]; then
    if ops_compose up -d --wait --wait-timeout "$wait_timeout"; then step "previous version started and healthy"; else
      problems="$problems
  - NEEDS ATTENTION: the previous version did not come up healthy either"
    fi
  fi
  steps="$steps$problems
  - upgrade failed at $phase; $([ -n "$problems" ] && echo 'roll-back incomplete, see above' || echo 'rolled back')"
  finish failed
  return 1
}
