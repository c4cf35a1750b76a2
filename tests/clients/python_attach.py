#!/usr/bin/python3
"""attach through Debian's python3-lxc on our library, on a container started
by our library and on one started by Debian's lxc-start.
Run with LD_LIBRARY_PATH pointing at our liblxc.so.1.
Usage: python_attach.py PRIVATE_LXCPATH"""
import os, sys, subprocess, lxc
os.environ["PYDROP"] = "dropped"
lxcpath = sys.argv[1]
name = "pa%d" % os.getpid()
fails = []
def check(c, w):
    if not c:
        fails.append(w); print("FAIL:", w, file=sys.stderr)
c = lxc.Container(name, lxcpath)
check(c.set_config_item("lxc.net.0.type", "empty"), "net")
check(c.create("busybox", flags=lxc.LXC_CREATE_QUIET), "create")
check(c.set_config_item("lxc.uts.name", "pyuts") and c.save_config(), "uts")
check(c.start(), "start")
check(c.attach_wait(lxc.attach_run_command, ["hostname"]) == 0, "attach_wait hostname")
check(c.attach_wait(lxc.attach_run_command, ["sh", "-c", "exit 3"]) >> 8 == 3, "exit 3")
r, w = os.pipe()
rc = c.attach_wait(lxc.attach_run_command, ["hostname"], stdout=w)
os.close(w)
out = os.read(r, 100).decode().strip()
check(rc == 0 and out == "pyuts", "hostname via stdout: %r %r" % (rc, out))
# a python function as the payload
def fn(arg):
    return 9 if os.uname().nodename == "pyuts" else 1
check(c.attach_wait(fn, None) >> 8 == 9, "python payload")
# options: cleared environment with extra and kept variables, cwd, ids, and a
# namespace subset without the network one (the host's stays)
os.environ["PYKEEP"] = "kept"
r, w = os.pipe()
rc = c.attach_wait(lxc.attach_run_command, ["sh", "-c",
                   'echo "$PYX|$PYKEEP|${PYDROP:-unset}|$(pwd)|$(id -u):$(id -g)|$(readlink /proc/self/ns/net)"'],
                   env_policy=lxc.LXC_ATTACH_CLEAR_ENV, extra_env_vars=["PYX=1"], extra_keep_env=["PYKEEP", "PYDROP0"],
                   initial_cwd="/tmp", uid=1000, gid=1001, stdout=w,
                   namespaces=lxc.CLONE_NEWNS | lxc.CLONE_NEWPID | lxc.CLONE_NEWUTS | lxc.CLONE_NEWIPC)
os.close(w)
out = os.read(r, 1000).decode().strip()
want = "1|kept|unset|/tmp|1000:1001|" + os.readlink("/proc/self/ns/net")
check(rc == 0 and out == want, "attach options: %r %r (want %r)" % (rc, out, want))
r, w = os.pipe()
rc = c.attach_wait(lxc.attach_run_command, ["readlink", "/proc/self/ns/net"], stdout=w)
os.close(w)
out = os.read(r, 100).decode().strip()
check(rc == 0 and out != os.readlink("/proc/self/ns/net"), "all namespaces: %r" % out)
pid = c.attach(lxc.attach_run_command, ["true"])
check(pid > 0 and os.waitpid(pid, 0)[1] == 0, "attach + waitpid")
check(c.stop(), "stop")
check(c.attach_wait(lxc.attach_run_command, ["true"]) < 0, "stopped")
# a container started by Debian's LXC
env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
p = subprocess.run(["lxc-start", "-P", lxcpath, "-n", name], env=env, capture_output=True, text=True)
check(p.returncode == 0, "debian lxc-start: %s" % p.stderr)
d = lxc.Container(name, lxcpath)
check(d.running, "running (debian)")
r, w = os.pipe()
rc = d.attach_wait(lxc.attach_run_command, ["sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; readlink /proc/self/ns/pid"], stdout=w)
os.close(w)
out = os.read(r, 1000).decode()
check(rc == 0 and out.startswith("pyuts\n"), "debian-started: %r %r" % (rc, out))
check(out.split()[-1] != os.readlink("/proc/self/ns/pid"), "pid ns (debian)")
pid = d.attach(lxc.attach_run_command, ["sleep", "20"])
cg = open("/proc/%d/cgroup" % pid).read()
check("lxc.payload.%s" % name in cg, "cgroup (debian): %s" % cg)
os.kill(pid, 9); os.waitpid(pid, 0)
p = subprocess.run(["lxc-stop", "-k", "-P", lxcpath, "-n", name], env=env, capture_output=True, text=True)
check(p.returncode == 0, "debian lxc-stop")
check(c.destroy(), "destroy")
print("python attach:", "FAIL %s" % fails if fails else "ok")
sys.exit(1 if fails else 0)
