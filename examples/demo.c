/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The demo of this liblxc through its C API. Today: the configuration API
 * (lifecycle is being built): define a container, set keys, save, reload
 * in a fresh handle, list, and show what is not built yet failing cleanly.
 * Usage: demo [lxcpath]   (default: a fresh directory under /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lxc/lxccontainer.h>

static void show(struct lxc_container *c, const char *key)
{
	char buf[512];
	int len = c->get_config_item(c, key, buf, sizeof(buf));

	if (len < 0)
		printf("  %-22s -> error: %s\n", key, c->error_string ? c->error_string : "?");
	else
		printf("  %-22s = %s\n", key, buf);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/lxc-demo.XXXXXX";
	const char *lxcpath = argc > 1 ? argv[1] : mkdtemp(tmpl);
	struct lxc_container *c, *again;
	char **names = NULL;
	int n, i;

	if (!lxcpath)
		return 1;
	printf("liblxc %s, lxcpath %s\n", lxc_get_version(), lxcpath);

	c = lxc_container_new("demo", lxcpath);
	if (!c) {
		fprintf(stderr, "lxc_container_new failed\n");
		return 1;
	}
	printf("container %s: state %s, defined %d\n", c->name, c->state(c), c->is_defined(c));
	c->set_config_item(c, "lxc.uts.name", "demo-host");
	c->set_config_item(c, "lxc.rootfs.path", "dir:/tmp/demo-rootfs");
	c->set_config_item(c, "lxc.init.cmd", "/sbin/init");
	if (!c->save_config(c, NULL)) {
		fprintf(stderr, "save_config: %s\n", c->error_string);
		return 1;
	}
	printf("saved %s\n", c->configfile);

	again = lxc_container_new("demo", lxcpath);
	printf("reloaded in a new handle (defined %d):\n", again->is_defined(again));
	show(again, "lxc.uts.name");
	show(again, "lxc.rootfs.path");
	show(again, "lxc.init.cmd");

	n = list_defined_containers(lxcpath, &names, NULL);
	printf("defined containers under %s: %d\n", lxcpath, n);
	for (i = 0; i < n; i++) {
		printf("  %s\n", names[i]);
		free(names[i]);
	}
	free(names);

	if (!again->start(again, 0, NULL))
		printf("start: %s (error_num %d)\n", again->error_string, again->error_num);

	lxc_container_put(again);
	lxc_container_put(c);
	if (argc <= 1) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", lxcpath);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
