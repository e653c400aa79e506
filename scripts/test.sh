#!/usr/bin/env bash
# The test command (make test): unit tests, the sandbox's self-test, then the integration suite
# against 8 real sshd hosts. The sandbox is always torn down, even when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
section() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - started))"; }
mkdir -p .build/test-logs

# Runs `swift test ARGS`, keeping its full output in a log and printing suites, failures and totals.
swift_tests() {
  local log=$1; shift
  local status=0
  swift test "$@" > "$log" 2>&1 || status=$?
  grep -E '^(✔ Suite|✘ Suite|✔ Test run|✘ Test run)|^error:|\.swift:[0-9]+:[0-9]+: error:' "$log" || true
  if ((status != 0)); then
    echo "-- failures (full log: $log)"
    grep -E -A6 '^✘ Test .*(recorded an issue|failed)' "$log" | head -150 || tail -40 "$log"
  fi
  return $status
}

section "shellcheck of the remote programs"
scripts/lint-shell.sh

section "unit tests"
swift_tests .build/test-logs/unit.log --skip IntegrationTests
[[ ${1:-} == --unit-only ]] && exit 0

section "sandbox self-test"
bash sandbox/tests/sandbox-test.sh

section "integration tests against the sandbox"
state=/var/tmp/dasprov-test-sandbox
cleanup() { bash sandbox/sandbox.sh down --state "$state" >/dev/null 2>&1 || true; }
trap cleanup EXIT
bash sandbox/sandbox.sh up --hosts 8 --state "$state" --net 127.0.2
DASPROV_TEST_SANDBOX=$state DASPROV_BIN=$PWD/.build/debug/dasprov DASPROV_DAS_PACK=$PWD/../shared/das-pack/3.1.0 \
  swift_tests .build/test-logs/integration.log --filter IntegrationTests
cleanup
trap - EXIT

section "no process left behind"
if pgrep -af "dasprov-test-sandbox" >/dev/null; then
  echo "processes of the test sandbox are still running:" >&2
  pgrep -af "dasprov-test-sandbox" >&2
  exit 1
fi
echo "none"
# A test that replaced the machine's /dev/null with a regular file would break every later sshd
# session on this machine; catch it here rather than in someone else's run.
if [[ ! -c /dev/null ]]; then
  echo "/dev/null is no longer the null device: a test replaced it" >&2
  exit 1
fi
section "all tests passed"
