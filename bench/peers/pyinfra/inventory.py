# The pyinfra peer's inventory: dasprov's INI inventory (the file named by DASP_INVENTORY),
# read into pyinfra groups with the same connection settings: its address, user and key, host
# keys checked strictly against the inventory's dasprov_known_hosts.
import os
import sys

sys.path.insert(0, os.environ.get("DASP_PEER_DIR", os.getcwd()))
from das_common import GROUPS, HOSTS  # noqa: E402


def _entry(name):
    data = dict(HOSTS[name]["data"])
    data["inventory_hostname"] = name
    data.update(
        ssh_hostname=data.get("ansible_host", name),
        ssh_port=int(data.get("ansible_port", 22)),
        ssh_user=data.get("ansible_user", "root"),
        ssh_key=data.get("ansible_ssh_private_key_file"),
        ssh_known_hosts_file=data.get("dasprov_known_hosts"),
        ssh_strict_host_key_checking="yes",
        ssh_allow_agent=False,
        ssh_look_for_keys=False,
    )
    return (name, data)


for _group, _members in GROUPS.items():
    if _group in ("all", "ungrouped"):
        continue
    globals()[_group] = [_entry(h) for h in _members]
