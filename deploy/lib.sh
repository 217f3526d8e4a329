# shellcheck shell=sh
# Helpers shared by the deploy scripts (sourced, not run). POSIX sh.

# Prints a message on stderr with the calling script's name.
say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { say "$*"; exit 1; }

# env_value FILE KEY: the value compose will use for KEY — the shell's if exported (compose lets
# the environment win over --env-file), else the last KEY=... line of FILE, unquoted.
env_value() {
  if printenv "$2" >/dev/null 2>&1; then
    printenv "$2"
    return 0
  fi
  [ -f "$1" ] || return 0
  sed -n "s/^[[:space:]]*$2=//p" "$1" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# run_node ARGS...: Node on the host when it has one, else the Ferry base image's Node, with the
# repository mounted read-only and every variable of the example env file passed through.
run_node() {
  if command -v node >/dev/null 2>&1; then
    node "$@"
    return
  fi
  image=$(sed -n 's/^FROM \([^ ]*\) AS runtime$/\1/p' "$FERRY_ROOT/services/Dockerfile")
  set -- "$image" node "$@"
  # Prepending keeps docker's own options in front of the image name; names are single words.
  # shellcheck disable=SC2013
  for key in $(sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*/\1/p' "$FERRY_ROOT/.env.production.example"); do
    set -- -e "$key" "$@"
  done
  docker run --rm --network none -v "$FERRY_ROOT:$FERRY_ROOT:ro" -w "$PWD" "$@"
}

# exec_ops_script NAME ARGS...: (the caller defines usage()) runs the ops program NAME (backup,
# restore, upgrade) where FERRY_OPS_RUNNER says:
#   container  in the Ferry image through `docker compose run --rm ops` (deploy/ops-container.sh):
#              the host needs Docker and a POSIX shell only;
#   host       `node dist/ops/NAME.js ARGS...` from this checkout (FERRY_NODE names another node);
#   auto       (default) host when this checkout is built and Node is on PATH, else container.
# FERRY_ROOT, the deployment directory, defaults to the checkout; paths given as arguments stay
# relative to where the operator stands, the script moves to FERRY_ROOT itself once it has resolved them.
exec_ops_script() {
  # --help anywhere prints the calling script's usage() without needing Node or a build.
  for arg in "$@"; do
    case "$arg" in
      -h | --help) usage; exit 0 ;;
    esac
  done
  repo=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
  node_bin=${FERRY_NODE:-node}
  script="$repo/dist/ops/$1.js"
  runner=${FERRY_OPS_RUNNER:-auto}
  if [ "$runner" = auto ]; then
    runner=container
    if command -v "$node_bin" >/dev/null 2>&1 && [ -f "$script" ]; then runner=host; fi
  fi
  case "$runner" in
    container)
      FERRY_ROOT=${FERRY_ROOT:-$repo}
      # shellcheck source=ops-container.sh source-path=SCRIPTDIR
      . "$repo/deploy/ops-container.sh"
      name=$1
      shift
      "${name}_in_containers" "$@"
      exit
      ;;
    host) ;;
    *) say "error: FERRY_OPS_RUNNER must be auto, host or container, not $runner"; exit 2 ;;
  esac
  shift
  command -v "$node_bin" >/dev/null 2>&1 || die "error: $node_bin not found: install Node 24 or set FERRY_NODE"
  [ -f "$script" ] || die "error: $script is missing: run 'npm ci && npm run build' in $repo"
  FERRY_ROOT=${FERRY_ROOT:-$repo}
  export FERRY_ROOT
  exec "$node_bin" "$script" "$@"
}
