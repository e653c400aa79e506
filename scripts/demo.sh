#!/usr/bin/env bash
# The demo (make demo): 8 sandbox hosts with stock DAS homes, a first apply that configures the
# whole cluster and restarts it in role order, then a re-run that changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
dasprov=.build/debug/dasprov

echo "== sandbox: 8 real sshd hosts on 127.0.0.11-18 (RedHat and Debian family)"
$dasprov sandbox up --hosts 8
$dasprov sandbox reset >/dev/null
$dasprov topology Inventories/sandbox.ini

echo
echo "== first apply: every node configured, then restarted role by role"
$dasprov apply Inventories/sandbox.ini

echo
echo "== second apply: nothing to change, nothing restarted"
$dasprov apply Inventories/sandbox.ini

echo
echo "The sandbox keeps running: try '$dasprov plan Inventories/sandbox.ini --diff' or"
echo "'$dasprov sandbox ssh 1'. Stop it with '$dasprov sandbox down' (or make sandbox-down)."
