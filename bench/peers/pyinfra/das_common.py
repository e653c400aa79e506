"""Shared by the pyinfra peer's inventory.py and deploy.py: the INI inventory reader, the
defaults of docs/variables.md, and the operations whose changes make nodes owe a restart.

Imported modules are loaded once per pyinfra process, so module-level state here is shared by
every host's run of deploy.py (the deploy file itself is executed once per host)."""
import os
import re
import shlex

# ---------------------------------------------------------------- the INI inventory (dasprov's file)


def read_ini(path):
    """Ansible's INI inventory format as far as the sandbox uses it: [group], [group:vars],
    [group:children], host lines with key=value pairs. Returns (groups, group_vars, children,
    host_vars) with groups[name] = [host, ...] in file order."""
    groups, group_vars, children, host_vars = {}, {}, {}, {}
    section, kind = "ungrouped", "hosts"
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                name = line[1:-1]
                section, _, kind = name.partition(":")
                kind = kind or "hosts"
                if kind == "hosts":
                    groups.setdefault(section, [])
                continue
            if kind == "vars":
                key, _, value = line.partition("=")
                group_vars.setdefault(section, {})[key.strip()] = _value(value.strip())
            elif kind == "children":
                children.setdefault(section, []).append(line)
            else:
                words = shlex.split(line)
                host = words[0]
                groups.setdefault(section, []).append(host)
                hv = host_vars.setdefault(host, {})
                for w in words[1:]:
                    key, _, value = w.partition("=")
                    hv[key] = _value(value)
    return groups, group_vars, children, host_vars


def _value(text):
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    return text


def load_inventory(path):
    """Every host with its merged variables (all:vars < group vars < host vars) and its groups
    (parents through :children included)."""
    groups, group_vars, children, host_vars = read_ini(path)

    def members(group, seen=()):
        out = list(groups.get(group, []))
        for child in children.get(group, []):
            if child not in seen:
                out += members(child, seen + (group,))
        return out

    all_groups = set(groups) | set(children)
    hosts = {}
    for h in [h for g in groups.values() for h in g]:
        if h in hosts:
            continue
        names = sorted(g for g in all_groups if h in members(g))
        data = dict(group_vars.get("all", {}))
        for g in names:
            data.update(group_vars.get(g, {}))
        data.update(host_vars.get(h, {}))
        hosts[h] = {"groups": names, "data": data}
    membership = {g: list(dict.fromkeys(members(g))) for g in all_groups}
    return hosts, membership


INVENTORY_PATH = os.environ.get("DASP_INVENTORY", "")
HOSTS, GROUPS = load_inventory(INVENTORY_PATH) if INVENTORY_PATH else ({}, {})

# ---------------------------------------------------------------- defaults (docs/variables.md)

DEFAULTS = {
    "das_home": "/opt/wso2das-3.1.0",
    "das_link": "/opt/wso2das",
    "das_port_offset": 0,
    "hazelcast_port": 4000,
    "db_port": 3306,
    "cep_persistence": True,
    "das_start_timeout": 300,
    "db_client_host": "%",
    "das_datasource_max_active": 50,
}


def var(data, name):
    """A variable for a host: the inventory's value, else the default."""
    if name in data:
        return data[name]
    if name == "das_address":
        return data.get("ansible_host", data.get("inventory_hostname"))
    return DEFAULTS[name]


# ---------------------------------------------------------------- restarts owed, across hosts

# The configuration operations of every DAS node; the pre-flight check runs when any changed.
CONFIG_OPS = []


def any_config_changed():
    return any(op.did_change() for op in CONFIG_OPS)
