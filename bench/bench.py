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

The parts: bench_common.py (paths, constants, the sandbox as the bench drives it), bench_checks.py
(what every run must leave on the hosts), bench_runs.py (running the tools and the floor, the
scenario driver), bench_report.py (medians, ratios, targets, latest.md, charts); this file reads
the arguments and runs them.
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
from bench_common import *  # noqa: F401,F403
from bench_checks import *  # noqa: F401,F403
from bench_runs import *  # noqa: F401,F403
from bench_report import *  # noqa: F401,F403


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
