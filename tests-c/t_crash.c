/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Crash safety: a clone SIGKILLed half way leaves a container marked
 * partial, which the next lxc_container_new cleans; never a broken
 * container that looks complete. A snapshot SIGKILLed half way is never
 * listed and is cleaned by the next snapshot. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c = lxc_container_new("src", lxcpath), *k;
	char rootfs[4096], path[4200], cmd[4300];
	struct stat st;
	int round, killed_mid = 0;

	if (!c)
		return 1;
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	CHECK(c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL));
	CHECK(c->get_config_item(c, "lxc.rootfs.path", rootfs, sizeof(rootfs)) > 0);
	/* enough data that the copy takes a while */
	snprintf(cmd, sizeof(cmd), "for i in $(seq 1 60); do head -c 2000000 /dev/urandom > %s/blob$i; done",
		 strncmp(rootfs, "dir:", 4) == 0 ? rootfs + 4 : rootfs);
	CHECK(system(cmd) == 0);

	for (round = 0; round < 5; round++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			struct lxc_container *s = lxc_container_new("src", lxcpath);
			struct lxc_container *d = s ? s->clone(s, "dst", NULL, 0, NULL, NULL, 0, NULL) : NULL;
			_exit(d ? 0 : 1);
		}
		usleep(20000 + round * 30000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(path, sizeof(path), "%s/dst/partial", lxcpath);
		if (WIFSIGNALED(status) && stat(path, &st) == 0)
			killed_mid++;
		/* whatever state it died in: the next handle sees either a complete
		 * container or none at all */
		k = lxc_container_new("dst", lxcpath);
		CHECK(k != NULL);
		if (k) {
			snprintf(path, sizeof(path), "%s/dst/partial", lxcpath);
			CHECK(stat(path, &st) != 0);
			if (k->is_defined(k)) {
				char r[4096];
				CHECK(k->get_config_item(k, "lxc.rootfs.path", r, sizeof(r)) > 0);
				CHECK(k->destroy(k));
			} else {
				snprintf(path, sizeof(path), "%s/dst", lxcpath);
				CHECK(stat(path, &st) != 0);
			}
			lxc_container_put(k);
		}
	}
	CHECK(killed_mid > 0);

	killed_mid = 0;
	for (round = 0; round < 4; round++) {
		pid_t pid = fork();
		struct lxc_snapshot *snaps = NULL;
		int status, n, i, want;

		if (pid == 0) {
			struct lxc_container *s = lxc_container_new("src", lxcpath);
			_exit(s && s->snapshot(s, NULL) >= 0 ? 0 : 1);
		}
		usleep(20000 + round * 30000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(path, sizeof(path), "%s/src/snaps/snap0/partial", lxcpath);
		if (WIFSIGNALED(status) && stat(path, &st) == 0)
			killed_mid++;
		/* a half-made snapshot is never listed ... */
		n = c->snapshot_list(c, &snaps);
		for (i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/%s/partial", snaps[i].lxcpath, snaps[i].name);
			CHECK(stat(path, &st) != 0);
			snaps[i].free(&snaps[i]);
		}
		free(snaps);
		/* ... and the next snapshot cleans it and takes its index */
		snprintf(path, sizeof(path), "%s/src/snaps/snap0", lxcpath);
		want = stat(path, &st) == 0 && n == 1 ? 1 : 0;
		CHECK(c->snapshot(c, NULL) == want);
		snprintf(path, sizeof(path), "%s/src/snaps/snap%d/partial", lxcpath, want);
		CHECK(stat(path, &st) != 0);
		CHECK(c->snapshot_list(c, &snaps) == want + 1);
		for (i = 0; i < want + 1 && snaps; i++)
			snaps[i].free(&snaps[i]);
		free(snaps);
		CHECK(c->snapshot_destroy_all(c));
	}
	CHECK(killed_mid > 0);
	CHECK(c->destroy(c));
	lxc_container_put(c);
	return check_result("t_crash");
}
