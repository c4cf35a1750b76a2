/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The global functions and the handle: versions, states, global items,
 * refcounting, the populated table, bad input, unbuilt entries. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>
#include <lxc/version.h>

#include "check.h"

static void test_version(void)
{
	int major = -1, minor = -1, micro = -1;
	const char *v = lxc_get_version();

	CHECK(v != NULL);
	CHECK(sscanf(v, "%d.%d.%d", &major, &minor, &micro) == 3);
	CHECK(major == 6 && minor == 0);
	CHECK(major == LXC_VERSION_MAJOR && minor == LXC_VERSION_MINOR && micro == LXC_VERSION_MICRO);
	CHECK_STR(v, LXC_VERSION);
	CHECK(LXC_DEVEL == 0);
}

static void test_wait_states(void)
{
	const char *states[8] = {0};

	CHECK(lxc_get_wait_states(NULL) == 8);
	CHECK(lxc_get_wait_states(states) == 8);
	CHECK_STR(states[0], "STOPPED");
	CHECK_STR(states[2], "RUNNING");
	CHECK_STR(states[7], "THAWED");
}

static void test_global_items(void)
{
	const char *p1, *p2;

	p1 = lxc_get_global_config_item("lxc.lxcpath");
	CHECK(p1 != NULL && p1[0] == '/');
	p2 = lxc_get_global_config_item("lxc.lxcpath");
	CHECK(p1 == p2); /* static storage, stable */
	CHECK_STR(lxc_get_global_config_item("lxc.bdev.lvm.vg"), "lxc");
	CHECK(lxc_get_global_config_item("lxc.default_config") != NULL);
	errno = 0;
	CHECK(lxc_get_global_config_item("lxc.no.such.item") == NULL);
	CHECK(errno == EINVAL);
	CHECK(lxc_get_global_config_item(NULL) == NULL);
	CHECK(lxc_get_global_config_item("") == NULL);
}

static void test_api_extensions(void)
{
	CHECK(lxc_has_api_extension(NULL));
	CHECK(lxc_has_api_extension("lxc_log"));
	CHECK(lxc_has_api_extension("lxc_config_item_is_supported"));
	CHECK(lxc_has_api_extension("time_namespace"));
	CHECK(!lxc_has_api_extension("no_such_extension"));
	CHECK(!lxc_has_api_extension(""));
}

static void test_handle(const char *lxcpath)
{
	struct lxc_container *c = lxc_container_new("t-basics", lxcpath);
	void **slot;
	size_t i;

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_STR(c->name, "t-basics");
	CHECK_STR(c->config_path, lxcpath);
	CHECK(c->configfile != NULL && strstr(c->configfile, "/t-basics/config") != NULL);
	CHECK(c->daemonize);
	CHECK(c->error_num == 0);
	CHECK(c->error_string == NULL);
	CHECK(c->numthreads == 1);
	CHECK(c->lxc_conf == NULL); /* no config on disk */

	/* Every function pointer from is_defined to devpts_fd, and set_timeout. */
	for (slot = (void **)&c->is_defined; slot <= (void **)&c->devpts_fd; slot++)
		CHECK(*slot != NULL);
	CHECK(c->set_timeout != NULL);
	i = (size_t)((char *)&c->devpts_fd - (char *)&c->is_defined) / sizeof(void *) + 1;
	CHECK(i == 61);

	CHECK(!c->is_defined(c));
	CHECK_STR(c->state(c), "STOPPED");
	CHECK(!c->is_running(c));
	CHECK(c->init_pid(c) == -1);
	CHECK_STR(c->get_config_path(c), lxcpath);
	CHECK(c->may_control(c));
	CHECK(c->set_timeout(c, 5) && c->rcv_timeout == 5);

	/* Refcounting as LXC: get 1, put 0 while references remain, 1 on free. */
	CHECK(lxc_container_get(c) == 1);
	CHECK(c->numthreads == 2);
	CHECK(lxc_container_put(c) == 0);
	CHECK(lxc_container_put(c) == 1);
	CHECK(lxc_container_put(NULL) == -1);
	CHECK(lxc_container_get(NULL) == 0);
}

static void test_bad_input(const char *lxcpath)
{
	char longname[400];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(lxc_container_new(NULL, lxcpath) == NULL);
	CHECK(lxc_container_new("", lxcpath) == NULL);
	CHECK(lxc_container_new("../escape", lxcpath) == NULL);
	CHECK(lxc_container_new("a/b", lxcpath) == NULL);
	CHECK(lxc_container_new("..", lxcpath) == NULL);
	CHECK(lxc_container_new(longname, lxcpath) == NULL);
	CHECK(lxc_container_new("ok", "") == NULL);
	CHECK(!lxc_config_item_is_supported(NULL));
	CHECK(lxc_log_init(NULL) == -EINVAL);
}

static void test_unbuilt_entries_fail_cleanly(const char *lxcpath)
{
	struct lxc_container *c = lxc_container_new("t-unbuilt", lxcpath);

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(!c->destroy(c)); /* not defined */
	CHECK(c->error_num == ENOENT);
	CHECK(c->error_string != NULL && strstr(c->error_string, "destroy") != NULL);
	CHECK(c->get_interfaces(c) == NULL);
	CHECK(c->console_getfd(c, NULL, NULL) == -1);
	/* The variadic entries go through the C shim to the array variants. */
	CHECK(!c->startl(c, 0, "/bin/true", "arg", NULL));
	CHECK(c->error_string != NULL && strstr(c->error_string, "start") != NULL);
	CHECK(!c->createl(c, "t-no-such-template", NULL, NULL, 0, "-a", NULL));
	CHECK(c->error_string != NULL && strstr(c->error_string, "create") != NULL);
	CHECK(c->attach_run_waitl(c, NULL, "/bin/true", "true", NULL) == -1);
	CHECK(c->error_string != NULL && strstr(c->error_string, "attach_run_wait") != NULL);
	lxc_container_put(c);
}

static void test_lists_empty(const char *lxcpath)
{
	char **names = NULL;
	struct lxc_container **cs = NULL;

	CHECK(list_defined_containers(lxcpath, &names, &cs) == 0);
	free(names);
	free(cs);
	CHECK(list_active_containers(lxcpath, NULL, NULL) == 0);
	CHECK(list_all_containers(lxcpath, NULL, NULL) == 0);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);

	test_version();
	test_wait_states();
	test_global_items();
	test_api_extensions();
	test_handle(lxcpath);
	test_bad_input(lxcpath);
	test_unbuilt_entries_fail_cleanly(lxcpath);
	test_lists_empty(lxcpath);
	return check_result("t_basics");
}
