#!/bin/sh
# dasprov: make every change of one host, in order, each file atomically, with a backup of every
# file it replaces and a manifest so `dasprov rollback` can undo the run.
#
# Pending-restart markers are written first: if the run dies half-way, the next apply still
# restarts the node even though its files then look unchanged.
#
# Parameters: RUN (the run id: names backups and the manifest), HOST (the inventory name, for
# messages).
# Steps: pending HANDLER…; then per change I: write I PATH MODE OWNER GROUP (base64 on stdin),
#        upload I PATH STAGED SHA256 MODE OWNER GROUP, link I PATH TARGET,
#        directory I PATH MODE OWNER GROUP, attributes I PATH MODE OWNER GROUP,
#        remove I PATH RECURSIVE BACKUP, run I CHDIR ARGV…, run_input I CHDIR ARGV… (base64 on stdin);
#        last, record TAG KEY DIGEST… (after every change was made).
# Output: `@done I` per change made, `@fail I MESSAGE` (I is -1 for the run itself), `@applied`.
: "${RUN:?}" "${HOST:?}"
# shellcheck source=prologue.sh
. ./prologue.sh
# shellcheck source=atomic.sh
. ./atomic.sh
umask 022
T=
fail() { printf '@fail %s %s\n' "$1" "$2"; [ -n "$T" ] && rm -f -- "$T"; exit 1; }
done_() { T=; printf '@done %s\n' "$1"; }
mkdir -p -- "$S/pending" "$S/backups" || fail -1 "cannot create the state directory $S"
M="$S/backups/$RUN.manifest"

# Records what PATH was before this run (once per path), keeping a copy of a regular file.
# The five newest backups of a file are kept.
backup() {
  grep -qxF -- "path $1" "$M" 2>/dev/null && return 0
  if [ -f "$1" ] && [ ! -L "$1" ]; then
    cp -p -- "$1" "$1.dasprov-$RUN.bak" || fail "$2" "cannot back up $1"
    printf 'path %s\nbackup %s\n' "$1" "$1.dasprov-$RUN.bak" >> "$M"
    prune_backups "$1"
  elif [ -L "$1" ]; then
    printf 'path %s\nlink %s\n' "$1" "$(readlink -- "$1")" >> "$M"
  elif [ -e "$1" ]; then
    printf 'path %s\nkept\n' "$1" >> "$M"
  else
    printf 'path %s\nabsent\n' "$1" >> "$M"
  fi
}

# Removes all but the five newest backups of PATH (run ids sort by time, and so does the glob).
prune_backups() {
  set -- "$1".dasprov-*.bak
  [ -e "$1" ] || return 0
  n=$#
  for old in "$@"; do
    [ "$n" -le 5 ] && break
    rm -f -- "$old"; n=$((n - 1))
  done
}

pending() {
  for h in "$@"; do : > "$S/pending/$h" || fail -1 "cannot record a pending restart"; done
  printf 'notify %s\n' "$*" >> "$M"
}

write() {
  atomic_dir "$2" || fail "$1" "$why"
  backup "$2" "$1"
  atomic_tmp "$2" || fail "$1" "$why"
  base64 -d > "$T" || fail "$1" "cannot write $2 (disk full?)"
  atomic_attrs "$T" "$2" "$3" "$4" "$5" || fail "$1" "$why"
  atomic_commit "$T" "$2" || fail "$1" "$why"
  done_ "$1"
}

upload() {
  atomic_dir "$2" || fail "$1" "$why"
  backup "$2" "$1"
  atomic_tmp "$2" || fail "$1" "$why"
  cp -- "$3" "$T" || fail "$1" "cannot copy the staged upload for $2"
  [ "$(sha256sum < "$T" | cut -c1-64)" = "$4" ] || fail "$1" "checksum mismatch for $2"
  atomic_attrs "$T" "$2" "$5" "$6" "$7" || fail "$1" "$why"
  atomic_commit "$T" "$2" || fail "$1" "$why"
  rm -f -- "$3"
  done_ "$1"
}

link() {
  atomic_dir "$2" || fail "$1" "$why"
  backup "$2" "$1"
  atomic_link "$3" "$2" || fail "$1" "$why"
  done_ "$1"
}

directory() {
  mkdir -p -- "$2" || fail "$1" "cannot create directory $2"
  attributes "$@"
}

attributes() {
  if [ -n "$3" ]; then chmod -- "$3" "$2" || fail "$1" "cannot chmod $2"; fi
  if [ -n "$4$5" ]; then chown -- "$4${5:+:$5}" "$2" || fail "$1" "cannot chown $2"; fi
  done_ "$1"
}

remove() {
  if [ "$4" = backup ] && [ "$3" != recursive ]; then backup "$2" "$1"; fi
  if [ "$3" = recursive ]; then rm -rf -- "$2"; else rm -f -- "$2"; fi || fail "$1" "cannot remove $2"
  done_ "$1"
}

# A command, in CHDIR when given; its output goes to stderr (the controller shows its tail).
run() {
  i=$1; d=$2; shift 2
  ( if [ -n "$d" ]; then cd -- "$d" || exit; fi; exec "$@" ) </dev/null >&2 || fail "$i" "command exited with status $?"
  done_ "$i"
}

# The same, fed base64-decoded stdin: input travels inside this program, never on a command line.
run_input() {
  i=$1; d=$2; shift 2
  base64 -d | ( if [ -n "$d" ]; then cd -- "$d" || exit; fi; exec "$@" ) >&2 || fail "$i" "command exited with status $?"
  done_ "$i"
}

# Replaces the lines of these tags in $S/records, the record of what dasprov last wrote here
# (digests only; see facts.sh), atomically, with built-ins and one rename. It is only ever a
# shortcut for the next run: if it cannot be written, that run plans these files the slow way.
# Private (0600): a digest of a file with a password in it is only for those who may read it.
record() {
  R="$S/records"; N="$S/.records.$$"
  umask 077
  if {
    if [ -r "$R" ]; then
      while IFS=' ' read -r t k o; do
        [ -n "$t" ] || continue
        case " $* " in *" $t "*) ;; *) printf '%s %s %s\n' "$t" "$k" "$o" ;; esac
      done < "$R"
    fi
    while [ $# -ge 3 ]; do printf '%s %s %s\n' "$1" "$2" "$3"; shift 3; done
  } > "$N"; then mv -f -- "$N" "$R"; else rm -f -- "$N"; fi
  umask 022
}

# @steps
printf '@applied\n'
