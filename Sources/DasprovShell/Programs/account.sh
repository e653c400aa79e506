# shellcheck shell=sh disable=SC2034 # the acct_* results are for the program that includes this file
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
