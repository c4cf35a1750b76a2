/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Changing a running container: add_device_node/remove_device_node (node
 * inside + device cgroup rule) and mount/umount (bind, read-only bind, a
 * new tmpfs), checked from inside. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char *inside(struct lxc_container *c, const char *cmd, int *status)
{
	return test_attach_output(c, cmd, status, 0);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c = lxc_container_new("inj", lxcpath);
	char hostdir[4096], file[4200], buf[256];
	int st;
	FILE *f;

	if (!c)
		return 1;
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	CHECK(c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL));
	CHECK(c->start(c, 0, NULL));

	/* device node: created inside, allowed in the device cgroup */
	CHECK(c->add_device_node(c, "/dev/net/tun", "/dev/mytun"));
	CHECK(strstr(inside(c, "ls -l /dev/mytun", &st), "10,") != NULL && st == 0);
	CHECK(c->get_cgroup_item(c, "devices.list", buf, sizeof(buf)) > 0);
	CHECK(c->remove_device_node(c, "/dev/net/tun", "/dev/mytun"));
	inside(c, "test -e /dev/mytun", &st);
	CHECK(st != 0);
	CHECK(!c->add_device_node(c, "/etc/hostname", NULL)); /* not a device */

	/* bind mount of a host directory, then read-only */
	snprintf(hostdir, sizeof(hostdir), "%s/shared", lxcpath);
	CHECK(mkdir(hostdir, 0755) == 0);
	snprintf(file, sizeof(file), "%s/hello", hostdir);
	f = fopen(file, "w");
	if (f) {
		fputs("from-the-host\n", f);
		fclose(f);
	}
	CHECK(c->mount(c, hostdir, "/mnt/shared", NULL, MS_BIND, NULL, NULL) == 0);
	CHECK(strstr(inside(c, "cat /mnt/shared/hello", &st), "from-the-host") != NULL);
	CHECK(c->umount(c, "/mnt/shared", 0, NULL) == 0);
	inside(c, "test -e /mnt/shared/hello", &st);
	CHECK(st != 0);
	CHECK(c->mount(c, hostdir, "/mnt/ro", NULL, MS_BIND | MS_RDONLY, NULL, NULL) == 0);
	inside(c, "echo x > /mnt/ro/new", &st);
	CHECK(st != 0);
	CHECK(c->umount(c, "/mnt/ro", 0, NULL) == 0);

	/* a new filesystem */
	CHECK(c->mount(c, "tmpfs", "/mnt/t", "tmpfs", 0, "size=1m", NULL) == 0);
	CHECK(strstr(inside(c, "grep ' /mnt/t ' /proc/mounts", &st), "tmpfs") != NULL);
	CHECK(c->umount(c, "/mnt/t", 0, NULL) == 0);
	/* errors */
	CHECK(c->mount(c, "/nonexistent", "/mnt/x", NULL, MS_BIND, NULL, NULL) == -1);
	CHECK(c->umount(c, "/not/mounted", 0, NULL) == -1);

	CHECK(c->stop(c));
	CHECK(!c->add_device_node(c, "/dev/net/tun", NULL)); /* not running */
	CHECK(c->destroy(c));
	lxc_container_put(c);
	return check_result("t_inject");
}
