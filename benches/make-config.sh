#!/bin/sh
# Prints a ~200-line container config that both LXC 5.0 and this library
# accept: the shape of a real template config (mounts, devices, caps, net).
cat <<'CONF'
# Benchmark container configuration
lxc.include = /usr/share/lxc/config/common.conf
lxc.arch = linux64
lxc.uts.name = big
lxc.rootfs.path = dir:/var/lib/lxc/big/rootfs
lxc.init.cmd = /sbin/init
lxc.tty.max = 4
lxc.pty.max = 1024
lxc.signal.halt = SIGPWR
lxc.start.auto = 1
lxc.log.level = ERROR
lxc.apparmor.profile = unconfined
lxc.autodev = 1
lxc.ephemeral = 0
lxc.mount.auto = proc:mixed sys:ro cgroup:mixed
lxc.environment = PATH=/usr/sbin:/usr/bin:/sbin:/bin
lxc.net.0.type = veth
lxc.net.0.link = br0
lxc.net.0.flags = up
lxc.net.0.hwaddr = 00:16:3e:12:34:56
CONF
i=0
while [ $i -lt 60 ]; do
	echo "lxc.mount.entry = /srv/data$i srv/data$i none bind,optional,create=dir 0 0"
	echo "lxc.cgroup.devices.allow = c 1:$i rwm"
	echo "lxc.cap.drop = sys_module"
	i=$((i + 1))
done
