#!/bin/sh
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
# shellcheck source=prologue.sh
. ./prologue.sh
# shellcheck source=account.sh
. ./account.sh
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

# @steps
printf '@done\n'
