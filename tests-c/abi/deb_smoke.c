/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Built against Debian's LXC 5.0 headers and library, run against ours
 * (LD_LIBRARY_PATH): an existing binary must work without recompiling. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lxc/lxccontainer.h>

#include "../check.h"

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c;
	char buf[256];

	CHECK(strncmp(lxc_get_version(), "6.0.", 4) == 0); /* really running ours */
	c = lxc_container_new("deb-smoke", lxcpath);
	CHECK(c != NULL);
	if (!c)
		return 1;
	CHECK_STR(c->name, "deb-smoke");
	CHECK_STR(c->config_path, lxcpath);
	CHECK(c->daemonize);
	CHECK_STR(c->state(c), "STOPPED");
	CHECK(!c->is_defined(c));
	CHECK(c->set_config_item(c, "lxc.uts.name", "debhost"));
	CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) == 7);
	CHECK_STR(buf, "debhost");
	CHECK(c->save_config(c, NULL));
	CHECK(c->is_defined(c));
	CHECK(!c->startl(c, 0, NULL)); /* reached through the 5.0 table offset */
	CHECK(lxc_container_put(c) == 1);
	return check_result("deb_smoke");
}
