# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034  # state, count, net, net_exec… are sandbox.sh's: it sources this file
# The sandbox's private network (sandbox.sh up --private), sourced by sandbox.sh.
#
# The hosts and their database sit on a LAN in a network namespace of their own, reachable from
# this machine only through a bastion sshd, the way DAS clusters sit behind a jump host:
#
#   root namespace ──veth── B1 (bastion 1, sshd on P.250.2) ──veth── LAN (hosts on P.0.10+i/32)
#                               └──veth── B2 (bastion 2, sshd on P.3.2) ──veth── LAN
#
# P is 10.<third octet of --net> (127.0.54 → 10.54). The root namespace reaches P.250.0/24 (the
# link to bastion 1) and nothing else of P.0.0/16: an `unreachable` route makes a direct
# connection fail at once instead of leaving the machine by the default route. Bastion 2 is
# reachable only from bastion 1, for chains of two. No namespace forwards packets. The names
# (namespaces dasprov-<state dir name>-{lan,b1,b2}, the root link dv-<hash of the state dir>)
# and addresses are kept in STATE/private.env, so down, ssh and status find them.

# Names and addresses: from STATE/private.env once up has written it, else from --net.
private_prepare() {
  if [[ -f $state/private.env ]]; then
    # shellcheck source=/dev/null
    . "$state/private.env"
    private_net=1
  elif ((private_net)); then
    local base; base=$(basename "$state")
    netns_prefix=dasprov-${base#dasprov-}
    private_prefix=10.${net##*.}
    lan_net=$private_prefix.0
    bastion1=$private_prefix.250.2
    bastion2=$private_prefix.3.2
    root_link=dv-$(printf '%s' "$state" | md5sum | cut -c1-8)
  fi
  ((private_net)) || return 0
  # The hosts' addresses follow the LAN's scheme; every host process starts inside the LAN.
  net=$lan_net
  net_exec=(nsenter "--net=/run/netns/$netns_prefix-lan")
  ssh_jump=(-o "ProxyCommand=ssh -i $state/id_ed25519 -o IdentitiesOnly=yes -o UserKnownHostsFile=$state/known_hosts -o StrictHostKeyChecking=yes -W %h:%p root@$bastion1")
}

# A veth pair between two namespaces, each end with its address (/24) and up.
veth_pair() {
  local ns_a=$1 if_a=$2 addr_a=$3 ns_b=$4 if_b=$5 addr_b=$6
  ip -n "$ns_a" link add "$if_a" type veth peer name "$if_b" netns "$ns_b"
  ip -n "$ns_a" addr add "$addr_a/24" dev "$if_a"
  ip -n "$ns_a" link set "$if_a" up
  ip -n "$ns_b" addr add "$addr_b/24" dev "$if_b"
  ip -n "$ns_b" link set "$if_b" up
}

# Creates the namespaces, links and routes (once), gives the LAN every host's address, and
# starts both bastions. Writes STATE/private.env first, so down can undo a half-made network.
private_up() {
  command -v ip >/dev/null || die "--private needs ip: apt-get install iproute2"
  command -v nsenter >/dev/null || die "--private needs nsenter: apt-get install util-linux"
  [[ -f $state/hosts.tsv && ! -f $state/private.env ]] && die "$state holds a sandbox without --private: use another --state"
  {
    printf 'netns_prefix=%q\nprivate_prefix=%q\nlan_net=%q\n' "$netns_prefix" "$private_prefix" "$lan_net"
    printf 'bastion1=%q\nbastion2=%q\nroot_link=%q\n' "$bastion1" "$bastion2" "$root_link"
  } > "$state/private.env"
  local lan=$netns_prefix-lan b1=$netns_prefix-b1 b2=$netns_prefix-b2 p=$private_prefix
  if [[ ! -e /run/netns/$lan ]]; then
    local ns
    for ns in "$lan" "$b1" "$b2"; do
      ip netns add "$ns" || die "cannot create network namespace $ns"
      ip -n "$ns" link set lo up
    done
    # This machine ↔ bastion 1, and nothing else of the private range from here.
    ip link add "$root_link" type veth peer name up0 netns "$b1" || die "cannot create the link $root_link"
    ip addr add "$p.250.1/24" dev "$root_link"
    ip link set "$root_link" up
    ip -n "$b1" addr add "$bastion1/24" dev up0
    ip -n "$b1" link set up0 up
    ip route replace unreachable "$p.0.0/16"
    veth_pair "$b1" lan1 "$p.1.1" "$lan" b1 "$p.1.2"
    veth_pair "$b2" lan1 "$p.2.1" "$lan" b2 "$p.2.2"
    veth_pair "$b1" b2 "$p.3.1" "$b2" b1 "$bastion2"
    ip -n "$b1" route add "$lan_net.0/24" via "$p.1.2"
    ip -n "$b2" route add "$lan_net.0/24" via "$p.2.2"
  fi
  local i
  # The LAN: every host's address (on its loopback, which needs no kernel module).
  for i in $(seq 0 "$count"); do ip -n "$lan" addr replace "$lan_net.$((10 + i))/32" dev lo; done
  mkdir -p "$state/bastions"
  cp "$state/id_ed25519.pub" "$state/bastions/authorized_keys"
  start_bastion 1 "$b1" "$bastion1"
  start_bastion 2 "$b2" "$bastion2"
}

# The PID of bastion n's sshd, only if that process is still the one this sandbox started.
bastion_pid() {
  local f=$state/run/bastion$1.pid pid
  [[ -f $f ]] || return 1
  pid=$(cat "$f")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$state/bastions/b$1/sshd_config" || return 1
  echo "$pid"
}

# Bastion n: an sshd in namespace $2 on $3:22 that only forwards (no shell: ForceCommand), root
# logging in with the sandbox's key; LogLevel VERBOSE logs each login ("Accepted publickey").
start_bastion() {
  local n=$1 ns=$2 addr=$3 dir=$state/bastions/b$1
  bastion_pid "$n" >/dev/null && return 0
  mkdir -p "$dir"
  [[ -f $dir/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -C "bastion$n" -f "$dir/ssh_host_ed25519_key"
  cat > "$dir/sshd_config" <<CONF
# bastion $n of the private sandbox $state: forwarding only
ListenAddress $addr:22
HostKey $dir/ssh_host_ed25519_key
PidFile $state/run/bastion$n.sshd-own.pid
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $state/bastions/authorized_keys
StrictModes no
UseDNS no
LogLevel VERBOSE
MaxStartups 300:30:600
AllowTcpForwarding yes
PermitTTY no
X11Forwarding no
ForceCommand /bin/false
CONF
  : > "$state/logs/bastion$n.sshd.log"
  setsid nsenter "--net=/run/netns/$ns" /usr/sbin/sshd -D -f "$dir/sshd_config" -E "$state/logs/bastion$n.sshd.log" \
    </dev/null >>"$state/logs/bastion$n.start.log" 2>&1 &
  echo $! > "$state/run/bastion$n.pid"
  local _
  for _ in $(seq 1 100); do
    grep -q "Server listening on $addr port 22" "$state/logs/bastion$n.sshd.log" 2>/dev/null && return 0
    kill -0 "$(cat "$state/run/bastion$n.pid")" 2>/dev/null ||
      die "bastion $n's sshd exited: $(tail -3 "$state/logs/bastion$n.sshd.log" "$state/logs/bastion$n.start.log" 2>/dev/null | tr '\n' ' ')"
    sleep 0.05
  done
  die "bastion $n did not start listening on $addr:22"
}

# After up wrote known_hosts and the inventory: the bastions' keys, the jump through bastion 1
# for every host, and database grants for the LAN (its clients connect from their own address).
private_finish() {
  local n addr
  for n in 1 2; do
    addr=$bastion1; ((n == 2)) && addr=$bastion2
    echo "$addr $(cut -d' ' -f1,2 "$state/bastions/b$n/ssh_host_ed25519_key.pub")" >> "$state/known_hosts"
  done
  sed -i "s/^db_client_host=.*/db_client_host=$lan_net.%/" "$state/inventory.ini"
  echo "ansible_ssh_common_args=-o ProxyJump=root@$bastion1" >> "$state/inventory.ini"
  echo "sandbox: private network $lan_net.0/24 (namespaces $netns_prefix-*), reached through bastion root@$bastion1 (bastion 2: $bastion2, behind it)"
}

# Stops the bastions and removes the namespaces, their links and the unreachable route.
private_down() {
  [[ -f $state/private.env ]] || return 0
  local n pid pids=() ns
  for n in 1 2; do pid=$(bastion_pid "$n") && pids+=("$pid"); done
  # Whatever else still runs in the sandbox's namespaces was started by this sandbox.
  for ns in "$netns_prefix-lan" "$netns_prefix-b1" "$netns_prefix-b2"; do
    [[ -e /run/netns/$ns ]] && mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
  done
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      local alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
  rm -f "$state"/run/bastion*.pid
  for ns in "$netns_prefix-lan" "$netns_prefix-b1" "$netns_prefix-b2"; do
    [[ -e /run/netns/$ns ]] && ip netns del "$ns"
  done
  ip link del "$root_link" 2>/dev/null || true
  ip route del unreachable "$private_prefix.0.0/16" 2>/dev/null || true
  # Its addresses would now leave the machine by the default route: no inventory points there.
  # private.env stays, so the next up of this state builds the private network again.
  rm -f "$state/inventory.ini"
  echo "sandbox: private network removed (namespaces $netns_prefix-*, link $root_link)"
}
