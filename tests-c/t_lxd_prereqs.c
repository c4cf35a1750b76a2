/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What LXD 5.0 relies on, checked on real busybox containers:
 * - lxc_has_api_extension answers each of LXC 6.0's 29 names as
 *   docs/api-extensions.md says (Debian's 5.0.2: true for all);
 * - save_config to another file gives <lxcpath>/<name> to the mapped root
 *   of a container with lxc.idmap (LXD saves only <logdir>/lxc.conf);
 * - a rootfs the mapped root cannot reach fails the start with EACCES and
 *   its path, not "does not exist"; a mount entry with idmap=container
 *   (idmapped_mounts_v2, LXD's disks on idmapped storage);
 * - a start failing after lxc.hook.pre-start (a mount entry whose source is
 *   missing), and one failing in pre-start, run lxc.hook.stop and then
 *   lxc.hook.post-stop, with LXC's environment;
 * - a container started by root goes below init's cgroup, not the
 *   caller's (the test runs in a fresh sub-cgroup); lxc.cgroup.relative = 1
 *   keeps it below the caller's;
 * - the features behind advertised extensions no other test covers: a file
 *   injected with mount() (mount_injection_file) and LXC's shmounts: mount
 *   tunnel (LXD's hotplug path), seccomp_allow_nesting under a confined
 *   caller, init_pidfd (pidfd), ipv4.gateway = dev
 *   (network_gateway_device_route), a macvlan's mtu
 *   (network_phys_macvlan_mtu), and ipvlan failing the start with the
 *   cause where the kernel has none (network_ipvlan). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static const char *lxcpath;

/* LXC 6.0's names and whether we advertise them (docs/api-extensions.md). */
static const struct {
	const char *name;
	int ours;
} extensions[] = {
	{"lxc_log", 1},
	{"lxc_config_item_is_supported", 1},
	{"console_log", 1},
	{"reboot2", 1},
	{"mount_injection", 1},
	{"cgroup_relative", 1},
	{"mount_injection_file", 1},
	{"seccomp_allow_nesting", 1},
	{"seccomp_notify", 1},
	{"network_veth_routes", 1},
	{"network_ipvlan", 1},
	{"network_l2proxy", 1},
	{"network_gateway_device_route", 1},
	{"network_phys_macvlan_mtu", 1},
	{"network_veth_router", 1},
	{"cgroup2_devices", 1},
	{"cgroup2", 1},
	{"pidfd", 1},
	{"cgroup_advanced_isolation", 0},
	{"network_bridge_vlan", 1},
	{"time_namespace", 1},
	{"seccomp_allow_deny_syntax", 1},
	{"devpts_fd", 1},
	{"seccomp_notify_fd_active", 1},
	{"seccomp_proxy_send_notify_fd", 1},
	{"idmapped_mounts", 1},
	{"idmapped_mounts_v2", 1},
	{"core_scheduling", 1},
	{"cgroup2_auto_mounting", 1},
};

static void test_extensions(void)
{
	size_t i;

	CHECK(sizeof(extensions) / sizeof(extensions[0]) == 29);
	for (i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
		/* Debian's 5.0.2 answers true for every one of them. */
		int want = test_oracle() ? 1 : extensions[i].ours;

		if (lxc_has_api_extension(extensions[i].name) != want) {
			fprintf(stderr, "extension %s: want %d\n", extensions[i].name, want);
			CHECK(0);
		}
	}
	CHECK(lxc_has_api_extension(NULL));
	CHECK(!lxc_has_api_extension("environment_runtime_hooks")); /* 7.0's */
	/* lxc_config_item_is_supported: exact names of LXC's key table. */
	CHECK(lxc_config_item_is_supported("lxc.idmap"));
	CHECK(lxc_config_item_is_supported("lxc.net"));
	CHECK(!lxc_config_item_is_supported("lxc.net.0.type"));
	CHECK(!lxc_has_api_extension("no_such_extension"));
}

static uid_t owner(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_uid : (uid_t)-1;
}

static char *inside(struct lxc_container *c, const char *cmd)
{
	return test_inside_logged(c, cmd);
}

/* idmapped_mounts_v2: a mount entry with idmap=container shows a host
 * directory owned by host ids as the container's same ids (a plain bind
 * shows the overflow id); what the container's root makes there is host
 * uid 0's. */
static void test_idmapped_entry(struct lxc_container *c, const char *name)
{
	char dir[256], file[300], entry[600];

	snprintf(dir, sizeof(dir), "/tmp/lxc-lxdp-idm.%d", (int)getpid());
	CHECK(mkdir(dir, 0755) == 0);
	snprintf(file, sizeof(file), "%s/by-1000", dir);
	test_write_file(file, "x\n", 0644);
	CHECK(chown(file, 1000, 1000) == 0);
	snprintf(entry, sizeof(entry), "%s mnt/idm none bind,create=dir,idmap=container 0 0", dir);
	CHECK(c->set_config_item(c, "lxc.mount.entry", entry));
	snprintf(entry, sizeof(entry), "%s mnt/plain none bind,create=dir 0 0", dir);
	CHECK(c->set_config_item(c, "lxc.mount.entry", entry));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "idmapped entry: %d %s\n", c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
	} else {
		CHECK_STR(inside(c, "stat -c %u:%g /mnt/idm /mnt/idm/by-1000 /mnt/plain"),
			  "0:0\n1000:1000\n65534:65534\n");
		CHECK_STR(inside(c, "touch /mnt/idm/made && stat -c %u /mnt/idm/made"), "0\n");
		CHECK_STR(inside(c, "touch /mnt/plain/x 2>/dev/null && echo wrote || echo denied"), "denied\n");
		CHECK(c->stop(c));
		snprintf(file, sizeof(file), "%s/made", dir);
		CHECK(owner(file) == 0);
		unlink(file);
	}
	CHECK(test_leftover_cgroups(name, 1) == 0);
	test_oracle_cleanup(name);
	CHECK(c->clear_config_item(c, "lxc.mount.entry"));
	snprintf(file, sizeof(file), "%s/by-1000", dir);
	CHECK(unlink(file) == 0 && rmdir(dir) == 0);
}

/* save_config to another file prepares <lxcpath>/<name> as LXC does, and
 * a rootfs the mapped root cannot reach fails with EACCES. */
static void test_save_config_and_eacces(void)
{
	char name[64], dir[4096], alt[4200], rootfs[4200];
	struct lxc_container *c;

	snprintf(name, sizeof(name), "sv%d", (int)getpid());
	test_oracle_root_subids(100000, 65536);
	c = test_new_busybox_as(lxcpath, name, 1);
	if (!c)
		return;
	snprintf(dir, sizeof(dir), "%s/%s", lxcpath, name);
	snprintf(alt, sizeof(alt), "%s/%s-lxc.conf", lxcpath, name);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	CHECK(owner(dir) == 100000);

	/* As LXD finds it: the directory is root's. */
	CHECK(chown(dir, 0, 0) == 0 && chmod(dir, 0770) == 0);
	CHECK(c->save_config(c, alt));
	CHECK(owner(dir) == 100000);
	CHECK(strstr(test_read_file(alt), "lxc.idmap = u 0 100000 65536") != NULL);
	CHECK(c->start(c, 0, NULL));
	CHECK(c->stop(c));

	test_idmapped_entry(c, name);

	/* Without it, init (host uid 100000) cannot reach its rootfs: the
	 * error is EACCES and names the path. */
	CHECK(chown(dir, 0, 0) == 0);
	if (c->start(c, 0, NULL)) {
		CHECK(0);
		c->stop(c);
	} else {
		fprintf(stderr, "expected EACCES: %d %s\n", c->error_num,
			c->error_string ? c->error_string : "");
		CHECK_ERRNUM(c, EACCES);
		CHECK_ERRSTR(c, rootfs);
		CHECK_ERRSTR(c, "Permission denied");
	}
	CHECK(test_leftover_cgroups(name, 1) == 0);
	test_oracle_cleanup(name);

	/* And the container's own config too, every time. */
	CHECK(chown(dir, 0, 0) == 0);
	CHECK(c->save_config(c, NULL));
	CHECK(owner(dir) == 100000);
	CHECK(unlink(alt) == 0);
	test_finish_container(c, name);
	test_oracle_root_subids_end();
}

/* Waits up to 15 s for `path` to contain `needle` (LXC 5.0.2's failed start
 * returns before its monitor ran post-stop); its contents. */
static const char *wait_for_text(const char *path, const char *needle)
{
	const char *text = test_read_file(path);

	for (int i = 0; i < 150 && !strstr(text, needle); i++) {
		usleep(100000);
		text = test_read_file(path);
	}
	return text;
}

/* One line of a marker file, for the failure message. */
static void dump(const char *what, const char *text)
{
	fprintf(stderr, "%s:\n%s", what, text);
}

/* Failed starts run lxc.hook.stop, then lxc.hook.post-stop. */
static void test_failed_start_hooks(void)
{
	char name[64], script[2048], out[2048], line[16384], entry[4300], want[8192];
	struct lxc_container *c;
	const char *log, *stop, *post;

	snprintf(name, sizeof(name), "hk%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return;
	snprintf(out, sizeof(out), "%s/%s-hooks.out", lxcpath, name);
	snprintf(script, sizeof(script), "%s/%s-hook.sh", lxcpath, name);
	/* One line per run: its type and what LXC exports to it, then the
	 * arguments (version 0: the namespaces of stop). */
	snprintf(line, sizeof(line),
		 "#!/bin/sh\n"
		 "echo \"${LXC_HOOK_TYPE:-v0:$3} name=$LXC_NAME config=$LXC_CONFIG_FILE"
		 " rootfs=$LXC_ROOTFS_PATH section=$LXC_HOOK_SECTION version=$LXC_HOOK_VERSION"
		 " target=$LXC_TARGET pid=${LXC_PID:+set} mnt=${LXC_MNT_NS:+set} uts=${LXC_UTS_NS:+set}"
		 " args=$#:$4\" >> %s\n"
		 "env | grep ^LXC_ | sort | sed 's/^/  /' >> %s\n",
		 out, out);
	test_write_file(script, line, 0755);
	CHECK(c->set_config_item(c, "lxc.hook.version", "1"));
	CHECK(c->set_config_item(c, "lxc.hook.pre-start", script));
	CHECK(c->set_config_item(c, "lxc.hook.stop", script));
	CHECK(c->set_config_item(c, "lxc.hook.post-stop", script));
	/* Fails in init's rootfs setup, after pre-start and the clone. */
	snprintf(entry, sizeof(entry), "%s/no-such-source mnt/x none bind,create=dir 0 0", lxcpath);
	CHECK(c->set_config_item(c, "lxc.mount.entry", entry));

	unlink(out);
	CHECK(!c->start(c, 0, NULL));
	log = wait_for_text(out, "\npost-stop ");
	stop = strstr(log, "\nstop ");
	post = strstr(log, "\npost-stop ");
	CHECK(strncmp(log, "pre-start ", 10) == 0 && stop && post && stop < post);
	/* Each as LXC's lxc_end runs it: target stop, init's pid, the
	 * namespaces (held since the clone) for stop. */
	snprintf(want, sizeof(want),
		 "pre-start name=%1$s config=%2$s/%1$s/config rootfs=%2$s/%1$s/rootfs section=lxc version=1"
		 " target= pid= mnt= uts= args=0:\n",
		 name, lxcpath);
	CHECK(strncmp(log, want, strlen(want)) == 0);
	snprintf(want, sizeof(want),
		 "\nstop name=%1$s config=%2$s/%1$s/config rootfs=%2$s/%1$s/rootfs section=lxc version=1"
		 " target=stop pid=set mnt=set uts=set args=0:\n",
		 name, lxcpath);
	CHECK(strstr(log, want) != NULL);
	/* LXC's post-stop keeps stop's LXC_*_NS (docs/differences.md "Where we differ":
	 * hooks), so only what comes before them. */
	snprintf(want, sizeof(want),
		 "\npost-stop name=%1$s config=%2$s/%1$s/config rootfs=%2$s/%1$s/rootfs section=lxc version=1"
		 " target=stop pid=set mnt=",
		 name, lxcpath);
	CHECK(strstr(log, want) != NULL);
	if (!test_oracle())
		CHECK(post && strstr(post, " pid=set mnt= uts= args=0:\n"));
	if (check_failures)
		dump("failed start (version 1)", log);
	CHECK(test_leftover_cgroups(name, 1) == 0);
	test_oracle_cleanup(name);

	/* Version 0: "<name> lxc <type>", and stop gets the namespaces. */
	unlink(out);
	CHECK(c->set_config_item(c, "lxc.hook.version", "0"));
	CHECK(!c->start(c, 0, NULL));
	log = wait_for_text(out, "v0:post-stop");
	stop = strstr(log, "\nv0:stop ");
	post = strstr(log, "\nv0:post-stop ");
	CHECK(strncmp(log, "v0:pre-start ", 13) == 0 && stop && post && stop < post);
	CHECK(stop && strstr(stop, " target=stop pid=set ") && strstr(stop, "args=") &&
	      strstr(stop, ":mnt:/proc/"));
	if (check_failures)
		dump("failed start (version 0)", log);
	CHECK(test_leftover_cgroups(name, 1) == 0);
	test_oracle_cleanup(name);

	/* A failing pre-start: stop and post-stop run too, before any init. */
	unlink(out);
	CHECK(c->clear_config_item(c, "lxc.mount.entry"));
	CHECK(c->set_config_item(c, "lxc.hook.version", "1"));
	CHECK(c->clear_config_item(c, "lxc.hook.pre-start"));
	CHECK(c->set_config_item(c, "lxc.hook.pre-start", "/bin/false"));
	CHECK(!c->start(c, 0, NULL));
	log = wait_for_text(out, "\npost-stop ");
	CHECK(strncmp(log, "stop ", 5) == 0 && strstr(log, "\npost-stop "));
	CHECK(strstr(log, "stop name=") && strstr(log, " target=stop pid= mnt= uts= args=0:\n"));
	if (check_failures)
		dump("failing pre-start", log);
	CHECK(test_leftover_cgroups(name, 1) == 0);
	test_oracle_cleanup(name);

	CHECK(c->clear_config_item(c, "lxc.hook.pre-start"));
	CHECK(c->clear_config_item(c, "lxc.hook.stop"));
	CHECK(c->clear_config_item(c, "lxc.hook.post-stop"));
	unlink(out);
	unlink(script);
	test_finish_container(c, name);
}

/* The cgroup2/v1 mount of the hierarchy named by a /proc/<pid>/cgroup
 * controller field ("" for cgroup2). */
static void hierarchy_dir(const char *ctrl, char *buf, size_t len)
{
	if (!strncmp(ctrl, "name=", 5))
		ctrl += 5;
	if (*ctrl)
		snprintf(buf, len, "/sys/fs/cgroup/%s", ctrl);
	else if (access("/sys/fs/cgroup/unified", F_OK) == 0)
		snprintf(buf, len, "/sys/fs/cgroup/unified");
	else
		snprintf(buf, len, "/sys/fs/cgroup");
}

/* The path of `pid` in the hierarchy of controllers `ctrl` ("" = v2), from
 * /proc/<pid>/cgroup; "" when not found. */
static void cgroup_of(const char *pid, const char *ctrl, char *buf, size_t len)
{
	char path[64], line[1024];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = 0;
		if (strcmp(c1 + 1, ctrl) == 0) {
			c2[strcspn(c2 + 1, "\n") + 1] = 0;
			snprintf(buf, len, "%s", c2 + 1);
			break;
		}
	}
	fclose(f);
}

/* The controller fields of this process's /proc/self/cgroup lines. */
static int own_hierarchies(char ctrls[][128], int max)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = 0;
		snprintf(ctrls[n++], 128, "%s", c1 + 1);
	}
	fclose(f);
	return n;
}

/* Moves this process into the cgroup directory `dir`. */
static void enter(const char *dir)
{
	char path[1500];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	CHECK(f && fprintf(f, "%d\n", (int)getpid()) > 0);
	if (f)
		CHECK(fclose(f) == 0);
}

/* "/" becomes "" so that "<base>/lxc.payload.<name>" reads right. */
static const char *base_of(const char *path)
{
	return strcmp(path, "/") == 0 ? "" : path;
}

static void test_cgroup_placement(void)
{
	char name[64], ctrls[16][128], dir[16][1400], fresh[16][1100], mine[1024], initcg[1024], got[1024],
		want[2300], pidstr[32], mnt[256], buf[256];
	struct lxc_container *c;
	int n, i, made[16] = {0};

	snprintf(name, sizeof(name), "cg%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return;
	/* A fresh cgroup below our own in every hierarchy, and we move in. */
	n = own_hierarchies(ctrls, 16);
	for (i = 0; i < n; i++) {
		hierarchy_dir(ctrls[i], mnt, sizeof(mnt));
		cgroup_of("self", ctrls[i], mine, sizeof(mine));
		snprintf(fresh[i], sizeof(fresh[i]), "%s/lxdp-%d", base_of(mine), (int)getpid());
		snprintf(dir[i], sizeof(dir[i]), "%s%s", mnt, fresh[i]);
		if (mkdir(dir[i], 0755) != 0) {
			fprintf(stderr, "mkdir %s: %s\n", dir[i], strerror(errno));
			continue;
		}
		made[i] = 1;
		if (strstr(ctrls[i], "cpuset")) {
			char parent[1500];

			snprintf(parent, sizeof(parent), "%s/..", dir[i]);
			snprintf(want, sizeof(want), "%s/cpuset.cpus", parent);
			snprintf(buf, sizeof(buf), "%s", test_read_file(want));
			snprintf(want, sizeof(want), "%s/cpuset.cpus", dir[i]);
			test_write_file(want, buf, 0644);
			snprintf(want, sizeof(want), "%s/cpuset.mems", parent);
			snprintf(buf, sizeof(buf), "%s", test_read_file(want));
			snprintf(want, sizeof(want), "%s/cpuset.mems", dir[i]);
			test_write_file(want, buf, 0644);
		}
		enter(dir[i]);
	}

	/* Root: below init's cgroup, as LXC's "root spawned containers
	 * escape the current cgroup". */
	CHECK(c->start(c, 0, NULL));
	snprintf(pidstr, sizeof(pidstr), "%d", (int)c->init_pid(c));
	for (i = 0; i < n; i++) {
		cgroup_of("1", ctrls[i], initcg, sizeof(initcg));
		cgroup_of(pidstr, ctrls[i], got, sizeof(got));
		/* init's systemd scope is left, as LXC's prune_init_scope */
		if (strlen(initcg) >= 11 && !strcmp(initcg + strlen(initcg) - 11, "/init.scope"))
			initcg[strlen(initcg) - 11] = 0;
		snprintf(want, sizeof(want), "%s/lxc.payload.%s", base_of(initcg), name);
		if (strncmp(got, want, strlen(want)) != 0) {
			fprintf(stderr, "hierarchy \"%s\": init at %s, container at %s, want %s\n", ctrls[i],
				initcg, got, want);
			CHECK(0);
		}
	}
	CHECK(c->stop(c));
	test_oracle_cleanup(name);

	/* lxc.cgroup.relative = 1: below the caller's own (the oracle's
	 * cleanup took us home: back in). */
	for (i = 0; i < n; i++)
		if (made[i])
			enter(dir[i]);
	CHECK(c->set_config_item(c, "lxc.cgroup.relative", "1"));
	CHECK(c->start(c, 0, NULL));
	snprintf(pidstr, sizeof(pidstr), "%d", (int)c->init_pid(c));
	for (i = 0; i < n; i++) {
		if (!made[i])
			continue;
		/* (LXC 5.0.2 moved us into its monitor's cgroup meanwhile.) */
		cgroup_of(pidstr, ctrls[i], got, sizeof(got));
		snprintf(want, sizeof(want), "%s/lxc.payload.%s", fresh[i], name);
		if (strncmp(got, want, strlen(want)) != 0) {
			fprintf(stderr, "relative, hierarchy \"%s\": container at %s, want %s\n", ctrls[i], got,
				want);
			CHECK(0);
		}
	}
	CHECK(c->stop(c));
	CHECK(c->clear_config_item(c, "lxc.cgroup.relative"));
	test_oracle_cleanup(name);

	/* Back home, and our cgroups go once the monitors that were born in
	 * them are gone (ours answers the stop, then exits; LXC's monitor
	 * cgroups in them were removed by test_oracle_cleanup, and it leaves
	 * an lxc.pivot). */
	test_return_home();
	for (i = 0; i < n; i++) {
		if (!made[i])
			continue;
		if (test_oracle()) {
			snprintf(want, sizeof(want), "%s/lxc.pivot", dir[i]);
			rmdir(want);
		}
		for (int w = 0; w < 50 && rmdir(dir[i]) != 0 && errno == EBUSY; w++)
			usleep(100000);
		if (access(dir[i], F_OK) == 0) {
			fprintf(stderr, "rmdir %s: %s\n", dir[i], strerror(errno));
			CHECK(0);
		}
	}
	test_finish_container(c, name);
}

/* mount_injection_file: a host file bound into the running container;
 * and LXC's shmounts: tunnel, through which the host's later mounts
 * appear inside (LXD's hotplug of idmapped disks goes that way). */
static void test_mount_injection(void)
{
	char name[64], shm[4096], tun[4200], file[4200], cmd[8800];
	struct lxc_container *c;
	int st;

	snprintf(name, sizeof(name), "mi%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return;
	snprintf(shm, sizeof(shm), "%s/%s-shmounts", lxcpath, name);
	CHECK(mkdir(shm, 0755) == 0);
	CHECK(test_sh("mount -t tmpfs lxc-test-shm %s && mount --make-shared %s", shm, shm) == 0);
	snprintf(cmd, sizeof(cmd), "shmounts:%s:/dev/.lxd-mounts", shm);
	CHECK(c->set_config_item(c, "lxc.mount.auto", cmd));
	CHECK(c->start(c, 0, NULL));

	/* Mounted on the host after the start: seen inside. */
	snprintf(tun, sizeof(tun), "%s/later", shm);
	CHECK(mkdir(tun, 0755) == 0);
	CHECK(test_sh("mount -t tmpfs lxc-test-later %s && echo through-the-tunnel > %s/f", tun, tun) == 0);
	CHECK_STR(test_attach_output(c, "cat /dev/.lxd-mounts/later/f", &st, 0), "through-the-tunnel\n");
	CHECK(st == 0);

	/* A file, bound onto a new file inside. */
	snprintf(file, sizeof(file), "%s/%s-file", lxcpath, name);
	test_write_file(file, "one-file\n", 0644);
	CHECK(c->mount(c, file, "/etc/injected", NULL, MS_BIND, NULL, NULL) == 0);
	CHECK_STR(test_attach_output(c, "cat /etc/injected", &st, 0), "one-file\n");
	CHECK(c->umount(c, "/etc/injected", MNT_DETACH, NULL) == 0);

	CHECK(c->stop(c));
	CHECK(test_sh("umount %s && umount %s", tun, shm) == 0);
	CHECK(rmdir(shm) == 0); /* tun was on shm */
	CHECK(unlink(file) == 0);
	CHECK(c->clear_config_item(c, "lxc.mount.auto"));
	test_finish_container(c, name);
}

/* The number of seccomp filters of `pid` (Seccomp_filters:), -1 unknown. */
static int seccomp_filters(pid_t pid)
{
	char path[64], *p;
	const char *status;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	status = test_read_file(path);
	p = strstr(status, "Seccomp_filters:");
	return p ? atoi(p + 16) : -1;
}

/* Starts `c` from a child confined by an allow-all seccomp filter, as a
 * nested LXC would be; init's filter count. */
static int start_confined(struct lxc_container *c)
{
	struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_fprog prog = {.len = 1, .filter = allow};
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
			_exit(2);
		_exit(c->start(c, 0, NULL) ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		CHECK(0);
		return -1;
	}
	return seccomp_filters(c->init_pid(c));
}

static void test_seccomp_nesting(void)
{
	char name[64], policy[4200];
	struct lxc_container *c;

	snprintf(name, sizeof(name), "sn%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return;
	snprintf(policy, sizeof(policy), "%s/%s.seccomp", lxcpath, name);
	test_write_file(policy, "2\ndenylist\n[all]\nkexec_load errno 1\n", 0644);
	CHECK(c->set_config_item(c, "lxc.seccomp.profile", policy));
	/* Already confined: without allow_nesting the policy is not loaded. */
	CHECK(start_confined(c) == 1);
	CHECK(c->stop(c));
	test_oracle_cleanup(name);
	CHECK(c->set_config_item(c, "lxc.seccomp.allow_nesting", "1"));
	CHECK(start_confined(c) >= 2);
	CHECK(c->stop(c));
	test_oracle_cleanup(name);
	CHECK(unlink(policy) == 0);
	test_finish_container(c, name);
}

/* pidfd: init_pidfd is a pidfd of init that signals it. */
static void test_pidfd(void)
{
	char name[64], path[64], want[64], entry[4200];
	struct lxc_container *c;
	int fd;

	snprintf(name, sizeof(name), "pf%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return;
	/* An idmapped entry needs a user namespace other than the host's. */
	snprintf(entry, sizeof(entry), "%s mnt/idm none bind,create=dir,idmap=container 0 0", lxcpath);
	CHECK(c->set_config_item(c, "lxc.mount.entry", entry));
	CHECK(!c->start(c, 0, NULL));
	fprintf(stderr, "idmapped entry without lxc.idmap: %s\n", c->error_string ? c->error_string : "");
	CHECK_ERRSTR(c, "the user namespace is the host's own");
	CHECK(test_leftover_cgroups(name, 1) == 0);
	test_oracle_cleanup(name);
	CHECK(c->clear_config_item(c, "lxc.mount.entry"));

	CHECK(c->start(c, 0, NULL));
	fd = c->init_pidfd(c);
	CHECK(fd >= 0);
	if (fd >= 0) {
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		snprintf(want, sizeof(want), "\nPid:\t%d\n", (int)c->init_pid(c));
		CHECK(strstr(test_read_file(path), want) != NULL);
		CHECK(syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0);
		close(fd);
	}
	CHECK(c->stop(c));
	test_finish_container(c, name);
}

/* The network extensions no other test covers. */
static void test_network(void)
{
	char name[64], veth[32], vethx[48], key[80];
	struct lxc_container *c;
	int st;

	snprintf(name, sizeof(name), "nw%d", (int)getpid());
	snprintf(veth, sizeof(veth), "lxp%d", (int)getpid() % 100000);
	snprintf(vethx, sizeof(vethx), "%sx", veth);
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return;
	CHECK(test_add_veth(veth, "", 1));

	/* network_gateway_device_route: a default route through the device
	 * (a routed veth, as LXD's routed NIC). Not named eth0 here, nor below:
	 * the template's udhcpc would deconfigure eth0 (and its routes) at boot. */
	CHECK(c->set_config_item(c, "lxc.net.0.type", "veth"));
	CHECK(c->set_config_item(c, "lxc.net.0.veth.mode", "router"));
	CHECK(c->set_config_item(c, "lxc.net.0.name", "rt0"));
	CHECK(c->set_config_item(c, "lxc.net.0.flags", "up"));
	CHECK(c->set_config_item(c, "lxc.net.0.ipv4.address", "192.0.2.10/32"));
	CHECK(c->set_config_item(c, "lxc.net.0.ipv4.gateway", "dev"));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "gateway dev: %s\n", c->error_string ? c->error_string : "");
		CHECK(0);
	} else {
		const char *routes = test_attach_output(c, "ip route", &st, 0);

		if (!strstr(routes, "default dev rt0")) {
			fprintf(stderr, "routes (status %d): %s\n", st, routes);
			CHECK(0);
		}
		CHECK(c->stop(c));
	}
	CHECK(c->clear_config_item(c, "lxc.net.0"));
	test_oracle_cleanup(name);

	/* network_phys_macvlan_mtu: a macvlan with its own MTU. */
	CHECK(c->set_config_item(c, "lxc.net.0.type", "macvlan"));
	CHECK(c->set_config_item(c, "lxc.net.0.macvlan.mode", "bridge"));
	CHECK(c->set_config_item(c, "lxc.net.0.link", veth));
	CHECK(c->set_config_item(c, "lxc.net.0.name", "mv0"));
	CHECK(c->set_config_item(c, "lxc.net.0.mtu", "1400"));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "macvlan: %s\n", c->error_string ? c->error_string : "");
		CHECK(0);
	} else {
		CHECK_STR(test_attach_output(c, "cat /sys/class/net/mv0/mtu", &st, 0), "1400\n");
		CHECK(c->stop(c));
	}
	CHECK(c->clear_config_item(c, "lxc.net.0"));
	test_oracle_cleanup(name);

	/* network_ipvlan: advertised as LXC does (what it was built with); a
	 * kernel without ipvlan fails the start with the cause. */
	CHECK(c->set_config_item(c, "lxc.net.0.type", "ipvlan"));
	CHECK(c->set_config_item(c, "lxc.net.0.link", veth));
	CHECK(c->set_config_item(c, "lxc.net.0.ipvlan.mode", "l3"));
	if (test_sh("ip link add lxpiv%d link %s type ipvlan mode l3 2>/dev/null", (int)getpid() % 100000,
		    veth) == 0) {
		/* This kernel has ipvlan: the container gets one. */
		snprintf(key, sizeof(key), "lxpiv%d", (int)getpid() % 100000);
		test_sh("ip link del %s", key);
		CHECK(c->start(c, 0, NULL));
		CHECK(c->stop(c));
	} else {
		CHECK(!c->start(c, 0, NULL));
		fprintf(stderr, "ipvlan without kernel support: %s\n", c->error_string ? c->error_string : "");
		CHECK_ERRSTR(c, "no ipvlan support");
		CHECK_STR(c->state(c), "STOPPED");
	}
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(c->clear_config_item(c, "lxc.net.0"));
	test_oracle_cleanup(name);

	/* A VLAN the same way (no extension name: always there). */
	CHECK(c->set_config_item(c, "lxc.net.0.type", "vlan"));
	CHECK(c->set_config_item(c, "lxc.net.0.link", veth));
	CHECK(c->set_config_item(c, "lxc.net.0.vlan.id", "10"));
	snprintf(key, sizeof(key), "%s.10", veth);
	if (test_sh("ip link add %s link %s type vlan id 10 2>/dev/null", key, veth) == 0) {
		test_sh("ip link del %s", key);
		CHECK(c->start(c, 0, NULL));
		CHECK(c->stop(c));
	} else {
		CHECK(!c->start(c, 0, NULL));
		fprintf(stderr, "vlan without kernel support: %s\n", c->error_string ? c->error_string : "");
		CHECK_ERRSTR(c, "no vlan support");
		CHECK_STR(c->state(c), "STOPPED");
	}
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(c->clear_config_item(c, "lxc.net.0"));
	test_oracle_cleanup(name);

	CHECK(test_sh("ip link del %s", veth) == 0);
	CHECK(test_sh("ip link show %s >/dev/null 2>&1", vethx) != 0);
	test_finish_container(c, name);
}

int main(int argc, char **argv)
{
	lxcpath = test_lxcpath(argc, argv);
	test_extensions();
	test_save_config_and_eacces();
	test_failed_start_hooks();
	test_cgroup_placement();
	test_mount_injection();
	test_seccomp_nesting();
	test_pidfd();
	test_network();
	return check_result("t_lxd_prereqs");
}
