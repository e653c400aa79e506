#!/usr/bin/env bash
# dasprov benchmarks (`make bench`): dasprov against ansible-core, pyinfra and the SSH floor on
# the sandbox's real sshd hosts. See docs/benchmarks.md.
#
#   bench/run.sh                     # 8 and 64 hosts, RUNS=3 runs of every scenario
#   RUNS=5 SIZES=8 bench/run.sh      # only the 8-host scenarios, 5 runs each
#   PEER_FIRST_64=1 bench/run.sh     # also time the peers' first apply on 64 hosts (slow)
#
# Installs what it needs (Debian: time, python3-venv, mariadb, …; PyPI: bench/requirements.txt
# into /var/tmp/dasprov-bench-venv), builds dasprov (release), the transport's connect benchmark
# (bench/ssh/main.swift) and the floor, a bare C libssh2 client (bench/floor/floor.c, gcc), then
# bench/bench.py brings up the sandboxes (8 hosts on 127.0.4.x, 64 on 127.0.5.x, state in
# /var/tmp/dasprov-bench-N), runs the scenarios, prints the table and writes bench/results/
# (runs.json, runs.csv, latest.md, noop.svg, apply.svg, logs/).
# The sandboxes are always taken down at the end, whatever happens.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"
venv=${DASPROV_BENCH_VENV:-/var/tmp/dasprov-bench-venv}
sizes=${SIZES:-"8 64"}
export DASPROV_BENCH_VENV=$venv

[[ $(id -u) == 0 ]] || { echo "bench: needs root (the sandbox runs sshd in mount namespaces)" >&2; exit 1; }

# --- Debian packages (only what is missing)
need=()
for p in time python3-venv openssh-client openssh-server mariadb-server mariadb-client pkg-config gcc libc6-dev libssh2-1-dev libxml2-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  echo "bench: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- the peers and matplotlib, from PyPI, in a venv of Debian's python3
if ! cmp -s "$here/requirements.txt" "$venv/.dasprov-bench-requirements" ||
   ! "$venv/bin/python" -c 'import ansible, pyinfra, matplotlib' 2>/dev/null; then
  echo "bench: installing $(grep -v '^#' "$here/requirements.txt" | tr '\n' ' ')into $venv"
  [[ -x $venv/bin/python ]] || /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.dasprov-bench-requirements"
fi

# --- dasprov (release), and the transport's connect benchmark over the same sources
echo "bench: building dasprov (release)"
swift build -c release >/var/tmp/dasprov-bench-build.log 2>&1 ||
  { tail -30 /var/tmp/dasprov-bench-build.log; echo "bench: the release build failed" >&2; exit 1; }
echo "bench: building the libssh2 connect benchmark (bench/ssh/main.swift, release)"
sshbench=$("$here/ssh/build.sh" /var/tmp/dasprov-bench-sshbench /var/tmp/dasprov-bench-sshbench.log)
echo "bench: building the floor, a bare libssh2 client (bench/floor/floor.c, gcc)"
floor=/var/tmp/dasprov-bench-floor
# shellcheck disable=SC2046  # pkg-config's flags are separate words
gcc -O2 -Wall -o "$floor" "$here/floor/floor.c" $(pkg-config --cflags --libs libssh2) -pthread ||
  { echo "bench: the floor client did not build" >&2; exit 1; }

# --- the sandboxes are brought up by bench.py, one size at a time; down here in any case
states=()
for n in $sizes; do states+=("/var/tmp/dasprov-bench-$n"); done
cleanup() {
  local rc=$?
  for s in "${states[@]}"; do
    [[ -d $s/run ]] && bash "$repo/sandbox/sandbox.sh" down --state "$s" >/dev/null 2>&1 || true
  done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The no-op through a jump host against the same no-op without one (bench/bastion.sh).
if [[ ${BASTION:-1} == 1 ]]; then "$here/bastion.sh" "$repo/.build/release/dasprov"; fi

"$venv/bin/python" "$here/bench.py" --sizes "$sizes" --runs "${RUNS:-3}" \
  --ssh-bench "$sshbench" --floor "$floor" ${PEER_FIRST_64:+--peer-first-64} "$@"
