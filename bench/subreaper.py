#!/usr/bin/env python3
"""Runs a command (the sandbox's `up`) as a child subreaper, then reaps orphans until SIGTERM.

The sandbox's stand-in DAS servers are detached (setsid nohup … &): when the script that started
one exits, the kernel gives the orphan to the nearest ancestor that reaps orphans, normally PID 1.
On this machine PID 1 reaps late (a stopped server stays a zombie for ~1.5-2 s), and every
health gate waits for the old PID to be gone, so each restart of a running node would take ~2 s
longer than on a host whose init reaps at once. Started through this helper, the hosts' sshd
processes, and so everything they start, have it as their nearest subreaper; it reaps at once.
Usage: subreaper.py STATUS_FILE COMMAND… — writes COMMAND's exit status to STATUS_FILE, then
stays alive (reaping) when it was 0.
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("subreaper: prctl(PR_SET_CHILD_SUBREAPER) failed")
libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)  # never outlive bench.py
status_file, command = sys.argv[1], sys.argv[2:]
rc = subprocess.call(command)
with open(status_file, "w") as f:
    f.write(f"{rc}\n")
if rc != 0:
    sys.exit(rc)
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.2)
