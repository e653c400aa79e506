"""The benchmark's shared ground: paths, the scenario's constants, small helpers and the sandbox
as the benchmark drives it (see bench.py)."""
import argparse
import csv
import datetime
import hashlib
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, "results")
LOGS = os.path.join(RESULTS, "logs")
SANDBOX = os.path.join(REPO, "sandbox", "sandbox.sh")
DASPROV = os.path.join(REPO, ".build", "release", "dasprov")
VENV = os.environ.get("DASPROV_BENCH_VENV", "/var/tmp/dasprov-bench-venv")
NETS = {8: "127.0.4", 64: "127.0.5"}
ROLES = ["analyzers", "indexers", "receivers", "presenters"]  # das_restart_order
PROFILES = {"analyzers": "-analyzerNode", "indexers": "-indexerNode", "receivers": "-receiverNode",
            "presenters": "-dashboardNode"}
PASSWORD_A, PASSWORD_B = "Das-Sandbox-Pw1", "Das-Bench-Pw2"
TOOLS = ["dasprov", "ansible-core", "pyinfra"]
PEERS = ["ansible-core", "pyinfra"]
HOME = "opt/wso2das-3.1.0"
MANAGED = [
    "bin/wso2server.sh",
    "repository/conf/carbon.xml",
    "repository/conf/datasources/master-datasources.xml",
    "repository/conf/datasources/analytics-datasources.xml",
    "repository/conf/user-mgt.xml",
    "repository/conf/registry.xml",
    "repository/conf/axis2/axis2.xml",
    "repository/conf/event-processor.xml",
    "repository/conf/analytics/spark/spark-defaults.conf",
]
MAX_ACTIVE = "50"  # das_datasource_max_active: the pool size of every MySQL datasource
DATABASES = ["userdb", "regdb", "WSO2_ANALYTICS_EVENT_STORE_DB", "WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB"]
TOOL_TIMEOUT = 1800

sys.path.insert(0, os.path.join(BENCH, "peers", "pyinfra"))
import das_common  # noqa: E402  (the INI reader the pyinfra peer uses)


def say(msg):
    print(msg, flush=True)


def sh(argv, **kw):
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kw)


def native_hash(password):
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def stamp_ms(text):
    """2026-11-25T09:02:28.473Z -> epoch seconds."""
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


# ------------------------------------------------------------------------------------ sandbox


class Sandbox:
    def __init__(self, size):
        self.size = size
        self.state = f"/var/tmp/dasprov-bench-{size}"
        self.net = NETS.get(size, f"127.0.{4 + size % 200}")
        self.inventory = os.path.join(self.state, "inventory.ini")

    def sandbox(self, *args):
        return sh(["bash", SANDBOX, *args, "--state", self.state])

    def up(self):
        say(f"sandbox: {self.size} hosts on {self.net}.x (state {self.state})")
        # Down first, so that every sshd is started anew under the subreaper (bench/subreaper.py).
        if os.path.isdir(os.path.join(self.state, "run")):
            self.sandbox("down")
        status = os.path.join(LOGS, f"sandbox-{self.size}.up-status")
        with open(os.path.join(LOGS, f"sandbox-{self.size}.up.log"), "w") as log:
            self.reaper = subprocess.Popen(
                [sys.executable, os.path.join(BENCH, "subreaper.py"), status, "bash", SANDBOX, "up", "--hosts",
                 str(self.size), "--net", self.net, "--state", self.state], stdout=log, stderr=subprocess.STDOUT)
        while not os.path.exists(status) or not open(status).read().endswith("\n"):
            if self.reaper.poll() is not None:
                raise SystemExit(f"sandbox up failed: see {LOGS}/sandbox-{self.size}.up.log")
            time.sleep(0.1)
        if open(status).read().strip() != "0":
            raise SystemExit(f"sandbox up failed: see {LOGS}/sandbox-{self.size}.up.log")
        self.load()

    def load(self):
        """The hosts (hosts.tsv) and the inventory of a sandbox that is up."""
        self.hosts = []
        with open(os.path.join(self.state, "hosts.tsv")) as f:
            for line in f:
                if line.startswith("#"):
                    continue
                i, name, addr, port, os_id, family, root = line.rstrip("\n").split("\t")[:7]
                self.hosts.append(dict(index=int(i), name=name, addr=addr, port=int(port), os=os_id,
                                       family=family, root=root))
        hosts, groups = das_common.load_inventory(self.inventory)
        self.groups = groups
        self.inventory_hosts = hosts
        self.role_of = {}
        for role in ROLES:
            for h in groups.get(role, []):
                self.role_of[h] = role
        self.das = [h for h in self.hosts if h["name"] in self.role_of]
        self.db = next(h for h in self.hosts if h["name"] in groups.get("mysql", []))
        self.db_host = hosts[self.db["name"]]["data"]["db_host"]
        # The one-variable change: the same inventory with another db_password.
        self.inventories = {PASSWORD_A: self.inventory}
        with open(self.inventory) as f:
            text = f.read()
        assert f"db_password={PASSWORD_A}\n" in text, "the sandbox inventory's db_password changed"
        alt = os.path.join(self.state, "inventory-b.ini")
        with open(alt, "w") as f:
            f.write(text.replace(f"db_password={PASSWORD_A}\n", f"db_password={PASSWORD_B}\n"))
        self.inventories[PASSWORD_B] = alt

    def reset(self):
        self.sandbox("reset")

    def down(self):
        self.sandbox("down")
        if getattr(self, "reaper", None) is not None and self.reaper.poll() is None:
            self.reaper.terminate()
            self.reaper.wait(timeout=10)

    # -- what the hosts logged: sshd (connections, exec channels) and the DAS starts
    def log_offsets(self):
        out = {}
        for h in self.hosts:
            p = os.path.join(self.state, "logs", f"host{h['index']}.sshd.log")
            out[h["index"]] = os.path.getsize(p) if os.path.exists(p) else 0
        return out

    def host_cpu(self):
        """CPU time (user + sys, seconds) the hosts' sessions used so far: every host's sshd listener
        reaps its session processes, so their CPU, with that of every command they waited for,
        accumulates in the listener's cutime + cstime (/proc/PID/stat). The difference around a run is
        the work the hosts did for it (sshd's handshake and session, the shell, its commands)."""
        total, tck = 0, os.sysconf("SC_CLK_TCK")
        for h in self.hosts:
            try:
                with open(os.path.join(self.state, "run", f"host{h['index']}.pid")) as f:
                    pid = int(f.read().strip())
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[13]) + int(fields[14])
            except (OSError, ValueError, IndexError):
                return None
        return total / tck

    def sshd_counts(self, offsets):
        conns, chans = 0, 0
        for h in self.hosts:
            p = os.path.join(self.state, "logs", f"host{h['index']}.sshd.log")
            with open(p, "rb") as f:
                f.seek(offsets[h["index"]])
                text = f.read().decode(errors="replace")
            conns += len(re.findall(r"^Accepted publickey for ", text, re.M))
            chans += len(re.findall(r"^Starting session: ", text, re.M))
        return conns, chans

    def das_file(self, h, rel):
        return os.path.join(h["root"], HOME, rel)

    def starts_offsets(self):
        out = {}
        for h in self.das:
            p = self.das_file(h, "repository/logs/starts.log")
            out[h["name"]] = os.path.getsize(p) if os.path.exists(p) else 0
        return out

    def new_starts(self, offsets):
        """[(epoch, host, profile, user, java_home)] of the DAS starts logged since the offsets were
        taken (user: the server's effective user, as the stand-in records it)."""
        out = []
        for h in self.das:
            p = self.das_file(h, "repository/logs/starts.log")
            if not os.path.exists(p):
                continue
            with open(p, "rb") as f:
                f.seek(offsets.get(h["name"], 0))
                for line in f.read().decode().splitlines():
                    m = re.match(r"(\S+) start pid=\d+ profile=(\S+) .* user=(\S+) uid=\d+ java_home=(\S+)$", line)
                    if m:
                        out.append((stamp_ms(m.group(1)), h["name"], m.group(2), m.group(3), m.group(4)))
        return sorted(out)

    def server_account(self, h):
        """(user, JAVA_HOME) a node's server must run as: the owner of the DAS home (the sandbox's
        service user) and das_java_home from the inventory, else the JAVA_HOME its login
        environment exports (/etc/profile.d/java.sh)."""
        st = os.stat(os.path.join(h["root"], HOME))
        with open(os.path.join(h["root"], "etc", "passwd")) as f:
            user = next((l.split(":")[0] for l in f if l.split(":")[2:3] == [str(st.st_uid)]), str(st.st_uid))
        java_home = self.inventory_hosts[h["name"]]["data"].get("das_java_home")
        if not java_home:
            try:
                m = re.search(r"^export JAVA_HOME=(\S+)$", open(os.path.join(h["root"], "etc", "profile.d", "java.sh")).read(), re.M)
                java_home = m.group(1) if m else None
            except OSError:
                pass
        return user, java_home

    def healthy_at(self, h, since):
        """When the node logged "WSO2 Carbon started" at or after `since` (epoch), or None."""
        p = self.das_file(h, "repository/logs/wso2carbon.log")
        if not os.path.exists(p):
            return None
        with open(p) as f:
            for line in f:
                m = re.match(r"\[(\S+)\].*WSO2 Carbon started", line)
                if m and stamp_ms(m.group(1)) >= since - 0.001:
                    return stamp_ms(m.group(1))
        return None

    def last_error(self, h, since):
        """The last ERROR line a node's wso2carbon.log has from `since` (epoch) on, shortened, or None."""
        p = self.das_file(h, "repository/logs/wso2carbon.log")
        errors = []
        try:
            with open(p, errors="replace") as f:
                for line in f:
                    m = re.match(r"\[(\S+)\]\s+ERROR ", line)
                    if m and stamp_ms(m.group(1)) >= since - 0.001:
                        errors.append(line.strip())
        except (OSError, ValueError):
            return None
        return errors[-1][:240] if errors else None

    def not_listening(self):
        """The nodes whose server does not listen on its HTTPS port (9443, offset 0)."""
        out = []
        for h in self.das:
            try:
                socket.create_connection((h["addr"], 9443), timeout=2).close()
            except OSError:
                out.append(f"{h['name']}: port 9443 is not open after the run")
        return out

    def mysql(self, sql):
        sock = os.path.join(self.db["root"], "run-mysqld", "mysqld.sock")
        return sh(["mariadb", f"--socket={sock}", "--batch", "--skip-column-names", "-e", sql]).stdout


# ------------------------------------------------------------------------------------ the checks
