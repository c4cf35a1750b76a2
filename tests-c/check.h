/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal assertions for the C tests: count failures, keep going. */
#ifndef TESTS_C_CHECK_H
#define TESTS_C_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The private lxcpath of this test: argv[1], given by tests-c/run.sh. */
static inline const char *test_lxcpath(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s <private lxcpath>\n", argv[0]);
		exit(2);
	}
	return argv[1];
}

static inline int check_result(const char *name)
{
	if (check_failures)
		fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
	return check_failures ? 1 : 0;
}

#endif
