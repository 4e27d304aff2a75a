# Development shell setup: `source scripts/dev-env.sh` puts Node 24 (provisioned into .tools/ by
# scripts/use-node.sh when the system Node is too old) first on PATH for this shell.
# Sourced, not executed: no `set -e`, so a failure here cannot close the caller's shell.
_caregate_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
if _caregate_node_bin="$("$_caregate_root/scripts/use-node.sh")"; then
  # Prepend unless that node already wins, so sourcing twice does not grow PATH.
  [ "$(command -v node)" = "$_caregate_node_bin/node" ] || export PATH="$_caregate_node_bin:$PATH"
  echo "caregate: node $(node --version) from $_caregate_node_bin"
else
  echo "caregate: could not provision Node 24 (see scripts/use-node.sh)" >&2
fi
unset _caregate_root _caregate_node_bin
