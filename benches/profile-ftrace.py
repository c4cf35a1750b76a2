#!/usr/bin/env python3
"""Reads a kernel trace (ftrace text) of benches/profile.c run with
PROF_FTRACE=1 (see benches/profile.sh) and prints, per phase (start,
attach, attach2, stop), what each process did, unslowed: the kernel
records scheduler switches and syscall entries and exits at a fraction of
a microsecond each, where strace stops the process at every syscall.

Per process of a phase (named by its comm once it changes, by an exec or
PR_SET_NAME, before that "fork of" its parent),
medians over the cycles: when it appeared and ended (ms from the phase's
start), its time on a CPU, its syscalls, its page faults (user and kernel
mode), and the syscalls it spent longest in (blocking included). Usage: profile-ftrace.py TRACE"""

import re
import statistics
import sys
from collections import defaultdict

LINE = re.compile(r"^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\w+): (.*)$")
PHASES = ("start", "attach", "attach2", "stop")


def syscall_names():
    names = {}
    try:
        with open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h") as f:
            for line in f:
                m = re.match(r"#define __NR_(\w+) (\d+)", line)
                if m:
                    names[int(m.group(2))] = m.group(1)
    except OSError:
        pass
    return names


def fields(text):
    return dict(re.findall(r"(\w+)=(\S+)", text))


class Proc:
    def __init__(self, name, t, comm):
        self.name, self.first, self.last = name, t, t
        # A new comm (an exec, PR_SET_NAME) names the process from then on.
        self.comm = comm
        self.on_cpu, self.since = 0.0, None
        self.calls = 0
        self.faults = 0
        self.in_call = defaultdict(float)
        self.entered = None


def phases(path):
    """Yields (phase, wall, {pid: Proc}) for each phase a next marker ends."""
    names = syscall_names()
    phase, t0, procs = None, 0.0, {}
    driver = None
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        comm, pid, _, t, event, rest = m.groups()
        pid, t = int(pid), float(t)
        if event == "tracing_mark_write" and rest.startswith("@prof:"):
            if phase in PHASES:
                yield phase, t - t0, procs
            phase, t0, driver = rest[len("@prof:"):].strip(), t, pid
            procs = {driver: Proc("profile", t, comm)}
            continue
        if phase not in PHASES:
            continue
        p = procs.get(pid)
        if event == "sched_process_fork":
            f = fields(rest)
            parent = procs.get(int(f["pid"]))
            child = int(f["child_pid"])
            if parent:
                procs[child] = Proc("fork of " + parent.name, t, parent.comm)
            continue
        if p is None:
            if event == "sched_switch":
                f = fields(rest)
                nxt = procs.get(int(f.get("next_pid", -1)))
                if nxt:
                    nxt.since = t
            continue
        p.last = t
        if comm != p.comm and comm != "<...>":
            p.name = p.comm = comm
        if event.startswith("page_fault_"):
            p.faults += 1
        elif event == "sys_enter":
            nr = int(re.match(r"NR (\d+)", rest).group(1))
            p.entered = (names.get(nr, str(nr)), t)
            p.calls += 1
        elif event == "sys_exit" and p.entered:
            name, start = p.entered
            p.in_call[name] += t - start
            p.entered = None
        elif event == "sched_switch":
            f = fields(rest)
            if int(f.get("prev_pid", -1)) == pid and p.since is not None:
                p.on_cpu += t - p.since
                p.since = None
            nxt = procs.get(int(f.get("next_pid", -1)))
            if nxt:
                nxt.since = t


def main():
    per_phase = defaultdict(list)
    for phase, wall, procs in phases(sys.argv[1]):
        per_phase[phase].append((wall, procs))
    for phase in PHASES:
        cycles = per_phase.get(phase)
        if not cycles:
            continue
        med = lambda v: statistics.median(v) if v else 0.0
        walls = [w for w, _ in cycles]
        t0s = []
        rows = defaultdict(list)
        for wall, procs in cycles:
            t0 = min(p.first for p in procs.values())
            t0s.append(t0)
            seen = defaultdict(int)
            for p in sorted(procs.values(), key=lambda p: p.first):
                seen[p.name] += 1
                key = p.name if seen[p.name] == 1 else f"{p.name} #{seen[p.name]}"
                rows[key].append((p.first - t0, p.last - t0, p.on_cpu, p.calls, p.in_call, p.faults))
        cpu_total = [sum(p.on_cpu for p in procs.values()) for _, procs in cycles]
        print(f"== {phase}: {len(cycles)} cycles, wall {med(walls) * 1e3:.2f} ms, "
              f"on a CPU (all processes) {med(cpu_total) * 1e3:.2f} ms")
        print("  process                              from ..    to  on-CPU  calls faults  longest in")
        for key, r in sorted(rows.items(), key=lambda kv: med([x[0] for x in kv[1]])):
            longest = defaultdict(list)
            for x in r:
                for name, d in x[4].items():
                    longest[name].append(d)
            top = sorted(longest.items(), key=lambda kv: -sum(kv[1]) / len(r))[:3]
            tops = ", ".join(f"{n} {sum(v) / len(r) * 1e3:.2f}" for n, v in top)
            print(f"  {key[:36]:36} {med([x[0] for x in r]) * 1e3:5.2f} .. "
                  f"{med([x[1] for x in r]) * 1e3:5.2f}  {med([x[2] for x in r]) * 1e3:6.2f}  "
                  f"{med([x[3] for x in r]):5.0f} {med([x[5] for x in r]):6.0f}  {tops}")


if __name__ == "__main__":
    main()
