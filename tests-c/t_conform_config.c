/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Conformance of the configuration entries at their edges, as LXC 6.0's
 * lxccontainer.c and confile.c behave (docs/conformance.md): a handle with
 * no configuration loaded, the length-query convention of get_config_item
 * and get_keys, unknown keys, NULL and empty values, clears, saves, loads
 * and the paths. Needs no rootfs: a saved configuration is a defined
 * container. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char name[64];

/* No configuration loaded (no config file): the entries that need one
 * fail; set_config_item starts an empty one. */
static void test_no_config(const char *lxcpath)
{
	struct lxc_container *c = lxc_container_new(name, lxcpath);
	struct lxc_snapshot *snaps = NULL;
	char buf[64];

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(c->lxc_conf == NULL);
	CHECK(!c->is_defined(c));
	CHECK(c->get_config_item(c, "lxc.uts.name", NULL, 0) == -1);
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) == -1);
	CHECK(c->get_keys(c, "lxc.net.0", NULL, 0) == -1);
	/* listing every key needs no configuration */
	CHECK(c->get_keys(c, NULL, NULL, 0) > 0);
	CHECK(!c->clear_config_item(c, "lxc.uts.name"));
	CHECK(!c->want_daemonize(c, false));
	CHECK(c->daemonize);
	CHECK(!c->want_close_all_fds(c, true));
	CHECK(!c->freeze(c));
	CHECK(!c->unfreeze(c));
	CHECK(c->get_running_config_item(c, "lxc.uts.name") == NULL);
	CHECK(!c->load_config(c, NULL)); /* no such file */
	CHECK(!c->destroy(c));		  /* not defined */
	CHECK(!c->rename(c, "other"));	  /* no configuration */
	CHECK(!c->destroy_with_snapshots(c));
	CHECK(!c->start(c, 0, NULL));
	CHECK(!c->startl(c, 0, NULL));
	CHECK(c->clone(c, "cfclone", NULL, 0, NULL, NULL, 0, NULL) == NULL);
	CHECK(c->snapshot(c, NULL) == -1);
	CHECK(c->snapshot_list(c, &snaps) == -1);
	CHECK(!c->snapshot_destroy(c, NULL));
	c->clear_config(c); /* harmless */
	CHECK(c->lxc_conf == NULL);

	/* set_config_item starts an empty configuration */
	CHECK(c->set_config_item(c, "lxc.uts.name", "nc"));
	CHECK(c->lxc_conf != NULL);
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) == 2);
	CHECK_STR(buf, "nc");
	CHECK(c->want_daemonize(c, false));
	CHECK(!c->daemonize);
	CHECK(c->want_daemonize(c, true));
	CHECK(c->want_close_all_fds(c, true));
	CHECK(!c->is_defined(c)); /* nothing saved yet */
	lxc_container_put(c);
}

/* get_config_item: retv NULL/inlen 0 asks for the length; a string
 * value goes whole or not at all (a short buffer is left untouched), a
 * list value is cut to a NUL-terminated prefix; both return the full
 * length; unknown keys give -EINVAL; an unset string key is 0 and leaves
 * the buffer untouched. */
static void test_get_config_item(struct lxc_container *c)
{
	char buf[64];

	CHECK(c->set_config_item(c, "lxc.uts.name", "hello"));
	CHECK(c->get_config_item(c, "lxc.uts.name", NULL, 0) == 5);
	memset(buf, 'x', sizeof(buf));
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, 0) == 5);
	CHECK(buf[0] == 'x'); /* inlen 0: nothing written */
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, 5) == 5);
	CHECK(buf[0] == 'x'); /* no room for the NUL: nothing written */
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, 6) == 5);
	CHECK_STR(buf, "hello");
	/* a NULL buffer with a length still only counts */
	CHECK(c->get_config_item(c, "lxc.uts.name", NULL, 64) == 5);

	CHECK(c->get_config_item(c, "lxc.apparmor.profile", NULL, 0) == 0);
	memset(buf, 'x', sizeof(buf));
	CHECK(c->get_config_item(c, "lxc.apparmor.profile", buf, sizeof(buf)) == 0);
	CHECK(buf[0] == 'x');

	CHECK(c->get_config_item(c, "lxc.nonexistent", NULL, 0) == -EINVAL);
	CHECK(c->get_config_item(c, "lxc.nonexistent", buf, sizeof(buf)) == -EINVAL);
	CHECK(c->get_config_item(c, "", buf, sizeof(buf)) == -EINVAL);

	/* list values: one per line, the length counts them all */
	CHECK(c->set_config_item(c, "lxc.cap.drop", "sys_module"));
	CHECK(c->set_config_item(c, "lxc.cap.drop", "mac_admin"));
	CHECK(c->get_config_item(c, "lxc.cap.drop", NULL, 0) == 21);
	CHECK(c->get_config_item(c, "lxc.cap.drop", buf, sizeof(buf)) == 21);
	CHECK_STR(buf, "sys_module\nmac_admin\n");
	/* a list is cut to what fits, NUL-terminated */
	CHECK(c->get_config_item(c, "lxc.cap.drop", buf, 5) == 21);
	CHECK_STR(buf, "sys_");
	CHECK(c->clear_config_item(c, "lxc.cap.drop"));
	CHECK(c->get_config_item(c, "lxc.cap.drop", NULL, 0) == 0);
}

/* get_keys: the same convention; NULL key lists the top-level keys, an
 * unknown family is -EINVAL; lxc.net.<i> lists what that type takes. */
static void test_get_keys(struct lxc_container *c)
{
	char buf[4096], small[8];
	int n;

	n = c->get_keys(c, NULL, NULL, 0);
	CHECK(n > 100);
	CHECK(c->get_keys(c, NULL, buf, sizeof(buf)) == n);
	CHECK(strstr(buf, "lxc.arch\n") != NULL);
	CHECK(strstr(buf, "lxc.net\n") != NULL);
	CHECK(strstr(buf, "lxc.net.\n") == NULL); /* prefixes are left out */

	CHECK(c->get_keys(c, "lxc.apparmor", NULL, 0) == (int)strlen("allow_incomplete\nallow_nesting\nprofile\nraw\n"));
	CHECK(c->get_keys(c, "lxc.apparmor", buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "allow_incomplete\nallow_nesting\nprofile\nraw\n");
	CHECK(c->get_keys(c, "lxc.apparmor", small, sizeof(small)) == 43);
	CHECK_STR(small, "allow_i");
	CHECK(c->get_keys(c, "lxc.nonexistent", buf, sizeof(buf)) == -EINVAL);

	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	CHECK(c->get_keys(c, "lxc.net.0", buf, sizeof(buf)) == (int)strlen("type\nscript.up\nscript.down\n"));
	CHECK_STR(buf, "type\nscript.up\nscript.down\n");
}

/* set_config_item: an unknown key fails; a NULL or empty value clears
 * the key (and succeeds). clear_config_item: unknown keys fail, unset
 * keys succeed. */
static void test_set_clear(struct lxc_container *c)
{
	char buf[64];

	CHECK(!c->set_config_item(c, "lxc.nonexistent", "1"));
	CHECK(!c->set_config_item(c, "", "1"));
	CHECK(!c->set_config_item(c, "lxc.uts.name", "a-hostname-of-seventy-characters-is-longer-than-utsname-holds-at-all-x"));

	CHECK(c->set_config_item(c, "lxc.uts.name", "x1"));
	CHECK(c->set_config_item(c, "lxc.uts.name", ""));
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) == 0);
	CHECK(c->set_config_item(c, "lxc.uts.name", "x2"));
	CHECK(c->set_config_item(c, "lxc.uts.name", NULL));
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) == 0);

	CHECK(c->clear_config_item(c, "lxc.uts.name"));
	CHECK(c->clear_config_item(c, "lxc.apparmor.profile"));
	CHECK(!c->clear_config_item(c, "lxc.nonexistent"));

	/* which key wins: lxc.cgroup.dir is a key of its own, not a
	 * controller setting of the lxc.cgroup.* family */
	CHECK(c->set_config_item(c, "lxc.cgroup.dir", "conform"));
	CHECK(c->get_config_item(c, "lxc.cgroup.dir", buf, sizeof(buf)) == 7);
	CHECK_STR(buf, "conform");
	CHECK(c->clear_config_item(c, "lxc.cgroup.dir"));
	/* LXC prints the unset directory with "%s": glibc's "(null)" */
	CHECK(c->get_config_item(c, "lxc.cgroup.dir", buf, sizeof(buf)) == 6);
	CHECK_STR(buf, "(null)");
	/* the last of two settings of a single-valued key wins */
	CHECK(c->set_config_item(c, "lxc.signal.halt", "SIGUSR1"));
	CHECK(c->set_config_item(c, "lxc.signal.halt", "SIGTERM"));
	CHECK(c->get_config_item(c, "lxc.signal.halt", buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "15");
	CHECK(c->clear_config_item(c, "lxc.signal.halt"));
}

/* save_config/load_config/clear_config/config_file_name and the paths. */
static void test_save_load(struct lxc_container *c, const char *lxcpath)
{
	char path[4096], alt[4200], buf[64];
	char *file;

	snprintf(path, sizeof(path), "%s/%s/config", lxcpath, name);
	file = c->config_file_name(c);
	CHECK_STR(file, path);
	free(file);

	CHECK(c->set_config_item(c, "lxc.uts.name", "saved"));
	CHECK(c->save_config(c, NULL));
	CHECK(c->is_defined(c));
	/* to another file: the container's own stays */
	snprintf(alt, sizeof(alt), "%s/%s/alt.conf", lxcpath, name);
	CHECK(c->set_config_item(c, "lxc.uts.name", "alt"));
	CHECK(c->save_config(c, alt));

	/* clear_config forgets everything, is_defined still reads the disk */
	c->clear_config(c);
	CHECK(c->lxc_conf == NULL);
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) == -1);
	CHECK(c->is_defined(c));

	CHECK(c->load_config(c, NULL));
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) == 5);
	CHECK_STR(buf, "saved");
	/* loading adds to what is held: the alternate file's value wins */
	CHECK(c->load_config(c, alt));
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) == 3);
	CHECK_STR(buf, "alt");
	snprintf(alt, sizeof(alt), "%s/%s/missing.conf", lxcpath, name);
	CHECK(!c->load_config(c, alt));

	/* get_config_path is the field itself; set_config_path moves the
	 * config file name with it */
	CHECK(c->get_config_path(c) == c->config_path);
	CHECK_STR(c->get_config_path(c), lxcpath);
	snprintf(alt, sizeof(alt), "%s/other", lxcpath);
	CHECK(c->set_config_path(c, alt));
	CHECK_STR(c->get_config_path(c), alt);
	snprintf(path, sizeof(path), "%s/other/%s/config", lxcpath, name);
	CHECK_STR(c->configfile, path);
	CHECK(!c->is_defined(c));
	CHECK(c->set_config_path(c, lxcpath));
	CHECK(c->is_defined(c));
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c;

	alarm(50);
	snprintf(name, sizeof(name), "cf%d", (int)getpid());
	test_no_config(lxcpath);

	c = lxc_container_new(name, lxcpath);
	CHECK(c != NULL);
	if (!c)
		return check_result("t_conform_config");
	test_get_config_item(c);
	test_get_keys(c);
	test_set_clear(c);
	test_save_load(c, lxcpath);
	CHECK(c->destroy(c));
	CHECK(!c->is_defined(c));
	CHECK(!c->destroy(c)); /* no longer defined */
	lxc_container_put(c);
	/* LXC 5.0.2's refused starts above still make lxc.monitor.<name> */
	test_oracle_cleanup(name);
	return check_result("t_conform_config");
}
