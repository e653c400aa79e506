#!/bin/sh
RUN=20261204T120000000Z
HOST=host1
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

pending restart
write 0 /opt/wso2das-3.1.0/repository/conf/carbon.xml '' '' '' <<'DASPROV_1_ae9ec023e4960823'
PFNlcnZlcj4KICA8T2Zmc2V0PjA8L09mZnNldD4KPC9TZXJ2ZXI+Cg==
DASPROV_1_ae9ec023e4960823
upload 1 /opt/wso2das-3.1.0/repository/components/lib/mysql-connector.jar /var/lib/dasprov/staging/abababababababababababababababababababababababababababababababab abababababababababababababababababababababababababababababababab 644 wso2 wso2
link 2 /opt/wso2das /opt/wso2das-3.1.0
directory 3 /opt/wso2das-3.1.0/repository/deployment/server/carbonapps 755 '' ''
attributes 4 '/opt/it'\''s here' 640 wso2 ''
remove 5 /opt/wso2das-3.1.0/repository/deployment/server/carbonapps/Old.car '' backup
run_input 6 /tmp mysql --batch <<'DASPROV_7_81848989840227cc'
Q1JFQVRFIERBVEFCQVNFIHJlZ2RiOwo=
DASPROV_7_81848989840227cc
run 7 '' touch '/tmp/ran $(x)'
record 0123456789abcdef 4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a dbc1b4c900ffe48d575b5da5c638040125f65db0fe3e24494b76ea986457d986
printf '@applied\n'
