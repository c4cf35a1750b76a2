#!/usr/bin/python3
"""attach through Debian's python3-lxc on our library, on a container started
by our library and on one started by Debian's lxc-start.
Run with LD_LIBRARY_PATH pointing at our liblxc.so.1.
Usage: python_attach.py PRIVATE_LXCPATH"""
import os, sys, subprocess, pty, lxc
lxcpath = sys.argv[1]
name = "pa%d" % os.getpid()
fails = []
def check(c, w):
    if not c:
        fails.append(w); print("FAIL:", w, file=sys.stderr)
# python3-lxc 5.0 does not export this flag; attach_flags takes it anyway
TERMINAL = getattr(lxc, "LXC_ATTACH_TERMINAL", 0x00080000)
def terminal_attach(ct, what):
    """attach_wait with LXC_ATTACH_TERMINAL from a child whose controlling
    terminal and stdio are a pty we read: the output comes through the new
    pty of the container, relayed to that terminal."""
    pid, master = pty.fork()
    if pid == 0:
        try:
            rc = ct.attach_wait(lxc.attach_run_command,
                                ["sh", "-c", "tty; test -t 1 && echo out-tty; exit 7"],
                                attach_flags=lxc.LXC_ATTACH_DEFAULT | TERMINAL)
            os._exit(rc >> 8 if rc >= 0 else 99)
        except BaseException:
            os._exit(98)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child and its terminal are gone
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    _, st = os.waitpid(pid, 0)
    check(os.WEXITSTATUS(st) == 7 and b"/dev/pts/" in out and b"out-tty" in out,
          "terminal attach (%s): %r %r" % (what, st, out))
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
pid = c.attach(lxc.attach_run_command, ["true"])
check(pid > 0 and os.waitpid(pid, 0)[1] == 0, "attach + waitpid")
terminal_attach(c, "ours")
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
terminal_attach(d, "debian-started")
pid = d.attach(lxc.attach_run_command, ["sleep", "20"])
cg = open("/proc/%d/cgroup" % pid).read()
check("lxc.payload.%s" % name in cg, "cgroup (debian): %s" % cg)
os.kill(pid, 9); os.waitpid(pid, 0)
p = subprocess.run(["lxc-stop", "-k", "-P", lxcpath, "-n", name], env=env, capture_output=True, text=True)
check(p.returncode == 0, "debian lxc-stop")
check(c.destroy(), "destroy")
print("python attach:", "FAIL %s" % fails if fails else "ok")
sys.exit(1 if fails else 0)
