#!/usr/bin/env bash
# Runs the ansible-core peer against a dasprov sandbox inventory:
#   bench/peers/ansible/run.sh INVENTORY [ansible-playbook options…]
# forks = number of hosts in the inventory; host keys checked against the inventory's
# dasprov_known_hosts file. Ansible's persistent SSH masters (ControlPersist) are closed at the
# end, so every run starts cold and the next one does not reuse this run's connections.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
inventory=$(realpath "$1"); shift
venv=${DASPROV_BENCH_VENV:-/var/tmp/dasprov-bench-venv}
known_hosts=$(sed -n 's/^dasprov_known_hosts=//p' "$inventory" | head -1)
hosts=$(grep -cE '^[A-Za-z0-9_.-]+[[:space:]]+ansible_host=' "$inventory")
work=$(mktemp -d /tmp/dasprov-bench-ansible.XXXXXX)
cleanup() {
  for s in "$work"/cp/*; do
    [[ -S $s ]] && ssh -o ControlPath="$s" -O exit dummy >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/cp" "$work/tmp"
sed -e "s|@KNOWN_HOSTS@|$known_hosts|g" -e "s|@FORKS@|$hosts|g" -e "s|@WORK@|$work|g" -e "s|@HERE@|$here|g" \
  "$here/ansible.cfg.in" > "$work/ansible.cfg"
cd "$here"
# DASP_TIME_FILE: where bench/bench.py reads the wall time of ansible-playbook itself (without
# this script's set-up and the closing of the SSH masters afterwards).
start=$EPOCHREALTIME
rc=0
ANSIBLE_CONFIG="$work/ansible.cfg" "$venv/bin/ansible-playbook" -i "$inventory" site.yml "$@" || rc=$?
[[ -z ${DASP_TIME_FILE:-} ]] || echo "$start $EPOCHREALTIME" > "$DASP_TIME_FILE"
exit $rc
