#!/usr/bin/python3
"""clone and snapshots through Debian's python3-lxc, and on-disk interop
between Debian's liblxc (5.0) and ours: snapshots and overlay clones made
by one library are listed, restored, snapshotted and destroyed by the other.

Usage: python_snapshots.py PRIVATE_LXCPATH OUR_LIBDIR
Each step runs in its own python process, loading Debian's library
(no LD_LIBRARY_PATH) or ours (LD_LIBRARY_PATH=OUR_LIBDIR)."""
import json
import os
import re
import subprocess
import sys

TS = re.compile(r"^\d{4}:\d\d:\d\d \d\d:\d\d:\d\d$")


def step(lib, name, lxcpath, libdir):
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    if lib == "ours":
        env["LD_LIBRARY_PATH"] = libdir
    r = subprocess.run([sys.executable, __file__, "--step", lib, name, lxcpath],
                       env=env, stdout=subprocess.PIPE, timeout=600)
    out = json.loads(r.stdout.decode() or "[]")
    for f in out:
        print("FAIL [%s %s]: %s" % (lib, name, f), file=sys.stderr)
    return r.returncode == 0 and not out


def run_step(lib, name, lxcpath):
    import lxc

    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)

    def read(*parts):
        try:
            with open(os.path.join(lxcpath, *parts)) as f:
                return f.read()
        except OSError:
            return None

    want_version = "6.0." if lib == "ours" else "5.0."
    check(lxc.version.startswith(want_version), "library %s loaded, got %s" % (lib, lxc.version))
    if name == "make":
        # A container with two snapshots (one with a comment) and an
        # overlay clone.
        c = lxc.Container("snapc", lxcpath)
        c.set_config_item("lxc.net.0.type", "empty")
        check(c.create("busybox", lxc.LXC_CREATE_QUIET), "create")
        with open(os.path.join(lxcpath, "comment"), "w") as f:
            f.write("made by %s\n" % lib)
        check(c.snapshot(os.path.join(lxcpath, "comment")) == "snap0", "snapshot -> snap0")
        with open(os.path.join(lxcpath, "snapc/rootfs/marker"), "w") as f:
            f.write("after snap0")
        check(c.snapshot() == "snap1", "snapshot -> snap1")
        o = c.clone("ovl", config_path=lxcpath, flags=lxc.LXC_CLONE_SNAPSHOT)
        check(bool(o) and o.defined, "overlay clone")
        check(read("snapc", "lxc_snapshots") == "%s\novl\n" % lxcpath, "lxc_snapshots")
        check(read("ovl", "lxc_rdepends") == "%s\nsnapc\n" % lxcpath, "lxc_rdepends")
        check("overlay:%s/snapc/rootfs:%s/ovl/overlay/delta" % (lxcpath, lxcpath)
              in (read("ovl", "config") or ""), "overlay rootfs path")
        check(o.snapshot() == "snap0", "snapshot of the overlay clone")
    elif name == "use":
        # What the other library made.
        c = lxc.Container("snapc", lxcpath)
        snaps = c.snapshot_list()
        check([s[0] for s in snaps] == ["snap0", "snap1"] or
              sorted(s[0] for s in snaps) == ["snap0", "snap1"], "list: %r" % (snaps,))
        for s in snaps:
            check(s[1] == os.path.join(lxcpath, "snapc/snaps", s[0], "comment"), "comment path %r" % (s,))
            check(bool(TS.match(s[2] or "")), "timestamp %r" % (s,))
            check(s[3] == os.path.join(lxcpath, "snapc/snaps"), "lxcpath %r" % (s,))
        check((read("snapc", "snaps/snap0/comment") or "").startswith("made by"), "comment kept")
        check(not c.destroy(), "destroy refused (snapshots)")
        check(not c.snapshot_restore("snap0"), "restore refused (overlay clone depends on it)")
        # The overlay clone and its snapshot.
        o = lxc.Container("ovl", lxcpath)
        check([s[0] for s in o.snapshot_list()] == ["snap0"], "overlay snapshot listed")
        with open(os.path.join(lxcpath, "ovl/overlay/delta/later"), "w") as f:
            f.write("x")
        check(o.snapshot_restore("snap0"), "overlay restore in place")
        check(read("ovl", "overlay/delta/later") is None, "overlay delta restored")
        check(o.snapshot_destroy("snap0"), "overlay snapshot destroy")
        check(not c.destroy(), "destroy refused (overlay clone depends on it)")
        check(o.destroy(), "destroy overlay clone")
        check(read("snapc", "lxc_snapshots") is None, "lxc_snapshots gone")
        # Restore in place: the marker written after snap0 goes.
        check(c.snapshot_restore("snap0"), "restore in place")
        check(read("snapc", "rootfs/marker") is None, "restored rootfs")
        check(read("snapc", "snaps/snap1/config") is not None, "snapshots kept")
        # Restore to a new name.
        check(c.snapshot_restore("snap1", "fromsnap"), "restore to a new name")
        check(read("fromsnap", "rootfs/marker") == "after snap0", "restored copy")
        check(lxc.Container("fromsnap", lxcpath).destroy(), "destroy restored")
        check(c.snapshot_destroy("snap1"), "snapshot_destroy")
        check([s[0] for s in c.snapshot_list()] == ["snap0"], "one left")
        check(c.snapshot() == "snap1", "snapshot again")
        # Copy clone of what the other library made.
        k = c.clone("copy", config_path=lxcpath)
        check(bool(k) and k.defined, "copy clone")
        check(k and k.get_config_item("lxc.uts.name") == "copy", "clone uts name")
        check(k and k.destroy(), "destroy copy")
        for s in ("snap0", "snap1"):
            check(c.snapshot_destroy(s), "snapshot_destroy %s" % s)
        check(c.destroy(), "destroy")
        check(not os.path.exists(os.path.join(lxcpath, "snapc")), "all gone")
    print(json.dumps(failures))


def main():
    if sys.argv[1] == "--step":
        run_step(sys.argv[2], sys.argv[3], sys.argv[4])
        return 0
    lxcpath, libdir = sys.argv[1], sys.argv[2]
    ok = True
    for maker, user in (("debian", "ours"), ("ours", "debian"), ("ours", "ours")):
        path = os.path.join(lxcpath, "%s-%s" % (maker, user))
        os.makedirs(path, exist_ok=True)
        if step(maker, "make", path, libdir):
            ok = step(user, "use", path, libdir) and ok
        else:
            ok = False
        print("%s %s -> %s" % ("PASS" if ok else "FAIL", maker, user))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
