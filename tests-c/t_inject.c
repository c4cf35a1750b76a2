/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Changing a running container: add_device_node/remove_device_node (node
 * inside + device cgroup rule) and mount/umount (bind, read-only bind, a
 * new tmpfs), checked from inside. Also run on Debian's LXC 5.0.2
 * (tests-c/run.sh --oracle), which needs a shared mount tunnel for mount()
 * (docs/differences.md "Where we differ": mount and add_device_node). */
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
	char hostdir[4096], file[4200], buf[256], shm[4096], cmd[4300];
	/* LXC 5.0.2 looks the destination up on the host, not the source:
	 * there it is the source's own path (docs/differences.md "Where we differ"). */
	const char *dev = test_oracle() ? "/dev/net/tun" : "/dev/mytun";
	int st;
	FILE *f;

	if (!c)
		return 1;
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	CHECK(c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL));
	/* LXC's mount() passes each new mount through a directory of the host
	 * that must be a shared mount (lxc.mount.auto = shmounts:): a tmpfs
	 * this test makes and removes. */
	snprintf(shm, sizeof(shm), "%s/shmounts", lxcpath);
	if (test_oracle()) {
		CHECK(mkdir(shm, 0755) == 0);
		CHECK(test_sh("mount -t tmpfs lxc-test-shm %s && mount --make-shared %s", shm, shm) == 0);
		snprintf(cmd, sizeof(cmd), "shmounts:%s", shm);
		CHECK(c->set_config_item(c, "lxc.mount.auto", cmd));
	}
	CHECK(c->start(c, 0, NULL));

	/* device node: created inside, allowed in the device cgroup */
	CHECK(c->add_device_node(c, "/dev/net/tun", dev));
	snprintf(cmd, sizeof(cmd), "ls -l %s", dev);
	CHECK(strstr(inside(c, cmd, &st), "10,") != NULL && st == 0);
	CHECK(c->get_cgroup_item(c, "devices.list", buf, sizeof(buf)) > 0);
	CHECK(c->remove_device_node(c, "/dev/net/tun", dev));
	snprintf(cmd, sizeof(cmd), "test -e %s", dev);
	inside(c, cmd, &st);
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
	/* LXC 5.0.2 binds in one mount(2) call, where the kernel ignores
	 * MS_RDONLY: its bind is writable (docs/differences.md "Where we differ"). */
	if (!test_oracle())
		CHECK(st != 0);
	CHECK(c->umount(c, "/mnt/ro", 0, NULL) == 0);

	/* a new filesystem (LXC 5.0.2 stats the source on the host: a
	 * filesystem's source must be NULL there, docs/differences.md "Where we differ") */
	CHECK(c->mount(c, test_oracle() ? NULL : "tmpfs", "/mnt/t", "tmpfs", 0, "size=1m", NULL) == 0);
	CHECK(strstr(inside(c, "grep ' /mnt/t ' /proc/mounts", &st), "tmpfs") != NULL);
	CHECK(c->umount(c, "/mnt/t", 0, NULL) == 0);
	/* errors: a failed umount returns 1 (LXC's helper's exit status) */
	CHECK(c->mount(c, "/nonexistent", "/mnt/x", NULL, MS_BIND, NULL, NULL) == -1);
	CHECK(c->umount(c, "/not/mounted", 0, NULL) == 1);

	CHECK(c->stop(c));
	CHECK(!c->add_device_node(c, "/dev/net/tun", NULL)); /* not running */
	CHECK(c->destroy(c));
	lxc_container_put(c);
	if (test_oracle()) {
		CHECK(test_sh("umount %s", shm) == 0);
		CHECK(rmdir(shm) == 0);
	}
	test_oracle_cleanup("inj");
	return check_result("t_inject");
}
