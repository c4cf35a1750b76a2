/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unprivileged use by a non-root user with subordinate ids, as a host
 * that allows it sets it up: a system user made for the test (no ids
 * allocated by useradd), one /etc/subuid and /etc/subgid line each for
 * it, a cgroup subtree delegated to it in every hierarchy (as systemd's
 * Delegate=yes: directory and cgroup.procs/tasks/v2 delegation files
 * chowned) below this test's own cgroups, and a private lxcpath it owns.
 * This program then re-executes itself as that user, which creates a
 * busybox container with lxc.idmap from its range (the template runs
 * mapped), starts it (maps written by newuidmap/newgidmap, cgroups in the
 * delegated subtree), attaches, freezes, stops and destroys it; a map
 * outside its range is refused with newuidmap's reason. Everything the
 * test added (user, lines, cgroups, directories) is removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>
#include <lxc/version.h>

#include "check.h"

#define RANGE 65536

static char user[32], name[64], subline[96];
static char cgdirs[16][1024];
static int ncgdirs;

static int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* One delegated cgroup below our own in each hierarchy. */
static void delegate_cgroups(uid_t uid, gid_t gid, pid_t tag)
{
	char line[512], mnt[128], dir[768], file[4096];
	FILE *f = fopen("/proc/self/cgroup", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && ncgdirs < 16) {
		char *ctrls = strchr(line, ':'), *path;
		const char *files[] = {"cgroup.procs", "tasks", "cgroup.subtree_control", "cgroup.threads"};
		struct stat st;

		if (!ctrls)
			continue;
		ctrls++;
		path = strchr(ctrls, ':');
		if (!path)
			continue;
		*path++ = 0;
		path[strcspn(path, "\n")] = 0;
		if (!*ctrls)
			snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup/unified");
		else
			snprintf(mnt, sizeof(mnt), "/sys/fs/cgroup/%s",
				 strncmp(ctrls, "name=", 5) == 0 ? ctrls + 5 : ctrls);
		if (stat(mnt, &st) < 0)
			continue;
		snprintf(dir, sizeof(dir), "%s%s/lxc-rs-test-unpriv-%d", mnt, strcmp(path, "/") ? path : "",
			 (int)tag);
		if (mkdir(dir, 0755) < 0) {
			perror(dir);
			CHECK(0);
			continue;
		}
		snprintf(cgdirs[ncgdirs++], sizeof(cgdirs[0]), "%s", dir);
		if (strcmp(ctrls, "cpuset") == 0) {
			/* A v1 cpuset cgroup starts empty: no task may join. */
			snprintf(file, sizeof(file), "cat %s%s/cpuset.cpus > %s/cpuset.cpus && cat %s%s/cpuset.mems > %s/cpuset.mems",
				 mnt, path, dir, mnt, path, dir);
			CHECK(run(file) == 0);
		}
		CHECK(chown(dir, uid, gid) == 0);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(file, sizeof(file), "%s/%s", dir, files[i]);
			if (access(file, F_OK) == 0)
				CHECK(chown(file, uid, gid) == 0);
		}
	}
	fclose(f);
}

/* The user's part: returns the number of failed checks. */
static int as_user(const char *lxcpath, int base)
{
	struct lxc_container *c;
	char map[64], path[4096], want[128];
	struct stat st;
	pid_t pid;

	/* The loader falls back to the system's liblxc when ours is not
	 * readable by this user: that would test Debian's LXC, not ours. On
	 * the oracle it is Debian's on purpose (run.sh clears
	 * LD_LIBRARY_PATH, which this process inherits). */
	if (!test_oracle() && strcmp(lxc_get_version(), LXC_VERSION) != 0) {
		fprintf(stderr, "as %s: liblxc %s is loaded, not ours (%s): is its directory readable by %s?\n",
			user, lxc_get_version(), LXC_VERSION, user);
		CHECK(0);
		return check_failures;
	}
	if (test_oracle() && strcmp(lxc_get_version(), LXC_VERSION) == 0) {
		fprintf(stderr, "as %s: our liblxc %s is loaded on the oracle run\n", user, LXC_VERSION);
		CHECK(0);
		return check_failures;
	}
	c = lxc_container_new(name, lxcpath);
	CHECK(c != NULL);
	if (!c)
		return check_failures;
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	snprintf(map, sizeof(map), "u 0 %d %d", base, RANGE);
	CHECK(c->set_config_item(c, "lxc.idmap", map));
	snprintf(map, sizeof(map), "g 0 %d %d", base, RANGE);
	CHECK(c->set_config_item(c, "lxc.idmap", map));
	if (!c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL)) {
		fprintf(stderr, "create as %s failed: %d %s\n", user, c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
		lxc_container_put(c);
		return check_failures;
	}
	/* The container's root reaches its directory; we keep it through
	 * our group (LXC's chown_mapped_root). */
	snprintf(path, sizeof(path), "%s/%s", lxcpath, name);
	CHECK(stat(path, &st) == 0 && (int)st.st_uid == base && st.st_gid == getegid());
	snprintf(path, sizeof(path), "%s/%s/rootfs/bin/busybox", lxcpath, name);
	CHECK(stat(path, &st) == 0 && (int)st.st_uid == base);

	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start as %s failed: %d %s\n", user, c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
	}
	CHECK(c->wait(c, "RUNNING", 10));
	pid = c->init_pid(c);
	CHECK(pid > 0);
	if (pid > 0) {
		FILE *f;
		char line[256];
		int in_delegated = 0;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		snprintf(want, sizeof(want), "Uid:\t%d\t%d\t%d\t%d\n", base, base, base, base);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "Uid:", 4) == 0)
				CHECK_STR(line, want);
		if (f)
			fclose(f);
		/* Init's cgroups are in the delegated subtree. */
		snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
		snprintf(want, sizeof(want), "/lxc.payload.%s", name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "pids:") && strstr(line, "lxc-rs-test-unpriv-") && strstr(line, want))
				in_delegated = 1;
		if (f)
			fclose(f);
		CHECK(in_delegated);
	}
	snprintf(want, sizeof(want), " 0 %d %d\n", base, RANGE);
	CHECK_STR(test_inside_logged(c, "cat /proc/self/uid_map | tr -s ' '"), want);
	CHECK_STR(test_inside_logged(c, "id -u"), "0\n");
	CHECK_STR(test_inside_logged(c, "grep pids /proc/self/cgroup | cut -d: -f3"), "/\n");
	CHECK_STR(test_inside_logged(c, "stat -c %u /bin/busybox"), "0\n");
	CHECK(c->freeze(c));
	CHECK_STR(c->state(c), "FROZEN");
	CHECK(c->unfreeze(c));
	CHECK_STR(c->state(c), "RUNNING");
	CHECK(c->stop(c));
	CHECK_STR(c->state(c), "STOPPED");
	CHECK(test_leftover_cgroups(name, 1) == 0);

	/* A map outside our subordinate range: newuidmap's reason. */
	CHECK(c->clear_config_item(c, "lxc.idmap"));
	snprintf(map, sizeof(map), "u 0 %d %d", base + RANGE, RANGE);
	CHECK(c->set_config_item(c, "lxc.idmap", map));
	snprintf(map, sizeof(map), "g 0 %d %d", base, RANGE);
	CHECK(c->set_config_item(c, "lxc.idmap", map));
	if (c->start(c, 0, NULL)) {
		CHECK(0);
		c->stop(c);
	} else {
		fprintf(stderr, "expected refusal: %d %s\n", c->error_num, c->error_string ? c->error_string : "");
		CHECK_ERRNUM(c, EPERM);
		CHECK_ERRSTR(c, "newuidmap");
		CHECK_ERRSTR(c, "not allowed");
	}
	CHECK_STR(c->state(c), "STOPPED");
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(c->clear_config_item(c, "lxc.idmap"));
	snprintf(map, sizeof(map), "u 0 %d %d", base, RANGE);
	CHECK(c->set_config_item(c, "lxc.idmap", map));
	snprintf(map, sizeof(map), "g 0 %d %d", base, RANGE);
	CHECK(c->set_config_item(c, "lxc.idmap", map));

	/* Files of the container's ids are removed as its mapped root. */
	if (!c->destroy(c)) {
		fprintf(stderr, "destroy as %s failed: %d %s\n", user, c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
	}
	snprintf(path, sizeof(path), "%s/%s", lxcpath, name);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	lxc_container_put(c);
	return check_failures;
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	char cmd[4096], userpath[2048], parent[2048], *slash;
	struct passwd *pw;
	int base, status;
	pid_t child;

	if (argc == 5 && strcmp(argv[2], "--as-user") == 0) {
		snprintf(user, sizeof(user), "%s", argv[3]);
		snprintf(name, sizeof(name), "up%d", (int)getppid());
		return as_user(lxcpath, atoi(argv[4])) ? 1 : 0;
	}
	if (access("/usr/bin/newuidmap", X_OK) < 0 || access("/usr/bin/newgidmap", X_OK) < 0) {
		fprintf(stderr, "t_unpriv: newuidmap/newgidmap missing (package uidmap)\n");
		CHECK(0);
		return check_result("t_unpriv");
	}
	snprintf(user, sizeof(user), "lxcrsu%d", (int)getpid() % 100000);
	base = 1000000 + (getpid() % 1000) * RANGE;
	/* A system user: useradd allocates no subordinate ids for it. */
	snprintf(cmd, sizeof(cmd), "useradd -r -M -d /nonexistent -s /usr/sbin/nologin %s", user);
	CHECK(run(cmd) == 0);
	pw = getpwnam(user);
	CHECK(pw != NULL);
	if (!pw)
		return check_result("t_unpriv");
	snprintf(subline, sizeof(subline), "%s:%d:%d\n", user, base, RANGE);
	CHECK(test_edit_line("/etc/subuid", subline, 0) == 0);
	CHECK(test_edit_line("/etc/subgid", subline, 0) == 0);

	/* Its lxcpath; the way there is traversable (not readable) for it
	 * and its container's root, as LXC requires. */
	snprintf(parent, sizeof(parent), "%s", lxcpath);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = 0;
	CHECK(chmod(parent, 0711) == 0 && chmod(lxcpath, 0711) == 0);
	snprintf(userpath, sizeof(userpath), "%s/%s", lxcpath, user);
	CHECK(mkdir(userpath, 0711) == 0 && chown(userpath, pw->pw_uid, pw->pw_gid) == 0);

	delegate_cgroups(pw->pw_uid, pw->pw_gid, getpid());
	snprintf(name, sizeof(name), "up%d", (int)getpid());

	child = fork();
	if (child == 0) {
		char base_s[16], pid_s[16], file[1200];

		/* Into the delegated cgroups (as the host's session manager
		 * would), then become the user. */
		snprintf(pid_s, sizeof(pid_s), "%d", (int)getpid());
		for (int i = 0; i < ncgdirs; i++) {
			int fd;

			snprintf(file, sizeof(file), "%s/cgroup.procs", cgdirs[i]);
			fd = open(file, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, pid_s, strlen(pid_s)) < 0)
				perror(file);
			if (fd >= 0)
				close(fd);
		}
		if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
			perror("drop to user");
			_exit(1);
		}
		setenv("HOME", userpath, 1);
		unsetenv("XDG_RUNTIME_DIR");
		snprintf(base_s, sizeof(base_s), "%d", base);
		execl("/proc/self/exe", argv[0], userpath, "--as-user", user, base_s, (char *)NULL);
		perror("exec");
		_exit(1);
	}
	CHECK(child > 0);
	CHECK(waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(test_leftover_cgroups(name, 1) == 0);

	/* Cleanup: exactly what this test added. */
	for (int i = ncgdirs - 1; i >= 0; i--) {
		int tries = 0;

		/* LXC 5.0.2 leaves its monitor's cgroup and the lxc.pivot it
		 * left it through in the delegated subtree (README "No leaked
		 * cgroups"); its monitor may still be leaving. */
		for (int j = 0; test_oracle() && j < 50; j++) {
			snprintf(cmd, sizeof(cmd),
				 "find %s -mindepth 1 -depth -type d \\( -name 'lxc.monitor.%s' -o -name 'lxc.monitor.%s-*'"
				 " -o -name lxc.pivot \\) -exec rmdir {} + 2>/dev/null",
				 cgdirs[i], name, name);
			if (system(cmd) == 0)
				break;
			usleep(100000);
		}

		while (rmdir(cgdirs[i]) < 0 && errno == EBUSY && tries++ < 500)
			usleep(10000);
		if (access(cgdirs[i], F_OK) == 0) {
			/* say what is left, then remove it all the same */
			snprintf(cmd, sizeof(cmd),
				 "find %s -mindepth 1 -type d; cat %s/cgroup.procs | xargs -r ps -o pid,args -p; "
				 "find %s -depth -type d -exec rmdir {} \\;",
				 cgdirs[i], cgdirs[i], cgdirs[i]);
			if (system(cmd) != 0)
				fprintf(stderr, "could not remove what is left in %s\n", cgdirs[i]);
			CHECK(!"delegated cgroup left non-empty");
		}
		CHECK(access(cgdirs[i], F_OK) < 0);
	}
	CHECK(test_edit_line("/etc/subuid", subline, 1) == 0);
	CHECK(test_edit_line("/etc/subgid", subline, 1) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", userpath);
	CHECK(run(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "userdel %s", user);
	CHECK(run(cmd) == 0);
	return check_result("t_unpriv");
}
