/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lxc.mount.auto = cgroup* seen from inside: what is mounted on
 * /sys/fs/cgroup and what the container may write there, by LXC's rules
 * (lxc.container.conf(5)), in two containers:
 * - one with lxc.idmap (user and cgroup namespaces): a container that
 *   keeps CAP_SYS_ADMIN in a cgroup namespace gets nothing unless
 *   ":force" (its init mounts what it wants); forced, or without
 *   CAP_SYS_ADMIN, a writable tmpfs with each hierarchy rooted at the
 *   container's own cgroup ("mixed" is "rw" there, ":ro" read-only);
 *   "cgroup2" puts the cgroup2 hierarchy alone on /sys/fs/cgroup;
 * - a root one without a cgroup namespace (lxc.namespace.clone without
 *   cgroup): the host's path down to its own cgroup, read-only but for
 *   that cgroup ("cgroup-full": the whole host hierarchy, read-only but
 *   for its own cgroup); "cgroup2" is refused.
 * Each case prints one line from inside: the mount on /sys/fs/cgroup, on
 * its pids and unified directories (filesystem:ro|rw or none), whether a
 * file can be made in /sys/fs/cgroup, a cgroup below the container's own
 * pids cgroup, a cgroup at the top of the pids directory, and the first
 * pid of its own pids cgroup (1: init). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

struct cgcase {
	const char *automount;
	/* one more configuration item for this case (NULL: none) */
	const char *key, *value;
	/* where the container's own pids cgroup shows inside; NULL: at
	 * /sys/fs/cgroup/pids plus its host path (no cgroup namespace) */
	const char *own;
	const char *want;
	/* what Debian's LXC 5.0.2 shows when it differs (docs/differences.md "Where we
	 * differ" names it), NULL when the same */
	const char *want_oracle;
};

/* Prints the line described above; $1 is the own pids cgroup. */
static const char probe[] =
	"m() { awk -v p=\"$1\" '$5 == p { for (i = 7; i <= NF; i++) if ($i == \"-\") t = $(i + 1);"
	" split($6, o, \",\"); r = t \":\" o[1] } END { print (r ? r : \"none\") }' /proc/self/mountinfo; };"
	"w() { mkdir \"$1/t.$$\" 2>/dev/null && rmdir \"$1/t.$$\" && echo w || echo -; };"
	"f=-; touch /sys/fs/cgroup/f.$$ 2>/dev/null && rm /sys/fs/cgroup/f.$$ && f=w;"
	"echo \"$(m /sys/fs/cgroup) $(m /sys/fs/cgroup/pids) $(m /sys/fs/cgroup/unified) file:$f"
	" own:$(w \"$1\") top:$(w /sys/fs/cgroup/pids) procs:$(head -n1 \"$1/cgroup.procs\" 2>/dev/null)\"";

static const char *lxcpath;

/* The pids cgroup of the container's init as the host sees it. */
static void host_pids_cgroup(struct lxc_container *c, char *out, size_t len)
{
	char path[64], line[512];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)c->init_pid(c));
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, ":pids:");

		if (p) {
			p[strcspn(p, "\n")] = 0;
			snprintf(out, len, "%s", p + strlen(":pids:"));
		}
	}
	if (f)
		fclose(f);
}

static void run_case(struct lxc_container *c, const char *name, const struct cgcase *k)
{
	char value[256], own[1024], hostcg[512], cmd[4096], want[256];
	const char *got;
	int status;

	snprintf(value, sizeof(value), "proc:mixed sys:ro %s", k->automount);
	CHECK(c->clear_config_item(c, "lxc.mount.auto"));
	CHECK(c->set_config_item(c, "lxc.mount.auto", value));
	if (k->key)
		CHECK(c->set_config_item(c, k->key, k->value));
	if (!c->start(c, 0, NULL)) {
		fprintf(stderr, "%s [%s]: start failed: %d %s\n", name, k->automount, c->error_num,
			c->error_string ? c->error_string : "");
		CHECK(0);
	} else {
		if (k->own) {
			snprintf(own, sizeof(own), "%s", k->own);
		} else {
			host_pids_cgroup(c, hostcg, sizeof(hostcg));
			snprintf(own, sizeof(own), "/sys/fs/cgroup/pids%s", hostcg);
		}
		snprintf(cmd, sizeof(cmd), "set -- '%s'; %s", own, probe);
		got = test_attach_output(c, cmd, &status, 1);
		snprintf(want, sizeof(want), "%s\n", test_oracle() && k->want_oracle ? k->want_oracle : k->want);
		if (strcmp(got, want) != 0)
			fprintf(stderr, "%s [%s%s%s]:\n  got  %s  want %s", name, k->automount, k->key ? " + " : "",
				k->key ? k->key : "", got, want);
		CHECK_STR(got, want);
		CHECK(c->stop(c));
	}
	CHECK(test_leftover_cgroups(name, 1) == 0);
	if (k->key)
		CHECK(c->clear_config_item(c, k->key));
}

#define NOTHING "none none none file:- own:- top:- procs:"

/* User and cgroup namespaces: the own cgroup is each hierarchy's root. */
static const struct cgcase userns_cases[] = {
	/* CAP_SYS_ADMIN kept, no :force: the container's init mounts them */
	{"cgroup:mixed", NULL, NULL, "/sys/fs/cgroup/pids", NOTHING, NULL},
	{"cgroup:rw", NULL, NULL, "/sys/fs/cgroup/pids", NOTHING, NULL},
	{"cgroup-full:mixed", NULL, NULL, "/sys/fs/cgroup/pids", NOTHING, NULL},
	{"cgroup", NULL, NULL, "/sys/fs/cgroup/pids", NOTHING, NULL},
	/* forced: mixed is rw, everything visible being the container's */
	{"cgroup-full:mixed:force", NULL, NULL, "/sys/fs/cgroup/pids",
	 "tmpfs:rw cgroup:rw cgroup2:rw file:w own:w top:w procs:1", NULL},
	{"cgroup:mixed:force", NULL, NULL, "/sys/fs/cgroup/pids",
	 "tmpfs:rw cgroup:rw cgroup2:rw file:w own:w top:w procs:1", NULL},
	{"cgroup:ro:force", NULL, NULL, "/sys/fs/cgroup/pids",
	 "tmpfs:rw cgroup:ro cgroup2:ro file:w own:- top:- procs:1", NULL},
	/* no CAP_SYS_ADMIN to mount them itself: LXC mounts them */
	{"cgroup:mixed", "lxc.cap.drop", "sys_admin", "/sys/fs/cgroup/pids",
	 "tmpfs:rw cgroup:rw cgroup2:rw file:w own:w top:w procs:1", NULL},
	/* the cgroup2 hierarchy alone (always forced) */
	{"cgroup2", NULL, NULL, "/sys/fs/cgroup", "cgroup2:rw none none file:- own:w top:- procs:1", NULL},
	{"cgroup2:ro", NULL, NULL, "/sys/fs/cgroup", "cgroup2:ro none none file:- own:- top:- procs:1", NULL},
};

/* No cgroup namespace: the host's hierarchies, the own cgroup below. */
static const struct cgcase host_cgroupns_cases[] = {
	{"cgroup:mixed", NULL, NULL, NULL, "tmpfs:rw tmpfs:ro tmpfs:ro file:w own:w top:- procs:1", NULL},
	{"cgroup:ro", NULL, NULL, NULL, "tmpfs:rw tmpfs:ro tmpfs:ro file:w own:- top:- procs:1", NULL},
	{"cgroup:rw", NULL, NULL, NULL, "tmpfs:rw none none file:w own:w top:w procs:1", NULL},
	/* LXC 5.0.2 mounts the whole host hierarchy writable (docs/differences.md "Where
	 * we differ": cgroup-full:mixed) */
	{"cgroup-full:mixed", NULL, NULL, NULL, "tmpfs:rw cgroup:ro cgroup2:ro file:w own:w top:- procs:1",
	 "tmpfs:rw cgroup:rw cgroup2:rw file:w own:w top:w procs:1"},
	{"cgroup-full:ro", NULL, NULL, NULL, "tmpfs:rw cgroup:ro cgroup2:ro file:w own:- top:- procs:1", NULL},
};

static void test_userns(void)
{
	char name[64];
	struct lxc_container *c;

	snprintf(name, sizeof(name), "cmu%d", (int)getpid());
	c = test_new_busybox_as(lxcpath, name, 1);
	if (!c)
		return;
	for (size_t i = 0; i < sizeof(userns_cases) / sizeof(userns_cases[0]); i++)
		run_case(c, name, &userns_cases[i]);
	test_finish_container(c, name);
}

static void test_host_cgroupns(void)
{
	char name[64];
	struct lxc_container *c;

	snprintf(name, sizeof(name), "cmh%d", (int)getpid());
	c = test_new_busybox(lxcpath, name);
	if (!c)
		return;
	CHECK(c->set_config_item(c, "lxc.namespace.clone", "mnt pid uts ipc net"));
	for (size_t i = 0; i < sizeof(host_cgroupns_cases) / sizeof(host_cgroupns_cases[0]); i++)
		run_case(c, name, &host_cgroupns_cases[i]);
	/* The cgroup2 hierarchy alone needs a cgroup namespace. */
	CHECK(c->clear_config_item(c, "lxc.mount.auto"));
	CHECK(c->set_config_item(c, "lxc.mount.auto", "proc:mixed sys:ro cgroup2"));
	if (c->start(c, 0, NULL)) {
		CHECK(0);
		c->stop(c);
	} else {
		CHECK_ERRNUM(c, EOPNOTSUPP);
		CHECK_ERRSTR(c, "cgroup namespace");
	}
	CHECK(test_leftover_cgroups(name, 1) == 0);
	test_finish_container(c, name);
}

int main(int argc, char **argv)
{
	lxcpath = test_lxcpath(argc, argv);
	test_oracle_root_subids(100000, 65536);
	test_userns();
	test_host_cgroupns();
	test_oracle_root_subids_end();
	return check_result("t_cgmount");
}
