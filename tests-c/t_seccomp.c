/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lxc.seccomp.profile on a busybox container: a v2 denylist written here
 * confines init (/proc/1/status) and attached processes (errno actions seen
 * by busybox commands, argument comparisons, i386 syscalls via int 0x80), Debian's common.seccomp boots, a malformed policy
 * fails the start naming its line, and a notify rule gives a listener
 * (seccomp_notify_fd / seccomp_notify_fd_active) on which this test answers
 * init's intercepted sethostname; with lxc.seccomp.notify.proxy the monitor
 * forwards the notification to this test in LXC's proxy format, and those
 * of attached processes too. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char policy_dir[4096];

/* Output (stdout and stderr) of a command run inside the container. */
static char *inside(struct lxc_container *c, const char *cmd, int *status)
{
	return test_attach_output(c, cmd, status, 1);
}

static const char *write_policy(const char *name, const char *text)
{
	static char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", policy_dir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

/* Attached function: personality(0x4242) natively and through the i386
 * table (int 0x80), which the policy's compat part must catch too.
 * Exit code: 1 native denied, 2 compat denied, 4 no IA32 emulation. */
static int compat_probe(void *arg)
{
	long nat, compat = -ENOSYS;

	(void)arg;
	errno = 0;
	nat = syscall(SYS_personality, 0x4242);
#ifdef __x86_64__
	/* 136: personality on i386 */
	__asm__ volatile("int $0x80" : "=a"(compat) : "a"(136L), "b"(0x4242L) : "r8", "r9", "r10", "r11", "memory");
#endif
	if (compat == -ENOSYS)
		_exit(4 | (nat == -1 && errno == 42));
	_exit((nat == -1 && errno == 42) | (compat == -42) << 1);
}

static void test_denylist(struct lxc_container *c)
{
	const char *path = write_policy("deny.seccomp",
					"2\n"
					"denylist\n"
					"# errno actions seen by busybox commands\n"
					"[all]\n"
					"sethostname errno 1\n"
					"chmod errno 38\n"
					"fchmodat errno 38\n"
					"personality errno 42 [0,0x4242,SCMP_CMP_EQ]\n"
					"[x86_64]\n"
					"mknodat errno 13 [3,0,SCMP_CMP_NE]\n"
					"mknod errno 13 [2,0,SCMP_CMP_NE]\n");
	char *out;
	int status;

	CHECK(path && c->set_config_item(c, "lxc.seccomp.profile", path));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start: %s\n", c->error_string ? c->error_string : "");
		CHECK(0);
		return;
	}
	CHECK(c->wait(c, "RUNNING", 10));
	out = inside(c, "grep '^Seccomp:' /proc/1/status", &status);
	CHECK(status == 0 && strstr(out, "2"));
	out = inside(c, "hostname seccomp-foo; echo rc=$?; hostname", &status);
	CHECK(strstr(out, "rc=1") != NULL);
	CHECK(strstr(out, "seccomp-foo") == NULL);
	if (!strstr(out, "rc=1"))
		fprintf(stderr, "hostname: %s\n", out);
	out = inside(c, "touch /tmp/f; chmod 600 /tmp/f; echo rc=$?", &status);
	CHECK(strstr(out, "Function not implemented") && strstr(out, "rc=1"));
	if (!strstr(out, "Function not implemented"))
		fprintf(stderr, "chmod: %s\n", out);
	/* argument comparisons: mknod of a fifo (device number 0) passes,
	 * one with a device number is refused with EACCES */
	out = inside(c, "mknod /tmp/p p; echo fifo=$?; mknod /tmp/d c 1 3; echo dev=$?", &status);
	CHECK(strstr(out, "fifo=0") && strstr(out, "dev=1") && strstr(out, "denied"));
	if (!strstr(out, "dev=1"))
		fprintf(stderr, "mknod: %s\n", out);
	{
		lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
		pid_t pid = -1;

		CHECK(c->attach(c, compat_probe, NULL, &opts, &pid) == 0 && pid > 0);
		if (pid > 0 && waitpid(pid, &status, 0) == pid) {
			CHECK(WIFEXITED(status));
			if (WEXITSTATUS(status) & 4)
				fprintf(stderr, "no IA32 emulation: compat check skipped\n");
			else
				CHECK(WEXITSTATUS(status) == 3);
			CHECK(WEXITSTATUS(status) & 1);
		}
	}
	/* no notify rule: no listener */
	CHECK(c->seccomp_notify_fd_active(c) < 0);
	CHECK(c->stop(c));
	CHECK(c->clear_config_item(c, "lxc.seccomp.profile"));
}

static void test_debian_common(struct lxc_container *c)
{
	const char *path = "/usr/share/lxc/config/common.seccomp";
	char *out;
	int status;

	if (access(path, R_OK) != 0) {
		fprintf(stderr, "no %s, skipped\n", path);
		return;
	}
	CHECK(c->set_config_item(c, "lxc.seccomp.profile", path));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "start: %s\n", c->error_string ? c->error_string : "");
		CHECK(0);
		return;
	}
	CHECK(c->wait(c, "RUNNING", 10));
	out = inside(c, "grep '^Seccomp:' /proc/1/status; echo ok", &status);
	CHECK(status == 0 && strstr(out, "2") && strstr(out, "ok"));
	/* reject_force_umount: umount -f fails with EACCES, a plain one works */
	out = inside(c, "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && umount -f /tmp/m; echo f=$?; "
			"umount /tmp/m; echo u=$?",
		     &status);
	CHECK(strstr(out, "f=1") && strstr(out, "u=0"));
	if (!strstr(out, "u=0"))
		fprintf(stderr, "umount: %s\n", out);
	CHECK(c->stop(c));
	CHECK(c->clear_config_item(c, "lxc.seccomp.profile"));
}

static void test_malformed(struct lxc_container *c)
{
	const char *path = write_policy("bad.seccomp", "2\ndenylist\n[all]\nmount errno 1\numount2 sometimes\n");
	char *saved = strdup(path);

	CHECK(c->set_config_item(c, "lxc.seccomp.profile", saved));
	CHECK(!c->start(c, 0, NULL));
	CHECK_ERRSTR(c, saved);
	CHECK_ERRSTR(c, "line 5");
	if (c->error_string)
		fprintf(stderr, "malformed policy (expected): %s\n", c->error_string);
	CHECK(!c->is_running(c));
	path = write_policy("missing-arch.seccomp", "2\nallowlist\n[vax]\nread\n");
	CHECK(c->set_config_item(c, "lxc.seccomp.profile", path));
	CHECK(!c->start(c, 0, NULL));
	CHECK_ERRSTR(c, "line 3");
	CHECK_ERRSTR(c, "vax");
	CHECK(c->set_config_item(c, "lxc.seccomp.profile", "/nonexistent/policy.seccomp"));
	CHECK(!c->start(c, 0, NULL));
	CHECK_ERRSTR(c, "/nonexistent/policy.seccomp");
	CHECK(c->clear_config_item(c, "lxc.seccomp.profile"));
	free(saved);
}

/* Answers one intercepted syscall on `fd` with -EPERM; returns its number. */
static int answer_one(int fd)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, 15000) != 1)
		return -1;
	memset(&req, 0, sizeof(req));
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return -1;
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.error = -EPERM;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
		return -1;
	return req.data.nr;
}

static void test_notify(struct lxc_container *c)
{
	const char *path = write_policy("notify.seccomp", "2\ndenylist\n[all]\nsethostname notify\n");
	char *argv[] = {"/bin/sh", "-c", "sleep 1; hostname notified; echo rc=$? > /notify-rc; exec sleep 1000",
			NULL};
	char *out;
	int fd, fd2, nr, status, i;

	CHECK(c->set_config_item(c, "lxc.seccomp.profile", path));
	if (!c->start(c, 0, argv)) {
		fprintf(stderr, "start: %s\n", c->error_string ? c->error_string : "");
		CHECK(0);
		return;
	}
	fd = c->seccomp_notify_fd(c);
	/* LXC 5.0.2 has no listener in the handle after a daemonized start
	 * (docs/differences.md "Where we differ": seccomp_notify_fd); its monitor's copy
	 * comes from seccomp_notify_fd_active. */
	if (!test_oracle()) {
		CHECK(fd >= 0);
		CHECK(c->seccomp_notify_fd(c) == fd); /* the handle keeps it */
	}
	fd2 = c->seccomp_notify_fd_active(c);
	CHECK(fd2 >= 0 && fd2 != fd);
	if (test_oracle())
		fd = fd2;
	if (fd >= 0) {
		nr = answer_one(fd);
		CHECK(nr == SYS_sethostname);
		out = "";
		for (i = 0; i < 50; i++) {
			out = inside(c, "cat /notify-rc 2>/dev/null", &status);
			if (strstr(out, "rc="))
				break;
			usleep(100000);
		}
		CHECK(strstr(out, "rc=1") != NULL);
		out = inside(c, "hostname", &status);
		CHECK(strstr(out, "notified") == NULL);
	}
	if (fd2 >= 0)
		close(fd2);
	CHECK(c->stop(c));
	CHECK(c->clear_config_item(c, "lxc.seccomp.profile"));
}

/* Reads init's output file `file` inside the container (waits for it). */
static char *wait_file(struct lxc_container *c, const char *file)
{
	char cmd[256];
	char *out = "";
	int status, i;

	snprintf(cmd, sizeof(cmd), "cat %s 2>/dev/null", file);
	for (i = 0; i < 50; i++) {
		out = inside(c, cmd, &status);
		if (strstr(out, "rc="))
			break;
		usleep(100000);
	}
	return out;
}

/* LXC's struct seccomp_notify_proxy_msg */
struct proxy_msg {
	uint64_t reserved;
	pid_t monitor_pid;
	pid_t init_pid;
	struct seccomp_notif_sizes sizes;
	uint64_t cookie_len;
};

/* One message from the monitor to the proxy: its length, the descriptors
 * in fds (nfds). */
static ssize_t proxy_recv(int conn, char *buf, size_t len, int *fds, int *nfds)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct pollfd p = {.fd = conn, .events = POLLIN};
	struct cmsghdr *cm;
	ssize_t n;

	*nfds = 0;
	if (poll(&p, 1, 15000) != 1)
		return -1;
	n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			*nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(cm), *nfds * sizeof(int));
		}
	return n;
}

/* The proxy emulates the notified call: success without effect. */
static void proxy_answer(int conn, char *buf, size_t base, const struct seccomp_notif_sizes *sizes)
{
	struct seccomp_notif notif;
	struct seccomp_notif_resp resp;

	memcpy(&notif, buf + sizeof(struct proxy_msg), sizeof(notif));
	memset(&resp, 0, sizeof(resp));
	resp.id = notif.id;
	memcpy(buf + sizeof(struct proxy_msg) + sizes->seccomp_notif, &resp, sizeof(resp));
	CHECK(send(conn, buf, base, 0) == (ssize_t)base);
}

/* An attached process's notifications reach the proxy too: the attach
 * hands its listener to the monitor (SECCOMP_NOTIFY_ADD_LISTENER), as
 * LXD's `lxc exec` with security.syscalls.intercept.* relies on. */
static void test_notify_proxy_attach(struct lxc_container *c, int conn, const struct seccomp_notif_sizes *sizes)
{
	char *argv[] = {"hostname", "attached", NULL};
	lxc_attach_command_t cmd = {.program = "hostname", .argv = argv};
	lxc_attach_options_t opts = LXC_ATTACH_OPTIONS_DEFAULT;
	size_t base = sizeof(struct proxy_msg) + sizes->seccomp_notif + sizes->seccomp_notif_resp;
	struct proxy_msg hdr;
	struct seccomp_notif notif;
	char buf[4096];
	int fds[3], nfds = 0, status = -1;
	pid_t pid = -1, init_pid = c->init_pid(c);
	ssize_t n;

	/* (nothing may ask the monitor while it waits for this proxy) */
	CHECK(c->attach(c, lxc_attach_run_command, &cmd, &opts, &pid) == 0 && pid > 0);
	if (pid <= 0)
		return;
	n = proxy_recv(conn, buf, sizeof(buf), fds, &nfds);
	CHECK(n == (ssize_t)(base + 6));
	CHECK(nfds == 3);
	if (n == (ssize_t)(base + 6)) {
		memcpy(&hdr, buf, sizeof(hdr));
		memcpy(&notif, buf + sizeof(hdr), sizeof(notif));
		CHECK(notif.data.nr == SYS_sethostname);
		/* the attached process's own notification */
		CHECK(notif.pid == (unsigned int)pid);
		CHECK(hdr.init_pid == init_pid);
		if (!test_oracle()) {
			/* LXD finds the container of a notification from the
			 * last word of its monitor's command line (LXC's title;
			 * LXC sets it only with CAP_SYS_RESOURCE) */
			char path[64], title[512], want[512];
			FILE *f;
			size_t got = 0;

			snprintf(path, sizeof(path), "/proc/%d/cmdline", hdr.monitor_pid);
			f = fopen(path, "r");
			if (f) {
				got = fread(title, 1, sizeof(title) - 1, f);
				fclose(f);
			}
			snprintf(want, sizeof(want), "[lxc monitor] %s %s", c->config_path, c->name);
			CHECK(got == strlen(want) + 1 && memcmp(title, want, got) == 0);
		}
		proxy_answer(conn, buf, base, sizes);
	}
	while (nfds > 0)
		close(fds[--nfds]);
	/* the proxy's answer: sethostname succeeded */
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_notify_proxy(struct lxc_container *c, const char *lxcpath)
{
	const char *path = write_policy("notify.seccomp", "2\ndenylist\n[all]\nsethostname notify\n");
	char *argv[] = {"/bin/sh", "-c", "sleep 1; hostname proxied; echo rc=$? > /proxy-rc; exec sleep 1000",
			NULL};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct seccomp_notif_sizes sizes;
	char addr[300], buf[4096];
	struct proxy_msg hdr;
	struct seccomp_notif notif;
	struct pollfd p;
	int lfd, conn = -1, nfds = 0, fds[3];
	pid_t init_pid;
	ssize_t n;
	size_t base;
	char *out;
	int status;

	CHECK(syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/proxy.sock", lxcpath);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 4) == 0);
	snprintf(addr, sizeof(addr), "unix:%s", sa.sun_path);
	CHECK(c->set_config_item(c, "lxc.seccomp.profile", path));
	CHECK(c->set_config_item(c, "lxc.seccomp.notify.proxy", addr));
	CHECK(c->set_config_item(c, "lxc.seccomp.notify.cookie", "c00kie"));
	if (!c->start(c, 0, argv)) {
		fprintf(stderr, "start: %s\n", c->error_string ? c->error_string : "");
		CHECK(0);
		goto out;
	}
	/* asked now: the monitor waits for the proxy while it holds a
	 * notification, as LXC's */
	init_pid = c->init_pid(c);
	p = (struct pollfd){.fd = lfd, .events = POLLIN};
	CHECK(poll(&p, 1, 10000) == 1);
	conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(conn >= 0);
	n = proxy_recv(conn, buf, sizeof(buf), fds, &nfds);
	base = sizeof(hdr) + sizes.seccomp_notif + sizes.seccomp_notif_resp;
	CHECK(sizeof(hdr) == 32);
	CHECK(n == (ssize_t)(base + 6));
	CHECK(nfds == 3);
	/* LXC's order: init's /proc dir, its memory, the notify fd
	 * (seccomp_proxy_send_notify_fd). */
	if (nfds == 3) {
		char link[64], target[128] = "";

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fds[2]);
		CHECK(readlink(link, target, sizeof(target) - 1) > 0);
		CHECK_STR(target, "anon_inode:seccomp notify");
	}
	if (n == (ssize_t)(base + 6)) {
		memcpy(&hdr, buf, sizeof(hdr));
		memcpy(&notif, buf + sizeof(hdr), sizeof(notif));
		CHECK(hdr.reserved == 0);
		CHECK(hdr.init_pid == init_pid);
		CHECK(hdr.monitor_pid > 0 && hdr.monitor_pid != getpid());
		CHECK(hdr.sizes.seccomp_notif == sizes.seccomp_notif);
		CHECK(hdr.cookie_len == 6 && memcmp(buf + base, "c00kie", 6) == 0);
		CHECK(notif.data.nr == SYS_sethostname);
		proxy_answer(conn, buf, base, &sizes);
		out = wait_file(c, "/proxy-rc");
		CHECK(strstr(out, "rc=0") != NULL);
		out = inside(c, "hostname", &status);
		CHECK(strstr(out, "proxied") == NULL);
		test_notify_proxy_attach(c, conn, &sizes);
	}
	while (nfds > 0)
		close(fds[--nfds]);
	CHECK(c->stop(c));
out:
	if (conn >= 0)
		close(conn);
	close(lfd);
	unlink(sa.sun_path);
	CHECK(c->clear_config_item(c, "lxc.seccomp.profile"));
	CHECK(c->clear_config_item(c, "lxc.seccomp.notify.proxy"));
	CHECK(c->clear_config_item(c, "lxc.seccomp.notify.cookie"));

	/* a proxy nobody listens on fails the start */
	CHECK(c->set_config_item(c, "lxc.seccomp.profile", path));
	CHECK(c->set_config_item(c, "lxc.seccomp.notify.proxy", addr));
	if (test_oracle()) {
		/* LXC 5.0.2 starts without its proxy (docs/differences.md "Where we differ":
		 * notify proxy). */
		if (c->start(c, 0, argv))
			CHECK(c->stop(c));
	} else {
		CHECK(!c->start(c, 0, argv));
		CHECK_ERRSTR(c, "proxy");
		CHECK(!c->is_running(c));
	}
	CHECK(c->clear_config_item(c, "lxc.seccomp.profile"));
	CHECK(c->clear_config_item(c, "lxc.seccomp.notify.proxy"));
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c;

	snprintf(policy_dir, sizeof(policy_dir), "%s", lxcpath);
	c = test_new_busybox(lxcpath, "sc1");
	if (!c)
		return check_result("t_seccomp");
	test_denylist(c);
	test_debian_common(c);
	test_malformed(c);
	test_notify(c);
	test_notify_proxy(c, lxcpath);
	if (c->is_running(c))
		c->stop(c);
	CHECK(c->destroy(c));
	lxc_container_put(c);
	test_oracle_cleanup("sc1");
	return check_result("t_seccomp");
}
