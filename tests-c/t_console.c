/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Terminals of a running busybox container: console_getfd on a tty (the
 * getty answers), busy while held and free once released, the console
 * proxy (tty 0, where busybox's askfirst shell runs), console() driven
 * through pipes with the Ctrl-a q escape, console_log on the ring buffer
 * (read, clear, ENODATA), lxc.console.logfile and devpts_fd. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

static char name[64];

/* Reads from fd until `want` shows up or `secs` pass; 1 when found. */
static int read_until(int fd, const char *want, int secs)
{
	char buf[8192];
	size_t len = 0;
	time_t end = time(NULL) + secs;

	while (time(NULL) < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return 0;
		len += n;
		buf[len] = '\0';
		if (strstr(buf, want))
			return 1;
		if (len > sizeof(buf) / 2) {
			memmove(buf, buf + len / 2, len - len / 2);
			len -= len / 2;
		}
	}
	fprintf(stderr, "did not see \"%s\" in: %s\n", want, buf);
	return 0;
}

static int write_str(int fd, const char *s)
{
	return write(fd, s, strlen(s)) == (ssize_t)strlen(s);
}

/* console_getfd retried for a moment: releasing is seen asynchronously. */
static int getfd_retry(struct lxc_container *c, int *tty, int *ptx)
{
	int want = *tty;

	for (int i = 0; i < 40; i++) {
		int sock;

		*tty = want;
		sock = c->console_getfd(c, tty, ptx);
		if (sock >= 0)
			return sock;
		usleep(50000);
	}
	return -1;
}

static void test_getfd(struct lxc_container *c)
{
	int tty = 1, ptx = -1, sock, tty2, ptx2 = -1, sock2;

	sock = c->console_getfd(c, &tty, &ptx);
	CHECK(sock >= 0);
	CHECK(ptx >= 0);
	CHECK(tty == 1);
	if (sock < 0)
		return;
	CHECK(write_str(ptx, "\n"));
	CHECK(read_until(ptx, "login:", 15));

	/* tty 1 is busy now */
	tty2 = 1;
	CHECK(c->console_getfd(c, &tty2, &ptx2) < 0);
	/* -1 gets the next free one */
	tty2 = -1;
	sock2 = c->console_getfd(c, &tty2, &ptx2);
	CHECK(sock2 >= 0);
	CHECK(tty2 == 2);
	CHECK(ptx2 >= 0 && ptx2 != ptx);
	close(ptx2);
	close(sock2);
	/* beyond lxc.tty.max */
	tty2 = 6;
	CHECK(c->console_getfd(c, &tty2, &ptx2) < 0);

	close(ptx);
	close(sock);
	tty = 1;
	sock = getfd_retry(c, &tty, &ptx);
	CHECK(sock >= 0);
	CHECK(tty == 1);
	if (sock >= 0) {
		CHECK(write_str(ptx, "\n"));
		CHECK(read_until(ptx, "login:", 15));
		close(ptx);
		close(sock);
	}
}

/* tty 0: the console, through the monitor's proxy. */
static void test_console_proxy(struct lxc_container *c)
{
	int tty = 0, ptx = -1, sock, tty2 = 0, ptx2 = -1;

	sock = getfd_retry(c, &tty, &ptx);
	CHECK(sock >= 0);
	CHECK(tty == 0);
	if (sock < 0)
		return;
	CHECK(c->console_getfd(c, &tty2, &ptx2) < 0);
	/* activate the askfirst shell, then talk to it */
	CHECK(write_str(ptx, "\n"));
	usleep(300000);
	CHECK(write_str(ptx, "echo proxy$((40+2))\n"));
	CHECK(read_until(ptx, "proxy42", 15));
	close(ptx);
	close(sock);
	tty = 0;
	sock = getfd_retry(c, &tty, &ptx);
	CHECK(sock >= 0);
	if (sock >= 0) {
		close(ptx);
		close(sock);
	}
}

struct console_args {
	struct lxc_container *c;
	int in, out;
	int ret;
};

static void *console_thread(void *arg)
{
	struct console_args *a = arg;

	a->ret = a->c->console(a->c, 1, a->in, a->out, STDERR_FILENO, 1);
	return NULL;
}

/* console() with pipes: input goes in, output comes out, Ctrl-a q ends. */
static void test_console_call(struct lxc_container *c)
{
	int in[2], out[2];
	pthread_t t;
	struct console_args a = {.c = c, .ret = -2};

	CHECK(pipe(in) == 0 && pipe(out) == 0);
	a.in = in[0];
	a.out = out[1];
	/* wait until tty 1 is free again */
	{
		int tty = 1, ptx, sock = getfd_retry(c, &tty, &ptx);

		CHECK(sock >= 0);
		if (sock >= 0) {
			close(ptx);
			close(sock);
		}
		usleep(200000);
	}
	CHECK(pthread_create(&t, NULL, console_thread, &a) == 0);
	CHECK(write_str(in[1], "\n"));
	CHECK(read_until(out[0], "login:", 15));
	/* Ctrl-a Ctrl-a is one Ctrl-a; Ctrl-a q leaves */
	CHECK(write_str(in[1], "\x01q"));
	pthread_join(t, NULL);
	CHECK(a.ret == 0);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}

/* devpts_fd: the container's devpts, where ptmx gives a new pty. */
static void test_devpts(struct lxc_container *c)
{
	int fd = c->devpts_fd(c);

	CHECK(fd >= 0);
	if (fd >= 0) {
		int ptmx = openat(fd, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);

		CHECK(ptmx >= 0);
		if (ptmx >= 0)
			close(ptmx);
		close(fd);
	}
}

static void test_console_log(struct lxc_container *c, const char *logfile)
{
	struct lxc_console_log log;
	uint64_t read_max = 0;
	int ret, found = 0;
	char *text = NULL;
	size_t text_len = 0;

	/* the console proxy test's shell output is in the ring by now */
	for (int i = 0; i < 50 && !found; i++) {
		memset(&log, 0, sizeof(log));
		read_max = 0;
		log.read = true;
		log.read_max = &read_max;
		ret = c->console_log(c, &log);
		if (ret == 0) {
			CHECK(log.data != NULL);
			CHECK(read_max > 0);
			text = realloc(text, text_len + read_max + 1);
			memcpy(text + text_len, log.data, read_max);
			text_len += read_max;
			text[text_len] = '\0';
			free(log.data);
			found = strstr(text, "proxy42") != NULL;
		} else {
			CHECK(ret == -ENODATA);
			usleep(100000);
		}
	}
	CHECK(found);
	free(text);

	/* put something there, read a bounded part, then clear */
	{
		int tty = 0, ptx, sock = getfd_retry(c, &tty, &ptx);

		CHECK(sock >= 0);
		if (sock >= 0) {
			CHECK(write_str(ptx, "echo ring$((6*7))\n"));
			CHECK(read_until(ptx, "ring42", 15));
			close(ptx);
			close(sock);
		}
	}
	memset(&log, 0, sizeof(log));
	read_max = 4;
	log.read = true;
	log.read_max = &read_max;
	CHECK(c->console_log(c, &log) == 0);
	CHECK(read_max == 4);
	CHECK(log.data != NULL);
	free(log.data);

	/* A cleared buffer reads as ENODATA. The shell's prompt may still be
	 * on its way (late under load): clear again while output trickles in. */
	for (int tries = 0;; tries++) {
		int r;

		memset(&log, 0, sizeof(log));
		read_max = 0;
		log.clear = true;
		log.read_max = &read_max;
		CHECK(c->console_log(c, &log) == 0);

		memset(&log, 0, sizeof(log));
		read_max = 100;
		log.read = true;
		log.read_max = &read_max;
		log.data = (char *)1;
		r = c->console_log(c, &log);
		if (r == -ENODATA || tries == 20) {
			CHECK(r == -ENODATA);
			CHECK(read_max == 0);
			CHECK(log.data == NULL);
			break;
		}
		if (r == 0 && log.data != (char *)1)
			free(log.data);
		usleep(50000);
	}

	/* the log file got the console output too */
	{
		FILE *f = fopen(logfile, "r");
		char buf[65536];
		size_t n = 0;

		CHECK(f != NULL);
		if (f) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		CHECK(strstr(buf, "proxy42") != NULL);
		CHECK(strstr(buf, "ring42") != NULL);
	}
}

/* Without lxc.console.buffer.size there is no ring: EFAULT, zeroed. */
static void test_no_ring(struct lxc_container *c)
{
	struct lxc_console_log log = {0};
	uint64_t read_max = 10;

	log.read = true;
	log.read_max = &read_max;
	CHECK(c->console_log(c, &log) == -EFAULT);
	CHECK(read_max == 0);
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	struct lxc_container *c;
	char logfile[4096];
	int tty = 1, ptx;

	snprintf(name, sizeof(name), "con%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return check_result("t_console");
	/* not running: no tty, no devpts */
	CHECK(c->console_getfd(c, &tty, &ptx) < 0);
	CHECK(c->devpts_fd(c) < 0);

	snprintf(logfile, sizeof(logfile), "%s/%s/console.log", lxcpath, name);
	CHECK(c->set_config_item(c, "lxc.console.buffer.size", "128k"));
	CHECK(c->set_config_item(c, "lxc.console.logfile", logfile));
	CHECK(c->start(c, 0, NULL));
	if (c->is_running(c)) {
		test_getfd(c);
		test_console_proxy(c);
		test_console_call(c);
		test_console_log(c, logfile);
		test_devpts(c);
		CHECK(c->stop(c));
	}

	CHECK(c->clear_config_item(c, "lxc.console.buffer.size"));
	CHECK(c->start(c, 0, NULL));
	if (c->is_running(c)) {
		test_no_ring(c);
		CHECK(c->stop(c));
	}
	CHECK(c->destroy(c));
	lxc_container_put(c);
	test_oracle_cleanup(name);
	return check_result("t_console");
}
