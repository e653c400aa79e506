#!/usr/bin/env bash
# Runs the pyinfra peer against a dasprov sandbox inventory:
#   bench/peers/pyinfra/run.sh INVENTORY [pyinfra options…]
# All hosts in parallel; any failed host stops the run (--fail-percent 0), as the ansible peer's
# any_errors_fatal does.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
inventory=$(realpath "$1"); shift
venv=${DASPROV_BENCH_VENV:-/var/tmp/dasprov-bench-venv}
hosts=$(grep -cE '^[A-Za-z0-9_.-]+[[:space:]]+ansible_host=' "$inventory")
export DASP_INVENTORY=$inventory DASP_PEER_DIR=$here
export DASP_SCHEMA_SQL=${DASP_SCHEMA_SQL:-$(cd "$here/../../.." && pwd)/sandbox/fixture/wso2das-3.1.0/dbscripts/mysql.sql}
cd "$here"
# DASP_TIME_FILE: where bench/bench.py reads the wall time of pyinfra itself.
start=$EPOCHREALTIME
rc=0
"$venv/bin/pyinfra" -y --parallel "$hosts" --fail-percent 0 "$@" inventory.py deploy.py || rc=$?
[[ -z ${DASP_TIME_FILE:-} ]] || echo "$start $EPOCHREALTIME" > "$DASP_TIME_FILE"
exit $rc
