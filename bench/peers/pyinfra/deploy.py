# The pyinfra (v3) peer of dasprov's Playbooks/site.dasp: the same work as the ansible-core peer
# (bench/peers/ansible) with pyinfra's own operations. pyinfra runs each operation on every host
# at once before the next one, so the order below is the order of the run: the database, every
# node's configuration, the pre-flight check, then the restarts role by role, one node at a time
# (_serial), each only on a node whose configuration changed.
import hashlib
import os
import shlex
import sys

sys.path.insert(0, os.environ.get("DASP_PEER_DIR", os.getcwd()))

from pyinfra import host  # noqa: E402
from pyinfra.api import FactBase  # noqa: E402
from pyinfra.facts.files import FindInFile  # noqa: E402
from pyinfra.facts.mysql import MysqlUsers  # noqa: E402
from pyinfra.facts.server import LinuxDistribution  # noqa: E402
from pyinfra.operations import files, mysql, server  # noqa: E402
from pyinfra.operations.util import any_changed  # noqa: E402

import das_common as C  # noqa: E402

TEMPLATES = os.path.join(os.path.dirname(os.environ.get("DASP_PEER_DIR", os.getcwd())), "templates")
data = host.data.dict()
v = lambda name: C.var(data, name)  # noqa: E731
groups = host.groups


class SchemaTables(FactBase):
    """Table count of each schema (information_schema.TABLES), as the database's root."""

    def command(self, schemas):
        names = ",".join("'%s'" % s for s in schemas)
        return ("mysql --batch --skip-column-names -e \"SELECT TABLE_SCHEMA, COUNT(*) FROM information_schema.TABLES "
                f"WHERE TABLE_SCHEMA IN ({names}) GROUP BY TABLE_SCHEMA\"")

    def process(self, output):
        return {line.split("\t")[0]: int(line.split("\t")[1]) for line in output if "\t" in line}


NEEDED_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX"]


class SchemaPrivileges(FactBase):
    """How many of the privileges DAS needs the user has on each schema."""

    def command(self, user, client):
        privileges = ",".join("'%s'" % p for p in NEEDED_PRIVILEGES)
        return ("mysql --batch --skip-column-names -e \"SELECT REPLACE(TABLE_SCHEMA, '\\\\_', '_'), COUNT(*) "
                "FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = CONCAT(\\\"'\\\", "
                f"'{user}', \\\"'@'\\\", '{client}', \\\"'\\\") AND PRIVILEGE_TYPE IN ({privileges}) "
                "GROUP BY TABLE_SCHEMA\"")

    def process(self, output):
        return {line.split("\t")[0]: int(line.split("\t")[1]) for line in output if "\t" in line}


def native_password_hash(password):
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()


# ------------------------------------------------------------------ the shared MySQL database
if "mysql" in groups:
    user, client, password = data["db_user"], v("db_client_host"), data["db_password"]
    databases = [("userdb", "latin1"), ("regdb", "latin1"),
                 ("WSO2_ANALYTICS_EVENT_STORE_DB", None), ("WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB", None)]
    for name, charset in databases:
        mysql.database(name=f"database {name}", database=name, charset=charset)
    mysql.user(name=f"user {user}@{client}", user=user, user_hostname=client, password=password)
    # mysql.user does not notice a changed password: compare the stored hash ourselves.
    current = host.get_fact(MysqlUsers).get(f"{user}@{client}")
    if current and current.get("authentication_string") not in (None, native_password_hash(password)):
        mysql.sql(name=f"new password for {user}@{client}",
                  sql="ALTER USER '%s'@'%s' IDENTIFIED BY '%s'" % (user, client, password.replace("\\", "\\\\").replace("'", "\\'")))
    # Grants: pyinfra's mysql.privileges reads SHOW GRANTS with a regex that only knows lower-case
    # database names, so it would grant again on every run for the two WSO2_ANALYTICS_* databases;
    # check information_schema instead and grant what is missing.
    have = host.get_fact(SchemaPrivileges, user=user, client=client) or {}
    for name, _ in databases:
        if have.get(name, 0) < len(NEEDED_PRIVILEGES):
            mysql.sql(name=f"grants on {name}", sql=f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'{client}'")
    # The Carbon schema, loaded once: the DAS distribution's dbscripts/mysql.sql, from the
    # controller's copy of the pack (DASP_SCHEMA_SQL).
    tables = host.get_fact(SchemaTables, schemas=["userdb", "regdb"]) or {}
    missing = [s for s in ("userdb", "regdb") if tables.get(s, 0) == 0]
    if missing:
        files.put(name="Carbon schema", src=os.environ["DASP_SCHEMA_SQL"], dest="/tmp/dasprov-bench-mysql.sql")
        for schema in missing:
            mysql.load(name=f"Carbon schema into {schema}", src="/tmp/dasprov-bench-mysql.sql", database=schema)

# ------------------------------------------------------------------ every DAS node's configuration
if "das" in groups:
    home, link, conf = v("das_home"), v("das_link"), v("das_home") + "/repository/conf"
    address, offset = v("das_address"), int(v("das_port_offset"))
    peers = C.GROUPS["analyzers"] if "analyzers" in groups else C.GROUPS["indexers"] + C.GROUPS["receivers"]
    context = dict(
        das_home=home, das_link=link, das_address=address, das_port_offset=offset,
        hazelcast_port=v("hazelcast_port"), hazelcast_peers=peers,
        hostvars={name: dict(h["data"]) for name, h in C.HOSTS.items()},
        group_names=list(groups), cep_persistence=v("cep_persistence"),
        db_host=data["db_host"], db_port=v("db_port"), db_user=data["db_user"], db_password=data["db_password"],
        das_shared_datasources=[
            {"name": "WSO2UM_DB", "database": "userdb", "description": "The datasource used by user manager"},
            {"name": "WSO2REG_DB", "database": "regdb", "description": "The datasource used by the registry"},
        ],
    )
    jinja = {"trim_blocks": True}

    def template(name, dest, **extra):
        op = files.template(name=name, src=os.path.join(TEMPLATES, name + ".j2"), dest=f"{conf}/{dest}",
                            jinja_env_kwargs=dict(jinja, **extra), **context)
        return op

    files.link(name="DAS home symlink", path=link, target=home)
    changes = [
        template("carbon.xml", "carbon.xml"),
        template("master-datasources.xml", "datasources/master-datasources.xml"),
        template("analytics-datasources.xml", "datasources/analytics-datasources.xml"),
        template("user-mgt.xml", "user-mgt.xml"),
        template("registry.xml", "registry.xml"),
        template("axis2.xml", "axis2/axis2.xml", newline_sequence="\r\n"),
        template("event-processor.xml", "event-processor.xml"),
    ]
    if "analyzers" in groups:
        changes.append(template("spark-defaults.conf", "analytics/spark/spark-defaults.conf"))
    if data.get("mysql_jdbc_jar"):
        changes.append(files.put(name="MySQL JDBC driver", src=data["mysql_jdbc_jar"], mode="644",
                                 dest=f"{home}/repository/components/lib/{os.path.basename(data['mysql_jdbc_jar'])}"))

    # wso2server.sh: exactly one `export CARBON_HOME=<das_link>` before the script computes
    # CARBON_HOME, on RedHat-family systems only (os-release ID or ID_LIKE).
    script = f"{home}/bin/wso2server.sh"
    export_re = r"^[[:blank:]]*export[[:blank:]]+CARBON_HOME="  # an ERE for grep -E and sed -E
    meta = host.get_fact(LinuxDistribution)["release_meta"]
    family = {meta.get("ID", "")} | set(meta.get("ID_LIKE", "").split())
    if family & {"rhel", "centos", "fedora", "rocky", "almalinux", "ol"}:
        # Single-quoted, as dasprov writes it (shell_quote).
        export = "export CARBON_HOME='" + link.replace("'", "'\\''") + "'"
        if host.get_fact(FindInFile, path=script, pattern=export_re, extended_regex=True):
            # The match covers the whole line: sed replaces what it matches, not the line.
            changes.append(files.line(name="export CARBON_HOME on RedHat", path=script, line=export_re + ".*",
                                      replace=export, extended_regex=True))
        else:
            insert = '/^\\[ -z "\\$CARBON_HOME" \\]/i ' + export
            changes.append(server.shell(
                name="export CARBON_HOME on RedHat",
                commands=[f"sed -i {shlex.quote(insert)} {shlex.quote(script)}"]))
    else:
        changes.append(files.line(name="no CARBON_HOME export on other systems", path=script, line=export_re,
                                  present=False, extended_regex=True))
    C.CONFIG_OPS.extend(changes)

    # Pre-flight, when any node owes a restart: every node logs in to the shared database and
    # sees its four databases.
    dbs = ["userdb", "regdb", "WSO2_ANALYTICS_EVENT_STORE_DB", "WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB"]
    server.shell(
        name="pre-flight: the node reaches the shared MySQL database and sees its four databases",
        commands=[
            "out=$(MYSQL_PWD=%s mysql --host %s --port %s --protocol TCP --user %s --connect-timeout 10 --batch "
            "--skip-column-names -e 'SHOW DATABASES') || exit 1; for d in %s; do printf '%%s\\n' \"$out\" | grep -qxF \"$d\" "
            "|| { echo \"database $d not visible\" >&2; exit 1; }; done"
            % (shlex.quote(data["db_password"]), shlex.quote(str(data["db_host"])), v("db_port"),
               shlex.quote(data["db_user"]), " ".join(dbs))],
        _if=C.any_config_changed,
    )

    # ---------------------------------------------------------- rolling restarts in role order
    def restart(role, profile):
        if role not in groups:
            return
        port = 9443 + offset
        gate = f"""
set -e
home={shlex.quote(home)}; link={shlex.quote(link)}; addr={shlex.quote(str(address))}; port={port}
log="$home/repository/logs/wso2carbon.log"; end=$(( $(date +%s) + {int(v("das_start_timeout"))} ))
open() {{ bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$addr" "$port" 2>/dev/null; }}
late() {{ [ "$(date +%s)" -ge "$end" ] && {{ echo "health gate: $1" >&2; exit 1; }}; sleep 0.1; }}
old=$(cat "$home/wso2carbon.pid" 2>/dev/null || true)
size=$(stat -c %s "$log" 2>/dev/null || echo 0)
"$link/bin/wso2server.sh" --stop
if [ -n "$old" ]; then while kill -0 "$old" 2>/dev/null; do late "old process $old still running"; done; fi
while open; do late "port $port still open after the stop"; done
"$link/bin/wso2server.sh" --start {profile}
until open; do late "port $port not open"; done
until tail -c +$((size + 1)) "$log" 2>/dev/null | grep -q "WSO2 Carbon started"; do late "no start-up line in $log"; done
"""
        server.shell(name=f"restart the {role} one at a time, each behind its health gate", commands=[gate],
                     _serial=True, _if=any_changed(*changes))

    restart("analyzers", "-analyzerNode")
    restart("indexers", "-indexerNode")
    restart("receivers", "-receiverNode")
    restart("presenters", "-dashboardNode")
