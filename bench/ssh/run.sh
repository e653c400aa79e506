#!/usr/bin/env bash
# Benchmarks dasprov's SSH transport against OpenSSH on this machine, in one run:
#   1. connect + authenticate + `exec true` on 8 and on 64 hosts at once:
#      dasprov (SSHPool, one thread per host) vs `ssh HOST true` for every host in parallel;
#   2. uploading 100 MB: dasprov (SFTP and exec methods, both with fsync + sha256 check +
#      rename) vs `scp`.
# The hosts are this script's own sshd processes on 127.0.6.1..64, port 2200 (one sshd per
# address, so sshd's MaxStartups never throttles), with a fresh ed25519 key and strict host key
# checking on both sides. Both clients log in as $BENCH_USER (default dasprov-sshtest, the test
# suite's user with /bin/sh, created here if missing): root's ~/.bashrc on this machine runs
# `pyenv init`, ~100 processes per login, which would bury the client-side difference under
# server-side shell start-up. Every sshd is stopped by its PID at the end.
#
#   bench/ssh/run.sh                 # REPS=5 HOSTS="8 64" SIZE_MB=100
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
reps=${REPS:-5}
counts=${HOSTS:-"8 64"}
size_mb=${SIZE_MB:-100}
net=${NET:-127.0.6}
port=${PORT:-2200}
user=${BENCH_USER:-dasprov-sshtest}
if ! id "$user" >/dev/null 2>&1; then
  useradd -m -s /bin/sh "$user"
  usermod -p '*' "$user"   # no password, but not locked: sshd refuses locked accounts
fi
max=0
for n in $counts; do (( n > max )) && max=$n; done

work=$(mktemp -d /tmp/dasprov-ssh-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# --- build the transport benchmark (release) as a separate package over the repo's sources
echo "building the benchmark (release)..." >&2
bin=$("$here/build.sh" "${BENCH_BUILD:-/tmp/dasprov-ssh-bench-build}" "$work/build.log")

# --- keys, known_hosts, and one sshd per address
ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$work/hostkey"
ssh-keygen -q -t ed25519 -N '' -C bench-client -f "$work/id"
cp "$work/id.pub" "$work/authorized_keys"
mkdir -p /run/sshd "$work/remote"
chown "$user" "$work/remote"
hostkey=$(cut -d' ' -f1,2 "$work/hostkey.pub")
: > "$work/known_hosts"
for i in $(seq 1 "$max"); do
  addr=$net.$i
  cat > "$work/sshd-$i.conf" <<CONF
ListenAddress $addr:$port
HostKey $work/hostkey
PidFile $work/sshd-$i.pid
LogLevel INFO
UsePAM no
StrictModes no
PermitRootLogin no
AuthorizedKeysFile $work/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
Subsystem sftp internal-sftp
CONF
  /usr/sbin/sshd -D -f "$work/sshd-$i.conf" -E "$work/sshd-$i.log" &
  pids+=($!)
  echo "[$addr]:$port $hostkey" >> "$work/known_hosts"
done
for i in $(seq 1 "$max"); do
  for _ in $(seq 1 250); do
    grep -q "Server listening" "$work/sshd-$i.log" 2>/dev/null && break
    if grep -q "Cannot bind" "$work/sshd-$i.log" 2>/dev/null; then
      echo "$net.$i:$port is taken; set NET or PORT" >&2; exit 1
    fi
    sleep 0.02
  done
done

sshopts=(-F /dev/null -o BatchMode=yes -o UserKnownHostsFile="$work/known_hosts" -o StrictHostKeyChecking=yes
         -o IdentitiesOnly=yes -o ControlMaster=no -o LogLevel=ERROR -i "$work/id")

# Wall time of `ssh HOST true` on hosts 1..n, all started at once.
openssh_connect() {
  local n=$1 start sshpids=() fail=0
  start=$EPOCHREALTIME
  for i in $(seq 1 "$n"); do
    ssh "${sshopts[@]}" -p "$port" "$user@$net.$i" true &
    sshpids+=($!)
  done
  for p in "${sshpids[@]}"; do wait "$p" || fail=1; done
  [[ $fail == 0 ]] || { echo "openssh: a connection failed" >&2; exit 1; }
  echo "$EPOCHREALTIME - $start" | bc
}

dasprov_connect() {
  local n=$1 out
  local hosts=()
  for i in $(seq 1 "$n"); do hosts+=("$net.$i"); done
  out=$("$bin" connect --port "$port" --user "$user" --key "$work/id" --known-hosts "$work/known_hosts" --forks "$n" "${hosts[@]}")
  echo "$out" >> "$work/dasprov-connect-$n.log"
  sed -n 's/.*wall=\([0-9.]*\).*/\1/p' <<< "$out"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

printf '\nconnect + auth + exec true, all hosts at once (median of %d, alternating runs)\n' "$reps"
printf '%-7s %12s %12s %8s   %s\n' hosts "OpenSSH s" "dasprov s" ratio "dasprov detail (last run)"
for n in $counts; do
  o=(); d=()
  for _ in $(seq 1 "$reps"); do
    o+=("$(openssh_connect "$n")")
    d+=("$(dasprov_connect "$n")")
  done
  om=$(printf '%s\n' "${o[@]}" | median)
  dm=$(printf '%s\n' "${d[@]}" | median)
  printf '%-7s %12.3f %12.3f %7.1fx   %s\n' "$n" "$om" "$dm" "$(echo "$om / $dm" | bc -l)" \
    "$(tail -1 "$work/dasprov-connect-$n.log" | sed 's/wall=[0-9.]* //')"
done

# --- upload throughput
head -c $((size_mb * 1024 * 1024)) /dev/urandom > "$work/payload.bin"
bytes=$(stat -c %s "$work/payload.bin")
scp_run() {
  local start
  rm -f "$work/remote/scp.bin"
  start=$EPOCHREALTIME
  scp -q "${sshopts[@]}" -P "$port" "$work/payload.bin" "$user@$net.1:$work/remote/scp.bin"
  echo "$EPOCHREALTIME - $start" | bc
}
digest=$(sha256sum "$work/payload.bin" | cut -c1-64)
# $1 = method; $2 = "known" to pass the digest computed above (as the engine does for a pack it
# sends to every host), else the transport hashes the file while sending it.
dasprov_upload() {
  local extra=()
  [[ ${2:-} == known ]] && extra=(--sha256 "$digest")
  "$bin" upload --port "$port" --user "$user" --key "$work/id" --known-hosts "$work/known_hosts" \
    --method "$1" "${extra[@]}" --file "$work/payload.bin" --dest "$work/remote/dasprov-$1.bin" "$net.1" |
    sed -n 's/.*seconds=\([0-9.]*\).*/\1/p'
}
printf '\nupload of %d MB to one host (median of %d; dasprov includes fsync, sha256 check and rename)\n' "$size_mb" "$reps"
printf '%-34s %10s %10s %10s\n' method seconds "MB/s" "vs scp"
s=(); e=(); ek=(); f=(); fk=()
for _ in $(seq 1 "$reps"); do
  s+=("$(scp_run)")
  e+=("$(dasprov_upload exec)"); ek+=("$(dasprov_upload exec known)")
  f+=("$(dasprov_upload sftp)"); fk+=("$(dasprov_upload sftp known)")
done
sm=$(printf '%s\n' "${s[@]}" | median)
cmp -s "$work/payload.bin" "$work/remote/dasprov-sftp.bin" && cmp -s "$work/payload.bin" "$work/remote/dasprov-exec.bin" ||
  { echo "uploaded files differ from the payload" >&2; exit 1; }
for row in "scp:$sm" \
  "dasprov exec, hashing while sending:$(printf '%s\n' "${e[@]}" | median)" \
  "dasprov exec, digest known:$(printf '%s\n' "${ek[@]}" | median)" \
  "dasprov sftp, hashing while sending:$(printf '%s\n' "${f[@]}" | median)" \
  "dasprov sftp, digest known:$(printf '%s\n' "${fk[@]}" | median)"; do
  name=${row%%:*}; secs=${row##*:}
  printf '%-34s %10.3f %10.1f %9.0f%%\n' "$name" "$secs" "$(echo "$bytes / 1048576 / $secs" | bc -l)" \
    "$(echo "100 * $sm / $secs" | bc -l)"
done
