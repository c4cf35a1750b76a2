/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Driver for benches/profile.sh: one busybox container, N cycles of
 * start (to RUNNING), a pause for boot, two attach_run_wait(/bin/true)
 * and stop. Prints "start|attach|attach2|stop <ns>" per cycle. Before each phase it
 * makes a marker syscall, access("/@prof:<phase>"), so that a strace of
 * the run can be cut into phases. In each cycle it also times what the
 * kernel alone needs for the same kind of work (no liblxc involved).
 * Usage: profile LXCPATH N EXECDIR (the floor programs)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The kernel tracer's marker file, when PROF_FTRACE is set (see
 * benches/profile-ftrace.sh); -1 otherwise. */
static int trace_marker = -1;

static void mark(const char *phase)
{
	char path[64];

	snprintf(path, sizeof(path), "/@prof:%s", phase);
	syscall(SYS_access, path, F_OK);
	if (trace_marker >= 0)
		dprintf(trace_marker, "@prof:%s\n", phase);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* fork, child runs fn, parent waits; returns the ns it took */
static double timed_child(int (*fn)(void *), void *arg, int flags)
{
	static char stack[1 << 16];
	double t = now_ns();
	pid_t pid = clone(fn, stack + sizeof(stack), flags | SIGCHLD, arg);

	if (pid < 0 || waitpid(pid, NULL, 0) != pid) {
		perror("clone/wait");
		exit(1);
	}
	return now_ns() - t;
}

static int exec_true(void *arg)
{
	char *argv[] = {"true", NULL};

	(void)arg;
	execv("/bin/true", argv);
	_exit(127);
}

static int exec_argv(void *arg)
{
	char **argv = arg;

	execv(argv[0], argv);
	_exit(127);
}

/* the attach floor: join the namespaces of `pid`, fork into its pid
 * namespace, exec /bin/true there, wait */
static int join_and_run(void *arg)
{
	static const char *ns[] = {"user", "mnt", "pid", "uts", "ipc", "net", "cgroup"};
	pid_t pid = *(pid_t *)arg, child;
	char path[64];

	for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		setns(fd, 0); /* the user ns is the host's here: EINVAL, ignored */
		close(fd);
	}
	child = fork();
	if (child == 0)
		exec_true(NULL);
	waitpid(child, NULL, 0);
	_exit(0);
}

static const char *hierarchies[] = {"cpu", "cpuacct", "cpuset", "memory", "devices",
				    "freezer", "blkio", "pids", "systemd", "unified"};

/* the kernel floor, sampled in each cycle (same load as the library's
 * operations): fork+exec+wait of /bin/true; the same in new pid, mount,
 * uts, ipc and net namespaces; unshare(1) doing that; a cgroup made and
 * removed in each hierarchy */
#define NFLOOR 8
static const char *floor_names[NFLOOR] = {
	"floor:fork+exec+wait(/bin/true)",
	"floor:clone(pid,mnt,uts,ipc,net)+exec+wait(/bin/true)",
	"floor:unshare(1)--fork--pid--mount--uts--ipc--net-true",
	"floor:mkdir+rmdir-cgroup(10-hierarchies)",
	"floor:SIGKILL+wait(pid-ns-init)+rmdir-cgroup(10)",
	/* what an exec costs on this machine, by what the program does before
	 * main: nothing (no libc), 43 CPUID instructions as glibc's start-up
	 * runs (each one exits to the hypervisor in a VM), glibc's start-up */
	"floor:fork+exec+wait(static,no-libc)",
	"floor:fork+exec+wait(static,no-libc,43-cpuid)",
	"floor:fork+exec+wait(static,glibc,empty-main)",
};

/* Directory of the floor programs (benches/profile.sh builds them). */
static const char *exec_dir;

static double timed_exec(const char *name)
{
	char path[512];
	char *argv[] = {path, NULL};

	snprintf(path, sizeof(path), "%s/%s", exec_dir, name);
	return timed_child(exec_argv, argv, 0);
}

static int exec_sleep(void *arg)
{
	char *argv[] = {"sleep", "60", NULL};

	(void)arg;
	execv("/bin/sleep", argv);
	_exit(127);
}

static void floor_sample(double *out)
{
	char *unshare_argv[] = {"/usr/bin/unshare", "--fork", "--pid", "--mount", "--uts",
				"--ipc", "--net", "/bin/true", NULL};
	char path[128];
	double t;

	out[0] = timed_child(exec_true, NULL, 0);
	out[1] = timed_child(exec_true, NULL,
			     CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET);
	out[2] = timed_child(exec_argv, unshare_argv, 0);
	t = now_ns();
	for (unsigned h = 0; h < sizeof(hierarchies) / sizeof(hierarchies[0]); h++) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/lxcprof-floor", hierarchies[h]);
		if (mkdir(path, 0755) == 0)
			rmdir(path);
	}
	out[3] = now_ns() - t;
	out[5] = timed_exec("nolibc");
	out[6] = timed_exec("nolibc-cpuid");
	out[7] = timed_exec("glibc-static");

	/* the stop floor: kill a pid namespace's init, reap it, remove its
	 * cgroups (made beforehand) */
	{
		static char stack[1 << 16];
		pid_t pid = clone(exec_sleep, stack + sizeof(stack),
				  CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD,
				  NULL);

		for (unsigned h = 0; h < sizeof(hierarchies) / sizeof(hierarchies[0]); h++) {
			snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/lxcprof-floor", hierarchies[h]);
			mkdir(path, 0755);
		}
		usleep(20000);
		t = now_ns();
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		for (unsigned h = 0; h < sizeof(hierarchies) / sizeof(hierarchies[0]); h++) {
			snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/lxcprof-floor", hierarchies[h]);
			rmdir(path);
		}
		out[4] = now_ns() - t;
	}
}

/* LXC 5.0 leaves an empty lxc.monitor.<name>[-N] cgroup per start on this
 * host (and each later start probes the taken names): remove them between
 * cycles, outside the timed calls, so that every start meets a clean host */
static void remove_leftover_cgroups(void)
{
	char path[256];

	for (unsigned h = 0; h < sizeof(hierarchies) / sizeof(hierarchies[0]); h++) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/lxc.monitor.prof", hierarchies[h]);
		rmdir(path);
		for (int k = 1; k < 64; k++) {
			snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/lxc.monitor.prof-%d", hierarchies[h], k);
			rmdir(path);
		}
	}
}

static int fail(struct lxc_container *c, const char *what)
{
	fprintf(stderr, "profile: %s failed\n", what);
	if (c && c->is_running(c))
		c->stop(c);
	if (c)
		c->destroy(c);
	return 1;
}

int main(int argc, char **argv)
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	const char *true_argv[] = {"true", NULL};
	struct lxc_container *c;
	double *floor_v[NFLOOR + 1];
	int n;

	if (argc < 4)
		return 2;
	n = atoi(argv[2]);
	exec_dir = argv[3];
	if (getenv("PROF_FTRACE"))
		trace_marker = open("/sys/kernel/tracing/trace_marker", O_WRONLY | O_CLOEXEC);
	for (int k = 0; k <= NFLOOR; k++)
		floor_v[k] = calloc(n, sizeof(double));
	c = lxc_container_new("prof", argv[1]);
	if (!c || !c->set_config_item(c, "lxc.net.0.type", "empty"))
		return 1;
	if (!c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL))
		return fail(c, "create");
	for (int i = 0; i < n; i++) {
		double t, f[NFLOOR];
		pid_t init;

		mark("start");
		t = now_ns();
		if (!c->start(c, 0, NULL))
			return fail(c, "start");
		printf("start %.0f\n", now_ns() - t);
		mark("idle");
		usleep(400000); /* busybox init's rc runs in this time */
		init = c->init_pid(c);
		floor_v[NFLOOR][i] = timed_child(join_and_run, &init, 0);
		floor_sample(f);
		for (int k = 0; k < NFLOOR; k++)
			floor_v[k][i] = f[k];
		usleep(100000);
		/* the first attach after 0.1 s of quiet, then one right after it */
		mark("attach");
		t = now_ns();
		if (c->attach_run_wait(c, &opts, "true", true_argv) != 0)
			return fail(c, "attach_run_wait");
		printf("attach %.0f\n", now_ns() - t);
		mark("attach2");
		t = now_ns();
		if (c->attach_run_wait(c, &opts, "true", true_argv) != 0)
			return fail(c, "attach_run_wait");
		printf("attach2 %.0f\n", now_ns() - t);
		mark("stop");
		t = now_ns();
		if (!c->stop(c))
			return fail(c, "stop");
		printf("stop %.0f\n", now_ns() - t);
		mark("end");
		remove_leftover_cgroups();
	}
	for (int k = 0; k < NFLOOR; k++)
		printf("%s %.0f\n", floor_names[k], median(floor_v[k], n));
	printf("floor:setns(7)+fork+exec+wait(/bin/true) %.0f\n", median(floor_v[NFLOOR], n));
	if (!c->destroy(c))
		return fail(NULL, "destroy");
	lxc_container_put(c);
	return 0;
}
