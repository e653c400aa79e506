#!/bin/sh
# dasprov: pre-flight database check on a DAS node: TCP to the server, then — when a `mysql`
# client is installed — a login as the DAS user, and every database visible to it.
#
# The password reaches the client in a mode-0600 option file written from this program's
# standard input (never a command-line argument) and removed before the program ends.
#
# With a login it also reports the server's max_connections, and which of the tables TABLES
# names (schema.table) are missing: the caller warns about both.
#
# Parameters: H, P (server and port), U (the user, for messages), TO (timeout, seconds),
# DBS (databases, space-separated), TABLES (schema.table names, space-separated).
# Steps: check_database, the option file's text on stdin.
# Output: `@tcp-ok`, `@no-client`, `@login-ok`, `@max-connections N`, `@table-missing NAME`,
# `@ok`, or `@fail MESSAGE`.
: "${H:?}" "${P:?}" "${U:?}" "${TO:?}"
DBS=${DBS-} TABLES=${TABLES-}
fail() { printf '@fail %s\n' "$1"; exit 1; }

check_database() {
  if command -v bash >/dev/null 2>&1; then
    # shellcheck disable=SC2016 # $0 and $1 are bash's, not this shell's
    timeout "$TO" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$H" "$P" 2>/dev/null || fail "cannot reach the database at $H:$P (TCP)"
  elif command -v nc >/dev/null 2>&1; then
    nc -z -w "$TO" "$H" "$P" || fail "cannot reach the database at $H:$P (TCP)"
  fi
  printf '@tcp-ok\n'
  command -v mysql >/dev/null 2>&1 || { printf '@no-client\n@ok\n'; exit 0; }
  T=$(umask 077; mktemp) || fail "cannot create a temporary option file"
  trap 'rm -f -- "$T"' EXIT
  cat > "$T" || fail "cannot write the option file"
  out=$(mysql --defaults-extra-file="$T" -h "$H" -P "$P" --protocol=TCP --batch --skip-column-names -e 'SHOW DATABASES' 2>&1) \
    || fail "login as $U to $H:$P failed: $(printf '%s' "$out" | tail -n 1)"
  for d in $DBS; do printf '%s\n' "$out" | grep -qxF -- "$d" || fail "database $d is not visible to $U on $H:$P"; done
  printf '@login-ok\n'
  q="SELECT @@max_connections; SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables"
  if out=$(mysql --defaults-extra-file="$T" -h "$H" -P "$P" --protocol=TCP --batch --skip-column-names -e "$q" 2>/dev/null); then
    printf '@max-connections %s\n' "$(printf '%s\n' "$out" | head -n 1)"
    for t in $TABLES; do printf '%s\n' "$out" | grep -qxF -- "$t" || printf '@table-missing %s\n' "$t"; done
  fi
  printf '@ok\n'
}

# @steps
