#!/bin/sh
# meson's custom target: build liblxc and the monitor with cargo (release)
# and copy them to the outputs meson expects. Honours CARGO_TARGET_DIR.
# LXC_RS_LIBEXECDIR (set by meson) is baked into the library as the last
# place to look for the monitor.
set -eu
cargo=$1 src=$2 lib_out=$3 monitor_out=$4
target=${CARGO_TARGET_DIR:-$src/target}
"$cargo" build --release --locked --manifest-path "$src/Cargo.toml" -p lxc-capi
cp "$target/release/liblxc.so" "$lib_out"

# The monitor is exec'd by every start: linked statically (static-pie, with
# libseccomp's archive) it is running about half a millisecond sooner than
# linked dynamically (no loader, no libc/libgcc_s/libseccomp to map and
# relocate, a smaller address space for its forks and init's clone). Only
# its own crate gets the flag (`cargo rustc`); its own target directory
# keeps the library's build from being redone. It is built with whole-
# program LTO: calls between crates become direct (without it rustc leaves
# ~19000 calls through the GOT), and its relocated read-only data, a
# private copy in every running monitor, shrinks from 77 to 59 kB.
# Where there is no static libc or libseccomp it is linked dynamically.
# The installed monitor goes without its debug information (21 MB to
# ~4 MB): a caller without CAP_SYS_ADMIN runs it from a sealed in-memory
# copy (sys::sealed_exe), made once per process.
shed_debug_info() {
	strip --strip-debug "$monitor_out" 2>/dev/null || true
}
static=$target/static-monitor
static_monitor() {
	seccomp_a=$(${CC:-cc} -print-file-name=libseccomp.a 2>/dev/null) || return 1
	case "$seccomp_a" in /*) ;; *) return 1 ;; esac
	CARGO_TARGET_DIR=$static LIBSECCOMP_LINK_TYPE=static \
		CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
		LIBSECCOMP_LIB_PATH=$(dirname "$seccomp_a") \
		"$cargo" rustc --release --locked --manifest-path "$src/Cargo.toml" \
		-p lxc-core --bin lxc-rs-monitor -- -C target-feature=+crt-static || return 1
	# It runs: an unknown argument is refused with status 1 (fds 3 and 4,
	# its configuration and status pipe, closed so it touches neither).
	status=0
	"$static/release/lxc-rs-monitor" --probe 3<&- 4>&- >/dev/null 2>&1 || status=$?
	[ "$status" -eq 1 ]
}
if static_monitor; then
	cp "$static/release/lxc-rs-monitor" "$monitor_out"
	shed_debug_info
	exit 0
fi
echo "cargo-build.sh: no static monitor; linking it dynamically" >&2
"$cargo" build --release --locked --manifest-path "$src/Cargo.toml" -p lxc-core --bin lxc-rs-monitor
cp "$target/release/lxc-rs-monitor" "$monitor_out"
shed_debug_info
