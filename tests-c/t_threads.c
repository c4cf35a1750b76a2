/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Handles shared by many threads: get/put races, concurrent config calls
 * on one handle, and new/put churn. Run under the default allocator; any
 * use-after-free or double free shows up as a crash or a bad count. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <lxc/lxccontainer.h>

#include "check.h"

#define THREADS 8
#define ROUNDS 2000

static struct lxc_container *shared;
static const char *lxcpath;
static int thread_failures[THREADS];

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	char key_value[64];
	char buf[64];
	int i;

	for (i = 0; i < ROUNDS; i++) {
		struct lxc_container *own;

		if (lxc_container_get(shared) != 1)
			thread_failures[id]++;
		snprintf(key_value, sizeof(key_value), "host-%d", id);
		if (!shared->set_config_item(shared, "lxc.uts.name", key_value))
			thread_failures[id]++;
		if (shared->get_config_item(shared, "lxc.uts.name", buf, sizeof(buf)) < 0)
			thread_failures[id]++;
		if (strcmp(shared->state(shared), "STOPPED") != 0)
			thread_failures[id]++;
		if (lxc_container_put(shared) != 0)
			thread_failures[id]++;

		own = lxc_container_new("t-threads-own", lxcpath);
		if (!own || lxc_container_put(own) != 1)
			thread_failures[id]++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t threads[THREADS];
	long i;

	lxcpath = test_lxcpath(argc, argv);
	shared = lxc_container_new("t-threads", lxcpath);
	CHECK(shared != NULL);
	if (!shared)
		return 1;
	for (i = 0; i < THREADS; i++)
		CHECK(pthread_create(&threads[i], NULL, worker, (void *)i) == 0);
	for (i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		CHECK(thread_failures[i] == 0);
	}
	CHECK(shared->numthreads == 1);
	CHECK(lxc_container_put(shared) == 1);
	return check_result("t_threads");
}
