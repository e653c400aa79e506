#!/usr/bin/env bash
# Regenerates the vault corpus with the real `ansible-vault` of ansible-core 2.19.14, so the unit
# tests can check dasprov's decryption offline against what Ansible writes.
#
#   Tests/DasprovInventoryTests/VaultCorpus/regenerate.sh
#
# Uses (or creates) the venv of the oracle tests: $DASPROV_ANSIBLE_VENV, default
# /var/tmp/dasprov-ansible-venv. Every plaintext is written to expected.json by this script (never
# read back from a decryption), and every output is checked with `ansible-vault view` /
# `ansible-inventory` before it is kept. Salts are random, so every run changes the ciphertexts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${DASPROV_ANSIBLE_VENV:-/var/tmp/dasprov-ansible-venv}
if ! "$venv/bin/ansible-vault" --version 2>/dev/null | grep -q 'core 2.19.14'; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'ansible-core==2.19.14'
fi
vault=$venv/bin/ansible-vault
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# No ansible.cfg of this machine or user may change what ansible-vault does.
printf '[defaults]\n' >"$scratch/ansible.cfg"
export ANSIBLE_CONFIG=$scratch/ansible.cfg ANSIBLE_HOME=$scratch/home ANSIBLE_NOCOLOR=1
unset ANSIBLE_VAULT_PASSWORD_FILE ANSIBLE_VAULT_IDENTITY_LIST

cd "$here"
rm -rf passwords strings files inventory expected.json
mkdir -p passwords strings files inventory/group_vars/das inventory/host_vars

# Password files as operators write them: a trailing newline (Ansible strips whitespace).
printf 'correct horse battery staple\n' >passwords/default.txt
printf '  prod-Pässwort \n' >passwords/prod.txt
printf 'dev\r\n' >passwords/dev.txt

expected=()
record() { expected+=("$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]) + ": " + json.dumps(sys.argv[2]))' "$1" "$2")"); }

# encrypt_string: NAME, VAULT-ID, PLAINTEXT (as bytes on stdin, so empty and newlines are kept).
string() {
  local name=$1 id=$2 plain=$3
  printf '%s' "$plain" | "$vault" encrypt_string --vault-id "$id" --stdin-name "$name" \
    --encrypt-vault-id "${id%%@*}" >"strings/$name.yml" 2>/dev/null
  record "strings/$name.yml" "$plain"
}
string simple default@passwords/default.txt 'hello'
# encrypt_string refuses an empty plaintext; `encrypt` of an empty file writes the envelope an
# empty value has, which is then put inline as encrypt_string would.
: >"$scratch/empty"
"$vault" encrypt --vault-id default@passwords/default.txt "$scratch/empty" 2>/dev/null
{ echo 'empty: !vault |'; sed 's/^/          /' "$scratch/empty"; echo; } >strings/empty.yml
record strings/empty.yml ''
string unicode default@passwords/default.txt 'pässwörd ✓ 秘密 🔑'
string block16 default@passwords/default.txt '0123456789abcdef'
string long default@passwords/default.txt "$(printf 'line %02d of a long secret\n' $(seq 1 12))"
string markup default@passwords/default.txt $'a<b&c"d\'e {{ not_a_template }}'
string prod prod@passwords/prod.txt 'prod-db-password'
string dev dev@passwords/dev.txt 'dev-db-password'

# Whole files: a vars file, one whose plaintext has CRLF line ends, and one re-saved with CRLF.
file() {
  local name=$1 id=$2 plain=$3
  printf '%s' "$plain" >"files/$name"
  "$vault" encrypt --vault-id "$id" --encrypt-vault-id "${id%%@*}" "files/$name" 2>/dev/null
  record "files/$name" "$plain"
}
file vars.yml default@passwords/default.txt $'db_user: das\ndb_password: "s3cr3t: with colon"\nports: [9443, 9763]\n'
file crlf-plaintext.yml prod@passwords/prod.txt $'a: 1\r\nb: "two"\r\n'
file crlf-envelope.yml dev@passwords/dev.txt $'c: 3\n'
file empty.yml default@passwords/default.txt ''
sed -i 's/$/\r/' files/crlf-envelope.yml
"$vault" view --vault-id dev@passwords/dev.txt files/crlf-envelope.yml >/dev/null

# An inventory as an estate keeps it: group_vars/das/vars.yml beside an encrypted vault.yml,
# inline values under two vault ids, and a CRLF host_vars file.
cat >inventory/hosts.ini <<'EOF'
[receivers]
rcv1 ansible_host=10.0.0.11
[analyzers]
ana1 ansible_host=10.0.0.21
[das:children]
receivers
analyzers
EOF
printf 'db_user: das\ndb_host: db.example.com\ndb_password: "{{ vault_db_password }}"\n' \
  >inventory/group_vars/das/vars.yml
printf 'vault_db_password: "correct: Pässwort"\nvault_depsync_password: svn-secret\n' >inventory/group_vars/das/vault.yml
"$vault" encrypt --vault-id prod@passwords/prod.txt --encrypt-vault-id prod inventory/group_vars/das/vault.yml 2>/dev/null
{
  printf 'ansible_become_password: '
  printf 'ana1-become' | "$vault" encrypt_string --vault-id dev@passwords/dev.txt --encrypt-vault-id dev --stdin-name x 2>/dev/null |
    sed '1s/^x: //'
  printf 'nested:\n  token: '
  printf 'tok-1' | "$vault" encrypt_string --vault-id default@passwords/default.txt --stdin-name x 2>/dev/null |
    sed '1s/^x: //; 2,$s/^/  /'
  printf 'plain: visible\n'
} >inventory/host_vars/ana1.yml
sed -i 's/$/\r/' inventory/host_vars/ana1.yml

ids=(--vault-id default@passwords/default.txt --vault-id prod@passwords/prod.txt --vault-id dev@passwords/dev.txt)
"$venv/bin/ansible-inventory" -i inventory/hosts.ini --host ana1 "${ids[@]}" >/dev/null
for f in strings/*.yml files/*; do
  case $f in strings/*) continue ;; esac
  "$vault" view "${ids[@]}" "$f" >/dev/null
done

{
  echo '{'
  for ((i = 0; i < ${#expected[@]}; i++)); do
    printf '  %s%s\n' "${expected[i]}" "$([[ $i -lt $((${#expected[@]} - 1)) ]] && echo ,)"
  done
  echo '}'
} >expected.json
echo "vault corpus regenerated in $here"
