/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* clone and snapshots on real busybox containers: copy clones (contents,
 * owners, modes, symlinks, hard links, a device node, an xattr, holes),
 * KEEPNAME / KEEPMACADDR, overlay snapshot clones (they start, writes land
 * in the delta, the source stays untouched, the dependency files), clones
 * into another lxcpath, the clone hook, refusals and cleanup; snapshot,
 * snapshot_list, snapshot_restore (in place and to a new name),
 * snapshot_destroy, snapshot_destroy_all, destroy_with_snapshots. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static const char *P;
static char P2[512];

static void path_of(char *buf, size_t len, const char *lxcpath, const char *name, const char *rel)
{
	snprintf(buf, len, "%s/%s/%s", lxcpath, name, rel);
}

static int exists(const char *lxcpath, const char *name, const char *rel)
{
	char p[1024];
	struct stat st;

	path_of(p, sizeof(p), lxcpath, name, rel);
	return lstat(p, &st) == 0;
}

/* The whole content of lxcpath/name/rel (static buffer), "" when missing. */
static const char *slurp(const char *lxcpath, const char *name, const char *rel)
{
	char p[1024];

	path_of(p, sizeof(p), lxcpath, name, rel);
	return test_read_file(p);
}

static int in_config(const char *lxcpath, const char *name, const char *line)
{
	return strstr(slurp(lxcpath, name, "config"), line) != NULL;
}

static int run_in(struct lxc_container *c, const char *script)
{
	const char *argv[] = {"sh", "-c", script, NULL};

	return c->attach_run_wait(c, NULL, "sh", argv);
}

static struct lxc_container *make_base(void)
{
	struct lxc_container *c = lxc_container_new("base", P);
	char p[1024];

	CHECK(c != NULL);
	if (!c)
		return NULL;
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	CHECK(c->set_config_item(c, "lxc.net.0.hwaddr", "00:16:3e:12:34:56"));
	if (!c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL)) {
		fprintf(stderr, "create failed: %s\n", c->error_string ? c->error_string : "");
		CHECK(0);
		lxc_container_put(c);
		return NULL;
	}
	/* Contents to check in copies. */
	path_of(p, sizeof(p), P, "base", "rootfs/data");
	CHECK(mkdir(p, 0750) == 0);
	path_of(p, sizeof(p), P, "base", "rootfs/data/file");
	test_write_file(p, "hello\n", 0640);
	CHECK(chown(p, 1234, 5678) == 0);
	if (setxattr(p, "user.lxctest", "xv", 2, 0) != 0)
		fprintf(stderr, "note: user xattrs not supported here (%s)\n", strerror(errno));
	path_of(p, sizeof(p), P, "base", "rootfs/data/hard");
	{
		char from[1024];

		path_of(from, sizeof(from), P, "base", "rootfs/data/file");
		CHECK(link(from, p) == 0);
	}
	path_of(p, sizeof(p), P, "base", "rootfs/data/link");
	CHECK(symlink("file", p) == 0);
	path_of(p, sizeof(p), P, "base", "rootfs/data/null2");
	CHECK(mknod(p, S_IFCHR | 0620, makedev(1, 3)) == 0);
	CHECK(chmod(p, 0620) == 0);
	path_of(p, sizeof(p), P, "base", "rootfs/data/sparse");
	{
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		CHECK(fd >= 0);
		CHECK(ftruncate(fd, 32 << 20) == 0);
		CHECK(pwrite(fd, "end", 3, (32 << 20) - 3) == 3);
		close(fd);
	}
	path_of(p, sizeof(p), P, "base", "rootfs/etc/hostname");
	test_write_file(p, "base", 0644);
	return c;
}

static void check_copy(const char *lxcpath, const char *name)
{
	char p[1024], q[1024];
	struct stat st, st2;
	char v[8] = {0};

	path_of(p, sizeof(p), lxcpath, name, "rootfs/data/file");
	CHECK(lstat(p, &st) == 0);
	CHECK((st.st_mode & 07777) == 0640);
	CHECK(st.st_uid == 1234 && st.st_gid == 5678);
	CHECK(st.st_nlink == 2);
	CHECK_STR(slurp(lxcpath, name, "rootfs/data/file"), "hello\n");
	path_of(q, sizeof(q), lxcpath, name, "rootfs/data/hard");
	CHECK(lstat(q, &st2) == 0 && st2.st_ino == st.st_ino);
	if (getxattr(p, "user.lxctest", v, sizeof(v)) >= 0)
		CHECK_STR(v, "xv");
	path_of(p, sizeof(p), lxcpath, name, "rootfs/data/link");
	CHECK(readlink(p, v, sizeof(v) - 1) == 4);
	path_of(p, sizeof(p), lxcpath, name, "rootfs/data/null2");
	CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	CHECK((st.st_mode & 07777) == 0620);
	path_of(p, sizeof(p), lxcpath, name, "rootfs/data/sparse");
	CHECK(lstat(p, &st) == 0 && st.st_size == 32 << 20);
	CHECK(st.st_blocks < 2048); /* the hole stayed a hole */
	path_of(p, sizeof(p), lxcpath, name, "rootfs/bin/busybox");
	CHECK(lstat(p, &st) == 0 && (st.st_mode & 0111));
}

static void test_copy_clone(struct lxc_container *base)
{
	struct lxc_container *c;
	char want[1024];

	c = base->clone(base, "copy", NULL, 0, NULL, NULL, 0, NULL);
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "clone failed: %s\n", base->error_string);
		return;
	}
	CHECK_STR(c->name, "copy");
	CHECK_STR(c->config_path, P);
	CHECK(c->is_defined(c));
	CHECK(!exists(P, "copy", "partial"));
	snprintf(want, sizeof(want), "lxc.rootfs.path = dir:%s/copy/rootfs\n", P);
	CHECK(in_config(P, "copy", want));
	CHECK(in_config(P, "copy", "lxc.uts.name = copy\n"));
	CHECK(!in_config(P, "copy", "00:16:3e:12:34:56"));
	CHECK(in_config(P, "copy", "lxc.net.0.hwaddr = 10:66:6a:"));
	CHECK_STR(slurp(P, "copy", "rootfs/etc/hostname"), "copy");
	CHECK_STR(slurp(P, "base", "rootfs/etc/hostname"), "base");
	check_copy(P, "copy");
	/* The copy starts and sees its files. */
	CHECK(c->start(c, 0, NULL));
	CHECK(c->is_running(c));
	CHECK(run_in(c, "test \"$(cat /data/file)\" = hello && test \"$(hostname)\" = copy") == 0);
	CHECK(c->stop(c));
	CHECK(c->destroy(c));
	lxc_container_put(c);

	/* KEEPNAME | KEEPMACADDR */
	c = base->clone(base, "keep", NULL, LXC_CLONE_KEEPNAME | LXC_CLONE_KEEPMACADDR, NULL, NULL, 0, NULL);
	CHECK(c != NULL);
	if (c) {
		CHECK(in_config(P, "keep", "lxc.net.0.hwaddr = 00:16:3e:12:34:56"));
		CHECK(!in_config(P, "keep", "lxc.uts.name = keep"));
		CHECK(in_config(P, "keep", "lxc.uts.name = \"base\""));
		CHECK_STR(slurp(P, "keep", "rootfs/etc/hostname"), "base");
		CHECK(c->destroy(c));
		lxc_container_put(c);
	}

	/* Into another lxcpath. */
	c = base->clone(base, "far", P2, 0, NULL, NULL, 0, NULL);
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(c->config_path, P2);
		snprintf(want, sizeof(want), "lxc.rootfs.path = dir:%s/far/rootfs\n", P2);
		CHECK(in_config(P2, "far", want));
		check_copy(P2, "far");
		CHECK(c->destroy(c));
		lxc_container_put(c);
	}
	/* Same name, other lxcpath. */
	c = base->clone(base, NULL, P2, 0, NULL, NULL, 0, NULL);
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(c->name, "base");
		CHECK(c->destroy(c));
		lxc_container_put(c);
	}

	/* Refusals leave nothing behind. */
	CHECK(base->clone(base, "base", NULL, 0, NULL, NULL, 0, NULL) == NULL);
	CHECK(base->clone(base, "bad", NULL, 0, "lvm", NULL, 0, NULL) == NULL);
	CHECK(!exists(P, "bad", ""));
	CHECK(base->clone(base, "bad", NULL, LXC_CLONE_SNAPSHOT, "dir", NULL, 0, NULL) == NULL);
	CHECK(!exists(P, "bad", ""));
	CHECK(base->clone(base, "../x", NULL, 0, NULL, NULL, 0, NULL) == NULL);
}

static void test_running_refused(struct lxc_container *base)
{
	struct lxc_container *c;

	CHECK(base->start(base, 0, NULL));
	c = base->clone(base, "hot", NULL, 0, NULL, NULL, 0, NULL);
	CHECK(c == NULL);
	CHECK(base->error_num == EBUSY);
	CHECK(!exists(P, "hot", ""));
	/* LXC_CLONE_ALLOW_RUNNING copies the running container. */
	c = base->clone(base, "hot", NULL, LXC_CLONE_ALLOW_RUNNING, NULL, NULL, 0, NULL);
	CHECK(c != NULL);
	if (c) {
		CHECK(exists(P, "hot", "rootfs/bin/busybox"));
		CHECK(c->destroy(c));
		lxc_container_put(c);
	}
	CHECK(base->stop(base));
}

static void test_hook(struct lxc_container *base)
{
	struct lxc_container *c;
	char p[1024], hook[1100], want[1200];
	char *args[] = {"a1", "a2", NULL};

	path_of(p, sizeof(p), P, "base", "clonehook.sh");
	test_write_file(p, "#!/bin/sh\necho \"$1 $2 $3 $4 $5 $LXC_NAME $LXC_SRC_NAME $LXC_ROOTFS_PATH\" > \"$LXC_ROOTFS_MOUNT/hookout\"\n", 0755);
	snprintf(hook, sizeof(hook), "%s", p);
	CHECK(base->set_config_item(base, "lxc.hook.clone", hook));
	CHECK(base->save_config(base, NULL));
	c = base->clone(base, "hooked", NULL, 0, NULL, NULL, 0, args);
	CHECK(c != NULL);
	if (c) {
		snprintf(want, sizeof(want), "hooked lxc clone a1 a2 hooked base dir:%s/hooked/rootfs\n", P);
		CHECK_STR(slurp(P, "hooked", "rootfs/hookout"), want);
		/* The hook script in the source's directory was copied. */
		snprintf(want, sizeof(want), "lxc.hook.clone = %s/hooked/clonehook.sh", P);
		CHECK(in_config(P, "hooked", want));
		CHECK(exists(P, "hooked", "clonehook.sh"));
		CHECK(c->destroy(c));
		lxc_container_put(c);
	}
	/* A failing hook fails the clone, which is undone. */
	path_of(p, sizeof(p), P, "base", "clonehook.sh");
	test_write_file(p, "#!/bin/sh\nexit 3\n", 0755);
	CHECK(base->clone(base, "hookfail", NULL, 0, NULL, NULL, 0, NULL) == NULL);
	CHECK(!exists(P, "hookfail", ""));
	CHECK(base->clear_config_item(base, "lxc.hook.clone"));
	CHECK(base->save_config(base, NULL));
}

static void test_overlay(struct lxc_container *base)
{
	struct lxc_container *c;
	char want[1024];
	struct lxc_snapshot *snaps = NULL;
	int n;

	c = base->clone(base, "ovl", NULL, LXC_CLONE_SNAPSHOT, NULL, NULL, 0, NULL);
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "overlay clone failed: %s\n", base->error_string);
		return;
	}
	snprintf(want, sizeof(want), "lxc.rootfs.path = overlay:%s/base/rootfs:%s/ovl/overlay/delta\n", P, P);
	CHECK(in_config(P, "ovl", want));
	snprintf(want, sizeof(want), "%s\novl\n", P);
	CHECK_STR(slurp(P, "base", "lxc_snapshots"), want);
	snprintf(want, sizeof(want), "%s\nbase\n", P);
	CHECK_STR(slurp(P, "ovl", "lxc_rdepends"), want);
	CHECK(exists(P, "ovl", "rootfs"));
	CHECK(exists(P, "ovl", "overlay/work"));
	/* The hostname went into the upper layer; the lower is untouched. */
	CHECK_STR(slurp(P, "ovl", "overlay/delta/etc/hostname"), "ovl");
	CHECK_STR(slurp(P, "base", "rootfs/etc/hostname"), "base");
	/* The source cannot go while an overlay clone depends on it. */
	CHECK(!base->destroy(base));
	CHECK(base->error_num == EBUSY);
	CHECK(base->is_defined(base));

	CHECK(c->start(c, 0, NULL));
	CHECK(c->is_running(c));
	CHECK(run_in(c, "test \"$(cat /data/file)\" = hello && echo new > /newfile && rm /data/hard") == 0);
	CHECK(c->stop(c));
	CHECK_STR(slurp(P, "ovl", "overlay/delta/newfile"), "new\n");
	CHECK(!exists(P, "base", "rootfs/newfile"));
	CHECK(exists(P, "base", "rootfs/data/hard"));
	CHECK(!exists(P, "ovl", "rootfs/newfile")); /* mounted only inside */

	/* A copy of the overlay clone elsewhere is a dir with its merged view. */
	{
		struct lxc_container *k = c->clone(c, "flat", P2, 0, NULL, NULL, 0, NULL);

		CHECK(k != NULL);
		if (k) {
			CHECK_STR(slurp(P2, "flat", "rootfs/newfile"), "new\n");
			CHECK(!exists(P2, "flat", "rootfs/data/hard"));
			CHECK_STR(slurp(P2, "flat", "rootfs/data/file"), "hello\n");
			snprintf(want, sizeof(want), "lxc.rootfs.path = dir:%s/flat/rootfs\n", P2);
			CHECK(in_config(P2, "flat", want));
			CHECK(!exists(P2, "flat", "lxc_rdepends"));
			CHECK(k->destroy(k));
			lxc_container_put(k);
		}
		snprintf(want, sizeof(want), "%s\novl\n", P);
		CHECK_STR(slurp(P, "base", "lxc_snapshots"), want);
	}

	/* A snapshot of the overlay clone is an overlay snapshot. */
	CHECK(c->snapshot(c, NULL) == 0);
	snprintf(want, sizeof(want), "lxc.rootfs.path = overlay:%s/base/rootfs:%s/ovl/snaps/snap0/overlay/delta\n", P, P);
	CHECK(in_config(P, "ovl/snaps/snap0", want));
	CHECK_STR(slurp(P, "ovl", "snaps/snap0/overlay/delta/newfile"), "new\n");
	snprintf(want, sizeof(want), "%s\novl\n%s/ovl/snaps\nsnap0\n", P, P);
	CHECK_STR(slurp(P, "base", "lxc_snapshots"), want);
	n = c->snapshot_list(c, &snaps);
	CHECK(n == 1);
	if (n == 1) {
		CHECK_STR(snaps[0].name, "snap0");
		snaps[0].free(&snaps[0]);
		free(snaps);
	}
	/* Restore in place: the delta goes back to the snapshot's. */
	{
		char p[1024];

		path_of(p, sizeof(p), P, "ovl", "overlay/delta/later");
		test_write_file(p, "x", 0644);
	}
	CHECK(c->snapshot_restore(c, "snap0", NULL));
	CHECK(!exists(P, "ovl", "overlay/delta/later"));
	CHECK_STR(slurp(P, "ovl", "overlay/delta/newfile"), "new\n");
	CHECK(exists(P, "ovl", "snaps/snap0/config"));
	CHECK(c->start(c, 0, NULL));
	CHECK(run_in(c, "test \"$(cat /newfile)\" = new") == 0);
	CHECK(c->stop(c));

	CHECK(c->destroy_with_snapshots(c));
	CHECK(!exists(P, "ovl", ""));
	CHECK(!exists(P, "base", "lxc_snapshots"));
	lxc_container_put(c);
}

static int valid_ts(const char *ts)
{
	int y, mo, d, h, mi, s;
	char extra;

	return ts && strlen(ts) == 19 &&
	       sscanf(ts, "%4d:%2d:%2d %2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &extra) == 6;
}

static void test_snapshots(struct lxc_container *base)
{
	struct lxc_snapshot *snaps = NULL;
	struct lxc_container *r;
	char comment[1024], want[1024], p[1024];
	int n, i;

	snprintf(comment, sizeof(comment), "%s/comment.txt", P);
	test_write_file(comment, "first snapshot\n", 0644);
	CHECK(base->snapshot(base, comment) == 0);
	CHECK(base->snapshot(base, NULL) == 1);
	CHECK(exists(P, "base", "snaps/snap0/rootfs/bin/busybox"));
	CHECK_STR(slurp(P, "base", "snaps/snap0/comment"), "first snapshot\n");
	CHECK(!exists(P, "base", "snaps/snap1/comment"));
	CHECK(valid_ts(slurp(P, "base", "snaps/snap0/ts")));
	/* A dir snapshot is a copy that keeps the name and the address. */
	snprintf(want, sizeof(want), "lxc.rootfs.path = dir:%s/base/snaps/snap1/rootfs\n", P);
	CHECK(in_config(P, "base/snaps/snap1", want));
	CHECK(strstr(slurp(P, "base", "snaps/snap1/config"), "00:16:3e:12:34:56") != NULL);
	CHECK(in_config(P, "base/snaps/snap1", "lxc.uts.name = \"base\""));
	CHECK_STR(slurp(P, "base", "snaps/snap1/rootfs/etc/hostname"), "base");
	check_copy(P, "base/snaps/snap0");

	n = base->snapshot_list(base, &snaps);
	CHECK(n == 2);
	for (i = 0; i < n; i++) {
		char nm[16];

		snprintf(nm, sizeof(nm), "snap%d", i);
		CHECK_STR(snaps[i].name, nm);
		snprintf(want, sizeof(want), "%s/base/snaps", P);
		CHECK_STR(snaps[i].lxcpath, want);
		snprintf(want, sizeof(want), "%s/base/snaps/%s/comment", P, nm);
		CHECK_STR(snaps[i].comment_pathname, want);
		CHECK(valid_ts(snaps[i].timestamp));
		CHECK(snaps[i].free != NULL);
		snaps[i].free(&snaps[i]);
	}
	free(snaps);

	/* The container cannot be destroyed or renamed with snapshots. */
	CHECK(!base->destroy(base));
	CHECK(base->is_defined(base));

	/* Restore in place. */
	path_of(p, sizeof(p), P, "base", "rootfs/data/after");
	test_write_file(p, "after", 0644);
	CHECK(base->snapshot_restore(base, "snap0", NULL));
	CHECK(!exists(P, "base", "rootfs/data/after"));
	CHECK(exists(P, "base", "snaps/snap1/config"));
	CHECK(in_config(P, "base", "lxc.uts.name = base\n"));
	check_copy(P, "base");
	CHECK(base->start(base, 0, NULL));
	CHECK(run_in(base, "test \"$(cat /data/file)\" = hello") == 0);
	CHECK(base->stop(base));

	/* Restore to a new name. */
	CHECK(base->snapshot_restore(base, "snap1", "restored"));
	r = lxc_container_new("restored", P);
	CHECK(r && r->is_defined(r));
	if (r) {
		snprintf(want, sizeof(want), "lxc.rootfs.path = dir:%s/restored/rootfs\n", P);
		CHECK(in_config(P, "restored", want));
		CHECK(in_config(P, "restored", "lxc.uts.name = restored\n"));
		check_copy(P, "restored");
		CHECK(r->destroy(r));
		lxc_container_put(r);
	}
	CHECK(!base->snapshot_restore(base, "snap9", "nope"));
	CHECK(!exists(P, "nope", ""));

	CHECK(base->snapshot_destroy(base, "snap1"));
	CHECK(!exists(P, "base", "snaps/snap1"));
	CHECK(!base->snapshot_destroy(base, "snap1"));
	n = base->snapshot_list(base, &snaps);
	CHECK(n == 1);
	for (i = 0; i < n; i++)
		snaps[i].free(&snaps[i]);
	free(snaps);
	CHECK(base->snapshot(base, NULL) == 1);
	CHECK(base->snapshot_destroy_all(base));
	CHECK(!exists(P, "base", "snaps"));
	snaps = (void *)1;
	CHECK(base->snapshot_list(base, &snaps) == 0);

	CHECK(base->snapshot(base, NULL) == 0);
	CHECK(base->destroy_with_snapshots(base));
	CHECK(!base->is_defined(base));
	CHECK(!exists(P, "base", ""));
}

int main(int argc, char **argv)
{
	struct lxc_container *base;

	P = test_lxcpath(argc, argv);
	snprintf(P2, sizeof(P2), "%s.other", P);
	base = make_base();
	if (!base)
		return check_result("t_clone");
	test_copy_clone(base);
	test_running_refused(base);
	test_hook(base);
	test_overlay(base);
	test_snapshots(base);
	lxc_container_put(base);
	rmdir(P2);
	return check_result("t_clone");
}
