/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A hostile root inside a container cannot reach its host caller through
 * attach or through an application container's reaper.
 *
 * The attacker (tests-c/hostile/attacker.c, built here with gcc -static
 * into the rootfs) runs as root inside, started detached through attach,
 * and attacks every new process of the container while this program runs
 * attach_run_wait, attach(lxc_attach_run_command) and attach with a
 * function (the fork path): it writes this program's memory through
 * /proc/PID/mem at the address of `canary`, holds /proc/PID/exe, reads
 * /proc/PID/fd and takes descriptors with pidfd_getfd, looks for a host
 * marker through a directory descriptor, /proc/PID/root and cwd, notes
 * any host directory (one its root does not show), enters the mount
 * namespace of any pidfd it takes, ptraces; at the end it tries to reopen
 * every executable it holds for writing and to make the mount under it
 * writable. This program holds, without O_CLOEXEC, a host file
 * (/tmp/hostile-secret-<pid>) and a directory descriptor on the host's "/"
 * (the marker /tmp/hostile-marker-<pid> is reachable through it): none may
 * reach the container.
 *
 * Done for a privileged container and an unprivileged one (lxc.idmap),
 * then for each as an application container whose command is the
 * attacker (our reaper is its PID 1).
 *
 * The old design created the attached process with CLONE_VM|CLONE_VFORK:
 * visible in the container's pid namespace before its exec while sharing
 * this program's memory. The attacker's pread at the canary's address then
 * reads the canary's value in that process and its pwrite lands in this
 * program: `canary` changes and the CHECKs on it and on p1/p2
 * mem_read_match fail (in the privileged container, whose root has
 * CAP_SYS_PTRACE over the host); and /proc/PID/exe of that process is this
 * program's executable (exe_caller). Now the process the container sees
 * before its program runs is a fork of our helper, non-dumpable, executed
 * from a read-only handle: nothing of this program is in it.
 *
 * Limits, as documented: with a function payload (fork path) the attached
 * process is a private copy of the caller (copy-on-write, non-dumpable); a
 * root inside with CAP_SYS_PTRACE over the host (a privileged container
 * not dropping sys_ptrace) can read and write that copy, see its
 * descriptors and executable. So for the privileged container the fork
 * path is only checked for what the copy guarantees: writes do not reach
 * this program. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

/* Attaches per container: enough for the attacker to catch processes of
 * ours before their exec (sightings) every time. */
#define RUN_WAITS 300
#define RUN_COMMANDS 50
#define FUNCTIONS 50

/* On x86_64 the attacker starts with raw syscalls before libc's start-up
 * code (hostile/attacker.c), to race our reaper's closing of its
 * descriptors from its first instruction. */
#ifdef __x86_64__
#define ATTACKER_ENTRY "-Wl,-e,attacker_entry"
#else
#define ATTACKER_ENTRY ""
#endif

/* The attacker's phases (the counters of its report are per phase). */
enum {
	PHASE_IDLE = 0,
	PHASE_RUN_WAIT = 1,
	PHASE_RUN_COMMAND = 2,
	PHASE_FUNCTION = 3,
	PHASE_FD_LISTING = 4,
	PHASE_APP = 5,
};

/* What the attacker looks for in this program's memory and writes to. */
static volatile uint64_t canary;
static uint64_t canary_expected;

static char secret_path[64], marker_path[64];
static const char *stage = "setup";

static void on_alarm(int sig)
{
	static const char msg[] = "t_hostile_attach: timed out during: ";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0 || write(2, stage, strlen(stage)) < 0 ||
	    write(2, "\n", 1) < 0)
		_exit(1);
	_exit(1);
}

/* A hang fails the test (in `what`) instead of blocking run.sh. */
static void guard(unsigned seconds, const char *what)
{
	stage = what;
	alarm(seconds);
}

/* Size and FNV-1a hash of a file's bytes. */
struct digest {
	long long size;
	uint64_t hash;
};

static struct digest file_digest(const char *path)
{
	struct digest d = {-1, 1469598103934665603ULL};
	unsigned char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return d;
	d.size = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			d.hash = (d.hash ^ buf[i]) * 1099511628211ULL;
		d.size += n;
	}
	close(fd);
	return d;
}

/* The installed monitor (and attach helper): $LXC_RS_MONITOR, else next
 * to the library, where the library looks for it. */
static int find_monitor(char *out, size_t size)
{
	static const char *const rel[] = {"../libexec/lxc", "../../libexec/lxc", ".", ".."};
	const char *env = getenv("LXC_RS_MONITOR");
	char lib[4096];
	Dl_info info;

	if (env && *env) {
		snprintf(out, size, "%s", env);
		return access(out, X_OK) == 0;
	}
	if (!dladdr((void *)lxc_container_new, &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, lib))
		return 0;
	*strrchr(lib, '/') = 0;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(out, size, "%s/%s/lxc-rs-monitor", lib, rel[i]);
		if (access(out, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* Whether `gcc -static` works here (libc.a installed). */
static int static_gcc_works(void)
{
	char src[64], bin[64];
	int ok;

	snprintf(src, sizeof(src), "/tmp/hostile-probe-%d.c", (int)getpid());
	snprintf(bin, sizeof(bin), "/tmp/hostile-probe-%d", (int)getpid());
	test_write_file(src, "int main(void) { return 0; }\n", 0644);
	ok = test_sh("gcc -static -o %s %s 2>/dev/null && %s", bin, src, bin) == 0;
	unlink(src);
	unlink(bin);
	return ok;
}

/* rootfs/<file> */
static const char *in_root(const char *rootfs, const char *file)
{
	static char path[4][4096];
	static int slot;

	slot = (slot + 1) % 4;
	snprintf(path[slot], sizeof(path[slot]), "%s/%s", rootfs, file);
	return path[slot];
}

/* The attacker's inputs and its binary, in the rootfs. */
static int plant_attacker(const char *rootfs, const char *monitor)
{
	char config[1024], src[4096];
	struct stat self_st, mon_st;

	snprintf(src, sizeof(src), "%s", __FILE__);
	*strrchr(src, '/') = 0;
	if (test_sh("gcc -static -O2 %s -o %s %s/hostile/attacker.c", ATTACKER_ENTRY,
		    in_root(rootfs, "attacker"), src) != 0) {
		fprintf(stderr, "cannot build the attacker\n");
		return 0;
	}
	CHECK(stat("/proc/self/exe", &self_st) == 0);
	CHECK(stat(monitor, &mon_st) == 0);
	snprintf(config, sizeof(config),
		 "addr=%p\nvalue=%" PRIu64 "\nmarker=%s\nsecret=%s\n"
		 "caller_dev=%llu\ncaller_ino=%llu\nmonitor_dev=%llu\nmonitor_ino=%llu\n",
		 (void *)&canary, canary_expected, marker_path + 1, strrchr(secret_path, '/') + 1,
		 (unsigned long long)self_st.st_dev, (unsigned long long)self_st.st_ino,
		 (unsigned long long)mon_st.st_dev, (unsigned long long)mon_st.st_ino);
	test_write_file(in_root(rootfs, "hostile-config"), config, 0644);
	return 1;
}

/* Removes the attacker's exchange files (not the binary nor the config). */
static void clear_exchange(const char *rootfs)
{
	static const char *const files[] = {"hostile-stop", "hostile-report", "hostile-ack",
					    "hostile-phase"};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(in_root(rootfs, files[i]));
}

/* Tells the attacker the phase and waits until it noticed. */
static void set_phase(const char *rootfs, int phase)
{
	char text[16];

	snprintf(text, sizeof(text), "%d", phase);
	test_write_file(in_root(rootfs, "hostile-phase"), text, 0644);
	for (int i = 0; i < 5000; i++) {
		if (atoi(test_read_file(in_root(rootfs, "hostile-ack"))) == phase &&
		    test_read_file(in_root(rootfs, "hostile-ack"))[0])
			return;
		usleep(1000);
	}
	fprintf(stderr, "the attacker did not acknowledge phase %d\n", phase);
	CHECK(0);
}

/* The attacker's report once it wrote it ("" after `seconds`). */
static char *wait_report(const char *rootfs, int seconds)
{
	static char report[65536];
	const char *path = in_root(rootfs, "hostile-report");

	report[0] = 0;
	for (int i = 0; i < seconds * 100 && access(path, F_OK) != 0; i++)
		usleep(10000);
	snprintf(report, sizeof(report), "%s", test_read_file(path));
	return report;
}

/* A counter of the report: p<phase>_<counter>, -1 when absent. */
static long counter(const char *report, int phase, const char *name)
{
	char key[96];
	const char *p = report;
	size_t len;

	len = (size_t)snprintf(key, sizeof(key), "p%d_%s=", phase, name);
	while (p && *p) {
		if (strncmp(p, key, len) == 0)
			return strtol(p + len, NULL, 10);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

/* Sum of a counter over the phases of `mask` (bit per phase); a missing
 * counter makes the sum -1000000, which fails any check it enters. */
static long sum(const char *report, unsigned mask, const char *name)
{
	long total = 0;

	for (int p = 0; p < 10; p++) {
		if (!(mask & (1u << p)))
			continue;
		long v = counter(report, p, name);

		total += v < 0 ? -1000000 : v;
	}
	return total;
}

static void print_report(const char *label, const char *report)
{
	static const char *const shown[] = {
		"attempts", "sightings", "mem_open", "mem_read_match", "mem_write", "exe_fds",
		"exe_caller", "exe_monitor", "exe_ro_mount", "fd_lists", "secret_targets",
		"marker_via_fd", "getfd", "getfd_secret", "marker_via_getfd", "marker_via_root",
		"root_foreign", "foreign_dir", "pidfd_taken", "marker_via_pidfd", "ptrace", "exe_writable", "exe_sealed", "exe_erofs", "exe_eperm", "exe_busy",
		"exe_unlocked", "exe_unlocked_writable", "exe_unlocked_busy",
	};
	const char *p;

	fprintf(stderr, "%s: attacker %.*s\n", label, (int)strcspn(report, "\n"), report);
	for (int phase = 0; phase <= PHASE_APP; phase++) {
		int any = 0;

		for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
			long v = counter(report, phase, shown[i]);

			if (v == 0)
				continue;
			fprintf(stderr, "%s  p%d %s=%ld", any ? "" : label, phase, shown[i], v);
			any = 1;
		}
		if (any)
			fprintf(stderr, "\n");
	}
	for (p = strstr(report, "_note="); p; p = strstr(p + 1, "_note=")) {
		const char *start = p;

		while (start > report && start[-1] != '\n')
			start--;
		fprintf(stderr, "%s  %.*s\n", label, (int)strcspn(start, "\n"), start);
	}
}

static int noop_payload(void *arg)
{
	(void)arg;
	return 0;
}

/* The descriptor numbers a program run inside sees (ls of its own
 * /proc/self/fd), through attach_run_wait or, with `run_command`, attach
 * with lxc_attach_run_command. The pipe is made without O_CLOEXEC: its read
 * end must not show up inside either. */
static void fds_inside(struct lxc_container *c, int run_command, char *out, size_t size)
{
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	char *argv[] = {"ls", "/proc/self/fd", NULL};
	lxc_attach_command_t cmd = {"ls", argv};
	size_t len = 0;
	int p[2], status = -1;
	pid_t pid = -1;
	ssize_t n;

	out[0] = 0;
	CHECK(pipe(p) == 0);
	opts.stdout_fd = p[1];
	if (run_command) {
		CHECK(c->attach(c, lxc_attach_run_command, &cmd, &opts, &pid) == 0);
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	} else {
		status = c->attach_run_wait(c, &opts, "ls", (const char *const *)argv);
	}
	CHECK(status == 0);
	close(p[1]);
	while (len + 1 < size && (n = read(p[0], out + len, size - 1 - len)) > 0)
		len += n;
	out[len] = 0;
	close(p[0]);
}

/* One container (running) under attack through attach. */
static void attack_through_attach(struct lxc_container *c, const char *rootfs, int privileged)
{
	const char *label = privileged ? "privileged" : "unprivileged";
	char *attacker_argv[] = {"/attacker", "--attach", NULL};
	char *true_argv[] = {"/bin/true", NULL};
	lxc_attach_command_t attacker = {"/attacker", attacker_argv};
	lxc_attach_command_t run_true = {"/bin/true", true_argv};
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	int ok, status, waited = 0;
	pid_t attacker_pid = -1, pid;
	char listing[512], *report;
	struct timespec t0, t1;
	unsigned strict, all;

	clear_exchange(rootfs);
	test_write_file(in_root(rootfs, "hostile-phase"), "0", 0644);
	guard(30, "starting the attacker");
	CHECK(c->attach(c, lxc_attach_run_command, &attacker, &opts, &attacker_pid) == 0);
	if (attacker_pid <= 0)
		return;
	set_phase(rootfs, PHASE_IDLE);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	guard(60, "attach_run_wait under attack");
	set_phase(rootfs, PHASE_RUN_WAIT);
	for (int i = ok = 0; i < RUN_WAITS; i++) {
		const char *argv[] = {"/bin/true", NULL};

		ok += c->attach_run_wait(c, &opts, "/bin/true", argv) == 0;
	}
	CHECK(ok == RUN_WAITS);
	CHECK(canary == canary_expected);

	guard(30, "attach(lxc_attach_run_command) under attack");
	set_phase(rootfs, PHASE_RUN_COMMAND);
	for (int i = ok = 0; i < RUN_COMMANDS; i++) {
		pid = -1;
		if (c->attach(c, lxc_attach_run_command, &run_true, &opts, &pid) == 0 && pid > 0)
			ok += waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	CHECK(ok == RUN_COMMANDS);
	CHECK(canary == canary_expected);

	guard(30, "attach(function) under attack");
	set_phase(rootfs, PHASE_FUNCTION);
	for (int i = ok = 0; i < FUNCTIONS; i++) {
		pid = -1;
		if (c->attach(c, noop_payload, NULL, &opts, &pid) == 0 && pid > 0)
			ok += waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	CHECK(ok == FUNCTIONS);
	CHECK(canary == canary_expected);

	/* A program gets 0-2 only: ls's own directory descriptor is 3, the
	 * lowest free one (any leaked descriptor would take it or show). */
	guard(30, "listing descriptors inside");
	set_phase(rootfs, PHASE_FD_LISTING);
	fds_inside(c, 0, listing, sizeof(listing));
	CHECK_STR(listing, "0\n1\n2\n3\n");
	fds_inside(c, 1, listing, sizeof(listing));
	CHECK_STR(listing, "0\n1\n2\n3\n");
	clock_gettime(CLOCK_MONOTONIC, &t1);

	guard(30, "waiting for the attacker's report");
	test_write_file(in_root(rootfs, "hostile-stop"), "", 0644);
	report = wait_report(rootfs, 20);
	CHECK(report[0] != 0);
	for (int i = 0; i < 500 && !waited; i++) {
		waited = waitpid(attacker_pid, &status, WNOHANG) == attacker_pid;
		if (!waited)
			usleep(10000);
	}
	if (!waited) {
		kill(attacker_pid, SIGKILL);
		waitpid(attacker_pid, &status, 0);
	}
	CHECK(waited && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	alarm(0);
	fprintf(stderr, "%s: %d attaches in %.1f s\n", label, RUN_WAITS + RUN_COMMANDS + FUNCTIONS + 2,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	print_report(label, report);

	/* Nothing of this program reached: its memory (the canary is the
	 * ground truth for writes), its executable, its descriptors, the
	 * host's filesystem. The fork path of a privileged container is the
	 * documented exception (a private copy of the caller): only the
	 * canary covers it there. */
	all = 1u << PHASE_IDLE | 1u << PHASE_RUN_WAIT | 1u << PHASE_RUN_COMMAND |
	      1u << PHASE_FUNCTION | 1u << PHASE_FD_LISTING;
	strict = privileged ? all & ~(1u << PHASE_FUNCTION) : all;
	CHECK(canary == canary_expected);
	CHECK(sum(report, strict, "mem_read_match") == 0);
	CHECK(sum(report, strict, "mem_write") == 0);
	CHECK(sum(report, strict, "exe_caller") == 0);
	CHECK(sum(report, strict, "secret_targets") == 0);
	CHECK(sum(report, strict, "getfd_secret") == 0);
	CHECK(sum(report, strict, "marker_via_fd") == 0);
	CHECK(sum(report, strict, "marker_via_getfd") == 0);
	CHECK(sum(report, all, "marker_via_root") == 0);
	CHECK(sum(report, all, "root_foreign") == 0);
	/* No host directory either (one outside the rootfs or the cgroup
	 * namespace would lead out of the container). */
	CHECK(sum(report, strict, "foreign_dir") == 0);
	/* Nor a pidfd whose mount namespace is the host's. */
	CHECK(sum(report, strict, "marker_via_pidfd") == 0);
	/* Every executable of ours it holds stays unwritable: no reopen for
	 * writing, none refused only because it runs (ETXTBSY on a writable
	 * mount), and its read-only mount cannot be made writable: a root
	 * inside has CAP_SYS_ADMIN over its own mount namespace, and
	 * mount_setattr() lets it clear MOUNT_ATTR_RDONLY on the root of a
	 * detached mount (one still held open by whoever made it); ETXTBSY
	 * would then be all that keeps it from writing our binary, until
	 * nothing runs it. */
	CHECK(sum(report, strict, "exe_writable") == 0);
	CHECK(sum(report, strict, "exe_busy") == 0);
	CHECK(sum(report, strict, "exe_unlocked") == 0);
	if (privileged) {
		/* It did race: processes of ours caught before their exec. */
		CHECK(sum(report, 1u << PHASE_RUN_WAIT | 1u << PHASE_RUN_COMMAND, "sightings") > 0);
	} else {
		/* Non-dumpable, with memory of a namespace the container's root
		 * has no capability over: nothing opens, nothing is traced. */
		CHECK(sum(report, all, "mem_open") == 0);
		CHECK(sum(report, all, "exe_fds") == 0);
		CHECK(sum(report, all, "fd_lists") == 0);
		CHECK(sum(report, all, "getfd") == 0);
		CHECK(sum(report, all, "ptrace") == 0);
	}
	clear_exchange(rootfs);
}

/* The container as an application container whose command is the
 * attacker: our reaper, PID 1, is what it attacks. */
static void attack_reaper(struct lxc_container *c, const char *rootfs, int privileged)
{
	const char *label = privileged ? "privileged app" : "unprivileged app";
	char *const argv[] = {"/attacker", "--app", NULL};
	unsigned app = 1u << PHASE_APP;
	char *report;

	clear_exchange(rootfs);
	test_write_file(in_root(rootfs, "hostile-phase"), "5", 0644);
	guard(40, "application container under attack");
	if (!c->start(c, 1, argv)) {
		fprintf(stderr, "%s: start failed: %s\n", label, c->error_string ? c->error_string : "");
		CHECK(0);
		return;
	}
	report = wait_report(rootfs, 20);
	CHECK(report[0] != 0);
	CHECK(c->wait(c, "STOPPED", 10));
	alarm(0);
	print_report(label, report);
	CHECK(counter(report, PHASE_APP, "attempts") > 0);
	/* PID 1 holds nothing but 0-2 once its command runs: none of the
	 * monitor's descriptors (its sockets, a pidfd, ptys) can be taken,
	 * however soon the attacker (from its entry point) tries. */
	CHECK(counter(report, PHASE_APP, "getfd") == 0);
	CHECK(counter(report, PHASE_APP, "pidfd_taken") == 0);
	CHECK(counter(report, PHASE_APP, "mem_read_match") == 0);
	CHECK(counter(report, PHASE_APP, "exe_caller") == 0);
	CHECK(counter(report, PHASE_APP, "secret_targets") == 0);
	CHECK(counter(report, PHASE_APP, "marker_via_fd") == 0);
	CHECK(counter(report, PHASE_APP, "marker_via_getfd") == 0);
	CHECK(counter(report, PHASE_APP, "marker_via_root") == 0);
	CHECK(counter(report, PHASE_APP, "foreign_dir") == 0);
	CHECK(counter(report, PHASE_APP, "marker_via_pidfd") == 0);
	CHECK(counter(report, PHASE_APP, "exe_writable") == 0);
	CHECK(counter(report, PHASE_APP, "exe_busy") == 0);
	CHECK(counter(report, PHASE_APP, "exe_unlocked") == 0);
	if (!privileged)
		CHECK(sum(report, app, "exe_fds") == 0 && sum(report, app, "mem_open") == 0);
	clear_exchange(rootfs);
}

static void run_container(const char *lxcpath, const char *name, int privileged, const char *monitor)
{
	struct lxc_container *c;
	char rootfs[4096];

	guard(120, privileged ? "creating the privileged container" : "creating the unprivileged container");
	c = test_new_busybox_as(lxcpath, name, !privileged);
	if (!c)
		return;
	snprintf(rootfs, sizeof(rootfs), "%s/%s/rootfs", lxcpath, name);
	if (!plant_attacker(rootfs, monitor)) {
		CHECK(0);
	} else if (!c->start(c, 0, NULL) || !c->wait(c, "RUNNING", 10)) {
		fprintf(stderr, "start %s failed: %s\n", name, c->error_string ? c->error_string : "");
		CHECK(0);
	} else {
		attack_through_attach(c, rootfs, privileged);
		guard(30, "stopping");
		CHECK(c->stop(c));
		attack_reaper(c, rootfs, privileged);
	}
	guard(60, "destroying");
	test_finish_container(c, name);
	alarm(0);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct digest self_before, self_after, mon_before, mon_after;
	char name[64], monitor[4096];
	int secret_fd, root_fd;

	signal(SIGALRM, on_alarm);
	if (!static_gcc_works()) {
		fprintf(stderr, "SKIP t_hostile_attach: gcc -static does not work here (libc.a missing?)\n");
		return 0;
	}
	if (!find_monitor(monitor, sizeof(monitor))) {
		fprintf(stderr, "cannot find lxc-rs-monitor\n");
		return 1;
	}
	while (getrandom((void *)&canary_expected, sizeof(canary_expected), 0) != sizeof(canary_expected))
		;
	canary_expected |= 1;
	canary = canary_expected;

	/* What must not leak, held the careless way (no O_CLOEXEC). */
	snprintf(secret_path, sizeof(secret_path), "/tmp/hostile-secret-%d", (int)getpid());
	snprintf(marker_path, sizeof(marker_path), "/tmp/hostile-marker-%d", (int)getpid());
	test_write_file(secret_path, "secret\n", 0600);
	test_write_file(marker_path, "marker\n", 0644);
	secret_fd = open(secret_path, O_RDWR);
	root_fd = open("/", O_RDONLY | O_DIRECTORY);
	CHECK(secret_fd >= 0 && root_fd >= 0);

	self_before = file_digest("/proc/self/exe");
	mon_before = file_digest(monitor);
	CHECK(self_before.size > 0 && mon_before.size > 0);

	snprintf(name, sizeof(name), "hap%d", (int)getpid());
	run_container(lxcpath, name, 1, monitor);
	snprintf(name, sizeof(name), "hau%d", (int)getpid());
	run_container(lxcpath, name, 0, monitor);

	CHECK(canary == canary_expected);
	self_after = file_digest("/proc/self/exe");
	mon_after = file_digest(monitor);
	CHECK(self_after.size == self_before.size && self_after.hash == self_before.hash);
	CHECK(mon_after.size == mon_before.size && mon_after.hash == mon_before.hash);
	close(secret_fd);
	close(root_fd);
	CHECK(unlink(secret_path) == 0);
	CHECK(unlink(marker_path) == 0);
	return check_result("t_hostile_attach");
}
