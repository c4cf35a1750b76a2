#!/bin/sh
# Builds liblxc with meson into ./_build/prefix and runs the C demo against
# it through pkg-config. Usage: ./demo.sh
set -eu
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
prefix="$top/_build/prefix"
[ -d _build/meson ] || meson setup _build/meson --prefix="$prefix" >/dev/null
meson compile -C _build/meson >/dev/null
meson install -C _build/meson >/dev/null
libdir=$(dirname "$(find "$prefix" -name liblxc.so.1 | head -n1)")
export PKG_CONFIG_PATH="$libdir/pkgconfig"
gcc -std=gnu11 -Wall -Wextra -o _build/demo examples/demo.c $(pkg-config --cflags --libs lxc)
LD_LIBRARY_PATH="$libdir" exec _build/demo "$@"
