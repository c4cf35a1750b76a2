#!/usr/bin/python3
"""Smoke test of Debian's python3-lxc against whichever liblxc.so.1 the
dynamic loader finds (run with LD_LIBRARY_PATH pointing at ours).
Usage: python_smoke.py PRIVATE_LXCPATH"""
import os
import sys

import lxc

lxcpath = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


check(lxc.version.startswith("6.0."), "lxc.version is 6.0.x: %r" % lxc.version)
c = lxc.Container("x", lxcpath)
check(c.state == "STOPPED", "state STOPPED: %r" % c.state)
check(not c.defined, "not defined")
check(not c.running, "not running")
check(c.name == "x", "name")
check(c.config_file_name == os.path.join(lxcpath, "x", "config"), "config_file_name")
check(lxc.list_containers(config_path=lxcpath) == (), "list_containers empty")
check(lxc.default_config_path, "default_config_path")
check(lxc.get_global_config_item("lxc.bdev.lvm.vg") == "lxc", "global item")

# A defined container shows up in the listing.
check(c.set_config_item("lxc.uts.name", "pyhost"), "set_config_item")
check(c.save_config(), "save_config")
check(c.defined, "defined after save")
check(lxc.list_containers(config_path=lxcpath) == ("x",), "list_containers: %r" %
      (lxc.list_containers(config_path=lxcpath),))
c2 = lxc.Container("x", lxcpath)
check(c2.get_config_item("lxc.uts.name") == "pyhost", "reload: %r" % c2.get_config_item("lxc.uts.name"))

print("python_smoke: %d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
