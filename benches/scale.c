/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scale benchmark client, run by benches/scale.sh against Debian's liblxc
 * and against ours (LD_LIBRARY_PATH). Usage:
 *   scale create LXCPATH NAME        busybox template, lxc.net.0.type = empty
 *   scale run LXCPATH PREFIX N       start PREFIX-0001..N (configs already
 *                                    written), measure, stop, destroy
 *   scale cleanup LXCPATH            stop and destroy whatever is in LXCPATH
 *                                    (used by the script's trap)
 * "run" prints "key value" lines. Destroy first clears lxc.rootfs.path: the
 * rootfs is shared (and mounted read-only), never the container's own.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double *c = malloc(sizeof(*c) * (n ? n : 1));
	double m;

	if (n == 0) {
		free(c);
		return 0;
	}
	memcpy(c, v, sizeof(*c) * n);
	qsort(c, n, sizeof(*c), cmp_double);
	m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

/* Does a NUL-separated cmdline hold LXCPATH as a whole word (followed by
 * NUL, space or '/')? */
static int cmdline_has(const char *buf, size_t len, const char *lxcpath)
{
	size_t l = strlen(lxcpath), i;

	for (i = 0; i + l <= len; i++)
		if (memcmp(buf + i, lxcpath, l) == 0 &&
		    (i + l == len || buf[i + l] == '\0' || buf[i + l] == ' ' || buf[i + l] == '/'))
			return 1;
	return 0;
}

/* Whether a cmdline is our sentinel's: one per user, serving all its
 * containers, so it is counted whole with those of the run. */
static int is_sentinel(const char *buf, size_t len)
{
	static const char title[] = "[lxc sentinel]";

	return len >= sizeof(title) - 1 && memcmp(buf, title, sizeof(title) - 1) == 0;
}

/* Host processes whose cmdline names LXCPATH (monitors) and our
 * sentinel, except this client: count and sum of Pss (kB). */
static void host_procs(const char *lxcpath, int *count, long *pss_kb)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t self = getpid();

	*count = 0;
	*pss_kb = 0;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], buf[8192], line[256];
		size_t n;
		FILE *f;
		long pid = strtol(e->d_name, NULL, 10);

		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (!cmdline_has(buf, n, lxcpath) && !is_sentinel(buf, n))
			continue;
		(*count)++;
		snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			long v;

			if (sscanf(line, "Pss: %ld", &v) == 1) {
				*pss_kb += v;
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
}

/* The kernel's own part of what grows with N: one pivot_root(2) into an
 * empty tmpfs, in a child's private mount namespace (DIR is covered there
 * only), timed alone. pivot_root visits every thread on the host (to move
 * the roots and working directories that pointed at the old root), and
 * every container start makes one. Median of 15, in microseconds; -1 if
 * the kernel refused. */
static double pivot_root_us(const char *dir)
{
	double v[15];
	int i, n = 0;

	for (i = 0; i < 15; i++) {
		int p[2];
		double t = -1;
		pid_t pid;

		if (pipe(p) < 0)
			break;
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			if (unshare(CLONE_NEWNS) == 0 &&
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
			    mount("none", dir, "tmpfs", 0, NULL) == 0 && chdir(dir) == 0 &&
			    mkdir("old", 0700) == 0) {
				t = now_ns();
				t = syscall(SYS_pivot_root, ".", "old") == 0 ? now_ns() - t : -1;
			}
			if (write(p[1], &t, sizeof(t)) != sizeof(t))
				_exit(1);
			_exit(0);
		}
		close(p[1]);
		if (pid < 0 || read(p[0], &t, sizeof(t)) != sizeof(t))
			t = -1;
		close(p[0]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		if (t >= 0)
			v[n++] = t / 1e3;
	}
	return n ? median(v, n) : -1;
}

/* Processes on the host (numeric entries of /proc). */
static int host_process_count(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] >= '0' && e->d_name[0] <= '9';
	closedir(d);
	return n;
}

static int destroy_shared(struct lxc_container *c)
{
	/* never let destroy reach the shared rootfs */
	c->clear_config_item(c, "lxc.rootfs.path");
	if (c->get_config_item(c, "lxc.rootfs.path", NULL, 0) > 0)
		return 0;
	return c->destroy(c);
}

static int cleanup(const char *lxcpath)
{
	char **names = NULL;
	int n = list_all_containers(lxcpath, &names, NULL), i, bad = 0;

	for (i = 0; i < n; i++) {
		struct lxc_container *c = lxc_container_new(names[i], lxcpath);

		if (c) {
			if (c->is_running(c))
				c->stop(c);
			if (!destroy_shared(c))
				bad++;
			lxc_container_put(c);
		}
		free(names[i]);
	}
	free(names);
	return bad ? 1 : 0;
}

/* With SCALE_HOLD=FILE set, waits with all N running until FILE is gone
 * (FILE.ready says so): time to look at one more start by hand. */
static void hold(void)
{
	const char *file = getenv("SCALE_HOLD");
	char ready[4200];
	FILE *f;

	if (!file || !*file)
		return;
	snprintf(ready, sizeof(ready), "%s.ready", file);
	f = fopen(file, "w");
	if (f)
		fclose(f);
	f = fopen(ready, "w");
	if (f)
		fclose(f);
	while (access(file, F_OK) == 0)
		usleep(100000);
	unlink(ready);
}

static int run(const char *lxcpath, const char *prefix, int n)
{
	double *lat = calloc(n, sizeof(double)), ls[5], t0;
	char name[256];
	int i, tenth = n / 10 ? n / 10 : 1, procs, failures = 0;
	long pss;

	for (i = 0; i < n; i++) {
		struct lxc_container *c;
		double t;

		snprintf(name, sizeof(name), "%s-%04d", prefix, i + 1);
		c = lxc_container_new(name, lxcpath);
		if (!c) {
			fprintf(stderr, "lxc_container_new %s failed\n", name);
			return 1;
		}
		t = now_ns();
		if (!c->start(c, 0, NULL)) {
			fprintf(stderr, "start %s failed (after %d running)\n", name, i);
			lxc_container_put(c);
			printf("started %d\n", i);
			return 1;
		}
		lat[i] = now_ns() - t;
		lxc_container_put(c);
	}
	printf("started %d\n", n);
	hold();
	printf("start_first_tenth_ms %.3f\n", median(lat, tenth) / 1e6);
	printf("start_last_tenth_ms %.3f\n", median(lat + n - tenth, tenth) / 1e6);
	t0 = 0;
	for (i = 0; i < n; i++)
		t0 += lat[i];
	printf("start_total_s %.3f\n", t0 / 1e9);
	printf("host_processes %d\n", host_process_count());
	printf("pivot_root_us %.1f\n", pivot_root_us(lxcpath));

	for (i = 0; i < 5; i++) {
		char **names = NULL;
		int k, got;

		t0 = now_ns();
		got = list_active_containers(lxcpath, &names, NULL);
		ls[i] = now_ns() - t0;
		if (got != n) {
			fprintf(stderr, "list_active_containers: %d of %d\n", got, n);
			failures++;
		}
		for (k = 0; k < got; k++)
			free(names[k]);
		free(names);
	}
	printf("list_active_ms %.3f\n", median(ls, 5) / 1e6);

	/* What a running container costs once its start is over: both
	 * libraries' processes settle (ours give back setup pages) first. */
	sleep(1);
	host_procs(lxcpath, &procs, &pss);
	printf("host_procs %d\n", procs);
	printf("pss_kb_per_container %.1f\n", (double)pss / n);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		struct lxc_container *c;

		snprintf(name, sizeof(name), "%s-%04d", prefix, i + 1);
		c = lxc_container_new(name, lxcpath);
		if (!c || !c->stop(c)) {
			fprintf(stderr, "stop %s failed\n", name);
			failures++;
		}
		if (c)
			lxc_container_put(c);
	}
	printf("stop_all_s %.3f\n", (now_ns() - t0) / 1e9);

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		struct lxc_container *c;

		snprintf(name, sizeof(name), "%s-%04d", prefix, i + 1);
		c = lxc_container_new(name, lxcpath);
		if (!c || !destroy_shared(c)) {
			fprintf(stderr, "destroy %s failed\n", name);
			failures++;
		}
		if (c)
			lxc_container_put(c);
	}
	printf("destroy_all_s %.3f\n", (now_ns() - t0) / 1e9);
	host_procs(lxcpath, &procs, &pss);
	printf("host_procs_after %d\n", procs);
	printf("failures %d\n", failures);
	free(lat);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "create") == 0) {
		struct lxc_container *c = lxc_container_new(argv[3], argv[2]);

		if (!c || !c->set_config_item(c, "lxc.net.0.type", "empty") ||
		    !c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL)) {
			fprintf(stderr, "create failed\n");
			return 1;
		}
		lxc_container_put(c);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "run") == 0)
		return run(argv[2], argv[3], atoi(argv[4]));
	if (argc == 3 && strcmp(argv[1], "cleanup") == 0)
		return cleanup(argv[2]);
	fprintf(stderr, "usage: scale create LXCPATH NAME | run LXCPATH PREFIX N | cleanup LXCPATH\n");
	return 2;
}
