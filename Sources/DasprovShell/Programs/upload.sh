#!/bin/sh
# dasprov: the host's half of an upload: check the sha256 of the temporary file the data went
# to, give it its mode and owner, and rename it over the destination (atomic.sh).
#
# With SIZE, the data arrives on stdin followed by a line holding its sha256 (the exec method);
# without, the temporary file is already written and WANT holds the sha256 (the SFTP method).
#
# Parameters: D (destination), TMP (temporary file beside it), HOST (for messages), MODE, OWNER,
# GROUP (empty: keep the replaced file's), SIZE or WANT.
# Output: the sha256 of what was written; on failure a message on stderr and exit status 92-97.
: "${D:?}" "${TMP:?}"
HOST=${HOST-} MODE=${MODE-} OWNER=${OWNER-} GROUP=${GROUP-} SIZE=${SIZE-} WANT=${WANT-}
# shellcheck source=atomic.sh
. ./atomic.sh
u=$(umask)
umask 077
fail() { rc=$1; shift; rm -f -- "$TMP"; printf 'dasprov: %s\n' "$*" >&2; exit "$rc"; }
if [ -d "$D" ] && [ ! -L "$D" ]; then fail 96 "$D is a directory"; fi
atomic_dir "$D" || fail 92 "$why"
# OpenSSL uses the CPU's SHA instructions: about 4 times faster than coreutils' sha256sum.
if command -v openssl >/dev/null 2>&1; then digest() { openssl dgst -sha256 -r; }; else digest() { sha256sum; }; fi
if [ -n "$SIZE" ]; then
  # GNU head -c never reads past SIZE bytes, so the checksum line stays on stdin for read.
  head -c "$SIZE" > "$TMP" || fail 95 "cannot write $TMP"
  IFS= read -r WANT || WANT=
fi
# Hash what is in the file after the transfer (from the page cache: cheap).
got=$(digest < "$TMP") || fail 95 "cannot read back $TMP"
got=${got%% *}
[ "$got" = "$WANT" ] || fail 97 "checksum mismatch: sent ${WANT:-nothing}, wrote $got (transfer interrupted?)"
umask "$u"
atomic_attrs "$TMP" "$D" "$MODE" "$OWNER" "$GROUP" || fail 94 "$why"
atomic_commit "$TMP" "$D" || fail 93 "$why"
printf '%s\n' "$got"
