/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Conformance of the exported functions at their edges, as LXC 6.0's
 * lxccontainer.c, log.c and initutils.c behave (docs/conformance.md):
 * NULL arguments, reference counts, length queries, empty and missing
 * lxcpaths, unknown keys and extensions. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>
#include <lxc/version.h>

#include "check.h"

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* lxc_container_new/get/put: NULL name, trailing slashes, counts. */
static void test_new_get_put(const char *lxcpath)
{
	char slashed[4096];
	struct lxc_container *c;

	CHECK(lxc_container_new(NULL, lxcpath) == NULL);

	/* the lxcpath loses its trailing slashes */
	snprintf(slashed, sizeof(slashed), "%s//", lxcpath);
	c = lxc_container_new("gp", slashed);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_STR(c->config_path, lxcpath);
	CHECK_STR(c->name, "gp");
	CHECK(c->numthreads == 1);
	CHECK(c->daemonize);
	CHECK(c->lxc_conf == NULL); /* no config file: nothing loaded */
	CHECK(!c->is_defined(c));

	/* get: 1 on success, 0 for NULL; put: -1 for NULL, 0 while held, 1 freed */
	CHECK(lxc_container_get(NULL) == 0);
	CHECK(lxc_container_put(NULL) == -1);
	CHECK(lxc_container_get(c) == 1);
	CHECK(c->numthreads == 2);
	CHECK(lxc_container_put(c) == 0);
	CHECK(c->numthreads == 1);
	CHECK(lxc_container_put(c) == 1);
}

/* lxc_get_wait_states: NULL asks for the count. */
static void test_wait_states(void)
{
	static const char *want[] = {"STOPPED",  "STARTING", "RUNNING", "STOPPING",
				     "ABORTING", "FREEZING", "FROZEN",  "THAWED"};
	const char *states[8] = {0};

	CHECK(lxc_get_wait_states(NULL) == 8);
	CHECK(lxc_get_wait_states(states) == 8);
	for (int i = 0; i < 8; i++)
		CHECK_STR(states[i], want[i]);
}

/* lxc_get_global_config_item: known keys have values (or NULL when
 * unset), unknown keys give NULL with errno EINVAL. */
static void test_global_config(void)
{
	const char *v;

	v = lxc_get_global_config_item("lxc.lxcpath");
	CHECK(v != NULL && v[0] == '/');
	CHECK(lxc_get_global_config_item("lxc.default_config") != NULL);
	CHECK_STR(lxc_get_global_config_item("lxc.bdev.zfs.root"), "lxc");
	CHECK(lxc_get_global_config_item("lxc.cgroup.use") == NULL);
	errno = 0;
	CHECK(lxc_get_global_config_item("lxc.nonexistent") == NULL);
	CHECK(errno == EINVAL);
}

/* lxc_get_version: LXC_VERSION, no "-devel". */
static void test_version(void)
{
	const char *v = lxc_get_version();

	CHECK(v != NULL);
	if (!v)
		return;
	CHECK(strchr("0123456789", v[0]) != NULL);
	CHECK(strstr(v, "devel") == NULL);
	if (!test_oracle())
		CHECK_STR(v, LXC_VERSION);
}

/* lxc_config_item_is_supported: an exact match on the key table;
 * lxc_has_api_extension: NULL is always there. */
static void test_keys_and_extensions(void)
{
	CHECK(lxc_config_item_is_supported("lxc.arch"));
	CHECK(lxc_config_item_is_supported("lxc.net"));
	CHECK(!lxc_config_item_is_supported("lxc.net.0.type"));
	CHECK(!lxc_config_item_is_supported("lxc.cgroup.memory.max"));
	CHECK(!lxc_config_item_is_supported("lxc.nonexistent"));
	CHECK(!lxc_config_item_is_supported(""));

	CHECK(lxc_has_api_extension(NULL));
	CHECK(lxc_has_api_extension("lxc_log"));
	CHECK(lxc_has_api_extension("lxc_config_item_is_supported"));
	CHECK(!lxc_has_api_extension("no_such_extension"));
	CHECK(!lxc_has_api_extension(""));
}

/* list_*_containers: -1 for a missing lxcpath; 0 and NULL arrays when
 * there is nothing; names sorted; NULL out-arguments just count. */
static void test_lists(const char *lxcpath)
{
	char missing[4096], **names = (char **)1;
	struct lxc_container **cs = (struct lxc_container **)1, *a, *b;
	int n;

	snprintf(missing, sizeof(missing), "%s/missing", lxcpath);
	CHECK(list_defined_containers(missing, NULL, NULL) == -1);
	CHECK(list_all_containers(missing, NULL, NULL) == -1);
	CHECK(list_active_containers(missing, NULL, NULL) == 0);

	CHECK(list_defined_containers(lxcpath, &names, &cs) == 0);
	CHECK(names == NULL && cs == NULL);
	names = (char **)1;
	CHECK(list_active_containers(lxcpath, &names, NULL) == 0);
	CHECK(names == NULL);

	/* a saved configuration is a defined container (no rootfs needed) */
	a = lxc_container_new("lb", lxcpath);
	b = lxc_container_new("la", lxcpath);
	CHECK(a && b);
	if (!a || !b)
		return;
	CHECK(a->set_config_item(a, "lxc.uts.name", "lb") && a->save_config(a, NULL));
	CHECK(b->set_config_item(b, "lxc.uts.name", "la") && b->save_config(b, NULL));
	/* a hidden directory is skipped */
	CHECK(test_sh("mkdir -p %s/.hidden && touch %s/.hidden/config", lxcpath, lxcpath) == 0);

	CHECK(list_defined_containers(lxcpath, NULL, NULL) == 2);
	n = list_defined_containers(lxcpath, &names, &cs);
	CHECK(n == 2);
	if (n == 2) {
		CHECK_STR(names[0], "la");
		CHECK_STR(names[1], "lb");
		CHECK_STR(cs[0]->name, "la");
		CHECK_STR(cs[1]->name, "lb");
		lxc_container_put(cs[0]);
		lxc_container_put(cs[1]);
		free(cs);
		free_names(names, n);
	}
	n = list_all_containers(lxcpath, &names, NULL);
	CHECK(n == 2);
	if (n == 2)
		free_names(names, n);
	CHECK(list_active_containers(lxcpath, NULL, NULL) == 0);

	CHECK(a->destroy(a) && b->destroy(b));
	lxc_container_put(a);
	lxc_container_put(b);
	CHECK(test_sh("rm -r %s/.hidden", lxcpath) == 0);
}

/* lxc_log_init: NULL is -EINVAL; file "none" is a success that opens
 * nothing; lxc_log_close may be called again. */
static void test_log(void)
{
	struct lxc_log log = {0};

	errno = 0;
	CHECK(lxc_log_init(NULL) == -EINVAL);
	CHECK(errno == EINVAL);
	log.name = "conform";
	log.file = "none";
	log.level = "ERROR";
	log.quiet = true;
	CHECK(lxc_log_init(&log) == 0);
	lxc_log_close();
	lxc_log_close();
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);

	alarm(50);
	test_new_get_put(lxcpath);
	test_wait_states();
	test_global_config();
	test_version();
	test_keys_and_extensions();
	test_lists(lxcpath);
	test_log();
	return check_result("t_conform_global");
}
