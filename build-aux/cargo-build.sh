#!/bin/sh
# meson's custom target: build liblxc and the monitor with cargo (release)
# and copy them to the outputs meson expects. Honours CARGO_TARGET_DIR.
# LXC_RS_LIBEXECDIR (set by meson) is baked into the library as the last
# place to look for the monitor.
set -eu
cargo=$1 src=$2 lib_out=$3 monitor_out=$4
"$cargo" build --release --locked --manifest-path "$src/Cargo.toml" -p lxc-capi
"$cargo" build --release --locked --manifest-path "$src/Cargo.toml" -p lxc-core --bin lxc-rs-monitor
target=${CARGO_TARGET_DIR:-$src/target}
cp "$target/release/liblxc.so" "$lib_out"
cp "$target/release/lxc-rs-monitor" "$monitor_out"
