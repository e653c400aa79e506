"""The checks every timed run must pass, read from the hosts' own files: configuration, database,
restarts (see bench.py)."""
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
from bench_common import *  # noqa: F401,F403


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
