#!/usr/bin/env python3
"""dasprov benchmarks: the scenarios, their checks, the table and the charts (run by bench/run.sh).

Every tool runs against the same sandbox hosts (real sshd processes in mount namespaces): the
first apply on freshly seeded hosts (`sandbox.sh reset` before it), a no-op re-run, and a
one-variable change (db_password: the database user's password, the datasources of every node,
a rolling restart of every node), on 8 hosts; the no-op on 64 hosts. Each timed run is checked
afterwards, from the hosts' own files: the configuration every node must have, the database's
state, and the restarts the run did (one per node, in role order, one node at a time, or none).
Timings are medians over the runs with their min-max; ratios are between medians of one run of
this script. Nothing here adjusts a figure: a missed target prints FAIL.
"""
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


def file_digests(sb):
    """What the run left behind, per DAS host: sha256, owner and mode of every managed file and of
    the MySQL connector the inventory names, and the symlink's target."""
    out = {}
    for h in sb.das:
        d = {}
        jar = sb.inventory_hosts[h["name"]]["data"].get("mysql_jdbc_jar")
        rels = MANAGED + ([f"repository/components/lib/{os.path.basename(jar)}"] if jar else [])
        for rel in rels:
            p = sb.das_file(h, rel)
            if os.path.exists(p):
                st = os.stat(p)
                d[rel] = (hashlib.sha256(open(p, "rb").read()).hexdigest(), st.st_uid, f"{st.st_mode & 0o7777:04o}")
            else:
                d[rel] = None
        link = os.path.join(h["root"], "opt", "wso2das")
        d["symlink"] = os.readlink(link) if os.path.islink(link) else None
        out[h["name"]] = d
    return out


def check_config(sb, password):
    """The configuration the site playbook gives every node, read from the node's own files."""
    problems = []
    addr = {h["name"]: h["addr"] for h in sb.das}
    for h in sb.das:
        name, role = h["name"], sb.role_of[h["name"]]

        def bad(msg):
            problems.append(f"{name}: {msg}")

        def xml(rel):
            try:
                return ET.parse(sb.das_file(h, rel)).getroot()
            except Exception as e:  # noqa: BLE001
                bad(f"{rel} does not parse: {e}")
                return None

        link = os.path.join(h["root"], "opt", "wso2das")
        if not os.path.islink(link) or os.readlink(link) != "/opt/wso2das-3.1.0":
            bad("no symlink /opt/wso2das -> /opt/wso2das-3.1.0")
        # The MySQL connector from mysql_jdbc_jar, mode 0644, the same bytes
        jar = sb.inventory_hosts[name]["data"].get("mysql_jdbc_jar")
        dest = sb.das_file(h, f"repository/components/lib/{os.path.basename(jar)}") if jar else None
        if not jar:
            bad("the inventory names no mysql_jdbc_jar")
        elif not os.path.isfile(dest) or open(dest, "rb").read() != open(jar, "rb").read():
            bad(f"the MySQL connector {os.path.basename(jar)} is not in repository/components/lib")
        elif os.stat(dest).st_mode & 0o7777 != 0o644:
            bad(f"the MySQL connector has mode {os.stat(dest).st_mode & 0o7777:04o}, want 0644")
        # The files the tools rewrite keep their owner (the service user's, as seeded)
        owner = os.stat(os.path.join(h["root"], HOME)).st_uid
        moved = [rel for rel in MANAGED if os.path.exists(sb.das_file(h, rel)) and os.stat(sb.das_file(h, rel)).st_uid != owner]
        if moved:
            bad(f"{', '.join(moved)} no longer owned by the DAS home's owner (uid {owner})")
        ns = {"c": "http://wso2.org/projects/carbon/carbon.xml"}
        root = xml("repository/conf/carbon.xml")
        if root is not None and (root.findtext("c:Ports/c:Offset", namespaces=ns) or "").strip() != "0":
            bad("carbon.xml Ports/Offset is not 0")
        # Datasources
        url = f"jdbc:mysql://{sb.db_host}:3306/"
        root = xml("repository/conf/datasources/master-datasources.xml")
        if root is not None:
            for ds, db in (("WSO2UM_DB", "userdb"), ("WSO2REG_DB", "regdb")):
                found = [d for d in root.iter("datasource") if d.findtext("name") == ds]
                if len(found) != 1:
                    bad(f"master-datasources.xml has {len(found)} {ds} datasources")
                    continue
                c = found[0].find("definition/configuration")
                if c is None or c.findtext("url") != url + db or c.findtext("password") != password \
                        or c.findtext("username") != "dasuser" or c.findtext("maxActive") != MAX_ACTIVE:
                    bad(f"master-datasources.xml {ds} is not the shared MySQL datasource")
        root = xml("repository/conf/datasources/analytics-datasources.xml")
        if root is not None:
            for db in DATABASES[2:]:
                c = next((d.find("definition/configuration") for d in root.iter("datasource")
                          if d.findtext("name") == db), None)
                want = {"url": url + db, "username": "dasuser", "password": password,
                        "driverClassName": "com.mysql.jdbc.Driver", "testOnBorrow": "true",
                        "validationInterval": "30000", "defaultAutoCommit": "false", "maxActive": MAX_ACTIVE}
                if c is None or any(c.findtext(k) != v for k, v in want.items()):
                    bad(f"analytics-datasources.xml {db} is not on MySQL as the seed says")
        root = xml("repository/conf/user-mgt.xml")
        if root is not None:
            p = [e.text for e in root.iter("Property") if e.get("name") == "dataSource"]
            if p != ["jdbc/WSO2UM_DB"]:
                bad("user-mgt.xml dataSource is not jdbc/WSO2UM_DB")
        root = xml("repository/conf/registry.xml")
        if root is not None:
            mounts = sorted(m.get("path") for m in root.findall("mount") if m.get("overwrite") == "true")
            ri = root.find("remoteInstance")
            if mounts != ["/_system/config", "/_system/governance"] or ri is None \
                    or ri.findtext("cacheId") != f"dasuser@jdbc:mysql://{sb.db_host}:3306/regdb" \
                    or not any(d.get("name") == "govregistry" for d in root.findall("dbConfig")):
                bad("registry.xml lacks the governance/config mounts on WSO2REG_DB")
        # Hazelcast clustering with the members computed from the groups
        root = xml("repository/conf/axis2/axis2.xml")
        if root is not None:
            cl = root.find("clustering")
            peers = sb.groups["analyzers"] if role == "analyzers" else sb.groups["indexers"] + sb.groups["receivers"]
            members = [(m.findtext("hostName"), m.findtext("port")) for m in cl.iter("member")] if cl is not None else []
            params = {p.get("name"): (p.text or "") for p in cl.findall("parameter")} if cl is not None else {}
            if cl is None or cl.get("enable") != "true" or params.get("membershipScheme") != "wka" \
                    or params.get("localMemberHost") != addr[name] or params.get("localMemberPort") != "4000":
                bad("axis2.xml clustering is not enabled as wka on this node's address")
            if members != [(addr[p], "4000") for p in peers]:
                bad(f"axis2.xml members {members} are not {[addr[p] for p in peers]}")
        # Event processor: HA + Distributed; presenters are non-workers presenting on their own
        # address, every other node a worker; every node advertises its own eventSync and
        # management address; the presentation port; persistence (FACTS.md §10)
        root = xml("repository/conf/event-processor.xml")
        if root is not None:
            modes = {m.get("name"): m for m in root.findall("mode")}
            ha = modes.get("HA")
            ok = ha is not None and ha.get("enable") == "true" and modes.get("Distributed") is not None \
                and modes["Distributed"].get("enable") == "true"
            if ok:
                presenter = role == "presenters"
                ok = ha.find("nodeType/presenter").get("enable") == ("true" if presenter else "false") \
                    and ha.find("nodeType/worker").get("enable") == ("false" if presenter else "true") \
                    and ha.findtext("eventSync/hostName") == addr[name] \
                    and ha.findtext("management/hostName") == addr[name] \
                    and ha.findtext("presentation/hostName") == (addr[name] if presenter else "0.0.0.0") \
                    and ha.findtext("presentation/port") == ("11002" if role == "analyzers" else "11000") \
                    and ha.find("persistence").get("enable") == "true"
            if not ok:
                bad("event-processor.xml is not HA+Distributed with this role's worker/presenter, "
                    "eventSync/management/presentation addresses and port")
        # Spark on the analyzers only
        text = open(sb.das_file(h, "repository/conf/analytics/spark/spark-defaults.conf")).read()
        on = re.search(r"^carbon\.spark\.master\.count\s+2$", text, re.M) and \
            re.search(r"^carbon\.das\.symbolic\.link\s+/opt/wso2das$", text, re.M)
        if role == "analyzers" and not on:
            bad("spark-defaults.conf lacks the two masters and the symlink")
        if role != "analyzers" and on:
            bad("spark-defaults.conf changed on a node that is not an analyzer")
        # The RedHat-only CARBON_HOME line: exactly once, before the script computes CARBON_HOME
        lines = open(sb.das_file(h, "bin/wso2server.sh")).read().splitlines()
        exports = [i for i, l in enumerate(lines) if re.match(r"^[ \t]*export[ \t]+CARBON_HOME=", l)]
        compute = next((i for i, l in enumerate(lines) if l.startswith('[ -z "$CARBON_HOME" ]')), None)
        if compute is None:
            bad("wso2server.sh no longer computes CARBON_HOME")
            continue
        if h["family"] == "RedHat":
            if len(exports) != 1 or lines[exports[0]] != "export CARBON_HOME='/opt/wso2das'" or exports[0] > compute:
                bad(f"wso2server.sh: {len(exports)} CARBON_HOME exports, want exactly one before line {compute + 1}")
        elif exports:
            bad("wso2server.sh exports CARBON_HOME on a non-RedHat node")
    return problems


def check_database(sb, password):
    problems = []
    out = sb.mysql(
        "SELECT 'db', SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA;"
        " SELECT 'user', Host, authentication_string FROM mysql.user WHERE User = 'dasuser';"
        " SELECT 'grant', REPLACE(TABLE_SCHEMA, '\\\\_', '_'), COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES"
        "   WHERE GRANTEE = \"'dasuser'@'127.0.0.1'\" GROUP BY TABLE_SCHEMA;"
        " SELECT 'tables', TABLE_SCHEMA, COUNT(*) FROM information_schema.TABLES GROUP BY TABLE_SCHEMA;")
    rows = [line.split("\t") for line in out.splitlines()]
    dbs = {r[1]: r[2] for r in rows if r[0] == "db"}
    users = {r[1]: r[2] for r in rows if r[0] == "user"}
    grants = {r[1]: int(r[2]) for r in rows if r[0] == "grant"}
    tables = {r[1]: int(r[2]) for r in rows if r[0] == "tables"}
    for d in DATABASES:
        if d not in dbs:
            problems.append(f"db1: database {d} missing")
        elif d in ("userdb", "regdb") and dbs[d] != "latin1":
            problems.append(f"db1: database {d} has character set {dbs[d]}, want latin1")
        if grants.get(d, 0) < 8:
            problems.append(f"db1: dasuser lacks privileges on {d}")
    if users.get("127.0.0.1") != native_hash(password):
        problems.append("db1: dasuser@127.0.0.1 does not have the inventory's password")
    for d in ("userdb", "regdb"):
        if tables.get(d, 0) == 0:
            problems.append(f"db1: no Carbon schema in {d}")
    return problems


def check_restarts(sb, offsets, expect_all):
    """Every node restarted once with its role's profile, role by role, one node at a time and
    each healthy before the next began, every node up at the end; or (no-op) no start at all."""
    problems = []
    starts = sb.new_starts(offsets)
    if not expect_all:
        if starts:
            problems.append(f"{len(starts)} DAS starts in a run that should change nothing")
        return problems + sb.not_listening(), []
    names = [s[1] for s in starts]
    for h in sb.das:
        n = names.count(h["name"])
        if n != 1:
            problems.append(f"{h['name']}: started {n} times, want once")
    by_name = {h["name"]: h for h in sb.das}
    for t, name, profile, user, java_home in starts:
        if profile != PROFILES[sb.role_of[name]]:
            problems.append(f"{name}: started with {profile}, want {PROFILES[sb.role_of[name]]}")
        want_user, want_java = sb.server_account(by_name[name])
        if (user, java_home) != (want_user, want_java):
            problems.append(f"{name}: started as {user} with JAVA_HOME {java_home}, want {want_user} with {want_java}")
        # Every start came up: the stand-in refuses to start as the product would (no JAVA_HOME, no
        # connector, a conf file that does not parse, a datasource that cannot log in) and then
        # never logs the start-up line.
        if sb.healthy_at(by_name[name], t) is None:
            err = sb.last_error(by_name[name], t)
            problems.append(f"{name}: never logged 'WSO2 Carbon started' after its start" + (f" ({err})" if err else ""))
    order = [ROLES.index(sb.role_of[n]) for n in names]
    if order != sorted(order):
        problems.append("restarts not in role order: " + " ".join(names))
    for (t0, n0, *_), (t1, n1, *_) in zip(starts, starts[1:]):
        ready = sb.healthy_at(by_name[n0], t0)
        if ready is None or t1 < ready:
            problems.append(f"{n1} started before {n0} was healthy (not one at a time)")
    return problems + sb.not_listening(), names


# ------------------------------------------------------------------------------------ the tools


def run_tool(tool, sb, inventory, tag):
    """One timed run. Returns a record with the wall time, exit status, peak RSS, what the tool
    reported, and what the hosts' sshd logged."""
    os.makedirs(LOGS, exist_ok=True)
    base = os.path.join(LOGS, tag)
    tfile, rss_file = base + ".time", base + ".rss"
    for p in (tfile, rss_file):
        if os.path.exists(p):
            os.remove(p)
    if tool == "dasprov":
        cmd = [DASPROV, "apply", inventory, "--json", "--no-color"]
    elif tool == "ansible-core":
        cmd = [os.path.join(BENCH, "peers", "ansible", "run.sh"), inventory]
    else:
        cmd = [os.path.join(BENCH, "peers", "pyinfra", "run.sh"), inventory]
    env = dict(os.environ, DASP_TIME_FILE=tfile, NO_COLOR="1", ANSIBLE_NOCOLOR="1")
    offsets = sb.log_offsets()
    load = loadavg()
    host0 = sb.host_cpu()
    with open(base + ".out", "w") as out, open(base + ".err", "w") as err:
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd, cwd=REPO, env=env,
                           stdout=out, stderr=err, timeout=TOOL_TIMEOUT)
        wall = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if os.path.exists(tfile):  # the peers' own measure: the tool without its wrapper script
        a, b = open(tfile).read().split()
        wall = float(b) - float(a)
    time.sleep(0.2)  # let the sshd children flush their last log lines
    conns, chans = sb.sshd_counts(offsets)
    host1 = sb.host_cpu()
    rss = None
    try:
        rss = int(open(rss_file).read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        pass
    # Controller CPU: user + sys of the process tree waited for (/usr/bin/time and the tool with
    # every child it waited for; /usr/bin/time's own share is well under a millisecond).
    rec = dict(tool=tool, rc=p.returncode, seconds=round(wall, 4), peak_rss_kb=rss, ssh_connections=conns,
               exec_channels=chans, hosts=len(sb.hosts), load1=load, log=os.path.relpath(base, RESULTS),
               cpu_user=round(ru1.ru_utime - ru0.ru_utime, 4), cpu_sys=round(ru1.ru_stime - ru0.ru_stime, 4),
               host_cpu=None if None in (host0, host1) else round(host1 - host0, 3))
    out_text = open(base + ".out").read()
    if tool == "dasprov":
        try:
            doc = json.loads(out_text)
            hs = doc["hosts"]
            rec["reported_changed_hosts"] = doc["summary"]["changed_hosts"]
            rec["reported_restarts"] = doc["summary"]["restarts"]
            rec["round_trips"] = [h["round_trips"] for h in hs]
            rec["channels"] = [h["channels"] for h in hs]
            rec["bytes_received"] = [h.get("bytes_received") for h in hs]  # channel data, per host
        except (ValueError, KeyError) as e:
            rec["parse_error"] = str(e)
    elif tool == "ansible-core":
        changed = [int(m) for m in re.findall(r"^\S+\s+: ok=\d+\s+changed=(\d+)", out_text, re.M)]
        rec["reported_changed_hosts"] = sum(1 for c in changed if c)
        rec["reported_changed_tasks"] = sum(changed)
    else:
        m = re.search(r"Grand total\s+(\d+)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)", out_text)
        if m:
            rec["reported_changed_ops"] = 0 if m.group(2) == "-" else int(m.group(2))
            rec["reported_changed_hosts"] = None
    return rec


def devnull_ok():
    """Whether /dev/null is still the null device. On a shared machine another process may replace
    it with a regular file (creating a file "atomically" at /dev/null does); sshd then fails
    sessions with "Couldn't open /dev/null", and nothing measured meanwhile means anything."""
    import stat
    try:
        st = os.stat("/dev/null")
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 3


def floor_openssh(sb, tag):
    """`ssh -o ControlMaster=no HOST true` to every host of the inventory at once."""
    empty = os.path.join(LOGS, "empty-ssh-config")  # not -F /dev/null: see docs/benchmarks.md
    open(empty, "w").close()
    opts = ["-F", empty, "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={sb.state}/known_hosts",
            "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "ControlMaster=no",
            "-o", "LogLevel=ERROR", "-i", f"{sb.state}/id_ed25519"]
    offsets = sb.log_offsets()
    t0 = time.perf_counter()
    procs = [subprocess.Popen(["ssh", *opts, "-p", str(h["port"]), f"root@{h['addr']}", "true"])
             for h in sb.hosts]
    rcs = [p.wait() for p in procs]
    wall = time.perf_counter() - t0
    time.sleep(0.1)
    conns, chans = sb.sshd_counts(offsets)
    return dict(tool="openssh", rc=max(rcs), seconds=round(wall, 4), ssh_connections=conns, exec_channels=chans,
                hosts=len(sb.hosts), load1=loadavg(), log=tag)


def floor_libssh2(sb, ssh_bench, tag):
    """dasprov's own transport (bench/ssh/main.swift): connect + auth + `exec true`, one thread per host."""
    ports = {h["port"] for h in sb.hosts}
    if len(ports) != 1:
        return dict(tool="libssh2", rc=-1, seconds=None, note="hosts on different ports", log=tag)
    offsets = sb.log_offsets()
    t0 = time.perf_counter()
    p = subprocess.run([ssh_bench, "connect", "--port", str(ports.pop()), "--user", "root",
                        "--key", f"{sb.state}/id_ed25519", "--known-hosts", f"{sb.state}/known_hosts",
                        "--forks", str(len(sb.hosts))] + [h["addr"] for h in sb.hosts],
                       capture_output=True, text=True, timeout=120)
    outer = time.perf_counter() - t0
    m = re.search(r"wall=([0-9.]+)", p.stdout)
    time.sleep(0.1)
    conns, chans = sb.sshd_counts(offsets)
    return dict(tool="libssh2", rc=p.returncode, seconds=float(m.group(1)) if m else None,
                process_seconds=round(outer, 4), ssh_connections=conns, exec_channels=chans,
                hosts=len(sb.hosts), load1=loadavg(), detail=p.stdout.strip(), log=tag)


def floor_client(sb, floor_bin, tag):
    """The floor: bench/floor/floor.c, a bare C libssh2 client sharing no code with dasprov: connect
    (TCP_NODELAY), check the host key, authenticate, run `true`, one thread per host, all at once.
    Its hosts file is written from the sandbox's inventory (the hosts and settings dasprov uses)."""
    hosts_file = os.path.join(LOGS, f"floor-hosts-{sb.size}.txt")
    with open(hosts_file, "w") as f:
        for h in sb.hosts:
            v = sb.inventory_hosts[h["name"]]["data"]
            f.write(f"{v.get('ansible_host', h['name'])} {v.get('ansible_port', 22)} {v.get('ansible_user', 'root')} "
                    f"{v['ansible_ssh_private_key_file']} {v['dasprov_known_hosts']}\n")
    offsets = sb.log_offsets()
    host0 = sb.host_cpu()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([floor_bin, hosts_file], capture_output=True, text=True, timeout=120)
    outer = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"wall=([0-9.]+)", p.stdout)
    time.sleep(0.1)
    conns, chans = sb.sshd_counts(offsets)
    host1 = sb.host_cpu()
    return dict(tool="floor", rc=p.returncode, seconds=float(m.group(1)) if m else None,
                process_seconds=round(outer, 4), ssh_connections=conns, exec_channels=chans,
                cpu_user=round(ru1.ru_utime - ru0.ru_utime, 4), cpu_sys=round(ru1.ru_stime - ru0.ru_stime, 4),
                host_cpu=None if None in (host0, host1) else round(host1 - host0, 3),
                hosts=len(sb.hosts), load1=loadavg(), detail=(p.stdout + p.stderr).strip(), log=tag)


# ------------------------------------------------------------------------------------ scenarios


class Bench:
    def __init__(self, args):
        self.args = args
        self.records = []
        self.reference = {}  # (size, password) -> file digests after dasprov's run

    def add(self, rec, **kw):
        rec.update(kw)
        self.records.append(rec)
        ok = "ok" if rec.get("rc") == 0 and not rec.get("problems") else "FAILED" if rec.get("rc") else "CHECK FAILED"
        extra = ""
        if rec.get("problems"):
            extra = "  <- " + "; ".join(rec["problems"][:4]) + (" …" if len(rec["problems"]) > 4 else "")
        secs = rec.get("seconds")
        say(f"  {rec['scenario']:<14} {rec['size']:>3} hosts  {rec['tool']:<13} "
            f"{secs if secs is None else f'{secs:8.3f} s'}  {ok}{extra}")

    def timed(self, tool, sb, scenario, password, run, expect_restarts, check_db=True):
        tag = f"{sb.size}-{scenario}-{tool}-{run}"
        starts = sb.starts_offsets()
        null_before = devnull_ok()
        rec = run_tool(tool, sb, sb.inventories[password], tag)
        problems = []
        if not (null_before and devnull_ok()):
            problems.append("/dev/null was not the null device during this run (another process replaced it "
                            "with a regular file): sshd sessions fail; the run does not count")
            rec["rc"] = rec["rc"] or -1
        if rec["rc"] != 0:
            problems.append(f"exit status {rec['rc']} (see results/{rec['log']}.out/.err)")
        problems += check_config(sb, password)
        if check_db:
            problems += check_database(sb, password)
        rp, order = check_restarts(sb, starts, expect_restarts)
        problems += rp
        digests = file_digests(sb)
        key = (sb.size, password)
        if tool == "dasprov" and not problems:
            self.reference.setdefault(key, digests)
        rec["identical_to_dasprov"] = None if key not in self.reference else digests == self.reference[key]
        if rec["identical_to_dasprov"] is False:
            diff = sorted({f"{h}:{f}" for h in digests for f in digests[h]
                           if digests[h][f] != self.reference[key][h].get(f)})
            rec["differs_from_dasprov"] = diff[:20]
            # Like with like: a peer must leave the files dasprov leaves (bytes, owner, mode).
            problems.append(f"{len(diff)} files differ from dasprov's after the same scenario (bytes, owner "
                            f"or mode): " + ", ".join(diff[:4]) + (" …" if len(diff) > 4 else ""))
        # A no-op must report no change; a run that changes things must say so.
        reported = rec.get("reported_changed_hosts")
        if scenario.startswith("noop"):
            if tool == "pyinfra" and rec.get("reported_changed_ops"):
                problems.append(f"pyinfra reported {rec['reported_changed_ops']} changed operations in a no-op")
            if reported:
                problems.append(f"{tool} reported {reported} changed hosts in a no-op")
        self.add(rec, scenario=scenario, size=sb.size, run=run, problems=problems, restart_order=order)
        return not problems

    def floors(self, sb, run, reps=3):
        def add(rec, ok_before):
            problems = [] if ok_before and devnull_ok() else ["/dev/null was not the null device during this run"]
            if problems:
                rec["rc"] = rec.get("rc") or -1
            if rec.get("rc") != 0:
                problems.append(f"exit status {rec.get('rc')}")
            self.add(rec, scenario="ssh-floor", size=sb.size, run=run, problems=problems)

        for k in range(reps):
            ok = devnull_ok()
            add(floor_openssh(sb, f"{sb.size}-floor-openssh-{run}.{k}"), ok)
            if self.args.ssh_bench:
                ok = devnull_ok()
                add(floor_libssh2(sb, self.args.ssh_bench, f"{sb.size}-floor-libssh2-{run}.{k}"), ok)
            if self.args.floor:
                ok = devnull_ok()
                add(floor_client(sb, self.args.floor, f"{sb.size}-floor-c-{run}.{k}"), ok)

    def eight(self, size):
        sb = Sandbox(size)
        sb.up()
        try:
            for run in range(1, self.args.runs + 1):
                say(f"run {run}/{self.args.runs}, {size} hosts")
                self.floors(sb, run)
                # Rotate the order of the tools from run to run (dasprov first in run 1: its files
                # are the reference the peers' files are compared with).
                k = (run - 1) % len(TOOLS)
                for tool in TOOLS[k:] + TOOLS[:k]:
                    sb.reset()
                    if not self.timed(tool, sb, "first", PASSWORD_A, run, expect_restarts=True):
                        continue
                    self.timed(tool, sb, "noop", PASSWORD_A, run, expect_restarts=False)
                    self.timed(tool, sb, "change", PASSWORD_B, run, expect_restarts=True)
        finally:
            sb.down()

    def sixty_four(self, size):
        sb = Sandbox(size)
        sb.up()
        try:
            # The hosts are converged once by dasprov (timed: its first apply on 64 hosts); with
            # --peer-first-64 each peer's first apply is timed once as well, each on fresh hosts
            # (the peers leave the same files, so the no-op runs below start from the same state).
            for tool in ["dasprov"] + (PEERS if self.args.peer_first_64 else []):
                sb.reset()
                self.timed(tool, sb, "first", PASSWORD_A, 1, expect_restarts=True)
            for run in range(1, self.args.runs + 1):
                say(f"run {run}/{self.args.runs}, {size} hosts")
                self.floors(sb, run)
                k = (run - 1) % len(TOOLS)
                for tool in TOOLS[k:] + TOOLS[:k]:
                    self.timed(tool, sb, "noop", PASSWORD_A, run, expect_restarts=False)
        finally:
            sb.down()


# ------------------------------------------------------------------------------------ reporting


def summary(records, size, scenario, tool):
    xs = [r["seconds"] for r in records if r["size"] == size and r["scenario"] == scenario and r["tool"] == tool
          and r.get("rc") == 0 and r.get("seconds") is not None]
    bad = [r for r in records if r["size"] == size and r["scenario"] == scenario and r["tool"] == tool
           and (r.get("rc") != 0 or r.get("problems"))]
    if not xs:
        return None
    return dict(median=statistics.median(xs), min=min(xs), max=max(xs), n=len(xs), failed=len(bad))


def fmt(s):
    if s is None:
        return "—"
    spread = f" ({s['min']:.2f}–{s['max']:.2f})" if s["n"] > 1 else ""
    flag = f" ⚠{s['failed']} failed check" if s["failed"] else ""
    return f"{s['median']:.3f} s{spread}{flag}"


def per_host(records, size, scenario, tool, key):
    rs = [r for r in records if r["size"] == size and r["scenario"] == scenario and r["tool"] == tool
          and r.get("rc") == 0 and r.get(key) is not None]
    if not rs:
        return None
    return statistics.median(r[key] / r["hosts"] for r in rs)


def num(x):
    return "—" if x is None else f"{x:.2f}"


FLOOR_RATIO, CPU_MS_PER_HOST, BYTES_PER_HOST = 1.25, 1.0, 8 * 1024


def median_of(records, size, scenario, tool, f):
    xs = [f(r) for r in records if r["size"] == size and r["scenario"] == scenario and r["tool"] == tool
          and r.get("rc") == 0]
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def cpu_seconds(r):
    return r["cpu_user"] + r["cpu_sys"] if r.get("cpu_user") is not None else None


def channel_bytes(r, how):
    bs = r.get("bytes_received") or []
    if not bs or any(b is None for b in bs):
        return None
    return max(bs) if how == "max" else sum(bs) / len(bs)


def floor_targets(records, sizes):
    """Issue 19: the no-op against the bare libssh2 client (bench/floor), the marginal controller
    CPU per host, and the channel bytes per host. Per size the figures, and the targets with
    whether each is met (a figure that could not be measured is not met)."""
    per_size, targets = {}, []

    def target(text, value, limit, shown):
        targets.append(dict(target=text, value=value, limit=limit, measured=shown,
                            met=value is not None and value <= limit))

    for size in sizes:
        f, d = summary(records, size, "ssh-floor", "floor"), summary(records, size, "noop", "dasprov")
        hosts = next((r["hosts"] for r in records if r["size"] == size and r["scenario"] == "noop"
                      and r["tool"] == "dasprov"), None)
        row = dict(hosts=hosts, floor_seconds=f and f["median"], noop_seconds=d and d["median"],
                   ratio=d["median"] / f["median"] if f and d else None,
                   noop_cpu_seconds=median_of(records, size, "noop", "dasprov", cpu_seconds),
                   floor_cpu_seconds=median_of(records, size, "ssh-floor", "floor", cpu_seconds),
                   noop_host_cpu_seconds=median_of(records, size, "noop", "dasprov", lambda r: r.get("host_cpu")),
                   floor_host_cpu_seconds=median_of(records, size, "ssh-floor", "floor", lambda r: r.get("host_cpu")),
                   bytes_per_host_mean=median_of(records, size, "noop", "dasprov", lambda r: channel_bytes(r, "mean")),
                   bytes_per_host_max=median_of(records, size, "noop", "dasprov", lambda r: channel_bytes(r, "max")))
        per_size[size] = row
        r = row["ratio"]
        target(f"no-op, {size} hosts: ≤ {FLOOR_RATIO}× the bare libssh2 client", r, FLOOR_RATIO,
               "—" if r is None else f"{r:.2f}×")
    marginal = floor_marginal = None
    if len(sizes) >= 2:
        lo, hi = per_size[min(sizes)], per_size[max(sizes)]
        if None not in (lo["noop_cpu_seconds"], hi["noop_cpu_seconds"], lo["hosts"], hi["hosts"]):
            marginal = (hi["noop_cpu_seconds"] - lo["noop_cpu_seconds"]) * 1000 / (hi["hosts"] - lo["hosts"])
        if None not in (lo["floor_cpu_seconds"], hi["floor_cpu_seconds"], lo["hosts"], hi["hosts"]):
            floor_marginal = (hi["floor_cpu_seconds"] - lo["floor_cpu_seconds"]) * 1000 / (hi["hosts"] - lo["hosts"])
        target(f"no-op: marginal controller CPU (user + sys, {max(sizes)} hosts − {min(sizes)}) ≤ "
               f"{CPU_MS_PER_HOST:g} ms per host", marginal, CPU_MS_PER_HOST,
               "—" if marginal is None else f"{marginal:.2f} ms/host")
    for size in sizes:
        b = per_size[size]["bytes_per_host_max"]
        target(f"no-op, {size} hosts: channel data received ≤ {BYTES_PER_HOST // 1024} KiB per host (largest host)",
               b, BYTES_PER_HOST, "—" if b is None else f"{b / 1024:.1f} KiB")
    return dict(sizes={str(k): v for k, v in per_size.items()}, marginal_cpu_ms_per_host=marginal,
                floor_marginal_cpu_ms_per_host=floor_marginal, targets=targets)


def report(records, env, sizes):
    lines = []
    w = lines.append
    w("# dasprov benchmarks — latest run")
    w("")
    w(f"{env['date']} · commit `{env['commit']}` · {env['cpus']} cores · {env['runs']} runs per scenario · "
      f"load average {env['load_start']:.1f} at the start, {env['load_end']:.1f} at the end")
    w("")
    w(f"dasprov {env['dasprov']} · ansible-core {env['ansible']} · pyinfra {env['pyinfra']} · {env['openssh']} · "
      f"libssh2 {env['libssh2']}. Stand-in DAS server: 0.5 s start delay. Hosts: the DAS nodes plus the "
      "MariaDB host `db1` (8 + 1, 64 + 1); every tool and the SSH floor reach all of them.")
    w("")
    w("Wall time, median (min–max) of the runs. Ratios are between medians of this run.")
    w("")
    w("| scenario | dasprov | ansible-core | pyinfra | ansible ÷ dasprov | pyinfra ÷ dasprov |")
    w("|---|---|---|---|---|---|")
    rows = []
    for size in sizes:
        for scenario, label in (("first", "first apply (incl. rolling restarts)"), ("noop", "no-op re-run"),
                                ("change", "one-variable change (db_password)")):
            ss = {t: summary(records, size, scenario, t) for t in TOOLS}
            if not any(ss.values()):
                continue
            d = ss["dasprov"]
            ratio = lambda t: (f"{ss[t]['median'] / d['median']:.1f}×" if ss[t] and d else "—")  # noqa: E731
            w(f"| {label}, {size} hosts | {fmt(ss['dasprov'])} | {fmt(ss['ansible-core'])} | {fmt(ss['pyinfra'])} "
              f"| {ratio('ansible-core')} | {ratio('pyinfra')} |")
            rows.append((size, scenario, ss))
    w("")
    w("SSH floor (all hosts at once): OpenSSH; dasprov's own transport (bench/ssh); and the floor, a bare C libssh2 "
      "client (bench/floor/floor.c) that shares no code with dasprov. Both libssh2 rows: connect, check the host key, "
      "authenticate, `exec true`, one thread per host.")
    w("")
    w("| hosts | OpenSSH `ssh -o ControlMaster=no HOST true` ∥ | dasprov's transport (bench/ssh) "
      "| floor: bare libssh2 client (bench/floor) | dasprov no-op ÷ OpenSSH | ÷ transport | ÷ floor |")
    w("|---|---|---|---|---|---|---|")
    for size in sizes:
        o, l, c, d = (summary(records, size, "ssh-floor", "openssh"), summary(records, size, "ssh-floor", "libssh2"),
                      summary(records, size, "ssh-floor", "floor"), summary(records, size, "noop", "dasprov"))
        if not (o or l or c):
            continue
        r = lambda s: f"{d['median'] / s['median']:.2f}×" if d and s else "—"  # noqa: E731
        w(f"| {size} + 1 | {fmt(o)} | {fmt(l)} | {fmt(c)} | {r(o)} | {r(l)} | {r(c)} |")
    w("")
    w("Per host (medians over the runs): SSH connections and exec channels counted in the hosts' own sshd logs "
      "(`Accepted publickey`, `Starting session`), dasprov's own count of round trips and of the channel data it "
      "received (`--json`: `round_trips`, `bytes_received`, mean per host), the controller's CPU per run (user + sys "
      "of the whole process tree, from getrusage) and its peak RSS (`/usr/bin/time`, maximum resident set size of "
      "the largest process).")
    w("")
    w("| scenario | tool | SSH connections / host | exec channels / host | round trips / host (dasprov) "
      "| channel bytes / host (dasprov) | CPU user + sys | peak RSS |")
    w("|---|---|---|---|---|---|---|---|")
    for size in sizes:
        for scenario in ("first", "noop", "change"):
            for tool in TOOLS:
                rs = [r for r in records if r["size"] == size and r["scenario"] == scenario and r["tool"] == tool
                      and r.get("rc") == 0]
                if not rs:
                    continue
                rt = ""
                if tool == "dasprov":
                    trips = [statistics.mean(r["round_trips"]) for r in rs if r.get("round_trips")]
                    mx = [max(r["round_trips"]) for r in rs if r.get("round_trips")]
                    rt = f"{statistics.median(trips):.2f} (max {max(mx)})" if trips else "?"
                by = ""
                if tool == "dasprov":
                    bs = [channel_bytes(r, "mean") for r in rs]
                    bs = [b for b in bs if b is not None]
                    by = f"{statistics.median(bs) / 1024:.1f} KiB" if bs else "?"
                cpu = [cpu_seconds(r) for r in rs if cpu_seconds(r) is not None]
                rss = [r["peak_rss_kb"] for r in rs if r.get("peak_rss_kb")]
                w(f"| {scenario}, {size} hosts | {tool} | {num(per_host(records, size, scenario, tool, 'ssh_connections'))} "
                  f"| {num(per_host(records, size, scenario, tool, 'exec_channels'))} | {rt} | {by} "
                  f"| {f'{statistics.median(cpu):.3f} s' if cpu else '?'} "
                  f"| {f'{statistics.median(rss) / 1024:.0f} MiB' if rss else '?'} |")
        for tool in ("openssh", "libssh2", "floor"):
            if summary(records, size, "ssh-floor", tool):
                w(f"| SSH floor, {size} hosts | {tool} | {num(per_host(records, size, 'ssh-floor', tool, 'ssh_connections'))} "
                  f"| {num(per_host(records, size, 'ssh-floor', tool, 'exec_channels'))} | | | | |")
    w("")
    # Targets
    w("## Targets (issue 10), ratios of medians measured in this run")
    w("")
    w("| target | measured | result |")
    w("|---|---|---|")
    verdicts = []

    def target(text, value, ok, shown):
        verdicts.append((text, ok))
        w(f"| {text} | {shown} | {'PASS' if ok else 'FAIL'} |")

    for size in sizes:
        d = summary(records, size, "noop", "dasprov")
        a = summary(records, size, "noop", "ansible-core")
        p = summary(records, size, "noop", "pyinfra")
        o = summary(records, size, "ssh-floor", "openssh")
        if d and a:
            r = a["median"] / d["median"]
            target(f"no-op, {size} hosts: ≥ 50× faster than ansible-core", r, r >= 50, f"{r:.1f}×")
        if d and p:
            r = p["median"] / d["median"]
            target(f"no-op, {size} hosts: ≥ 5× faster than pyinfra", r, r >= 5, f"{r:.1f}×")
        if d and o:
            r = d["median"] / o["median"]
            target(f"no-op, {size} hosts: ≤ 0.5× parallel OpenSSH `ssh true`", r, r <= 0.5, f"{r:.2f}×")
        df, af = summary(records, size, "first", "dasprov"), summary(records, size, "first", "ansible-core")
        if df and af and af["n"] > 0 and size == min(sizes):
            r = af["median"] / df["median"]
            target(f"first apply incl. rolling restarts, {size} hosts: ≥ 5× faster than ansible-core", r, r >= 5,
                   f"{r:.1f}×")
    ft = floor_targets(records, sizes)
    w("")
    w("## The physical floor (issue 19)")
    w("")
    w("The dasprov no-op against the floor (the bare libssh2 client), its controller CPU per run (user + sys, "
      "getrusage of the child) and the channel data it received per host (`bytes_received` of `--json`: the "
      "commands' stdout and stderr, no SSH handshake), medians of the runs.")
    w("")
    w("| hosts | floor | dasprov no-op | no-op ÷ floor | no-op CPU (user + sys) | floor's CPU | hosts' CPU: no-op | hosts' CPU: floor | channel bytes / host, mean | largest host |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        z = ft["sizes"][str(size)]
        sec = lambda x: "—" if x is None else f"{x:.3f} s"  # noqa: E731
        kib = lambda x: "—" if x is None else f"{x / 1024:.1f} KiB"  # noqa: E731
        ratio = "—" if z["ratio"] is None else f"{z['ratio']:.2f}×"
        w(f"| {size} + 1 | {sec(z['floor_seconds'])} | {sec(z['noop_seconds'])} | {ratio} "
          f"| {sec(z['noop_cpu_seconds'])} | {sec(z['floor_cpu_seconds'])} | {sec(z['noop_host_cpu_seconds'])} "
          f"| {sec(z['floor_host_cpu_seconds'])} | {kib(z['bytes_per_host_mean'])} | {kib(z['bytes_per_host_max'])} |")
    if ft.get("floor_marginal_cpu_ms_per_host") is not None:
        w("")
        w(f"The floor client itself spends {ft['floor_marginal_cpu_ms_per_host']:.2f} ms of controller CPU per additional host "
          "(its CPU at the larger size minus at the smaller, over the hosts between, as for dasprov). The hosts' CPU is what the hosts' sshd session processes and "
          "every command they ran used during the run (the sshd listeners' reaped children, /proc/PID/stat); on "
          "this machine the hosts share the controller's cores, so it is wall time too.")
    w("")
    w("Targets, measured in this run. They are the goal of issue 19, under work: printed here and in "
      "`runs.json` (`floor`), they do not change the exit status.")
    w("")
    w("| target | measured | result |")
    w("|---|---|---|")
    for t in ft["targets"]:
        w(f"| {t['target']} | {t['measured']} | {'met' if t['met'] else '**not met**'} |")
    failed_checks = [r for r in records if r.get("problems")]
    w("")
    w("## Checks")
    w("")
    w("After every timed run the hosts' own files were checked: the symlink, the MySQL connector from "
      "`mysql_jdbc_jar` in components/lib (same bytes, mode 0644), carbon.xml, both datasources files "
      "(maxActive 50), user-mgt.xml, registry.xml, axis2.xml (clustering on, wka, members from the groups), "
      "event-processor.xml (per role: presenters non-workers presenting on their own address, every node's "
      "own eventSync and management address), spark-defaults.conf (analyzers only), wso2server.sh (one "
      "`export CARBON_HOME` before CARBON_HOME is computed, on RedHat-family nodes only), the rewritten files "
      "still owned by the DAS home's owner, the database (databases, userdb and regdb in latin1, user, password "
      "hash, grants, schema), and the DAS starts logged by each node (`starts.log`): after a first apply or a change, one start per "
      "node with its role's profile, as the DAS home's owner with the node's JAVA_HOME (`das_java_home`, else "
      "its login environment's), in role order, every start followed by \"WSO2 Carbon started\" (the stand-in "
      "refuses to start as the product would: no JDK, no connector, a conf file that does not parse, a "
      "datasource that cannot log in) before the next one began; after a no-op, none; after every run, every "
      "node listening on 9443. Each peer's managed files and connector (bytes, owner, mode) and the symlink "
      "must equal dasprov's after the same scenario.")
    w("")
    for tool in PEERS:
        same = [r["identical_to_dasprov"] for r in records if r["tool"] == tool and r.get("identical_to_dasprov") is not None]
        if same:
            w(f"- {tool}: managed files and connector identical to dasprov's (bytes, owner, mode) after the same "
              f"scenario in {sum(same)} of {len(same)} runs.")
    if failed_checks:
        w(f"- **{len(failed_checks)} runs failed a check** (their times are kept out of the medians only when the "
          "tool itself failed):")
        for r in failed_checks[:30]:
            w(f"  - {r['scenario']}, {r['size']} hosts, {r['tool']}, run {r['run']}: " + "; ".join(r["problems"][:5]))
    else:
        w("- every run passed every check.")
    return "\n".join(lines) + "\n", verdicts, rows


def charts(records, sizes, ext="svg"):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"dasprov": "#2b7bba", "ansible-core": "#d9534f", "pyinfra": "#f0ad4e", "openssh": "#777777",
              "libssh2": "#aaaaaa", "floor": "#444444"}
    labels = {"openssh": "OpenSSH ssh true ∥", "libssh2": "dasprov transport (bench/ssh)",
              "floor": "floor: bare libssh2 client"}

    def bars(ax, groups, names, title, log):
        width = 0.8 / len(names)
        for k, name in enumerate(names):
            xs, ys, lo, hi = [], [], [], []
            for g, (size, scenario) in enumerate(groups):
                floor = name in ("openssh", "libssh2", "floor")
                s = summary(records, size, "ssh-floor" if floor else scenario, name)
                if s is None:
                    continue
                xs.append(g + (k - (len(names) - 1) / 2) * width)
                ys.append(s["median"])
                lo.append(s["median"] - s["min"])
                hi.append(s["max"] - s["median"])
            if xs:
                ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, color=colors[name], label=labels.get(name, name))
                for x, y in zip(xs, ys):
                    ax.annotate(f"{y:.2f}" if y < 10 else f"{y:.0f}", (x, y), ha="center", va="bottom", fontsize=7,
                                xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([f"{s} hosts" if sc == "noop" else f"{'first apply' if sc == 'first' else 'db_password change'}, "
                            f"{s} hosts" for s, sc in groups])
        if log:
            ax.set_yscale("log")
        ax.set_ylabel("wall time, s" + (" (log scale)" if log else ""))
        ax.set_title(title)
        ax.legend(fontsize=8)
        ax.grid(axis="y", which="both", alpha=0.3)

    groups = [(s, "noop") for s in sizes if summary(records, s, "noop", "dasprov")]
    if groups:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        bars(ax, groups, ["dasprov", "ansible-core", "pyinfra", "openssh", "libssh2", "floor"],
             "no-op re-run: every tool, and the SSH floor (median, min–max)", True)
        fig.tight_layout()
        fig.savefig(os.path.join(RESULTS, f"noop.{ext}"))
        plt.close(fig)
    # Applies: the scenarios every tool ran (the 64-host first apply only with --peer-first-64).
    groups = [(s, sc) for s in sizes for sc in ("first", "change")
              if all(summary(records, s, sc, t) for t in TOOLS)]
    if groups:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        bars(ax, groups, TOOLS, "applies with rolling restarts in role order (median, min–max)", False)
        fig.tight_layout()
        fig.savefig(os.path.join(RESULTS, f"apply.{ext}"))
        plt.close(fig)


def environment(args):
    def out(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip() or \
                subprocess.run(argv, capture_output=True, text=True, timeout=60).stderr.strip()
        except Exception:  # noqa: BLE001
            return "?"
    return dict(
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        commit=out(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]) +
        # bench/results/ is this run's output (bench/bastion.sh has already rewritten bastion.md)
        ("+dirty" if out(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no", "--", ".",
                          ":(exclude)bench/results"]) else ""),
        cpus=os.cpu_count(), runs=args.runs,
        dasprov=out([DASPROV, "--version"]),
        ansible=out([f"{VENV}/bin/python", "-c", "import ansible.release as r; print(r.__version__)"]),
        pyinfra=out([f"{VENV}/bin/python", "-c", "import importlib.metadata as m; print(m.version('pyinfra'))"]),
        openssh=subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip().split(",")[0],
        libssh2=out(["dpkg-query", "-W", "-f=${Version}", "libssh2-1"]),
        load_start=loadavg())


def main():
    # SIGTERM (bench/run.sh interrupted): unwind, so the sandboxes go down and the runs so far are written.
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="8 64")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ssh-bench", default=None)
    ap.add_argument("--floor", default=None, help="the bare libssh2 client built from bench/floor/floor.c")
    ap.add_argument("--peer-first-64", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split()]
    os.makedirs(LOGS, exist_ok=True)
    for f in os.listdir(LOGS):
        os.remove(os.path.join(LOGS, f))
    if not devnull_ok():
        say("bench: /dev/null is not the null device (some process replaced it with a regular file); sshd "
            "sessions fail without it. Restore it (mknod -m 666 /dev/null.new c 1 3 && mv /dev/null.new /dev/null) "
            "once that process is gone, then run the benchmark again.")
        return 2
    env = environment(args)
    began = time.time()
    b = Bench(args)
    try:
        for size in sizes:
            (b.eight if size <= 8 else b.sixty_four)(size)
    finally:
        env["load_end"] = loadavg()
        env["minutes"] = round((time.time() - began) / 60, 1)
        with open(os.path.join(RESULTS, "runs.json"), "w") as f:
            json.dump(dict(environment=env, floor=floor_targets(b.records, sizes), runs=b.records), f, indent=1)
        keys = ["size", "scenario", "tool", "run", "rc", "seconds", "peak_rss_kb", "cpu_user", "cpu_sys",
                "host_cpu", "ssh_connections", "exec_channels", "hosts", "load1", "identical_to_dasprov", "problems", "log"]
        with open(os.path.join(RESULTS, "runs.csv"), "w", newline="") as f:
            wr = csv.writer(f)
            wr.writerow(keys)
            for r in b.records:
                wr.writerow([("; ".join(r[k]) if k == "problems" else r.get(k)) for k in keys])
    text, verdicts, _ = report(b.records, env, sizes)
    text += f"\nThe whole benchmark took {env['minutes']} minutes.\n"
    with open(os.path.join(RESULTS, "latest.md"), "w") as f:
        f.write(text)
    charts(b.records, sizes)
    print()
    print(text)
    print(f"results: {os.path.relpath(RESULTS, REPO)}/ (latest.md, runs.json, runs.csv, noop.svg, apply.svg, logs/)")
    return 0 if all(ok for _, ok in verdicts) and not any(r.get("problems") for r in b.records) else 1


if __name__ == "__main__":
    sys.exit(main())
