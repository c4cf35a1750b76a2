/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lxc_log_init: file, level, prefix and name in LXC's line format. */
#include <stdio.h>
#include <string.h>

#include <lxc/lxccontainer.h>

#include "check.h"

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	char logfile[4096], line[1024];
	struct lxc_log log = {0};
	struct lxc_container *c;
	FILE *f;
	int found = 0;

	snprintf(logfile, sizeof(logfile), "%s/test.log", lxcpath);
	log.name = "t-log";
	log.file = logfile;
	log.level = "DEBUG";
	log.prefix = "pfx";
	log.quiet = true;
	CHECK(lxc_log_init(&log) == 0);
	CHECK(lxc_log_init(&log) == 0); /* again: a warning, not an error */

	c = lxc_container_new("t-log", lxcpath);
	CHECK(c != NULL);
	if (c) {
		CHECK(!c->destroy(c)); /* logs an ERROR line */
		lxc_container_put(c);
	}
	lxc_log_close();

	f = fopen(logfile, "r");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		char prefix[16], name[16], stamp[32], prio[16];

		/* "pfx t-log 20261122184227.928 ERROR    lxccontainer - file:func:line - msg" */
		if (sscanf(line, "%15s %15s %31s %15s", prefix, name, stamp, prio) == 4 &&
		    strcmp(prio, "ERROR") == 0 && strstr(line, "destroy") != NULL) {
			CHECK_STR(prefix, "pfx");
			CHECK_STR(name, "t-log");
			CHECK(strlen(stamp) == 18 && stamp[14] == '.');
			CHECK(strstr(line, "ERROR    ") != NULL); /* priority padded to 8 */
			found |= 1;
		}
		if (strstr(line, "WARN") && strstr(line, "Log already initialized"))
			found |= 2;
	}
	if (f)
		fclose(f);
	CHECK(found == 3);
	return check_result("t_log");
}
