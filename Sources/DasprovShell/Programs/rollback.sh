#!/bin/sh
# dasprov: roll back the last applied run: restore the files of the newest backup manifest and
# mark its handlers pending again.
#
# Output: `@manifest RUN`, `@restored PATH`, `@removed PATH`, `@notify HANDLER`, `@rolled-back`,
# `@nothing` (no manifest), or `@fail MESSAGE`.
# shellcheck source=prologue.sh
. ./prologue.sh
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
