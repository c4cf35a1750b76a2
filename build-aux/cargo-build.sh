#!/bin/sh
# meson's custom target: build liblxc with cargo (release) and copy it to
# the output meson expects. Honours CARGO_TARGET_DIR.
set -eu
cargo=$1 src=$2 out=$3
"$cargo" build --release --locked --manifest-path "$src/Cargo.toml" -p lxc-capi
target=${CARGO_TARGET_DIR:-$src/target}
cp "$target/release/liblxc.so" "$out"
