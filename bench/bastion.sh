#!/usr/bin/env bash
# The no-op re-run through a jump host against the same no-op without one, on 8 hosts; run by
# bench/run.sh after its own build (BASTION=0 skips it), or alone:
#
#   bench/bastion.sh [DASPROV_BINARY]        # RUNS=5; default binary .build/release/dasprov
#
# One private sandbox (sandbox.sh up --private: the hosts and MariaDB in a network namespace
# behind a bastion sshd; state /var/tmp/dasprov-bench-bastion, --net 127.0.8 so the LAN is
# 10.8.0.0/24; BASTION_STATE and BASTION_NET move them). The cluster is applied once, then
# the no-op runs alternate between
#   - through the bastion: dasprov on this machine with the inventory's ProxyJump (one more SSH
#     login, every host's session tunnelled through the bastion's);
#   - without one: the same binary and hosts, run inside bastion 1's network namespace, where
#     the LAN is directly reachable.
# Prints the medians and their ratio (the target: at most 1.5×) and writes
# bench/results/bastion.md. The sandbox is taken down at the end, whatever happens.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
binary=${1:-$repo/.build/release/dasprov}
state=${BASTION_STATE:-/var/tmp/dasprov-bench-bastion}
net=${BASTION_NET:-127.0.8}
runs=${RUNS:-5}

[[ $(id -u) == 0 ]] || { echo "bench/bastion: needs root (network namespaces, sshd)" >&2; exit 1; }
[[ -x $binary ]] || { echo "bench/bastion: no dasprov at $binary (swift build -c release)" >&2; exit 1; }

cleanup() { bash "$repo/sandbox/sandbox.sh" down --state "$state" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$state"
echo "bench/bastion: 8 hosts behind a bastion ($state)"
bash "$repo/sandbox/sandbox.sh" up --private --hosts 8 --state "$state" --net "$net" \
  ${DASPROV_DAS_PACK:+--das-pack "$DASPROV_DAS_PACK"} >/dev/null
# shellcheck source=/dev/null
. "$state/private.env"
grep -v '^ansible_ssh_common_args=' "$state/inventory.ini" > "$state/direct.ini"
log=$state/bench.log

# Seconds one dasprov run took; the run must succeed and, after the first, change nothing.
timed() {
  local start end
  start=$EPOCHREALTIME
  "$@" >"$log" 2>&1 || { tail -20 "$log" >&2; echo "bench/bastion: failed: $*" >&2; exit 1; }
  end=$EPOCHREALTIME
  echo "$end - $start" | bc
}
noop() {
  timed "$@"
  grep -q " 0 with changes, 0 restarts" "$log" || { tail -20 "$log" >&2; echo "bench/bastion: not a no-op: $*" >&2; exit 1; }
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

through=("$binary" apply "$state/inventory.ini" --project "$repo")
direct=(nsenter "--net=/run/netns/$netns_prefix-b1" "$binary" apply "$state/direct.ini" --project "$repo")
timed "${through[@]}" >/dev/null
before=$(grep -c "Accepted publickey" "$state/logs/bastion1.sshd.log" || true)
b=(); d=()
for _ in $(seq 1 "$runs"); do
  d+=("$(noop "${direct[@]}")")
  b+=("$(noop "${through[@]}")")
done
logins=$(($(grep -c "Accepted publickey" "$state/logs/bastion1.sshd.log") - before))
dm=$(printf '%s\n' "${d[@]}" | median)
bm=$(printf '%s\n' "${b[@]}" | median)
ratio=$(echo "$bm / $dm" | bc -l)
verdict=$(echo "$ratio <= 1.5" | bc -l | sed 's/1/met/; s/0/MISSED/')

mkdir -p "$here/results"
{
  echo "# No-op through a jump host, 8 hosts"
  echo
  echo "$(date -u +%F) · commit \`$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')\` · $(nproc) cores · median of $runs alternating runs · bench/bastion.sh"
  echo
  echo "| scenario | without a bastion | through one bastion | ratio | target ≤ 1.5× |"
  echo "|---|---|---|---|---|"
  printf '| no-op re-run, 8 hosts + db | %.3f s | %.3f s | %.2f× | %s |\n' "$dm" "$bm" "$ratio" "$verdict"
  echo
  echo "Bastion logins during the $runs runs through it: $logins (one per run)."
  echo "Runs without a bastion: $(printf '%.3f ' "${d[@]}")s; through it: $(printf '%.3f ' "${b[@]}")s."
} > "$here/results/bastion.md"
printf '\nno-op on 8 hosts: without a bastion %.3f s, through one %.3f s: %.2f× (target ≤ 1.5×: %s; %d bastion logins in %d runs)\n' \
  "$dm" "$bm" "$ratio" "$verdict" "$logins" "$runs"
