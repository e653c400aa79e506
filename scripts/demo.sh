#!/usr/bin/env bash
# The demo (make demo): 8 sandbox hosts with stock DAS homes, a first apply that configures the
# whole cluster and restarts it in role order, then a re-run that changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
dasprov=.build/debug/dasprov
state=${DASPROV_SANDBOX_DIR:-/var/tmp/dasprov-sandbox}
# The inventory `sandbox up` writes names the addresses it actually bound: when 127.0.0.x:22 is
# taken (an sshd of this machine on 0.0.0.0:22), hosts fall back to other ports, and the
# committed Inventories/sandbox.ini would reach the wrong sshd.
inventory=$state/inventory.ini

echo "== sandbox: 8 real sshd hosts on 127.0.0.11-18 (RedHat and Debian family)"
$dasprov sandbox up --hosts 8 --state "$state"
$dasprov sandbox reset --state "$state" >/dev/null
$dasprov topology "$inventory"

echo
echo "== first apply: every node configured, then restarted role by role"
$dasprov apply "$inventory"

echo
echo "== second apply: nothing to change, nothing restarted"
$dasprov apply "$inventory"

echo
echo "The sandbox keeps running: try '$dasprov plan $inventory --diff' or"
echo "'$dasprov sandbox ssh 1'. Stop it with '$dasprov sandbox down' (or make sandbox-down)."
