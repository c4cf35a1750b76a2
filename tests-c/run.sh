#!/bin/sh
# Builds every tests-c/t_*.c against the liblxc installed in PREFIX (found
# through pkg-config) and runs each with its own private lxcpath.
# Usage: tests-c/run.sh PREFIX        Prints "N passed, N failed".
#        ONLY=t_attach tests-c/run.sh PREFIX   runs some programs (globs,
#                                              separated by spaces).
#        tests-c/run.sh --oracle PREFIX   differential mode: the programs are
#            built against PREFIX's headers as above but run on Debian's
#            liblxc 5.0.2 (the system liblxc.so.1), with LXC_TEST_ORACLE=1
#            (test_oracle() in check.h). Default programs: oracle_programs below.
set -u
# The programs whose subject is a configuration key family of LXC's
# (rootfs, mounts, dev, cgroups, caps, prlimit, sysctl, proc, seccomp, hooks,
# namespaces, user namespaces and id maps, security) or a call changing what
# a running container sees, t_edges (edges programs written for LXC 6.0
# rely on) and t_conform_* (docs/conformance.md). On the oracle, programs
# with lxc.idmap give root /etc/subuid and /etc/subgid ranges while they
# run (LXC maps through newuidmap even as root), and t_unpriv's user runs Debian's library too
# (it inherits the cleared LD_LIBRARY_PATH).
oracle_programs="t_confine t_hostile_mounts t_seccomp t_cgroup t_cgroup2 t_cgmount t_console t_attach
	t_namespaces t_inject t_userns t_idmapped t_unpriv t_edges t_lxd_prereqs t_conform_global
	t_conform_config t_conform_lifecycle t_rootswitch"
oracle=0
if [ "${1:-}" = "--oracle" ]; then
	oracle=1
	shift
fi
prefix=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
libdir=$(dirname "$(find "$prefix" -name lxc.pc -path '*pkgconfig*' | head -n1)")/..
libdir=$(cd "$libdir" && pwd)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
if [ "$oracle" = 1 ]; then
	unset LD_LIBRARY_PATH
	export LXC_TEST_ORACLE=1
	only=${ONLY:-$oracle_programs}
else
	export LD_LIBRARY_PATH="$libdir"
	only=${ONLY:-t_*}
fi
bin=$(mktemp -d /tmp/lxc-tests-c.XXXXXX)
chmod 0755 "$bin" # t_unpriv re-executes itself as another user
trap 'rm -rf "$bin"' EXIT
cflags=$(pkg-config --cflags lxc) libs=$(pkg-config --libs lxc)
lxc_cgroups() { find /sys/fs/cgroup -type d -name 'lxc.*' 2>/dev/null | sort; }
passed=0 failed=0
for pattern in $only; do
	for src in "$here"/$pattern.c; do
		name=$(basename "$src" .c)
		lxcpath="$bin/$name.lxcpath"
		mkdir -p "$lxcpath"
		if ! gcc -std=gnu11 -Wall -Wextra -Werror -g $cflags -o "$bin/$name" "$src" $libs -lpthread; then
			echo "FAIL $name (build)"; failed=$((failed + 1)); continue
		fi
		if [ "$oracle" = 1 ]; then
			# The loader must pick Debian's library, not ours.
			lib=$(ldd "$bin/$name" | awk '$1 == "liblxc.so.1" { print $3 }')
			case "$lib" in
			"$libdir"/*|"")
				echo "FAIL $name (loads '$lib', not Debian's liblxc)"; failed=$((failed + 1)); continue ;;
			esac
			lxc_cgroups >"$bin/$name.cg-before"
		fi
		if "$bin/$name" "$lxcpath"; then
			echo "PASS $name"; passed=$((passed + 1))
		else
			echo "FAIL $name"; failed=$((failed + 1))
		fi
		if [ "$oracle" = 1 ]; then
			# LXC 5.0.2's monitor leaves an lxc.pivot it made to leave its
			# lxc.monitor.<name> cgroup: remove the new ones (rmdir keeps
			# one some other LXC is using).
			lxc_cgroups | comm -13 "$bin/$name.cg-before" - | grep '/lxc\.pivot$' |
				while read -r d; do rmdir "$d" 2>/dev/null; done
			# For information: other processes on the machine may add some
			# (each program checks its own names, test_oracle_cleanup).
			lxc_cgroups | comm -13 "$bin/$name.cg-before" - | sed 's/^/new lxc cgroup (info): /'
		fi
	done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
