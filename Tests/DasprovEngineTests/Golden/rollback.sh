#!/bin/sh
# dasprov: roll back the last applied run: restore the files of the newest backup manifest and
# mark its handlers pending again.
#
# Output: `@manifest RUN`, `@restored PATH`, `@removed PATH`, `@notify HANDLER`, `@rolled-back`,
# `@nothing` (no manifest), or `@fail MESSAGE`.
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
# The newest manifest: run ids sort by time, and so does the glob.
M=; for m in "$S"/backups/*.manifest; do [ -e "$m" ] && M=$m; done
[ -n "$M" ] || { printf '@nothing\n'; exit 0; }
printf '@manifest %s\n' "$(basename "$M" .manifest)"
mkdir -p -- "$S/pending"
p=
while IFS= read -r line; do
  key=${line%% *}; val=${line#* }
  case "$key" in
    path) p=$val ;;
    backup)
      T="$(dirname -- "$p")/.$(basename -- "$p").dasprov-tmp-rb$$"
      { cp -p -- "$val" "$T" && mv -f -- "$T" "$p" && printf '@restored %s\n' "$p"; } || { printf '@fail cannot restore %s\n' "$p"; exit 1; } ;;
    link)
      T="$(dirname -- "$p")/.$(basename -- "$p").dasprov-link-rb$$"
      ln -sfn -- "$val" "$T" && mv -fT -- "$T" "$p" && printf '@restored %s\n' "$p" ;;
    absent) rm -f -- "$p" && printf '@removed %s\n' "$p" ;;
    notify) for h in $val; do : > "$S/pending/$h"; printf '@notify %s\n' "$h"; done ;;
  esac
done < "$M"
mv -f -- "$M" "$M.rolled-back"
printf '@rolled-back\n'
