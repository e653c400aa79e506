#!/bin/sh
E=@end-1-2-3-4
CAT_LIMIT=16777216
# dasprov: gather facts (read-only).
#
# A run's first round trip (the survey) reports the OS, pending restarts, the record of what
# dasprov last wrote here, and what the plan needs about every path — type, mode, owner, size,
# link target, and the SHA-256 of files — but no file contents, in a handful of processes
# whatever the number of paths: one `find`, one `sha256sum`. A file whose digest and inputs
# match the record is as dasprov left it, and its plan needs nothing more; the contents of the
# others come in a second round trip (facts_find and facts_cat alone). Forks, then bytes, are
# what cost time here: a no-op sends digests, not files.
#
# Binary sections (NUL-separated names, file contents, probe output) come raw, each ended by a
# newline and a line holding the marker E, drawn at random for each run: no file on the host can
# hold it by chance. Raw, not base64: no encoder process per section, no decoding on the
# controller, a third fewer bytes.
#
# Parameters: E (the end marker), CAT_LIMIT (bytes of contents at most).
# Steps: host_facts, records, facts_find PATH…, facts_sha PATH…, facts_cat PATH…,
#        facts_list INDEX PATH, probe INDEX ARGV…, probe_output INDEX ARGV…, addresses,
#        account NAME HOME USER JAVA_HOME (a server's account: account.sh).
: "${E:?}" "${CAT_LIMIT:?}"
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
# Included by facts.sh and restart.sh: who a server runs as, and with which JAVA_HOME (FACTS.md
# §10: wso2server.sh needs JAVA_HOME, and `sudo` drops it from the environment).
#
# service_account HOME USER JAVA_HOME: USER empty means the owner of HOME, which must not be
# root (a USER of root, given on purpose, is allowed); JAVA_HOME empty means the one USER's login
# environment sets (/etc/profile and its own profile, as `runuser -l` reads them), which must be
# a directory holding bin/java. Sets acct_owner, acct_user, acct_java_home, and acct_problem
# (empty when the server can be started so).
service_account() {
  acct_owner=$(stat -c %U -- "$1" 2>/dev/null) || acct_owner=
  acct_user=${2:-$acct_owner}
  acct_java_home=$3
  acct_problem=
  if [ -z "$acct_owner" ]; then acct_problem="$1 does not exist"; return; fi
  if [ -z "$2" ] && [ "$acct_owner" = root ]; then
    acct_problem="$1 belongs to root, so DAS would run as root: set das_user to its service user (or das_user=root to run it as root on purpose)"
    return
  fi
  acct_uid=$(id -u -- "$acct_user" 2>/dev/null) || { acct_problem="user $acct_user does not exist"; return; }
  if [ -z "$acct_java_home" ]; then
    # shellcheck disable=SC2016 # expanded by the user's login shell, not here
    acct_java_home=$(as_login_shell "$acct_user" 'printf %s "${JAVA_HOME:-}"' 2>/dev/null) || acct_java_home=
    if [ -z "$acct_java_home" ]; then
      acct_problem="no JAVA_HOME for $acct_user: das_java_home is not set and $acct_user's login environment sets none (set das_java_home to a JDK directory)"
      return
    fi
  fi
  if [ ! -x "$acct_java_home/bin/java" ]; then
    acct_problem="JAVA_HOME $acct_java_home of $acct_user holds no bin/java (set das_java_home to a JDK directory)"
  fi
}
# as_login_shell USER SCRIPT: SCRIPT in a login /bin/sh of USER (service users' own shells are
# often nologin, hence -s). From root with runuser; as USER itself directly; else through sudo.
# This program's effective UID is read from /proc with built-ins, and its user name is asked of
# `id` only when that UID is USER's (acct_uid): every fork here is paid on every host of every
# run, a no-op's included.
as_login_shell() {
  acct_self=; while read -r acct_k _ acct_e _; do [ "$acct_k" = Uid: ] && { acct_self=$acct_e; break; }; done 2>/dev/null </proc/self/status
  [ -n "$acct_self" ] || acct_self=$(id -u)
  if [ "$acct_self" = "${acct_uid:-}" ] && [ "$(id -un)" = "$1" ]; then sh -lc "$2"
  elif [ "$acct_self" = 0 ] && command -v runuser >/dev/null 2>&1; then runuser -l "$1" -s /bin/sh -c "$2"
  else sudo -n -u "$1" sh -lc "$2"
  fi
}
# as_server_user USER JAVA_HOME COMMAND: COMMAND (one quoted command line) as USER, from /, with
# JAVA_HOME set explicitly. USER empty: as this program's own user.
as_server_user() {
  set -- "$1" env "JAVA_HOME=$2" sh -c "$3"
  if [ -z "$1" ] || [ "$(id -un)" = "$1" ]; then shift; (cd / && "$@")
  elif [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1; then u=$1; shift; (cd / && runuser -u "$u" -- "$@")
  else u=$1; shift; (cd / && sudo -n -u "$u" -- "$@")
  fi
}
printf '@raw %s\n' "$E"

# The state directory, the OS (only the os-release keys the controller reads), host name, user,
# and the restarts still owed from an earlier run.
host_facts() {
  printf '@state %s\n' "$S"
  f=/etc/os-release; [ -r "$f" ] || f=/usr/lib/os-release
  printf '@os\n'
  while IFS= read -r l || [ -n "$l" ]; do
    case $l in ID=* | ID_LIKE=* | VERSION_ID=* | PRETTY_NAME=*) printf '%s\n' "$l" ;; esac
  done < "$f" 2>/dev/null
  printf '@end\n'
  h=; read -r h < /proc/sys/kernel/hostname 2>/dev/null || h=$(uname -n); printf '@hostname %s\n' "$h"
  printf '@user %s\n' "${USER:-${LOGNAME:-$(id -un)}}"
  printf '@pending\n'; for f in "$S"/pending/*; do [ -e "$f" ] && printf '%s\n' "${f##*/}"; done; printf '@end\n'
}

# What dasprov last wrote here: $S/records, one `TAG KEY DIGEST` line per file (digests only),
# read with built-ins.
records() {
  printf '@records\n'
  if [ -r "$S/records" ]; then
    while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < "$S/records"
  fi
  printf '@end\n'
}

# Ends a raw section: a newline (the section may not end with one), then the marker line.
end_raw() { printf '\n%s\n' "$E"; }

# %y type (f d l …), %m mode, %u %g owner, %s size, %l link target; NUL-separated, so any byte
# in a name is safe. Missing paths print nothing.
facts_find() { printf '@find\n'; find "$@" -maxdepth 0 -printf '%p\0%y\0%m\0%u\0%g\0%s\0%l\0' 2>/dev/null; end_raw; }

# Plain sha256sum (not -z, which coreutils before 8.27 lacks): a name with a backslash or a
# newline comes escaped, on a line that starts with a backslash.
facts_sha() { printf '@sha\n'; sha256sum -- "$@" 2>/dev/null; end_raw; }

# The regular files among the paths, one after another; their sizes come from facts_find.
facts_cat() { printf '@cat\n'; cat -- "$@" 2>/dev/null | head -c "$CAT_LIMIT"; end_raw; }

# The files under a directory, relative to it, NUL-separated.
facts_list() { printf '@list %s\n' "$1"; find "$2" -mindepth 1 -type f -printf '%P\0' 2>/dev/null; end_raw; }

# A guard command's exit status; probe_output also sends what it printed.
probe() { i=$1; shift; ( "$@" ) </dev/null >/dev/null 2>&1; printf '@probe %s %s\n' "$i" "$?"; }
probe_output() { i=$1; shift; printf '@probeout %s\n' "$i"; ( "$@" ) </dev/null 2>/dev/null; st=$?; end_raw; printf '@probe %s %s\n' "$i" "$st"; }

addresses() { printf '@addresses %s\n' "$(hostname -I 2>/dev/null)"; }

# Who server NAME would run as: its home's owner, the user, JAVA_HOME, and the problem (one line
# each, the last empty when there is none), then @end.
account() {
  service_account "$2" "$3" "$4"
  printf '@account %s\n%s\n%s\n%s\n%s\n@end\n' "$1" "$acct_owner" "$acct_user" "$acct_java_home" "$acct_problem"
}

host_facts
records
facts_find /opt/wso2das-3.1.0/repository/conf/carbon.xml /opt/wso2das '/opt/it'\''s here/$(x)' /opt/wso2das-3.1.0/repository/deployment/server/carbonapps
facts_sha /opt/wso2das-3.1.0/repository/conf/carbon.xml '/opt/it'\''s here/$(x)'
facts_list 3 /opt/wso2das-3.1.0/repository/deployment/server/carbonapps
probe 0 test -x /usr/bin/mysql
probe_output 1 mysql -e 'SHOW DATABASES'
printf '@done\n'
