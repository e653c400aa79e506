#!/bin/sh
# dasprov: restart one node and wait until it is healthy, all on the host, in one exec.
#
# Healthy means: the old PID is gone; the port is closed once the old process has exited (a port
# that never closed proves nothing) and open again; and the start-up line appears in the log
# after the restart began. On success the pending-restart marker is removed.
#
# Parameters: H (the handler: names the pending marker), START (the start command, one quoted
# command line), STOP (the stop command, or empty: TERM the old PID), PIDFILE, LOG, LINE (the
# start-up line), ADDR, PORT (the health port, or empty), TIMEOUT (seconds).
# Output: `@begin`, `@stopped`, `@started`, `@port-open`, `@log-line`, `@healthy SECONDS`, or
# `@fail MESSAGE`.
: "${H:?}" "${START:?}" "${TIMEOUT:?}" "${ADDR:?}"
STOP=${STOP-} PIDFILE=${PIDFILE-} LOG=${LOG-} LINE=${LINE-} PORT=${PORT-}
# shellcheck source=prologue.sh
. ./prologue.sh
fail() { printf '@fail %s\n' "$1"; exit 1; }
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
old=""; [ -n "$PIDFILE" ] && [ -f "$PIDFILE" ] && old=$(cat -- "$PIDFILE" 2>/dev/null)
logsize=0; [ -n "$LOG" ] && [ -f "$LOG" ] && logsize=$(stat -c %s -- "$LOG")
mkdir -p -- "$S"
printf '@begin %s old=%s\n' "$begin" "${old:-none}"
if [ -n "$STOP" ]; then
  if [ -n "$old" ] && kill -0 "$old" 2>/dev/null; then
    eval "$STOP" </dev/null >>"$S/last-restart.log" 2>&1 || fail "the stop command failed with status $?"
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
eval "$START" </dev/null >>"$S/last-restart.log" 2>&1 || fail "the start command failed with status $? (see $S/last-restart.log)"
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
