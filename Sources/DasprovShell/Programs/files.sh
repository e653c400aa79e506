#!/bin/sh
# dasprov: the transport's own file operations where SFTP cannot do them (as root under become,
# or atomically): one step per program.
#
# Parameters: HOST (for messages).
# Output: stat_path prints "RAWMODE(hex) UID GID SIZE MTIME" or "missing"; the others print
# nothing; on failure a message on stderr and a non-zero exit status.
HOST=${HOST-}
# shellcheck source=atomic.sh
. ./atomic.sh

# stat_path PATH FOLLOW: the file's attributes (FOLLOW=1: of what a symlink points to).
stat_path() {
  if [ "$2" = 1 ]; then
    if [ -e "$1" ]; then exec stat -L -c '%f %u %g %s %Y' -- "$1"; fi
  elif [ -e "$1" ] || [ -L "$1" ]; then
    exec stat -c '%f %u %g %s %Y' -- "$1"
  fi
  echo missing
}

# link_path TARGET LINK REPLACE: LINK becomes a symlink to TARGET; REPLACE=1 swaps an existing
# one atomically, else an existing LINK is an error (-n: a link to a directory is a file here).
link_path() {
  if [ "$3" = 1 ]; then
    atomic_link "$1" "$2" || { printf 'dasprov: %s\n' "$why" >&2; exit 1; }
  else
    ln -sn -- "$1" "$2"
  fi
}

# make_directory PATH MODE: mkdir -p, then MODE (octal) when given.
make_directory() {
  mkdir -p -- "$1" || exit 1
  if [ -n "$2" ]; then chmod -- "$2" "$1" || exit 1; fi
}

# @steps
