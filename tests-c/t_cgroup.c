/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lxc.cgroup.* settings applied at start (memory, pids, devices),
 * get_cgroup_item/set_cgroup_item on the running container, their errors,
 * lxc.cgroup.dir, and a start with an invalid limit that fails cleanly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char name[64];

/* Number of cgroup directories of this container left on the host. */
static int leftover_cgroups(void)
{
	return test_leftover_cgroups(name, 1);
}

/* Reads the first line of a file into buf (newline stripped). */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The container's cgroup file as seen on the host, through GET_CGROUP's
 * path in this process's view of the v1 hierarchy. */
static int host_value(struct lxc_container *c, const char *controller, const char *file, char *buf, size_t len)
{
	char cmd[1024], path[512];
	FILE *f;

	/* The container's init is in exactly one cgroup per hierarchy. */
	snprintf(cmd, sizeof(cmd), "grep -E '^[0-9]+:([^:]*,)?%s(,[^:]*)?:' /proc/%d/cgroup | cut -d: -f3",
		 controller, c->init_pid(c));
	f = popen(cmd, "r");
	if (!f || !fgets(path, sizeof(path), f)) {
		if (f)
			pclose(f);
		return -1;
	}
	pclose(f);
	path[strcspn(path, "\n")] = '\0';
	snprintf(cmd, sizeof(cmd), "/sys/fs/cgroup/%s%s/%s", controller, path, file);
	return read_line(cmd, buf, len);
}

static int run_in(struct lxc_container *c, const char *script)
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	const char *argv[] = {"sh", "-c", script, NULL};
	int st = c->attach_run_wait(c, &opts, "sh", argv);

	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_limits(struct lxc_container *c)
{
	char buf[256];
	int len, n;

	CHECK(c->set_config_item(c, "lxc.cgroup.memory.limit_in_bytes", "256M"));
	CHECK(c->set_config_item(c, "lxc.cgroup.pids.max", "100"));
	CHECK(c->set_config_item(c, "lxc.cgroup.devices.deny", "a"));
	CHECK(c->set_config_item(c, "lxc.cgroup.devices.allow", "c 1:3 rwm"));
	/* /dev/console and the ptys init needs */
	CHECK(c->set_config_item(c, "lxc.cgroup.devices.allow", "c 5:* rwm"));
	CHECK(c->set_config_item(c, "lxc.cgroup.devices.allow", "c 136:* rwm"));
	/* Ignored (with a warning) on a hybrid/legacy host, as LXC does. */
	CHECK(c->set_config_item(c, "lxc.cgroup2.bogus.file", "1"));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start failed: %d %s\n", c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
		return;
	}
	CHECK(c->is_running(c));

	/* Length convention: NULL/0 gives the size, with the newline. */
	len = c->get_cgroup_item(c, "memory.limit_in_bytes", NULL, 0);
	CHECK(len == (int)strlen("268435456\n"));
	memset(buf, 'x', sizeof(buf));
	n = c->get_cgroup_item(c, "memory.limit_in_bytes", buf, sizeof(buf));
	CHECK(n == len);
	CHECK_STR(buf, "268435456\n");
	/* A short buffer gets what fits, unterminated, as LXC's read(2). */
	memset(buf, 'x', sizeof(buf));
	n = c->get_cgroup_item(c, "memory.limit_in_bytes", buf, 4);
	CHECK(n == 4 && memcmp(buf, "2684", 4) == 0 && buf[4] == 'x');
	/* retv without inlen (and the reverse) is EINVAL */
	CHECK(c->get_cgroup_item(c, "memory.limit_in_bytes", buf, 0) < 0);
	CHECK(c->get_cgroup_item(c, "memory.limit_in_bytes", NULL, 5) < 0);

	CHECK(host_value(c, "memory", "memory.limit_in_bytes", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "268435456");
	CHECK(host_value(c, "pids", "pids.max", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "100");
	n = c->get_cgroup_item(c, "pids.max", buf, sizeof(buf));
	CHECK(n == 4);
	CHECK_STR(buf, "100\n");

	/* Devices: /dev/null allowed, /dev/zero not. */
	CHECK(c->get_cgroup_item(c, "devices.list", buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "c 1:3 rwm") != NULL);
	CHECK(strstr(buf, "a *:* rwm") == NULL);
	CHECK(run_in(c, "echo > /dev/null") == 0);
	CHECK(run_in(c, "echo > /dev/zero") != 0);
	CHECK(run_in(c, "head -c1 /dev/zero > /dev/null") != 0);

	/* set then get on the running container */
	CHECK(c->set_cgroup_item(c, "pids.max", "50"));
	n = c->get_cgroup_item(c, "pids.max", buf, sizeof(buf));
	CHECK(n == 3);
	CHECK_STR(buf, "50\n");
	CHECK(host_value(c, "pids", "pids.max", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "50");
	CHECK(!c->set_cgroup_item(c, "pids.max", "bogus"));
	CHECK(!c->set_cgroup_item(c, "pids.max", ""));

	/* bad subsys names */
	CHECK(c->get_cgroup_item(c, "pids", NULL, 0) < 0);
	CHECK(c->get_cgroup_item(c, "../pids.max", NULL, 0) < 0);
	CHECK(c->get_cgroup_item(c, "pids.max/../x", NULL, 0) < 0);
	CHECK(c->get_cgroup_item(c, "nosuchcontroller.x", NULL, 0) < 0);
	CHECK(c->get_cgroup_item(c, "pids.nosuchfile", NULL, 0) < 0);
	CHECK(c->get_cgroup_item(c, NULL, NULL, 0) < 0);
	CHECK(!c->set_cgroup_item(c, "../pids.max", "10"));
	CHECK(!c->set_cgroup_item(c, "pids.max", NULL));

	CHECK(c->stop(c));
	CHECK(leftover_cgroups() == 0);
	/* stopped: both fail */
	CHECK(c->get_cgroup_item(c, "pids.max", NULL, 0) < 0);
	CHECK(c->get_cgroup_item(c, "pids.max", buf, sizeof(buf)) < 0);
	CHECK(!c->set_cgroup_item(c, "pids.max", "10"));
	CHECK(c->clear_config_item(c, "lxc.cgroup"));
	CHECK(c->clear_config_item(c, "lxc.cgroup2"));
}

static void test_bad_limit(struct lxc_container *c)
{
	CHECK(c->set_config_item(c, "lxc.cgroup.pids.max", "bogus"));
	CHECK(!c->start(c, 0, NULL));
	CHECK_ERRSTR(c, "lxc.cgroup.pids.max");
	if (c->error_string)
		fprintf(stderr, "expected start error: %s\n", c->error_string);
	CHECK(!c->is_running(c));
	CHECK(leftover_cgroups() == 0);
	CHECK(c->clear_config_item(c, "lxc.cgroup"));

	/* a controller this host does not have */
	CHECK(c->set_config_item(c, "lxc.cgroup.nosuch.file", "1"));
	CHECK(!c->start(c, 0, NULL));
	CHECK(!c->is_running(c));
	CHECK(leftover_cgroups() == 0);
	CHECK(c->clear_config_item(c, "lxc.cgroup"));

	/* a failing devices rule (after init set up its rootfs) */
	CHECK(c->set_config_item(c, "lxc.cgroup.devices.allow", "x bogus"));
	CHECK(!c->start(c, 0, NULL));
	CHECK_ERRSTR(c, "lxc.cgroup.devices.allow");
	CHECK(!c->is_running(c));
	CHECK(leftover_cgroups() == 0);
	CHECK(c->clear_config_item(c, "lxc.cgroup"));
}

static void test_dir(struct lxc_container *c)
{
	char dirname[64], path[256], buf[64];
	struct stat st;

	snprintf(dirname, sizeof(dirname), "tcg%d/sub", (int)getpid());
	CHECK(c->set_config_item(c, "lxc.cgroup.dir", dirname));
	CHECK(c->set_config_item(c, "lxc.cgroup.pids.max", "77"));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start failed: %d %s\n", c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
	} else {
		CHECK(c->get_cgroup_item(c, "pids.max", buf, sizeof(buf)) == 3);
		CHECK_STR(buf, "77\n");
		CHECK(host_value(c, "pids", "pids.max", buf, sizeof(buf)) == 0);
		CHECK_STR(buf, "77");
		/* the path the container's init is in ends in <dir>/lxc.payload.<name> */
		snprintf(path, sizeof(path), "grep -q 'pids:.*/%s/lxc.payload.%s$' /proc/%d/cgroup", dirname, name,
			 c->init_pid(c));
		CHECK(system(path) == 0);
		CHECK(c->stop(c));
	}
	CHECK(leftover_cgroups() == 0);
	/* the intermediate directories this start made are gone too */
	snprintf(path, sizeof(path), "find /sys/fs/cgroup -maxdepth 4 -name 'tcg%d' | grep -q .", (int)getpid());
	if (test_oracle()) {
		/* LXC leaves them (docs/differences.md "Where we differ": no leaked cgroups):
		 * remove them with its lxc.monitor and lxc.pivot inside. */
		char rm[256];
		int i;

		snprintf(rm, sizeof(rm),
			 "find /sys/fs/cgroup -depth -type d -path '*/tcg%d*' -exec rmdir {} + 2>/dev/null", (int)getpid());
		/* its monitor may still be leaving lxc.monitor.<name>, where
		 * it may have put this process too */
		test_return_home();
		for (i = 0; i < 50 && system(path) == 0; i++) {
			if (system(rm) != 0)
				usleep(100000);
		}
		CHECK(system(path) != 0);
	} else {
		CHECK(system(path) != 0);
	}
	(void)st;
	CHECK(c->clear_config_item(c, "lxc.cgroup.dir"));
	CHECK(c->clear_config_item(c, "lxc.cgroup"));
	/* upward paths are refused by the configuration */
	CHECK(!c->set_config_item(c, "lxc.cgroup.dir", "../x"));
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c;

	snprintf(name, sizeof(name), "cg%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return check_result("t_cgroup");
	/* stopped container */
	CHECK(c->get_cgroup_item(c, "pids.max", NULL, 0) < 0);
	CHECK(!c->set_cgroup_item(c, "pids.max", "10"));
	test_limits(c);
	test_bad_limit(c);
	test_dir(c);
	test_finish_container(c, name);
	return check_result("t_cgroup");
}
