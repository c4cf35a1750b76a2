/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* attach with LXC_ATTACH_TERMINAL on a running busybox container.
 *
 * As LXC, the library allocates a pty from the container's devpts, makes
 * it the attached process's controlling terminal and stdio, and proxies
 * it to the caller's controlling terminal (/dev/tty) and to log_fd until
 * the attached process hangs up. So each case runs in a forked child that
 * is a session leader: with a pty of this test as its controlling
 * terminal (we play the user at its master), or with none at all.
 *
 * Runs unchanged against Debian's liblxc (LD_LIBRARY_PATH) to compare. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

/* What a case's child reports back through a pipe. */
struct report {
	int status;
	int fds_before, fds_after;
	int tios_restored;
	int log_fd_open;
	int sigmask_same;
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* `key=` line of the output, up to the end of the line (no \r). */
static const char *field(const char *out, const char *key, char *buf, size_t sz)
{
	const char *p = strstr(out, key);
	size_t n = 0;

	buf[0] = '\0';
	if (!p)
		return buf;
	p += strlen(key);
	while (p[n] && p[n] != '\r' && p[n] != '\n' && n + 1 < sz) {
		buf[n] = p[n];
		n++;
	}
	buf[n] = '\0';
	return buf;
}

static const char script[] =
	"tty; test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty; "
	"test -t 2 && echo stderr-tty; "
	"read pid comm st ppid pgrp sid ttynr tpgid rest < /proc/$$/stat; "
	"echo \"ids=$pid $pgrp $sid $tpgid\"; "
	"echo \"size=$(stty size)\"; "
	"echo \"devs=$(stat -L -c %d /proc/self/fd/0) $(stat -c %d /dev/pts)\"; "
	"echo \"mode=$(stat -L -c '%a %u' /proc/self/fd/0)\"; "
	"for f in /proc/$$/fd/*; do case $f in */[012]) ;; *) echo \"extra-fd=$(readlink $f)\";; esac; done; "
	"echo ready-for-input; read -r line; echo \"got=$line\"; "
	"echo \"size2=$(stty size)\"; exit 7";

/* How a case's child is set up before it attaches. */
struct setup {
	const char *slave; /* its controlling terminal (NULL: none) */
	int on_slave[3];   /* which of its fds 0, 1, 2 are that terminal */
	const char *cmd;
	int stdout_fd;     /* opts.stdout_fd (-1: default) */
	int log_fd;        /* opts.log_fd (-1: none) */
	int (*fn)(void *); /* a function payload instead of cmd */
	int uid;           /* opts.uid and opts.gid when > 0 */
};

/* A case's child: a new session, with `slave` as its controlling terminal
 * on the fds the setup says; attaches, then reports on `report_fd`. */
static void run_child(struct lxc_container *c, const struct setup *st, int report_fd)
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	const char *argv[] = {"sh", "-c", st->cmd, NULL};
	struct termios before, after;
	struct report r = {0};
	sigset_t mask_before, mask_after;
	int fd;

	sigemptyset(&mask_before);
	sigemptyset(&mask_after);

	setsid();
	if (st->slave) {
		fd = open(st->slave, O_RDWR);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
			_exit(90);
		for (int i = 0; i < 3; i++)
			if (st->on_slave[i] && dup2(fd, i) < 0)
				_exit(90);
		tcgetattr(fd, &before);
		if (fd > 2)
			close(fd);
	}
	sigprocmask(SIG_SETMASK, NULL, &mask_before);
	r.fds_before = count_fds();
	opts.attach_flags |= LXC_ATTACH_TERMINAL;
	if (st->stdout_fd >= 0)
		opts.stdout_fd = st->stdout_fd;
	opts.log_fd = st->log_fd;
	if (st->uid > 0)
		opts.uid = opts.gid = st->uid;
	if (st->fn) {
		pid_t pid = -1;

		r.status = -1;
		if (c->attach(c, st->fn, NULL, &opts, &pid) == 0)
			waitpid(pid, &r.status, 0);
	} else {
		r.status = c->attach_run_wait(c, &opts, "sh", argv);
	}
	r.log_fd_open = st->log_fd >= 0 && fcntl(st->log_fd, F_GETFD) >= 0;
	if (r.log_fd_open)
		close(st->log_fd);
	r.fds_after = count_fds() + (st->log_fd >= 0 ? 1 : 0);
	sigprocmask(SIG_SETMASK, NULL, &mask_after);
	r.sigmask_same = 1;
	for (int sig = 1; sig < SIGRTMIN; sig++)
		if (sigismember(&mask_before, sig) != sigismember(&mask_after, sig))
			r.sigmask_same = 0;
	if (st->slave) {
		fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
		tcgetattr(fd, &after);
		r.tios_restored = before.c_lflag == after.c_lflag && before.c_iflag == after.c_iflag &&
				  before.c_oflag == after.c_oflag;
		close(fd);
	}
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		_exit(91);
	_exit(0);
}

/* What the user saw on the terminal, in the stdout pipe and in log_fd. */
struct result {
	char tty[16384], pipe[4096], log[4096];
	struct report r;
	int child_ok, got_report;
};

static void append(int fd, char *buf, size_t sz, int *open_)
{
	size_t len = strlen(buf);
	ssize_t n = read(fd, buf + len, sz - 1 - len);

	if (n <= 0 || len + 1 >= sz) {
		*open_ = 0; /* EOF, or EIO once every slave descriptor is closed */
		return;
	}
	buf[len + n] = '\0';
}

/* Forks the case's child and plays the user meanwhile: reads its terminal
 * (answering the prompt after a resize), its stdout pipe and log_fd. */
static void run_case(struct lxc_container *c, struct setup *st, int with_pty, int with_pipe,
		     int with_log, struct result *res)
{
	struct winsize ws = {.ws_row = 33, .ws_col = 101};
	int master = -1, rep[2], out[2] = {-1, -1}, logp[2] = {-1, -1};
	int status = -1, sent = 0, m_open = 0, o_open = 0, l_open = 0;
	struct timespec t0;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (with_pty) {
		master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
		if (master < 0)
			return;
		st->slave = ptsname(master);
		CHECK(ioctl(master, TIOCSWINSZ, &ws) == 0);
		m_open = 1;
	}
	CHECK(pipe2(rep, O_CLOEXEC) == 0);
	if (with_pipe) {
		CHECK(pipe2(out, O_CLOEXEC) == 0);
		st->stdout_fd = out[1];
		o_open = 1;
	}
	if (with_log) {
		CHECK(pipe2(logp, O_CLOEXEC) == 0);
		st->log_fd = logp[1];
		l_open = 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* keep only what the case is about */
		close(rep[0]);
		if (master >= 0)
			close(master);
		if (out[0] >= 0)
			close(out[0]);
		if (logp[0] >= 0)
			close(logp[0]);
		run_child(c, st, rep[1]);
	}
	close(rep[1]);
	if (out[1] >= 0)
		close(out[1]);
	if (logp[1] >= 0)
		close(logp[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((m_open || o_open || l_open) && elapsed_ms(&t0) < 30000) {
		struct pollfd p[3] = {
			{.fd = m_open ? master : -1, .events = POLLIN},
			{.fd = o_open ? out[0] : -1, .events = POLLIN},
			{.fd = l_open ? logp[0] : -1, .events = POLLIN},
		};

		if (poll(p, 3, 500) <= 0)
			continue;
		if (p[0].revents)
			append(master, res->tty, sizeof(res->tty), &m_open);
		if (p[1].revents)
			append(out[0], res->pipe, sizeof(res->pipe), &o_open);
		if (p[2].revents)
			append(logp[0], res->log, sizeof(res->log), &l_open);
		if (m_open && !sent && strstr(res->tty, "ready-for-input")) {
			struct winsize ws2 = {.ws_row = 40, .ws_col = 120};

			/* A resize while attached reaches the container's pty. */
			CHECK(ioctl(master, TIOCSWINSZ, &ws2) == 0);
			usleep(600 * 1000);
			CHECK(write(master, "hello\n", 6) == 6);
			sent = 1;
		}
	}
	CHECK(!m_open && !o_open && !l_open);
	if (m_open || o_open || l_open)
		kill(pid, SIGKILL);
	res->child_ok = waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
			WEXITSTATUS(status) == 0;
	res->got_report = read(rep[0], &res->r, sizeof(res->r)) == sizeof(res->r);
	close(rep[0]);
	if (master >= 0)
		close(master);
	if (out[0] >= 0)
		close(out[0]);
	if (logp[0] >= 0)
		close(logp[0]);
	fprintf(stderr, "child %s, status %#x, fds %d -> %d, termios restored %d, "
			"log_fd open after %d, sigmask same %d\n",
		res->child_ok ? "ok" : "FAILED", res->r.status, res->r.fds_before, res->r.fds_after,
		res->r.tios_restored, res->r.log_fd_open, res->r.sigmask_same);
	CHECK(res->child_ok && res->got_report);
	CHECK(WIFEXITED(res->r.status) && WEXITSTATUS(res->r.status) == 7);
	CHECK(res->r.fds_before == res->r.fds_after);
	CHECK(res->r.sigmask_same);
}

static void dump(const char *what, const struct result *res)
{
	fprintf(stderr, "%s: terminal:\n%s\n--- stdout pipe:\n%s\n--- log_fd:\n%s\n---\n", what,
		res->tty, res->pipe, res->log);
}

/* "pid pgrp sid tpgid" (from the ids= line) describe a session leader in
 * the foreground of its terminal. */
static int session_leader(const char *out)
{
	char buf[256];
	int p = 0, g = 0, s = 0, t = 0;

	if (sscanf(field(out, "ids=", buf, sizeof(buf)), "%d %d %d %d", &p, &g, &s, &t) != 4)
		return 0;
	return p > 0 && p == s && p == g && p == t;
}

/* The user at a terminal (fds 0, 1, 2 on it): everything goes through the
 * new pty, in the container's devpts. */
static void test_terminal(struct lxc_container *c)
{
	struct setup st = {.on_slave = {1, 1, 1}, .cmd = script, .stdout_fd = -1, .log_fd = -1};
	static struct result res;
	char buf[256];
	struct stat pts;
	unsigned long inside = 0, inside_pts = 1;
	int before = check_failures;

	run_case(c, &st, 1, 0, 0, &res);
	CHECK(strstr(res.tty, "/dev/pts/") != NULL);
	CHECK(strstr(res.tty, "stdin-tty") && strstr(res.tty, "stdout-tty") &&
	      strstr(res.tty, "stderr-tty"));
	CHECK(session_leader(res.tty));
	CHECK_STR(field(res.tty, "size=", buf, sizeof(buf)), "33 101");
	CHECK_STR(field(res.tty, "size2=", buf, sizeof(buf)), "40 120");
	/* the pty is on the container's devpts, not on the host's */
	CHECK(sscanf(field(res.tty, "devs=", buf, sizeof(buf)), "%lu %lu", &inside, &inside_pts) == 2);
	CHECK(inside == inside_pts);
	CHECK(stat("/dev/pts", &pts) == 0 && (unsigned long)pts.st_dev != inside);
	CHECK_STR(field(res.tty, "mode=", buf, sizeof(buf)), "600 0");
	/* neither the pty master nor the caller's terminal reaches the
	 * container (other descriptors the test inherited may) */
	{
		const char *p = res.tty;

		while ((p = strstr(p, "extra-fd="))) {
			p += strlen("extra-fd=");
			CHECK(strncmp(p, "/dev/pts", 8) != 0 && strncmp(p, "/dev/tty", 8) != 0 &&
			      strncmp(p, "/dev/ptmx", 9) != 0);
		}
	}
	CHECK_STR(field(res.tty, "got=", buf, sizeof(buf)), "hello");
	CHECK(res.r.tios_restored);
	if (check_failures != before)
		dump("terminal", &res);
}

/* stdout_fd is a pipe: as LXC, only the standard descriptors that are
 * terminals are replaced by the pty; the pipe stays the pipe. */
static void test_stdout_pipe(struct lxc_container *c)
{
	struct setup st = {
		.on_slave = {1, 0, 1},
		.cmd = "tty; test -t 0 && echo stdin-tty; test -t 1 || echo stdout-pipe; "
		       "test -t 2 && echo stderr-tty >&2; "
		       "read pid comm st ppid pgrp sid ttynr tpgid rest < /proc/$$/stat; "
		       "echo \"ids=$pid $pgrp $sid $tpgid\"; exit 7",
		.log_fd = -1,
	};
	static struct result res;
	int before = check_failures;

	run_case(c, &st, 1, 1, 0, &res);
	CHECK(strncmp(res.pipe, "/dev/pts/", 9) == 0);
	CHECK(strstr(res.pipe, "stdin-tty") && strstr(res.pipe, "stdout-pipe"));
	CHECK(strstr(res.tty, "stderr-tty") != NULL);
	CHECK(session_leader(res.pipe));
	CHECK(res.r.tios_restored);
	if (check_failures != before)
		dump("stdout pipe", &res);
}

/* A function payload (no exec, so CLOEXEC protects nothing): 7 when no
 * descriptor above 2 is a pty or a tty (the pty master, the caller's
 * /dev/tty), else 1. */
static int no_terminal_fds(void *arg)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	struct stat sb;
	int bad = 0;

	(void)arg;
	if (!d)
		return 2;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d) || fstat(fd, &sb) < 0)
			continue;
		if (S_ISCHR(sb.st_mode) && (major(sb.st_rdev) == 5 ||
					    (major(sb.st_rdev) >= 136 && major(sb.st_rdev) <= 143))) {
			printf("leaked fd %d: %u:%u\n", fd, major(sb.st_rdev), minor(sb.st_rdev));
			bad = 1;
		}
	}
	closedir(d);
	fflush(stdout);
	return bad ? 1 : 7;
}

static void test_function_payload(struct lxc_container *c)
{
	struct setup st = {.on_slave = {1, 1, 1}, .stdout_fd = -1, .log_fd = -1, .fn = no_terminal_fds};
	static struct result res;
	int before = check_failures;

	run_case(c, &st, 1, 0, 0, &res);
	if (check_failures != before)
		dump("function payload", &res);
}

/* No controlling terminal and no tty on stdio: the pty is still the
 * attached process's controlling terminal, and what it writes there goes
 * to log_fd. */
static void test_log_fd(struct lxc_container *c)
{
	struct setup st = {
		.cmd = "tty; echo via-tty > /dev/tty; "
		       "read pid comm st ppid pgrp sid ttynr tpgid rest < /proc/$$/stat; "
		       "echo \"ids=$pid $pgrp $sid $tpgid\"; exit 7",
	};
	static struct result res;
	int before = check_failures;

	run_case(c, &st, 0, 1, 1, &res);
	CHECK(strstr(res.pipe, "not a tty") != NULL);
	CHECK(session_leader(res.pipe));
	CHECK(strstr(res.log, "via-tty") != NULL);
	if (check_failures != before)
		dump("log_fd", &res);
}

/* In a user namespace, the pty ends up owned by the user attached as. */
static void test_userns(const char *lxcpath)
{
	struct setup st = {
		.on_slave = {1, 1, 1},
		.cmd = "tty; echo \"mode=$(stat -L -c '%a %u:%g' /proc/self/fd/0)\"; "
		       "echo \"id=$(id -u)\"; exit 7",
		.stdout_fd = -1,
		.log_fd = -1,
		.uid = 1000,
	};
	static struct result res;
	struct lxc_container *c;
	char name[64], buf[256];
	int before = check_failures;

	snprintf(name, sizeof(name), "atu%d", (int)getpid());
	c = test_new_busybox_as(lxcpath, name, 1);
	if (!c)
		return;
	CHECK(c->start(c, 0, NULL));
	if (c->is_running(c)) {
		run_case(c, &st, 1, 0, 0, &res);
		CHECK(strstr(res.tty, "/dev/pts/") != NULL);
		CHECK_STR(field(res.tty, "id=", buf, sizeof(buf)), "1000");
		CHECK_STR(field(res.tty, "mode=", buf, sizeof(buf)), "600 1000:5");
		if (check_failures != before)
			dump("user namespace", &res);
		CHECK(c->stop(c));
	}
	CHECK(c->destroy(c));
	lxc_container_put(c);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c;
	char name[64];

	snprintf(name, sizeof(name), "att%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return check_result("t_attach_tty");
	CHECK(c->start(c, 0, NULL));
	if (c->is_running(c)) {
		test_terminal(c);
		test_stdout_pipe(c);
		test_log_fd(c);
		test_function_payload(c);
		CHECK(c->stop(c));
	}
	CHECK(c->destroy(c));
	lxc_container_put(c);
	test_userns(lxcpath);
	return check_result("t_attach_tty");
}
