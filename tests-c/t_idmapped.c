/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lxc.rootfs.options = idmap=container: a busybox rootfs created by root
 * (owned by host uid 0, never chowned) started in a user namespace
 * (lxc.idmap = u/g 0 100000 65536) through an idmapped mount. Inside, the
 * rootfs belongs to root; what root creates inside lands on the host as
 * uid 0 (the idmapped mount maps container ids back to the filesystem's),
 * container uid 1000 as host uid 1000; files of unmapped host ids and a
 * plain (not idmapped) bind of a host directory stay out of reach. Then
 * "ro" in the same options, and the refusals: a path that is not a user
 * namespace, and a rootfs on ramfs (no idmapped mounts there), each with a
 * precise error_string and nothing left behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char name[64];

static char *inside(struct lxc_container *c, const char *cmd)
{
	return test_inside_logged(c, cmd);
}

/* Host mounts whose line mentions `needle` (the detached idmapped tree
 * must never end up attached on the host). */
static int host_mounts_of(const char *needle)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

static uid_t host_uid(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_uid : (uid_t)-1;
}

/* A start that must fail with `errnum` and an error naming `word`,
 * leaving the container stopped with no cgroup. */
static void refused(struct lxc_container *c, int errnum, const char *word)
{
	if (c->start(c, 0, NULL)) {
		CHECK(0);
		c->stop(c);
		return;
	}
	fprintf(stderr, "expected refusal: %d %s\n", c->error_num, c->error_string ? c->error_string : "");
	CHECK_ERRNUM(c, errnum);
	CHECK_ERRSTR(c, word);
	CHECK_STR(c->state(c), "STOPPED");
	CHECK(test_leftover_cgroups(name, 1) == 0);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	char rootfs[2048], path[4096], hostdir[2048], entry[4096], ramroot[2048];
	struct lxc_container *c;
	FILE *f;

	snprintf(name, sizeof(name), "im%d", (int)getpid());
	test_oracle_root_subids(100000, 65536);
	/* Created without lxc.idmap: the template runs as root, nothing is
	 * chowned. */
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return check_result("t_idmapped");
	snprintf(rootfs, sizeof(rootfs), "%s/%s/rootfs", lxcpath, name);
	snprintf(path, sizeof(path), "%s/bin/busybox", rootfs);
	CHECK(host_uid(path) == 0);
	/* A file of a host id outside the container's map. */
	snprintf(path, sizeof(path), "%s/unmapped", rootfs);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK(chown(path, 70000, 70000) == 0 && chmod(path, 0666) == 0);
	/* A host directory bound in plainly (not idmapped); outside the
	 * lxcpath, which the container's root cannot traverse (0700): the
	 * idmapped rootfs does not need it to. */
	snprintf(hostdir, sizeof(hostdir), "/tmp/lxc-idmapped-host.%d", (int)getpid());
	CHECK(mkdir(hostdir, 0777) == 0 || errno == EEXIST);
	CHECK(chmod(hostdir, 0755) == 0);
	snprintf(entry, sizeof(entry), "%s mnt/host none bind,create=dir 0 0", hostdir);
	CHECK(c->set_config_item(c, "lxc.mount.entry", entry));

	CHECK(c->set_config_item(c, "lxc.idmap", "u 0 100000 65536"));
	CHECK(c->set_config_item(c, "lxc.idmap", "g 0 100000 65536"));
	CHECK(c->set_config_item(c, "lxc.rootfs.options", "idmap=container"));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start failed: %d %s\n", c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
	}
	CHECK(c->wait(c, "RUNNING", 10));
	CHECK_STR(inside(c, "id -u"), "0\n");
	CHECK_STR(inside(c, "cat /proc/self/uid_map | tr -s ' '"), " 0 100000 65536\n");
	/* The root-owned rootfs is the container root's. */
	CHECK_STR(inside(c, "stat -c %u:%g /bin/busybox"), "0:0\n");
	CHECK_STR(inside(c, "grep -c ' / .*idmapped' /proc/self/mountinfo"), "1\n");
	/* Created inside by root: host uid 0 on disk; container uid 1000:
	 * host uid 1000 (the mount maps back, no 100000 offset on disk). */
	CHECK_STR(inside(c, "echo hi > /made-inside && stat -c %u /made-inside"), "0\n");
	snprintf(path, sizeof(path), "%s/made-inside", rootfs);
	CHECK(host_uid(path) == 0);
	CHECK_STR(inside(c, "touch /by-1000 && chown 1000:1000 /by-1000 && stat -c %u /by-1000"), "1000\n");
	snprintf(path, sizeof(path), "%s/by-1000", rootfs);
	CHECK(host_uid(path) == 1000);
	/* Out of reach: an unmapped owner (shown as the overflow id), and a
	 * plain bind of a root-owned host directory. */
	CHECK_STR(inside(c, "stat -c %u /unmapped"), "65534\n");
	CHECK_STR(inside(c, "(echo x >> /unmapped) 2>/dev/null && echo wrote || echo denied"), "denied\n");
	CHECK_STR(inside(c, "stat -c %u /mnt/host"), "65534\n");
	CHECK_STR(inside(c, "touch /mnt/host/x 2>/dev/null && echo wrote || echo denied"), "denied\n");
	CHECK(c->stop(c));
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(host_mounts_of(rootfs) == 0);
	snprintf(path, sizeof(path), "%s/bin/busybox", rootfs);
	CHECK(host_uid(path) == 0);

	/* Other options apply to the idmapped mount too. */
	CHECK(c->set_config_item(c, "lxc.rootfs.options", "ro,idmap=container"));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "ro start failed: %d %s\n", c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
	} else {
		CHECK_STR(inside(c, "touch /nope 2>/dev/null && echo wrote || echo ro"), "ro\n");
		CHECK_STR(inside(c, "stat -c %u /bin/busybox"), "0\n");
		CHECK(c->stop(c));
	}

	/* Refusals. A file that is not a user namespace: */
	CHECK(c->set_config_item(c, "lxc.rootfs.options", "idmap=/proc/self/ns/net"));
	refused(c, EINVAL, "is not a user namespace");
	/* A rootfs on a filesystem without idmapped mounts (ramfs). */
	snprintf(ramroot, sizeof(ramroot), "%s/ramroot", lxcpath);
	CHECK(mkdir(ramroot, 0755) == 0);
	if (mount("none", ramroot, "ramfs", 0, "mode=0755") == 0) {
		CHECK(c->set_config_item(c, "lxc.rootfs.options", "idmap=container"));
		CHECK(c->set_config_item(c, "lxc.rootfs.path", ramroot));
		refused(c, EINVAL, "does not support idmapped mounts");
		CHECK(host_mounts_of(ramroot) == 1);
		CHECK(umount(ramroot) == 0);
		CHECK(c->set_config_item(c, "lxc.rootfs.path", rootfs));
	} else {
		perror("mount ramfs");
		CHECK(0);
	}
	CHECK(rmdir(ramroot) == 0);

	CHECK(c->destroy(c));
	CHECK(access(rootfs, F_OK) < 0 && errno == ENOENT);
	CHECK(rmdir(hostdir) == 0);
	lxc_container_put(c);
	test_oracle_cleanup(name);
	test_oracle_root_subids_end();
	return check_result("t_idmapped");
}
