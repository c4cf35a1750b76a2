/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Edges that programs written for LXC 6.0 rely on: the public fields as the
 * truth at each call, an application container's command taken from the
 * configuration (and one that cannot be executed), a 3-field mount entry,
 * and a shutdown that follows the container through a reboot. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char name[64];

/* The caller may replace or clear the fields LXC reads at each call:
 * config_file_name copies c->configfile, get_config_path returns
 * c->config_path itself, is_defined is false without a configfile. */
static void test_public_fields(struct lxc_container *c)
{
	char *saved = c->configfile, *saved_path = c->config_path, *got;

	got = c->config_file_name(c);
	CHECK_STR(got, saved);
	free(got);

	c->configfile = NULL;
	CHECK(c->config_file_name(c) == NULL);
	CHECK(!c->is_defined(c));

	c->configfile = strdup("/nonexistent/edges.conf");
	got = c->config_file_name(c);
	CHECK_STR(got, "/nonexistent/edges.conf");
	free(got);
	free(c->configfile);
	c->configfile = saved;
	CHECK(c->is_defined(c));

	c->config_path = strdup("/nonexistent/lxcpath");
	CHECK_STR(c->get_config_path(c), "/nonexistent/lxcpath");
	free(c->config_path);
	c->config_path = saved_path;
	CHECK_STR(c->get_config_path(c), saved_path);
}

/* Writes /edges-exit into the container's rootfs: it exits with $1 (the
 * commands below have no quoted words: LXC 5.0 splits them at blanks). */
static void write_exit_script(struct lxc_container *c)
{
	char rootfs[4096], path[4200];
	const char *dir = rootfs;

	CHECK(c->get_config_item(c, "lxc.rootfs.path", rootfs, sizeof(rootfs)) > 0);
	if (!strncmp(rootfs, "dir:", 4))
		dir += 4;
	snprintf(path, sizeof(path), "%s/edges-exit", dir);
	test_write_file(path, "#!/bin/sh\nexit $1\n", 0755);
}

/* start(c, 1, NULL) in the foreground: the command is lxc.execute.cmd,
 * else lxc.init.cmd; error_num is the init's wait status. */
static void test_execute_cmd(struct lxc_container *c)
{
	write_exit_script(c);
	c->want_daemonize(c, false);

	CHECK(c->set_config_item(c, "lxc.init.cmd", "/edges-exit 7"));
	CHECK(c->start(c, 1, NULL));
	CHECK(WIFEXITED(c->error_num) && WEXITSTATUS(c->error_num) == 7);

	CHECK(c->set_config_item(c, "lxc.execute.cmd", "/edges-exit 4"));
	CHECK(c->start(c, 1, NULL));
	CHECK(WIFEXITED(c->error_num) && WEXITSTATUS(c->error_num) == 4);

	CHECK(c->clear_config_item(c, "lxc.execute.cmd"));
	CHECK(c->clear_config_item(c, "lxc.init.cmd"));
	c->want_daemonize(c, true);
	CHECK(test_leftover_cgroups(name, 1) == 0);
}

/* A command that cannot be executed: the container still starts (its init
 * runs, then exits), as LXC's does, with the status LXC's init gives
 * (its child's exit(-1): 255). */
static void test_execute_fails(struct lxc_container *c)
{
	CHECK(c->set_config_item(c, "lxc.execute.cmd", "you-shall-fail"));
	CHECK(c->start(c, 1, NULL));
	CHECK(c->wait(c, "STOPPED", 10));
	CHECK_STR(c->state(c), "STOPPED");

	c->want_daemonize(c, false);
	CHECK(c->start(c, 1, NULL));
	CHECK(WIFEXITED(c->error_num) && WEXITSTATUS(c->error_num) == 255);
	c->want_daemonize(c, true);

	CHECK(c->clear_config_item(c, "lxc.execute.cmd"));
	CHECK(test_leftover_cgroups(name, 1) == 0);
}

/* fstab rules: options default to "defaults", dump and pass to 0. */
static void test_three_field_entry(struct lxc_container *c)
{
	char *out;

	CHECK(c->set_config_item(c, "lxc.mount.entry", "proc proc proc"));
	CHECK(c->set_config_item(c, "lxc.mount.entry", "tmpfs tmp tmpfs"));
	CHECK(c->start(c, 0, NULL));
	out = test_inside_logged(c, "awk '$2 == \"/tmp\" { print $3 }' /proc/mounts");
	CHECK_STR(out, "tmpfs\n");
	out = test_inside_logged(c, "test -r /proc/self/status && echo ok");
	CHECK_STR(out, "ok\n");
	CHECK(c->stop(c));
	/* back to the template's entries */
	CHECK(c->set_config_item(c, "lxc.mount.entry", ""));
	CHECK(c->set_config_item(c, "lxc.mount.entry", "shm dev/shm tmpfs defaults,create=dir 0 0"));
	CHECK(c->set_config_item(c, "lxc.mount.entry",
				 "mqueue dev/mqueue mqueue defaults,optional,create=dir 0 0"));
}

/* A manager rebooting a container and stopping it at once: the halt
 * signal must reach the init that runs after the reboot. */
static void test_shutdown_after_reboot(struct lxc_container *c)
{
	pid_t pid;
	int i;

	/* LXC 5.0.2's shutdown returns true when the rebooting init ends (its
	 * monitor reports STOPPED to the waiter then), and the container runs
	 * on under its new init. */
	if (test_oracle())
		return;
	CHECK(c->start(c, 0, NULL));
	pid = c->init_pid(c);
	/* A reboot signal init drops would make this a plain shutdown: busybox
	 * init blocks lxc.signal.reboot (SIGTERM, kept pending then) right
	 * after it sets its SIGTSTP handler. */
	for (i = 0; i < 100 && !test_catches(pid, SIGTSTP); i++)
		usleep(50000);
	CHECK(test_catches(pid, SIGTSTP));
	CHECK(c->reboot(c));
	/* Going down, its handlers reset: the halt signal it would drop now
	 * must reach the next init. */
	for (i = 0; i < 100 && test_catches(pid, SIGTSTP); i++)
		usleep(10000);
	CHECK(c->shutdown(c, 30));
	CHECK_STR(c->state(c), "STOPPED");
	/* and it stays down */
	CHECK(!c->wait(c, "RUNNING", 2));
	CHECK(test_leftover_cgroups(name, 1) == 0);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c;

	snprintf(name, sizeof(name), "ed%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return check_result("t_edges");
	test_public_fields(c);
	test_execute_cmd(c);
	test_execute_fails(c);
	test_three_field_entry(c);
	test_shutdown_after_reboot(c);
	test_finish_container(c, name);
	return check_result("t_edges");
}
