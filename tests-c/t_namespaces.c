/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lxc.namespace.clone/keep/share.*, lxc.init.groups, lxc.ephemeral, seen
 * from /proc of the real containers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static ino_t ns_of(pid_t pid, const char *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static struct lxc_container *make(const char *lxcpath, const char *name)
{
	struct lxc_container *c = lxc_container_new(name, lxcpath);

	if (!c)
		return NULL;
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	if (!c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL)) {
		fprintf(stderr, "create %s: %s\n", name, c->error_string);
		CHECK(0);
	}
	return c;
}

static int start(struct lxc_container *c)
{
	if (c->start(c, 0, NULL))
		return 1;
	fprintf(stderr, "start %s: %s\n", c->name, c->error_string);
	CHECK(0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *a = make(lxcpath, "nsa"), *b = make(lxcpath, "nsb"), *e = make(lxcpath, "nse");
	pid_t me = getpid(), pa, pb;
	char path[64], line[256];
	FILE *f;

	if (!a || !b || !e)
		return 1;
	/* keep ipc, no cgroup namespace (clone list without it), init groups */
	CHECK(a->set_config_item(a, "lxc.namespace.keep", "ipc"));
	CHECK(a->set_config_item(a, "lxc.init.groups", "10,20"));
	if (start(a)) {
		pa = a->init_pid(a);
		CHECK(ns_of(pa, "ipc") == ns_of(me, "ipc"));
		CHECK(ns_of(pa, "uts") != ns_of(me, "uts"));
		CHECK(ns_of(pa, "cgroup") != ns_of(me, "cgroup"));
		snprintf(path, sizeof(path), "/proc/%d/status", pa);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "Groups:", 7) == 0)
				CHECK(strstr(line, "10 20") != NULL);
		if (f)
			fclose(f);

		/* b joins a's uts, net and pid namespaces; no cgroup namespace.
		 * Its init is not PID 1 there: busybox init would refuse to run. */
		CHECK(b->set_config_item(b, "lxc.init.cmd", "/bin/sleep 1000"));
		CHECK(b->set_config_item(b, "lxc.namespace.clone", "mnt pid uts ipc net"));
		CHECK(b->set_config_item(b, "lxc.namespace.share.uts", "nsa"));
		CHECK(b->set_config_item(b, "lxc.namespace.share.net", "nsa"));
		CHECK(b->set_config_item(b, "lxc.namespace.share.pid", "nsa"));
		if (start(b)) {
			pb = b->init_pid(b);
			CHECK(ns_of(pb, "uts") == ns_of(pa, "uts"));
			CHECK(ns_of(pb, "net") == ns_of(pa, "net"));
			CHECK(ns_of(pb, "pid") == ns_of(pa, "pid"));
			CHECK(ns_of(pb, "mnt") != ns_of(pa, "mnt"));
			CHECK(ns_of(pb, "cgroup") == ns_of(me, "cgroup"));
			CHECK(b->stop(b));
		}
		/* sharing with a stopped container fails and says so */
		CHECK(a->stop(a));
		CHECK(!b->start(b, 0, NULL));
		CHECK(b->error_string && strstr(b->error_string, "nsa"));
	}

	/* ephemeral: gone after it stops */
	CHECK(e->set_config_item(e, "lxc.ephemeral", "1"));
	if (start(e)) {
		CHECK(e->stop(e));
		CHECK(!e->is_defined(e));
	}

	CHECK(a->destroy(a));
	CHECK(b->destroy(b));
	lxc_container_put(a);
	lxc_container_put(b);
	lxc_container_put(e);
	return check_result("t_namespaces");
}
