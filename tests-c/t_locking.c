/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-container disk lock (LXC's OFD lock file): four processes create
 * the same container at once: exactly one succeeds, the others are told it
 * exists, and the result is one complete container. Then concurrent
 * save_config from several processes always leaves a whole config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

#define PROCS 4

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c;
	int i, ok = 0, exists = 0;
	pid_t pids[PROCS];

	for (i = 0; i < PROCS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct lxc_container *k = lxc_container_new("shared", lxcpath);

			if (!k)
				_exit(3);
			k->set_config_item(k, "lxc.net.0.type", "empty");
			if (k->create(k, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL))
				_exit(0);
			if (k->error_num != EEXIST)
				fprintf(stderr, "create: %d %s\n", k->error_num, k->error_string ? k->error_string : "");
			_exit(k->error_num == EEXIST ? 1 : 2);
		}
	}
	for (i = 0; i < PROCS; i++) {
		int st = 0;

		waitpid(pids[i], &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
			exists++;
	}
	CHECK(ok == 1);
	CHECK(exists == PROCS - 1);

	c = lxc_container_new("shared", lxcpath);
	CHECK(c && c->is_defined(c));
	if (!c)
		return check_result("t_locking");

	/* concurrent saves: every reload sees one writer's whole config */
	for (i = 0; i < PROCS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char host[32];
			int k;

			snprintf(host, sizeof(host), "writer%d", i);
			for (k = 0; k < 50; k++) {
				struct lxc_container *w = lxc_container_new("shared", lxcpath);

				if (!w || !w->set_config_item(w, "lxc.uts.name", host) || !w->save_config(w, NULL))
					_exit(2);
				lxc_container_put(w);
			}
			_exit(0);
		}
	}
	for (i = 0; i < PROCS; i++) {
		int st = 0;

		waitpid(pids[i], &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	{
		struct lxc_container *r = lxc_container_new("shared", lxcpath);
		char buf[64] = "", rootfs[4096] = "";

		CHECK(r && r->get_config_item(r, "lxc.uts.name", buf, sizeof(buf)) > 0);
		CHECK(strncmp(buf, "writer", 6) == 0);
		CHECK(r && r->get_config_item(r, "lxc.rootfs.path", rootfs, sizeof(rootfs)) > 0);
		lxc_container_put(r);
	}
	CHECK(c->destroy(c));
	lxc_container_put(c);
	return check_result("t_locking");
}
