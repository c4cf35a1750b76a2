# Shared by the LXD tests (run.sh, cluster.sh); sourced, not run. It gives
# them the library choice, PASS/FAIL lines (fail sets status=1), a bounded
# `lxc`, the daemon start, root's subuid ranges, the offline busybox image
# and the check that a container left nothing on the host.

# shellcheck shell=sh disable=SC2034
# (status and daemon are the callers'.)

# The start of both tests: one argument, PREFIX or --oracle; the tools;
# the library.
begin() {
	if [ $# -ne 1 ]; then
		echo "usage: $0 PREFIX|--oracle" >&2
		exit 2
	fi
	# The lxc client reads its stdin; under `timeout` it runs in a
	# background process group, where reading a terminal stops it.
	exec </dev/null
	need_cmds
	choose_lib "$1"
}

# Everything the LXD tests run.
need_cmds() {
	for cmd in lxd lxc dnsmasq busybox script ip; do
		command -v "$cmd" >/dev/null || {
			echo "$cmd missing: apt-get install lxd lxd-client dnsmasq-base busybox-static" >&2
			exit 1
		}
	done
}

# $1 is PREFIX or --oracle: sets mode, libdir (empty on the oracle) and
# want_lib, the library the daemon must load.
choose_lib() {
	if [ "$1" = "--oracle" ]; then
		mode=oracle
		libdir=
		want_lib=$(readlink -f /usr/lib/x86_64-linux-gnu/liblxc.so.1)
	else
		mode=ours
		prefix=$(cd "$1" && pwd) || exit 1
		libdir=$(dirname "$(find "$prefix" -name liblxc.so.1 | head -n1)")
		[ -e "$libdir/liblxc.so.1" ] || { echo "no liblxc.so.1 under $prefix" >&2; exit 1; }
		want_lib=$(readlink -f "$libdir/liblxc.so.1")
	fi
}

pass() { echo "PASS [$mode] $*"; }
fail() { echo "FAIL [$mode] $*"; status=1; }
# Every lxc call is bounded: a hang is a failure, not a stuck test. The
# client forwards SIGTERM to the process inside and goes on waiting, so a
# KILL follows.
L() { timeout -k 10 120 lxc "$@"; }

# LXD maps unprivileged containers through newuidmap: root needs ranges.
# restore_subid takes back what add_subid added.
added_subid=
add_subid() {
	if ! grep -q '^root:' /etc/subuid 2>/dev/null || ! grep -q '^root:' /etc/subgid 2>/dev/null; then
		echo "root:1000000:1000000000" >>/etc/subuid
		echo "root:1000000:1000000000" >>/etc/subgid
		added_subid=1
	fi
}
restore_subid() {
	if [ -n "$added_subid" ]; then
		sed -i '/^root:1000000:1000000000$/d' /etc/subuid /etc/subgid
		added_subid=
	fi
}

# The daemon's fetches (its daily one of instance types) go to a closed
# local port instead of resolving a name: nothing leaves the machine.
offline_env() {
	export https_proxy=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9
	unset HTTPS_PROXY HTTP_PROXY no_proxy NO_PROXY
}

# Starts a daemon on the library under test with the current LXD_DIR, in
# the background: $1 its output file, $2 its log file, then an optional
# command that runs it (ip netns exec ...). Sets daemon to its pid, which
# is lxd's own: nothing in the chain forks.
start_lxd() {
	out=$1 log=$2
	shift 2
	group=root
	getent group lxd >/dev/null && group=lxd
	if [ "$mode" = ours ]; then
		set -- "$@" env LXD_DIR="$LXD_DIR" LD_LIBRARY_PATH="$libdir"
	else
		set -- "$@" env -u LD_LIBRARY_PATH LXD_DIR="$LXD_DIR"
	fi
	"$@" setsid lxd --group "$group" --logfile "$log" </dev/null >"$out" 2>&1 &
	daemon=$!
}

# Waits for the daemon of the current LXD_DIR ($1 pid, $2 a prefix for the
# lines, $3 $4 its output and log) and checks that it loaded the library under test.
daemon_ready() {
	if ! timeout -k 5 90 lxd waitready --timeout 80; then
		fail "${2}daemon start"; cat "$3" "$4" 2>/dev/null | tail -20; return 1
	fi
	got=$(awk '/liblxc\.so\.1/ {print $6; exit}' "/proc/$1/maps")
	if [ "$(readlink -f "$got")" = "$want_lib" ]; then
		pass "${2}daemon up on $got"
	else
		fail "${2}daemon loaded '$got', want $want_lib"; return 1
	fi
}

# The preseed both tests start from: a managed bridge $1 on $2.0/24 (no NAT,
# no IPv6, DHCP from LXD's dnsmasq), a dir pool and the default profile.
preseed_base() {
	cat <<EOF
networks:
- name: $1
  type: bridge
  config:
    ipv4.address: $2.1/24
    ipv4.nat: "false"
    ipv4.dhcp: "true"
    ipv6.address: none
storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  devices:
    root: {path: /, pool: default, type: disk}
    eth0: {name: eth0, network: $1, type: nic}
EOF
}

# The busybox image, offline, as $1/busybox.tar.gz: a rootfs from
# busybox-static whose init gets its address from LXD's dnsmasq with
# udhcpc, and metadata.yaml. No `umount -a -r` at shutdown: in a
# privileged container its remount of /dev/console (a host pty, with
# Debian's LXC as with ours) would make the host's devpts read-only.
build_image() {
	img="$1/image"
	root="$img/rootfs"
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc/init.d" \
		"$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root" "$root/run" \
		"$root/usr/share/udhcpc"
	chmod 1777 "$root/tmp"
	cp "$(command -v busybox)" "$root/bin/busybox"
	for a in $("$root/bin/busybox" --list-full); do
		[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
	cat >"$root/etc/inittab" <<'EOF'
::sysinit:/etc/init.d/rcS
::respawn:/sbin/udhcpc -f -i eth0 -s /usr/share/udhcpc/default.script
EOF
	cat >"$root/etc/init.d/rcS" <<'EOF'
#!/bin/sh
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
echo "lxd-busybox: booted"
EOF
	cat >"$root/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
case "$1" in
deconfig) ip -4 addr flush dev "$interface"; ip link set dev "$interface" up ;;
bound|renew)
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	echo "lxd-busybox: $interface has $ip" ;;
esac
exit 0
EOF
	chmod 0755 "$root/etc/init.d/rcS" "$root/usr/share/udhcpc/default.script"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
	cat >"$img/metadata.yaml" <<EOF
architecture: $(uname -m)
creation_date: $(date +%s)
properties:
  description: busybox (offline test image)
  os: busybox
  release: "1"
EOF
	tar -C "$img" -czf "$1/busybox.tar.gz" metadata.yaml rootfs
}

# What of container $1 (of the daemon whose LXD_DIR is $2) is still on the
# host: cgroups, monitor and sentinel processes, mounts, host veth ends on
# bridge $3.
# With $4 (a netns) and $5 (the daemon's pid) the bridge is in that netns
# and the mounts are in the daemon's mount namespace.
leftovers() {
	find /sys/fs/cgroup -maxdepth 6 -type d \( -name "lxc.payload.$1" -o -name "lxc.monitor.$1" \
		-o -name "lxc.payload.$1-[0-9]*" \) 2>/dev/null
	pgrep -af "^\[lxc (monitor|sentinel)\] $2/containers $1( |\$)"
	pgrep -af "forkstart $1 "
	if [ $# -ge 5 ]; then
		grep " $2/.*containers/$1[ /]" "/proc/$5/mountinfo"
		ip -n "$4" -o link show master "$3" 2>/dev/null | grep -o 'veth[^@:]*'
	else
		grep " $2/.*containers/$1[ /]" /proc/self/mountinfo
		ip -o link show master "$3" 2>/dev/null | grep -o 'veth[^@:]*'
	fi
}
