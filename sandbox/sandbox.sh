#!/usr/bin/env bash
# dasprov sandbox: N real OpenSSH hosts on this machine, each with its own /opt, /root, /etc
# (a mount namespace per sshd), RedHat- and Debian-family, each with a stock DAS home whose
# bin/wso2server.sh starts a stand-in server. See docs/sandbox.md.
# The DAS homes belong to the service user wso2; each DAS host has a stand-in JDK; the stand-in
# MySQL connector jar that the inventory's mysql_jdbc_jar names is written to STATE/files/.
#
#   sandbox.sh up [--hosts N] [--state DIR] [--net A.B.C] [--das-pack DIR] [--start-delay S] [--no-db] [--private]
#   sandbox.sh down | status | reset [--das-pack DIR] | ssh I [command…]      (all take --state)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
state=${DASPROV_SANDBOX_DIR:-/var/tmp/dasprov-sandbox}
net=127.0.0
count=8
das_pack=""
start_delay=0.5
with_db=1
os_cycle=(rhel debian rocky ubuntu centos debian ol ubuntu)

die() { echo "sandbox: $*" >&2; exit 1; }

# With --private (sandbox/private-net.sh): the command prefix that enters the hosts' network
# namespace, and the ssh options that reach a host through the bastion.
private_net=0
net_exec=()
ssh_jump=()

# Closes every descriptor this script inherited beyond stdin, stdout and stderr, so no daemon
# it starts (sshd, MariaDB) keeps a pipe or socket of whoever ran it open: a caller waiting for
# that pipe's end, or for this script's exit, would wait as long as the daemon lives.
close_inherited_fds() {
  local fd
  for fd in /proc/"$$"/fd/*; do
    fd=${fd##*/}
    # 255 is bash's own descriptor for reading this script.
    if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2 && fd != 255)); then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

# The DAS service user: it owns every DAS home and has no login shell (runuser -s or sudo -u).
service_user=wso2
service_uid=1600
# Host i's stand-in JDK. On hosts 2, 4, 5 and 7 (i % 8; one host of each role's pair) it is
# /opt/jdk1.8.0-standin, which no login environment names: the inventory gives it as
# das_java_home on their inventory lines. On the others (1, 3, 6, 8) it is
# /opt/java/jdk1.8.0-standin and the login environment exports it as JAVA_HOME
# (/etc/profile.d/java.sh). Hosts 3, 6 and 8 keep bare inventory lines, which tests edit as they are.
login_java_home=/opt/java/jdk1.8.0-standin
other_java_home=/opt/jdk1.8.0-standin
has_login_java() { case $(($1 % 8)) in 2|4|5|7) return 1 ;; *) return 0 ;; esac; }
java_home_of() { if has_login_java "$1"; then echo "$login_java_home"; else echo "$other_java_home"; fi; }
# The stand-in MySQL connector (built by standin-connector-jar.py, never downloaded).
connector_name=mysql-connector-java-5.1.49-standin.jar
# shellcheck source-path=SCRIPTDIR source=private-net.sh
. "$here/private-net.sh"

# Reads the options shared by every subcommand; the rest stay in $rest.
parse_options() {
  rest=()
  while (($#)); do
    case "$1" in
      --hosts) count=$2; shift 2 ;;
      --state) state=$2; shift 2 ;;
      --net) net=$2; shift 2 ;;
      --das-pack) das_pack=$2; shift 2 ;;
      --start-delay) start_delay=$2; shift 2 ;;
      --no-db) with_db=0; shift ;;
      --private) private_net=1; shift ;;
      -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
      *) rest+=("$1"); shift ;;
    esac
  done
  if ! [[ $count =~ ^[0-9]+$ ]] || ((count < 1 || count > 200)); then die "--hosts must be a number from 1 to 200"; fi
  [[ $net =~ ^127\.[0-9]+\.[0-9]+$ ]] || die "--net must be three loopback octets such as 127.0.0 (only 127.0.0.0/8 is used)"
}

require_root() {
  [[ $(id -u) == 0 ]] || die "the sandbox needs root (mount namespaces, sshd on port 22): run it with sudo"
  [[ -x /usr/sbin/sshd ]] || die "sshd is missing: apt-get install openssh-server"
  command -v unshare >/dev/null || die "unshare is missing: apt-get install util-linux"
  command -v python3 >/dev/null || die "python3 is missing (the stand-in DAS server): apt-get install python3"
}

# Host 0 is the database host "db1" (Debian, MariaDB); hosts 1..N are the DAS nodes.
os_of() { if (($1 == 0)); then echo debian; else echo "${os_cycle[$((($1 - 1) % ${#os_cycle[@]}))]}"; fi; }
name_of() { if (($1 == 0)); then echo db1; else echo "host$1"; fi; }
family_of() { case $1 in rhel|centos|rocky|ol|almalinux|fedora) echo RedHat ;; *) echo Debian ;; esac; }

# Whether addr:port can be bound right now (nothing else listens there).
can_bind() {
  "${net_exec[@]}" python3 - "$1" "$2" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
PY
}

# Host i listens on <net>.(10+i):22, or on 127.0.0.1:(2200+i) when that cannot be bound.
endpoint() {
  local i=$1; local addr="$net.$((10 + i))"
  if [[ -f $state/hosts/host$i/endpoint ]]; then cat "$state/hosts/host$i/endpoint"; return; fi
  if can_bind "$addr" 22; then echo "$addr 22"; else echo "127.0.0.1 $((2200 + i))"; fi
}

# The PID of host i's sshd, only if that process is still ours: alive, running this host's
# sshd config, in a mount namespace of its own. A recorded PID the system has since given to
# another process must never be mistaken for the host (down would otherwise kill it).
sshd_pid() {
  local f=$state/run/host$1.pid pid
  [[ -f $f ]] || return 1
  pid=$(cat "$f")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$state/sshd/host$1.conf" || return 1
  [[ $(readlink "/proc/$pid/ns/mnt") != "$(readlink /proc/self/ns/mnt)" ]] || return 1
  echo "$pid"
}

# The /etc of host i: a copy of this machine's, with its own OS identity, host keys and users.
seed_etc() {
  local i=$1 os=$2 etc=$3 addr=$4
  rm -rf "$etc"; mkdir -p "$etc"
  cp -a /etc/. "$etc/"
  local family; family=$(family_of "$os")
  case $os in
    rhel) name="Red Hat Enterprise Linux"; like="fedora"; ver="8.9"; pretty="Red Hat Enterprise Linux 8.9 (Ootpa)" ;;
    centos) name="CentOS Linux"; like="rhel fedora"; ver="7"; pretty="CentOS Linux 7 (Core)" ;;
    rocky) name="Rocky Linux"; like="rhel centos fedora"; ver="9.3"; pretty="Rocky Linux 9.3 (Blue Onyx)" ;;
    ol) name="Oracle Linux Server"; like="fedora"; ver="8.9"; pretty="Oracle Linux Server 8.9" ;;
    ubuntu) name="Ubuntu"; like="debian"; ver="22.04"; pretty="Ubuntu 22.04.4 LTS" ;;
    *) name="Debian GNU/Linux"; like=""; ver="12"; pretty="Debian GNU/Linux 12 (bookworm)" ;;
  esac
  rm -f "$etc/os-release"
  {
    echo "NAME=\"$name\""; echo "VERSION_ID=\"$ver\""; echo "ID=$os"
    [[ -n $like ]] && echo "ID_LIKE=\"$like\""
    echo "PRETTY_NAME=\"$pretty\""
  } > "$etc/os-release"
  if [[ $family == RedHat ]]; then echo "$pretty" > "$etc/redhat-release"; rm -f "$etc/debian_version"
  else rm -f "$etc/redhat-release"; fi
  name_of "$i" > "$etc/hostname"
  printf '127.0.0.1 localhost\n%s %s\n' "$addr" "$(name_of "$i")" > "$etc/hosts"
  rm -f "$etc"/ssh/ssh_host_*
  ssh-keygen -q -t ed25519 -N '' -C "$(name_of "$i")" -f "$etc/ssh/ssh_host_ed25519_key"
  ssh-keygen -q -t ecdsa -b 256 -N '' -C "$(name_of "$i")" -f "$etc/ssh/ssh_host_ecdsa_key"
  # A non-root login with passwordless sudo, for become tests, and a password for password auth.
  local hash; hash=$(openssl passwd -6 dasuser-pw)
  grep -q '^dasuser:' "$etc/passwd" || echo "dasuser:x:1500:1500:dasprov sandbox user:/opt/home/dasuser:/bin/bash" >> "$etc/passwd"
  grep -q '^dasuser:' "$etc/group" || echo "dasuser:x:1500:" >> "$etc/group"
  sed -i '/^dasuser:/d' "$etc/shadow"; echo "dasuser:$hash:19000:0:99999:7:::" >> "$etc/shadow"
  mkdir -p "$etc/sudoers.d"; echo "dasuser ALL=(ALL) NOPASSWD:ALL" > "$etc/sudoers.d/dasuser"; chmod 0440 "$etc/sudoers.d/dasuser"
  mkdir -p "$etc/dasprov-sandbox"
  echo "$addr" > "$etc/dasprov-sandbox/address"
  echo "$start_delay" > "$etc/dasprov-sandbox/start-delay"
}

# A stock DAS home: our fixture, with the pristine product conf files laid over it if asked,
# owned by the service user as an operator installs it. No MySQL connector: dasprov uploads it.
seed_das() {
  local opt=$1
  rm -rf "$opt/wso2das-3.1.0" "$opt/wso2das"
  cp -a "$here/fixture/wso2das-3.1.0" "$opt/"
  # git keeps no empty directories; a DAS home has these.
  mkdir -p "$opt/wso2das-3.1.0/repository/"{logs,components/lib,components/dropins,deployment/server/carbonapps}
  if [[ -n $das_pack ]]; then
    [[ -d $das_pack/repository/conf ]] || die "--das-pack $das_pack has no repository/conf"
    cp -a "$das_pack/repository/conf/." "$opt/wso2das-3.1.0/repository/conf/"
  fi
  chown -R "$service_uid:$service_uid" "$opt/wso2das-3.1.0"
}

# DAS host i's service user (in its /etc, with a home under its /opt) and stand-in JDK, and
# JAVA_HOME in the login environment on the hosts that have it. Safe to repeat; reset repeats it.
seed_service() {
  local i=$1 root=$2 etc=$2/etc
  grep -q "^$service_user:" "$etc/passwd" ||
    echo "$service_user:x:$service_uid:$service_uid:WSO2 DAS service user (dasprov sandbox):/opt/home/$service_user:/usr/sbin/nologin" >> "$etc/passwd"
  grep -q "^$service_user:" "$etc/group" || echo "$service_user:x:$service_uid:" >> "$etc/group"
  grep -q "^$service_user:" "$etc/shadow" || echo "$service_user:!:19000:0:99999:7:::" >> "$etc/shadow"
  mkdir -p "$root/opt/home/$service_user"
  chown "$service_uid:$service_uid" "$root/opt/home/$service_user"; chmod 0750 "$root/opt/home/$service_user"
  rm -rf "$root$login_java_home" "$root$other_java_home"
  local jdk; jdk=$root$(java_home_of "$i")
  mkdir -p "$(dirname "$jdk")"
  cp -a "$here/fixture/jdk1.8.0-standin" "$jdk"
  if has_login_java "$i"; then
    printf '# dasprov sandbox: the JDK of this host, for every login shell\nexport JAVA_HOME=%s\n' "$login_java_home" > "$etc/profile.d/java.sh"
  else
    rm -f "$etc/profile.d/java.sh"
  fi
}

# The stand-in connector jar, the same bytes every time, for the inventory's mysql_jdbc_jar.
write_connector() {
  mkdir -p "$state/files"
  python3 "$here/standin-connector-jar.py" "$state/files/$connector_name" || die "cannot write $state/files/$connector_name"
}

# The database host's MariaDB data directory, created once (root logs in over the socket).
seed_mysql() {
  local root=$1
  command -v mariadbd >/dev/null || die "the database host needs MariaDB: apt-get install mariadb-server (or use --no-db)"
  mkdir -p "$root/var-lib-mysql" "$root/run-mysqld"
  if [[ ! -d $root/var-lib-mysql/mysql ]]; then
    mariadb-install-db --user=root --datadir="$root/var-lib-mysql" --auth-root-authentication-method=socket \
      --skip-test-db >"$state/logs/host0.mysql-install.log" 2>&1 || die "mariadb-install-db failed: see $state/logs/host0.mysql-install.log"
  fi
}

prepare_host() {
  local i=$1; local root=$state/hosts/host$i os; os=$(os_of "$i")
  read -r addr port < <(endpoint "$i")
  mkdir -p "$root"/{opt,root,etc,var-lib-dasprov}
  echo "$addr $port" > "$root/endpoint"
  if [[ ! -f $root/etc/.dasprov-seeded ]]; then
    seed_etc "$i" "$os" "$root/etc" "$addr"
    touch "$root/etc/.dasprov-seeded"
  fi
  mkdir -p "$root/root/.ssh" "$root/opt/home/dasuser/.ssh"
  cp "$state/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
  cp "$state/id_ed25519.pub" "$root/opt/home/dasuser/.ssh/authorized_keys"
  chown -R 1500:1500 "$root/opt/home/dasuser"
  if ((i == 0)); then seed_mysql "$root"; else
    seed_service "$i" "$root"
    [[ -d $root/opt/wso2das-3.1.0 ]] || seed_das "$root/opt"
  fi
  cat > "$state/sshd/host$i.conf" <<CONF
# sshd of sandbox host$i ($os), inside its own mount namespace
ListenAddress $addr:$port
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
PidFile $state/run/host$i.sshd-own.pid
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
StrictModes no
UseDNS no
PrintMotd no
LogLevel VERBOSE
MaxStartups 300:30:600
MaxSessions 30
Subsystem sftp internal-sftp
CONF
  echo "$os"
}

start_host() {
  local i=$1; local root=$state/hosts/host$i
  if sshd_pid "$i" >/dev/null; then return 0; fi
  read -r addr port < "$root/endpoint"
  mkdir -p /run/sshd /var/lib/dasprov /var/lib/mysql /run/mysqld
  local db_address=""; ((i == 0)) && db_address=$addr
  # The namespace's mounts vanish with its last process; nothing is mounted on the real system.
  # On the database host MariaDB runs in the namespace too, with its own data and socket.
  # shellcheck disable=SC2016  # the inner sh expands its own arguments
  setsid "${net_exec[@]}" unshare --mount --uts --propagation private -- /bin/sh -c '
    mount --bind "$1/etc" /etc && mount --bind "$1/opt" /opt && mount --bind "$1/root" /root &&
    mount --bind "$1/var-lib-dasprov" /var/lib/dasprov && hostname "$2" || exit 1
    if [ -n "$5" ]; then
      mount --bind "$1/var-lib-mysql" /var/lib/mysql && mount --bind "$1/run-mysqld" /run/mysqld || exit 1
      setsid mariadbd --user=root --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock --bind-address="$5" --port=3306 \
        --max-connections=2000 --skip-name-resolve --log-error=/var/lib/mysql/error.log --pid-file=/run/mysqld/mysqld.pid </dev/null >/dev/null 2>&1 &
    fi
    exec /usr/sbin/sshd -D -f "$3" -E "$4"' sh "$root" "$(name_of "$i")" "$state/sshd/host$i.conf" "$state/logs/host$i.sshd.log" "$db_address" \
    </dev/null >>"$state/logs/host$i.start.log" 2>&1 &
  echo $! > "$state/run/host$i.pid"
}

wait_up() {
  local i=$1 addr port
  read -r addr port < "$state/hosts/host$i/endpoint"
  for _ in $(seq 1 100); do
    # Just started by us: alive is enough (it may not have entered its namespace yet).
    if ! kill -0 "$(cat "$state/run/host$i.pid")" 2>/dev/null; then
      die "host$i's sshd exited: $(tail -3 "$state/logs/host$i.start.log" "$state/logs/host$i.sshd.log" 2>/dev/null | tr '\n' ' ')
(mount namespaces need root and CAP_SYS_ADMIN; if unshare is not permitted here the sandbox cannot run)"
    fi
    if ! can_bind "$addr" "$port"; then
      ((i != 0)) && return 0
      mariadb-admin --socket="$state/hosts/host0/run-mysqld/mysqld.sock" ping >/dev/null 2>&1 && return 0
    fi
    sleep 0.05
  done
  die "host$i did not start listening on $addr:$port"
}

# The sandbox's inventory. With "primary", addresses follow the scheme without probing ports
# (Inventories/sandbox.ini is this for the defaults).
write_inventory() {
  local primary=${1:-} groups=(analyzers indexers receivers presenters)
  local db_address="127.0.0.1"
  if ((with_db)); then
    if [[ -n $primary ]]; then db_address="$net.10"; else read -r db_address _ < "$state/hosts/host0/endpoint"; fi
  fi
  {
    echo "# dasprov sandbox: $count hosts (written by sandbox.sh up; roles assigned in turn)"
    for g in "${!groups[@]}"; do
      echo "[${groups[$g]}]"
      for i in $(seq 1 "$count"); do
        # 8 hosts: consecutive pairs, so each role has a RedHat and a Debian host; else round-robin.
        if ((count == 8)); then role=$(((i - 1) / 2)); else role=$(((i - 1) % 4)); fi
        ((role == g)) || continue
        if [[ -n $primary ]]; then addr="$net.$((10 + i))"; port=22; else read -r addr port < "$state/hosts/host$i/endpoint"; fi
        line="host$i ansible_host=$addr"; [[ $port != 22 ]] && line+=" ansible_port=$port"
        has_login_java "$i" || line+=" das_java_home=$other_java_home"
        echo "$line"
      done
      echo
    done
    echo "[das:children]"; printf '%s\n' "${groups[@]}"; echo
    if ((with_db)); then echo "[mysql]"; echo "db1 ansible_host=$db_address"; echo; fi
    echo "[all:vars]"
    echo "ansible_user=root"
    echo "ansible_ssh_private_key_file=$state/id_ed25519"
    echo "dasprov_known_hosts=$state/known_hosts"
    echo "db_host=$db_address"
    ((with_db)) && echo "db_client_host=127.0.0.1"   # the sandbox's hosts share one network: clients come from 127.0.0.1
    echo "db_port=3306"
    echo "db_user=dasuser"
    echo "db_password=Das-Sandbox-Pw1"
    echo "mysql_jdbc_jar=$state/files/$connector_name"
    # Other sizes than 8 put N/4 hosts in each role.
    ((count != 8 && count % 4 == 0)) && echo "das_nodes_per_role=$((count / 4))"
    return 0
  }
}

# Host indices: 0 (the database host) when there is one, then 1..N.
indices() { ((with_db)) && echo 0; seq 1 "$count"; }

write_known_hosts() {
  : > "$state/known_hosts"
  for i in $(indices); do
    read -r addr port < "$state/hosts/host$i/endpoint"
    local name=$addr; [[ $port != 22 ]] && name="[$addr]:$port"
    for k in "$state/hosts/host$i/etc/ssh/"ssh_host_*_key.pub; do
      echo "$name $(cut -d' ' -f1,2 "$k")" >> "$state/known_hosts"
    done
  done
}

cmd_up() {
  require_root
  mkdir -p "$state"/{hosts,run,logs,sshd}
  [[ -f $state/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C dasprov-sandbox -f "$state/id_ed25519"
  if ((private_net)); then private_up; fi
  printf '# index\tname\taddress\tport\tos\tfamily\troot\tsshd_pid\n' > "$state/hosts.tsv.new"
  for i in $(indices); do
    os=$(prepare_host "$i")
    start_host "$i"
  done
  for i in $(indices); do wait_up "$i"; done
  for i in $(indices); do
    read -r addr port < "$state/hosts/host$i/endpoint"
    os=$(os_of "$i")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$(name_of "$i")" "$addr" "$port" "$os" "$(family_of "$os")" "$state/hosts/host$i" "$(sshd_pid "$i")" >> "$state/hosts.tsv.new"
  done
  mv "$state/hosts.tsv.new" "$state/hosts.tsv"
  echo "$count" > "$state/count"
  echo "$with_db" > "$state/with-db"
  write_known_hosts
  write_connector
  write_inventory > "$state/inventory.ini"
  if ((private_net)); then private_finish; fi
  echo "sandbox: $count hosts up$( ((with_db)) && echo " and a MariaDB host db1") (state $state); inventory $state/inventory.ini"
}

# Whether process p has ended: gone, or a zombie that only waits for its parent (often init,
# which may reap late) to collect it.
ended() {
  local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  s=${s##*) }
  [[ ${s%% *} == Z ]]
}

# Every process in host i's mount namespace: its sshd, sessions, and the stand-in DAS server.
namespace_pids() {
  local pid; pid=$(sshd_pid "$1") || return 0
  local ns; ns=$(readlink "/proc/$pid/ns/mnt") || return 0
  # Never the namespace this script runs in: that would be every process of the machine.
  [[ $ns != "$(readlink /proc/self/ns/mnt)" ]] || return 0
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/ns/mnt" 2>/dev/null) == "$ns" ]] && echo "${p#/proc/}"
  done
  return 0
}

stop_das() {
  local f=$1/opt/wso2das-3.1.0/wso2carbon.pid p
  [[ -f $f ]] || return 0
  p=$(cat "$f")
  # Only a process whose command line is the stand-in server of this host.
  if [[ -r /proc/$p/cmdline ]] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -q "fake-carbon.py"; then kill -TERM "$p" 2>/dev/null || true; fi
}

cmd_down() {
  [[ -d $state/run ]] || { echo "sandbox: nothing running (no $state)"; return 0; }
  local n; n=$(cat "$state/count" 2>/dev/null || find "$state/run" -maxdepth 1 -name 'host*.pid' | wc -l)
  # Every process of every host, found through the hosts' namespaces before any of them ends.
  local all=()
  for f in "$state"/run/host*.pid; do
    [[ -f $f ]] || continue
    local i=${f##*/host}; i=${i%.pid}; [[ $i =~ ^[0-9]+$ ]] || continue
    stop_das "$state/hosts/host$i"
    mapfile -t -O "${#all[@]}" all < <(namespace_pids "$i")
  done
  if ((${#all[@]})); then kill -TERM "${all[@]}" 2>/dev/null || true; fi
  # MariaDB needs a moment to shut down cleanly; everything else is gone at once.
  for _ in $(seq 1 100); do
    local alive=()
    for p in "${all[@]}"; do ended "$p" || alive+=("$p"); done
    ((${#alive[@]})) || break
    sleep 0.1
  done
  for p in "${all[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -f "$state"/run/host*.pid
  # Stand-in servers reparented out of a namespace that is already gone.
  for d in "$state"/hosts/host*; do [[ -d $d ]] && stop_das "$d"; done
  private_down
  echo "sandbox: down (${n:-0} hosts)"
}

cmd_status() {
  [[ -f $state/hosts.tsv ]] || { echo "sandbox: not set up (no $state/hosts.tsv)"; return 1; }
  local down=0
  while IFS=$'\t' read -r i name addr port os family root _; do
    [[ $i == \#* ]] && continue
    local up=down das=stopped
    if sshd_pid "$i" >/dev/null; then up=up; else down=1; fi
    f=$root/opt/wso2das-3.1.0/wso2carbon.pid
    [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null && das="running (pid $(cat "$f"))"
    if ((i == 0)); then
      das="MariaDB $(mariadb-admin --socket="$root/run-mysqld/mysqld.sock" ping 2>/dev/null | grep -q alive && echo running || echo stopped)"
      printf '%-7s %-17s %-8s %-7s %-5s %s\n' "$name" "$addr:$port" "$os" "$family" "$up" "$das"
      continue
    fi
    printf '%-7s %-17s %-8s %-7s %-5s DAS %s\n' "$name" "$addr:$port" "$os" "$family" "$up" "$das"
  done < "$state/hosts.tsv"
  echo "shell on host I: $0 ssh I --state $state"
  return $down
}

# An empty database server again: every database and user that MariaDB did not create itself.
reset_mysql() {
  local sock=$1/run-mysqld/mysqld.sock sql
  sql=$(mariadb --socket="$sock" --batch --skip-column-names -e "
    SELECT CONCAT('DROP DATABASE \`', SCHEMA_NAME, '\`;') FROM information_schema.SCHEMATA
      WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys');
    SELECT CONCAT('DROP USER \'', User, '\'@\'', Host, '\';') FROM mysql.user
      WHERE User NOT IN ('root', 'mariadb.sys', 'mysql', 'PUBLIC', '');") || die "cannot reach the sandbox's MariaDB at $sock"
  [[ -z $sql ]] || mariadb --socket="$sock" -e "$sql" || die "cannot reset the sandbox's MariaDB"
}

cmd_reset() {
  require_root
  [[ -f $state/hosts.tsv ]] || die "not set up: run 'sandbox.sh up' first"
  while IFS=$'\t' read -r i _ _ _ _ _ root _; do
    [[ $i == \#* ]] && continue
    if ((i == 0)); then reset_mysql "$root"; continue; fi
    stop_das "$root"
    sleep 0.05
    seed_service "$i" "$root"
    seed_das "$root/opt"
    rm -rf "$root/var-lib-dasprov"/* "$root/root/.local/state/dasprov" "$root/opt/home/dasuser/.local/state/dasprov"
    rm -f "$root/etc/dasprov-sandbox/fail-start"
  done < "$state/hosts.tsv"
  write_connector
  echo "sandbox: DAS homes re-seeded${das_pack:+ from $das_pack}"
}

cmd_ssh() {
  local i=${rest[0]:-}; [[ $i =~ ^[0-9]+$ ]] || die "usage: sandbox.sh ssh I [command…]"
  read -r addr port < "$state/hosts/host$i/endpoint" || die "no host $i"
  exec ssh -i "$state/id_ed25519" -o UserKnownHostsFile="$state/known_hosts" -o StrictHostKeyChecking=yes \
    -o IdentitiesOnly=yes "${ssh_jump[@]}" -p "$port" "root@$addr" "${rest[@]:1}"
}

main() {
  local cmd=${1:-}; shift || true
  close_inherited_fds
  parse_options "$@"
  private_prepare
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    ssh) cmd_ssh ;;
    inventory) write_inventory primary ;;
    *) die "usage: sandbox.sh up|down|status|reset|ssh I [--hosts N] [--state DIR] [--net A.B.C] [--das-pack DIR]" ;;
  esac
}

main "$@"
