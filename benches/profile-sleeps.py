#!/usr/bin/env python3
"""Reads a kernel trace (ftrace text) of benches/profile.c run with
PROF_FTRACE=1 and the scheduler's switch event carrying a kernel stack
for every switch away from a task in uninterruptible sleep (the trigger
`stacktrace if prev_state == 2`, see benches/profile.sh) and prints, per
phase (start, attach, attach2, stop), where the processes the driver
started slept: per kernel call path (the first frames below the
scheduler's), how many sleeps over all cycles, their total and longest,
in ms. A sleep ends when the task runs again. The driver's own sleeps
(waiting for its children) are left out. Usage: profile-sleeps.py TRACE"""

import re
import sys
from collections import defaultdict

LINE = re.compile(r"^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\w+): (.*)$")
SWITCH = re.compile(r"prev_comm=(.*?) prev_pid=(\d+) .*?prev_state=(\S+) ==> next_comm=.*? next_pid=(\d+)")
PHASES = ("start", "attach", "attach2", "stop")
# Frames of the scheduler and of the tracer itself, which every stack has.
NOISE = ("__schedule", "schedule", "__traceiter", "trace_", "stack_trace", "ftrace",
         "event_triggers", "__trace", "rwsem_down", "down_", "__wait_for", "wait_for",
         "io_schedule", "preempt_schedule")
DEPTH = 4


def main(path):
    lines = open(path, errors="replace").read().split("\n")
    phase = None
    started = set()  # pids forked by the driver's descendants
    driver = None
    asleep = {}  # pid -> (since, comm, call path)
    sleeps = defaultdict(lambda: defaultdict(list))  # phase -> (comm, path) -> [ms]
    for i, line in enumerate(lines):
        m = LINE.match(line)
        if not m:
            continue
        comm, pid, _, t, event, rest = m.groups()
        t = float(t) * 1000
        if event == "tracing_mark_write":
            mark = re.search(r"@prof:(\w+)", rest)
            phase = mark.group(1) if mark and mark.group(1) in PHASES else None
            driver = driver or pid
            asleep.clear()
        elif event == "sched_process_fork":
            child = re.search(r"child_pid=(\d+)", rest)
            if child and (pid == driver or pid in started):
                started.add(child.group(1))
        elif event == "sched_switch":
            s = SWITCH.search(rest)
            if not s:
                continue
            prev_comm, prev, state, nxt = s.groups()
            if nxt in asleep:
                since, who, where = asleep.pop(nxt)
                if phase:
                    sleeps[phase][(who, where)].append(t - since)
            if state == "D" and prev in started and phase:
                asleep[prev] = (t, prev_comm, call_path(lines, i))
    for p in PHASES:
        if not sleeps[p]:
            continue
        print(f"== {p}: uninterruptible sleeps of the processes started (all cycles)")
        ranked = sorted(sleeps[p].items(), key=lambda kv: -sum(kv[1]))
        for (who, where), ms in ranked[:10]:
            print(f"  {len(ms):4} x {sum(ms):7.3f} ms (longest {max(ms):.3f})  {who[:14]:14}  {where}")


def call_path(lines, i):
    """The frames below the scheduler's of the stack trace printed right
    after line i."""
    j = i + 1
    while j < min(i + 4, len(lines)) and "<stack trace>" not in lines[j]:
        j += 1
    frames = []
    for line in lines[j + 1:j + 40]:
        frame = line.strip()
        if not frame.startswith("=>"):
            break
        name = frame[3:].split()[0]
        if not name.startswith(NOISE):
            frames.append(name)
    return " < ".join(frames[:DEPTH]) or "?"


if __name__ == "__main__":
    main(sys.argv[1])
