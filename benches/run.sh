#!/bin/bash
# Benchmarks: the same C client against Debian's liblxc.so.1 and ours, in
# one run; prints ns/op for each and the speed ratio (LXC time / ours:
# above 1 means we are faster). Not a timed test: numbers are reported.
# Usage: benches/run.sh [PREFIX]   (PREFIX: a meson install of ours;
#        default: build one into a scratch directory)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/lxc-bench.XXXXXX)
# A bridge of our own (no uplink) for the veth rows.
export BENCH_BRIDGE="lxcbench$$"
ip link add "$BENCH_BRIDGE" type bridge && ip link set "$BENCH_BRIDGE" up
trap 'rm -rf "$work"; ip link del "$BENCH_BRIDGE" 2>/dev/null' EXIT
. "$top/benches/prefix.sh"
debian=/usr/lib/x86_64-linux-gnu

gcc -O2 -std=gnu11 -Wall -I"$prefix/include" -o "$work/bench" "$top/benches/bench.c" \
	-L"$ours" -llxc -lpthread
mkdir -p "$work/lxcpath/big" "$work/lxcpath/saved"
"$top/benches/make-config.sh" >"$work/lxcpath/big/config"
# 200 more defined containers for the listing benchmark
for i in $(seq 1 200); do
	mkdir -p "$work/lxcpath/l$i" && echo "lxc.uts.name = l$i" >"$work/lxcpath/l$i/config"
done

# Each library starts with no dirty page of the other's run in writeback
# (the clone rows write 100 MB; renames on ext4 then wait behind them).
sync
LD_LIBRARY_PATH="$debian" "$work/bench" "$work/lxcpath" >"$work/debian.txt"
# LXC 5.0 leaves an empty lxc.monitor.<name> cgroup per start on this host:
# remove the ones this run made.
find /sys/fs/cgroup -depth -type d -name 'lxc.monitor.life*' -exec rmdir {} + 2>/dev/null || true
# and its lxc.pivot cgroups (kept when some other LXC container uses them)
find /sys/fs/cgroup -maxdepth 4 -type d -name 'lxc.pivot' -exec rmdir {} + 2>/dev/null || true
sync
LD_LIBRARY_PATH="$ours" "$work/bench" "$work/lxcpath" >"$work/ours.txt"
printf '%-30s %14s %14s %8s\n' "benchmark" "LXC 5.0.2 ns" "ours ns" "ratio"

paste -d ' ' "$work/debian.txt" "$work/ours.txt" |
	awk '{ if ($2 < 0 || $1 ~ /failures$/) printf "%-30s %14s %14d %8s\n", $1, ($2 < 0 ? "not run" : $2), $4, "-"; else printf "%-30s %14d %14d %7.2fx\n", $1, $2, $4, $2 / ($4 > 0 ? $4 : 1) }'
echo "(ratio = LXC / ours: above 1 means ours is faster or smaller; VmRSS is in kB)"
