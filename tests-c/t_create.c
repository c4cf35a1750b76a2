/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create / rename / destroy on a private lxcpath: Debian's busybox template,
 * no template, failing and missing templates, the template's arguments and
 * config, destroy hooks, recovery of an interrupted create. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char path_buf[4096];

static const char *pathf(const char *lxcpath, const char *rest)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", lxcpath, rest);
	return path_buf;
}

static int exists(const char *lxcpath, const char *rest)
{
	struct stat st;

	return lstat(pathf(lxcpath, rest), &st) == 0;
}

/* The whole file, or "" (static buffer). */
static const char *slurp(const char *lxcpath, const char *rest)
{
	return test_read_file(pathf(lxcpath, rest));
}

static void write_script(const char *lxcpath, const char *name, const char *body)
{
	test_write_file(pathf(lxcpath, name), body, 0755);
}

static char *item(struct lxc_container *c, const char *key)
{
	static char buf[4096];

	buf[0] = '\0';
	if (c->get_config_item(c, key, buf, sizeof(buf)) < 0)
		return NULL;
	return buf;
}

static void test_busybox_rename_destroy(const char *lxcpath)
{
	struct lxc_container *c, *c2;
	char want[4096];
	struct stat st;

	if (access("/usr/share/lxc/templates/lxc-busybox", X_OK) != 0) {
		fprintf(stderr, "t_create: no busybox template, skipping that part\n");
		return;
	}
	c = lxc_container_new("bb1", lxcpath);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL));
	CHECK(c->is_defined(c));
	CHECK(exists(lxcpath, "bb1/rootfs/bin/busybox"));
	CHECK(!exists(lxcpath, "bb1/partial"));
	CHECK(stat(pathf(lxcpath, "bb1"), &st) == 0 && (st.st_mode & 07777) == 0770);
	CHECK(stat(pathf(lxcpath, "bb1/rootfs"), &st) == 0 && (st.st_mode & 07777) == 0755);
	snprintf(want, sizeof(want), "lxc.rootfs.path = dir:%s/bb1/rootfs\n", lxcpath);
	CHECK(strstr(slurp(lxcpath, "bb1/config"), want) != NULL);
	snprintf(want, sizeof(want), "# Template used to create this container: %s\n",
		 "/usr/share/lxc/templates/lxc-busybox");
	CHECK(strncmp(slurp(lxcpath, "bb1/config"), want, strlen(want)) == 0);
	/* The template's own lines were loaded into the handle. */
	CHECK_STR(item(c, "lxc.signal.halt"), "10"); /* SIGUSR1 */
	snprintf(want, sizeof(want), "%s/bb1/rootfs", lxcpath);
	CHECK_STR(item(c, "lxc.rootfs.path"), want);

	/* Already defined: refused, nothing touched. */
	CHECK(!c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL));
	CHECK(c->error_num == EEXIST);
	CHECK(exists(lxcpath, "bb1/rootfs/bin/busybox"));
	/* Without a template, LXC just saves the handle's configuration. */
	c2 = lxc_container_new("bb1", lxcpath);
	CHECK(c2 && c2->set_config_item(c2, "lxc.tty.max", "4"));
	CHECK(c2 && c2->create(c2, NULL, NULL, NULL, 0, NULL));
	CHECK(strstr(slurp(lxcpath, "bb1/config"), "lxc.tty.max = 4\n") != NULL);
	lxc_container_put(c2);

	/* Rename: invalid, taken, then good. */
	CHECK(!c->rename(c, "a/b"));
	CHECK(!c->rename(c, "bb1"));
	CHECK(c->rename(c, "bb2"));
	CHECK_STR(c->name, "bb2");
	CHECK(!exists(lxcpath, "bb1"));
	CHECK(exists(lxcpath, "bb2/rootfs/bin/busybox"));
	CHECK(c->is_defined(c));
	snprintf(want, sizeof(want), "lxc.rootfs.path = dir:%s/bb2/rootfs\n", lxcpath);
	CHECK(strstr(slurp(lxcpath, "bb2/config"), want) != NULL);
	CHECK(strstr(slurp(lxcpath, "bb2/config"), "lxc.uts.name = bb2\n") != NULL);
	CHECK_STR(item(c, "lxc.uts.name"), "bb2");
	c2 = lxc_container_new("bb2", lxcpath);
	CHECK(c2 && c2->is_defined(c2));
	lxc_container_put(c2);

	CHECK(c->destroy(c));
	CHECK(!exists(lxcpath, "bb2"));
	CHECK(!c->is_defined(c));
	CHECK(!c->destroy(c));
	CHECK(c->error_num == ENOENT);
	lxc_container_put(c);
}

/* A handle made before its container was created holds no configuration:
 * rename reads the one on disk (it used to deadlock on the handle's own
 * lock doing so). */
static void test_unloaded_handle(const char *lxcpath)
{
	struct lxc_container *early = lxc_container_new("early1", lxcpath), *c;

	CHECK(early != NULL);
	if (!early)
		return;
	c = test_new_busybox(lxcpath, "early1");
	lxc_container_put(c);
	CHECK(early->rename(early, "early2"));
	CHECK(exists(lxcpath, "early2/rootfs/bin/busybox"));
	CHECK(early->destroy(early));
	CHECK(!exists(lxcpath, "early1") && !exists(lxcpath, "early2"));
	lxc_container_put(early);
}

static void test_no_template(const char *lxcpath)
{
	struct lxc_container *c = lxc_container_new("none1", lxcpath);
	const char *conf;

	CHECK(c != NULL);
	if (!c)
		return;
	/* Items set before create: the default config is not loaded. */
	CHECK(c->set_config_item(c, "lxc.tty.max", "3"));
	CHECK(c->create(c, NULL, NULL, NULL, 0, NULL));
	CHECK(c->is_defined(c));
	conf = slurp(lxcpath, "none1/config");
	CHECK_STR(conf, "lxc.tty.max = 3\n");
	CHECK(!exists(lxcpath, "none1/rootfs"));
	CHECK(!exists(lxcpath, "none1/partial"));
	CHECK(c->destroy(c));
	CHECK(!exists(lxcpath, "none1"));
	lxc_container_put(c);
}

static void test_failing_templates(const char *lxcpath)
{
	struct lxc_container *c = lxc_container_new("fail1", lxcpath);

	CHECK(c != NULL);
	if (!c)
		return;
	write_script(lxcpath, "tpl-fail", "#!/bin/sh\necho noise; echo noise >&2; exit 3\n");
	write_script(lxcpath, "tpl-ok", "#!/bin/sh\nexit 0\n");
	CHECK(c->set_config_item(c, "lxc.tty.max", "2"));
	CHECK(!c->create(c, pathf(lxcpath, "tpl-fail"), NULL, NULL, LXC_CREATE_QUIET, NULL));
	CHECK(c->error_string != NULL && strstr(c->error_string, "status 3") != NULL);
	CHECK(!exists(lxcpath, "fail1"));
	CHECK(!c->is_defined(c));
	/* The handle keeps the configuration it had. */
	CHECK_STR(item(c, "lxc.tty.max"), "2");
	CHECK(item(c, "lxc.rootfs.path") && strcmp(item(c, "lxc.rootfs.path"), "") == 0);

	CHECK(!c->create(c, "t-no-such-template", NULL, NULL, 0, NULL));
	CHECK(c->error_num == ENOENT);
	CHECK(!exists(lxcpath, "fail1"));

	CHECK(!c->create(c, pathf(lxcpath, "tpl-fail"), "lvm", NULL, 0, NULL));
	CHECK(c->error_num == ENOTSUP);
	CHECK(!exists(lxcpath, "fail1"));

	/* python3-lxc saves the config before create: that is not "exists". */
	CHECK(c->save_config(c, NULL));
	CHECK(c->is_defined(c));
	CHECK(!c->create(c, pathf(lxcpath, "tpl-fail"), NULL, NULL, LXC_CREATE_QUIET, NULL));
	CHECK(c->error_string != NULL && strstr(c->error_string, "status 3") != NULL);
	CHECK(!exists(lxcpath, "fail1")); /* removed, as LXC destroys it */
	CHECK(c->save_config(c, NULL));
	CHECK(c->create(c, pathf(lxcpath, "tpl-ok"), NULL, NULL, 0, NULL));
	CHECK(exists(lxcpath, "fail1/rootfs"));
	CHECK(!c->create(c, pathf(lxcpath, "tpl-ok"), NULL, NULL, 0, NULL));
	CHECK(c->error_num == EEXIST);
	CHECK(c->destroy(c));
	lxc_container_put(c);
}

static void test_template_args_and_hooks(const char *lxcpath)
{
	struct lxc_container *c = lxc_container_new("args1", lxcpath);
	char want[4096];

	CHECK(c != NULL);
	if (!c)
		return;
	/* The template sees its arguments and appends to the config. */
	write_script(lxcpath, "tpl-args",
		     "#!/bin/sh\n"
		     "for a in \"$@\"; do case $a in --path=*) p=${a#--path=};; esac; done\n"
		     "echo \"$0 $*\" > \"$p/args\"\n"
		     "echo 'lxc.tty.max = 7' >> \"$p/config\"\n"
		     "touch \"$p/rootfs/made-by-template\"\n");
	CHECK(c->createl(c, pathf(lxcpath, "tpl-args"), NULL, NULL, 0, "x", "y z", NULL));
	/* $0 of a script is the path the kernel ran, as with LXC's execvp. */
	snprintf(want, sizeof(want), "%s/tpl-args --path=%s/args1 --name=args1 --rootfs=%s/args1/rootfs x y z\n",
		 lxcpath, lxcpath, lxcpath);
	CHECK_STR(slurp(lxcpath, "args1/args"), want);
	CHECK(exists(lxcpath, "args1/rootfs/made-by-template"));
	CHECK_STR(item(c, "lxc.tty.max"), "7");
	CHECK(strstr(slurp(lxcpath, "args1/config"), "# Parameters passed to the template: x y z\n") != NULL);

	/* Destroy hooks run with LXC's environment, before the removal. */
	snprintf(want, sizeof(want), "/bin/sh -c 'echo \"$LXC_NAME $2 $LXC_ROOTFS_PATH\" > %s/hook.out'",
		 lxcpath);
	CHECK(c->set_config_item(c, "lxc.hook.destroy", want));
	CHECK(c->destroy(c));
	CHECK(!exists(lxcpath, "args1"));
	snprintf(want, sizeof(want), "args1 destroy %s/args1/rootfs\n", lxcpath);
	CHECK_STR(slurp(lxcpath, "hook.out"), want);

	/* The handle keeps its configuration after destroy (as LXC's), so
	 * its lxc.rootfs.path now names a missing rootfs: create refuses. */
	CHECK(!c->create(c, pathf(lxcpath, "tpl-args"), NULL, NULL, 0, NULL));
	CHECK(c->error_num == ENOENT);
	CHECK(!exists(lxcpath, "args1"));
	lxc_container_put(c);

	/* A failing destroy hook stops the destroy. */
	c = lxc_container_new("args1", lxcpath);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(c->create(c, pathf(lxcpath, "tpl-args"), NULL, NULL, 0, NULL));
	CHECK(c->set_config_item(c, "lxc.hook.destroy", "/bin/false"));
	CHECK(!c->destroy(c));
	CHECK(c->is_defined(c));
	CHECK(c->clear_config_item(c, "lxc.hook.destroy"));
	CHECK(c->destroy(c));
	CHECK(!exists(lxcpath, "args1"));
	lxc_container_put(c);
}

static void test_interrupted_create(const char *lxcpath)
{
	struct lxc_container *c = lxc_container_new("part1", lxcpath);
	FILE *f;

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(c->create(c, NULL, NULL, NULL, 0, NULL));
	lxc_container_put(c);
	/* A marker nobody holds: a create that died half way. */
	f = fopen(pathf(lxcpath, "part1/partial"), "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	c = lxc_container_new("part1", lxcpath);
	CHECK(c != NULL);
	CHECK(!exists(lxcpath, "part1"));
	CHECK(c && !c->is_defined(c));
	lxc_container_put(c);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);

	alarm(300); /* a hang is a failure */
	test_busybox_rename_destroy(lxcpath);
	test_unloaded_handle(lxcpath);
	test_no_template(lxcpath);
	test_failing_templates(lxcpath);
	test_template_args_and_hooks(lxcpath);
	test_interrupted_create(lxcpath);
	return check_result("t_create");
}
