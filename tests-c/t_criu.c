/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checkpoint, restore and migrate through CRIU: a busybox container whose
 * init runs a counter loop is checkpointed (stopped), restored, and the
 * loop goes on where it was (same pid inside, same hostname) under a fresh
 * monitor (state, attach, freeze, console, stop and cleanup work); then on
 * a veth of a bridge this test makes: same address, and an established TCP
 * connection from the host survives; dump and restore through migrate();
 * a restore into a second lxcpath (a move to another machine);
 * FEATURE_CHECK; LXC's argument checks; failures (CRIU missing, too old, a
 * failed dump leaves the container running, a failed restore leaves no
 * cgroup, veth or monitor). Prints the checkpoint and restore times.
 *
 * CRIU: $LXC_TEST_CRIU (the binary), else the `criu` on PATH when `criu
 * check` passes, else ../shared/tools/criu-4.2/criu next to the repository
 * (CRIU 4.2, which this kernel needs); skipped without a working one. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static const char *lxcpath;
static char scratch[4096];	/* this test's own files */
static char bridge[IFNAMSIZ];
static int net;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Puts the directory of `criu` first on PATH; true when `criu check`
 * then passes. */
static int use_criu(const char *criu)
{
	char path[8192], dir[4096];

	if (criu) {
		if (access(criu, X_OK) != 0)
			return 0;
		snprintf(dir, sizeof(dir), "%s", criu);
		snprintf(path, sizeof(path), "%s:%s", dirname(dir), getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
		setenv("PATH", path, 1);
	}
	return system("criu check >/dev/null 2>&1") == 0;
}

static int find_criu(void)
{
	char here[4096], cand[8192];
	const char *env = getenv("LXC_TEST_CRIU");

	if (env && *env)
		return use_criu(env);
	if (use_criu(NULL))
		return 1;
	/* tests-c/t_criu.c -> <repo>/../shared/tools/criu-4.2/criu */
	snprintf(here, sizeof(here), "%s", __FILE__);
	snprintf(cand, sizeof(cand), "%s/../../shared/tools/criu-4.2/criu", dirname(here));
	if (use_criu(cand))
		return 1;
	return use_criu("/work/shared/tools/criu-4.2/criu");
}

/* The counter file of container `name` in `path`: "<pid inside> <count>". */
static int read_counter_in(const char *in, const char *name, int *pid, long *count)
{
	char path[4600];

	for (int i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "%s/%s/rootfs/counter", in, name);
		if (sscanf(test_read_file(path), "%d %ld", pid, count) == 2)
			return 1;
		usleep(20000);
	}
	return 0;
}

static int read_counter(const char *name, int *pid, long *count)
{
	return read_counter_in(lxcpath, name, pid, count);
}

/* A busybox container whose init also runs a counter loop (and `extra`
 * as another respawned inittab entry when not NULL). */
static struct lxc_container *make(const char *name, const char *extra)
{
	struct lxc_container *c = test_new_busybox(lxcpath, name);
	char path[4600], line[512];
	FILE *f;

	if (!c)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s/rootfs/counter.sh", lxcpath, name);
	test_write_file(path, "#!/bin/sh\nn=0\nwhile :; do n=$((n+1)); echo \"$$ $n\" > /counter; sleep 0.1; done\n",
			0755);
	snprintf(path, sizeof(path), "%s/%s/rootfs/etc/inittab", lxcpath, name);
	f = fopen(path, "ae");
	CHECK(f != NULL);
	if (f) {
		fputs("::respawn:/bin/sh /counter.sh\n", f);
		if (extra) {
			snprintf(line, sizeof(line), "::respawn:%s\n", extra);
			fputs(line, f);
		}
		fclose(f);
	}
	return c;
}

static const char *err(struct lxc_container *c)
{
	return c->error_string ? c->error_string : "";
}

/* checkpoint(stop) then restore, timed; checks the counter went on. */
static int cycle(struct lxc_container *c, const char *name, const char *dir, const char *what)
{
	int pid1 = 0, pid2 = 0;
	long n1 = 0, n2 = 0;
	double t0, t1, t2;
	int ok;

	t0 = now();
	ok = c->checkpoint(c, (char *)dir, true, false);
	t1 = now();
	if (!ok)
		fprintf(stderr, "checkpoint (%s): %s\n", what, err(c));
	CHECK(ok);
	if (!ok)
		return 0;
	CHECK(!c->is_running(c));
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(read_counter(name, &pid1, &n1));
	ok = c->restore(c, (char *)dir, false);
	t2 = now();
	if (!ok)
		fprintf(stderr, "restore (%s): %s\n", what, err(c));
	CHECK(ok);
	printf("t_criu: %s: checkpoint %.0f ms, restore %.0f ms\n", what, (t1 - t0) * 1000, (t2 - t1) * 1000);
	if (!ok)
		return 0;
	CHECK_STR(c->state(c), "RUNNING");
	usleep(600000);
	CHECK(read_counter(name, &pid2, &n2));
	/* The same loop, counting on (a new one would start again at 1). */
	CHECK(pid2 == pid1);
	CHECK(n2 > n1 && n1 > 3);
	if (pid2 != pid1 || n2 <= n1)
		fprintf(stderr, "counter before %d %ld, after %d %ld\n", pid1, n1, pid2, n2);
	return 1;
}

static void test_lifecycle(void)
{
	struct lxc_container *c = make("cr1", NULL);
	char dir[4200], *out;
	int pid1 = 0, status, ttynum = -1, master = -1, fd;
	long n1 = 0;

	if (!c)
		return;
	CHECK(c->start(c, 0, NULL));
	usleep(800000);
	CHECK(read_counter("cr1", &pid1, &n1));
	snprintf(dir, sizeof(dir), "%s/ck1", scratch);
	if (!cycle(c, "cr1", dir, "empty network")) {
		test_finish_container(c, "cr1");
		return;
	}
	/* The restored container under its new monitor. */
	CHECK(c->init_pid(c) > 0);
	out = test_attach_output(c, "hostname", &status, 0);
	CHECK(status == 0);
	CHECK_STR(out, "cr1\n");
	out = test_attach_output(c, "cat /proc/1/cmdline | tr '\\0' ' '", &status, 0);
	CHECK(status == 0 && strstr(out, "init"));
	CHECK(c->freeze(c));
	CHECK_STR(c->state(c), "FROZEN");
	CHECK(c->unfreeze(c));
	CHECK_STR(c->state(c), "RUNNING");
	fd = c->console_getfd(c, &ttynum, &master);
	CHECK(fd >= 0 && ttynum >= 1);
	if (fd >= 0)
		close(fd);
	CHECK(c->stop(c));
	CHECK(!c->is_running(c));
	CHECK(test_leftover_cgroups("cr1", 1) == 0);
	test_finish_container(c, "cr1");
}

/* A move to another machine: checkpointed (stopped) in the test's lxcpath,
 * restored into a second, private lxcpath where the same container is
 * defined with the same configuration. The whole container directory is
 * copied there (config and rootfs: a move without shared storage) and the
 * copy's lxc.rootfs.path, which pointed inside the first lxcpath, is set to
 * the copied rootfs; the loop then counts on in the copy only. */
static void test_move(void)
{
	struct lxc_container *c = make("cr5", NULL), *c2;
	char dir[4200], lxcpath2[4200], want[4700], item[4800], *out;
	int pid1 = 0, pid2 = 0, pid3 = 0, status;
	long n1 = 0, n2 = 0, n3 = 0;

	if (!c)
		return;
	CHECK(c->start(c, 0, NULL));
	usleep(800000);
	snprintf(dir, sizeof(dir), "%s/ck5", scratch);
	if (!c->checkpoint(c, dir, true, false)) {
		fprintf(stderr, "checkpoint (move): %s\n", err(c));
		CHECK(0);
		test_finish_container(c, "cr5");
		return;
	}
	CHECK(!c->is_running(c));
	CHECK(test_leftover_cgroups("cr5", 1) == 0);
	CHECK(read_counter("cr5", &pid1, &n1));

	/* The other machine's lxcpath, and the container defined there. */
	snprintf(lxcpath2, sizeof(lxcpath2), "%s/lxcpath2", scratch);
	CHECK(mkdir(lxcpath2, 0755) == 0);
	CHECK(test_sh("cp -a %s/cr5 %s/", lxcpath, lxcpath2) == 0);
	CHECK(test_sh("sed -i 's|^lxc.rootfs.path = .*|lxc.rootfs.path = dir:%s/cr5/rootfs|' %s/cr5/config",
		      lxcpath2, lxcpath2) == 0);
	/* Nothing in the copied config points into the first lxcpath. */
	CHECK(test_sh("! grep -F '%s/cr5/' %s/cr5/config", lxcpath, lxcpath2) == 0);
	c2 = lxc_container_new("cr5", lxcpath2);
	CHECK(c2 != NULL);
	if (!c2) {
		test_finish_container(c, "cr5");
		return;
	}
	CHECK(c2->is_defined(c2));
	CHECK(!c2->is_running(c2));
	snprintf(want, sizeof(want), "%s/cr5/rootfs", lxcpath2);
	CHECK(c2->get_config_item(c2, "lxc.rootfs.path", item, sizeof(item)) > 0 && strstr(item, want));

	if (!c2->restore(c2, dir, false)) {
		fprintf(stderr, "restore (second lxcpath): %s\n", err(c2));
		CHECK(0);
	} else {
		CHECK_STR(c2->state(c2), "RUNNING");
		CHECK(c2->init_pid(c2) > 0);
		/* The first lxcpath's container stays stopped: a different one. */
		CHECK(!c->is_running(c));
		CHECK_STR(c->state(c), "STOPPED");
		usleep(600000);
		CHECK(read_counter_in(lxcpath2, "cr5", &pid2, &n2));
		CHECK(pid2 == pid1 && n2 > n1 && n1 > 3);
		if (pid2 != pid1 || n2 <= n1)
			fprintf(stderr, "move: counter before %d %ld, after %d %ld\n", pid1, n1, pid2, n2);
		/* The loop writes into the copy, not into the first rootfs. */
		CHECK(read_counter("cr5", &pid3, &n3));
		CHECK(pid3 == pid1 && n3 == n1);
		out = test_attach_output(c2, "hostname", &status, 0);
		CHECK(status == 0);
		CHECK_STR(out, "cr5\n");
		/* Seen from inside: the same loop's file (retried: the loop
		 * truncates it before each write). */
		for (int i = 0; i < 10; i++) {
			out = test_attach_output(c2, "cat /counter", &status, 0);
			if (status == 0 && sscanf(out, "%d %ld", &pid3, &n3) == 2)
				break;
			usleep(30000);
		}
		CHECK(status == 0 && pid3 == pid1 && n3 >= n2);
		if (pid3 != pid1 || n3 < n2)
			fprintf(stderr, "move: attach: status %d, /counter %s\n", status, out);
		CHECK(c2->stop(c2));
		CHECK(!c2->is_running(c2));
		CHECK_STR(c2->state(c2), "STOPPED");
	}
	CHECK(test_leftover_cgroups("cr5", 1) == 0);
	CHECK(c2->destroy(c2));
	lxc_container_put(c2);
	CHECK(rmdir(lxcpath2) == 0);
	test_finish_container(c, "cr5");
}

/* A connected TCP socket to addr:port, or -1 (retries for ~5 s). */
static int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 5};

	inet_pton(AF_INET, addr, &sa.sin_addr);
	for (int i = 0; i < 50; i++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s < 0)
			return -1;
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return s;
		close(s);
		usleep(100000);
	}
	return -1;
}

/* Sends `msg` on s and whether the echo came back. */
static int echo(int s, const char *msg)
{
	char buf[64] = "";
	ssize_t n, len = strlen(msg), got = 0;

	if (write(s, msg, len) != len)
		return 0;
	while (got < len && (n = read(s, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	return got == len && memcmp(buf, msg, len) == 0;
}

/* One veth on the test's bridge with address `addr` (CIDR), named net0:
 * not eth0, so the template's udhcpc finds nothing to configure. */
static void on_test_bridge(struct lxc_container *c, const char *addr)
{
	CHECK(c->clear_config_item(c, "lxc.net"));
	CHECK(c->set_config_item(c, "lxc.net.0.type", "veth"));
	CHECK(c->set_config_item(c, "lxc.net.0.link", bridge));
	CHECK(c->set_config_item(c, "lxc.net.0.name", "net0"));
	CHECK(c->set_config_item(c, "lxc.net.0.flags", "up"));
	CHECK(c->set_config_item(c, "lxc.net.0.ipv4.address", addr));
}

static void test_veth(void)
{
	struct lxc_container *c = make("cr2", "/bin/nc -l -p 5000 -e /bin/cat");
	char dir[4200], addr[64], ip[32], *pair, *out;
	int s, status;

	if (!c)
		return;
	snprintf(ip, sizeof(ip), "10.%d.0.2", net);
	snprintf(addr, sizeof(addr), "%s/24", ip);
	on_test_bridge(c, addr);
	CHECK(c->start(c, 0, NULL));
	usleep(800000);
	s = tcp_connect(ip, 5000);
	CHECK(s >= 0);
	CHECK(s < 0 || echo(s, "before\n"));
	snprintf(dir, sizeof(dir), "%s/ck2", scratch);
	if (cycle(c, "cr2", dir, "veth")) {
		out = test_attach_output(c, "ip -4 -o addr show net0", &status, 0);
		CHECK(status == 0 && strstr(out, addr));
		CHECK(test_sh("busybox ping -c1 -W2 %s >/dev/null", ip) == 0);
		pair = c->get_running_config_item(c, "lxc.net.0.veth.pair");
		CHECK(pair && if_nametoindex(pair) > 0);
		CHECK(pair && test_sh("ip -o link show %s | grep -q 'master %s'", pair, bridge) == 0);
		/* --tcp-established: the connection made before goes on. */
		if (s >= 0) {
			int alive = echo(s, "after\n");

			printf("t_criu: TCP connection across checkpoint/restore: %s\n", alive ? "kept" : "LOST");
			CHECK(alive);
		}
		CHECK(c->stop(c));
		CHECK(!pair || if_nametoindex(pair) == 0);
		free(pair);
	}
	if (s >= 0)
		close(s);
	test_finish_container(c, "cr2");
}

static void test_migrate(void)
{
	struct lxc_container *c = make("cr3", NULL);
	struct migrate_opts opts;
	char dir[4200], pre[4200], path[4300];
	int pid1 = 0, pid2 = 0, ret;
	long n1 = 0, n2 = 0;
	double t0, t1, t2;

	if (!c)
		return;
	/* Not running: -1. */
	memset(&opts, 0, sizeof(opts));
	snprintf(dir, sizeof(dir), "%s/ck3", scratch);
	opts.directory = dir;
	CHECK(c->migrate(c, MIGRATE_DUMP, &opts, sizeof(opts)) == -1);
	CHECK(c->migrate(c, MIGRATE_PRE_DUMP, &opts, sizeof(opts)) == -1);
	CHECK(!c->checkpoint(c, dir, true, false));
	CHECK(c->start(c, 0, NULL));
	CHECK(c->migrate(c, MIGRATE_RESTORE, &opts, sizeof(opts)) == -1);
	CHECK(c->migrate(c, 42, &opts, sizeof(opts)) == -EINVAL);
	usleep(800000);

	/* pre-dump needs memory tracking: without it, a clean failure. */
	snprintf(pre, sizeof(pre), "%s/pre3", scratch);
	opts.directory = pre;
	ret = c->migrate(c, MIGRATE_PRE_DUMP, &opts, sizeof(opts));
	if (system("criu check --feature mem_dirty_track >/dev/null 2>&1") != 0) {
		CHECK(ret == 1);
		CHECK_ERRSTR(c, "mem_dirty_track");
		fprintf(stderr, "t_criu: pre-dump: %s\n", err(c));
	} else {
		CHECK(ret == 0);
	}
	CHECK(c->is_running(c));

	/* A dump that leaves it running, then a second into the same place. */
	opts.directory = dir;
	opts.stop = false;
	CHECK(c->migrate(c, MIGRATE_DUMP, &opts, sizeof(opts)) == 0);
	CHECK(c->is_running(c));
	snprintf(path, sizeof(path), "%s/inventory.img", dir);
	CHECK(access(path, F_OK) == 0);
	CHECK(c->migrate(c, MIGRATE_DUMP, &opts, sizeof(opts)) == 1);
	CHECK_ERRSTR(c, "fresh directory");

	/* A real dump with stop, then restore, through migrate. */
	snprintf(dir, sizeof(dir), "%s/ck3b", scratch);
	opts.directory = dir;
	opts.stop = true;
	opts.ghost_limit = 1 << 20;
	t0 = now();
	ret = c->migrate(c, MIGRATE_DUMP, &opts, sizeof(opts));
	t1 = now();
	if (ret != 0)
		fprintf(stderr, "migrate dump: %d %s\n", ret, err(c));
	CHECK(ret == 0);
	CHECK(!c->is_running(c));
	CHECK(read_counter("cr3", &pid1, &n1));
	memset(&opts, 0, sizeof(opts));
	opts.directory = dir;
	t1 = now();
	ret = c->migrate(c, MIGRATE_RESTORE, &opts, sizeof(opts));
	t2 = now();
	if (ret != 0)
		fprintf(stderr, "migrate restore: %d %s\n", ret, err(c));
	CHECK(ret == 0);
	printf("t_criu: migrate: dump %.0f ms, restore %.0f ms\n", (t1 - t0) * 1000, (t2 - t1) * 1000);
	usleep(500000);
	CHECK(read_counter("cr3", &pid2, &n2));
	CHECK(pid1 == pid2 && n2 > n1);
	CHECK(c->is_running(c));
	test_finish_container(c, "cr3");
}

static void test_feature_check(void)
{
	struct lxc_container *c = lxc_container_new("crf", lxcpath);
	struct migrate_opts opts;
	int ret, mem, lazy;

	CHECK(c != NULL);
	if (!c)
		return;
	mem = system("criu check --feature mem_dirty_track >/dev/null 2>&1") == 0;
	lazy = system("criu check --feature uffd-noncoop >/dev/null 2>&1") == 0;
	memset(&opts, 0, sizeof(opts));
	opts.features_to_check = FEATURE_MEM_TRACK | FEATURE_LAZY_PAGES;
	ret = c->migrate(c, MIGRATE_FEATURE_CHECK, &opts, sizeof(opts));
	printf("t_criu: FEATURE_CHECK: ret %d, features %#llx (mem_dirty_track %d, uffd-noncoop %d)\n", ret,
	       (unsigned long long)opts.features_to_check, mem, lazy);
	CHECK(ret == (mem && lazy ? 0 : 1));
	CHECK(opts.features_to_check == ((mem ? FEATURE_MEM_TRACK : 0) | (lazy ? FEATURE_LAZY_PAGES : 0)));
	/* Unknown bits: no answer at all. */
	opts.features_to_check = FEATURE_LAZY_PAGES | (1ULL << 7);
	CHECK(c->migrate(c, MIGRATE_FEATURE_CHECK, &opts, sizeof(opts)) == 1);
	CHECK(opts.features_to_check == 0);
	opts.features_to_check = 0;
	CHECK(c->migrate(c, MIGRATE_FEATURE_CHECK, &opts, sizeof(opts)) == 0);
	/* A bigger struct must be zero past ours; a smaller one is padded. */
	{
		unsigned char big[sizeof(opts) + 8];

		memset(big, 0, sizeof(big));
		big[sizeof(opts) + 3] = 1;
		CHECK(c->migrate(c, MIGRATE_FEATURE_CHECK, (struct migrate_opts *)big, sizeof(big)) == -E2BIG);
		big[sizeof(opts) + 3] = 0;
		CHECK(c->migrate(c, MIGRATE_FEATURE_CHECK, (struct migrate_opts *)big, sizeof(big)) == 0);
		CHECK(c->migrate(c, MIGRATE_FEATURE_CHECK, &opts, 16) == 0);
	}
	CHECK(c->migrate(c, MIGRATE_FEATURE_CHECK, NULL, sizeof(opts)) < 0);
	lxc_container_put(c);
}

/* A directory holding a fake `criu` running `body`, first on PATH while
 * `fn` runs. */
static void with_fake_criu(const char *body, void (*fn)(struct lxc_container *, const char *), struct lxc_container *c,
			   const char *tag)
{
	char dir[4200], file[4300], path[8192], *old = strdup(getenv("PATH"));

	snprintf(dir, sizeof(dir), "%s/fake-%s", scratch, tag);
	mkdir(dir, 0755);
	snprintf(file, sizeof(file), "%s/criu", dir);
	test_write_file(file, body, 0755);
	snprintf(path, sizeof(path), "%s:%s", dir, old);
	setenv("PATH", path, 1);
	fn(c, tag);
	setenv("PATH", old, 1);
	free(old);
}

static void fails_running(struct lxc_container *c, const char *tag)
{
	char dir[4300];

	snprintf(dir, sizeof(dir), "%s/ck-%s", scratch, tag);
	CHECK(!c->checkpoint(c, dir, true, false));
	fprintf(stderr, "t_criu: checkpoint with %s criu: %s\n", tag, err(c));
	CHECK(c->is_running(c));
}

static void test_failures(void)
{
	struct lxc_container *c = make("cr4", NULL);
	struct migrate_opts opts;
	char dir[4200], script[4200], path[4400], addr[64], *old;
	int before;

	if (!c)
		return;
	snprintf(addr, sizeof(addr), "10.%d.0.4/24", net);
	on_test_bridge(c, addr);
	CHECK(c->start(c, 0, NULL));
	usleep(500000);

	/* CRIU missing. */
	old = strdup(getenv("PATH"));
	snprintf(path, sizeof(path), "%s/empty-path", scratch);
	mkdir(path, 0755);
	setenv("PATH", path, 1);
	fails_running(c, "missing");
	CHECK_ERRSTR(c, "criu");
	setenv("PATH", old, 1);
	free(old);

	/* Too old. */
	with_fake_criu("#!/bin/sh\necho 'Version: 1.8'\n", fails_running, c, "old");
	CHECK_ERRSTR(c, "2.0 or greater");

	/* A dump that fails: CRIU's own log line in error_string, its log kept,
	 * the container still running. */
	with_fake_criu("#!/bin/sh\n[ \"$1\" = --version ] && { echo 'Version: 4.2'; exit 0; }\n"
		       "while [ $# -gt 0 ]; do [ \"$1\" = -o ] && log=$2; shift; done\n"
		       "echo '(00.000100) Error (criu/cr-dump.c:1): fake dump failure' > \"$log\"\nexit 1\n",
		       fails_running, c, "failing");
	CHECK_ERRSTR(c, "fake dump failure");
	snprintf(path, sizeof(path), "%s/ck-failing/dump.log", scratch);
	CHECK(strstr(test_read_file(path), "fake dump failure") != NULL);

	/* A real dump failing (its action script refuses) with stop: running. */
	snprintf(script, sizeof(script), "%s/refuse.sh", scratch);
	test_write_file(script, "#!/bin/sh\n[ \"$CRTOOLS_SCRIPT_ACTION\" = post-dump ] && exit 1\nexit 0\n", 0755);
	memset(&opts, 0, sizeof(opts));
	snprintf(dir, sizeof(dir), "%s/ck-refused", scratch);
	opts.directory = dir;
	opts.stop = true;
	opts.action_script = script;
	CHECK(c->migrate(c, MIGRATE_DUMP, &opts, sizeof(opts)) == 1);
	fprintf(stderr, "t_criu: refused dump: %s\n", err(c));
	CHECK_ERRSTR(c, "Error");
	CHECK(c->is_running(c));
	CHECK_STR(c->state(c), "RUNNING");

	/* A good checkpoint, then restores that fail: nothing left behind. */
	snprintf(dir, sizeof(dir), "%s/ck-good", scratch);
	CHECK(c->checkpoint(c, dir, true, false));
	CHECK(!c->is_running(c));
	before = test_popen_int("ip -o link | wc -l");
	/* post-restore: the tree, its network and veth are all back by then. */
	test_write_file(script, "#!/bin/sh\n[ \"$CRTOOLS_SCRIPT_ACTION\" = post-restore ] && exit 1\nexit 0\n", 0755);
	memset(&opts, 0, sizeof(opts));
	opts.directory = dir;
	opts.action_script = script;
	CHECK(c->migrate(c, MIGRATE_RESTORE, &opts, sizeof(opts)) == 1);
	fprintf(stderr, "t_criu: refused restore: %s\n", err(c));
	CHECK(!c->is_running(c));
	CHECK(test_leftover_cgroups("cr4", 1) == 0);
	CHECK(test_popen_int("ip -o link | wc -l") == before);
	CHECK(test_sh("pgrep -f '^\\[lxc monitor\\] %s cr4' >/dev/null", lxcpath) != 0);
	snprintf(path, sizeof(path), "%s/restore.log", dir);
	CHECK(access(path, F_OK) == 0);

	snprintf(path, sizeof(path), "%s/ck-empty", scratch);
	mkdir(path, 0700);
	CHECK(!c->restore(c, path, false));
	fprintf(stderr, "t_criu: restore of an empty directory: %s\n", err(c));
	CHECK(!c->is_running(c));
	CHECK(test_leftover_cgroups("cr4", 1) == 0);

	/* The good checkpoint still restores. */
	CHECK(c->restore(c, dir, false));
	CHECK(c->is_running(c));
	test_finish_container(c, "cr4");
}

int main(int argc, char **argv)
{
	lxcpath = test_lxcpath(argc, argv);
	alarm(900);
	if (geteuid() != 0) {
		printf("SKIP t_criu: needs root\n");
		return 0;
	}
	if (!find_criu()) {
		printf("SKIP t_criu: no working criu (set LXC_TEST_CRIU to a CRIU binary whose `criu check` "
		       "passes; this kernel needs CRIU 4.2 or newer)\n");
		return 0;
	}
	snprintf(scratch, sizeof(scratch), "%s/criu", lxcpath);
	mkdir(scratch, 0700);

	net = 100 + getpid() % 100;
	snprintf(bridge, sizeof(bridge), "lxcrscr%d", getpid() % 100000);
	if (test_sh("ip link add %s type bridge", bridge) != 0) {
		fprintf(stderr, "cannot create a bridge\n");
		return 1;
	}
	CHECK(test_sh("ip addr add 10.%d.0.1/24 dev %s && ip link set %s up", net, bridge, bridge) == 0);

	test_feature_check();
	test_lifecycle();
	test_migrate();
	test_move();
	test_veth();
	test_failures();

	test_sh("ip link del %s", bridge);
	test_sh("rm -rf %s", scratch);
	return check_result("t_criu");
}
