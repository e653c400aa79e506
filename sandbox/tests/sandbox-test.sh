#!/usr/bin/env bash
# The sandbox's own test: real hosts, separate filesystems, the stand-in DAS server's behaviour,
# and a clean teardown. Uses its own state directory and addresses (127.0.7.x), so it never
# touches a demo sandbox. Exits non-zero on the first failed check.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=/var/tmp/dasprov-sandbox-check
sb() { bash "$here/sandbox.sh" "$@" --state "$state"; }
trap 'sb down >/dev/null 2>&1 || true' EXIT
ok() { echo "  ok: $*"; }
fail() { echo "  FAILED: $*" >&2; exit 1; }
on() { local i=$1; shift; ssh -n -i "$state/id_ed25519" -o UserKnownHostsFile="$state/known_hosts" -o StrictHostKeyChecking=yes \
  -o IdentitiesOnly=yes -o BatchMode=yes "root@127.0.7.$((10 + i))" "$@"; }

sb down >/dev/null 2>&1 || true
rm -rf "$state"
sb up --hosts 8 --net 127.0.7 --start-delay 0.5 >/dev/null
ok "8 hosts up"

expected=(rhel debian rocky ubuntu centos debian ol ubuntu)
for i in 1 2 3 4 5 6 7 8; do
  id=$(on "$i" '. /etc/os-release; echo $ID')
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
  dasuser@127.0.7.12 'sudo -n id -u') == 0 ]] || fail "dasuser cannot sudo without a password"
ok "the non-root user has passwordless sudo"

das=/opt/wso2das-3.1.0
# A 3 s delay for this start, so a loaded machine cannot make the early probe late.
on 5 "DASPROV_FAKE_START_DELAY=3 $das/bin/wso2server.sh --start -receiverNode"
on 5 "bash -c 'exec 3<>/dev/tcp/127.0.7.15/9443'" 2>/dev/null && fail "the stand-in server listened before its start delay"
for _ in $(seq 1 80); do on 5 "bash -c 'exec 3<>/dev/tcp/127.0.7.15/9443'" 2>/dev/null && break; sleep 0.1; done
on 5 "bash -c 'exec 3<>/dev/tcp/127.0.7.15/9443'" || fail "the stand-in server never listened on 9443"
on 5 "grep -q 'WSO2 Carbon started' $das/repository/logs/wso2carbon.log" || fail "no start-up line in wso2carbon.log"
on 5 "grep -q 'profile=-receiverNode offset=0' $das/repository/logs/starts.log" || fail "the start was not recorded"
ok "the stand-in server listens only after its delay, logs 'WSO2 Carbon started', records its start"

on 5 "$das/bin/wso2server.sh --start" | grep -q "already running" || fail "a second start did not say 'Process is already running'"
on 5 "$das/bin/wso2server.sh --restart -analyzerNode -DportOffset=2"
for _ in $(seq 1 40); do on 5 "bash -c 'exec 3<>/dev/tcp/127.0.7.15/9445'" 2>/dev/null && break; sleep 0.1; done
on 5 "bash -c 'exec 3<>/dev/tcp/127.0.7.15/9445'" || fail "after restart with -DportOffset=2 nothing listens on 9445"
on 5 "tail -1 $das/repository/logs/starts.log | grep -q 'profile=-analyzerNode offset=2'" || fail "restart did not keep profile and offset"
ok "restart waits for the old process and starts with the given profile and -DportOffset"

on 6 "ln -s $das /opt/wso2das && /opt/wso2das/bin/wso2server.sh --start"
sleep 0.3
on 6 "grep -q 'carbon_home=/opt/wso2das ' $das/repository/logs/starts.log" || fail "CARBON_HOME through a symlinked home is not the link path"
on 6 "CARBON_HOME=/opt/wso2das-3.1.0 $das/bin/wso2server.sh --version" >/dev/null
ok "a DAS home reached through a symlink runs with CARBON_HOME = the link, as the product script does"

sb up --hosts 8 --net 127.0.7 >/dev/null
sb status >/dev/null || fail "status reports a host down after a second 'up'"
ok "up twice is safe; status shows every host up"

pids=$(cut -f8 "$state/hosts.tsv" | grep -E '^[0-9]+$' | tr '\n' ' ')
das_pids="$(cat "$state"/hosts/host*/opt/wso2das-3.1.0/wso2carbon.pid 2>/dev/null | tr '\n' ' ')"
sb down >/dev/null
sleep 0.3
for p in $pids $das_pids; do
  if [[ -d /proc/$p ]] && [[ $(cat "/proc/$p/stat" 2>/dev/null | awk '{print $3}') != Z ]]; then fail "process $p is still running after down"; fi
done
if ss -ltn | grep -q '127\.0\.7\.'; then fail "something still listens on 127.0.7.x after down"; fi
for p in /proc/[0-9]*; do grep -qs "$state" "$p/mountinfo" && fail "a mount of the sandbox is still visible in $p"; done
ok "down leaves no sshd, stand-in server, listener or mount behind"
diff <(bash "$here/sandbox.sh" inventory) "$here/../Inventories/sandbox.ini" >/dev/null || fail "Inventories/sandbox.ini differs from what 'sandbox.sh up' writes for the defaults"
ok "Inventories/sandbox.ini is what 'up' writes for the default state and addresses"
echo "sandbox self-test passed"
