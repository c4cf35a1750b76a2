/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The btrfs backing store on a btrfs filesystem the test makes (a loop
 * file inside its lxcpath, mounted there): create -B btrfs makes a
 * subvolume, the container starts, clone on the same filesystem is a
 * subvolume snapshot, snapshot/restore/destroy use snapshots, destroy
 * deletes the subvolumes, a copy clone into a dir lxcpath works. Skipped
 * (passes) without mkfs.btrfs or kernel btrfs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char mnt[512], img[512];

static int is_subvol(const char *lxcpath, const char *rel)
{
	char p[1024];
	struct stat st;
	struct statfs sf;

	snprintf(p, sizeof(p), "%s/%s", lxcpath, rel);
	return stat(p, &st) == 0 && st.st_ino == 256 && statfs(p, &sf) == 0 &&
	       sf.f_type == 0x9123683E;
}

static int exists(const char *lxcpath, const char *rel)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", lxcpath, rel);
	return lstat(p, &st) == 0;
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c, *k;
	char want[1024], buf[2048];
	FILE *f;
	size_t n;
	const char *true_argv[] = {"true", NULL};

	if (system("command -v mkfs.btrfs >/dev/null && grep -qw btrfs /proc/filesystems") != 0) {
		fprintf(stderr, "t_btrfs: skipped (no mkfs.btrfs or no btrfs in the kernel)\n");
		return 0;
	}
	snprintf(img, sizeof(img), "%s/btrfs.img", lxcpath);
	snprintf(mnt, sizeof(mnt), "%s/btrfs", lxcpath);
	CHECK(mkdir(mnt, 0755) == 0);
	CHECK(test_sh("truncate -s 512M %s && mkfs.btrfs -q %s >/dev/null", img, img) == 0);
	if (test_sh("mount -o loop %s %s", img, mnt) != 0) {
		fprintf(stderr, "t_btrfs: cannot mount a loop btrfs here\n");
		CHECK(0);
		return check_result("t_btrfs");
	}

	c = lxc_container_new("b1", mnt);
	CHECK(c != NULL);
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	CHECK(c->create(c, "busybox", "btrfs", NULL, LXC_CREATE_QUIET, NULL));
	CHECK(is_subvol(mnt, "b1/rootfs"));
	snprintf(want, sizeof(want), "btrfs:%s/b1/rootfs", mnt);
	f = fopen(c->configfile, "re");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	CHECK(strstr(buf, want) != NULL);
	CHECK(c->start(c, 0, NULL));
	CHECK(c->attach_run_wait(c, NULL, "true", true_argv) == 0);
	CHECK(c->stop(c));

	/* Same filesystem: a snapshot clone even without LXC_CLONE_SNAPSHOT. */
	k = c->clone(c, "b2", NULL, 0, NULL, NULL, 0, NULL);
	CHECK(k != NULL);
	CHECK(is_subvol(mnt, "b2/rootfs"));
	CHECK(exists(mnt, "b2/rootfs/bin/busybox"));
	if (k) {
		CHECK(k->start(k, 0, NULL));
		CHECK(k->stop(k));
		CHECK(k->destroy(k));
		CHECK(!exists(mnt, "b2"));
		lxc_container_put(k);
	}

	/* Snapshots are subvolume snapshots. */
	CHECK(c->snapshot(c, NULL) == 0);
	CHECK(is_subvol(mnt, "b1/snaps/snap0/rootfs"));
	CHECK(test_sh("touch %s/b1/rootfs/marker", mnt) == 0);
	CHECK(c->snapshot_restore(c, "snap0", NULL));
	CHECK(is_subvol(mnt, "b1/rootfs"));
	CHECK(!exists(mnt, "b1/rootfs/marker"));

	/* A copy clone into a dir lxcpath. */
	k = c->clone(c, "d1", lxcpath, 0, NULL, NULL, 0, NULL);
	CHECK(k != NULL);
	if (k) {
		CHECK(!is_subvol(lxcpath, "d1/rootfs"));
		CHECK(exists(lxcpath, "d1/rootfs/bin/busybox"));
		CHECK(k->destroy(k));
		lxc_container_put(k);
	}

	CHECK(c->destroy_with_snapshots(c));
	CHECK(!exists(mnt, "b1"));
	lxc_container_put(c);
	CHECK(test_sh("umount %s && rm -f %s", mnt, img) == 0);
	rmdir(mnt);
	return check_result("t_btrfs");
}
