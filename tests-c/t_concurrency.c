/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Process model proof: 20 containers started and stopped from 8 threads
 * while 2 more threads keep calling state() and get_config_item(), and a
 * caller that is hard on its children: a SIGCHLD handler reaps whatever
 * ends (waitpid(-1)), and SIGUSR1 arrives every millisecond, handled by
 * whichever thread the kernel picks (also during a spawn). No deadlock
 * (the whole test runs under alarm()), no failure, no child of ours left,
 * nothing left on the host. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

#define CONTAINERS 20
#define WORKERS 8
#define POLLERS 2

static const char *lxcpath;
static char names[CONTAINERS][64];
static int next_job;
static int done;
static int failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t usr1_seen;

static void reap_all(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen = 1;
}

/* Sends SIGUSR1 to the process every millisecond until the workers end. */
static void *signaller(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) {
		kill(getpid(), SIGUSR1);
		usleep(1000);
	}
	return NULL;
}

static void fail(const char *what, const char *name, struct lxc_container *c)
{
	pthread_mutex_lock(&lock);
	failures++;
	fprintf(stderr, "%s %s failed: %s\n", what, name, c && c->error_string ? c->error_string : "");
	pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		int i;
		struct lxc_container *c;

		pthread_mutex_lock(&lock);
		i = next_job++;
		pthread_mutex_unlock(&lock);
		if (i >= CONTAINERS)
			return NULL;
		c = lxc_container_new(names[i], lxcpath);
		if (!c) {
			fail("new", names[i], NULL);
			continue;
		}
		if (!c->start(c, 0, NULL))
			fail("start", names[i], c);
		else if (strcmp(c->state(c), "RUNNING") != 0)
			fail("state after start", names[i], c);
		if (!c->stop(c))
			fail("stop", names[i], c);
		if (c->is_running(c))
			fail("still running", names[i], c);
		lxc_container_put(c);
	}
}

static void *poller(void *arg)
{
	unsigned seed = (unsigned)(long)arg;

	while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) {
		int i = rand_r(&seed) % CONTAINERS;
		struct lxc_container *c = lxc_container_new(names[i], lxcpath);
		char buf[256];

		if (!c) {
			fail("poll new", names[i], NULL);
			continue;
		}
		if (!c->state(c))
			fail("poll state", names[i], c);
		if (c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) <= 0)
			fail("poll get_config_item", names[i], c);
		lxc_container_put(c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct lxc_container *base;
	char rootfs[4096], cmd[4200];
	pthread_t workers[WORKERS], pollers[POLLERS], sig_thread;
	struct sigaction reaper = {.sa_handler = reap_all, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
	struct sigaction usr1 = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	struct sigaction old_chld, old_usr1;
	int i;

	lxcpath = test_lxcpath(argc, argv);
	alarm(240);
	base = lxc_container_new("base", lxcpath);
	CHECK(base && base->set_config_item(base, "lxc.net.0.type", "empty"));
	if (!base || !base->create(base, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL)) {
		fprintf(stderr, "create failed\n");
		return 1;
	}
	CHECK(base->get_config_item(base, "lxc.rootfs.path", rootfs, sizeof(rootfs)) > 0);
	/* 20 containers sharing the base rootfs, each with its own config */
	for (i = 0; i < CONTAINERS; i++) {
		struct lxc_container *c;

		snprintf(names[i], sizeof(names[i]), "cc%d-%d", (int)getpid(), i);
		c = lxc_container_new(names[i], lxcpath);
		CHECK(c != NULL);
		if (!c)
			continue;
		CHECK(c->load_config(c, base->config_file_name(base)));
		CHECK(c->set_config_item(c, "lxc.uts.name", names[i]));
		CHECK(c->save_config(c, NULL));
		lxc_container_put(c);
	}
	CHECK(sigaction(SIGCHLD, &reaper, &old_chld) == 0);
	CHECK(sigaction(SIGUSR1, &usr1, &old_usr1) == 0);
	pthread_create(&sig_thread, NULL, signaller, NULL);
	for (i = 0; i < POLLERS; i++)
		pthread_create(&pollers[i], NULL, poller, (void *)(long)(i + 1));
	for (i = 0; i < WORKERS; i++)
		pthread_create(&workers[i], NULL, worker, NULL);
	for (i = 0; i < WORKERS; i++)
		pthread_join(workers[i], NULL);
	__atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < POLLERS; i++)
		pthread_join(pollers[i], NULL);
	pthread_join(sig_thread, NULL);
	CHECK(sigaction(SIGCHLD, &old_chld, NULL) == 0);
	CHECK(sigaction(SIGUSR1, &old_usr1, NULL) == 0);
	CHECK(failures == 0);
	CHECK(usr1_seen);
	/* every process start made for us is gone and reaped: no child left
	 * (a monitor is never our child) */
	reap_all(0);
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);

	snprintf(cmd, sizeof(cmd), "find /sys/fs/cgroup -type d -name 'lxc.payload.cc%d-*' | grep -q .", (int)getpid());
	CHECK(system(cmd) != 0);
	for (i = 0; i < CONTAINERS; i++) {
		struct lxc_container *c = lxc_container_new(names[i], lxcpath);

		/* configs only: the rootfs is the base's; remove the dirs */
		if (c) {
			char dir[4200];
			snprintf(dir, sizeof(dir), "rm -rf '%s/%s'", lxcpath, names[i]);
			CHECK(system(dir) == 0);
			lxc_container_put(c);
		}
	}
	CHECK(base->destroy(base));
	lxc_container_put(base);
	return check_result("t_concurrency");
}
