#!/usr/bin/python3
# Cuts a `strace -f -T -tt -y` log of benches/profile.c into its phases (the
# driver's access("/@prof:<phase>") markers) and prints, per phase (start,
# attach, stop), per-cycle medians: wall time, processes and threads created,
# programs exec'd, the time the calling thread spent blocked and on what,
# and the syscalls that took the most time over all processes. strace
# inflates every syscall: use the output for counts and shares only.
# Usage: benches/profile-strace.py LOG
import re
import statistics
import sys
from collections import defaultdict

LINE = re.compile(r'^(\d+)\s+(\d+):(\d+):(\d+\.\d+) (.*)$')
CALL = re.compile(r'^([a-z0-9_]+)\((.*)$')
RESUMED = re.compile(r'^<\.\.\. ([a-z0-9_]+) resumed>(.*)$')
DUR = re.compile(r'<(\d+\.\d+)>$')
RET = re.compile(r'\)\s+= (-?\d+|\?)')
# syscalls in which a process sleeps until another one (or the kernel) acts
BLOCKING = {'wait4', 'waitid', 'poll', 'ppoll', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2',
            'select', 'pselect6', 'read', 'recvmsg', 'recvfrom', 'futex', 'nanosleep',
            'clock_nanosleep', 'accept', 'accept4', 'connect', 'pause', 'rt_sigtimedwait',
            'rt_sigsuspend', 'sendmsg', 'write'}
CREATE = {'clone', 'clone3', 'fork', 'vfork'}
GROUPS = {'mount': {'mount', 'umount2', 'pivot_root', 'open_tree', 'move_mount', 'fsopen',
                    'fsconfig', 'fsmount', 'mount_setattr'},
          'cgroup fs': set(), 'setns/unshare': {'setns', 'unshare'},
          'pidfd': {'pidfd_open', 'pidfd_send_signal', 'pidfd_getfd'},
          'signal setup': {'rt_sigaction', 'rt_sigprocmask'}}


def category(name, args):
    """a coarse name for what a syscall does, for the tables"""
    head = args.split('msg_control')[0][:300]
    if '/sys/fs/cgroup' in head and name not in ('recvmsg', 'sendmsg', 'sendto', 'recvfrom'):
        return 'cgroup:' + name
    if name in ('read', 'recvmsg', 'recvfrom') and ('pipe:' in head or 'socket:' in head):
        return name + '(pipe/socket)'
    return name


def main():
    log = sys.argv[1]
    first_pid = None
    marks = []          # (t, phase)
    events = []         # (t_start, pid, name, cat, dur, ret, args)
    pending = {}        # pid -> (t, name, args)
    for raw in open(log, errors='replace'):
        m = LINE.match(raw.rstrip('\n'))
        if not m:
            continue
        pid = int(m.group(1))
        t = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
        rest = m.group(5)
        if first_pid is None:
            first_pid = pid
        if rest.startswith('+++') or rest.startswith('---'):
            continue
        r = RESUMED.match(rest)
        if r:
            if pid not in pending:
                continue
            t0, name, args = pending.pop(pid)
            args += r.group(2)
        else:
            c = CALL.match(rest)
            if not c:
                continue
            name, args = c.group(1), c.group(2)
            if name == 'access' and '"/@prof:' in args and pid == first_pid:
                marks.append((t, args.split('"/@prof:')[1].split('"')[0]))
            if rest.endswith('<unfinished ...>'):
                pending[pid] = (t, name, args)
                continue
            t0 = t
        d = DUR.search(args)
        dur = float(d.group(1)) if d else 0.0
        rv = RET.search(args)
        ret = rv.group(1) if rv else '?'
        events.append((t0, pid, name, category(name, args), dur, ret, args))
    events.sort()

    # program name per pid at each event: the exec'd image, else "fork of"
    # its parent's ("thread of" for threads); it changes at execve
    label = {first_pid: 'client'}
    labelled = []
    for t0, pid, name, cat, dur, ret, args in events:
        labelled.append((t0, pid, name, cat, dur, ret, args, label.get(pid, '?')))
        if name in CREATE and ret.isdigit() and int(ret) > 0:
            kind = 'thread of ' if 'CLONE_THREAD' in args else 'fork of '
            label[int(ret)] = kind + label.get(pid, '?')
        elif name in ('execve', 'execveat') and ret == '0':
            argv = re.search(r'\[("(?:[^"\\]|\\.)*")', args)
            prog = argv.group(1).strip('"') if argv else name
            if '--attach-helper' in args:
                prog = 'attach-helper'
            elif prog.startswith('[lxc monitor]'):
                prog = 'lxc-rs-monitor'
            label[pid] = prog.split('/')[-1].split(' ')[0]
            labelled[-1] = labelled[-1][:6] + (label[pid],) + labelled[-1][7:]
    events = labelled

    cycles = defaultdict(list)  # phase -> list of per-cycle dicts
    for (ta, phase), (tb, _) in zip(marks, marks[1:]):
        if phase not in ('start', 'attach', 'attach2', 'stop'):
            continue
        ev = [e for e in events if ta <= e[0] < tb]
        groups = defaultdict(int)
        for e in ev:
            for g, names in GROUPS.items():
                if e[2] in names or (g == 'cgroup fs' and e[3].startswith('cgroup:')):
                    groups[g] += 1
            if e[2] == 'write' and 'cgroup.procs' in e[6] or 'tasks>' in e[6] and e[2] == 'write':
                groups['cgroup.procs/tasks writes'] += 1
        st = {'groups': groups, 'wall': tb - ta, 'procs': 0, 'threads': 0, 'execs': [], 'block': defaultdict(float),
              'sys': defaultdict(float), 'n': defaultdict(int), 'calls': len(ev), 'span': {}}
        for t0, pid, name, cat, dur, ret, args, lab in ev:
            if name in CREATE and ret.isdigit() and int(ret) > 0:
                st['threads' if 'CLONE_THREAD' in args else 'procs'] += 1
            if name in ('execve', 'execveat') and ret == '0':
                st['execs'].append(args)
            if pid == first_pid and name in BLOCKING:
                st['block'][cat] += dur
            who = (pid, lab)
            a, b, n, w, top = st['span'].get(who, (t0, t0, 0, 0.0, defaultdict(float)))
            if name not in BLOCKING:
                top[cat] += dur
                w += dur
                st['sys'][lab + ': ' + cat] += dur
                st['n'][lab + ': ' + cat] += 1
            st['span'][who] = (min(a, t0), max(b, t0 + dur), n + 1, w, top)
        cycles[phase].append(st)

    for phase in ('start', 'attach', 'attach2', 'stop'):
        cs = cycles[phase]
        if not cs:
            continue
        med = lambda f: statistics.median(f(c) for c in cs)
        wall = med(lambda c: c['wall'])
        print(f'== {phase}: {len(cs)} cycles, median under strace {wall * 1e3:.2f} ms; '
              f'processes {med(lambda c: c["procs"]):.0f}, threads {med(lambda c: c["threads"]):.0f}, '
              f'execs {med(lambda c: len(c["execs"])):.0f} ({", ".join(sorted(set(cs[0]["execs"])))})')
        keys = set().union(*(c['block'] for c in cs))
        blocked = sorted(((med(lambda c, k=k: c['block'].get(k, 0)), k) for k in keys), reverse=True)
        print('  caller blocked in: ' + '; '.join(f'{k} {v * 1e3:.2f} ms ({v / wall:.0%})'
                                                  for v, k in blocked[:4] if v > 0))
        print(f'  syscalls in all processes: {med(lambda c: c["calls"]):.0f}; of which '
              + ', '.join(f'{g} {med(lambda c, g=g: c["groups"].get(g, 0)):.0f}'
                          for g in list(GROUPS) + ['cgroup.procs/tasks writes']))
        c = sorted(cs, key=lambda c: c['wall'])[len(cs) // 2]
        t = min(a for a, b, n, w, top in c['span'].values())
        print('  timeline of the median cycle (ms from the call; calls; non-blocking syscall ms; top ones):')
        for (pid, lab), (a, b, n, w, top) in sorted(c['span'].items(), key=lambda kv: kv[1][0]):
            best = sorted(top.items(), key=lambda kv: -kv[1])[:3]
            print(f'    {(a - t) * 1e3:7.2f} .. {(b - t) * 1e3:7.2f}  {n:4d}  {w * 1e3:6.2f}  {lab} [{pid}]: '
                  + ', '.join(f'{k} {v * 1e3:.2f}' for k, v in best))
        keys = set().union(*(c['sys'] for c in cs))
        top = sorted(((med(lambda c, k=k: c['sys'].get(k, 0)), k) for k in keys), reverse=True)
        print('  longest non-blocking syscalls (summed per program, median of cycles):')
        for v, k in top[:10]:
            print(f'    {v * 1e3:8.2f} ms  {med(lambda c, k=k: c["n"].get(k, 0)):5.0f}x  {k}')

main()
