#!/usr/bin/env bash
# The sandbox's own test: real hosts, separate filesystems, the stand-in DAS server's behaviour
# (including what makes it fail at start like the product), and a clean teardown. Uses its own
# state directory and addresses (127.0.7.x), so it never touches a demo sandbox. Exits non-zero
# on the first failed check.
# shellcheck disable=SC2016  # single-quoted commands and values are expanded on the hosts, or never
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=/var/tmp/dasprov-sandbox-check
net=127.0.7
sb() { bash "$here/sandbox.sh" "$@" --state "$state"; }
trap 'sb down >/dev/null 2>&1 || true' EXIT
ok() { echo "  ok: $*"; }
fail() { echo "  FAILED: $*" >&2; exit 1; }
on() { local i=$1; shift; ssh -n -i "$state/id_ed25519" -o UserKnownHostsFile="$state/known_hosts" -o StrictHostKeyChecking=yes \
  -o IdentitiesOnly=yes -o BatchMode=yes "root@$net.$((10 + i))" "$@"; }
addr() { echo "$net.$((10 + $1))"; }

sb down >/dev/null 2>&1 || true
rm -rf "$state"
sb up --hosts 8 --net "$net" --start-delay 0.5 >/dev/null
ok "8 hosts up"

expected=(rhel debian rocky ubuntu centos debian ol ubuntu)
for i in 1 2 3 4 5 6 7 8; do
  id=$(on "$i" '. /etc/os-release; echo "$ID"')
  [[ $id == "${expected[$((i - 1))]}" ]] || fail "host$i says ID=$id, expected ${expected[$((i - 1))]}"
  [[ $(on "$i" hostname) == "host$i" ]] || fail "host$i has the wrong hostname"
done
ok "every host answers over ssh (strict host key checking) with its own os-release and hostname"
on 1 'test -f /etc/redhat-release' || fail "rhel host has no /etc/redhat-release"
on 2 'test ! -f /etc/redhat-release' || fail "debian host has /etc/redhat-release"
ok "RedHat-family hosts have /etc/redhat-release, Debian-family hosts do not"

on 3 'echo three > /opt/only-on-3'
on 4 'test ! -e /opt/only-on-3' || fail "a file written on host3 is visible on host4"
[[ ! -e /opt/only-on-3 ]] || fail "a file written on host3 is visible on the real machine"
[[ -f $state/hosts/host3/opt/only-on-3 ]] || fail "host3's /opt is not at $state/hosts/host3/opt"
ok "a file written on host3 is on neither host4 nor the real machine"

[[ $(ssh -n -i "$state/id_ed25519" -o UserKnownHostsFile="$state/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes \
  "dasuser@$(addr 2)" 'sudo -n id -u') == 0 ]] || fail "dasuser cannot sudo without a password"
ok "the non-root user has passwordless sudo"

das=/opt/wso2das-3.1.0
login_jdk=/opt/java/jdk1.8.0-standin   # hosts 1, 3, 6, 8: JAVA_HOME from the login environment
other_jdk=/opt/jdk1.8.0-standin        # hosts 2, 4, 5, 7: das_java_home in the inventory
jar=$state/files/mysql-connector-java-5.1.49-standin.jar
probe() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
# A command as the service user: with JAVA_HOME from its login environment, or given explicitly.
as_login() { local i=$1; shift; on "$i" "runuser -l wso2 -s /bin/sh -c $(printf %q "$*")"; }
as_wso2() { local i=$1; shift; on "$i" "runuser -u wso2 -- env JAVA_HOME=$other_jdk $*"; }
jdk_of() { case $1 in 1|3|6|8) echo "$login_jdk" ;; *) echo "$other_jdk" ;; esac; }
# As the service user, with JAVA_HOME as dasprov finds it on host I: login environment or inventory.
as_das() { if [[ $(jdk_of "$1") == "$login_jdk" ]]; then as_login "$@"; else as_wso2 "$@"; fi; }
carbon_log() { echo "$state/hosts/host$1$das/repository/logs/wso2carbon.log"; }
starts_log() { echo "$state/hosts/host$1$das/repository/logs/starts.log"; }
lines() { if [[ -f $1 ]]; then wc -l < "$1"; else echo 0; fi; }
# Waits (up to 10 s) for a line matching the pattern in host I's wso2carbon.log after line N.
await() {
  local f; f=$(carbon_log "$1")
  for _ in $(seq 1 100); do tail -n "+$(($2 + 1))" "$f" 2>/dev/null | grep -qE -- "$3" && return 0; sleep 0.1; done
  fail "host$1 never logged /$3/; its log since the start: $(tail -n "+$(($2 + 1))" "$f" 2>/dev/null)"
}
# Host I's start failed: its log has the pattern, no start-up line, and nothing listens on 9443.
refused_start() {
  await "$1" "$2" "$3"
  local f; f=$(carbon_log "$1")
  ! tail -n "+$(($2 + 1))" "$f" | grep -q 'WSO2 Carbon started' || fail "host$1 logged 'WSO2 Carbon started' after an ERROR"
  ! probe "$(addr "$1")" 9443 || fail "host$1 listens on 9443 after a failed start"
}
# Rewrites a datasource of host I's analytics-datasources.xml (url user password driver).
datasource() {
  python3 - "$state/hosts/host$1$das/repository/conf/datasources/analytics-datasources.xml" "${@:2}" <<'PY'
import sys, xml.etree.ElementTree as ET
path, name, url, user, password, driver = sys.argv[1:]
tree = ET.parse(path)
for ds in tree.getroot().iterfind("datasources/datasource"):
    if ds.findtext("name") == name:
        conf = ds.find("definition/configuration")
        for tag, value in (("url", url), ("username", user), ("password", password), ("driverClassName", driver)):
            conf.find(tag).text = value
tree.write(path)
PY
}

# The service user, its JDK and JAVA_HOME, the connector jar, the database's connection limit.
# One session per host, all at once: wso2's login JAVA_HOME, then what its JDK's java -version says.
for i in 1 2 3 4 5 6 7 8; do
  on "$i" "runuser -l wso2 -s /bin/sh -c 'echo \"\$JAVA_HOME\"'; $(jdk_of "$i")/bin/java -version 2>&1 | head -1" > "$state/java$i" &
done
wait
for i in 1 2 3 4 5 6 7 8; do
  root=$state/hosts/host$i jdk=$(jdk_of "$i")
  [[ -z $(find "$root$das" ! -uid 1600 -o ! -gid 1600) ]] || fail "host$i's DAS home has files not owned by wso2:wso2"
  [[ $(grep '^wso2:' "$root/etc/passwd" | cut -d: -f3,6,7) == "1600:/opt/home/wso2:/usr/sbin/nologin" ]] || fail "host$i has no service user wso2 (uid 1600, nologin)"
  { read -r java_home; read -r version; } < "$state/java$i"
  if [[ $jdk == "$login_jdk" ]]; then
    [[ $java_home == "$login_jdk" ]] || fail "host$i: wso2's login JAVA_HOME is '$java_home', expected $login_jdk"
    ! grep -q "^host$i .*das_java_home" "$state/inventory.ini" || fail "host$i has das_java_home in the inventory"
  else
    [[ -z $java_home ]] || fail "host$i: wso2's login environment has JAVA_HOME=$java_home, expected none"
    grep -q "^host$i .* das_java_home=$other_jdk\$" "$state/inventory.ini" || fail "host$i has no das_java_home=$other_jdk in the inventory"
  fi
  [[ $version == 'java version "1.8.0'* ]] || fail "host$i: $jdk/bin/java -version says '$version'"
  [[ -z $(ls -A "$root$das/repository/components/lib") ]] || fail "host$i's DAS home already has jars in components/lib"
done
[[ $(on 1 'sudo -n -u wso2 sh -lc "echo \$JAVA_HOME"') == "$login_jdk" ]] || fail "sudo -u wso2 sh -l does not see JAVA_HOME"
ok "DAS homes belong to wso2 (uid 1600, nologin); JAVA_HOME from the login environment on hosts 1 3 6 8, das_java_home in the inventory for 2 4 5 7"
grep -qxF "mysql_jdbc_jar=$jar" "$state/inventory.ini" || fail "the inventory does not name the connector jar"
python3 -m zipfile -l "$jar" | grep -q 'com/mysql/jdbc/Driver.class' || fail "$jar has no com/mysql/jdbc/Driver.class"
python3 "$here/standin-connector-jar.py" "$state/files/again.jar"
cmp -s "$jar" "$state/files/again.jar" || fail "the stand-in connector jar is not the same bytes twice"
rm -f "$state/files/again.jar"
sock=$state/hosts/host0/run-mysqld/mysqld.sock
[[ $(mariadb --socket="$sock" -N -e 'SELECT @@max_connections') -ge 1600 ]] || fail "MariaDB's max_connections is below 8 nodes x 4 datasources x 50"
ok "the stand-in connector jar (same bytes each time) is in STATE/files and named by mysql_jdbc_jar; max_connections >= 1600"

# The product script's refusals without a usable JAVA_HOME: exit 1, its messages, nothing started.
before=$(lines "$(starts_log 1)")
out=$(on 1 "$das/bin/wso2server.sh --start -receiverNode") && fail "a start without JAVA_HOME succeeded"
[[ $out == *"Error: JAVA_HOME is not defined correctly."*" CARBON cannot execute java"* ]] || fail "a start without JAVA_HOME said: $out"
out=$(on 1 "JAVA_HOME=/opt/no-jdk $das/bin/wso2server.sh --start") && fail "a start with a JAVA_HOME without bin/java succeeded"
[[ $out == *" CARBON cannot execute /opt/no-jdk/bin/java"* ]] || fail "a start with a wrong JAVA_HOME said: $out"
out=$(on 1 "cd $login_jdk/bin && $das/bin/wso2server.sh --start") && fail "a start without JAVA_HOME from a directory holding java succeeded"
[[ $out == *"You must set the JAVA_HOME variable before running CARBON."* ]] || fail "a start without JAVA_HOME (java in the current directory) said: $out"
on 1 "$das/bin/wso2server.sh --stop" >/dev/null && fail "a stop without JAVA_HOME succeeded"
[[ $(lines "$(starts_log 1)") == "$before" && ! -e $state/hosts/host1$das/wso2carbon.pid ]] || fail "a refused start started something"
ok "without JAVA_HOME/bin/java every command exits 1 with the product script's messages"

# A 3 s delay for this start, so a loaded machine cannot make the early probe late.
as_wso2 5 "DASPROV_FAKE_START_DELAY=3 $das/bin/wso2server.sh --start -receiverNode" >/dev/null
probe "$(addr 5)" 9443 && fail "the stand-in server listened before its start delay"
for _ in $(seq 1 80); do probe "$(addr 5)" 9443 && break; sleep 0.1; done
probe "$(addr 5)" 9443 || fail "the stand-in server never listened on 9443"
grep -q 'WSO2 Carbon started' "$(carbon_log 5)" || fail "no start-up line in wso2carbon.log"
grep -q "profile=-receiverNode offset=0 .* user=wso2 uid=1600 java_home=$other_jdk\$" "$(starts_log 5)" || fail "the start was not recorded with its user and JAVA_HOME: $(cat "$(starts_log 5)")"
[[ $(on 5 "ps -o user= -p \$(cat $das/wso2carbon.pid)") == wso2 ]] || fail "the server does not run as wso2"
ok "started as wso2 (JAVA_HOME given): listens only after its delay, logs 'WSO2 Carbon started', records user, uid and JAVA_HOME"

as_wso2 5 "$das/bin/wso2server.sh --start" | grep -q "already running" || fail "a second start did not say 'Process is already running'"
as_wso2 5 "$das/bin/wso2server.sh --restart -analyzerNode -DportOffset=2" >/dev/null
for _ in $(seq 1 40); do probe "$(addr 5)" 9445 && break; sleep 0.1; done
probe "$(addr 5)" 9445 || fail "after restart with -DportOffset=2 nothing listens on 9445"
tail -1 "$(starts_log 5)" | grep -q 'profile=-analyzerNode offset=2' || fail "restart did not keep profile and offset"
ok "restart waits for the old process and starts with the given profile and -DportOffset"

on 6 "ln -s $das /opt/wso2das"
as_login 6 "/opt/wso2das/bin/wso2server.sh --start" >/dev/null
await 6 0 'WSO2 Carbon started'
grep -q "carbon_home=/opt/wso2das .* java_home=$login_jdk\$" "$(starts_log 6)" || fail "CARBON_HOME through a symlinked home is not the link path, or JAVA_HOME not the login one"
as_login 6 "CARBON_HOME=/opt/wso2das-3.1.0 $das/bin/wso2server.sh --version" >/dev/null
ok "a DAS home reached through a symlink runs with CARBON_HOME = the link, as the product script does (login JAVA_HOME)"

# Start-up failures, several hosts at once. A MySQL datasource of the sandbox's MariaDB, with
# users made over the socket: one with a plain password, one whose password holds ${user.home}.
mariadb --socket="$sock" <<'SQL'
CREATE DATABASE standin_check;
CREATE USER 'standin'@'127.0.0.1' IDENTIFIED BY 'Standin-Pw1';
CREATE USER 'standin_home'@'127.0.0.1' IDENTIFIED BY 'Home-${user.home}';
GRANT ALL ON standin_check.* TO 'standin'@'127.0.0.1';
GRANT ALL ON standin_check.* TO 'standin_home'@'127.0.0.1';
SQL
url="jdbc:mysql://$(addr 0):3306/standin_check"
event=WSO2_ANALYTICS_EVENT_STORE_DB processed=WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB
for i in 2 3 4 7 8; do datasource "$i" "$event" "$url" standin Standin-Pw1 com.mysql.jdbc.Driver; done
python3 "$here/standin-connector-jar.py" "$state/hosts/host3$das/repository/components/lib/mysql-connector-java-5.1.49.jar" --without-driver
for i in 4 7 8; do install -m 0644 "$jar" "$state/hosts/host$i$das/repository/components/lib/"; done
datasource 7 "$event" "$url" standin Wrong-Pw com.mysql.jdbc.Driver
datasource 8 "$event" "$url" standin_home 'Home-${user.home}' com.mysql.jdbc.Driver
declare -A from
for i in 2 3 4 7 8; do from[$i]=$(lines "$(carbon_log "$i")"); done
for i in 2 3 4 7 8; do as_das "$i" "$das/bin/wso2server.sh --start -indexerNode" >/dev/null & done
wait
cnf="ClassNotFoundException: com.mysql.jdbc.Driver"
refused_start 2 "${from[2]}" "ERROR \{org\.wso2\.carbon\.ndatasource.*$event.*Cannot load JDBC driver class 'com\.mysql\.jdbc\.Driver'.*$cnf"
ok "no connector in components/lib: ERROR with $cnf, no start-up line, port closed"
refused_start 3 "${from[3]}" "ERROR .*$event.*$cnf"
ok "a jar named mysql-connector-java-5.1.49.jar without the driver class: the same ERROR"
await 4 "${from[4]}" 'WSO2 Carbon started'
probe "$(addr 4)" 9443 || fail "host4 does not listen after a good start"
tail -1 "$(starts_log 4)" | grep -q "profile=-indexerNode .* user=wso2 uid=1600 java_home=$other_jdk\$" || fail "host4's start was not recorded as wso2 with its JAVA_HOME"
ok "connector in lib, MySQL login good: started as wso2, recorded with uid 1600 and java_home=$other_jdk"
refused_start 7 "${from[7]}" "ERROR .*$event.*Access denied for user 'standin'@'127\.0\.0\.1' \(using password: YES\)"
ok "a wrong database password: ERROR with MariaDB's login error"
refused_start 8 "${from[8]}" "ERROR .*$event.*Access denied for user 'standin_home'@'127\.0\.0\.1'"
ok "a password holding \${user.home} is expanded before the login, which fails"

# The hosts share this machine's process IDs: stop the failed servers from here, and wait until
# they are gone (reaped), since a start sees a leftover process as running.
failed=()
for i in 2 3 7 8; do failed+=("$(cat "$state/hosts/host$i$das/wso2carbon.pid")"); done
kill "${failed[@]}"
for p in "${failed[@]}"; do for _ in $(seq 1 100); do [[ -e /proc/$p ]] || break; sleep 0.05; done; done
# Round two: a '}' before '${'; a conf XML that does not parse; a tmp/ that a root start left
# behind; and ${user.home} expanded to wso2's home, the password the database now has.
install -m 0644 "$jar" "$state/hosts/host2$das/repository/components/lib/"
rm "$state/hosts/host3$das/repository/components/lib/"*.jar; install -m 0644 "$jar" "$state/hosts/host3$das/repository/components/lib/"
datasource 2 "$processed" "$url" standin 'Pw}x${user.home}' com.mysql.jdbc.Driver
echo '<unclosed>' >> "$state/hosts/host3$das/repository/conf/event-processor.xml"
datasource 7 "$event" "$url" standin Standin-Pw1 com.mysql.jdbc.Driver
mkdir -p "$state/hosts/host7$das/tmp/work"; chown -R root:root "$state/hosts/host7$das/tmp"
home8=$(as_login 8 'echo "$HOME"')
mariadb --socket="$sock" -e "ALTER USER 'standin_home'@'127.0.0.1' IDENTIFIED BY 'Home-$home8'"
for i in 2 3 7 8; do from[$i]=$(lines "$(carbon_log "$i")"); done
for i in 2 3 7 8; do as_das "$i" "$das/bin/wso2server.sh --start" >/dev/null & done
wait
refused_start 2 "${from[2]}" "ERROR .*$processed.*StringIndexOutOfBoundsException"
ok "a '}' before '\${' in a datasource value: ERROR, as Carbon's expansion throws"
refused_start 3 "${from[3]}" "ERROR .*event-processor\.xml.*SAXParseException"
ok "a conf XML file that does not parse: ERROR naming the file"
refused_start 7 "${from[7]}" "ERROR .*tmp/work.*Permission denied"
ok "a tmp/ left root-owned: ERROR, no start"
await 8 "${from[8]}" 'WSO2 Carbon started'
ok "the same \${user.home} password logs in once the database has it expanded to wso2's home ($home8)"

sb reset >/dev/null
for i in 1 2 3 4 5 6 7 8; do
  root=$state/hosts/host$i
  [[ -z $(find "$root$das" ! -uid 1600) && -z $(ls -A "$root$das/repository/components/lib") && ! -e $root$das/tmp ]] ||
    fail "host$i's DAS home is not a fresh wso2-owned home after reset"
  [[ -x $root$login_jdk/bin/java || -x $root$other_jdk/bin/java ]] || fail "host$i has no JDK after reset"
done
[[ -z $(mariadb --socket="$sock" -N -e "SELECT user FROM mysql.user WHERE user LIKE 'standin%'") && -f $jar ]] || fail "reset left the test's database users, or no connector jar"
ok "reset: fresh DAS homes owned by wso2, JDKs in place, the database emptied, the connector jar rewritten"

sb up --hosts 8 --net "$net" >/dev/null
sb status >/dev/null || fail "status reports a host down after a second 'up'"
ok "up twice is safe; status shows every host up"

pids=$(cut -f8 "$state/hosts.tsv" | grep -E '^[0-9]+$' | tr '\n' ' ')
das_pids="$(cat "$state"/hosts/host*/opt/wso2das-3.1.0/wso2carbon.pid 2>/dev/null | tr "\n" " " || true)"
sb down >/dev/null
sleep 0.3
for p in $pids $das_pids; do
  if [[ -d /proc/$p ]] && [[ $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]]; then fail "process $p is still running after down"; fi
done
if ss -ltn | grep -qF "$net."; then fail "something still listens on $net.x after down"; fi
for p in /proc/[0-9]*; do grep -qs "$state" "$p/mountinfo" && fail "a mount of the sandbox is still visible in $p"; done
ok "down leaves no sshd, stand-in server, listener or mount behind"
diff <(bash "$here/sandbox.sh" inventory) "$here/../Inventories/sandbox.ini" >/dev/null || fail "Inventories/sandbox.ini differs from what 'sandbox.sh up' writes for the defaults"
ok "Inventories/sandbox.ini is what 'up' writes for the default state and addresses"
echo "sandbox self-test passed"
