/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The busybox template's own boot: its rcS runs udhcpc on eth0. Here eth0
 * is a veth on a bridge this test creates, served by a busybox udhcpd the
 * test runs on that bridge (nothing leaves the machine). The container must
 * get a lease and get_ips must return it. */
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lxc/lxccontainer.h>

#include "check.h"

int main(int argc, char **argv)
{
	const char *lxcpath = test_lxcpath(argc, argv);
	char bridge[IFNAMSIZ], cmd[1024], conf[512], lease[512], want[64];
	int net = 100 + getpid() % 100, found = 0, i;
	struct lxc_container *c;
	pid_t server;
	FILE *f;

	snprintf(bridge, sizeof(bridge), "lxcdh%d", getpid() % 100000);
	snprintf(cmd, sizeof(cmd), "ip link add %s type bridge && ip addr add 10.%d.9.1/24 dev %s && ip link set %s up",
		 bridge, net, bridge, bridge);
	if (system(cmd) != 0)
		return 1;
	snprintf(conf, sizeof(conf), "%s/udhcpd.conf", lxcpath);
	snprintf(lease, sizeof(lease), "%s/udhcpd.leases", lxcpath);
	f = fopen(conf, "w");
	CHECK(f != NULL);
	if (!f)
		return 1;
	fprintf(f, "interface %s\nstart 10.%d.9.50\nend 10.%d.9.60\nlease_file %s\noption subnet 255.255.255.0\n"
		   "option router 10.%d.9.1\n",
		bridge, net, net, lease, net);
	fclose(f);
	f = fopen(lease, "w");
	if (f)
		fclose(f);
	server = fork();
	if (server == 0) {
		execlp("busybox", "busybox", "udhcpd", "-f", conf, (char *)NULL);
		_exit(127);
	}

	c = lxc_container_new("dh", lxcpath);
	CHECK(c != NULL);
	if (c) {
		CHECK(c->set_config_item(c, "lxc.net.0.type", "veth"));
		CHECK(c->set_config_item(c, "lxc.net.0.link", bridge));
		CHECK(c->set_config_item(c, "lxc.net.0.name", "eth0"));
		CHECK(c->set_config_item(c, "lxc.net.0.flags", "up"));
		CHECK(c->create(c, "busybox", NULL, NULL, LXC_CREATE_QUIET, NULL));
		CHECK(c->start(c, 0, NULL));
		snprintf(want, sizeof(want), "10.%d.9.", net);
		for (i = 0; i < 150 && !found; i++) {
			char **ips = c->get_ips(c, "eth0", "inet", 0);
			int k;

			for (k = 0; ips && ips[k]; k++) {
				if (strncmp(ips[k], want, strlen(want)) == 0) {
					printf("leased %s\n", ips[k]);
					found = 1;
				}
				free(ips[k]);
			}
			free(ips);
			if (!found)
				usleep(100000);
		}
		CHECK(found);
		CHECK(c->stop(c));
		CHECK(c->destroy(c));
		lxc_container_put(c);
	}
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	snprintf(cmd, sizeof(cmd), "ip link del %s", bridge);
	CHECK(system(cmd) == 0);
	return check_result("t_dhcp");
}
