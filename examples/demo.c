/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The demo of this liblxc through its C API: create a busybox container,
 * start it (state, init pid), attach to it (uname -a inside), freeze and
 * thaw it, stop it and destroy it.
 * Usage: demo [lxcpath]   (default: a fresh directory under /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <lxc/lxccontainer.h>

static int fail(struct lxc_container *c, const char *what)
{
	fprintf(stderr, "%s failed: %s (error_num %d)\n", what,
		c->error_string ? c->error_string : "?", c->error_num);
	return 1;
}

static int run(struct lxc_container *c)
{
	char buf[256];
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	const char *uname_argv[] = {"uname", "-a", NULL};
	int status;

	/* Items set before create replace default.conf (as in LXC): an empty
	 * network namespace, so the template's udhcpc touches nothing here. */
	c->set_config_item(c, "lxc.net.0.type", "empty");
	printf("creating %s from the busybox template...\n", c->name);
	if (!c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL))
		return fail(c, "create");
	c->get_config_item(c, "lxc.rootfs.path", buf, sizeof(buf));
	printf("  defined %d, rootfs %s\n", c->is_defined(c), buf);

	if (!c->start(c, 0, NULL))
		return fail(c, "start");
	printf("started: state %s, init pid %d\n", c->state(c), c->init_pid(c));

	printf("attach: uname -a inside the container:\n  ");
	fflush(stdout);
	status = c->attach_run_wait(c, &opts, "uname", uname_argv);
	if (status < 0)
		fail(c, "attach_run_wait");
	else
		printf("  (exit status %d)\n", WEXITSTATUS(status));

	if (c->freeze(c))
		printf("frozen: state %s\n", c->state(c));
	if (c->unfreeze(c))
		printf("thawed: state %s\n", c->state(c));

	if (!c->stop(c))
		return fail(c, "stop");
	printf("stopped: state %s\n", c->state(c));
	if (!c->destroy(c))
		return fail(c, "destroy");
	printf("destroyed: defined %d\n", c->is_defined(c));
	return 0;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/lxc-demo.XXXXXX";
	const char *lxcpath = argc > 1 ? argv[1] : mkdtemp(tmpl);
	struct lxc_container *c;
	int ret;

	if (!lxcpath)
		return 1;
	printf("liblxc %s, lxcpath %s\n", lxc_get_version(), lxcpath);
	c = lxc_container_new("demo", lxcpath);
	if (!c) {
		fprintf(stderr, "lxc_container_new failed\n");
		return 1;
	}
	ret = run(c);
	if (c->is_running(c))
		c->stop(c);
	if (c->is_defined(c))
		c->destroy(c);
	lxc_container_put(c);
	if (argc <= 1) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", lxcpath);
		if (system(cmd) != 0)
			return 1;
	}
	return ret;
}
