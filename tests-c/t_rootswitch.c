/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How init enters its root. With another container of the user running,
 * ours enters it through the sentinel's holder mount namespace instead of
 * pivot_root (docs/design.md, "Entering the root"); either way a root
 * inside the container must reach nothing of the host:
 * - the classic chroot escape (a directory kept open outside a new chroot,
 *   then `..` as far as it goes) ends on the container's own root;
 * - the container's root is the first mount it sees (one "/" in mountinfo);
 * - pivot_root in there works (a nested container's start);
 * - lxc.hook.stop's mnt: argument is the container's final mount namespace
 *   (its root is the rootfs), not the one init was cloned with, also when
 *   the start fails after init entered its root.
 * Checked on a container alone (pivot_root, on a quiet host) and on one
 * started while it runs (the holder; ours logs which way it went). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
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

static char host_marker[256];

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* In the container: 0 when the escape finds nothing of the host. */
static int escape_fn(void *arg)
{
	int outside;

	(void)arg;
	mkdir("/tmp/escape", 0700);
	outside = open("/", O_PATH | O_DIRECTORY);
	if (outside < 0 || chroot("/tmp/escape") < 0 || fchdir(outside) < 0)
		return 10;
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			return 11;
	if (chroot(".") < 0)
		return 12;
	/* The host's marker and the lxcpath are host paths only. */
	if (exists(host_marker))
		return 1;
	if (!exists("/rootswitch-marker"))
		return 2;
	return 0;
}

/* In the container: 0 when exactly one mount is at "/". */
static int one_root_fn(void *arg)
{
	char line[4096], point[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int roots = 0;

	(void)arg;
	if (!f)
		return 10;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 && strcmp(point, "/") == 0)
			roots++;
	fclose(f);
	return roots == 1 ? 0 : 1;
}

/* In the container: 0 when pivot_root into a new tmpfs works. */
static int nested_pivot_fn(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 10;
	mkdir("/tmp/nested", 0700);
	if (mount("tmpfs", "/tmp/nested", "tmpfs", 0, NULL) < 0 || mkdir("/tmp/nested/m", 0700) < 0 ||
	    chdir("/tmp/nested") < 0)
		return 11;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return 1;
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return 12;
	return exists("/m") ? 0 : 2;
}

static int attached(struct lxc_container *c, int (*fn)(void *))
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	pid_t pid = -1;
	int status = -1;

	if (c->attach(c, fn, NULL, &opts, &pid) < 0 || pid <= 0)
		return -1;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static struct lxc_container *prepared(const char *lxcpath, const char *name, char *hook_out, size_t len)
{
	struct lxc_container *c = test_new_busybox(lxcpath, name);
	char path[4096], hook[4096], script[8192];

	if (!c)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s/rootfs/rootswitch-marker", lxcpath, name);
	test_write_file(path, "", 0644);
	snprintf(path, sizeof(path), "%s/%s/log", lxcpath, name);
	CHECK(c->set_config_item(c, "lxc.log.file", path));
	CHECK(c->set_config_item(c, "lxc.log.level", "DEBUG"));
	/* The stop hook looks into the container's mount namespace it is given
	 * (an argument "mnt:<path>", lxc.hook.version 0). */
	snprintf(hook_out, len, "%s/%s/hook-out", lxcpath, name);
	snprintf(hook, sizeof(hook), "%s/%s/stop-hook", lxcpath, name);
	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "for a; do case $a in mnt:*) ns=${a#mnt:} ;; esac; done\n"
		 "nsenter --mount=\"$ns\" /bin/sh -c 'test -e /rootswitch-marker' "
		 "&& echo inside > '%s' || echo \"outside: $*\" > '%s'\n",
		 hook_out, hook_out);
	test_write_file(hook, script, 0755);
	CHECK(c->set_config_item(c, "lxc.hook.stop", hook));
	return c;
}

static void check_inside(struct lxc_container *c)
{
	CHECK(attached(c, escape_fn) == 0);
	CHECK(attached(c, one_root_fn) == 0);
	CHECK(attached(c, nested_pivot_fn) == 0);
}

/* Whether this start of `c` entered its root through the holder (ours'
 * log says so). */
static int through_holder(const char *lxcpath, const char *name)
{
	char path[4096];
	const char *log;

	snprintf(path, sizeof(path), "%s/%s/log", lxcpath, name);
	log = test_read_file(path);
	return log && strstr(log, "Entered the rootfs through the sentinel's holder");
}

/* What the stop hook found: the rootfs's marker at the root of the mount
 * namespace it was given. Waited for: LXC 5.0.2 returns from a failed
 * start before its monitor has run the hooks (docs/differences.md). */
static void check_hook_said(const char *hook_out)
{
	const char *said = test_read_file(hook_out);

	for (int i = 0; i < 50 && (!said || !*said); i++) {
		usleep(100000);
		said = test_read_file(hook_out);
	}

	if (!said || strcmp(said, "inside\n") != 0)
		fprintf(stderr, "stop hook: %s\n", said ? said : "(nothing)");
	CHECK(said && strcmp(said, "inside\n") == 0);
	unlink(hook_out);
}

static void check_stop_hook(struct lxc_container *c, const char *hook_out)
{
	CHECK(c->stop(c));
	check_hook_said(hook_out);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	char out_a[4096], out_b[4096], path[4096];
	struct lxc_container *a = prepared(lxcpath, "rsa", out_a, sizeof(out_a));
	struct lxc_container *b = prepared(lxcpath, "rsb", out_b, sizeof(out_b));
	int holder = 0;

	if (!a || !b)
		return 1;
	snprintf(host_marker, sizeof(host_marker), "%s/host-marker", lxcpath);
	test_write_file(host_marker, "", 0644);
	/* Alone (unless another container of this user runs): pivot_root. */
	CHECK(a->start(a, 0, NULL));
	check_inside(a);
	/* With a running: the sentinel's holder (its greeting may come after
	 * the monitor looked: a few starts). */
	for (int i = 0; i < 10 && !holder; i++) {
		snprintf(path, sizeof(path), "%s/rsb/log", lxcpath);
		unlink(path);
		CHECK(b->start(b, 0, NULL));
		holder = through_holder(lxcpath, "rsb");
		check_inside(b);
		check_stop_hook(b, out_b);
	}
	if (!test_oracle())
		CHECK(holder);
	/* A start failing after init entered its root (its start hook fails
	 * inside): the stop hook still gets the container's namespace. */
	CHECK(b->set_config_item(b, "lxc.hook.start", "/bin/false"));
	holder = 0;
	for (int i = 0; i < 10 && !holder; i++) {
		snprintf(path, sizeof(path), "%s/rsb/log", lxcpath);
		unlink(path);
		CHECK(!b->start(b, 0, NULL));
		holder = through_holder(lxcpath, "rsb");
		check_hook_said(out_b);
	}
	if (!test_oracle())
		CHECK(holder);
	CHECK(b->clear_config_item(b, "lxc.hook.start"));
	check_stop_hook(a, out_a);
	unlink(host_marker);
	test_finish_container(b, "rsb");
	test_finish_container(a, "rsa");
	return check_result("t_rootswitch");
}
