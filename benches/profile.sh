#!/bin/sh
# Where the time goes in start, attach_run_wait and stop (docs/benchmarks.md,
# "Where the time goes"). As root:  benches/profile.sh PREFIX [N] [OUTDIR]
# PREFIX is a meson install of ours. For Debian's liblxc.so.1 and ours,
# alternating, five rounds of N/5 (default N=20) unstraced cycles of
# benches/profile.c (median wall times, and the kernel floor sampled in the
# same cycles), then 5 cycles under `strace -f -T -tt -y`, cut into phases
# by benches/profile-strace.py, then under the kernel's tracer (what each
# process ran, and where it slept). The container and the private lxcpath are
# removed at the end; raw output is kept only in OUTDIR if given. Not a test.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(cd "$1" && pwd)
n=${2:-20}
work=$(mktemp -d /tmp/lxc-prof.XXXXXX)
out=${3:-$work/out}
mkdir -p "$out" "$work/lxcpath"
# LXC 5.0 leaves an lxc.pivot cgroup per hierarchy (and may leave an
# lxc.monitor.<name> one): those this run made go with it.
had_pivot=$(find /sys/fs/cgroup -maxdepth 4 -type d -name lxc.pivot | sort)
cleanup() {
	lxc-stop -P "$work/lxcpath" -n prof -k >/dev/null 2>&1 || true
	rm -rf "$work"
	find /sys/fs/cgroup -maxdepth 5 -depth -type d -name 'lxc.monitor.prof' -exec rmdir {} + 2>/dev/null || true
	for d in $(find /sys/fs/cgroup -maxdepth 4 -type d -name lxc.pivot); do
		echo "$had_pivot" | grep -qxF "$d" || rmdir "$d" 2>/dev/null || true
	done
}
trap cleanup EXIT
ours=$(dirname "$(find "$prefix" -name liblxc.so.1 | head -n1)")
debian=/usr/lib/x86_64-linux-gnu
gcc -O2 -std=gnu11 -Wall -I"$prefix/include" -o "$work/profile" "$top/benches/profile.c" \
	-L"$ours" -llxc
# The exec floors: static programs doing nothing before exit, without libc
# (with and without 43 CPUIDs, what glibc's start-up runs here) and with it.
printf '%s\n' 'void _start(void) {' '#ifdef CPUID' \
	'for (unsigned i = 0; i < 43; i++) { unsigned a = i & 7, b, c = 0, d;' \
	'__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d)); }' '#endif' \
	'__asm__ volatile("mov $60, %eax; xor %edi, %edi; syscall"); }' >"$work/nolibc.c"
gcc -O2 -static -nostdlib -o "$work/nolibc" "$work/nolibc.c"
gcc -O2 -static -nostdlib -DCPUID -o "$work/nolibc-cpuid" "$work/nolibc.c"
echo 'int main(void) { return 0; }' >"$work/empty.c"
gcc -O2 -static -o "$work/glibc-static" "$work/empty.c"
libdir() { if [ "$1" = ours ]; then echo "$ours"; else echo "$debian"; fi; }
# median (and, with a third argument, the minimum) in ms of the lines
# "$1 <ns>" of file $2
med() { grep "^$1 " "$2" | awk '{print $2}' | sort -n | awk -v min="${3:-}" \
	'{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.2f", m/1e6;
	 if (min != "") printf " min %.2f", v[1]/1e6}'; }

rm -f "$out"/*.times
for _ in 1 2 3 4 5; do
	for lib in debian ours; do
		sync
		LD_LIBRARY_PATH=$(libdir $lib) "$work/profile" "$work/lxcpath" $((n / 5)) "$work" >>"$out/$lib.times"
	done
done
for lib in debian ours; do
	LD_LIBRARY_PATH=$(libdir $lib) strace -f -T -tt -y -o "$out/$lib.strace" \
		"$work/profile" "$work/lxcpath" 5 "$work" >"$out/$lib.straced-times"
done
for lib in debian ours; do
	for op in start attach attach2 stop; do
		printf '%-7s %-8s median %s ms (under strace %s ms)\n' "$lib" "$op" \
			"$(med "$op" "$out/$lib.times" min)" "$(med "$op" "$out/$lib.straced-times")"
	done
	grep -o '^floor:[^ ]*' "$out/$lib.times" | sort -u | while read -r f; do
		printf '%-7s %-55s %s ms\n' "$lib" "$f" "$(med "$f" "$out/$lib.times" min)"
	done
done
for lib in debian ours; do
	echo "#### $lib"
	python3 "$top/benches/profile-strace.py" "$out/$lib.strace" | tee "$out/$lib.phases"
done
# Then 10 cycles of each under the kernel's tracer (scheduler switches,
# forks, execs, syscall entries and exits, page faults of the driver and everything it
# starts; a fraction of a microsecond per event), read by
# benches/profile-ftrace.py. The tracer's settings are put back after.
tr=/sys/kernel/tracing
mounted_tracefs=0
if [ ! -e "$tr/trace_marker" ] && mount -t tracefs nodev "$tr" 2>/dev/null; then
	mounted_tracefs=1 # a fresh boot has none: unmounted again at the end
fi
[ -w "$tr/trace_marker" ] || exit 0
saved_kb=$(sed 's/.*expanded: \([0-9]*\).*/\1/' "$tr/buffer_size_kb") # "7 (expanded: 1408)" before first use
saved_cmdlines=$(cat "$tr/saved_cmdlines_size")
sleep_trigger='stacktrace if prev_state == 2'
untrace() {
	echo 0 >"$tr/tracing_on"
	echo "!$sleep_trigger" >"$tr/events/sched/sched_switch/trigger" 2>/dev/null || true
	echo "$saved_cmdlines" >"$tr/saved_cmdlines_size"
	: >"$tr/set_event"
	: >"$tr/set_event_pid"
	echo 0 >"$tr/options/event-fork"
	echo "$saved_kb" >"$tr/buffer_size_kb"
}
# A failure or an interrupt must not leave the host tracing.
trap 'untrace; [ "$mounted_tracefs" = 0 ] || umount "$tr"; cleanup' EXIT
for lib in debian ours; do
	untrace
	: >"$tr/trace"
	echo 32768 >"$tr/buffer_size_kb"
	echo 4096 >"$tr/saved_cmdlines_size" # names of the pids in the trace
	echo 1 >"$tr/options/event-fork"
	for e in sched:sched_process_fork sched:sched_process_exec sched:sched_switch \
		raw_syscalls:sys_enter raw_syscalls:sys_exit exceptions:page_fault_user \
		exceptions:page_fault_kernel; do
		echo "$e" >>"$tr/set_event"
	done
	LD_LIBRARY_PATH=$(libdir $lib) PROF_FTRACE=1 sh -c 'echo $$ >"$1/set_event_pid";
		echo 1 >"$1/tracing_on"; shift; exec "$@"' sh "$tr" "$work/profile" "$work/lxcpath" 10 "$work" \
		>"$out/$lib.ftraced-times"
	echo 0 >"$tr/tracing_on"
	cp "$tr/trace" "$out/$lib.ftrace"
	untrace
	echo "#### $lib, under the kernel's tracer"
	python3 "$top/benches/profile-ftrace.py" "$out/$lib.ftrace" | tee "$out/$lib.ftrace-phases"
done
# Then 10 cycles of each with only the scheduler's switches and forks, and
# a kernel stack at every switch away from a task in uninterruptible sleep:
# where the processes waited, not ran (benches/profile-sleeps.py).
for lib in debian ours; do
	untrace
	: >"$tr/trace"
	echo 32768 >"$tr/buffer_size_kb"
	echo 4096 >"$tr/saved_cmdlines_size"
	echo 1 >"$tr/options/event-fork"
	for e in sched:sched_process_fork sched:sched_switch; do
		echo "$e" >>"$tr/set_event"
	done
	echo "$sleep_trigger" >"$tr/events/sched/sched_switch/trigger"
	LD_LIBRARY_PATH=$(libdir $lib) PROF_FTRACE=1 sh -c 'echo $$ >"$1/set_event_pid";
		echo 1 >"$1/tracing_on"; shift; exec "$@"' sh "$tr" "$work/profile" "$work/lxcpath" 10 "$work" \
		>/dev/null
	echo 0 >"$tr/tracing_on"
	cp "$tr/trace" "$out/$lib.sleeps"
	untrace
	echo "#### $lib, where it slept"
	python3 "$top/benches/profile-sleeps.py" "$out/$lib.sleeps" | tee "$out/$lib.sleeps-phases"
done
