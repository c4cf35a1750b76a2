/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hostile root of tests-c/t_hostile_attach.c: built there with
 * `gcc -static` into a container's rootfs (as /attacker) and run inside as
 * root. It is not a test program of its own (tests-c/run.sh only builds
 * tests-c/t_*.c).
 *
 *   /attacker --attach   started detached through attach: watches every new
 *                        pid of the container until /hostile-stop appears.
 *   /attacker --app      the command of an application container: attacks
 *                        PID 1 (our reaper), waits, then tests what it got.
 *
 * For every process it catches that is not one of the container's own
 * programs (its /proc/PID/exe is neither /bin/busybox nor /attacker: a
 * process of ours before its exec; a "sighting"), it tries what a root
 * inside would try to reach the host caller: write the caller's memory
 * through /proc/PID/mem at the canary address the test gave, hold
 * /proc/PID/exe (O_PATH), read the targets in /proc/PID/fd, open a host
 * marker through a directory descriptor (/proc/PID/fd/N/<marker>, and
 * pidfd_getfd), through /proc/PID/root and /proc/PID/cwd, and ptrace it.
 * At the end, for every executable it holds, it tries to reopen it for
 * writing through /proc/self/fd/N (never writing or truncating anything),
 * and tries to make the mount it sits on writable (mount_setattr clearing
 * MOUNT_ATTR_RDONLY; restored at once when that works).
 *
 * New pids are found without scanning all of /proc: pids in a pid
 * namespace are allocated in order and /proc/loadavg shows the last one
 * allocated in the reader's namespace, so the attacker polls the next pid
 * in a tight loop, which catches a process within microseconds of its
 * creation.
 *
 * Inputs (written by the test into the rootfs): /hostile-config with
 * key=value lines (addr, value: the canary's address and expected value in
 * the caller; marker: the host marker's path relative to /; secret: a word
 * in the name of the caller's secret file; caller_dev/caller_ino and
 * monitor_dev/monitor_ino: the caller's and the monitor's executables),
 * /hostile-phase (the test's current phase number, acknowledged in
 * /hostile-ack), /hostile-stop. Output: /hostile-report, key=value lines,
 * counters per phase as p<phase>_<counter>. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_WRITE
#define F_SEAL_WRITE 0x0008
#endif
#ifndef ST_RDONLY
#define ST_RDONLY 1
#endif
#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#define PTRACE_INTERRUPT 0x4207
#endif
#define ATTR_RDONLY 0x00000001 /* MOUNT_ATTR_RDONLY */

/* struct mount_attr of <linux/mount.h> (not included: it clashes with
 * glibc's <sys/mount.h> on some systems). */
struct attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

#define PHASES 10
#define MAX_EXE_FDS 512
#define MAX_NOTES 24

/* What the attacker got, per phase of the test. */
struct counters {
	long attempts;        /* new pids handled */
	long sightings;       /* of them, caught before their exec */
	long mem_open;        /* /proc/PID/mem opened read-write (pre-exec) */
	long mem_read_match;  /* the canary's value read there: caller memory */
	long mem_write;       /* a new value written there */
	long exe_fds;         /* /proc/PID/exe held (not busybox/attacker) */
	long exe_caller;      /* of them, the caller's own executable */
	long exe_monitor;     /* of them, the installed monitor */
	long exe_ro_mount;    /* of them, on a read-only mount when caught */
	long fd_lists;        /* /proc/PID/fd listed */
	long fd_targets;      /* descriptors seen there */
	long secret_targets;  /* of them, naming the caller's secret file */
	long marker_via_fd;   /* host marker opened through /proc/PID/fd/N */
	long getfd;           /* descriptors taken with pidfd_getfd */
	long getfd_secret;    /* of them, the caller's secret file */
	long marker_via_getfd;/* host marker opened through one of them */
	long marker_via_root; /* through /proc/PID/root or /proc/PID/cwd */
	long root_foreign;    /* /proc/PID/root not our "/" */
	long foreign_dir;     /* a directory descriptor our root does not
			       * show (a host directory) */
	long pidfd_taken;     /* pidfds taken with pidfd_getfd */
	long marker_via_pidfd;/* host marker opened after setns() into the
			       * mount namespace of such a pidfd's process */
	long ptrace;          /* PTRACE_SEIZE succeeded */
	/* Reopening a held executable for writing, at the end: */
	long exe_writable;    /* O_WRONLY open succeeded (no write seal) */
	long exe_sealed;      /* opened, but a memfd sealed against writes */
	long exe_erofs;       /* refused: read-only mount */
	long exe_eperm;       /* refused: EPERM/EACCES */
	long exe_busy;        /* refused only because it runs (ETXTBSY) on a
			       * writable mount: writable once nothing runs it */
	long exe_other;       /* refused otherwise */
	long exe_unlocked;    /* mount_setattr cleared the mount's RDONLY */
	long exe_unlocked_writable; /* then O_WRONLY open succeeded */
	long exe_unlocked_busy;     /* then refused only with ETXTBSY */
};

static struct counters stats[PHASES];
_Static_assert(sizeof(struct counters) == 31 * sizeof(long), "write_report names every counter");
static char notes[PHASES][MAX_NOTES][160];
static int note_count[PHASES];
static int phase, phase_acked;
/* What the entry point got (pidfd_open, pidfd_getfd of fd 3), reported. */
static int early_pidfd_result, early_fd3_result;
static pid_t self;

static uint64_t canary_addr, canary_value;
static char marker[256], secret[128];
static dev_t caller_dev, monitor_dev;
static ino_t caller_ino, monitor_ino;

static struct {
	int fd, phase;
} exe_held[MAX_EXE_FDS];
static int exe_held_count;

/* Records a distinct line of evidence for the current phase. */
static void note(const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* "socket:[1234]": one note per kind, not per inode. */
	for (char *b = strchr(line, '['); b; b = strchr(b + 1, '[')) {
		char *e = b + 1 + strspn(b + 1, "0123456789");

		if (*e == ']' && e > b + 1)
			memmove(b + 1, e, strlen(e) + 1);
	}
	for (int i = 0; i < note_count[phase]; i++)
		if (strcmp(notes[phase][i], line) == 0)
			return;
	if (note_count[phase] < MAX_NOTES)
		snprintf(notes[phase][note_count[phase]++], sizeof(notes[0][0]), "%s", line);
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return (int)n;
}

static void write_file(const char *path, const char *text)
{
	char tmp[256];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		perror("attacker: write");
	close(fd);
	rename(tmp, path);
}

static void load_config(void)
{
	static char buf[4096];
	char *line, *save = NULL;

	if (read_small("/hostile-config", buf, sizeof(buf)) < 0) {
		perror("attacker: /hostile-config");
		exit(2);
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq++ = 0;
		if (!strcmp(line, "addr"))
			canary_addr = strtoull(eq, NULL, 0);
		else if (!strcmp(line, "value"))
			canary_value = strtoull(eq, NULL, 0);
		else if (!strcmp(line, "marker"))
			snprintf(marker, sizeof(marker), "%s", eq);
		else if (!strcmp(line, "secret"))
			snprintf(secret, sizeof(secret), "%s", eq);
		else if (!strcmp(line, "caller_dev"))
			caller_dev = strtoull(eq, NULL, 0);
		else if (!strcmp(line, "caller_ino"))
			caller_ino = strtoull(eq, NULL, 0);
		else if (!strcmp(line, "monitor_dev"))
			monitor_dev = strtoull(eq, NULL, 0);
		else if (!strcmp(line, "monitor_ino"))
			monitor_ino = strtoull(eq, NULL, 0);
	}
	if (!canary_addr || !marker[0] || !secret[0]) {
		fprintf(stderr, "attacker: incomplete /hostile-config\n");
		exit(2);
	}
}

static struct stat busybox_st, attacker_st;

/* The container's own programs (busybox, under any of its names, and
 * ourselves): nothing of the host to find in them. `st` is what the
 * executable link leads to, NULL when unknown. */
static int native(const char *exe, const struct stat *st)
{
	if (st && st->st_dev == busybox_st.st_dev && st->st_ino == busybox_st.st_ino)
		return 1;
	if (st && st->st_dev == attacker_st.st_dev && st->st_ino == attacker_st.st_ino)
		return 1;
	return !strcmp(exe, "/bin/busybox") || !strcmp(exe, "/attacker");
}

/* /proc/PID/exe's target into buf: 1 when it is one of ours-to-attack (not
 * native, or hidden from us), 0 when native, -1 when the pid is gone. */
static int classify(pid_t pid, char *buf, size_t size)
{
	char path[64];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, buf, size - 1);
	if (n < 0) {
		snprintf(buf, size, "(%s)", strerror(errno));
		return errno == EACCES || errno == EPERM ? 1 : -1;
	}
	buf[n] = 0;
	return native(buf, stat(path, &st) == 0 ? &st : NULL) ? 0 : 1;
}

/* After a successful access: was the process still one of ours (not yet
 * executed its program)? Counting only those keeps the access counters
 * about processes of ours, not the container's own programs that just
 * replaced them (or exited: no way to tell then, so not counted; what
 * leaks is counted anyway). */
static int still_caught(pid_t pid)
{
	char exe[256];

	return classify(pid, exe, sizeof(exe)) == 1;
}

static void try_mem(pid_t pid)
{
	struct counters *s = &stats[phase];
	char path[64];
	uint64_t got = 0, bad = canary_value ^ 0xa5a5a5a5a5a5a5a5ULL;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (pread(fd, &got, sizeof(got), (off_t)canary_addr) == sizeof(got) && got == canary_value) {
		/* The caller's memory (or a copy of it): write only there. */
		s->mem_read_match++;
		if (pwrite(fd, &bad, sizeof(bad), (off_t)canary_addr) == sizeof(bad))
			s->mem_write++;
	}
	if (still_caught(pid))
		s->mem_open++;
	close(fd);
}

static void try_exe(pid_t pid)
{
	struct counters *s = &stats[phase];
	char path[64], target[256];
	struct statfs fs;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = 0;
	if (native(target, fstat(fd, &st) == 0 ? &st : NULL) || exe_held_count >= MAX_EXE_FDS) {
		close(fd);
		return;
	}
	s->exe_fds++;
	if (fstat(fd, &st) == 0) {
		if (st.st_dev == caller_dev && st.st_ino == caller_ino) {
			s->exe_caller++;
			note("exe=caller's executable %s", target);
		} else if (st.st_dev == monitor_dev && st.st_ino == monitor_ino) {
			s->exe_monitor++;
			note("exe=monitor %s", target);
		} else {
			note("exe=other %s", target);
		}
	}
	if (fstatfs(fd, &fs) == 0 && (fs.f_flags & ST_RDONLY))
		s->exe_ro_mount++;
	exe_held[exe_held_count].fd = fd;
	exe_held[exe_held_count++].phase = phase;
}

/* A directory behind a descriptor (`st`) that is not the directory of
 * the same name in our root: a host directory the container's view does
 * not show (outside the rootfs, or outside the cgroup namespace). */
static int foreign_dir(const struct stat *st, const char *target)
{
	struct stat ours;

	if (!S_ISDIR(st->st_mode) || target[0] != '/')
		return 0;
	return stat(target, &ours) != 0 || ours.st_dev != st->st_dev || ours.st_ino != st->st_ino;
}

/* The container's own cgroup2 directory as the root of a mount of its
 * own (what attach gives the attached process to be born in): `..` stays
 * there, so it leads nowhere the container's cgroup namespace does not. */
static int confined_cgroup_view(int fd)
{
	struct statfs fs;
	struct stat here, up;
	int parent, same;

	if (fstatfs(fd, &fs) != 0 || fs.f_type != 0x63677270 /* CGROUP2 */)
		return 0;
	parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return 0;
	same = fstat(fd, &here) == 0 && fstat(parent, &up) == 0 && here.st_dev == up.st_dev &&
	       here.st_ino == up.st_ino;
	close(parent);
	return same;
}

/* A directory descriptor that leads out of the container. */
static int foreign_dir_fd(int fd, const char *target)
{
	struct stat st;

	return fstat(fd, &st) == 0 && foreign_dir(&st, target) && !confined_cgroup_view(fd);
}

/* Evidence of where a host directory leads: what its parent lists (read
 * only). */
static void note_parent(int fd, const char *target)
{
	char names[120] = "";
	int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC), count = 0;
	struct dirent *e;
	DIR *d;

	if (up < 0 || !(d = fdopendir(up))) {
		if (up >= 0)
			close(up);
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (count++ < 4 && strlen(names) + strlen(e->d_name) + 2 < sizeof(names)) {
			strcat(names, " ");
			strcat(names, e->d_name);
		}
	}
	closedir(d);
	note("%s/.. lists %d entries:%s ...", target, count, names);
}

/* A pidfd we took: whose, and does its mount namespace lead to the host?
 * Tried in a child, which setns()es into it and opens the marker by its
 * absolute path. */
static void try_pidfd(int fd)
{
	struct counters *s = &stats[phase];
	char path[64], line[128], absolute[300];
	int status, target = -1;
	pid_t child;
	FILE *f;

	s->pidfd_taken++;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &target) == 1)
			break;
	if (f)
		fclose(f);
	note("took a pidfd of pid %d (0: outside our pid namespace)", target);
	snprintf(absolute, sizeof(absolute), "/%s", marker);
	child = fork();
	if (child == 0) {
		if (setns(fd, CLONE_NEWNS) != 0)
			_exit(1);
		_exit(open(absolute, O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 2);
	}
	if (child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 0) {
			s->marker_via_pidfd++;
			note("setns through a pidfd of pid %d reached the host marker", target);
		} else if (WEXITSTATUS(status) == 2) {
			note("setns through a pidfd of pid %d worked (marker not there)", target);
		}
	}
}

/* A descriptor we hold (from pidfd_getfd): the secret, or a way to the
 * host marker? */
static void inspect_taken(int fd)
{
	struct counters *s = &stats[phase];
	char path[64], target[256];
	ssize_t n;
	int m;

	s->getfd++;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = 0;
	if (strstr(target, secret)) {
		s->getfd_secret++;
		note("getfd secret %s", target);
	}
	if (foreign_dir_fd(fd, target)) {
		s->foreign_dir++;
		note("getfd took host directory %s", target);
		note_parent(fd, target);
	}
	if (strstr(target, "pidfd"))
		try_pidfd(fd);
	m = openat(fd, marker, O_RDONLY | O_CLOEXEC);
	if (m >= 0) {
		s->marker_via_getfd++;
		note("getfd reached the host marker through %s", target);
		close(m);
	}
}

static void try_fds(pid_t pid)
{
	struct counters *s = &stats[phase];
	long lists = s->fd_lists, targets = s->fd_targets, taken_before = s->getfd;
	char dir[64], path[1024], target[256];
	struct dirent *e;
	int pidfd, m;
	DIR *d;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (d) {
		s->fd_lists++;
		while ((e = readdir(d))) {
			ssize_t n;
			int num, taken;

			if (e->d_name[0] == '.')
				continue;
			num = atoi(e->d_name);
			s->fd_targets++;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = 0;
			if (n > 0)
				note("fd %d -> %s", num, target);
			if (strstr(target, secret))
				s->secret_targets++;
			if (n > 0) {
				int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

				if (dirfd >= 0 && foreign_dir_fd(dirfd, target)) {
					s->foreign_dir++;
					note("host directory at /proc/PID/fd/%d -> %s", num, target);
				}
				if (dirfd >= 0)
					close(dirfd);
			}
			/* A directory descriptor on the host's / would lead there. */
			snprintf(path, sizeof(path), "%s/%s/%s", dir, e->d_name, marker);
			m = open(path, O_RDONLY | O_CLOEXEC);
			if (m >= 0) {
				s->marker_via_fd++;
				note("marker reached through /proc/PID/fd/%d -> %s", num, target);
				close(m);
			}
			if (pidfd >= 0 && num > 2) {
				taken = (int)syscall(SYS_pidfd_getfd, pidfd, num, 0);
				if (taken >= 0) {
					inspect_taken(taken);
					close(taken);
				}
			}
		}
		closedir(d);
	} else if (pidfd >= 0) {
		/* No listing: guess the numbers a caller's files would have. */
		for (int num = 3; num < 64; num++) {
			int taken = (int)syscall(SYS_pidfd_getfd, pidfd, num, 0);

			if (taken >= 0) {
				inspect_taken(taken);
				close(taken);
			}
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (!still_caught(pid)) {
		s->fd_lists = lists;
		s->fd_targets = targets;
		s->getfd = taken_before;
	}
}

static void try_root_cwd(pid_t pid)
{
	struct counters *s = &stats[phase];
	static const char *const links[] = {"root", "cwd"};
	char path[700], target[256];

	for (int i = 0; i < 2; i++) {
		ssize_t n;
		int m;

		snprintf(path, sizeof(path), "/proc/%d/%s", pid, links[i]);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			if (i == 0 && strcmp(target, "/") != 0) {
				s->root_foreign++;
				note("root -> %s", target);
			}
		}
		snprintf(path, sizeof(path), "/proc/%d/%s/%s", pid, links[i], marker);
		m = open(path, O_RDONLY | O_CLOEXEC);
		if (m >= 0) {
			s->marker_via_root++;
			note("marker reached through /proc/PID/%s", links[i]);
			close(m);
		}
	}
}

static void try_ptrace(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0)
		return;
	if (still_caught(pid))
		stats[phase].ptrace++;
	/* Let go at once: detaching needs a stopped tracee. */
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0 && waitpid(pid, &status, __WALL) == pid &&
	    WIFSTOPPED(status))
		ptrace(PTRACE_DETACH, pid, 0, 0);
}

/* Everything at once on a process just seen. */
static void attack(pid_t pid)
{
	char exe[256];

	if (pid == self)
		return;
	stats[phase].attempts++;
	if (classify(pid, exe, sizeof(exe)) != 1)
		return;
	stats[phase].sightings++;
	note("sighting exe %s", exe);
	try_mem(pid);
	try_exe(pid);
	try_fds(pid);
	try_root_cwd(pid);
	try_ptrace(pid);
}

/* The last pid allocated in our pid namespace (/proc/loadavg's 5th field). */
static pid_t last_pid(void)
{
	char buf[128], *p;

	if (read_small("/proc/loadavg", buf, sizeof(buf)) < 0)
		return -1;
	p = strrchr(buf, ' ');
	return p ? (pid_t)atoi(p + 1) : -1;
}

static int exists(pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return access(path, F_OK) == 0;
}

static void read_phase(void)
{
	char buf[32];
	int p;

	if (read_small("/hostile-phase", buf, sizeof(buf)) <= 0)
		return;
	p = atoi(buf);
	if ((p != phase || !phase_acked) && p >= 0 && p < PHASES) {
		phase = p;
		phase_acked = 1;
		write_file("/hostile-ack", buf);
	}
}

/* Tries to reopen every executable held for writing; never writes. */
static void reopen_held(void)
{
	for (int i = 0; i < exe_held_count; i++) {
		struct counters *s = &stats[exe_held[i].phase];
		struct statfs fs;
		char path[64];
		int w, err;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", exe_held[i].fd);
		w = open(path, O_WRONLY | O_CLOEXEC);
		err = errno;
		if (w >= 0) {
			int seals = fcntl(w, F_GET_SEALS);

			if (seals >= 0 && (seals & F_SEAL_WRITE))
				s->exe_sealed++;
			else
				s->exe_writable++;
			close(w);
		} else if (err == ETXTBSY) {
			/* Refused while something runs it: writable once
			 * nothing does, unless its mount is read-only. */
			if (fstatfs(exe_held[i].fd, &fs) == 0 && (fs.f_flags & ST_RDONLY))
				s->exe_erofs++;
			else
				s->exe_busy++;
		} else if (err == EROFS) {
			s->exe_erofs++;
		} else if (err == EPERM || err == EACCES) {
			s->exe_eperm++;
		} else {
			s->exe_other++;
		}
		/* The mount under it: can we make it writable? A root inside
		 * has CAP_SYS_ADMIN over its own mount namespace. */
		if (fstatfs(exe_held[i].fd, &fs) == 0 && (fs.f_flags & ST_RDONLY)) {
			struct attr clear = {.attr_clr = ATTR_RDONLY}, set = {.attr_set = ATTR_RDONLY};

			if (syscall(SYS_mount_setattr, exe_held[i].fd, "", AT_EMPTY_PATH, &clear, sizeof(clear)) == 0) {
				s->exe_unlocked++;
				w = open(path, O_WRONLY | O_CLOEXEC);
				if (w >= 0) {
					s->exe_unlocked_writable++;
					close(w);
				} else if (errno == ETXTBSY) {
					s->exe_unlocked_busy++;
				}
				/* Put it back: the proof is made. */
				syscall(SYS_mount_setattr, exe_held[i].fd, "", AT_EMPTY_PATH, &set, sizeof(set));
			}
		}
	}
}

static void write_report(void)
{
	static char out[1 << 17];
	static const char *const names[] = {
		"attempts", "sightings", "mem_open", "mem_read_match", "mem_write", "exe_fds",
		"exe_caller", "exe_monitor", "exe_ro_mount", "fd_lists", "fd_targets",
		"secret_targets", "marker_via_fd", "getfd", "getfd_secret", "marker_via_getfd",
		"marker_via_root", "root_foreign", "foreign_dir", "pidfd_taken", "marker_via_pidfd",
		"ptrace", "exe_writable", "exe_sealed",
		"exe_erofs", "exe_eperm", "exe_busy", "exe_other", "exe_unlocked",
		"exe_unlocked_writable", "exe_unlocked_busy",
	};
	size_t len = 0;
	char caps[256] = "";
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(caps, sizeof(caps), f))
		if (!strncmp(caps, "CapEff:", 7))
			break;
	if (f)
		fclose(f);
	caps[strcspn(caps, "\n")] = 0;
	len += snprintf(out + len, sizeof(out) - len, "caps=%s early_pidfd=%d early_getfd3=%s\n",
			caps + (caps[0] ? 8 : 0), early_pidfd_result, strerror(-early_fd3_result));
	for (int p = 0; p < PHASES; p++) {
		long *v = (long *)&stats[p];

		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			len += snprintf(out + len, sizeof(out) - len, "p%d_%s=%ld\n", p, names[k], v[k]);
		for (int i = 0; i < note_count[p]; i++)
			len += snprintf(out + len, sizeof(out) - len, "p%d_note=%s\n", p, notes[p][i]);
	}
	write_file("/hostile-report", out);
}

static void watch_attaches(void)
{
	pid_t next = last_pid() + 1;
	unsigned long iter = 0;

	read_phase();
	for (;;) {
		if ((++iter & 255) == 0) {
			pid_t last;

			if (access("/hostile-stop", F_OK) == 0)
				break;
			read_phase();
			/* Processes that came and went between our polls: handle
			 * the pids still there, keep polling the last one (it may
			 * be allocated but not yet visible). */
			last = last_pid();
			for (; next < last; next++)
				if (exists(next))
					attack(next);
		}
		if (exists(next)) {
			attack(next);
			next++;
		}
	}
}

/* Descriptors of PID 1 taken the moment we run: our reaper closes its
 * descriptors only once it saw our exec succeed, so the attacker races it
 * from its very first instruction. On x86_64 the test links us with
 * -Wl,-e,attacker_entry: raw syscalls before libc's start-up code, then
 * libc's _start with the stack as the kernel left it; elsewhere it is done
 * first thing in main. early_fds[n] is what pidfd_getfd returned for n. */
int early_pidfd = -1, early_fds[64];

#ifdef __x86_64__
__asm__(".text\n"
	".globl attacker_entry\n"
	".type attacker_entry, @function\n"
	"attacker_entry:\n"
	"	mov $434, %eax\n" /* pidfd_open(1, 0) */
	"	mov $1, %edi\n"
	"	xor %esi, %esi\n"
	"	syscall\n"
	"	mov %eax, early_pidfd(%rip)\n"
	"	test %eax, %eax\n"
	"	js 2f\n"
	"	mov %eax, %r12d\n"
	"	mov $3, %r13d\n"
	"1:	mov $438, %eax\n" /* pidfd_getfd(pidfd, n, 0) */
	"	mov %r12d, %edi\n"
	"	mov %r13d, %esi\n"
	"	xor %edx, %edx\n"
	"	syscall\n"
	"	lea early_fds(%rip), %rcx\n"
	"	mov %eax, (%rcx,%r13,4)\n"
	"	inc %r13d\n"
	"	cmp $64, %r13d\n"
	"	jl 1b\n"
	"2:	xor %edx, %edx\n"
	"	jmp _start\n");
#endif

static void grab_reaper_fds(void)
{
	if (early_pidfd >= 0)
		return; /* done at the entry point */
	early_pidfd = (int)syscall(SYS_pidfd_open, 1, 0);
	for (int num = 3; early_pidfd >= 0 && num < 64; num++)
		early_fds[num] = (int)syscall(SYS_pidfd_getfd, early_pidfd, num, 0);
}

/* What grab_reaper_fds took: inspected (app mode) or just closed. */
static void release_early(int inspect)
{
	early_pidfd_result = early_pidfd;
	early_fd3_result = early_fds[3];
	if (early_pidfd < 0)
		return;
	for (int num = 3; num < 64; num++) {
		if (early_fds[num] < 0)
			continue;
		if (inspect)
			inspect_taken(early_fds[num]);
		close(early_fds[num]);
	}
	close(early_pidfd);
	early_pidfd = -1;
}

static void app_mode(void)
{
	struct timespec t = {0, 20 * 1000 * 1000};

	read_phase();
	release_early(1);
	/* Our reaper is PID 1: at once (it might still be setting itself up),
	 * then a few more times. */
	for (int i = 0; i < 10; i++) {
		attack(1);
		nanosleep(&t, NULL);
	}
	sleep(1);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: attacker --attach|--app\n");
		return 2;
	}
	if (!strcmp(argv[1], "--app"))
		grab_reaper_fds();
	else
		release_early(0); /* the container's own init: nothing to see */
	self = getpid();
	stat("/bin/busybox", &busybox_st);
	stat("/proc/self/exe", &attacker_st);
	load_config();
	if (!strcmp(argv[1], "--app")) {
		alarm(30);
		app_mode();
	} else {
		alarm(170);
		watch_attaches();
	}
	reopen_held();
	write_report();
	return 0;
}
