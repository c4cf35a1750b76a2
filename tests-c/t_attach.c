/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* attach, attach_run_wait and attach_run_waitl on a running busybox
 * container: exit statuses, signals, namespaces, cgroup, environment,
 * ids, cwd, stdio redirection, concurrency, and clean failures. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char name[64];

/* Runs argv in the container with stdout captured; returns the wait
 * status and fills out (trailing newline removed). */
static int run_capture(struct lxc_container *c, lxc_attach_options_t *opts,
		       const char *const argv[], char *out, size_t outsz)
{
	lxc_attach_options_t local = LXC_ATTACH_OPTIONS_DEFAULT;
	int p[2], status;
	ssize_t n;
	size_t len = 0;

	if (!opts)
		opts = &local;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -2;
	opts->stdout_fd = p[1];
	status = c->attach_run_wait(c, opts, argv[0], argv);
	close(p[1]);
	while (len + 1 < outsz && (n = read(p[0], out + len, outsz - 1 - len)) > 0)
		len += n;
	close(p[0]);
	out[len] = '\0';
	while (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	return status;
}

static void test_statuses(struct lxc_container *c)
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	const char *true_argv[] = {"/bin/true", NULL};
	const char *exit7[] = {"sh", "-c", "exit 7", NULL};
	const char *killed[] = {"sh", "-c", "kill -9 $$", NULL};
	int st;

	CHECK(c->attach_run_wait(c, &opts, "/bin/true", true_argv) == 0);
	/* NULL options: LXC_ATTACH_OPTIONS_DEFAULT */
	CHECK(c->attach_run_wait(c, NULL, "/bin/true", true_argv) == 0);
	st = c->attach_run_wait(c, &opts, "sh", exit7);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	st = c->attach_run_wait(c, &opts, "sh", killed);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	st = c->attach_run_waitl(c, &opts, "sh", "sh", "-c", "exit 5", NULL);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);
	/* a program that does not exist: 127, as the shell says */
	{
		const char *argv[] = {"/no/such/program", NULL};
		st = c->attach_run_wait(c, &opts, argv[0], argv);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	}
}

/* A program attached with lxc_attach_run_command is in the container's
 * cgroup in every hierarchy (/proc/<pid>/cgroup seen from outside). */
static void check_attached_cgroups(struct lxc_container *c)
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	char *sleep_argv[] = {"sleep", "30", NULL};
	lxc_attach_command_t cmd = {"sleep", sleep_argv};
	char path[64], line[512], want[128], leaf[128];
	int lines = 0, inside = 0, status;
	pid_t pid = -1;
	FILE *f;

	CHECK(c->attach(c, lxc_attach_run_command, &cmd, &opts, &pid) == 0);
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	snprintf(want, sizeof(want), "/lxc.payload.%s\n", name);
	/* LXC attaches into a ".lxc" leaf of the cgroup2 hierarchy; ours does
	 * only when the container's cgroup delegates controllers (t_cgroup2) */
	snprintf(leaf, sizeof(leaf), "0::/lxc.payload.%s/.lxc\n", name);
	f = fopen(path, "r");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line), wlen = strlen(want);

		lines++;
		if ((len >= wlen && strcmp(line + len - wlen, want) == 0) ||
		    (test_oracle() && strcmp(line, leaf) == 0))
			inside++;
		else
			fprintf(stderr, "attached process outside its cgroup: %s", line);
	}
	if (f)
		fclose(f);
	CHECK(lines > 0 && inside == lines);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
}

static int payload_fn(void *arg);

/* Without clone3 (old kernels; container runtimes' default seccomp
 * policies answer ENOSYS), start and attach still work, cgroups included:
 * checked in a child process whose seccomp filter refuses clone3. */
static void test_without_clone3(struct lxc_container *c)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 435 /* clone3 */, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
	const char *true_argv[] = {"/bin/true", NULL};
	int status, value = 9;
	pid_t child, pid = -1;

	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(99);
		CHECK(syscall(435, NULL, 0) < 0 && errno == ENOSYS);
		/* start too: the monitor clones init with the old clone */
		CHECK(c->stop(c));
		CHECK(c->start(c, 0, NULL));
		CHECK(c->wait(c, "RUNNING", 10));
		CHECK(c->attach_run_wait(c, NULL, "/bin/true", true_argv) == 0);
		CHECK(c->attach(c, payload_fn, &value, NULL, &pid) == 0);
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 9);
		check_attached_cgroups(c);
		_exit(check_failures ? 1 : 0);
	}
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_inside(struct lxc_container *c)
{
	char out[4096], ours[256];
	ssize_t n;
	const char *hostname[] = {"hostname", NULL};
	const char *cgroup[] = {"cat", "/proc/self/cgroup", NULL};
	const char *pidns[] = {"readlink", "/proc/self/ns/pid", NULL};
	const char *ppid[] = {"sh", "-c", "echo $PPID", NULL};

	CHECK(run_capture(c, NULL, hostname, out, sizeof(out)) == 0);
	CHECK_STR(out, "attach-uts");

	/* inside, the cgroup namespace shows the container's cgroup as "/" */
	CHECK(run_capture(c, NULL, cgroup, out, sizeof(out)) == 0);
	CHECK(strstr(out, "lxc.payload") == NULL);
	/* outside, it is lxc.payload.<name> */
	check_attached_cgroups(c);

	CHECK(run_capture(c, NULL, pidns, out, sizeof(out)) == 0);
	n = readlink("/proc/self/ns/pid", ours, sizeof(ours) - 1);
	CHECK(n > 0);
	ours[n > 0 ? n : 0] = '\0';
	CHECK(strncmp(out, "pid:[", 5) == 0);
	CHECK(strcmp(out, ours) != 0);

	/* the attached process's parent is outside its pid namespace */
	CHECK(run_capture(c, NULL, ppid, out, sizeof(out)) == 0);
	CHECK_STR(out, "0");
}

static void test_env(struct lxc_container *c)
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	char *extra[] = {"FOO=bar", NULL};
	char *keep[] = {"KEEPME", "NOTSET_X", NULL};
	const char *env[] = {"env", NULL};
	char out[4096];

	char **caller_environ;

	setenv("KEEPME", "kept", 1);
	setenv("DROPME", "dropped", 1);
	caller_environ = environ;
	opts.env_policy = LXC_ATTACH_CLEAR_ENV;
	opts.extra_env_vars = extra;
	opts.extra_keep_env = keep;
	CHECK(run_capture(c, &opts, env, out, sizeof(out)) == 0);
	CHECK_STR(out, "KEEPME=kept\n"
		       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
		       "container=lxc\n"
		       "FOO=bar");
	/* the attached process's environment is its own, never the caller's */
	CHECK(environ == caller_environ && getenv("FOO") == NULL);

	/* keep: the caller's variables plus container=lxc */
	opts = (lxc_attach_options_t)LXC_ATTACH_OPTIONS_DEFAULT;
	CHECK(run_capture(c, &opts, env, out, sizeof(out)) == 0);
	CHECK(strstr(out, "DROPME=dropped") != NULL);
	CHECK(strstr(out, "container=lxc") != NULL);
	unsetenv("KEEPME");
	unsetenv("DROPME");

	/* A plan larger than the attach socket's buffer (400 kB of
	 * environment): queued in part before the helper runs, the rest after. */
	{
		const size_t big = 100 * 1024;
		char *vars[5] = {NULL};
		const char *lens[] = {"sh", "-c", "echo ${#B0} ${#B3}", NULL};

		for (int i = 0; i < 4; i++) {
			vars[i] = malloc(big + 4);
			snprintf(vars[i], 4, "B%d=", i);
			memset(vars[i] + 3, 'x', big);
			vars[i][big + 3] = '\0';
		}
		opts = (lxc_attach_options_t)LXC_ATTACH_OPTIONS_DEFAULT;
		opts.env_policy = LXC_ATTACH_CLEAR_ENV;
		opts.extra_env_vars = vars;
		CHECK(run_capture(c, &opts, lens, out, sizeof(out)) == 0);
		CHECK_STR(out, "102400 102400");
		for (int i = 0; i < 4; i++)
			free(vars[i]);
	}
}

/* Program lookup as execvp does it, in the attached process's PATH: a
 * script without #! runs through /bin/sh, a file that is not executable
 * exits 126. */
static void test_exec_lookup(struct lxc_container *c)
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	const char *setup[] = {"sh", "-c",
			       "mkdir -p /tmp/bin && printf 'echo script-ran $1\\n' > /tmp/bin/noshebang && "
			       "chmod 755 /tmp/bin/noshebang && printf x > /tmp/bin/noexec && "
			       "chmod 644 /tmp/bin/noexec", NULL};
	const char *script[] = {"/tmp/bin/noshebang", "arg1", NULL};
	const char *by_name[] = {"noshebang", "arg2", NULL};
	const char *noexec[] = {"/tmp/bin/noexec", NULL};
	const char *noexec_by_name[] = {"noexec", NULL};
	char *path[] = {"PATH=/tmp/bin:/bin", NULL};
	char out[256];
	int st;

	CHECK(c->attach_run_wait(c, &opts, setup[0], setup) == 0);
	CHECK(run_capture(c, &opts, script, out, sizeof(out)) == 0);
	CHECK_STR(out, "script-ran arg1");
	/* run_capture's pipe is closed now: a stdio descriptor that is not
	 * open fails the attach (LXC ignores it and the program writes to the
	 * caller's stdout: docs/differences.md "Where we differ") */
	if (!test_oracle()) {
		CHECK(c->attach_run_wait(c, &opts, noexec[0], noexec) < 0);
		CHECK_ERRSTR(c, "stdout");
	}
	opts = (lxc_attach_options_t)LXC_ATTACH_OPTIONS_DEFAULT;
	st = c->attach_run_wait(c, &opts, noexec[0], noexec);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 126);
	/* the PATH searched is the attached process's, not the caller's */
	opts.env_policy = LXC_ATTACH_CLEAR_ENV;
	opts.extra_env_vars = path;
	CHECK(run_capture(c, &opts, by_name, out, sizeof(out)) == 0);
	CHECK_STR(out, "script-ran arg2");
	opts.stdout_fd = STDOUT_FILENO;
	st = c->attach_run_wait(c, &opts, noexec_by_name[0], noexec_by_name);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 126);
	/* kept environment: the caller's PATH, without /tmp/bin */
	opts = (lxc_attach_options_t)LXC_ATTACH_OPTIONS_DEFAULT;
	opts.stderr_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	st = c->attach_run_wait(c, &opts, by_name[0], by_name);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	close(opts.stderr_fd);
}

/* The attached program starts with the caller's signal mask; the caller's
 * own mask and handlers are untouched. */
static int usr1_seen;
static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen = 1;
}

static void test_signal_state(struct lxc_container *c)
{
	const char *sigblk[] = {"sh", "-c", "grep SigBlk /proc/self/status", NULL};
	struct sigaction sa = {.sa_handler = on_usr1}, old_sa;
	sigset_t usr2, before, after;
	char out[256];

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	CHECK(sigaction(SIGUSR1, &sa, &old_sa) == 0);
	CHECK(pthread_sigmask(SIG_BLOCK, &usr2, &before) == 0);
	CHECK(run_capture(c, NULL, sigblk, out, sizeof(out)) == 0);
	/* SIGUSR2 is signal 12: bit 11 */
	CHECK_STR(out, "SigBlk:\t0000000000000800");
	CHECK(pthread_sigmask(SIG_SETMASK, NULL, &after) == 0);
	CHECK(sigismember(&after, SIGUSR2) == 1);
	CHECK(raise(SIGUSR1) == 0 && usr1_seen == 1);
	CHECK(pthread_sigmask(SIG_SETMASK, &before, NULL) == 0);
	CHECK(sigaction(SIGUSR1, &old_sa, NULL) == 0);
}

static void test_ids_cwd(struct lxc_container *c)
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	const char *idu[] = {"id", "-u", NULL};
	const char *idg[] = {"id", "-g", NULL};
	const char *groups[] = {"id", "-G", NULL};
	const char *pwd[] = {"pwd", NULL};
	gid_t list[] = {1000, 1234};
	char out[4096];

	CHECK(run_capture(c, &opts, idu, out, sizeof(out)) == 0);
	CHECK_STR(out, "0");
	opts.uid = 1000;
	opts.gid = 1001;
	CHECK(run_capture(c, &opts, idu, out, sizeof(out)) == 0);
	CHECK_STR(out, "1000");
	CHECK(run_capture(c, &opts, idg, out, sizeof(out)) == 0);
	CHECK_STR(out, "1001");
	/* supplementary groups are dropped, or set with SETGROUPS */
	CHECK(run_capture(c, &opts, groups, out, sizeof(out)) == 0);
	CHECK_STR(out, "1001");
	opts.attach_flags |= LXC_ATTACH_SETGROUPS;
	opts.groups.size = 2;
	opts.groups.list = list;
	CHECK(run_capture(c, &opts, groups, out, sizeof(out)) == 0);
	CHECK_STR(out, "1001 1000 1234");

	opts = (lxc_attach_options_t)LXC_ATTACH_OPTIONS_DEFAULT;
	opts.initial_cwd = "/etc";
	CHECK(run_capture(c, &opts, pwd, out, sizeof(out)) == 0);
	CHECK_STR(out, "/etc");
	/* default: the caller's cwd, "/" when it does not exist inside */
	opts.initial_cwd = NULL;
	CHECK(run_capture(c, &opts, pwd, out, sizeof(out)) == 0);
	CHECK(out[0] == '/');
}

static int payload_fn(void *arg)
{
	/* runs inside: return a status without exec */
	return *(int *)arg;
}

static void test_attach_fn(struct lxc_container *c)
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	int value = 42, status = 0;
	pid_t pid = -1;

	CHECK(c->attach(c, payload_fn, &value, &opts, &pid) == 0);
	CHECK(pid > 0);
	/* the attached process is our child */
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42);
	/* LXC_ATTACH_TERMINAL: see t_attach_tty.c */
}

static void *worker(void *arg)
{
	struct lxc_container *c = arg;
	const char *hostname[] = {"hostname", NULL};
	char out[256];
	long ok = 1;

	for (int i = 0; i < 5; i++) {
		if (run_capture(c, NULL, hostname, out, sizeof(out)) != 0 ||
		    strcmp(out, "attach-uts") != 0)
			ok = 0;
	}
	return (void *)ok;
}

static void test_threads(struct lxc_container *c)
{
	pthread_t t[8];
	void *r;

	for (int i = 0; i < 8; i++)
		CHECK(pthread_create(&t[i], NULL, worker, c) == 0);
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], &r);
		CHECK(r == (void *)1);
	}
}

static void test_stopped(struct lxc_container *c)
{
	const char *argv[] = {"/bin/true", NULL};
	pid_t pid = -1;
	int value = 0;

	CHECK(c->attach_run_wait(c, NULL, "/bin/true", argv) < 0);
	CHECK_ERRSTR(c, "not running");
	CHECK(c->attach(c, payload_fn, &value, NULL, &pid) < 0);
	CHECK(pid == -1);
	/* No child left behind (ours starts its helper before asking the
	 * monitor, and reaps it when the attach fails). */
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c;

	snprintf(name, sizeof(name), "at%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return check_result("t_attach");
	CHECK(c->set_config_item(c, "lxc.uts.name", "attach-uts"));
	test_stopped(c);
	CHECK(c->start(c, 0, NULL));
	if (c->is_running(c)) {
		test_statuses(c);
		test_inside(c);
		test_env(c);
		test_exec_lookup(c);
		test_signal_state(c);
		test_ids_cwd(c);
		test_attach_fn(c);
		test_without_clone3(c);
		/* LXC 5.0.2's attach forks from a threaded caller: the children
		 * hang on a lock another thread held (docs/differences.md "Where we differ":
		 * attach from threads). */
		if (!test_oracle())
			test_threads(c);
		CHECK(c->stop(c));
	}
	test_stopped(c);
	CHECK(c->destroy(c));
	lxc_container_put(c);
	test_oracle_cleanup(name);
	return check_result("t_attach");
}
