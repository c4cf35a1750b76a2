#!/bin/sh
# Layer-3 real manager, clustered: three LXD 5.0.2 daemons (Debian's lxd)
# on the liblxc installed in PREFIX form one cluster on this machine. Each
# member has its own LXD_DIR and network namespace, with an address on a
# bridge the test makes in the host (a private /24, nothing leaves the
# machine); in its netns each has its own copy of the cluster's managed
# bridge (same subnet, LXD's dnsmasq). m1 bootstraps with a preseed, m2
# and m3 join with tokens; the offline busybox image is imported once.
# Checks: three members ONLINE; one instance launched on each member (two
# unprivileged, one privileged), RUNNING there and leased an IPv4; exec
# (hostname, exit codes) through a member that is not the host; `lxc list`
# from every member shows all three; stop, delete, nothing left on the
# host; the managed network deleted cluster-wide; at the end no netns,
# bridge, daemon or mount of the test is left.
#
# Usage: tests/clients/lxd/cluster.sh PREFIX      (our library)
#        tests/clients/lxd/cluster.sh --oracle    (Debian's liblxc)
# Exit status is the test result. Needs what run.sh needs, as root.
set -u
. "$(dirname "$0")/lib.sh"
begin "$@"

id=$$
tag="lxdcl$((id % 100000))"
# The host bridge and the veths' host ends carry the tag; the netns are
# $tag-m1..3; the managed bridge has one name, in each member's netns.
hbr="$tag"
mbr=lxdclbr0
# Two /24s no route on this host uses yet: the members' and the managed
# bridge's (the latter only exists inside the netns, but stays apart).
cnet='' mnet=''
for i in $(seq 0 80); do
	cand="10.214.$(((id + i) % 200 + 20))"
	ip -4 route | grep -q "^$cand\." && continue
	if [ -z "$cnet" ]; then cnet=$cand; else mnet=$cand; break; fi
done
[ -n "$mnet" ] || { echo "no two free 10.214.x.0/24" >&2; exit 1; }
tmp=$(mktemp -d /tmp/lxd-cluster.XXXXXX) || exit 1
chmod 0711 "$tmp"
status=0
# shellcheck disable=SC2034 # read through eval
pid1='' pid2='' pid3=''
# Members' env: their cluster traffic goes direct, the rest to the closed
# proxy port.
offline_env
export no_proxy="$cnet.11,$cnet.12,$cnet.13"

# lxc through member $1's unix socket.
M() {
	_m=$1
	shift
	LXD_DIR="$tmp/m$_m" timeout -k 10 120 lxc "$@"
}
# The pid of member $1's daemon, if it is alive (a zombie is not).
live() {
	p=$(eval echo "\${pid$1:-}")
	[ -n "$p" ] || return 1
	st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && echo "$p"
}

# Deletes what instances are left, stops the members, ends whatever still
# runs in their netns, then removes the netns and the bridge. Safe to run
# twice. What it had to kill is in forced.
forced=
# shellcheck disable=SC2317 # run from the EXIT trap too
teardown() {
	for n in 1 2 3; do
		live "$n" >/dev/null || continue
		for c in $(M "$n" list -c n --format csv 2>/dev/null); do
			M "$n" delete --force "$c" >/dev/null 2>&1
		done
		break
	done
	# All members at once: stopped one by one, the last would wait for a
	# quorum that has gone.
	waits=
	for n in 1 2 3; do
		live "$n" >/dev/null || continue
		LXD_DIR="$tmp/m$n" timeout -k 5 60 lxd shutdown >/dev/null 2>&1 &
		waits="$waits $!"
	done
	for w in $waits; do wait "$w"; done
	for n in 1 2 3; do
		for _ in $(seq 1 25); do live "$n" >/dev/null || break; sleep 0.2; done
		if p=$(live "$n"); then
			forced="$forced m$n's daemon"
			kill -9 "$p"
		fi
		p=$(eval echo "\${pid$n:-}")
		[ -n "$p" ] && wait "$p" 2>/dev/null
		eval "pid$n="
	done
	# Whatever still runs in a netns came from this test's daemons: it
	# goes, and the final check counts it.
	for n in 1 2 3; do
		ns="$tag-m$n"
		ip netns list | grep -q "^$ns\( \|\$\)" || continue
		left=$(ip netns pids "$ns")
		if [ -n "$left" ]; then
			forced="$forced $(ps -o args= -p "$(echo "$left" | paste -sd, -)" | cut -c1-60 | tr '\n' ';')"
			for p in $left; do kill -9 "$p"; done
			sleep 0.5
		fi
		# The veth goes with its host end at once, not when the
		# kernel gets round to freeing the netns.
		ip link show "$tag-$n" >/dev/null 2>&1 && ip link del "$tag-$n"
		ip netns del "$ns"
	done
	ip link show "$hbr" >/dev/null 2>&1 && ip link del "$hbr"
}
# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
	teardown
	# What a member left mounted outside its namespace goes before the
	# files.
	grep -o " ${tmp}[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf --one-file-system "$tmp"
	restore_subid
}
trap cleanup EXIT
trap 'exit 1' INT TERM

add_subid

# ip netns exec gives a member a fresh sysfs of its netns, without what is
# mounted below /sys (the cgroup hierarchies): the same mounts again, in
# the member's mount namespace, before lxd starts.
awk '$2 ~ /^\/sys\// {print $1, $2, $3, $4}' /proc/self/mounts >"$tmp/sysmounts"
cat >"$tmp/in-netns.sh" <<EOF
#!/bin/sh
while read -r src dir type opts; do
	mkdir -p "\$dir"
	mount -t "\$type" -o "\$opts" "\$src" "\$dir" || echo "in-netns: no \$type on \$dir" >&2
done <"$tmp/sysmounts"
exec "\$@"
EOF

# The members' network: a bridge in the host, a veth from each netns.
if ! ip link add "$hbr" type bridge || ! ip link set "$hbr" up; then fail "bridge $hbr"; exit 1; fi
for n in 1 2 3; do
	ns="$tag-m$n"
	if ip netns add "$ns" &&
		ip link add "$tag-$n" type veth peer name eth0 netns "$ns" &&
		ip link set "$tag-$n" master "$hbr" up &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "$cnet.1$n/24" dev eth0 &&
		ip -n "$ns" link set eth0 up; then :; else
		fail "netns $ns on $hbr"; exit 1
	fi
done

# The members, each in its netns, on the library under test.
for n in 1 2 3; do
	LXD_DIR="$tmp/m$n"
	mkdir -p "$LXD_DIR"
	start_lxd "$tmp/m$n.out" "$tmp/m$n.log" ip netns exec "$tag-m$n" sh "$tmp/in-netns.sh"
	eval "pid$n=\$daemon"
done
for n in 1 2 3; do
	export LXD_DIR="$tmp/m$n"
	daemon_ready "$(live "$n")" "m$n: " "$tmp/m$n.out" "$tmp/m$n.log" || exit 1
done
unset LXD_DIR
echo "LXD reports liblxc $(M 1 info | awk '/driver_version:/ {print $2; exit}')"

{
	cat <<EOF
config:
  core.https_address: $cnet.11:8443
cluster:
  server_name: m1
  enabled: true
EOF
	preseed_base "$mbr" "$mnet"
} >"$tmp/m1.yaml"
if LXD_DIR="$tmp/m1" timeout -k 10 120 lxd init --preseed <"$tmp/m1.yaml"; then
	pass "m1: lxd init bootstraps the cluster on $cnet.11:8443"
else
	fail "m1: lxd init (bootstrap)"; exit 1
fi

# The others join with a token m1 gives out; the dir pool's source is
# theirs to give (empty: the default).
for n in 2 3; do
	token=$(M 1 cluster add "m$n" | tail -n1)
	if [ -z "$token" ]; then fail "m1: cluster add m$n gave no token"; exit 1; fi
	cat >"$tmp/m$n.yaml" <<EOF
cluster:
  enabled: true
  server_name: m$n
  server_address: $cnet.1$n:8443
  cluster_address: $cnet.11:8443
  cluster_token: $token
  member_config:
  - entity: storage-pool
    name: default
    key: source
    value: ""
EOF
	# lxd init itself fetches m1's certificate: from the netns, where
	# the cluster's addresses are.
	if LXD_DIR="$tmp/m$n" timeout -k 10 120 ip netns exec "$tag-m$n" lxd init --preseed <"$tmp/m$n.yaml"; then
		pass "m$n: joined with a token from m1"
	else
		fail "m$n: join"; tail -n 5 "$tmp/m$n.log"; exit 1
	fi
done

# Members turn ONLINE on their heartbeat.
for _ in $(seq 1 30); do
	online=$(M 1 cluster list --format csv | grep -c ',ONLINE,')
	[ "$online" = 3 ] && break
	sleep 1
done
if [ "$online" = 3 ]; then pass "cluster list: three members ONLINE"; else
	fail "cluster list: $online members ONLINE"; M 1 cluster list; exit 1; fi

build_image "$tmp"
if M 1 image import "$tmp/busybox.tar.gz" --alias busybox >/dev/null &&
	[ "$(M 3 image list -c l --format csv)" = busybox ]; then
	pass "image import on m1 (busybox, built offline), seen from m3"
else
	fail "image import"; exit 1
fi

# cN runs on mN; c3 is privileged. All launched through m1. Their names
# carry the tag: another test's c1 would share their cgroup names.
ci="${tag#lxd}-c"
for n in 1 2 3; do
	set -- --target "m$n"
	[ $n = 3 ] && set -- "$@" -c security.privileged=true
	if M 1 launch busybox "$ci$n" "$@" >/dev/null &&
		[ "$(M 1 list "$ci$n" -c sL --format csv)" = "RUNNING,m$n" ]; then
		pass "c$n: launched on m$n, RUNNING"
	else
		fail "c$n: launch on m$n"; M 1 list "$ci$n"; tail -n 15 "$tmp/m$n/logs/$ci$n/lxc.log"
	fi
done

# Each instance through a member that is not its host.
for n in 1 2 3; do
	o=$((n % 3 + 1))
	a=
	for _ in $(seq 1 60); do
		a=$(M "$o" list "$ci$n" -c 4 --format csv | grep -o "$mnet\.[0-9]*" | head -n1)
		[ -n "$a" ] && break
		sleep 0.5
	done
	if [ -n "$a" ]; then pass "c$n: leased $a by m$n's dnsmasq (seen from m$o)"; else
		fail "c$n: no IPv4 from $mnet.0/24"; fi
	h=$(M "$o" exec "$ci$n" -- hostname)
	M "$o" exec "$ci$n" -- sh -c 'exit 7'
	rc=$?
	if [ "$h" = "$ci$n" ] && [ $rc = 7 ] && M "$o" exec "$ci$n" -- true; then
		pass "c$n: exec through m$o: hostname $ci$n, exit codes 7 and 0"
	else
		fail "c$n: exec through m$o: hostname '$h', exit code $rc"
	fi
	# uid 0 inside is root on the host only for the privileged one.
	host_uid=$(M "$o" exec "$ci$n" -- cat /proc/self/uid_map | awk 'NR == 1 {print $2}')
	if [ $n = 3 ]; then want=privileged; [ "$host_uid" = 0 ] || want=unexpected; else
		want=unprivileged; [ -n "$host_uid" ] && [ "$host_uid" != 0 ] || want=unexpected; fi
	if [ $want = unexpected ]; then fail "c$n: uid 0 inside is '$host_uid' on the host"; else
		pass "c$n: $want (uid 0 inside is $host_uid on the host)"; fi
done

for n in 1 2 3; do
	l=$(M "$n" list -c n --format csv | sort | tr '\n' ' ')
	if [ "$l" = "${ci}1 ${ci}2 ${ci}3 " ]; then pass "m$n: lxc list shows all three"; else
		fail "m$n: lxc list shows '$l'"; fi
done

for n in 1 2 3; do
	o=$((n % 3 + 1))
	if M "$o" stop "$ci$n" && [ "$(M "$n" list "$ci$n" -c s --format csv)" = STOPPED ]; then
		pass "c$n: stop through m$o"
	else fail "c$n: stop"; fi
	if M "$o" delete "$ci$n" && ! M "$n" list -c n --format csv | grep -qx "$ci$n"; then
		pass "c$n: delete through m$o"
	else fail "c$n: delete"; fi
	left=$(leftovers "$ci$n" "$tmp/m$n" "$mbr" "$tag-m$n" "$(live "$n")")
	if [ -z "$left" ]; then pass "c$n: nothing left on the host"; else
		fail "c$n: left on the host:"; echo "$left"; fi
done

# The managed network goes cluster-wide: every member's bridge and dnsmasq
# with it (left running, the last members to stop would keep theirs: the
# database they read their networks from has gone with the others).
if M 2 profile device remove default eth0 >/dev/null && M 2 network delete "$mbr" >/dev/null; then
	left=
	for n in 1 2 3; do
		ip -n "$tag-m$n" link show "$mbr" >/dev/null 2>&1 && left="$left m$n:$mbr"
		for p in $(ip netns pids "$tag-m$n"); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = dnsmasq ] && left="$left m$n:dnsmasq"
		done
	done
	if [ -z "$left" ]; then pass "network delete through m2: every member's bridge and dnsmasq gone"; else
		fail "network delete through m2 left$left"; fi
else
	fail "network delete through m2"
fi

if [ $status -ne 0 ]; then
	for n in 1 2 3; do
		echo "--- m$n.log (errors)"
		grep -E 'level=(error|warning)' "$tmp/m$n.log" | tail -n 10
	done
fi

# The end: every member stopped, then nothing of the test left.
teardown
left=$([ -z "$forced" ] || echo "killed:$forced"
	ip netns list | grep "^$tag-"; ip -o link show | grep -o "${tag}[^:@ ]*"
	grep -l "LXD_DIR=$tmp" /proc/[0-9]*/environ 2>/dev/null
	grep " $tmp" /proc/self/mountinfo)
if [ -z "$left" ]; then pass "teardown: members stopped, no netns, bridge, veth, daemon or mount left"; else
	fail "teardown left:"; echo "$left"; fi
exit $status
