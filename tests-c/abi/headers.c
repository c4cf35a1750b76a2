/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Compiled as C99, GNU11 and C++11 with warnings as errors: the public
 * headers must be clean in all three, and the default attach options
 * must work as an initializer. */
#include <lxc/attach_options.h>
#include <lxc/lxccontainer.h>
#include <lxc/version.h>

int main(void)
{
	lxc_attach_options_t options = LXC_ATTACH_OPTIONS_DEFAULT;
	struct lxc_container *c = lxc_container_new("headers", "/nonexistent");

	if (c)
		lxc_container_put(c);
	return options.namespaces == -1 && options.log_fd == -EBADF ? 0 : 1;
}
