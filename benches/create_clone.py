#!/usr/bin/python3
"""create and copy-clone timings, ours against Debian's liblxc in one run.

Usage (as root): benches/create_clone.py PREFIX [REPS]
  PREFIX: a meson install of ours (its lib/x86_64-linux-gnu holds liblxc.so.1).

Rows (medians of REPS, default 10, run as two halves per library in the
order A B B A so that drift during a row weighs on both; each half in a
child python3 with its LD_LIBRARY_PATH, in a private lxcpath removed at the
end):
  create busybox    Debian's busybox template
  create download   the download template on a cached image (--force-cache,
                    LXC_CACHE_PATH pointing at an image made here from a
                    busybox rootfs; nothing is fetched)
  create no-op      a template that only makes the rootfs: the library's part
  clone cold/warm   copy clone of a busybox container plus 100 MiB in 1000
                    files, first, the clones kept to the end; before each,
                    sync and wait for the disk to be idle for 100 ms, then
                    drop_caches (cold) or the source read into the page
                    cache (warm)
docs/benchmarks.md reports a run.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

DEBIAN = "/usr/lib/x86_64-linux-gnu"

# Runs in the child, with the library under test loaded: one row's timings.
CHILD = r"""
import lxc, os, sys, time, json
op, lxcpath, reps, arg, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
out = []

def settle():
    # Written back, and the disk idle for 100 ms (at most 20 s): what the
    # last destroy left it (writeback, ext4's discards) is not charged to
    # the next clone, of either library.
    os.sync()
    quiet, deadline = 0, time.monotonic() + 20
    while quiet < 10 and time.monotonic() < deadline:
        with open("/proc/diskstats") as f:
            busy = sum(int(l.split()[11]) for l in f if len(l.split()) > 11)
        quiet = 0 if busy else quiet + 1
        time.sleep(0.01)

for i in range(reps):
    if op == "create":
        args = ["--dist", "bb", "--release", "1", "--arch", "amd64", "--force-cache"] \
            if arg == "download" else []
        c = lxc.Container("cr%d" % i, lxcpath)
        t = time.monotonic()
        ok = c.create(arg, 0, args)
        out.append(time.monotonic() - t)
        assert ok, "create %s failed" % arg
        c.destroy()
    else:
        src = lxc.Container("src", lxcpath)
        settle()
        if arg == "cold":
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
        else:
            os.system("cat %s/src/rootfs/data/* >/dev/null" % lxcpath)
        t = time.monotonic()
        n = src.clone("cl-%s-%d" % (tag, i), lxcpath, 0)
        out.append(time.monotonic() - t)
        assert n, "clone failed"
        # Kept until the end: see main().
print(json.dumps(out))
"""

NOOP_TEMPLATE = """#!/bin/sh
# Makes the rootfs directory and nothing else.
while [ $# -gt 0 ]; do
	case "$1" in --rootfs) root=$2; shift ;; --rootfs=*) root=${1#--rootfs=} ;; esac
	shift
done
mkdir -p "$root"
"""


def row(lib, op, lxcpath, reps, arg, env, tag):
    env = dict(env, LD_LIBRARY_PATH=lib)
    out = subprocess.run(["/usr/bin/python3", "-c", CHILD, op, lxcpath, str(reps), arg, tag],
                         env=env, check=True, capture_output=True, text=True).stdout
    # The templates print to the same stdout: the timings are the last line.
    return [t * 1000 for t in json.loads(out.strip().splitlines()[-1])]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ours = os.path.join(os.path.abspath(sys.argv[1]), "lib", "x86_64-linux-gnu")
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    work = tempfile.mkdtemp(prefix="lxc-createclone.")
    try:
        env = dict(os.environ, LXC_CACHE_PATH=os.path.join(work, "cache"))
        noop = os.path.join(work, "noop-template")
        with open(noop, "w") as f:
            f.write(NOOP_TEMPLATE)
        os.chmod(noop, 0o755)
        # The source container of the clones, and the cached image: a
        # busybox rootfs made by Debian's library.
        lp = os.path.join(work, "lp")
        os.makedirs(lp)
        subprocess.run(["/usr/bin/python3", "-c",
                        "import lxc,sys; assert lxc.Container('src', sys.argv[1]).create('busybox', 0, {})",
                        lp], env=dict(env, LD_LIBRARY_PATH=DEBIAN), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        image = os.path.join(work, "cache", "download", "bb", "1", "amd64", "default")
        os.makedirs(image)
        subprocess.run(["tar", "-C", os.path.join(lp, "src", "rootfs"), "--numeric-owner",
                        "-cJf", os.path.join(image, "rootfs.tar.xz"), "."], check=True)
        with open(os.path.join(image, "config"), "w") as f:
            f.write("lxc.include = /usr/share/lxc/config/common.conf\nlxc.arch = x86_64\n")
        data = os.path.join(lp, "src", "rootfs", "data")
        os.makedirs(data)
        for i in range(1000):
            with open(os.path.join(data, "f%d" % i), "wb") as f:
                f.write(os.urandom(100 * 1024))
        # The clones first, none destroyed before the end: on this VM's
        # ext4 (no journal) a new inode skips those freed in the last 60 s
        # (300 s while their table block is dirty), each check a lookup of
        # that block, so 1000 files created after 1000 deleted cost several
        # times as much, whichever library creates them (docs/benchmarks.md).
        rows = [("clone", "cold"), ("clone", "warm"), ("create", "busybox"),
                ("create", "download"), ("create", noop)]
        print("%-20s %10s %10s %7s" % ("row", "ours ms", "LXC ms", "ratio"))
        for k, (op, arg) in enumerate(rows):
            # Each library runs twice, A B B A, half the repetitions each:
            # what drifts during a row (the disk after many destroys) weighs
            # on both alike.
            first, second = (ours, DEBIAN) if k % 2 == 0 else (DEBIAN, ours)
            samples = {ours: [], DEBIAN: []}
            for half, lib in enumerate((first, second, second, first)):
                tag = "%d-%d" % (k, half)
                samples[lib] += row(lib, op, lp, max(1, reps // 2), arg, env, tag)
            got = {lib: statistics.median(t) for lib, t in samples.items()}
            name = "%s %s" % (op, "no-op" if arg == noop else arg)
            print("%-20s %10.1f %10.1f %6.2fx" % (name, got[ours], got[DEBIAN],
                                                 got[ours] / got[DEBIAN]), flush=True)
    finally:
        subprocess.run(["/usr/bin/python3", "-c",
                        "import lxc,sys; c=lxc.Container('src', sys.argv[1]); c.defined and c.destroy()",
                        os.path.join(work, "lp")], env=dict(os.environ, LD_LIBRARY_PATH=DEBIAN),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
