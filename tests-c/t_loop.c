/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The loop backing store: create -B loop (bdev_specs fstype/fssize) makes
 * <dir>/rootdev with a filesystem, the template fills it, the container
 * starts on it; a clone in the same lxcpath is a new image with a copy, a
 * clone into another lxcpath and a snapshot are dir copies (as LXC), the
 * restore goes back into an image; no loop device stays attached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static int exists(const char *lxcpath, const char *rel)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", lxcpath, rel);
	return lstat(p, &st) == 0;
}

static int in_config(const char *lxcpath, const char *name, const char *text)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s/config", lxcpath, name);
	return strstr(test_read_file(p), text) != NULL;
}

/* Loop devices backed by files under lxcpath. */
static int attached(const char *lxcpath)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "losetup -a | grep -q '%s'", lxcpath);
	return system(cmd) == 0;
}

static int run(struct lxc_container *c, const char *script)
{
	const char *argv[] = {"sh", "-c", script, NULL};

	return c->attach_run_wait(c, NULL, "sh", argv);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	char other[512], want[1024];
	struct bdev_specs specs;
	struct lxc_container *c, *k;
	struct stat st;

	if (system("command -v mkfs.ext4 >/dev/null && test -e /dev/loop-control") != 0) {
		fprintf(stderr, "t_loop: skipped (no mkfs.ext4 or loop devices)\n");
		return 0;
	}
	snprintf(other, sizeof(other), "%s.other", lxcpath);
	memset(&specs, 0, sizeof(specs));
	specs.fstype = "ext4";
	specs.fssize = 256 << 20;
	c = lxc_container_new("l1", lxcpath);
	CHECK(c != NULL);
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	if (!c->create(c, "busybox", "loop", &specs, LXC_CREATE_QUIET, NULL)) {
		fprintf(stderr, "create -B loop: %s\n", c->error_string);
		CHECK(0);
		return check_result("t_loop");
	}
	snprintf(want, sizeof(want), "lxc.rootfs.path = loop:%s/l1/rootdev\n", lxcpath);
	CHECK(in_config(lxcpath, "l1", want));
	snprintf(want, sizeof(want), "%s/l1/rootdev", lxcpath);
	CHECK(stat(want, &st) == 0 && st.st_size == (256 << 20) + 1);
	CHECK(!exists(lxcpath, "l1/rootfs/bin")); /* only inside mounts */
	CHECK(!attached(lxcpath));
	CHECK(c->start(c, 0, NULL));
	CHECK(run(c, "test -x /bin/busybox && echo hi > /written") == 0);
	CHECK(c->stop(c));
	CHECK(!attached(lxcpath));

	/* Same lxcpath: a new image of the same size with a copy. */
	k = c->clone(c, "l2", NULL, 0, NULL, NULL, 0, NULL);
	CHECK(k != NULL);
	if (k) {
		snprintf(want, sizeof(want), "lxc.rootfs.path = loop:%s/l2/rootdev\n", lxcpath);
		CHECK(in_config(lxcpath, "l2", want));
		CHECK(k->start(k, 0, NULL));
		CHECK(run(k, "test \"$(cat /written)\" = hi") == 0);
		CHECK(k->stop(k));
		CHECK(k->destroy(k));
		CHECK(!exists(lxcpath, "l2"));
		lxc_container_put(k);
	}
	/* Another lxcpath: a dir copy. */
	k = c->clone(c, "d1", other, 0, NULL, NULL, 0, NULL);
	CHECK(k != NULL);
	if (k) {
		CHECK(exists(other, "d1/rootfs/written"));
		CHECK(k->destroy(k));
		lxc_container_put(k);
	}
	rmdir(other);

	/* Snapshot (a dir copy, as LXC), restore back into an image. */
	CHECK(c->snapshot(c, NULL) == 0);
	CHECK(exists(lxcpath, "l1/snaps/snap0/rootfs/written"));
	CHECK(c->start(c, 0, NULL));
	CHECK(run(c, "rm /written") == 0);
	CHECK(c->stop(c));
	CHECK(c->snapshot_restore(c, "snap0", NULL));
	snprintf(want, sizeof(want), "lxc.rootfs.path = loop:%s/l1/rootdev\n", lxcpath);
	CHECK(in_config(lxcpath, "l1", want));
	CHECK(c->start(c, 0, NULL));
	CHECK(run(c, "test \"$(cat /written)\" = hi") == 0);
	CHECK(c->stop(c));

	CHECK(c->destroy_with_snapshots(c));
	CHECK(!exists(lxcpath, "l1"));
	CHECK(!attached(lxcpath));
	lxc_container_put(c);
	return check_result("t_loop");
}
