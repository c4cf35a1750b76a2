/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lxc.idmap: a root-owned container started in a user namespace. The
 * template runs mapped (lxc-usernsexec), so the rootfs belongs to host uid
 * 100000; init runs as host uid 100000 and is root inside; attach enters
 * the user namespace; stop leaves no cgroup; destroy removes the mapped
 * rootfs. Setup: the test's lxcpath and its parent are made traversable
 * (0711) so the mapped root can reach its rootfs, as LXC requires. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char name[64];

static int leftover_cgroups(void)
{
	return test_leftover_cgroups(name, 1);
}

/* Output of a command run inside the container. */
static char *inside(struct lxc_container *c, const char *cmd)
{
	return test_inside_logged(c, cmd);
}

/* First line of a /proc file matching prefix (whole line if prefix is ""),
 * with runs of blanks squeezed to one space and no trailing newline. */
static char *proc_line(pid_t pid, const char *file, const char *prefix)
{
	static char out[256];
	char path[64], line[256];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	if (!f)
		return out;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *o = out;
		int blank = 1;

		if (strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		for (; *p && *p != '\n'; p++) {
			if (*p == ' ' || *p == '\t') {
				if (!blank)
					*o++ = ' ';
				blank = 1;
			} else {
				*o++ = *p;
				blank = 0;
			}
		}
		if (o > out && o[-1] == ' ')
			o--;
		*o = 0;
		break;
	}
	fclose(f);
	return out;
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	char rootfs[4096], dir[4096];
	struct lxc_container *c;
	struct stat st;
	char addr[64];
	int net = 100 + getpid() % 100;
	pid_t pid;

	snprintf(name, sizeof(name), "un%d", (int)getpid());
	test_oracle_root_subids(100000, 65536);
	c = test_new_busybox_as(lxcpath, name, 1);
	if (!c)
		return check_result("t_userns");

	/* The template ran as the mapped root. */
	snprintf(rootfs, sizeof(rootfs), "%s/%s/rootfs/bin/busybox", lxcpath, name);
	CHECK(stat(rootfs, &st) == 0 && st.st_uid == 100000 && st.st_gid == 100000);
	/* The container directory belongs to the mapped root, as LXC's. */
	snprintf(dir, sizeof(dir), "%s/%s", lxcpath, name);
	CHECK(stat(dir, &st) == 0 && st.st_uid == 100000);

	/* A time namespace too: made (and owned) inside the user namespace. */
	CHECK(c->set_config_item(c, "lxc.time.offset.monotonic", "1h"));
	/* The container's cgroups, even though it keeps CAP_SYS_ADMIN in its
	 * cgroup namespace (the other cases: t_cgmount). */
	CHECK(c->clear_config_item(c, "lxc.mount.auto"));
	CHECK(c->set_config_item(c, "lxc.mount.auto", "proc:mixed sys:ro cgroup:mixed:force"));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start failed: %d %s\n", c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
	}
	CHECK(c->wait(c, "RUNNING", 10));
	CHECK_STR(c->state(c), "RUNNING");
	pid = c->init_pid(c);
	CHECK(pid > 0);
	if (pid > 0) {
		CHECK_STR(proc_line(pid, "uid_map", ""), "0 100000 65536");
		CHECK_STR(proc_line(pid, "gid_map", ""), "0 100000 65536");
		CHECK_STR(proc_line(pid, "status", "Uid:"), "Uid: 100000 100000 100000 100000");
		CHECK_STR(proc_line(pid, "status", "Gid:"), "Gid: 100000 100000 100000 100000");
	}
	CHECK_STR(inside(c, "id -u"), "0\n");
	CHECK_STR(inside(c, "id -g"), "0\n");
	CHECK_STR(inside(c, "cat /proc/self/uid_map | tr -s ' '"), " 0 100000 65536\n");
	CHECK_STR(inside(c, "grep monotonic /proc/self/timens_offsets | tr -s ' '"), "monotonic 3600 0\n");
	/* Autodev nodes are the host's, bound; proc and sys are mounted. */
	CHECK_STR(inside(c, "echo x > /dev/null && head -c 4 /dev/zero | wc -c"), "4\n");
	CHECK_STR(inside(c, "test -r /proc/1/status && test -d /sys/class && echo ok"), "ok\n");
	/* cgroup:mixed:force: the container's own cgroups, bound and given
	 * to its root. */
	CHECK_STR(inside(c, "head -n1 /sys/fs/cgroup/pids/cgroup.procs"), "1\n");
	CHECK_STR(inside(c, "test -w /sys/fs/cgroup/pids/cgroup.procs && echo ok"), "ok\n");
	CHECK_STR(inside(c, "head -n1 /sys/fs/cgroup/unified/cgroup.procs"), "1\n");
	/* The container may make cgroups below its own; stop removes them. */
	CHECK_STR(inside(c, "mkdir -p /sys/fs/cgroup/pids/sub/deeper /sys/fs/cgroup/unified/sub && echo ok"), "ok\n");
	/* A pty works on the container's devpts. */
	CHECK_STR(inside(c, "test -c /dev/ptmx && test -d /dev/pts && echo ok"), "ok\n");

	/* A reboot builds the user namespace again. */
	CHECK(c->reboot2(c, 30));
	CHECK(c->wait(c, "RUNNING", 10));
	pid = c->init_pid(c);
	CHECK(pid > 0);
	if (pid > 0)
		CHECK_STR(proc_line(pid, "uid_map", ""), "0 100000 65536");
	CHECK_STR(inside(c, "id -u"), "0\n");
	CHECK_STR(inside(c, "grep monotonic /proc/self/timens_offsets | tr -s ' '"), "monotonic 3600 0\n");

	CHECK(c->stop(c));
	CHECK_STR(c->state(c), "STOPPED");
	CHECK(leftover_cgroups() == 0);

	/* A veth (router mode: no bridge) configured from inside the user
	 * namespace's network namespace. */
	snprintf(addr, sizeof(addr), "10.%d.7.2/32", net);
	CHECK(c->clear_config_item(c, "lxc.net"));
	CHECK(c->set_config_item(c, "lxc.net.0.type", "veth"));
	CHECK(c->set_config_item(c, "lxc.net.0.veth.mode", "router"));
	CHECK(c->set_config_item(c, "lxc.net.0.name", "net0"));
	CHECK(c->set_config_item(c, "lxc.net.0.flags", "up"));
	CHECK(c->set_config_item(c, "lxc.net.0.ipv4.address", addr));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "veth start failed: %s\n", c->error_string ? c->error_string : "");
		CHECK(0);
	} else {
		snprintf(addr, sizeof(addr), "10.%d.7.2/32\n", net);
		CHECK_STR(inside(c, "ip -4 -o addr show net0 | awk '{print $4}'"), addr);
		CHECK(c->stop(c));
	}
	CHECK(leftover_cgroups() == 0);
	CHECK(c->destroy(c));
	CHECK(stat(dir, &st) < 0 && errno == ENOENT);
	lxc_container_put(c);
	test_oracle_cleanup(name);
	test_oracle_root_subids_end();
	return check_result("t_userns");
}
