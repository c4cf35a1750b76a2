/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal assertions for the C tests: count failures, keep going. */
#ifndef TESTS_C_CHECK_H
#define TESTS_C_CHECK_H

#include <fcntl.h>
#include <stdarg.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

static int check_failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                                \
			check_failures++;                                        \
		}                                                                \
	} while (0)

#define CHECK_STR(got, want)                                                        \
	do {                                                                        \
		const char *g_ = (got), *w_ = (want);                               \
		if (!g_ || !w_ || strcmp(g_, w_) != 0) {                            \
			fprintf(stderr, "%s:%d: CHECK_STR failed: %s = \"%s\", want \"%s\"\n", \
				__FILE__, __LINE__, #got, g_ ? g_ : "(null)",        \
				w_ ? w_ : "(null)");                                \
			check_failures++;                                           \
		}                                                                   \
	} while (0)

/* Non-zero when tests-c/run.sh --oracle runs this program on Debian's
 * liblxc 5.0.2 (differential mode) instead of ours. Checks of a difference
 * listed in docs/differences.md "Where we differ from LXC" are skipped then, and so are
 * 6.0-only members of struct lxc_container (5.0's struct ends before
 * rcv_timeout: calling through it would read past the object). */
static inline int test_oracle(void)
{
	const char *v = getenv("LXC_TEST_ORACLE");

	return v && *v && strcmp(v, "0") != 0;
}

/* CHECK that the failure's error_string names `want`. Skipped on the oracle:
 * LXC never sets error_string (docs/differences.md: "error_string is set on every
 * failure"). */
#define CHECK_ERRSTR(c, want)                                                       \
	do {                                                                        \
		if (!test_oracle())                                                 \
			CHECK((c)->error_string && strstr((c)->error_string, (want))); \
	} while (0)

/* CHECK that a failure's error_num is `want` (an errno). Skipped on the
 * oracle: LXC 5.0.2's failed start leaves 1 there (docs/differences.md: "error_string is
 * set on every failure"). */
#define CHECK_ERRNUM(c, want)                                                       \
	do {                                                                        \
		if (!test_oracle())                                                 \
			CHECK((c)->error_num == (want));                            \
	} while (0)

/* The private lxcpath of this test: argv[1], given by tests-c/run.sh. */
/* Whether `pid` has a handler for `sig` (SigCgt of /proc/<pid>/status):
 * busybox init is ready for signals once it has them. */
static inline int test_catches(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigCgt: %llx", &mask) == 1)
			break;
	fclose(f);
	return (mask >> (sig - 1)) & 1;
}

static inline const char *test_lxcpath(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s <private lxcpath>\n", argv[0]);
		exit(2);
	}
	return argv[1];
}

/* Output of `sh -c cmd` run inside the container through attach_run_wait
 * (stdout, and stderr too when with_stderr); *status gets its result. The
 * buffer is static: each call overwrites the previous output. */
static inline char *test_attach_output(struct lxc_container *c, const char *cmd, int *status, int with_stderr)
{
	static char out[8192];
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	const char *argv[] = {"sh", "-c", cmd, NULL};
	int fds[2];
	ssize_t n, total = 0;

	out[0] = 0;
	*status = -1;
	if (pipe(fds) < 0)
		return out;
	opts.stdout_fd = fds[1];
	if (with_stderr)
		opts.stderr_fd = fds[1];
	*status = c->attach_run_wait(c, &opts, "sh", argv);
	close(fds[1]);
	while ((n = read(fds[0], out + total, sizeof(out) - 1 - total)) > 0)
		total += n;
	out[total] = 0;
	close(fds[0]);
	return out;
}

/* As test_attach_output, logging a non-zero status. */
static inline char *test_inside_logged(struct lxc_container *c, const char *cmd)
{
	int status;
	char *out = test_attach_output(c, cmd, &status, 0);

	if (status != 0)
		fprintf(stderr, "inside(%s): status %d, output %s\n", cmd, status, out);
	return out;
}

static inline int test_leftover_cgroups_now(const char *name, int verbose);

/* Number of cgroup directories named lxc.payload.<name>* on the host. On
 * the oracle, waits up to 5 s for none: LXC 5.0.2's failed start returns
 * before its monitor has removed them (docs/differences.md "Where we differ"). */
static inline int test_leftover_cgroups(const char *name, int verbose)
{
	for (int i = 0; test_oracle() && i < 50 && test_leftover_cgroups_now(name, 0) > 0; i++)
		usleep(100000);
	return test_leftover_cgroups_now(name, verbose);
}

static inline int test_leftover_cgroups_now(const char *name, int verbose)
{
	char cmd[256], line[512];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "find /sys/fs/cgroup -type d -name 'lxc.payload.%s*' 2>/dev/null", name);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (verbose)
			fprintf(stderr, "leftover cgroup: %s", line);
		n++;
	}
	pclose(f);
	return n;
}

/* A new busybox container `name` in lxcpath with lxc.net.0.type = empty
 * (never `none`: the template's udhcpc would reconfigure the host; set
 * before create, it also makes LXC skip default.conf's lxcbr0 veth). On
 * failure: logs, counts a failed check and returns NULL. */
/* A busybox container in an empty network namespace; with `mapped`, its
 * root is host 100000 (lxc.idmap u/g 0 100000 65536) and the lxcpath and
 * its parent are made traversable (0711) so the mapped root reaches its
 * rootfs, as LXC requires. NULL (a failed check) when create fails. */
static inline struct lxc_container *test_new_busybox_as(const char *lxcpath, const char *name,
							int mapped)
{
	struct lxc_container *c;

	if (mapped) {
		char parent[4096];

		snprintf(parent, sizeof(parent), "%s", lxcpath);
		CHECK(chmod(dirname(parent), 0711) == 0 && chmod(lxcpath, 0711) == 0);
	}
	c = lxc_container_new(name, lxcpath);
	CHECK(c != NULL);
	if (!c)
		return NULL;
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	if (mapped) {
		CHECK(c->set_config_item(c, "lxc.idmap", "u 0 100000 65536"));
		CHECK(c->set_config_item(c, "lxc.idmap", "g 0 100000 65536"));
	}
	if (!c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL)) {
		fprintf(stderr, "create %s failed: %d %s\n", name, c->error_num,
			c->error_string ? c->error_string : "");
		CHECK(0);
		lxc_container_put(c);
		return NULL;
	}
	return c;
}

static inline struct lxc_container *test_new_busybox(const char *lxcpath, const char *name)
{
	return test_new_busybox_as(lxcpath, name, 0);
}

/* system() of a printf-formatted command line. */
static inline int test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int test_sh(const char *fmt, ...)
{
	char cmd[4608];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* The first line of a printf-formatted command's output as a number; 0
 * when it prints nothing, -1 when it cannot be run. */
static inline int test_popen_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int test_popen_int(const char *fmt, ...)
{
	char cmd[4608], out[32] = "";
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (!fgets(out, sizeof(out), f))
		out[0] = 0;
	pclose(f);
	return atoi(out);
}

/* A veth pair <name> and <name>x, made with `ip link add` options `opts`
 * ("" for none, "mtu 1450"), <name> set up when `up`; true on success. */
static inline int test_add_veth(const char *name, const char *opts, int up)
{
	return test_sh("ip link add %s %s type veth peer name %sx%s%s", name, opts, name,
		       up ? " && ip link set up dev " : "", up ? name : "") == 0;
}

/* Whether `ip neigh show proxy dev <dev>` lists addr. */
static inline int test_has_proxy(const char *dev, const char *addr)
{
	return test_sh("ip neigh show proxy dev %s | grep -q '^%s '", dev, addr) == 0;
}

/* The contents of `path` ("" when it cannot be read). The buffer is
 * static: each call overwrites the previous contents. */
static inline const char *test_read_file(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "re");
	size_t n;

	buf[0] = 0;
	if (!f)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* Writes `text` to `path` and gives it `mode`, counting failures. */
static inline void test_write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "we");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(fputs(text, f) >= 0);
	CHECK(fclose(f) == 0);
	CHECK(chmod(path, mode) == 0);
}

/* Appends `line` to `file`, or removes the first line equal to it
 * (remove != 0), keeping the rest; under an flock of the file, as tests
 * running at once edit /etc/subuid and /etc/subgid. 0 on success. */
static inline int test_edit_line(const char *file, const char *line, int remove)
{
	char buf[1 << 16], out[1 << 16];
	size_t len = 0, olen = 0, want = strlen(line);
	int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644), found = 0, ret = -1;
	ssize_t n;

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0)
		goto out;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	if (n < 0)
		goto out;
	buf[len] = 0;
	if (!remove) {
		/* O_APPEND is not set: write at the end we just read to. */
		ret = pwrite(fd, line, want, len) == (ssize_t)want ? 0 : -1;
		goto out;
	}
	for (char *p = buf, *nl; *p; p = nl) {
		nl = strchr(p, '\n');
		nl = nl ? nl + 1 : p + strlen(p);
		if (!found && (size_t)(nl - p) == want && strncmp(p, line, want) == 0) {
			found = 1;
			continue;
		}
		memcpy(out + olen, p, nl - p);
		olen += nl - p;
	}
	if (found && ftruncate(fd, 0) == 0 && pwrite(fd, out, olen, 0) == (ssize_t)olen)
		ret = 0;
out:
	close(fd);
	return ret;
}

/* The line test_oracle_root_subids added ("" when none). */
static char test_root_subline[64];

/* Removes the ranges test_oracle_root_subids added (at exit too). */
static inline void test_oracle_root_subids_end(void)
{
	if (!test_root_subline[0])
		return;
	CHECK(test_edit_line("/etc/subuid", test_root_subline, 1) == 0);
	CHECK(test_edit_line("/etc/subgid", test_root_subline, 1) == 0);
	test_root_subline[0] = 0;
}

/* On the oracle only: Debian's LXC 5.0.2 writes lxc.idmap maps through
 * newuidmap/newgidmap even as root, which then needs /etc/subuid and
 * /etc/subgid ranges for root (docs/differences.md "Where we differ": "As root,
 * lxc.idmap maps are written directly"). Gives root `base`:`range` in both
 * until test_oracle_root_subids_end or exit. */
static inline void test_oracle_root_subids(unsigned base, unsigned range)
{
	if (!test_oracle() || test_root_subline[0])
		return;
	snprintf(test_root_subline, sizeof(test_root_subline), "root:%u:%u\n", base, range);
	CHECK(test_edit_line("/etc/subuid", test_root_subline, 0) == 0);
	CHECK(test_edit_line("/etc/subgid", test_root_subline, 0) == 0);
	atexit(test_oracle_root_subids_end);
}

/* /proc/self/cgroup as the program started, kept for test_oracle_cleanup. */
static char test_start_cgroups[4096];

__attribute__((constructor)) static void test_record_cgroups(void)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	size_t n;

	if (!f)
		return;
	n = fread(test_start_cgroups, 1, sizeof(test_start_cgroups) - 1, f);
	test_start_cgroups[n] = 0;
	fclose(f);
}

/* Moves this process back to the cgroups it started in (LXC 5.0.2 may have
 * moved it into a lxc.monitor.<name> cgroup). */
static inline void test_return_home(void)
{
	char line[512], path[1024];
	const char *p = test_start_cgroups;
	FILE *f;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *ctrl, *cg;

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p += len + (nl ? 1 : 0);
		ctrl = strchr(line, ':');
		cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
		if (!cg)
			continue;
		*cg++ = 0;
		ctrl++;
		if (!strncmp(ctrl, "name=", 5))
			ctrl += 5;
		if (*ctrl)
			snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%s/cgroup.procs", ctrl, cg);
		else if (access("/sys/fs/cgroup/unified", F_OK) == 0)
			snprintf(path, sizeof(path), "/sys/fs/cgroup/unified%s/cgroup.procs", cg);
		else /* a pure cgroup2 view (t_cgroup2) */
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cgroup.procs", cg);
		f = fopen(path, "w");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
}

/* On the oracle only: Debian's LXC 5.0 leaves an empty lxc.monitor.<name>
 * cgroup in every hierarchy on each start (docs/differences.md "No leaked cgroups"), and
 * it may move the calling process there too. Put this process back where it started, remove those
 * directories, and CHECK that nothing lxc.*.<name> is left, so an oracle run
 * leaves nothing on the host. Call it once the container <name> is stopped. */
static inline void test_oracle_cleanup(const char *name)
{
	char line[512], cmd[512];
	FILE *f;

	if (!test_oracle())
		return;
	test_return_home();
	snprintf(cmd, sizeof(cmd),
		 "find /sys/fs/cgroup -depth -type d \\( -name 'lxc.monitor.%s' -o -name 'lxc.monitor.%s-*' \\)"
		 " -exec rmdir {} + 2>/dev/null", name, name);
	/* A monitor may still be leaving its cgroup: retry for up to 5 s. */
	for (int i = 0; i < 50 && system(cmd) != 0; i++)
		usleep(100000);
	snprintf(cmd, sizeof(cmd),
		 "find /sys/fs/cgroup -type d \\( -name 'lxc.*.%s' -o -name 'lxc.*.%s-*' \\) 2>/dev/null", name, name);
	f = popen(cmd, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		fprintf(stderr, "left by the oracle: %s", line);
		check_failures++;
	}
	pclose(f);
}

/* The end of a test's container: stopped if it still runs, no cgroup of it
 * left, destroyed and released; on the oracle, LXC's leftovers removed. */
static inline void test_finish_container(struct lxc_container *c, const char *name)
{
	if (c->is_running(c))
		c->stop(c);
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(c->destroy(c));
	lxc_container_put(c);
	test_oracle_cleanup(name);
}

static inline int check_result(const char *name)
{
	if (check_failures)
		fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
	return check_failures ? 1 : 0;
}

#endif
