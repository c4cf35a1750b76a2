/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One benchmark client, run by benches/run.sh against Debian's liblxc and
 * against ours (LD_LIBRARY_PATH). Prints "<row> <ns per op>" lines.
 * Usage: bench LXCPATH
 * LXCPATH must hold a container "big" whose config has ~200 lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lxc/lxccontainer.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const char *get_keys[20] = {
	"lxc.uts.name", "lxc.rootfs.path", "lxc.arch", "lxc.tty.max", "lxc.pty.max",
	"lxc.cap.drop", "lxc.mount.auto", "lxc.autodev", "lxc.signal.halt", "lxc.init.cmd",
	"lxc.net.0.type", "lxc.net.0.link", "lxc.net.0.flags", "lxc.net.0.hwaddr", "lxc.start.auto",
	"lxc.apparmor.profile", "lxc.log.level", "lxc.environment", "lxc.mount.entry", "lxc.ephemeral",
};

int main(int argc, char **argv)
{
	const char *lxcpath;
	char buf[16384];
	double t0;
	int i, k, n;
	struct lxc_container *c;

	if (argc < 2)
		return 2;
	lxcpath = argv[1];

	n = 20000;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		c = lxc_container_new("undefined", lxcpath);
		if (!c)
			return 1;
		lxc_container_put(c);
	}
	printf("new+put(undefined) %.0f\n", (now_ns() - t0) / n);

	n = 2000;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		c = lxc_container_new("big", lxcpath);
		if (!c || !c->lxc_conf)
			return 1;
		lxc_container_put(c);
	}
	printf("new+load(200-line-config) %.0f\n", (now_ns() - t0) / n);

	c = lxc_container_new("big", lxcpath);
	if (!c)
		return 1;
	n = 5000;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		for (k = 0; k < 20; k++)
			if (c->get_config_item(c, get_keys[k], buf, sizeof(buf)) < 0)
				return 1;
	printf("get_config_item(x20) %.0f\n", (now_ns() - t0) / n);
	lxc_container_put(c);

	n = 500;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		char value[32];

		c = lxc_container_new("saved", lxcpath);
		if (!c)
			return 1;
		for (k = 0; k < 20; k++) {
			snprintf(value, sizeof(value), "host%d", k);
			if (!c->set_config_item(c, "lxc.uts.name", value))
				return 1;
		}
		if (!c->save_config(c, NULL))
			return 1;
		lxc_container_put(c);
	}
	printf("new+set(x20)+save_config %.0f\n", (now_ns() - t0) / n);
	return 0;
}
