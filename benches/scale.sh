#!/bin/bash
# Scale benchmark: N busybox containers (lxc.net.0.type = empty) sharing one
# read-only busybox rootfs, started one after another and left running
# together, for each N, on Debian's liblxc.so.1 and on ours, in one run
# (the library that goes first alternates per N; each gets a fresh lxcpath).
# Reports per N and library: start latency (median of the first and of the
# last tenth of the starts, and their ratio), list_active_containers with
# all N running (median of 5), host memory per container, 1 s after the listing (Pss of every host
# process whose cmdline names the lxcpath, and our one sentinel), stop-all
# and destroy-all time, and what is left afterwards (lxc.payload.<name>
# cgroups, host processes); and, with all N running, one pivot_root(2)
# alone (which visits every thread on the host: the kernel's part of what
# grows with N). Not a timed test: numbers are reported.
# Usage: benches/scale.sh [PREFIX]   (PREFIX: a meson install of ours;
#        default: build one into a scratch directory)
# Environment: SCALE_NS (default "1 10 100 1000"), SCALE_LXC_BUDGET seconds
# (default 360: LXC is skipped at an N its previous N predicts to take
# longer), SCALE_PLOT=FILE.png (plot, if python3 has matplotlib).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
ns=${SCALE_NS:-1 10 100 1000}
budget=${SCALE_LXC_BUDGET:-360}
work=$(mktemp -d /tmp/lxc-scale.XXXXXX)
tag="sc$$"              # every container name of this run starts with it
ro="$work/rootfs-ro"    # read-only bind mount of the shared rootfs
debian=/usr/lib/x86_64-linux-gnu
had_pivot=$(find /sys/fs/cgroup -maxdepth 4 -type d -name lxc.pivot | sort)

libof() { case "$1" in *ours*) echo "$ours" ;; *) echo "$debian" ;; esac; }

# Host processes whose cmdline names lxcpath $1 as a whole word.
procs_of() {
	local p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] && continue
		{ tr "\\0" " " <"$p/cmdline"; } 2>/dev/null | grep -qE -- "$1( |/|\$)" && echo "${p#/proc/}"
	done
	return 0
}

# cgroups of this run's names (lxc.payload.<tag>..., lxc.monitor.<tag>...)
cgroups_of() {
	find /sys/fs/cgroup -maxdepth 5 -depth -type d -name "lxc.$1.$tag*" 2>/dev/null || true
}

cleanup_lxcpath() {
	local lp=$1 pid
	[ -d "$lp" ] || return 0
	LD_LIBRARY_PATH=$(libof "$lp") timeout 600 "$work/scale" cleanup "$lp" || true
	for pid in $(procs_of "$lp"); do kill -9 "$pid" 2>/dev/null || true; done
	rm -rf --one-file-system "$lp"
}

cleanup() {
	local rc=$? lp d
	trap - EXIT INT TERM
	set +e
	for lp in "$work"/lp-*; do cleanup_lxcpath "$lp"; done
	for d in $(cgroups_of payload) $(cgroups_of monitor); do rmdir "$d" 2>/dev/null; done
	for d in $(find /sys/fs/cgroup -maxdepth 4 -type d -name lxc.pivot 2>/dev/null); do
		echo "$had_pivot" | grep -qxF "$d" || rmdir "$d" 2>/dev/null
	done
	if mountpoint -q "$ro" && ! umount "$ro"; then
		echo "scale.sh: could not unmount $ro; leaving $work" >&2
		exit 1
	fi
	rm -rf --one-file-system "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$top/benches/prefix.sh"
gcc -O2 -std=gnu11 -Wall -I"$prefix/include" -o "$work/scale" "$top/benches/scale.c" -L"$ours" -llxc

# One busybox container made by the template (Debian's library); its rootfs
# is shared read-only by every container of the run.
mkdir -p "$work/base"
LD_LIBRARY_PATH=$debian "$work/scale" create "$work/base" "${tag}base"
mkdir "$ro"
mount --bind "$work/base/${tag}base/rootfs" "$ro"
mount -o remount,bind,ro "$ro"
# The template's config with the shared rootfs, the name left to fill in,
# one tty (5 per container would exhaust kernel.pty.max at N=1000).
tmpl=$(grep -vE '^lxc\.(rootfs\.path|rootfs\.options|uts\.name|tty\.max)[ =]' "$work/base/${tag}base/config"
	echo "lxc.rootfs.path = dir:$ro"
	echo "lxc.rootfs.options = ro"
	echo "lxc.uts.name = @NAME@"
	echo "lxc.tty.max = 1")
grep -q '^lxc.net.0.type = empty' <<<"$tmpl" || { echo "scale.sh: base config lacks lxc.net.0.type = empty" >&2; exit 1; }

results="$work/results.txt"
: >"$results"
declare -A wall
one() { # one LIB N
	local lib=$1 n=$2 lp="$work/lp-$1-n$2" pfx="$tag${1:0:1}$2" i name t0 rc=0 left_payload left_mon left_procs
	mkdir -p "$lp"
	for ((i = 1; i <= n; i++)); do
		printf -v name '%s-%04d' "$pfx" "$i"
		mkdir "$lp/$name"
		printf '%s\n' "${tmpl//@NAME@/$name}" >"$lp/$name/config"
	done
	sync
	t0=$(date +%s.%N)
	LD_LIBRARY_PATH=$(libof "$lp") "$work/scale" run "$lp" "$pfx" "$n" >"$work/out-$lib-$n" || rc=$?
	wall[$lib-$n]=$(echo "$(date +%s.%N) - $t0" | bc)
	left_payload=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "lxc.payload.$pfx-*" | wc -l)
	left_mon=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "lxc.monitor.$pfx-*" | wc -l)
	left_procs=$(procs_of "$lp" | wc -l)
	# LXC 5.0 leaves an empty lxc.monitor.<name> cgroup per start: remove ours
	find /sys/fs/cgroup -maxdepth 5 -depth -type d -name "lxc.monitor.$pfx-*" -exec rmdir {} + 2>/dev/null || true
	echo "left_payload_cgroups $left_payload" >>"$work/out-$lib-$n"
	echo "left_monitor_cgroups $left_mon" >>"$work/out-$lib-$n"
	echo "left_host_procs $left_procs" >>"$work/out-$lib-$n"
	echo "wall_s ${wall[$lib-$n]}" >>"$work/out-$lib-$n"
	awk -v lib="$lib" -v n="$n" '{ print lib, n, $1, $2 }' "$work/out-$lib-$n" >>"$results"
	if [ "$rc" -ne 0 ]; then
		echo "scale.sh: $lib N=$n failed:" >&2
		cat "$work/out-$lib-$n" >&2
		exit 1
	fi
	[ "$left_payload" -eq 0 ] && [ "$left_procs" -eq 0 ] || { echo "scale.sh: $lib N=$n left things behind" >&2; exit 1; }
	rmdir "$lp"
}

prev=""
k=0
for n in $ns; do
	if [ $((k % 2)) -eq 0 ]; then order="debian ours"; else order="ours debian"; fi
	k=$((k + 1))
	for lib in $order; do
		if [ "$lib" = debian ] && [ -n "$prev" ] && [ -n "${wall[debian-$prev]:-}" ]; then
			pred=$(echo "${wall[debian-$prev]} * $n / $prev" | bc)
			if [ "$(echo "$pred > $budget" | bc)" = 1 ]; then
				echo "# LXC 5.0.2 not run at N=$n: N=$prev took ${wall[debian-$prev]} s, predicting ${pred} s > ${budget} s" | tee -a "$work/notes"
				continue
			fi
		fi
		echo "# $lib N=$n" >&2
		one "$lib" "$n"
	done
	prev=$n
done

get() { awk -v l="$1" -v n="$2" -v k="$3" '$1 == l && $2 == n && $3 == k { print $4 }' "$results"; }
printf '%-5s %-10s %9s %9s %6s %9s %9s %6s %8s %8s %6s %9s\n' N library "start1/10" "startN/10" ratio "list ms" "Pss kB/c" "procs" "stop s" "destr s" left "pivot us"
for n in $ns; do
	for lib in debian ours; do
		[ -n "$(get $lib "$n" started)" ] || continue
		a=$(get $lib "$n" start_first_tenth_ms)
		b=$(get $lib "$n" start_last_tenth_ms)
		printf '%-5s %-10s %9.2f %9.2f %6.2f %9.3f %9.0f %6.2f %8.3f %8.3f %6s %9.0f\n' "$n" \
			"$([ $lib = debian ] && echo 'LXC 5.0.2' || echo ours)" "$a" "$b" "$(echo "$b / $a" | bc -l)" \
			"$(get $lib "$n" list_active_ms)" "$(get $lib "$n" pss_kb_per_container)" \
			"$(echo "$(get $lib "$n" host_procs) / $n" | bc -l)" \
			"$(get $lib "$n" stop_all_s)" "$(get $lib "$n" destroy_all_s)" \
			"$(($(get $lib "$n" left_payload_cgroups) + $(get $lib "$n" left_host_procs)))" \
			"$(get $lib "$n" pivot_root_us)"
	done
done
echo "(start: median ms of the first and of the last tenth of the starts, ratio last/first;"
echo " list: list_active_containers with all N running, median of 5; Pss: host processes"
echo " naming the lxcpath, per container; procs: those processes per container; left:"
echo " lxc.payload.<name> cgroups + host processes after destroy; pivot: one pivot_root(2)"
echo " alone with all N running, median of 15 in us: the kernel's part of the start's growth)"
[ -f "$work/notes" ] && cat "$work/notes"
if [ -n "${SCALE_RESULTS:-}" ]; then cp "$results" "$SCALE_RESULTS"; fi
if [ -n "${SCALE_PLOT:-}" ]; then
	if python3 -c 'import matplotlib' 2>/dev/null; then
		python3 - "$results" "$SCALE_PLOT" <<'EOF'
import sys, collections
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
d = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    lib, n, k, v = line.split()
    d[(lib, int(n))][k] = float(v)
rows = [("start_last_tenth_ms", "start latency, last tenth (ms)"),
        ("pivot_root_us", "pivot_root(2) alone (us)"),
        ("list_active_ms", "list_active_containers (ms)"),
        ("pss_kb_per_container", "host Pss per container (kB)"),
        ("stop_all_s", "stop all (s)")]
fig, axs = plt.subplots(1, 5, figsize=(20, 4))
for ax, (k, title) in zip(axs, rows):
    for lib, label in (("debian", "LXC 5.0.2"), ("ours", "ours")):
        ns = sorted(n for (l, n) in d if l == lib and k in d[(l, n)])
        ax.plot(ns, [d[(lib, n)][k] for n in ns], "o-", label=label)
    ax.set_xscale("log"); ax.set_xlabel("N containers"); ax.set_title(title); ax.grid(True, alpha=.3)
    if k in ("list_active_ms", "stop_all_s", "pivot_root_us"):
        ax.set_yscale("log")
axs[0].legend()
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=90)
EOF
		echo "plot: $SCALE_PLOT"
	else
		echo "no matplotlib for python3: no plot"
	fi
fi
