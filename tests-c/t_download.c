/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Debian's lxc-download template through create(), offline: a private
 * image cache (LXC_CACHE_PATH, never /var/cache/lxc) holding a busybox
 * rootfs.tar.xz made from a busybox container, the image's config
 * (including Debian's common.conf through LXC_TEMPLATE_CONFIG), an
 * excludes list and a templates list; the container it makes starts,
 * has the substituted hostname, and is destroyed without leftovers.
 * Skipped only when the template is absent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

#define TEMPLATE "/usr/share/lxc/templates/lxc-download"

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return 0;
	fputs(text, f);
	return fclose(f) == 0;
}

static int run(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc == 0;
}

/* The image's config: Debian's common.conf (as real images include their
 * distribution's), then the busybox container's own keys without those
 * the template or create writes per container. */
static int write_image_config(const char *src_config, const char *out)
{
	FILE *in = fopen(src_config, "r"), *f = fopen(out, "w");
	char line[1024];

	if (!in || !f) {
		if (in)
			fclose(in);
		if (f)
			fclose(f);
		return 0;
	}
	fputs("lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.arch = x86_64\n", f);
	while (fgets(line, sizeof(line), in)) {
		if (strncmp(line, "lxc.", 4) != 0 || strncmp(line, "lxc.rootfs.path", 15) == 0 ||
		    strncmp(line, "lxc.uts.name", 12) == 0 || strncmp(line, "lxc.net.", 8) == 0)
			continue;
		fputs(line, f);
	}
	fclose(in);
	return fclose(f) == 0;
}

/* <cache>/download/<dist>/<release>/<arch>/<variant>/ as the template
 * reads it (it joins the parts with an extra '/', harmless). */
static int build_cache(const char *lxcpath, const char *cache)
{
	struct lxc_container *src = lxc_container_new("dlsrc", lxcpath);
	char dir[4096], path[4200], cmd[8800];
	int ok = 0;

	if (!src)
		return 0;
	CHECK(src->set_config_item(src, "lxc.net.0.type", "empty"));
	if (!src->create(src, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL)) {
		fprintf(stderr, "create dlsrc: %s\n", src->error_string ? src->error_string : "");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/download/bbx/one/amd64/default", cache);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
	if (!run(cmd))
		goto out;
	/* A file the template substitutes, one it must not unpack. */
	snprintf(path, sizeof(path), "%s/dlsrc/rootfs/etc/hostname", lxcpath);
	CHECK(write_file(path, "LXC_NAME\n"));
	snprintf(path, sizeof(path), "%s/dlsrc/rootfs/excluded-by-image", lxcpath);
	CHECK(write_file(path, "x\n"));
	snprintf(cmd, sizeof(cmd), "cd '%s/dlsrc/rootfs' && XZ_OPT=-0 tar --numeric-owner -cJf '%s/rootfs.tar.xz' .",
		 lxcpath, dir);
	if (!run(cmd))
		goto out;
	snprintf(path, sizeof(path), "%s/dlsrc/config", lxcpath);
	snprintf(cmd, sizeof(cmd), "%s/config", dir);
	CHECK(write_image_config(path, cmd));
	snprintf(path, sizeof(path), "%s/templates", dir);
	CHECK(write_file(path, "/etc/hostname\n"));
	snprintf(path, sizeof(path), "%s/excludes", dir);
	CHECK(write_file(path, "./excluded-by-image\n"));
	snprintf(path, sizeof(path), "%s/create-message", dir);
	CHECK(write_file(path, "busybox test image\n"));
	ok = 1;
out:
	if (src->is_defined(src))
		CHECK(src->destroy(src));
	lxc_container_put(src);
	return ok;
}

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	const char *args[] = {"-d", "bbx", "-r", "one", "-a", "amd64", "--force-cache", NULL};
	char cache[4096], path[4200], cmd[4400], *out;
	struct lxc_container *c;
	struct stat st;

	if (access(TEMPLATE, X_OK) != 0) {
		printf("t_download: skipped (%s absent)\n", TEMPLATE);
		return 0;
	}
	snprintf(cache, sizeof(cache), "%s.cache", lxcpath);
	if (mkdir(cache, 0700) != 0 && errno != EEXIST) {
		perror("mkdir cache");
		return 1;
	}
	/* The template's own override of its cache base. */
	setenv("LXC_CACHE_PATH", cache, 1);
	if (!build_cache(lxcpath, cache)) {
		CHECK(0);
		goto out;
	}

	c = lxc_container_new("dl", lxcpath);
	CHECK(c != NULL);
	if (!c)
		goto out;
	CHECK(c->set_config_item(c, "lxc.net.0.type", "empty"));
	if (!c->create(c, "download", NULL, NULL, LXC_CREATE_QUIET, (char *const *)args)) {
		fprintf(stderr, "create download: %d %s\n", c->error_num, c->error_string ? c->error_string : "");
		CHECK(0);
	} else {
		char buf[256];

		/* What the template wrote: distribution config (placeholders
		 * substituted), per-container keys, our network entry. */
		CHECK(c->get_config_item(c, "lxc.uts.name", buf, sizeof(buf)) > 0);
		CHECK_STR(buf, "dl");
		CHECK(c->get_config_item(c, "lxc.net.0.type", buf, sizeof(buf)) > 0);
		CHECK_STR(buf, "empty");
		CHECK(c->get_config_item(c, "lxc.seccomp.profile", buf, sizeof(buf)) > 0);
		CHECK_STR(buf, "/usr/share/lxc/config/common.seccomp");
		snprintf(path, sizeof(path), "%s/dl/rootfs/excluded-by-image", lxcpath);
		CHECK(stat(path, &st) != 0);
		snprintf(path, sizeof(path), "%s/dl/rootfs/bin/busybox", lxcpath);
		CHECK(stat(path, &st) == 0);
		snprintf(path, sizeof(path), "%s/dl/partial", lxcpath);
		CHECK(stat(path, &st) != 0);

		if (!c->start(c, 0, NULL)) {
			fprintf(stderr, "start: %s\n", c->error_string ? c->error_string : "");
			CHECK(0);
		} else {
			CHECK_STR(c->state(c), "RUNNING");
			out = test_inside_logged(c, "cat /etc/hostname");
			CHECK_STR(out, "dl\n");
			out = test_inside_logged(c, "hostname");
			CHECK_STR(out, "dl\n");
			CHECK(c->stop(c));
		}
		CHECK(c->destroy(c));
		CHECK(!c->is_defined(c));
	}
	snprintf(path, sizeof(path), "%s/dl", lxcpath);
	CHECK(stat(path, &st) != 0);
	CHECK(test_leftover_cgroups("dl", 1) == 0);
	lxc_container_put(c);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
	CHECK(run(cmd));
	return check_result("t_download");
}
