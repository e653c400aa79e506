#!/bin/sh
H=restart
START='/opt/wso2das/bin/wso2server.sh start -receiverNode'
STOP='/opt/wso2das/bin/wso2server.sh stop'
PIDFILE=/opt/wso2das/wso2carbon.pid
LOG=/opt/wso2das/repository/logs/wso2carbon.log
LINE='WSO2 Carbon started'
ADDR=10.0.0.5
PORT=9443
TIMEOUT=300
# dasprov: restart one node and wait until it is healthy, all on the host, in one exec.
#
# Healthy means: the old PID is gone; the port is closed once the old process has exited (a port
# that never closed proves nothing) and open again; and the start-up line appears in the log
# after the restart began. On success the pending-restart marker is removed.
#
# With an account (ACCOUNT_HOME set), the server is started as its user with JAVA_HOME passed
# explicitly (account.sh): a running server is stopped as whoever owns its process, and the
# runtime paths it owns (`owns` steps) are given to the user before the start, so a node that
# once ran as root moves to its service user. dasprov's own state stays where it is.
#
# Parameters: H (the handler: names the pending marker), START (the start command, one quoted
# command line), STOP (the stop command, or empty: TERM the old PID), PIDFILE, LOG, LINE (the
# start-up line), ADDR, PORT (the health port, or empty), TIMEOUT (seconds); ACCOUNT_HOME,
# RUN_AS, JAVA_HOME_DIR (see account.sh; ACCOUNT_HOME empty: commands run as this program's user
# in its environment).
# Steps: owns PATH (absolute, or relative to ACCOUNT_HOME).
# Output: `@begin`, `@stopped`, `@owned PATH`, `@started`, `@port-open`, `@log-line`,
# `@healthy SECONDS`, or `@log-error LINE`… then `@fail MESSAGE`.
: "${H:?}" "${START:?}" "${TIMEOUT:?}" "${ADDR:?}"
STOP=${STOP-} PIDFILE=${PIDFILE-} LOG=${LOG-} LINE=${LINE-} PORT=${PORT-}
ACCOUNT_HOME=${ACCOUNT_HOME-} RUN_AS=${RUN_AS-} JAVA_HOME_DIR=${JAVA_HOME_DIR-}
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
logsize=0
# The last ERROR lines the server logged since the restart began, then why the gate failed.
fail() {
  if [ -n "$LOG" ] && [ -f "$LOG" ]; then
    tail -c +"$((logsize + 1))" -- "$LOG" 2>/dev/null | grep -F ' ERROR ' | tail -n 3 | while IFS= read -r l; do printf '@log-error %s\n' "$l"; done
  fi
  printf '@fail %s\n' "$1"
  exit 1
}
owned=
owns() { owned="$owned$1
"; }
now() { date +%s; }
begin=$(now); deadline=$((begin + TIMEOUT))
expired() { [ "$(now)" -ge "$deadline" ]; }
port_open() {
  if command -v bash >/dev/null 2>&1; then
    # shellcheck disable=SC2016 # $0 and $1 are bash's, not this shell's
    bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$ADDR" "$PORT" 2>/dev/null
  else
    hex=$(printf '%04X' "$PORT"); grep -q ":$hex [0-9A-F:]* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
  fi
}
# Runs a command line as USER with the account's JAVA_HOME, or as is without an account.
run_server() {
  if [ -n "$ACCOUNT_HOME" ]; then as_server_user "$1" "$acct_java_home" "$2"; else eval "$2"; fi
}

old=""; [ -n "$PIDFILE" ] && [ -f "$PIDFILE" ] && old=$(cat -- "$PIDFILE" 2>/dev/null)
[ -n "$LOG" ] && [ -f "$LOG" ] && logsize=$(stat -c %s -- "$LOG")
if [ -n "$ACCOUNT_HOME" ]; then
  service_account "$ACCOUNT_HOME" "$RUN_AS" "$JAVA_HOME_DIR"
  [ -z "$acct_problem" ] || fail "$acct_problem"
fi
mkdir -p -- "$S"
printf '@begin %s old=%s\n' "$begin" "${old:-none}"
if [ -n "$STOP" ]; then
  if [ -n "$old" ] && kill -0 "$old" 2>/dev/null; then
    # As whoever runs the server now: root, if it was started as root before.
    owner=; [ -n "$ACCOUNT_HOME" ] && owner=$(stat -c %U -- "/proc/$old" 2>/dev/null)
    run_server "${owner:-${acct_user:-}}" "$STOP" </dev/null >>"$S/last-restart.log" 2>&1 || fail "the stop command failed with status $?"
  fi
elif [ -n "$old" ]; then
  kill -TERM "$old" 2>/dev/null
fi
if [ -n "$old" ]; then
  while kill -0 "$old" 2>/dev/null; do expired && fail "the old process $old did not exit within ${TIMEOUT}s"; sleep 0.1; done
fi
printf '@stopped\n'
if [ -n "$PORT" ]; then
  while port_open; do expired && fail "port $PORT on $ADDR stayed open after the old process exited (another process holds it?)"; sleep 0.1; done
fi
if [ -n "$ACCOUNT_HOME" ] && [ "$(id -u)" = 0 ] && [ "$acct_user" != root ]; then
  printf '%s' "$owned" | while IFS= read -r p; do
    [ -n "$p" ] || continue
    case $p in /*) ;; *) p=$ACCOUNT_HOME/$p ;; esac
    if [ -e "$p" ] && [ -n "$(find "$p" ! -user "$acct_user" -print 2>/dev/null | head -n 1)" ]; then
      chown -R -- "$acct_user:" "$p" && printf '@owned %s\n' "$p"
    fi
  done
fi
run_server "${acct_user:-}" "$START" </dev/null >>"$S/last-restart.log" 2>&1 || fail "the start command failed with status $? (see $S/last-restart.log)"
printf '@started\n'
if [ -n "$PORT" ]; then
  until port_open; do expired && fail "port $PORT on $ADDR did not open within ${TIMEOUT}s"; sleep 0.1; done
  printf '@port-open\n'
fi
if [ -n "$LOG" ]; then
  while :; do
    if [ -f "$LOG" ]; then
      size=$(stat -c %s -- "$LOG"); from=$((logsize + 1)); [ "$size" -lt "$logsize" ] && from=1
      tail -c +"$from" -- "$LOG" | grep -qF -- "$LINE" && break
    fi
    expired && fail "'$LINE' did not appear in $LOG within ${TIMEOUT}s"
    sleep 0.1
  done
  printf '@log-line\n'
fi
rm -f -- "$S/pending/$H"
printf '@healthy %s\n' "$(( $(now) - begin ))"
