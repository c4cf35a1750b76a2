#!/usr/bin/python3
"""Lifecycle through Debian's python3-lxc on our library, and interop with
Debian's own LXC tools in both directions over the command socket.
Run with LD_LIBRARY_PATH pointing at our liblxc.so.1.
Usage: python_lifecycle.py PRIVATE_LXCPATH"""
import os
import subprocess
import sys
import time

import lxc

lxcpath = sys.argv[1]
failures = []
name = "py%d" % os.getpid()


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def debian(*args):
    """Runs one of Debian's lxc-* tools against Debian's own liblxc."""
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    r = subprocess.run(list(args) + ["-P", lxcpath, "-n", name], env=env,
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def leftover_cgroups():
    found = []
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        found += [os.path.join(root, d) for d in dirs if d.startswith("lxc.payload." + name)]
    return found


c = lxc.Container(name, lxcpath)
check(c.set_config_item("lxc.net.0.type", "empty"), "set net type before create")
check(c.create("busybox", flags=lxc.LXC_CREATE_QUIET), "create busybox")
check(c.defined, "defined after create")
check(name in lxc.list_containers(config_path=lxcpath), "listed as defined")

# ours starts, python sees it
t = time.monotonic()
check(c.start(), "start")
start_s = time.monotonic() - t
check(c.state == "RUNNING", "state RUNNING: %r" % c.state)
check(c.running, "running")
check(c.init_pid > 1, "init_pid")
check(name in lxc.list_containers(active=True, defined=False, config_path=lxcpath), "listed as active")
check(c.wait("RUNNING", 1), "wait RUNNING")
check(c.get_running_config_item("lxc.net.0.type") == "empty", "running config item")

# Debian's tools see and control a container started by our library
rc, out = debian("lxc-info")
check(rc == 0 and "RUNNING" in out and str(c.init_pid) in out, "lxc-info sees ours: %s" % out)
rc, out = debian("lxc-freeze")
check(rc == 0, "lxc-freeze on ours: %s" % out)
check(c.state == "FROZEN", "FROZEN after lxc-freeze: %r" % c.state)
rc, out = debian("lxc-unfreeze")
check(rc == 0 and c.state == "RUNNING", "lxc-unfreeze on ours: %s %s" % (out, c.state))
rc, out = debian("lxc-stop", "-k")
check(rc == 0, "lxc-stop on ours: %s" % out)
check(c.wait("STOPPED", 10), "wait STOPPED after lxc-stop")
check(c.state == "STOPPED", "STOPPED after lxc-stop: %r" % c.state)
check(not leftover_cgroups(), "no cgroup left after lxc-stop: %s" % leftover_cgroups())

# our library sees and controls a container started by Debian's lxc-start
rc, out = debian("lxc-start")
check(rc == 0, "lxc-start: %s" % out)
check(c.wait("RUNNING", 10), "wait RUNNING on Debian's")
check(c.state == "RUNNING", "ours sees Debian's RUNNING: %r" % c.state)
check(c.init_pid > 1, "init_pid of Debian's")
check(c.freeze() and c.state == "FROZEN", "freeze Debian's")
rc, out = debian("lxc-info", "-s")
check("FROZEN" in out, "Debian sees our freeze: %s" % out)
check(c.unfreeze() and c.state == "RUNNING", "unfreeze Debian's")
check(c.stop(), "stop Debian's")
check(c.state == "STOPPED", "Debian's stopped: %r" % c.state)
rc, out = debian("lxc-info", "-s")
check("STOPPED" in out, "Debian agrees it stopped: %s" % out)

# shutdown with the template's lxc.signal.halt, reboot keeps it running
check(c.start(), "start again")
check(c.shutdown(20), "shutdown")
check(c.state == "STOPPED", "STOPPED after shutdown")
check(not leftover_cgroups(), "no cgroup left after shutdown: %s" % leftover_cgroups())

check(c.rename(name + "r"), "rename")
c = lxc.Container(name + "r", lxcpath)
check(c.defined, "renamed defined")
check(c.destroy(), "destroy")
check(not c.defined, "gone after destroy")
check(os.listdir(lxcpath) == [], "lxcpath empty: %s" % os.listdir(lxcpath))

print("python_lifecycle: start %.3fs, %d failure(s)" % (start_s, len(failures)))
sys.exit(1 if failures else 0)
