# shellcheck shell=sh disable=SC2034 # T and why are for the program that includes this file
# Included by the programs that replace files (apply, upload): the one way dasprov writes a file.
# A file is only ever replaced by rename(2) of a complete temporary file in the same directory,
# so an interrupted write leaves the old file whole. Each function returns non-zero with the
# reason in `why`; the caller decides how to report it.

# atomic_dir DEST: DEST's directory must exist (mktemp's own message says little).
atomic_dir() {
  why="directory $(dirname -- "$1") does not exist on host ${HOST:-this host}"
  [ -d "$(dirname -- "$1")" ]
}

# atomic_tmp DEST: sets T to a new temporary file beside DEST.
atomic_tmp() {
  atomic_dir "$1" || return 1
  why="cannot create a temporary file beside $1"
  T=$(mktemp -- "$(dirname -- "$1")/.$(basename -- "$1").dasprov-tmp-XXXXXX")
}

# atomic_attrs TMP DEST MODE OWNER GROUP: the mode and owner given; else the replaced file's;
# else, for a new file, the umask's mode and the writing user.
atomic_attrs() {
  why="cannot set the mode of $2"
  if [ -n "$3" ]; then chmod -- "$3" "$1" || return 1
  elif [ -e "$2" ]; then chmod -- "$(stat -L -c %a -- "$2")" "$1" || return 1
  else chmod -- "$(printf %o $((0666 & ~0$(umask))))" "$1" || return 1
  fi
  if [ -n "$4$5" ]; then
    why="cannot set the owner of $2 to $4${5:+:$5}"
    chown -- "$4${5:+:$5}" "$1" || return 1
  elif [ -e "$2" ]; then
    ao=$(stat -L -c %u:%g -- "$2") || return 1
    why="cannot keep the owner ($ao) of $2: run with become"
    [ "$ao" = "$(stat -c %u:%g -- "$1")" ] || chown -- "$ao" "$1" || return 1
  fi
  return 0
}

# atomic_commit TMP DEST: to disk, then renamed over DEST.
atomic_commit() {
  why="cannot rename $1 to $2"
  sync -- "$1" 2>/dev/null || sync
  mv -fT -- "$1" "$2"
}

# atomic_link TARGET DEST: DEST becomes a symbolic link to TARGET: a new link under a temporary
# name, renamed over DEST (-T: never into the directory an old link points to).
atomic_link() {
  why="cannot link $2"
  T="$(dirname -- "$2")/.$(basename -- "$2").dasprov-link-$$"
  if ln -sfn -- "$1" "$T" && mv -fT -- "$T" "$2"; then return 0; fi
  rm -f -- "$T"
  return 1
}
