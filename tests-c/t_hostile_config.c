/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A hostile container owner: configuration files that would hang the caller
 * (a FIFO as the config, as an lxc.include) or exhaust it (/dev/zero, a huge
 * file) fail at once with the cause; values and keys that would smuggle
 * extra lines into the saved configuration are refused with EINVAL. An
 * alarm turns any hang into a failure. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

/* Seconds any single step may take before the test fails as hung. */
#define HANG_LIMIT 10

static const char *hung_step = "";

static void on_alarm(int sig)
{
	static const char prefix[] = "t_hostile_config: hung in ";
	ssize_t n;

	(void)sig;
	/* async-signal-safe: write(2) and _exit(2) only */
	n = write(2, prefix, sizeof(prefix) - 1);
	n += write(2, hung_step, strlen(hung_step));
	n += write(2, "\n", 1);
	(void)n;
	_exit(1);
}

static void guard(const char *step)
{
	hung_step = step;
	alarm(HANG_LIMIT);
}

static void unguard(void)
{
	alarm(0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *path_in(const char *lxcpath, const char *name)
{
	static char buf[4][4096];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", lxcpath, name);
	return buf[i];
}

/* load_config of a FIFO, directly and through lxc.include. */
static void test_fifo(const char *lxcpath)
{
	const char *fifo = path_in(lxcpath, "fifo");
	const char *top = path_in(lxcpath, "includes-fifo.conf");
	char line[4200];
	struct lxc_container *c;
	double t0;

	CHECK(mkfifo(fifo, 0600) == 0);
	c = lxc_container_new("hc-load", lxcpath);
	CHECK(c != NULL);
	if (!c)
		goto out;

	guard("load_config(FIFO)");
	t0 = now();
	CHECK(!c->load_config(c, fifo));
	CHECK(now() - t0 < 2);
	unguard();
	CHECK_ERRNUM(c, EINVAL);
	CHECK_ERRSTR(c, fifo);
	CHECK_ERRSTR(c, "FIFO");

	snprintf(line, sizeof(line), "lxc.uts.name = inc\nlxc.include = %s\n", fifo);
	test_write_file(top, line, 0644);
	guard("load_config(lxc.include = FIFO)");
	CHECK(!c->load_config(c, top));
	CHECK(!c->set_config_item(c, "lxc.include", fifo));
	unguard();
	CHECK_ERRNUM(c, EINVAL);
	CHECK_ERRSTR(c, fifo);
	/* A failed load leaves the handle's configuration unchanged. */
	CHECK(c->get_config_item(c, "lxc.uts.name", NULL, 0) == 0);
	lxc_container_put(c);
	CHECK(unlink(top) == 0);
out:
	CHECK(unlink(fifo) == 0);
}

/* lxc_container_new on a container whose config is a FIFO: NULL at once,
 * as for any config that cannot be read. */
static void test_new_on_fifo(const char *lxcpath)
{
	const char *dir = path_in(lxcpath, "hc-fifo");
	const char *config = path_in(lxcpath, "hc-fifo/config");
	struct lxc_container *c;

	CHECK(mkdir(dir, 0755) == 0);
	CHECK(mkfifo(config, 0600) == 0);
	guard("lxc_container_new(config = FIFO)");
	errno = 0;
	c = lxc_container_new("hc-fifo", lxcpath);
	unguard();
	CHECK(c == NULL);
	CHECK(errno == EINVAL);
	if (c)
		lxc_container_put(c);
	CHECK(unlink(config) == 0);
	CHECK(rmdir(dir) == 0);
}

static long max_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* /dev/zero never ends and a huge file is huge: both refused unread. */
static void test_endless_and_huge(const char *lxcpath)
{
	const char *big = path_in(lxcpath, "big.conf");
	struct lxc_container *c = lxc_container_new("hc-big", lxcpath);
	long rss_before = max_rss_kib();
	int fd;

	CHECK(c != NULL);
	if (!c)
		return;
	guard("load_config(/dev/zero)");
	CHECK(!c->load_config(c, "/dev/zero"));
	unguard();
	CHECK_ERRNUM(c, EINVAL);
	CHECK_ERRSTR(c, "/dev/zero");
	CHECK(!c->set_config_item(c, "lxc.include", "/dev/zero"));
	/* Nothing was read: the peak memory did not move by 16 MiB. */
	CHECK(max_rss_kib() - rss_before < 16 * 1024);

	/* One byte over the 16 MiB limit, sparse: refused by its size. */
	fd = open(big, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(ftruncate(fd, (16 << 20) + 1) == 0);
		close(fd);
		guard("load_config(oversized)");
		CHECK(!c->load_config(c, big));
		unguard();
		CHECK_ERRNUM(c, EFBIG);
		CHECK_ERRSTR(c, big);
		CHECK(unlink(big) == 0);
	}
	lxc_container_put(c);
}

/* Line breaks in values (any setter) and keys are refused; what was saved
 * and loaded again holds no hook. */
static void test_injection(const char *lxcpath)
{
	const char *dir = path_in(lxcpath, "hc-inject");
	const char *config = path_in(lxcpath, "hc-inject/config");
	const char *evil = "web02\nlxc.hook.pre-start = /tmp/evil.sh";
	char buf[256];
	struct lxc_container *c = lxc_container_new("hc-inject", lxcpath);

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(c->set_config_item(c, "lxc.uts.name", "web01"));
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));

	CHECK(!c->set_config_item(c, "lxc.uts.name", evil));
	CHECK_ERRNUM(c, EINVAL);
	CHECK_ERRSTR(c, "lxc.uts.name");
	CHECK(!c->set_config_item(c, "lxc.uts.name", "web02\rlxc.hook.pre-start = /tmp/evil.sh"));
	CHECK_ERRNUM(c, EINVAL);
	CHECK(!c->set_config_item(c, "lxc.mount.entry", "/a a none bind 0 0\nlxc.hook.pre-start = /tmp/evil.sh"));
	CHECK_ERRNUM(c, EINVAL);
	CHECK(!c->set_config_item(c, "lxc.net.0.link", "br0\nlxc.hook.pre-start = /tmp/evil.sh"));
	CHECK_ERRNUM(c, EINVAL);
	CHECK(!c->set_config_item(c, "lxc.cgroup2.pids.max\nlxc.hook.pre-start", "/tmp/evil.sh"));
	CHECK_ERRNUM(c, EINVAL);
	CHECK(!c->clear_config_item(c, "lxc.cgroup2.pids.max\nlxc.hook.pre-start = /tmp/evil.sh"));
	CHECK_ERRNUM(c, EINVAL);

	CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) == 5);
	CHECK_STR(buf, "web01");
	CHECK(c->get_config_item(c, "lxc.mount.entry", NULL, 0) == 0);
	CHECK(c->get_config_item(c, "lxc.hook.pre-start", NULL, 0) == 0);

	CHECK(c->save_config(c, NULL));
	lxc_container_put(c);
	CHECK(strstr(test_read_file(config), "evil") == NULL);

	c = lxc_container_new("hc-inject", lxcpath);
	CHECK(c != NULL);
	if (c) {
		CHECK(c->get_config_item(c, "lxc.hook.pre-start", NULL, 0) == 0);
		CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) == 5);
		CHECK_STR(buf, "web01");
		lxc_container_put(c);
	}
	CHECK(unlink(config) == 0);
	CHECK(rmdir(dir) == 0);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);

	signal(SIGALRM, on_alarm);
	test_fifo(lxcpath);
	test_new_on_fifo(lxcpath);
	test_endless_and_huge(lxcpath);
	test_injection(lxcpath);
	return check_result("t_hostile_config");
}
