/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device rules on a pure cgroup2 host: lxc.cgroup2.devices.* become a BPF
 * program attached to the container's cgroup, set_cgroup_item("devices.*"),
 * add_device_node and remove_device_node replace it, and it is gone after
 * stop. Debian's lxc-attach, lxc-cgroup and lxc-freeze work on ours through
 * the cgroup descriptor commands. This host is hybrid, so the test first
 * makes itself a pure cgroup2 view: a private mount namespace whose
 * /sys/fs/cgroup is the cgroup2 hierarchy alone (the monitor, attached
 * processes and Debian's tools inherit it). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char name[64];
static const char *lxcpath;

/* Makes this process see a pure cgroup2 host. */
static int pure_cgroup2_view(void)
{
	if (unshare(CLONE_NEWNS) < 0) {
		perror("unshare");
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("make / private");
		return -1;
	}
	/* The tmpfs with the v1 hierarchies and the v2 one under it. */
	if (umount2("/sys/fs/cgroup", MNT_DETACH) < 0) {
		perror("umount /sys/fs/cgroup");
		return -1;
	}
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		perror("mount cgroup2");
		return -1;
	}
	return 0;
}

static long bpf_call(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The device programs attached to the container's cgroup: their number
 * (-1 on error), the first id in *id, the attach flags in *flags. */
static int attached_programs(uint32_t *id, uint32_t *flags)
{
	char path[256];
	uint32_t ids[8] = {0};
	union bpf_attr a;
	int fd, r;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/lxc.payload.%s", name);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uintptr_t)ids;
	a.query.prog_cnt = 8;
	r = bpf_call(BPF_PROG_QUERY, &a);
	close(fd);
	if (r < 0)
		return -1;
	*id = ids[0];
	*flags = a.query.attach_flags;
	return (int)a.query.prog_cnt;
}

/* Whether a BPF program with this id still exists, waiting up to 3 s for
 * the kernel's deferred release after a cgroup is removed. */
static int program_exists(uint32_t id)
{
	for (int i = 0; i < 60; i++) {
		union bpf_attr a;
		int fd;

		memset(&a, 0, sizeof(a));
		a.prog_id = id;
		fd = bpf_call(BPF_PROG_GET_FD_BY_ID, &a);
		if (fd < 0 && errno == ENOENT)
			return 0;
		if (fd >= 0)
			close(fd);
		usleep(50000);
	}
	return 1;
}

/* Runs cmd inside; returns its exit code, output (stderr too) in *out. */
static int inside(struct lxc_container *c, const char *cmd, char **out)
{
	int status;

	*out = test_attach_output(c, cmd, &status, 1);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void start_or_report(struct lxc_container *c)
{
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start failed: %d %s\n", c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
	}
}

/* Runs one of Debian's lxc-* tools (on Debian's liblxc) on the container
 * with a trace log: its exit code, its output in out. The log must show
 * that it sent `command` and that our monitor refused nothing as unknown. */
static int debian(const char *tool, const char *args, const char *command, char *out, size_t len)
{
	char cmd[1024], log[64], line[1024], sent[64];
	size_t total = 0;
	int status, seen = 0;
	FILE *f;

	snprintf(log, sizeof(log), "/tmp/t_cgroup2.%d.log", (int)getpid());
	snprintf(cmd, sizeof(cmd), "env -u LD_LIBRARY_PATH %s -P %s -n %s -l trace -o %s %s 2>&1",
		 tool, lxcpath, name, log, args);
	out[0] = 0;
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (total < len - 1 && fgets(out + total, len - total, f))
		total += strlen(out + total);
	status = pclose(f);
	snprintf(sent, sizeof(sent), "for command \"%s\"", command);
	f = fopen(log, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, sent))
			seen = 1;
		if (strstr(line, "commands.c") && strstr(line, "Function not implemented")) {
			fprintf(stderr, "%s: refused: %s", tool, line);
			CHECK(0);
		}
	}
	if (f)
		fclose(f);
	unlink(log);
	CHECK(seen);
	if (!seen || status != 0)
		fprintf(stderr, "%s %s: status %d, %s sent: %d, output: %s\n", tool, args, status, command, seen, out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* An allow-list as LXC's common.conf builds it (deny a, then allows). */
static void test_allow_list(struct lxc_container *c)
{
	uint32_t id = 0, id2 = 0, flags = 0;
	char buf[64], *out;

	CHECK(c->set_config_item(c, "lxc.cgroup2.devices.deny", "a"));
	CHECK(c->set_config_item(c, "lxc.cgroup2.devices.allow", "c 1:3 rwm"));
	/* /dev/console and the ptys init needs */
	CHECK(c->set_config_item(c, "lxc.cgroup2.devices.allow", "c 5:* rwm"));
	CHECK(c->set_config_item(c, "lxc.cgroup2.devices.allow", "c 136:* rwm"));
	/* A device given by path, as the configuration allows. */
	CHECK(c->set_config_item(c, "lxc.cgroup2.devices.allow", "/dev/random r"));
	/* A core cgroup2 file next to the device rules. */
	CHECK(c->set_config_item(c, "lxc.cgroup2.cgroup.max.descendants", "7"));
	start_or_report(c);
	if (!c->is_running(c))
		return;

	if (test_oracle()) {
		/* LXC 5.0.2 finds no controller named "cgroup" (docs/differences.md "Where
		 * we differ": cgroup2 core files) */
		CHECK(c->get_cgroup_item(c, "cgroup.max.descendants", buf, sizeof(buf)) < 0);
	} else {
		CHECK(c->get_cgroup_item(c, "cgroup.max.descendants", buf, sizeof(buf)) == 2);
		CHECK_STR(buf, "7\n");
	}
	/* One program, attached with BPF_F_ALLOW_MULTI as LXC does. */
	CHECK(attached_programs(&id, &flags) == 1);
	CHECK(flags == BPF_F_ALLOW_MULTI);

	CHECK(inside(c, "echo > /dev/null && echo ok", &out) == 0);
	CHECK_STR(out, "ok\n");
	CHECK(inside(c, "head -c1 /dev/zero", &out) != 0);
	CHECK(strstr(out, "Operation not permitted") != NULL);
	if (!strstr(out, "Operation not permitted"))
		fprintf(stderr, "head /dev/zero said: %s\n", out);
	/* mknod of a denied device is refused; of an allowed one it works */
	CHECK(inside(c, "mknod /tmp/zero c 1 5", &out) != 0);
	CHECK(strstr(out, "Operation not permitted") != NULL);
	CHECK(inside(c, "mknod /tmp/null c 1 3 && echo x > /tmp/null && rm /tmp/null && echo ok", &out) == 0);
	CHECK_STR(out, "ok\n");
	CHECK(inside(c, "head -c1 /dev/random | wc -c", &out) == 0);
	CHECK_STR(out, "1\n");
	CHECK(inside(c, "echo > /dev/random", &out) != 0);
	CHECK(strstr(out, "Operation not permitted") != NULL);
	/* v1 has a devices.list; cgroup2 has none */
	CHECK(c->get_cgroup_item(c, "devices.list", buf, sizeof(buf)) < 0);

	/* A new rule replaces the program (one attached, a new one). */
	CHECK(c->set_cgroup_item(c, "devices.allow", "c 1:5 r"));
	CHECK(attached_programs(&id2, &flags) == 1);
	CHECK(id2 != id);
	CHECK(!program_exists(id));
	CHECK(inside(c, "head -c1 /dev/zero | wc -c", &out) == 0);
	CHECK_STR(out, "1\n");
	/* only r was allowed */
	CHECK(inside(c, "echo > /dev/zero", &out) != 0);
	CHECK(strstr(out, "Operation not permitted") != NULL);
	/* The same rule again changes nothing; its deny takes it back. */
	CHECK(c->set_cgroup_item(c, "devices.allow", "c 1:5 r"));
	CHECK(attached_programs(&id, &flags) == 1 && id == id2);
	CHECK(c->set_cgroup_item(c, "devices.deny", "c 1:5 r"));
	CHECK(inside(c, "head -c1 /dev/zero", &out) != 0);
	CHECK(strstr(out, "Operation not permitted") != NULL);
	/* Bad rules are refused and change nothing. */
	CHECK(!c->set_cgroup_item(c, "devices.allow", "x 1:5 rwm"));
	CHECK(!c->set_cgroup_item(c, "devices.allow", "c 1:5 rwx"));
	CHECK(!c->set_cgroup_item(c, "devices.allow", "/dev/zero rwm"));
	CHECK(attached_programs(&id2, &flags) == 1);

	/* add_device_node: the node and its rule; remove_device_node: both go. */
	CHECK(c->add_device_node(c, "/dev/full", NULL));
	CHECK(inside(c, "head -c1 /dev/full | wc -c", &out) == 0);
	CHECK_STR(out, "1\n");
	CHECK(inside(c, "echo > /dev/full", &out) != 0);
	CHECK(strstr(out, "No space left on device") != NULL);
	CHECK(c->remove_device_node(c, "/dev/full", NULL));
	CHECK(inside(c, "test -e /dev/full || echo gone", &out) == 0);
	CHECK_STR(out, "gone\n");
	CHECK(inside(c, "mknod /tmp/full c 1 7", &out) != 0);
	CHECK(strstr(out, "Operation not permitted") != NULL);

	CHECK(attached_programs(&id, &flags) == 1);
	CHECK(c->stop(c));
	CHECK(test_leftover_cgroups(name, 1) == 0);
	/* The kernel released the program with the cgroup. */
	CHECK(!program_exists(id));
	CHECK(c->clear_config_item(c, "lxc.cgroup2"));
}

/* A deny-list: everything but the denied device. */
static void test_deny_list(struct lxc_container *c)
{
	uint32_t id = 0, flags = 0;
	char *out;

	CHECK(c->set_config_item(c, "lxc.cgroup2.devices.allow", "a"));
	CHECK(c->set_config_item(c, "lxc.cgroup2.devices.deny", "c 1:5 rwm"));
	start_or_report(c);
	if (!c->is_running(c))
		return;
	CHECK(attached_programs(&id, &flags) == 1);
	CHECK(inside(c, "head -c1 /dev/zero", &out) != 0);
	CHECK(strstr(out, "Operation not permitted") != NULL);
	CHECK(inside(c, "head -c1 /dev/full | wc -c", &out) == 0);
	CHECK_STR(out, "1\n");
	CHECK(c->stop(c));
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(!program_exists(id));
	CHECK(c->clear_config_item(c, "lxc.cgroup2"));
}

/* After a deny of /dev/zero on a container that had no device program,
 * /dev/full (any other device) is still allowed. LXC 5.0.2 starts from an
 * empty allow-list there and denies it too (docs/differences.md "Where we differ":
 * cgroup2 device rules). */
static void check_others_allowed(struct lxc_container *c)
{
	char *out;

	if (test_oracle()) {
		CHECK(inside(c, "head -c1 /dev/full", &out) != 0);
		CHECK(strstr(out, "Operation not permitted") != NULL);
		return;
	}
	CHECK(inside(c, "head -c1 /dev/full | wc -c", &out) == 0);
	CHECK_STR(out, "1\n");
}

/* Without device rules nothing is attached; a deny added at run time
 * denies just that device (the container had no program: everything else
 * stays allowed). */
static void test_no_rules(struct lxc_container *c)
{
	uint32_t id = 0, flags = 0;
	char *out;

	start_or_report(c);
	if (!c->is_running(c))
		return;
	CHECK(attached_programs(&id, &flags) == 0);
	CHECK(c->set_cgroup_item(c, "devices.deny", "c 1:5 rwm"));
	CHECK(attached_programs(&id, &flags) == 1);
	CHECK(inside(c, "head -c1 /dev/zero", &out) != 0);
	CHECK(strstr(out, "Operation not permitted") != NULL);
	check_others_allowed(c);
	CHECK(c->stop(c));
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(!program_exists(id));
}

/* Debian's tools on ours: lxc-attach joins the container's cgroup (in
 * LXC's ".lxc" leaf) through GET_CGROUP_CTX; lxc-cgroup adds a device rule
 * (GET_LIMIT_CGROUP_FD names the unified hierarchy for "devices" when it
 * takes BPF device programs, then ADD_BPF_DEVICE_CGROUP); lxc-freeze and
 * lxc-unfreeze write cgroup.freeze through GET_LIMIT_CGROUP2_FD. */
static void test_debian_tools(struct lxc_container *c)
{
	uint32_t id = 0, flags = 0;
	char out[4096], *in;

	start_or_report(c);
	if (!c->is_running(c))
		return;
	CHECK(debian("lxc-attach", "-- cat /proc/self/cgroup", "get_cgroup_ctx", out, sizeof(out)) == 0);
	/* (the kernel's v1 hierarchies are listed too: this host is hybrid) */
	CHECK(strstr(out, "\n0::/.lxc\n") != NULL);
	CHECK(debian("lxc-cgroup", "devices.deny 'c 1:5 rwm'", "get_limit_cgroup_fd", out, sizeof(out)) == 0);
	CHECK(attached_programs(&id, &flags) == 1);
	CHECK(inside(c, "head -c1 /dev/zero", &in) != 0);
	CHECK(strstr(in, "Operation not permitted") != NULL);
	check_others_allowed(c);
	CHECK(debian("lxc-freeze", "", "get_limit_cgroup2_fd", out, sizeof(out)) == 0);
	CHECK_STR(c->state(c), "FROZEN");
	CHECK(debian("lxc-unfreeze", "", "get_limit_cgroup2_fd", out, sizeof(out)) == 0);
	CHECK_STR(c->state(c), "RUNNING");
	CHECK(c->stop(c));
	/* LXC's .lxc leaf goes with the container's cgroup */
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(!program_exists(id));
}

/* write(2) of text to a cgroup file: 0 or -1. */
static int write_cgroup_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A container cgroup that hands a controller to children cannot hold
 * processes (cgroup2's no-internal-process rule: a container's systemd
 * moves init into init.scope and delegates): attach then goes into a
 * ".lxc" leaf, as LXC's. Skipped when no controller can be delegated
 * down to the container's cgroup here. */
static void test_delegating_cgroup(struct lxc_container *c)
{
	char dir[4096], path[4200], line[256], *out;
	FILE *f;
	int moved = 0;

	start_or_report(c);
	if (!c->is_running(c))
		return;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", c->init_pid(c));
	/* (the kernel lists the v1 hierarchies too: this host is hybrid) */
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f) && strncmp(line, "0::/", 4) != 0)
		;
	CHECK(f && strncmp(line, "0::/", 4) == 0);
	if (f)
		fclose(f);
	line[strcspn(line, "\n")] = '\0';
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s", line + 3);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	if (!strstr(test_read_file(path), "hugetlb")) {
		fprintf(stderr, "skipped: no controller reaches %s\n", dir);
		CHECK(c->stop(c));
		return;
	}
	/* Every process into init.scope, then delegate hugetlb. */
	snprintf(path, sizeof(path), "%s/init.scope", dir);
	CHECK(mkdir(path, 0755) == 0);
	for (int round = 0; round < 5; round++) {
		char procs[4200], pid[32];

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		f = fopen(procs, "r");
		while (f && fgets(pid, sizeof(pid), f)) {
			snprintf(path, sizeof(path), "%s/init.scope/cgroup.procs", dir);
			moved += write_cgroup_file(path, pid) == 0;
		}
		if (f)
			fclose(f);
	}
	CHECK(moved > 0);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	CHECK(write_cgroup_file(path, "+hugetlb") == 0);
	CHECK(inside(c, "cat /proc/self/cgroup", &out) == 0);
	CHECK(strstr(out, "0::/.lxc\n") != NULL);
	if (!strstr(out, "0::/.lxc\n"))
		fprintf(stderr, "attached: %s\n", out);
	CHECK(c->stop(c));
	CHECK(test_leftover_cgroups(name, 1) == 0);
}

static void test_bad_rule(struct lxc_container *c)
{
	CHECK(c->set_config_item(c, "lxc.cgroup2.devices.allow", "c 1:3 rwx"));
	if (test_oracle()) {
		/* LXC 5.0.2 logs the rule, skips it and starts (docs/differences.md "Where
		 * we differ": cgroup2 device rules) */
		CHECK(c->start(c, 0, NULL));
		CHECK(c->stop(c));
		CHECK(test_leftover_cgroups(name, 1) == 0);
		CHECK(c->clear_config_item(c, "lxc.cgroup2"));
		return;
	}
	CHECK(!c->start(c, 0, NULL));
	CHECK(c->error_string && strstr(c->error_string, "lxc.cgroup2.devices.allow"));
	if (c->error_string)
		fprintf(stderr, "expected start error: %s\n", c->error_string);
	CHECK(!c->is_running(c));
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(c->clear_config_item(c, "lxc.cgroup2"));
}

int main(int argc, char **argv)
{
	struct lxc_container *c;

	lxcpath = test_lxcpath(argc, argv);

	if (pure_cgroup2_view() < 0) {
		CHECK(0);
		return check_result("t_cgroup2");
	}
	snprintf(name, sizeof(name), "cg2%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return check_result("t_cgroup2");
	test_allow_list(c);
	test_deny_list(c);
	test_no_rules(c);
	test_debian_tools(c);
	test_delegating_cgroup(c);
	test_bad_rule(c);
	test_finish_container(c, name);
	return check_result("t_cgroup2");
}
