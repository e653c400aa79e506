"""Running the tools and the SSH floor, and the scenario driver (see bench.py)."""
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
from bench_checks import *  # noqa: F401,F403


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
