/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A monitor SIGKILLed leaves nothing behind: the sentinel waits for init
 * to die (lxc.monitor.signal.pdeath) and removes the container's cgroups,
 * its l2proxy neighbour entries on `link`, and gives a phys device back
 * under its host name and MTU; then it is gone itself, and the container
 * starts and stops again normally. Also after a reboot (the journal
 * follows the new init and cgroups). One sentinel serves all containers
 * of a user: it holds no pty, only sockets, pidfds and /dev/null, it
 * outlives a container whose monitor died while another runs, and no
 * sentinel is left after the last normal stop; one SIGKILLed is replaced
 * by the monitors it followed, which tell the new one their journals. */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static const char *lxcpath;
static int net;

/* A numeric field ("PPid:", "VmRSS:") of /proc/<pid>/status; -1 if none. */
static long status_field(pid_t pid, const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return v;
}

/* Whether pid is gone (or a zombie nobody reaped yet). */
static int process_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int gone = 1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		gone = p[2] == 'Z';
	fclose(f);
	return gone;
}

/* Pid of the process whose command line starts with "[lxc <what>] <lxcpath> <name>"; 0 if none. */
static pid_t find_process(const char *what, const char *name)
{
	int pid = test_popen_int("pgrep -f '^\\[lxc %s\\] %s %s( |$)' | head -n1", what, lxcpath, name);

	return pid > 0 ? pid : 0;
}

/* Pid of root's sentinel ("[lxc sentinel]"); 0 if none. */
static pid_t find_sentinel(void)
{
	int pid = test_popen_int("pgrep -u 0 -f '^\\[lxc sentinel\\]( |$)' | head -n1");

	return pid > 0 ? pid : 0;
}

/* How many root sentinels run. */
static int count_sentinels(void)
{
	return test_popen_int("pgrep -u 0 -f '^\\[lxc sentinel\\]( |$)' | wc -l");
}

/* Whether /proc/<pid>/comm is `want`. */
static int comm_is(pid_t pid, const char *want)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	if (strcmp(comm, want) != 0)
		fprintf(stderr, "comm of %d: '%s', not '%s'\n", (int)pid, comm, want);
	return strcmp(comm, want) == 0;
}

static int mtu_of(const char *dev)
{
	char path[128];
	int mtu = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", dev);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &mtu) != 1)
			mtu = -1;
		fclose(f);
	}
	return mtu;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits up to 10 s for cond; true if it held. */
#define WAIT_FOR(cond)                                              \
	({                                                          \
		double until_ = now() + 10;                         \
		int ok_;                                            \
		while (!(ok_ = (cond)) && now() < until_)           \
			usleep(20000);                              \
		ok_;                                                \
	})

/* The sentinel's descriptors: sockets (its listener, one journal per
 * container), pidfds and network namespaces it was handed, /dev/null,
 * its lock file, its epoll instance, the holder mount namespace it made
 * (docs/design.md, "Entering the root"); nothing else (no pty, no file of
 * the caller). */
static void check_sentinel_fds(pid_t s)
{
	char dir[64], path[400], target[256];
	struct dirent *e;
	int sockets = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", s);
	d = opendir(dir);
	CHECK(d != NULL);
	while (d && (e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (strncmp(target, "socket:", 7) == 0) {
			sockets++;
			continue;
		}
		if (strcmp(target, "/dev/null") == 0 || strcmp(target, "anon_inode:[pidfd]") == 0 ||
		    strcmp(target, "anon_inode:[eventpoll]") == 0 ||
		    strncmp(target, "net:", 4) == 0 || strncmp(target, "mnt:", 4) == 0 ||
		    strncmp(target, "/run/lxc/sentinel/", 18) == 0)
			continue;
		fprintf(stderr, "sentinel holds %s\n", target);
		CHECK(0);
	}
	if (d)
		closedir(d);
	CHECK(sockets >= 2);
}

static int log_has(const char *name, const char *text)
{
	char cmd[4400];

	snprintf(cmd, sizeof(cmd), "grep -q '%s' %s/%s.log", text, lxcpath, name);
	return system(cmd) == 0;
}

/* Starts c, SIGKILLs its monitor, and checks the container ends (init, the
 * command socket) and the sentinel removes the cgroups and exits. */
static void kill_monitor(struct lxc_container *c, const char *name)
{
	pid_t init, monitor, sentinel;
	double t;

	init = c->init_pid(c);
	CHECK(init > 0);
	monitor = status_field(init, "PPid:");
	CHECK(monitor > 1);
	CHECK(monitor == find_process("monitor", name));
	sentinel = find_sentinel();
	CHECK(sentinel > 0);
	/* the names ps and top show (an exec through a descriptor would name
	 * the monitor after the descriptor's number) */
	CHECK(comm_is(monitor, "lxc-monitor"));
	CHECK(comm_is(sentinel, "lxc-sentinel"));
	if (sentinel > 0) {
		printf("%s: monitor VmRSS %ld kB, sentinel VmRSS %ld kB\n", name, status_field(monitor, "VmRSS:"),
		       status_field(sentinel, "VmRSS:"));
		check_sentinel_fds(sentinel);
	}
	t = now();
	CHECK(kill(monitor, SIGKILL) == 0);
	CHECK(WAIT_FOR(strcmp(c->state(c), "STOPPED") == 0));
	CHECK(WAIT_FOR(process_gone(init)));
	CHECK(WAIT_FOR(test_leftover_cgroups(name, 0) == 0));
	CHECK(test_leftover_cgroups(name, 1) == 0);
	CHECK(sentinel <= 0 || WAIT_FOR(process_gone(sentinel)));
	printf("%s: cleaned up %.0f ms after the monitor's SIGKILL\n", name, (now() - t) * 1000);
	CHECK(log_has(name, "lxc-sentinel.*Cleaned up: .*cgroup"));
}

static struct lxc_container *make(const char *name)
{
	struct lxc_container *c = test_new_busybox(lxcpath, name);
	char log[4200];

	if (!c)
		return NULL;
	snprintf(log, sizeof(log), "%s/%s.log", lxcpath, name);
	CHECK(c->set_config_item(c, "lxc.log.file", log));
	CHECK(c->set_config_item(c, "lxc.log.level", "INFO"));
	return c;
}

/* A normal start and stop leave no monitor and no sentinel either. */
static void start_stop(struct lxc_container *c, const char *name)
{
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start %s: %s\n", name, c->error_string);
		CHECK(0);
		return;
	}
	CHECK(find_sentinel() > 0);
	CHECK(c->stop(c));
	/* the last stop returns once the sentinel is gone */
	CHECK(find_sentinel() == 0);
	CHECK(WAIT_FOR(find_process("monitor", name) == 0));
	CHECK(test_leftover_cgroups(name, 1) == 0);
}

/* lxc.net.0.type = empty: the cgroups; again after a reboot. */
static void test_empty(void)
{
	struct lxc_container *c = make("ke");
	pid_t before;

	if (!c)
		return;
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start ke: %s\n", c->error_string);
		CHECK(0);
	} else {
		kill_monitor(c, "ke");
	}
	start_stop(c, "ke");

	/* after a reboot the journal has the new init and cgroups */
	if (c->start(c, 0, NULL)) {
		before = c->init_pid(c);
		CHECK(c->reboot2(c, 30));
		CHECK(c->init_pid(c) != before);
		kill_monitor(c, "ke");
	} else {
		fprintf(stderr, "start ke: %s\n", c->error_string);
		CHECK(0);
	}
	start_stop(c, "ke");
	CHECK(c->destroy(c));
	lxc_container_put(c);
}

/* A macvlan with l2proxy on a veth parent the test made, a phys device
 * (a veth end the test made, MTU 1450 on the host, 1300 and renamed
 * inside), and a veth on a bridge the test made. */
static void test_network(void)
{
	struct lxc_container *c;
	char parent[IFNAMSIZ], phys[IFNAMSIZ], bridge[IFNAMSIZ], pair[IFNAMSIZ], v4[64], v6[64], addr[80];

	snprintf(parent, sizeof(parent), "mkp%d", getpid() % 100000);
	snprintf(phys, sizeof(phys), "mkf%d", getpid() % 100000);
	snprintf(bridge, sizeof(bridge), "mkb%d", getpid() % 100000);
	snprintf(pair, sizeof(pair), "mkv%d", getpid() % 100000);
	snprintf(v4, sizeof(v4), "10.%d.0.9", net);
	snprintf(v6, sizeof(v6), "fd00:%d::9", net);
	if (!test_add_veth(parent, "", 1)) {
		CHECK(0);
		return;
	}
	test_sh("echo 1 > /proc/sys/net/ipv4/conf/%s/forwarding", parent);
	test_sh("echo 1 > /proc/sys/net/ipv6/conf/%s/proxy_ndp", parent);
	test_sh("echo 1 > /proc/sys/net/ipv6/conf/%s/forwarding", parent);
	CHECK(test_add_veth(phys, "mtu 1450", 0));
	CHECK(test_sh("ip link add %s type bridge", bridge) == 0);

	c = make("kn");
	if (!c)
		goto out;
	CHECK(c->clear_config_item(c, "lxc.net"));
	CHECK(c->set_config_item(c, "lxc.net.0.type", "macvlan"));
	CHECK(c->set_config_item(c, "lxc.net.0.link", parent));
	CHECK(c->set_config_item(c, "lxc.net.0.macvlan.mode", "bridge"));
	CHECK(c->set_config_item(c, "lxc.net.0.name", "net0"));
	CHECK(c->set_config_item(c, "lxc.net.0.flags", "up"));
	CHECK(c->set_config_item(c, "lxc.net.0.l2proxy", "1"));
	snprintf(addr, sizeof(addr), "%s/24", v4);
	CHECK(c->set_config_item(c, "lxc.net.0.ipv4.address", addr));
	snprintf(addr, sizeof(addr), "%s/64", v6);
	CHECK(c->set_config_item(c, "lxc.net.0.ipv6.address", addr));
	CHECK(c->set_config_item(c, "lxc.net.1.type", "phys"));
	CHECK(c->set_config_item(c, "lxc.net.1.link", phys));
	CHECK(c->set_config_item(c, "lxc.net.1.name", "net1"));
	CHECK(c->set_config_item(c, "lxc.net.1.mtu", "1300"));
	CHECK(c->set_config_item(c, "lxc.net.2.type", "veth"));
	CHECK(c->set_config_item(c, "lxc.net.2.link", bridge));
	CHECK(c->set_config_item(c, "lxc.net.2.veth.pair", pair));
	CHECK(c->set_config_item(c, "lxc.net.2.name", "net2"));

	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start kn: %s\n", c->error_string);
		CHECK(0);
	} else {
		CHECK(test_has_proxy(parent, v4) && test_has_proxy(parent, v6));
		CHECK(if_nametoindex(phys) == 0);
		CHECK(if_nametoindex(pair) > 0);
		kill_monitor(c, "kn");
		CHECK(WAIT_FOR(if_nametoindex(pair) == 0));
		CHECK(WAIT_FOR(!test_has_proxy(parent, v4) && !test_has_proxy(parent, v6)));
		CHECK(WAIT_FOR(if_nametoindex(phys) > 0));
		CHECK(mtu_of(phys) == 1450);
		CHECK(system("ip -o link show type macvlan | grep -q mcvl") != 0);
		CHECK(log_has("kn", "proxy neighbour"));
		CHECK(log_has("kn", "physical device"));
	}
	/* and it works again, with its entries while it runs */
	if (c->start(c, 0, NULL)) {
		CHECK(test_has_proxy(parent, v4) && test_has_proxy(parent, v6));
		CHECK(c->stop(c));
		CHECK(find_sentinel() == 0);
		CHECK(!test_has_proxy(parent, v4) && !test_has_proxy(parent, v6));
		CHECK(if_nametoindex(phys) > 0 && mtu_of(phys) == 1450);
		CHECK(if_nametoindex(pair) == 0);
		CHECK(test_leftover_cgroups("kn", 1) == 0);
	} else {
		fprintf(stderr, "restart kn: %s\n", c->error_string);
		CHECK(0);
	}
	CHECK(c->destroy(c));
	lxc_container_put(c);
out:
	test_sh("ip link del %s", parent);
	test_sh("ip link del %s", bridge);
	if (if_nametoindex(phys) > 0)
		test_sh("ip link del %s", phys);
}

/* Two containers, one sentinel: a's monitor killed, the sentinel cleans
 * up after a and stays for b; b's stop takes it away. Then the sentinel
 * itself SIGKILLed while both run: their monitors end with one new
 * sentinel and tell it their journals; it undoes a's when a's monitor is
 * killed, and goes with b's stop. */
static void test_shared(void)
{
	struct lxc_container *a = make("ka"), *b = make("kb");
	pid_t sentinel, monitor;

	if (!a || !b)
		goto out;
	if (!a->start(a, 0, NULL) || !b->start(b, 0, NULL)) {
		fprintf(stderr, "start ka/kb: %s / %s\n", a->error_string, b->error_string);
		CHECK(0);
		goto out;
	}
	sentinel = find_sentinel();
	CHECK(sentinel > 0);
	CHECK(count_sentinels() == 1);
	monitor = find_process("monitor", "ka");
	CHECK(monitor > 0 && kill(monitor, SIGKILL) == 0);
	CHECK(WAIT_FOR(test_leftover_cgroups("ka", 1) == 0));
	CHECK(WAIT_FOR(log_has("ka", "lxc-sentinel.*Cleaned up: .*cgroup")));
	CHECK(find_sentinel() == sentinel);
	CHECK(b->is_running(b));
	CHECK(b->stop(b));
	CHECK(find_sentinel() == 0);
	CHECK(test_leftover_cgroups("kb", 1) == 0);

	if (!a->start(a, 0, NULL) || !b->start(b, 0, NULL)) {
		fprintf(stderr, "restart ka/kb: %s / %s\n", a->error_string, b->error_string);
		CHECK(0);
		goto out;
	}
	sentinel = find_sentinel();
	CHECK(sentinel > 0 && kill(sentinel, SIGKILL) == 0);
	CHECK(WAIT_FOR(process_gone(sentinel)));
	/* both monitors give their journals to one new sentinel, which takes
	 * the place of the dead one's socket file */
	CHECK(WAIT_FOR(find_sentinel() > 0 && find_sentinel() != sentinel));
	CHECK(WAIT_FOR(log_has("ka", "another one follows this container")));
	CHECK(WAIT_FOR(log_has("kb", "another one follows this container")));
	CHECK(count_sentinels() == 1);
	monitor = find_process("monitor", "ka");
	CHECK(monitor > 0 && kill(monitor, SIGKILL) == 0);
	CHECK(WAIT_FOR(test_leftover_cgroups("ka", 1) == 0));
	CHECK(find_sentinel() > 0);
	CHECK(b->stop(b));
	CHECK(find_sentinel() == 0);
	CHECK(test_leftover_cgroups("kb", 1) == 0);
	start_stop(a, "ka");
out:
	if (a) {
		a->stop(a);
		CHECK(a->destroy(a));
		lxc_container_put(a);
	}
	if (b) {
		b->stop(b);
		CHECK(b->destroy(b));
		lxc_container_put(b);
	}
}

int main(int argc, char **argv)
{
	lxcpath = test_lxcpath(argc, argv);
	net = 100 + getpid() % 100;
	setvbuf(stdout, NULL, _IONBF, 0);
	test_empty();
	test_shared();
	test_network();
	return check_result("t_monitor_kill");
}
