#!/usr/bin/env python3
"""Generates tests/confdiff/corpus/*.script (see client.c for the ops).

Usage: gen.py OUTDIR        (run.sh calls it; the output is not committed)

Every script starts from fresh container objects (`new`); nothing is ever
saved as a container config, so each `new` starts from LXC's defaults.
"""
import glob
import os
import sys

# The 86 top-level names of LXC 6.0's config_jump_table, in table order.
TABLE = """lxc.arch lxc.apparmor.profile lxc.apparmor.allow_incomplete lxc.apparmor.allow_nesting
lxc.apparmor.raw lxc.autodev.tmpfs.size lxc.autodev lxc.cap.drop lxc.cap.keep lxc.cgroup2
lxc.cgroup.dir.monitor.pivot lxc.cgroup.dir.monitor lxc.cgroup.dir.container.inner lxc.cgroup.dir.container
lxc.cgroup.dir lxc.cgroup.relative lxc.cgroup lxc.console.buffer.size lxc.console.logfile lxc.console.path
lxc.console.rotate lxc.console.size lxc.sched.core lxc.environment lxc.ephemeral lxc.execute.cmd lxc.group
lxc.hook.autodev lxc.hook.clone lxc.hook.destroy lxc.hook.mount lxc.hook.post-stop lxc.hook.pre-mount
lxc.hook.pre-start lxc.hook.start lxc.hook.start-host lxc.hook.stop lxc.hook.version lxc.hook lxc.idmap
lxc.include lxc.init.cmd lxc.init.gid lxc.init.groups lxc.init.uid lxc.init.cwd lxc.keyring.session
lxc.log.file lxc.log.level lxc.log.syslog lxc.monitor.unshare lxc.monitor.signal.pdeath lxc.mount.auto
lxc.mount.entry lxc.mount.fstab lxc.namespace.clone lxc.namespace.keep lxc.namespace.share.
lxc.time.offset.boot lxc.time.offset.monotonic lxc.net. lxc.net lxc.no_new_privs lxc.prlimit lxc.pty.max
lxc.rootfs.managed lxc.rootfs.mount lxc.rootfs.options lxc.rootfs.path lxc.seccomp.allow_nesting
lxc.seccomp.notify.cookie lxc.seccomp.notify.proxy lxc.seccomp.profile lxc.selinux.context.keyring
lxc.selinux.context lxc.signal.halt lxc.signal.reboot lxc.signal.stop lxc.start.auto lxc.start.delay
lxc.start.order lxc.tty.dir lxc.tty.max lxc.uts.name lxc.sysctl lxc.proc""".split()
assert len(TABLE) == 86, len(TABLE)

# Concrete readable keys (the prefix entries get a representative subkey).
GETTABLE = [k for k in TABLE if not k.endswith(".") and k not in ("lxc.include",)] + [
    "lxc.cgroup.memory.limit_in_bytes", "lxc.cgroup2.memory.max", "lxc.sysctl.net.ipv4.ip_forward",
    "lxc.proc.oom_score_adj", "lxc.prlimit.nofile", "lxc.namespace.share.net", "lxc.namespace.share.uts",
]

NET_SUBKEYS = """flags hwaddr ipv4.address ipv4.gateway ipv6.address ipv6.gateway link l2proxy macvlan.mode
ipvlan.mode ipvlan.isolation mtu name script.down script.up type vlan.id veth.mode veth.n_rxqueues
veth.n_txqueues veth.pair veth.ipv4.route veth.ipv6.route veth.vlan.id veth.vlan.tagged.id""".split()
assert len(NET_SUBKEYS) == 25

BOOL = (["1", "0"], ["2", "-1", "abc", "1x"])
# key -> (valid values, invalid values)
VALUES = {
    "lxc.arch": (["x86_64", "i686", "amd64", "x86", "arm64", "aarch64", "ppc64le", "s390x", "linux32", "linux64",
                  "riscv64", "x32"], ["foo", "x86_64 "]),
    "lxc.apparmor.profile": (["unconfined", "generated", "lxc-container-default-cgns"], []),
    "lxc.apparmor.allow_incomplete": BOOL,
    "lxc.apparmor.allow_nesting": BOOL,
    "lxc.apparmor.raw": (["mount,", "deny /x rw,"], []),
    "lxc.autodev.tmpfs.size": (["100", "0", "500000"], ["abc", "-1", "1M"]),
    "lxc.autodev": BOOL,
    "lxc.cap.drop": (["sys_admin mknod", "sys_module", "  mac_admin\tmac_override  "], []),
    "lxc.cap.keep": (["none", "sys_admin chown", "none sys_admin"], []),
    "lxc.cgroup.dir.monitor.pivot": (["pivot", "a/b"], ["/abs", "../x", "a/../b"]),
    "lxc.cgroup.dir.monitor": (["mon", "a/b"], ["/abs", "../x"]),
    "lxc.cgroup.dir.container.inner": (["inner", "a/b"], ["/abs", "../x"]),
    "lxc.cgroup.dir.container": (["cont", "a/b"], ["/abs", "../x"]),
    "lxc.cgroup.dir": (["lxc.payload", "a/b"], ["/abs", "../x"]),
    "lxc.cgroup.relative": BOOL,
    "lxc.console.buffer.size": (["auto", "1M", "4096", "1000", "0", "1kB"], ["abc", "-1"]),
    "lxc.console.logfile": (["/tmp/console.log"], []),
    "lxc.console.path": (["none", "/dev/pts/1", "auto"], []),
    "lxc.console.rotate": BOOL,
    "lxc.console.size": (["auto", "1M", "4096", "0", "3000"], ["abc", "-5"]),
    "lxc.sched.core": BOOL,
    "lxc.environment": (["FOO=bar", "BAZ=1", "PATH"], []),
    "lxc.ephemeral": BOOL,
    "lxc.execute.cmd": (["/bin/sh -c true", "/bin/true"], []),
    "lxc.group": (["onboot", "web db", "  x  "], []),
    "lxc.hook.version": (["0", "1"], ["2", "abc", "-1"]),
    "lxc.idmap": (["u 0 100000 65536", "g 0 100000 65536", "b 1000 1000 1"],
                  ["x 0 1 1", "u 0 1", "u a b c", "u 0 100000 0", "u -1 0 1"]),
    "lxc.init.cmd": (["/sbin/init", "/bin/sh -c 'x y'"], []),
    "lxc.init.gid": (["1000", "0"], ["abc", "-1", "1.5"]),
    "lxc.init.groups": (["1000", "1,2,3", "5"], ["abc", "1,a", "-1"]),
    "lxc.init.uid": (["1000", "0"], ["abc", "-1"]),
    "lxc.init.cwd": (["/root", "relative"], []),
    "lxc.keyring.session": BOOL,
    "lxc.log.file": (["$LXCPATH/log.txt"], []),
    "lxc.log.level": (["DEBUG", "3", "trace", "FATAL", "0", "8", "notice", "WARN"], ["foo", "9", "-1"]),
    "lxc.log.syslog": (["daemon", "local0", "local7"], ["foo", "user"]),
    "lxc.monitor.unshare": BOOL,
    "lxc.monitor.signal.pdeath": (["SIGKILL", "9", "SIGRTMIN+1", "TERM", "sigterm"], ["foo", "0", "65", "SIGRTMAX+1"]),
    "lxc.mount.auto": (["proc:mixed sys:ro cgroup:mixed", "cgroup:rw:force", "proc:rw sys:mixed cgroup-full:ro",
                        "shmounts:/a:/b", "proc sys cgroup", "cgroup:ro:force sys:rw", "cgroup-full:mixed:force",
                        "cgroup", "cgroup-full", "sys:ro", "proc:mixed"], ["foo", "proc:foo", "shmounts:"]),
    "lxc.mount.entry": (["proc proc proc defaults 0 0", "/dev/x dev/x none bind,create=file 0 0"], []),
    "lxc.mount.fstab": (["/tmp/fstab", "relative/fstab"], []),
    "lxc.namespace.clone": (["net uts", "user mnt pid ipc cgroup time"], ["foo", "net bar", "mount"]),
    "lxc.namespace.keep": (["user net", "mnt", "pid"], ["foo"]),
    "lxc.time.offset.boot": (["300s", "5ms", "1h", "10m", "7us", "9ns", "-2h", "0"], ["foo", "5", "5x", "s"]),
    "lxc.time.offset.monotonic": (["3ms", "300s", "1h", "-5s", "0ns"], ["foo", "12"]),
    "lxc.no_new_privs": BOOL,
    "lxc.pty.max": (["1024", "0"], ["abc", "-1"]),
    "lxc.rootfs.managed": BOOL,
    "lxc.rootfs.mount": (["/mnt", "relative"], []),
    "lxc.rootfs.options": (["ro", "ro,idmap=container"], ["idmap=/proc/1/ns/user"]),
    "lxc.rootfs.path": (["/var/lib/x/rootfs", "dir:/x", "overlay:/a:/b", "rootfs"], []),
    "lxc.seccomp.allow_nesting": BOOL,
    "lxc.seccomp.notify.cookie": (["abc", "cookie 2"], []),
    "lxc.seccomp.notify.proxy": (["unix:/tmp/sock", "unix:@abstract"], ["foo", "tcp:1.2.3.4"]),
    "lxc.seccomp.profile": (["/usr/share/lxc/config/common.seccomp", "x"], []),
    "lxc.selinux.context": (["system_u:system_r:lxc_t:s0:c22"], []),
    "lxc.selinux.context.keyring": (["system_u:object_r:x:s0"], []),
    "lxc.signal.halt": (["SIGPWR", "9", "SIGRTMIN+3", "pwr", "sigusr1"], ["foo", "0", "SIGRTMIN+99"]),
    "lxc.signal.reboot": (["SIGINT", "2", "SIGRTMAX-1"], ["foo", "-1"]),
    "lxc.signal.stop": (["SIGKILL", "15", "SIGTERM"], ["foo"]),
    "lxc.start.auto": BOOL,
    "lxc.start.delay": (["5", "0"], ["abc", "-1"]),
    "lxc.start.order": (["10", "-1", "0"], ["abc", "1.5"]),
    "lxc.tty.dir": (["lxc", "a/b"], []),
    "lxc.tty.max": (["4", "0"], ["abc", "-1"]),
    "lxc.uts.name": (["host1", "a" * 64, "with space"], ["a" * 65]),
    "lxc.cgroup2.memory.max": (["1G", "max"], []),
    "lxc.cgroup.memory.limit_in_bytes": (["1G", "-1"], []),
    "lxc.cgroup.devices.allow": (["c 1:3 rwm", "a"], []),
    "lxc.sysctl.net.ipv4.ip_forward": (["1", "0"], []),
    "lxc.proc.oom_score_adj": (["10", "-1000"], []),
    "lxc.prlimit.nofile": (["1024:2048", "unlimited", "1024", "unlimited:unlimited", "5:unlimited"],
                           ["abc", "1:", ":1", "2:1x", "-1"]),
    "lxc.prlimit.as": (["unlimited"], ["foo"]),
    "lxc.prlimit.foo": ([], ["1"]),
    "lxc.namespace.share.net": (["/proc/1/ns/net", "othercontainer"], []),
    "lxc.namespace.share.uts": (["c2"], []),
    "lxc.namespace.share.mnt": ([], ["c2"]),
    "lxc.namespace.share.foo": ([], ["c2"]),
}
for h in ["autodev", "clone", "destroy", "mount", "post-stop", "pre-mount", "pre-start", "start", "start-host",
          "stop"]:
    VALUES["lxc.hook." + h] = (["/bin/true", "/usr/share/lxc/hooks/x arg"], [])

LIST_KEYS = ["lxc.apparmor.raw", "lxc.cap.drop", "lxc.cap.keep", "lxc.environment", "lxc.group", "lxc.idmap",
             "lxc.mount.entry", "lxc.hook.pre-start", "lxc.hook.stop", "lxc.hook.autodev", "lxc.init.groups",
             "lxc.namespace.clone", "lxc.namespace.keep", "lxc.mount.auto", "lxc.cgroup.devices.allow",
             "lxc.cgroup2.memory.max", "lxc.sysctl.net.ipv4.ip_forward", "lxc.proc.oom_score_adj",
             "lxc.prlimit.nofile"]

NET_TYPES = ["empty", "veth", "macvlan", "ipvlan", "vlan", "phys", "none"]
NET_VALUES = {
    "flags": (["up", "down", "anything"], []),
    "hwaddr": (["00:16:3e:12:34:56", "AA:BB:CC:DD:EE:FF"], ["foo", "00:16:3e:12:34"]),
    "ipv4.address": (["10.0.0.2/24", "10.0.0.3/24 10.0.0.255", "10.0.0.4", "192.168.1.5", "172.16.0.1",
                      "10.0.0.5/32", "10.0.0.6/0"],
                     ["foo", "10.0.0.2/33", "10.0.0.2/24 bad", "::1/64", "10.0.0.2/abc"]),
    "ipv4.gateway": (["10.0.0.1", "auto", "dev"], ["foo", "::1"]),
    "ipv6.address": (["fd00::2/64", "fd00::3", "2001:db8::1/128"], ["foo", "fd00::2/129", "10.0.0.1/24"]),
    "ipv6.gateway": (["fd00::1", "auto", "dev"], ["foo", "10.0.0.1"]),
    "link": (["br0", "eth0"], ["a" * 16]),
    "l2proxy": (["1", "0"], ["2", "abc"]),
    "macvlan.mode": (["private", "vepa", "bridge", "passthru"], ["foo"]),
    "ipvlan.mode": (["l3", "l3s", "l2"], ["foo"]),
    "ipvlan.isolation": (["bridge", "private", "vepa"], ["foo"]),
    "mtu": (["1500", "9000"], ["abc", "-1"]),
    "name": (["eth0", "ens3"], ["a" * 16]),
    "script.down": (["/bin/true"], []),
    "script.up": (["/bin/true", "/x y"], []),
    "vlan.id": (["100", "0", "4094"], ["abc", "4095", "-1", "70000"]),
    "veth.mode": (["bridge", "router"], ["foo"]),
    "veth.n_rxqueues": (["4", "0"], ["abc", "-1"]),
    "veth.n_txqueues": (["4"], ["abc"]),
    "veth.pair": (["vethX", "v0"], ["a" * 16]),
    "veth.ipv4.route": (["10.1.0.0/24", "192.168.0.0/16"], ["foo", "10.1.0.0", "10.1.0.0/33"]),
    "veth.ipv6.route": (["fd01::/64"], ["foo", "fd01::", "fd01::/129"]),
    "veth.vlan.id": (["100", "none", "1"], ["abc", "4095", "0"]),
    "veth.vlan.tagged.id": (["100", "200"], ["abc", "4095", "0"]),
}


def esc(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


class Script:
    def __init__(self):
        self.lines = []
        self.n = 0

    def op(self, *parts):
        self.lines.append(" ".join(parts))

    def new(self):
        self.n += 1
        self.op("new", "c%d" % self.n)

    def tag(self, t):
        self.lines.append("tag " + t)

    def set(self, k, v):
        self.op("set", esc(k), esc(v))

    def get(self, k):
        self.op("get", esc(k))

    def text(self):
        return "\n".join(self.lines) + "\n"


def gen_supported(s):
    s.tag("supported")
    for k in TABLE:
        s.op("supported", k)
    for k in ["lxc.net.0.type", "lxc.net.0", "lxc.network", "lxc.utsname", "lxc.cgroup.memory.limit_in_bytes",
              "lxc.cgroup2.memory.max", "lxc.sysctl.net.ipv4.ip_forward", "lxc.prlimit.nofile",
              "lxc.namespace.share.net", "lxc.proc.oom_score_adj", "lxc.hook.bogus", "lxc.bogus", "lxc", "",
              "lxc.arch ", "LXC.ARCH", "lxc.rootfs", "lxc.aa_profile", "lxc.environment.runtime",
              "lxc.environment.hooks", "lxc.cgroup.dir.container.inner"]:
        s.op("supported", esc(k))


def gen_defaults(s):
    s.tag("defaults")
    s.new()
    for k in GETTABLE:
        s.op("getlen", k)
        s.get(k)
    for k in ["lxc.net.0", "lxc.net.0.type", "lxc.bogus", "lxc.hook.bogus", "lxc.network", "lxc.utsname",
              "lxc.rootfs", "lxc.cgroup", "lxc.cgroup2", "lxc.sysctl", "lxc.proc", "lxc.prlimit",
              "lxc.namespace.share.", "lxc.net.", "lxc.arch.x", "lxc.include", "", "lxc.aa_profile",
              "lxc.seccomp", "lxc.console", "lxc.environment.runtime"]:
        s.get(k)
    for k in ["lxc.arch", "lxc.uts.name", "lxc.log.level", "lxc.idmap", "lxc.start.auto"]:
        for n in ["0", "1", "2", "5"]:
            s.op("gettrunc", k, n)
    s.save()


Script.save = lambda self, name=None: self.op("save", name) if name else self.op("save")


def gen_values(s):
    """Each key: valid values (get after each, save, clear, get), invalid ones
    after a valid one (expect failure and the valid value unchanged)."""
    keys = list(VALUES)
    for k in keys:
        valid, invalid = VALUES[k]
        for v in valid:
            s.tag("valid:" + k)
            s.new()
            s.set(k, v)
            s.get(k)
            s.save()
            s.op("clear", k)
            s.get(k)
            s.save()
        if len(valid) > 1:
            s.tag("overwrite:" + k)
            s.new()
            for v in valid:
                s.set(k, v)
            s.get(k)
            s.save()
        for v in invalid:
            s.tag("invalid:" + k)
            s.new()
            if valid:
                s.set(k, valid[0])
            s.set(k, v)
            s.get(k)
            s.save()
        s.tag("empty:" + k)
        s.new()
        if valid:
            s.set(k, valid[0])
        s.set(k, "")
        s.get(k)
        s.save()
    # Special keys.
    s.tag("special")
    s.new()
    for k, v in [("lxc.net", "x"), ("lxc.net", ""), ("lxc.hook", "/bin/true"), ("lxc.hook", ""),
                 ("lxc.cgroup", "x"), ("lxc.cgroup2", "x"), ("lxc.sysctl", "1"), ("lxc.proc", "1"),
                 ("lxc.prlimit", "1"), ("lxc.namespace.share.", "x"), ("lxc.net.", "x"), ("lxc.bogus", "1"),
                 ("lxc.utsname", "x"), ("lxc.network.type", "veth"), ("lxc.rootfs", "/x"),
                 ("lxc.aa_profile", "x"), ("lxc.include", "/nonexistent"), ("lxc.include", ""),
                 ("lxc.environment.runtime", "A=1"), ("lxc.mount.fstab", ""), ("", "x"), ("lxc.arch", "")]:
        s.set(k, v)
        s.get(k)
    s.save()
    for k in ["lxc.net", "lxc.hook", "lxc.cgroup", "lxc.cgroup2", "lxc.sysctl", "lxc.proc", "lxc.prlimit",
              "lxc.namespace.share.", "lxc.bogus", "lxc.include", "lxc.utsname", "lxc.net.", "lxc.net.0",
              "lxc.net.x", ""]:
        s.op("clear", esc(k))
    # clone and keep are exclusive.
    s.tag("clone-keep")
    s.new()
    s.set("lxc.namespace.clone", "net")
    s.set("lxc.namespace.keep", "user")
    s.get("lxc.namespace.clone")
    s.get("lxc.namespace.keep")
    s.new()
    s.set("lxc.namespace.keep", "user")
    s.set("lxc.namespace.clone", "net")
    s.get("lxc.namespace.clone")
    s.get("lxc.namespace.keep")
    # cap.keep / cap.drop interplay.
    s.tag("caps")
    s.new()
    s.set("lxc.cap.drop", "sys_admin")
    s.get("lxc.cap.keep")
    s.set("lxc.cap.keep", "chown")
    s.get("lxc.cap.drop")
    s.get("lxc.cap.keep")
    s.save()
    # uts.name with NUL handling, spaces around values.
    s.tag("misc")
    s.new()
    s.set("lxc.uts.name", "  padded  ")
    s.get("lxc.uts.name")
    s.set("lxc.init.cmd", "x\ny")
    s.get("lxc.init.cmd")
    s.save()


def gen_lists(s):
    for k in LIST_KEYS:
        valid = VALUES[k][0]
        s.tag("list:" + k)
        s.new()
        for v in valid:
            s.set(k, v)
        s.get(k)
        s.save()
        s.set(k, "")
        s.get(k)
        s.save()
        for v in valid:
            s.set(k, v)
        s.op("clear", k)
        s.get(k)
        s.save()


def gen_prefix(s):
    s.tag("prefix")
    s.new()
    sets = [("lxc.cgroup.memory.limit_in_bytes", "1G"), ("lxc.cgroup.cpuset.cpus", "0-1"),
            ("lxc.cgroup.devices.allow", "a"), ("lxc.cgroup2.memory.max", "2G"), ("lxc.cgroup2.pids.max", "10"),
            ("lxc.sysctl.net.ipv4.ip_forward", "1"), ("lxc.sysctl.kernel.msgmax", "100"),
            ("lxc.proc.oom_score_adj", "10"), ("lxc.proc.setgroups", "deny"), ("lxc.prlimit.nofile", "10:20"),
            ("lxc.prlimit.nproc", "unlimited"), ("lxc.prlimit.core", "0"), ("lxc.namespace.share.net", "a"),
            ("lxc.namespace.share.ipc", "b"), ("lxc.namespace.share.pid", "c"), ("lxc.namespace.share.uts", "d"),
            ("lxc.namespace.share.user", "e"), ("lxc.namespace.share.cgroup", "f"),
            ("lxc.namespace.share.time", "g"), ("lxc.sysctl.net.ipv4.ip_forward", "0"),
            ("lxc.cgroup.memory.limit_in_bytes", "2G")]
    for k, v in sets:
        s.set(k, v)
    for k in ["lxc.cgroup", "lxc.cgroup.", "lxc.cgroup2", "lxc.cgroup2.", "lxc.sysctl", "lxc.sysctl.", "lxc.proc",
              "lxc.proc.", "lxc.prlimit", "lxc.prlimit.", "lxc.namespace.share", "lxc.namespace.share."] + \
            [k for k, _ in sets] + ["lxc.cgroup.memory", "lxc.cgroup.bogus", "lxc.sysctl.bogus", "lxc.proc.bogus",
                                    "lxc.prlimit.bogus", "lxc.prlimit.as", "lxc.namespace.share.mnt"]:
        s.get(k)
    s.save()
    for k in ["lxc.cgroup.memory.limit_in_bytes", "lxc.cgroup2.memory.max", "lxc.sysctl.net.ipv4.ip_forward",
              "lxc.proc.oom_score_adj", "lxc.prlimit.nofile", "lxc.namespace.share.net", "lxc.cgroup.bogus",
              "lxc.sysctl.bogus", "lxc.proc.bogus", "lxc.prlimit.bogus"]:
        s.op("clear", k)
        s.get(k)
    s.save()
    for k in ["lxc.cgroup", "lxc.cgroup2", "lxc.sysctl", "lxc.proc", "lxc.prlimit", "lxc.namespace.share."]:
        s.op("clear", k)
        s.get(k)
        s.save()
    for k in ["lxc.cgroup.", "lxc.cgroup2.", "lxc.sysctl.", "lxc.proc.", "lxc.prlimit."]:
        s.new()
        s.set(k + "x", "1")
        s.op("clear", k)
        s.get(k)
        s.save()


def gen_keys(s):
    s.tag("keys")
    s.new()
    s.op("keys")
    for p in ["lxc", "lxc.", "lxc.cap", "lxc.hook", "lxc.cgroup", "lxc.cgroup2", "lxc.net", "lxc.net.",
              "lxc.apparmor", "lxc.selinux", "lxc.mount", "lxc.rootfs", "lxc.console", "lxc.seccomp",
              "lxc.signal", "lxc.start", "lxc.log", "lxc.init", "lxc.namespace", "lxc.time", "lxc.prlimit",
              "lxc.uts", "lxc.monitor", "lxc.bogus", "lxc.arch", "lxc.net.0", "lxc.net.0.", "lxc.net.x", "",
              "lxc.tty", "lxc.pty", "lxc.environment", "lxc.idmap", "lxc.autodev", "lxc.sysctl", "lxc.proc",
              "lxc.group", "lxc.keyring", "lxc.sched", "lxc.cap.drop"]:
        s.op("keys", esc(p))
    for t in NET_TYPES:
        s.tag("keys-net:" + t)
        s.new()
        s.set("lxc.net.0.type", t)
        s.op("keys", "lxc.net.0")
        s.op("keys", "lxc.net.0.")
        s.op("keys", "lxc.net.1")
        s.op("keys", "lxc.net.0.type")
    s.tag("keys-net:untyped")
    s.new()
    s.set("lxc.net.0.link", "br0")
    s.op("keys", "lxc.net.0")
    s.get("lxc.net.0.type")
    s.get("lxc.net")
    s.op("clear", "lxc.net.0.type")
    s.get("lxc.net")
    s.op("keys", "lxc.net.0")


def gen_net(s):
    for t in NET_TYPES:
        for sub, (valid, invalid) in NET_VALUES.items():
            for v in valid:
                s.tag("net:%s:%s" % (t, sub))
                s.new()
                s.set("lxc.net.0.type", t)
                s.set("lxc.net.0." + sub, v)
                s.get("lxc.net.0." + sub)
                s.get("lxc.net.0.type")
                s.save()
                s.op("clear", "lxc.net.0." + sub)
                s.get("lxc.net.0." + sub)
            if t != "veth":
                continue
            for v in invalid:
                s.tag("net-invalid:%s:%s" % (t, sub))
                s.new()
                s.set("lxc.net.0.type", t)
                if valid:
                    s.set("lxc.net.0." + sub, valid[0])
                s.set("lxc.net.0." + sub, v)
                s.get("lxc.net.0." + sub)
                s.save()
    # Every subkey, unset, for every type.
    for t in NET_TYPES:
        s.tag("net-unset:" + t)
        s.new()
        s.set("lxc.net.0.type", t)
        for sub in NET_SUBKEYS:
            s.get("lxc.net.0." + sub)
        s.get("lxc.net")
        s.get("lxc.net.0")
        s.save()
    # Multi-value lists and clearing by empty value.
    s.tag("net-lists")
    s.new()
    s.set("lxc.net.0.type", "veth")
    for sub in ["ipv4.address", "ipv6.address", "veth.ipv4.route", "veth.ipv6.route", "veth.vlan.tagged.id"]:
        for v in NET_VALUES[sub][0]:
            s.set("lxc.net.0." + sub, v)
        s.get("lxc.net.0." + sub)
        s.save()
        s.set("lxc.net.0." + sub, "")
        s.get("lxc.net.0." + sub)
    s.save()
    # Several interfaces, sparse indexes, bad indexes, legacy lxc.network.
    s.tag("net-multi")
    s.new()
    s.set("lxc.net.0.type", "veth")
    s.set("lxc.net.0.link", "br0")
    s.set("lxc.net.3.type", "macvlan")
    s.set("lxc.net.3.macvlan.mode", "bridge")
    s.set("lxc.net.1.link", "x")
    s.get("lxc.net")
    for k in ["lxc.net.0.type", "lxc.net.1.type", "lxc.net.2.type", "lxc.net.3.type", "lxc.net.3.link",
              "lxc.net.4.type", "lxc.net.x.type", "lxc.net.-1.type", "lxc.net.0.bogus", "lxc.net.0",
              "lxc.net.00.type", "lxc.net.1.link", "lxc.net.99999999999.type", "lxc.net.0.ipv4",
              "lxc.net.0.veth", "lxc.net.0.veth.ipv4"]:
        s.get(k)
    s.save()
    for k, v in [("lxc.net.x.type", "veth"), ("lxc.net.0.bogus", "1"), ("lxc.net.-1.type", "veth"),
                 ("lxc.net.5.bogus", "1"), ("lxc.net.0.type", "bogus"), ("lxc.net.6.type", "bogus"),
                 ("lxc.net.0.ipv4", "1"), ("lxc.net.99999999999.type", "veth"), ("lxc.net.1.type", "")]:
        s.set(k, v)
        s.get("lxc.net")
    s.save()
    s.op("clear", "lxc.net.3")
    s.get("lxc.net")
    s.save()
    s.op("clear", "lxc.net.3.type")
    s.op("clear", "lxc.net.0.link")
    s.get("lxc.net.0.link")
    s.op("clear", "lxc.net")
    s.get("lxc.net")
    s.save()
    # Gateway flags, ipv4 prefix defaults, hwaddr placeholder, veth mode router.
    s.tag("net-misc")
    s.new()
    s.set("lxc.net.0.type", "veth")
    s.set("lxc.net.0.ipv4.gateway", "auto")
    s.op("clear", "lxc.net.0.ipv4.gateway")
    s.get("lxc.net.0.ipv4.gateway")
    s.set("lxc.net.0.ipv6.gateway", "dev")
    s.op("clear", "lxc.net.0.ipv6.gateway")
    s.get("lxc.net.0.ipv6.gateway")
    for a in ["10.1.2.3", "172.16.5.5", "192.168.9.9", "224.0.0.1", "10.0.0.0", "1.2.3.200"]:
        s.set("lxc.net.0.ipv4.address", a)
    s.get("lxc.net.0.ipv4.address")
    s.set("lxc.net.0.hwaddr", "00:16:3e:xx:xx:xx")
    s.op("getlen", "lxc.net.0.hwaddr")
    s.set("lxc.net.0.veth.mode", "router")
    s.get("lxc.net.0.veth.mode")
    s.set("lxc.net.0.l2proxy", "1")
    s.get("lxc.net.0.l2proxy")


def gen_parse(s):
    files = {
        "spaces": "lxc.uts.name=nospace\nlxc.arch   =   x86_64   \n  lxc.tty.max = 3\n\tlxc.pty.max\t=\t5\n",
        "comments": "# comment\n  # indented comment\n\nlxc.uts.name = a # not a comment\n#lxc.arch = i686\n",
        "crlf": "lxc.uts.name = crlf\r\nlxc.arch = x86_64\r\nlxc.environment = A=1\r\n",
        "quotes": "lxc.uts.name = \"quoted\"\nlxc.init.cmd = '/bin/sh -c x'\nlxc.environment = \"B=2\"\n",
        "noeq": "lxc.uts.name\n",
        "bogus": "lxc.uts.name = x\nlxc.bogus = 1\nlxc.arch = i686\n",
        "legacy": "lxc.utsname = old\n",
        "badvalue": "lxc.uts.name = y\nlxc.start.auto = 2\n",
        "nokeyprefix": "uts.name = x\n",
        "emptyval": "lxc.uts.name =\nlxc.arch = \n",
        "lastline": "lxc.uts.name = nonl",
        "net": ("lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.flags = up\n"
                "lxc.net.0.hwaddr = 00:16:3e:aa:bb:cc\nlxc.net.0.ipv4.address = 10.0.0.2/24\n"
                "lxc.net.1.type = empty\n"),
        "dup": "lxc.uts.name = a\nlxc.uts.name = b\nlxc.mount.entry = a b c d 0 0\nlxc.mount.entry = e f g h 0 0\n",
        "include": "lxc.include = $LXCPATH/inc1\nlxc.uts.name = incl\n",
        "inc1": "lxc.arch = i686\nlxc.tty.max = 7\n",
        "includedir": "lxc.include = $LXCPATH/incdir\n",
        "includemissing": "lxc.include = $LXCPATH/nonexistent\nlxc.uts.name = after\n",
        "nul": "lxc.uts.name = before\x00lxc.arch = i686\n",
        "prefixes": ("lxc.cgroup.memory.max = 1\nlxc.cgroup2.memory.max = 2\nlxc.sysctl.a.b = 3\n"
                     "lxc.proc.oom_score_adj = 4\nlxc.prlimit.nofile = 5\nlxc.namespace.share.net = x\n"),
        "values": "lxc.mount.auto = proc:mixed sys:ro\nlxc.cap.drop = a b\nlxc.idmap = u 0 1 2\n",
        "tabs": "lxc.uts.name\t=\ttab\t\n",
        "trailingspace": "lxc.init.cmd = /bin/sh   \nlxc.environment = X=1  \n",
        "eqinvalue": "lxc.environment = A=B=C\nlxc.uts.name==x\n",
        "upper": "LXC.UTS.NAME = x\n",
    }
    s.tag("parse")
    s.op("mkdir", "incdir")
    s.op("write", "incdir/b.conf", esc("lxc.tty.max = 2\nlxc.arch = i686\n"))
    s.op("write", "incdir/a.conf", esc("lxc.tty.max = 1\nlxc.pty.max = 9\n"))
    s.op("write", "incdir/c.txt", esc("lxc.uts.name = notconf\n"))
    for name, text in files.items():
        s.op("write", name, esc(text).replace("\x00", "\\0"))
    for name in files:
        if name == "inc1":
            continue
        s.tag("parse:" + name)
        s.new()
        s.op("load", "@" + name)
        for k in ["lxc.uts.name", "lxc.arch", "lxc.tty.max", "lxc.pty.max", "lxc.environment", "lxc.init.cmd",
                  "lxc.mount.entry", "lxc.net", "lxc.net.0.type", "lxc.net.0.hwaddr", "lxc.net.0.ipv4.address",
                  "lxc.net.1.type", "lxc.start.auto", "lxc.cgroup", "lxc.cgroup2", "lxc.sysctl", "lxc.proc",
                  "lxc.prlimit.nofile", "lxc.namespace.share.net", "lxc.mount.auto", "lxc.cap.drop", "lxc.idmap"]:
            s.get(k)
        s.save()
        # Load on top of an existing config.
        s.new()
        s.set("lxc.uts.name", "base")
        s.set("lxc.tty.max", "1")
        s.op("load", "@" + name)
        s.get("lxc.uts.name")
        s.get("lxc.tty.max")
        s.save()
    s.tag("parse:missing")
    s.new()
    s.op("load", "@does-not-exist")
    s.op("load", "")


def gen_roundtrip(s):
    s.tag("roundtrip")
    s.new()
    for k, (valid, _) in VALUES.items():
        # lxc.idmap: LXC's save_config chowns the container directory
        # through a user namespace (not a config matter); tested apart.
        if valid and k not in ("lxc.namespace.keep", "lxc.idmap"):
            s.set(k, valid[0])
    s.set("lxc.net.0.type", "veth")
    for sub, (valid, _) in NET_VALUES.items():
        if sub in ("macvlan.mode", "ipvlan.mode", "ipvlan.isolation", "vlan.id"):
            continue
        s.set("lxc.net.0." + sub, valid[0])
    s.set("lxc.net.1.type", "macvlan")
    s.set("lxc.net.1.macvlan.mode", "vepa")
    s.set("lxc.net.2.type", "vlan")
    s.set("lxc.net.2.vlan.id", "7")
    s.save("@rt1")
    s.new()
    s.op("load", "@rt1")
    dump(s, nets=3)
    s.save("@rt2")
    s.new()
    s.op("load", "@rt2")
    s.save("@rt3")
    s.op("clearall")
    dump(s, nets=1)
    s.save()


def dump(s, nets=1):
    for k in GETTABLE:
        s.get(k)
    for k in ["lxc.cgroup.devices.allow", "lxc.cgroup.devices.deny", "lxc.cgroup.memory.max",
              "lxc.prlimit.as", "lxc.namespace.share.ipc", "lxc.namespace.share.pid"]:
        s.get(k)
    for i in range(nets):
        for sub in NET_SUBKEYS:
            s.get("lxc.net.%d.%s" % (i, sub))
        s.op("keys", "lxc.net.%d" % i)


def gen_shipped(s, confdir):
    files = sorted(glob.glob(os.path.join(confdir, "*.conf")) +
                   glob.glob(os.path.join(confdir, "common.conf.d", "*.conf")))
    for f in files:
        s.tag("shipped:" + os.path.relpath(f, confdir))
        s.new()
        s.op("load", f)
        dump(s)
        s.save()
        # Again on top of a base config (as lxc-create does with a template's).
        s.new()
        s.set("lxc.net.0.type", "veth")
        s.set("lxc.net.0.link", "lxcbr0")
        s.set("lxc.rootfs.path", "dir:/var/lib/lxc/x/rootfs")
        s.op("load", f)
        s.get("lxc.net")
        s.get("lxc.rootfs.path")
        s.save()
    return len(files)


def main():
    out = sys.argv[1]
    confdir = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/lxc/config"
    os.makedirs(out, exist_ok=True)
    for name, fn in [("00-supported", gen_supported), ("01-defaults", gen_defaults), ("02-keys", gen_keys),
                     ("10-values", gen_values), ("11-lists", gen_lists), ("12-prefix", gen_prefix),
                     ("20-net", gen_net), ("30-parse", gen_parse), ("40-roundtrip", gen_roundtrip)]:
        s = Script()
        fn(s)
        with open(os.path.join(out, name + ".script"), "w") as f:
            f.write(s.text())
    s = Script()
    gen_shipped(s, confdir)
    with open(os.path.join(out, "50-shipped.script"), "w") as f:
        f.write(s.text())


if __name__ == "__main__":
    main()
