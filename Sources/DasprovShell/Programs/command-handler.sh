#!/bin/sh
# dasprov: run a `command` handler; clear its pending-restart marker when it succeeds.
#
# Parameters: H (the handler), COMMAND (one quoted command line).
# Output: `@healthy 0`, or `@fail MESSAGE`.
: "${H:?}" "${COMMAND:?}"
# shellcheck source=prologue.sh
. ./prologue.sh
eval "$COMMAND" </dev/null >&2 || { printf '@fail %s\n' "command exited with status $?"; exit 1; }
rm -f -- "$S/pending/$H"
printf '@healthy 0\n'
