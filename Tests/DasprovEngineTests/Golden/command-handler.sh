#!/bin/sh
H=reload
COMMAND='systemctl reload '\''it'\''\'\'''\''s'\'''
# dasprov: run a `command` handler; clear its pending-restart marker when it succeeds.
#
# Parameters: H (the handler), COMMAND (one quoted command line).
# Output: `@healthy 0`, or `@fail MESSAGE`.
: "${H:?}" "${COMMAND:?}"
# Included by every program that keeps state on the host. Sets S, the host's dasprov state
# directory: pending-restart markers, backup manifests, staged uploads. Root uses
# /var/lib/dasprov, other users a directory in their home; DASPROV_STATE_DIR (the inventory's
# dasprov_state_dir) overrides both. The effective UID comes from /proc with shell built-ins:
# $(id -u) would cost a fork on every program.
LC_ALL=C; export LC_ALL
if [ -n "${DASPROV_STATE_DIR:-}" ]; then S=$DASPROV_STATE_DIR
else
  dp_u=; while read -r dp_k _ dp_e _; do [ "$dp_k" = Uid: ] && { dp_u=$dp_e; break; }; done 2>/dev/null </proc/self/status
  [ -n "$dp_u" ] || dp_u=$(id -u)
  if [ "$dp_u" = 0 ]; then S=/var/lib/dasprov; else S="${HOME:-/tmp}/.local/state/dasprov"; fi
fi
eval "$COMMAND" </dev/null >&2 || { printf '@fail %s\n' "command exited with status $?"; exit 1; }
rm -f -- "$S/pending/$H"
printf '@healthy 0\n'
