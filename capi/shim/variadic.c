/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The three C-variadic entries of struct lxc_container. Rust cannot define
 * C-variadic functions on stable, so these collect the NULL-terminated
 * argument list into an argv array and call the array variant through the
 * container's own function table. Hidden: reached only through the table.
 */
#include <stdarg.h>
#include <stdlib.h>

#include <lxc/lxccontainer.h>

/* Copies the NULL-terminated va_list (after `first`, which may itself be
 * NULL) into a malloc'd argv. Returns NULL only when out of memory. */
static char **collect_args(const char *first, va_list ap)
{
	va_list count_ap;
	size_t n = 0;
	size_t i = 0;
	char **argv;

	if (first) {
		va_copy(count_ap, ap);
		n = 1;
		while (va_arg(count_ap, char *))
			n++;
		va_end(count_ap);
	}

	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	if (first) {
		argv[i++] = (char *)first;
		while (i < n)
			argv[i++] = va_arg(ap, char *);
	}
	argv[n] = NULL;
	return argv;
}

__attribute__((visibility("hidden")))
bool lxcrs_startl(struct lxc_container *c, int useinit, ...)
{
	va_list ap;
	char **argv;
	bool ok;

	if (!c || !c->start)
		return false;
	va_start(ap, useinit);
	argv = collect_args(va_arg(ap, char *), ap);
	va_end(ap);
	if (!argv)
		return false;
	/* LXC passes NULL, not an empty argv, when no argument was given. */
	ok = c->start(c, useinit, argv[0] ? argv : NULL);
	free(argv);
	return ok;
}

__attribute__((visibility("hidden")))
bool lxcrs_createl(struct lxc_container *c, const char *t, const char *bdevtype,
		   struct bdev_specs *specs, int flags, ...)
{
	va_list ap;
	char **argv;
	bool ok;

	if (!c || !c->create)
		return false;
	va_start(ap, flags);
	argv = collect_args(va_arg(ap, char *), ap);
	va_end(ap);
	if (!argv)
		return false;
	ok = c->create(c, t, bdevtype, specs, flags, argv);
	free(argv);
	return ok;
}

__attribute__((visibility("hidden")))
int lxcrs_attach_run_waitl(struct lxc_container *c, lxc_attach_options_t *options,
			   const char *program, const char *arg, ...)
{
	va_list ap;
	char **argv;
	int ret;

	if (!c || !c->attach_run_wait)
		return -1;
	va_start(ap, arg);
	argv = collect_args(arg, ap);
	va_end(ap);
	if (!argv)
		return -1;
	ret = c->attach_run_wait(c, options, program, (const char *const *)argv);
	free(argv);
	return ret;
}
