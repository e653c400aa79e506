#!/bin/sh
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
# shellcheck source=prologue.sh
. ./prologue.sh
# shellcheck source=account.sh
. ./account.sh
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

# @steps
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
