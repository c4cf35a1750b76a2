/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lifecycle on a real busybox container: create, start (daemonized and
 * foreground), state, init pid, freeze (ours and LXC's client sequence on
 * our monitor), wait, shutdown, stop, errors, the
 * caller's environment in the hooks, the monitor run prelinked, and
 * nothing left behind (cgroups, monitor) after each stop. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char name[64];

/* Number of cgroup directories of this container left on the host. */
static int leftover_cgroups_v(int verbose)
{
	return test_leftover_cgroups(name, verbose);
}

#define leftover_cgroups() leftover_cgroups_v(1)

static void *waiter(void *arg)
{
	struct lxc_container *c = arg;
	return (void *)(long)c->wait(c, "STOPPED", 30);
}

static void test_daemonized(struct lxc_container *c)
{
	char path[128];
	struct stat st_ours, st_theirs;
	pid_t pid;
	pthread_t t;
	void *waited = NULL;

	CHECK_STR(c->state(c), "STOPPED");
	CHECK(c->init_pid(c) == -1);
	CHECK(c->start(c, 0, NULL));
	CHECK(c->is_running(c));
	CHECK_STR(c->state(c), "RUNNING");
	pid = c->init_pid(c);
	CHECK(pid > 1);
	/* init lives in its own pid namespace */
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	CHECK(stat("/proc/self/ns/pid", &st_ours) == 0 && stat(path, &st_theirs) == 0);
	CHECK(st_ours.st_ino != st_theirs.st_ino);
	CHECK(leftover_cgroups_v(0) > 0);

	/* a second start fails and says why */
	CHECK(!c->start(c, 0, NULL));
	CHECK(c->error_string && strstr(c->error_string, "running"));
	CHECK(c->is_running(c));

	CHECK(c->wait(c, "RUNNING", 0));
	CHECK(!c->wait(c, "STOPPED", 0));

	CHECK(c->freeze(c));
	CHECK_STR(c->state(c), "FROZEN");
	CHECK(c->wait(c, "FROZEN", 1));
	CHECK(c->unfreeze(c));
	CHECK_STR(c->state(c), "RUNNING");

	{
		char *v = c->get_running_config_item(c, "lxc.net.0.type");
		CHECK_STR(v, "empty");
		free(v);
	}

	/* shutdown through lxc.signal.halt (SIGUSR1 for busybox), observed by
	 * a waiter thread too */
	CHECK(pthread_create(&t, NULL, waiter, c) == 0);
	CHECK(c->shutdown(c, 20));
	CHECK_STR(c->state(c), "STOPPED");
	pthread_join(t, &waited);
	CHECK(waited != NULL);
	CHECK(leftover_cgroups() == 0);

	/* reboot2 right after start: a new init, RUNNING again */
	CHECK(c->start(c, 0, NULL));
	pid = c->init_pid(c);
	CHECK(c->reboot2(c, 20));
	CHECK_STR(c->state(c), "RUNNING");
	CHECK(c->init_pid(c) > 1 && c->init_pid(c) != pid);
	CHECK(c->stop(c));

	/* start again, stop hard */
	CHECK(c->start(c, 0, NULL));
	CHECK(c->stop(c));
	CHECK_STR(c->state(c), "STOPPED");
	CHECK(!c->is_running(c));
	CHECK(leftover_cgroups() == 0);
	CHECK(c->stop(c)); /* stopping a stopped container is fine */
}

static void test_foreground(struct lxc_container *c)
{
	char *const argv[] = {"/bin/sh", "-c", "exit 3", NULL};

	c->want_daemonize(c, false);
	CHECK(c->start(c, 0, argv));
	CHECK(WIFEXITED(c->error_num) && WEXITSTATUS(c->error_num) == 3);
	CHECK_STR(c->state(c), "STOPPED");
	c->want_daemonize(c, true);
	CHECK(leftover_cgroups() == 0);
}

/* Application container (lxc-execute): our reaper is PID 1, the command
 * its child; the exit status and forwarded signals come through. */
static void test_useinit(struct lxc_container *c)
{
	char *const exit5[] = {"/bin/sh", "-c", "exit 5", NULL};
	char *const sleeper[] = {"/bin/sleep", "1000", NULL};
	char path[128], buf[256];
	FILE *f;

	c->want_daemonize(c, false);
	CHECK(c->start(c, 1, exit5));
	CHECK(WIFEXITED(c->error_num) && WEXITSTATUS(c->error_num) == 5);
	c->want_daemonize(c, true);

	CHECK(c->start(c, 1, sleeper));
	CHECK_STR(c->state(c), "RUNNING");
	/* PID 1 is the reaper: its child is the command */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", c->init_pid(c), c->init_pid(c));
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		int child = 0;
		CHECK(fscanf(f, "%d", &child) == 1 && child > 0);
		fclose(f);
		snprintf(path, sizeof(path), "/proc/%d/cmdline", child);
		f = fopen(path, "r");
		CHECK(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "/bin/sleep") == 0);
		if (f)
			fclose(f);
	}
	/* shutdown's halt signal is forwarded to the command, which dies */
	CHECK(c->shutdown(c, 10));
	CHECK_STR(c->state(c), "STOPPED");
	CHECK(leftover_cgroups() == 0);

	/* no command at all is an error, not a hang */
	CHECK(!c->start(c, 1, NULL));
	CHECK(c->error_string && strstr(c->error_string, "lxc.execute.cmd"));
}

static void test_unsaved_changes_start(struct lxc_container *c)
{
	/* the in-memory config is what starts */
	CHECK(c->set_config_item(c, "lxc.uts.name", "unsaved-host"));
	CHECK(c->start(c, 0, NULL));
	{
		char *v = c->get_running_config_item(c, "lxc.uts.name");
		CHECK_STR(v, "unsaved-host");
		free(v);
	}
	CHECK(c->stop(c));
	CHECK(c->clear_config_item(c, "lxc.uts.name"));

	/* a cleared prefix stays cleared at start, though LXC's saved text
	 * keeps its sub-lines */
	CHECK(c->set_config_item(c, "lxc.prlimit.nofile", "100:200"));
	CHECK(c->save_config(c, NULL));
	CHECK(c->clear_config_item(c, "lxc.prlimit"));
	CHECK(c->start(c, 0, NULL));
	{
		char path[64], line[256];
		FILE *f;
		int limited = 0;

		snprintf(path, sizeof(path), "/proc/%d/limits", c->init_pid(c));
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "Max open files", 14) == 0 && strstr(line, " 100 "))
				limited = 1;
		if (f)
			fclose(f);
		CHECK(f != NULL && !limited);
	}
	CHECK(c->stop(c));
	CHECK(c->save_config(c, NULL));
}

static void test_start_errors(struct lxc_container *c)
{
	int len = c->get_config_item(c, "lxc.rootfs.path", NULL, 0);
	char buf[4096];

	CHECK(len > 0 && len < (int)sizeof(buf));
	c->get_config_item(c, "lxc.rootfs.path", buf, sizeof(buf));
	CHECK(c->set_config_item(c, "lxc.rootfs.path", "dir:/nonexistent/rootfs"));
	/* init fails while the monitor still talks to it (the network is
	 * built after its release): its cause, every time */
	for (int i = 0; i < 20; i++) {
		CHECK(!c->start(c, 0, NULL));
		CHECK(c->error_string && strstr(c->error_string, "/nonexistent/rootfs"));
	}
	CHECK_STR(c->state(c), "STOPPED");
	CHECK(leftover_cgroups() == 0);
	CHECK(c->set_config_item(c, "lxc.rootfs.path", buf));

	/* an init that does not exist: the exec error comes back */
	{
		char *const argv[] = {"/no/such/init", NULL};
		CHECK(!c->start(c, 0, argv));
		CHECK(c->error_string && strstr(c->error_string, "/no/such/init"));
		CHECK(leftover_cgroups() == 0);
	}
}

/* A freeze right after start lands while busybox init vforks its rcS:
 * the v1 freezer then stalls in FREEZING unless the freeze is retried
 * (Debian's LXC 5.0 hangs there too). */
static void test_freeze_at_boot(struct lxc_container *c)
{
	int i;

	for (i = 0; i < 15; i++) {
		if (!c->start(c, 0, NULL)) {
			CHECK(0);
			return;
		}
		if (!c->freeze(c))
			fprintf(stderr, "freeze %d: %s\n", i, c->error_string ? c->error_string : "");
		CHECK_STR(c->state(c), "FROZEN");
		CHECK(c->unfreeze(c));
		CHECK_STR(c->state(c), "RUNNING");
		CHECK(c->stop(c));
	}
	CHECK(leftover_cgroups() == 0);
}

/* One request of LXC's command protocol (a 16-byte header, the value in
 * its pointer field, the sender's credentials), as LXC's clients send it;
 * the answer's ret. */
static int raw_command(const char *lxcpath, int cmd, long value)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct {
		int cmd;
		int datalen;
		long data;
	} req = {cmd, 0, value}, rsp = {-1, 0, 0};
	struct ucred cred = {getpid(), getuid(), getgid()};
	char control[CMSG_SPACE(sizeof(cred))] = {0};
	struct iovec iov = {&req, sizeof(req)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	socklen_t len;
	int fd, n;

	/* abstract: "\0<lxcpath>/<name>/command" (short enough here) */
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "%s/%s/command", lxcpath, name);
	len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(cm), &cred, sizeof(cred));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0 || sendmsg(fd, &msg, 0) != sizeof(req) ||
	    recv(fd, &rsp, sizeof(rsp), MSG_WAITALL) != sizeof(rsp))
		rsp.cmd = -errno;
	if (fd >= 0)
		close(fd);
	return rsp.cmd;
}

/* LXC's clients, where they ask the monitor to thaw (liblxc's
 * lxc_unfreeze), serve THAWED before the request and RUNNING after it: our
 * monitor must still thaw, though its state reads RUNNING by then. */
static void test_lxc_clients_thaw(struct lxc_container *c, const char *lxcpath)
{
	enum { SERVE_STATE_CLIENTS = 12, UNFREEZE = 16, RUNNING = 2, THAWED = 7 };
	char state[32] = "";

	if (!c->start(c, 0, NULL)) {
		CHECK(0);
		return;
	}
	sleep(1); /* past busybox's rcS: a v1 freeze then never stalls */
	CHECK(c->freeze(c));
	CHECK_STR(c->state(c), "FROZEN");
	CHECK(raw_command(lxcpath, SERVE_STATE_CLIENTS, THAWED) == 0);
	CHECK(raw_command(lxcpath, UNFREEZE, -1) == 0);
	CHECK(raw_command(lxcpath, SERVE_STATE_CLIENTS, RUNNING) == 0);
	CHECK_STR(c->state(c), "RUNNING");
	/* the v1 freezer on this host (cgroup.freeze where there is none) */
	if (c->get_cgroup_item(c, "freezer.state", state, sizeof(state)) > 0)
		CHECK(strncmp(state, "THAWED", 6) == 0);
	else
		CHECK(c->get_cgroup_item(c, "cgroup.freeze", state, sizeof(state)) > 0 && state[0] == '0');
	CHECK(c->stop(c));
}

/* The monitor's hooks get the caller's environment as it is: our monitor
 * is spawned with a glibc tunable of its own (docs/design.md), which must
 * not reach them, whether the caller had GLIBC_TUNABLES or not. */
static void test_hooks_see_the_callers_environment(struct lxc_container *c, const char *lxcpath)
{
	static const char *const callers[] = {NULL, "", "glibc.malloc.check=0"};
	char script[4096], out[4096], text[8192], want[512];
	const char *got;
	size_t i;

	snprintf(out, sizeof(out), "%s/%s-env.out", lxcpath, name);
	snprintf(script, sizeof(script), "%s/%s-env.sh", lxcpath, name);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "echo \"tunables=${GLIBC_TUNABLES-unset} marker=${LXC_MONITOR_SPAWNER_GLIBC_TUNABLES-unset}"
		 " mine=${LXC_TEST_MINE-unset}\" > %s\n"
		 "exit 1\n",
		 out);
	test_write_file(script, text, 0755);
	CHECK(c->set_config_item(c, "lxc.hook.pre-start", script));
	setenv("LXC_TEST_MINE", "a b", 1);
	for (i = 0; i < sizeof(callers) / sizeof(callers[0]); i++) {
		if (callers[i])
			setenv("GLIBC_TUNABLES", callers[i], 1);
		else
			unsetenv("GLIBC_TUNABLES");
		unlink(out);
		/* The failing hook fails the start: it ran in the monitor. */
		CHECK(!c->start(c, 0, NULL));
		got = test_read_file(out);
		snprintf(want, sizeof(want), "tunables=%s marker=unset mine=a b\n",
			 callers[i] ? callers[i] : "unset");
		CHECK(got && strcmp(got, want) == 0);
		if (got && strcmp(got, want) != 0)
			fprintf(stderr, "hook saw: %s wanted: %s", got, want);
		CHECK(leftover_cgroups() == 0);
	}
	unsetenv("GLIBC_TUNABLES");
	unsetenv("LXC_TEST_MINE");
	CHECK(c->clear_config_item(c, "lxc.hook.pre-start"));
	unlink(out);
	unlink(script);
}

/* Our monitor runs from this boot's prelinked copy (docs/design.md): a
 * file in LXC_RS_PRELINK's directory (root's default /var/cache/lxc/
 * monitor) whose relocated data is the file's own, shared by every
 * monitor, instead of 44 kB relocated privately at each start. */
static void test_monitor_runs_prelinked(struct lxc_container *c)
{
	const char *dir = getenv("LXC_RS_PRELINK");
	int monitor, inode, written;

	if (!dir || !*dir)
		dir = "/var/cache/lxc/monitor";
	CHECK(c->start(c, 0, NULL));
	monitor = test_popen_int("awk '{ print $4 }' /proc/%d/stat", c->init_pid(c));
	CHECK(monitor > 1);
	inode = test_popen_int("stat -L -c %%i /proc/%d/exe", monitor);
	CHECK(inode > 0);
	CHECK(test_popen_int("ls -i '%s' | grep -c '^ *%d lxc-rs-monitor\\.'", dir, inode) == 1);
	/* What of its relocated data (the read-only mapping of the file past
	 * its start) the monitor holds as its own copy: glibc's tunables (set
	 * at its start), the CPU-chosen functions' addresses (one or two pages,
	 * the last with the zero-filled tail); 44 kB unprelinked. */
	written = test_popen_int("awk '$2 ~ /^r--p/ && $3 != \"00000000\" { mine = $5 == %d; next }"
				 " /^[0-9a-f]+-/ { mine = 0 }"
				 " mine && /^Anonymous:/ { kb += $2 } END { print kb + 0 }' /proc/%d/smaps",
				 inode, monitor);
	CHECK(written <= 12);
	if (written > 12)
		fprintf(stderr, "the monitor wrote %d kB of its relocated data\n", written);
	CHECK(c->stop(c));
	CHECK(leftover_cgroups() == 0);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c;

	snprintf(name, sizeof(name), "lc%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return check_result("t_lifecycle");
	test_daemonized(c);
	test_foreground(c);
	test_useinit(c);
	test_unsaved_changes_start(c);
	test_start_errors(c);
	test_freeze_at_boot(c);
	test_lxc_clients_thaw(c, lxcpath);
	test_hooks_see_the_callers_environment(c, lxcpath);
	test_monitor_runs_prelinked(c);
	if (c->is_running(c))
		c->stop(c);
	CHECK(c->destroy(c));
	CHECK(!c->is_defined(c));
	lxc_container_put(c);
	return check_result("t_lifecycle");
}
