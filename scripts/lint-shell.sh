#!/usr/bin/env bash
# shellcheck on what dasprov sends to hosts: the program sources at every severity, and the
# rendered programs (Tests/DasprovEngineTests/Golden) at warning and above — quoting that
# dasprov generates (a `$(x)` inside single quotes, on purpose) is only ever an "info" there.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null || { echo "lint: shellcheck is missing (apt-get install shellcheck)" >&2; exit 1; }
(cd Sources/DasprovShell/Programs && shellcheck -x -s sh ./*.sh)
shellcheck -s sh -S warning Tests/DasprovEngineTests/Golden/*.sh
echo "lint: remote programs and goldens are shellcheck-clean"
