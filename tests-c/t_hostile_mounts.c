/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A hostile rootfs cannot redirect the mounts of a start to the host:
 * lxc.mount.entry targets (and relative sources) are resolved inside the
 * rootfs as the container sees them, each case checked from inside
 * (attach) and from the host (/proc/<init>/root, the host's own paths):
 * - a bind on mnt/link -> /tmp/hm-data.<pid> (an absolute symlink) lands
 *   on the rootfs' /tmp/hm-data.<pid>; the host's path is not created;
 * - the same through a dangling symlink with create=dir: the directory is
 *   made inside the rootfs;
 * - a `..` target (create=dir) stops at the rootfs' root;
 * - a tmpfs on planted -> /etc covers the container's /etc, not the host's;
 * - a symlink into /proc/self/ (a magic link once proc is mounted) is
 *   refused: the start fails naming the entry;
 * - a `relative` bind source that is a symlink to /etc binds the rootfs'
 *   /etc.
 * Debian's LXC 5.0.2 (differential mode) refuses every target with a
 * symlink, makes the `..` target's directory on the host (and mounts on
 * it), and binds the host's /etc for the relative source (docs/differences.md "Where
 * we differ": mount targets). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static char name[64], rootfs[256], src[64], marker[64];
static const char *lxcpath;
/* The template's own lxc.mount.entry lines, kept in every case. */
static char template_entries[8192];

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void rootfs_path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", rootfs, rel);
}

/* The template's entries plus `entry`. */
static void set_entries(struct lxc_container *c, const char *entry)
{
	char copy[sizeof(template_entries)], *line, *save = NULL;

	CHECK(c->clear_config_item(c, "lxc.mount.entry"));
	snprintf(copy, sizeof(copy), "%s", template_entries);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		CHECK(c->set_config_item(c, "lxc.mount.entry", line));
	if (entry)
		CHECK(c->set_config_item(c, "lxc.mount.entry", entry));
}

static int start_with(struct lxc_container *c, const char *entry)
{
	set_entries(c, entry);
	if (c->start(c, 0, NULL))
		return 1;
	if (!test_oracle())
		fprintf(stderr, "start with \"%s\": %d %s\n", entry, c->error_num,
			c->error_string ? c->error_string : "");
	return 0;
}

/* `path` inside the running container, seen from the host. */
static const char *in_init_root(struct lxc_container *c, const char *path)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "/proc/%d/root%s", (int)c->init_pid(c), path);
	return buf;
}

/* The marker of the host directory `src`, read inside at `dir`. */
static void check_marker_at(struct lxc_container *c, const char *dir)
{
	char cmd[256], path[256];
	int status;

	snprintf(cmd, sizeof(cmd), "cat %s/marker", dir);
	CHECK_STR(test_attach_output(c, cmd, &status, 0), marker);
	CHECK(status == 0);
	snprintf(path, sizeof(path), "%s/marker", dir);
	CHECK_STR(test_read_file(in_init_root(c, path)), marker);
}

/* On the oracle, removes the host directory LXC made through `..`. */
static void oracle_made(const char *host_path)
{
	if (rmdir(host_path) == 0)
		fprintf(stderr, "oracle: LXC made %s on the host (removed)\n", host_path);
}

static void test_absolute_symlink(struct lxc_container *c)
{
	char data[64], inside[512], link[512], entry[256];

	snprintf(data, sizeof(data), "/tmp/hm-data.%d", (int)getpid());
	CHECK(!exists(data));
	snprintf(inside, sizeof(inside), "%s%s", rootfs, data);
	CHECK(mkdir(inside, 0755) == 0);
	rootfs_path(link, sizeof(link), "mnt/link");
	CHECK(symlink(data, link) == 0);
	snprintf(entry, sizeof(entry), "%s mnt/link none bind 0 0", src);
	if (test_oracle()) {
		/* LXC refuses any symlink in a target. */
		CHECK(!start_with(c, entry));
	} else if (start_with(c, entry)) {
		check_marker_at(c, data);
		CHECK(c->stop(c));
	} else {
		CHECK(0);
	}
	CHECK(!exists(data));
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(unlink(link) == 0 && rmdir(inside) == 0);
}

static void test_dangling_symlink(struct lxc_container *c)
{
	char made[64], inside[512], link[512], entry[256];

	snprintf(made, sizeof(made), "/hm-new.%d", (int)getpid());
	CHECK(!exists(made));
	rootfs_path(link, sizeof(link), "mnt/new");
	CHECK(symlink(made, link) == 0);
	snprintf(entry, sizeof(entry), "%s mnt/new none bind,create=dir 0 0", src);
	if (test_oracle()) {
		/* LXC refuses any symlink in a target. */
		CHECK(!start_with(c, entry));
	} else if (start_with(c, entry)) {
		check_marker_at(c, made);
		CHECK(c->stop(c));
	} else {
		CHECK(0);
	}
	CHECK(!exists(made));
	snprintf(inside, sizeof(inside), "%s%s", rootfs, made);
	CHECK(test_oracle() || rmdir(inside) == 0);
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(unlink(link) == 0);
}

static void test_dotdot(struct lxc_container *c)
{
	char up[64], inside[512], entry[256], cmd[256];
	int status;

	snprintf(up, sizeof(up), "/tmp/hm-up.%d", (int)getpid());
	CHECK(!exists(up));
	snprintf(entry, sizeof(entry), "tmpfs ../../../../../..%s tmpfs defaults,create=dir 0 0", up);
	if (start_with(c, entry)) {
		if (!test_oracle()) {
			struct statfs st;

			snprintf(cmd, sizeof(cmd), "stat -f -c %%T %s", up);
			CHECK_STR(test_attach_output(c, cmd, &status, 0), "tmpfs\n");
			CHECK(statfs(in_init_root(c, up), &st) == 0 && st.f_type == TMPFS_MAGIC);
		}
		CHECK(c->stop(c));
	} else {
		CHECK(test_oracle());
	}
	if (test_oracle())
		oracle_made(up);
	CHECK(!exists(up));
	snprintf(inside, sizeof(inside), "%s%s", rootfs, up);
	CHECK(test_oracle() || rmdir(inside) == 0);
	CHECK(test_leftover_cgroups(name, 1) == 0);
}

static void test_planted_etc(struct lxc_container *c)
{
	char link[512], hostname_before[256];
	struct statfs host_etc;
	int status;

	snprintf(hostname_before, sizeof(hostname_before), "%s", test_read_file("/etc/hostname"));
	rootfs_path(link, sizeof(link), "planted");
	CHECK(symlink("/etc", link) == 0);
	if (test_oracle()) {
		CHECK(!start_with(c, "tmpfs planted tmpfs defaults 0 0"));
	} else if (start_with(c, "tmpfs planted tmpfs defaults 0 0")) {
		CHECK_STR(test_attach_output(c, "stat -f -c %T /etc", &status, 0), "tmpfs\n");
		CHECK(c->stop(c));
	} else {
		CHECK(0);
	}
	CHECK(statfs("/etc", &host_etc) == 0 && host_etc.f_type != TMPFS_MAGIC);
	CHECK_STR(test_read_file("/etc/hostname"), hostname_before);
	CHECK(exists("/etc/passwd"));
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(unlink(link) == 0);
}

static void test_magic_link(struct lxc_container *c)
{
	char link[512];

	rootfs_path(link, sizeof(link), "mnt/magic");
	CHECK(symlink("/proc/self/cwd", link) == 0);
	CHECK(!start_with(c, "tmpfs mnt/magic tmpfs defaults 0 0"));
	CHECK_ERRSTR(c, "mnt/magic");
	CHECK_ERRNUM(c, ELOOP);
	CHECK(!c->is_running(c));
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(unlink(link) == 0);
}

static void test_relative_source(struct lxc_container *c)
{
	char link[512], file[512], cmd[256], want[64];
	int status;
	FILE *f;

	rootfs_path(link, sizeof(link), "mnt/etc-link");
	CHECK(symlink("/etc", link) == 0);
	snprintf(file, sizeof(file), "%s/etc/hm-marker.%d", rootfs, (int)getpid());
	f = fopen(file, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("rootfs etc\n", f);
		fclose(f);
	}
	if (start_with(c, "mnt/etc-link mnt/rel none bind,relative,create=dir 0 0")) {
		snprintf(cmd, sizeof(cmd), "cat /mnt/rel/hm-marker.%d 2>/dev/null || echo host", (int)getpid());
		/* LXC binds the host's /etc (docs/differences.md "Where we differ"). */
		snprintf(want, sizeof(want), "%s", test_oracle() ? "host\n" : "rootfs etc\n");
		CHECK_STR(test_attach_output(c, cmd, &status, 0), want);
		CHECK(c->stop(c));
	} else {
		CHECK(0);
	}
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(unlink(link) == 0 && unlink(file) == 0);
}

int main(int argc, char **argv)
{
	struct lxc_container *c;
	char buf[256], mnt[512], path[128];
	FILE *f;

	lxcpath = test_lxcpath(argc, argv);
	snprintf(name, sizeof(name), "hm%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return check_result("t_hostile_mounts");
	buf[0] = 0;
	c->get_config_item(c, "lxc.rootfs.path", buf, sizeof(buf));
	snprintf(rootfs, sizeof(rootfs), "%s", strncmp(buf, "dir:", 4) == 0 ? buf + 4 : buf);
	CHECK(c->get_config_item(c, "lxc.mount.entry", template_entries, sizeof(template_entries)) > 0);
	rootfs_path(mnt, sizeof(mnt), "mnt");
	CHECK(mkdir(mnt, 0755) == 0 || errno == EEXIST);

	/* The host directory every bind case mounts, with its marker. */
	snprintf(src, sizeof(src), "/tmp/hm-src.XXXXXX");
	CHECK(mkdtemp(src) != NULL);
	snprintf(marker, sizeof(marker), "hostile mounts %d\n", (int)getpid());
	snprintf(path, sizeof(path), "%s/marker", src);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(marker, f);
		fclose(f);
	}

	test_absolute_symlink(c);
	test_dangling_symlink(c);
	test_dotdot(c);
	test_planted_etc(c);
	test_magic_link(c);
	test_relative_source(c);

	CHECK(unlink(path) == 0 && rmdir(src) == 0);
	test_finish_container(c, name);
	return check_result("t_hostile_mounts");
}
