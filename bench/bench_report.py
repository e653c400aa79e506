"""The report: medians, ratios, the targets' table, latest.md and the charts (see bench.py)."""
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
