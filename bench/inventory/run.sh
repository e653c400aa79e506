#!/usr/bin/env bash
# Times dasprov's inventory reader against `ansible-inventory --list` on a generated
# 10,000-host, 200-group inventory, and prints time, peak memory and the speed ratio.
#
#   bench/inventory/run.sh [HOSTS] [GROUPS]
#
# Needs the ansible-core venv the oracle tests use (created here if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
hosts=${1:-10000}
groups=${2:-200}
venv=${DASPROV_ANSIBLE_VENV:-/var/tmp/dasprov-ansible-venv}
work=$(mktemp -d /tmp/dasprov-inventory-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
inventory="$work/hosts.ini"

if [ ! -x "$venv/bin/ansible-inventory" ]; then
  python3 -m venv "$venv" && "$venv/bin/pip" install --quiet ansible-core
fi
python3 bench/inventory/generate.py "$inventory" "$hosts" "$groups"
echo "inventory: $(grep -c '^host-' "$inventory") host lines, $(grep -c '^\[' "$inventory") section headers, $(wc -c <"$inventory") bytes"

# ansible-inventory, run in an empty directory with an empty config; best of 3.
mkdir "$work/cwd" && : >"$work/cwd/ansible.cfg"
best_ansible=""
for _ in 1 2 3; do
  ( cd "$work/cwd" && ANSIBLE_CONFIG="$work/cwd/ansible.cfg" /usr/bin/time -o "$work/time" -f '%e %M' \
      "$venv/bin/ansible-inventory" -i "$inventory" --list >"$work/ansible.json" 2>/dev/null )
  read -r secs kb <"$work/time"
  if [ -z "$best_ansible" ] || awk "BEGIN{exit !($secs < $best_ansible)}"; then best_ansible=$secs; ansible_kb=$kb; fi
done
echo "ansible-inventory --list: ${best_ansible}s, peak RSS $((ansible_kb / 1024)) MiB (best of 3, whole process)"

# dasprov: a release build of the benchmark test, which parses the same file.
swift build -c release --build-tests -Xswiftc -enable-testing >/dev/null
DASPROV_BENCH=1 DASPROV_BENCH_FILE="$inventory" DASPROV_BENCH_JSON="$work/dasprov.json" \
  swift test -c release -Xswiftc -enable-testing --skip-build --filter InventoryBenchmark 2>&1 \
  | grep '^inventory-bench' | tee "$work/ours"

if python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
  "$work/ansible.json" "$work/dasprov.json"; then
  echo "outputs: identical JSON"
else
  echo "outputs: DIFFER"
fi
ours=$(awk '/^inventory-bench load\+list/ {print $3}' "$work/ours")
awk -v a="$best_ansible" -v o="$ours" 'BEGIN { printf "speed-up (ansible-inventory --list / dasprov load+list): %.0fx\n", a / o }'
