#!/usr/bin/python3
"""attach through Debian's python3-lxc on our library, on a container started
by our library and on one started by Debian's lxc-start; Debian's lxc-attach,
lxc-cgroup and lxc-info on ours (the cgroup descriptor commands of the
command socket), and our monitor's answers to them compared with LXC's.
Run with LD_LIBRARY_PATH pointing at our liblxc.so.1.
Usage: python_attach.py PRIVATE_LXCPATH"""
import atexit, os, sys, subprocess, pty, lxc, socket, struct, tempfile, time
os.environ["PYDROP"] = "dropped"
lxcpath = sys.argv[1]
name = "pa%d" % os.getpid()
fails = []
def check(c, w):
    if not c:
        fails.append(w); print("FAIL:", w, file=sys.stderr)
env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
def debian(tool, *args, log=None):
    """One of Debian's lxc-* tools on Debian's liblxc, optionally tracing."""
    cmd = [tool, "-P", lxcpath, "-n", name] + (["-l", "trace", "-o", log] if log else [])
    return subprocess.run(cmd + list(args), env=env, capture_output=True, text=True, timeout=60)
def refused(log):
    """Commands a tool's trace log shows the monitor refusing as unknown."""
    return [l for l in open(log) if "commands.c" in l and "Function not implemented" in l]
def ask(cmd, data=b""):
    """One raw command: (ret, payload, where each passed descriptor points,
    as "<hierarchy>:<path from the container's cgroup on>": what lies
    above it, the base cgroup each library picked, is not compared)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(b"\0" + ("%s/%s/command" % (lxcpath, name)).encode())
        cred = struct.pack("iII", os.getpid(), os.getuid(), os.getgid())
        s.sendmsg([struct.pack("iiQ", cmd, len(data), 0)], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, cred)])
        if data:
            # A server may answer on the header alone and close (LXC does
            # for commands without a payload): a refused send is not an error.
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
        head, anc, _, _ = s.recvmsg(16, socket.CMSG_SPACE(4 * 32))
        fds = []
        for _, typ, d in anc:
            if typ == socket.SCM_RIGHTS:
                fds += struct.unpack("%di" % (len(d) // 4), d[:len(d) // 4 * 4])
        ret, dlen, _ = struct.unpack("iiQ", head)
        body = b""
        while len(body) < dlen:
            chunk = s.recv(dlen - len(body))
            if not chunk:
                break
            body += chunk
    finally:
        s.close()
    where = []
    for fd in fds:
        path = os.readlink("/proc/self/fd/%d" % fd)
        os.close(fd)
        at = path.find("lxc.payload.")
        where.append(path.split("/")[4] + ":" + (path[at:] if at >= 0 else path))
    return ret, body, where
def probe():
    """The answers to the cgroup descriptor commands, comparable between
    monitors: GET_CGROUP_CTX (23), GET_CGROUP_FD (24), GET_LIMIT_CGROUP_FD
    (25), GET_CGROUP2_FD (17), GET_LIMIT_CGROUP2_FD (20), GET_SYSTEMD_SCOPE
    (26), with short, empty and too long payloads."""
    out = []
    for size in (96, 12, 0, 100):
        ret, body, where = ask(23, bytes(size))
        out.append(("ctx", size, ret, len(body), struct.unpack("iII", body[:12]) if len(body) >= 12 else None, where))
    for cmd in (24, 25):
        for ctl, kind in (("memory", 0), ("pids", 0), ("name=systemd", 0), ("cpu", 0x27e0eb),
                          ("memory", 0x63677270), ("", 0), ("nosuch", 0)):
            ret, body, where = ask(cmd, struct.pack("iIii64s", 0, 7, kind, -1, ctl.encode()))
            out.append((cmd, ctl, kind, ret, len(body), struct.unpack("iIi", body[:12]) if body else None, where))
        for data in (struct.pack("iIii4s", 0, 0, 0, -1, b"pids"), struct.pack("iIii64s", 0, 0, 0, -1, b"pids") + b"\0"):
            ret, body, where = ask(cmd, data)
            out.append((cmd, len(data), ret, len(body), where))
    for cmd in (17, 20, 26):
        out.append((cmd,) + ask(cmd))
    return out
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
def leave_nothing():
    """Whatever failed on the way: no container of this test keeps running."""
    subprocess.run(["lxc-stop", "-k", "-P", lxcpath, "-n", name], env=env, capture_output=True)
    x = lxc.Container(name, lxcpath)
    if x.running:
        x.stop()
    if x.defined:
        x.destroy()
atexit.register(leave_nothing)
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
# Debian's tools on ours. lxc-attach moves its process into the
# container's cgroups with GET_CGROUP_CTX: inside the container's cgroup
# namespace they are the root ("/.." would be outside; "/.lxc" is LXC's
# leaf for cgroup2)...
ours = probe()
ctx = ours[0]
check(ctx[2] == 0 and ctx[4][2] == len(ctx[5]) > 0 and
      all(w.endswith(":lxc.payload." + name) for w in ctx[5]), "GET_CGROUP_CTX: %r" % (ctx,))
tmp = tempfile.mkdtemp()
p = debian("lxc-attach", "--", "cat", "/proc/self/cgroup", log=tmp + "/attach.log")
lines = p.stdout.split()
check(p.returncode == 0 and lines and all(l.split(":", 2)[2] in ("/", "/.lxc") for l in lines),
      "debian lxc-attach in the container's cgroups: %r %s" % (p.stdout, p.stderr))
check(not refused(tmp + "/attach.log"), "debian lxc-attach: refused %s" % refused(tmp + "/attach.log"))
# ...and seen from the host every hierarchy names the container's cgroup
mark = "cgmark%d" % os.getpid()
a = subprocess.Popen(["lxc-attach", "-P", lxcpath, "-n", name, "--", "sh", "-c", "sleep 30; true", mark], env=env)
attached = None
for _ in range(500):
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
        except OSError:
            continue
        if argv[0] == b"sh" and mark.encode() in argv:
            attached = int(pid)
    if attached:
        break
    time.sleep(0.01)
cg = open("/proc/%d/cgroup" % attached).read().split() if attached else []
check(cg and all(("lxc.payload." + name) in l for l in cg), "host view of debian lxc-attach: %r" % cg)
if attached:
    os.kill(attached, 9)
a.wait()
# lxc-cgroup and lxc-info use GET_LIMIT_CGROUP_FD now, without falling back
p = debian("lxc-cgroup", "pids.max", "1234", log=tmp + "/cgset.log")
check(p.returncode == 0 and c.get_cgroup_item("pids.max").strip() == "1234", "debian lxc-cgroup set: %s" % p.stderr)
p = debian("lxc-cgroup", "pids.max", log=tmp + "/cgget.log")
check(p.returncode == 0 and p.stdout.strip() == "1234", "debian lxc-cgroup get: %r %s" % (p.stdout, p.stderr))
p = debian("lxc-info", log=tmp + "/info.log")
check(p.returncode == 0 and "RUNNING" in p.stdout and "Memory use:" in p.stdout, "debian lxc-info: %r" % p.stdout)
for log in ("cgset", "cgget", "info"):
    text = open("%s/%s.log" % (tmp, log)).read()
    check("get_limit_cgroup_fd" in text and "get_limit_cgroup2_fd" not in text and not refused("%s/%s.log" % (tmp, log)),
          "%s: GET_LIMIT_CGROUP_FD answered: %s" % (log, refused("%s/%s.log" % (tmp, log))))
    os.unlink("%s/%s.log" % (tmp, log))
os.unlink(tmp + "/attach.log")
os.rmdir(tmp)
terminal_attach(c, "ours")
check(c.stop(), "stop")
left = [r for r, ds, _ in os.walk("/sys/fs/cgroup") if os.path.basename(r).startswith("lxc.payload." + name)]
check(not left, "cgroups left (LXC's .lxc leaf included): %s" % left)
check(c.attach_wait(lxc.attach_run_command, ["true"]) < 0, "stopped")
# a container started by Debian's LXC
p = subprocess.run(["lxc-start", "-P", lxcpath, "-n", name], env=env, capture_output=True, text=True)
check(p.returncode == 0, "debian lxc-start: %s" % p.stderr)
d = lxc.Container(name, lxcpath)
check(d.running, "running (debian)")
theirs = probe()
check(theirs == ours, "cgroup descriptor answers differ from LXC's: %s" %
      [(o, t) for o, t in zip(ours, theirs) if o != t])
r, w = os.pipe()
rc = d.attach_wait(lxc.attach_run_command, ["sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; readlink /proc/self/ns/pid"], stdout=w)
os.close(w)
out = os.read(r, 1000).decode()
check(rc == 0 and out.startswith("pyuts\n"), "debian-started: %r %r" % (rc, out))
check(out.split()[-1] != os.readlink("/proc/self/ns/pid"), "pid ns (debian)")
terminal_attach(d, "debian-started")
pid = d.attach(lxc.attach_run_command, ["sleep", "20"])
cg = open("/proc/%d/cgroup" % pid).read()
# every hierarchy, the cgroup2 one included (GET_CGROUP_CTX)
check(cg and all("lxc.payload.%s" % name in l for l in cg.split()), "cgroup (debian): %s" % cg)
os.kill(pid, 9); os.waitpid(pid, 0)
p = subprocess.run(["lxc-stop", "-k", "-P", lxcpath, "-n", name], env=env, capture_output=True, text=True)
check(p.returncode == 0, "debian lxc-stop")
check(c.destroy(), "destroy")
# Debian's LXC 5.0 leaves its empty lxc.monitor.<name> cgroups behind: ours
# to remove, the name being this test's own.
for root, dirs, _ in os.walk("/sys/fs/cgroup"):
    for d in dirs:
        if d == "lxc.monitor." + name:
            os.rmdir(os.path.join(root, d))
        elif d == "lxc.pivot":  # LXC's, made for our start; kept if in use
            try:
                os.rmdir(os.path.join(root, d))
            except OSError:
                pass
print("python attach:", "FAIL %s" % fails if fails else "ok")
sys.exit(1 if fails else 0)
