#!/usr/bin/env bash
# Installs what dasprov needs from Debian (only what is missing), then builds it.
# Idempotent: on a machine that has everything it only runs `swift build`.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  pkg-config libssh2-1-dev libxml2-dev   # the C libraries dasprov links
  openssh-server openssh-client sudo     # the sandbox's hosts and their become user
  libxml2-utils                          # xmllint: tests check files by XPath independently
  shellcheck                             # lints the remote programs (make lint, make test)
  iproute2 util-linux procps             # ss, unshare, ps for the sandbox and its checks
  python3 python3-venv                   # the fake DAS server; benchmarks' Ansible/pyinfra venv
  mariadb-server mariadb-client          # the cluster's database in the MySQL tests
)

missing=()
for p in "${packages[@]}"; do
  [[ $p == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root (sudo make setup) or install them: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  echo "setup: swift is not on PATH (Swift 6 is required: https://www.swift.org/install/linux/)" >&2
  exit 1
fi

# Progress lines are noise in logs; warnings and errors stay.
set +e
swift build ${SWIFT_BUILD_FLAGS:-} 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]|^Building for|^Compiling|^Write|^Fetching|^Fetched|^Computing|^Computed|^Creating working copy|^Working copy'
status=${PIPESTATUS[0]}
set -e
((status == 0)) || { echo "setup: swift build failed" >&2; exit 1; }
echo "setup: ok ($(.build/debug/dasprov --version))"
