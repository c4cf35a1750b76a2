#!/bin/sh
# Builds every tests-c/t_*.c against the liblxc installed in PREFIX (found
# through pkg-config) and runs each with its own private lxcpath.
# Usage: tests-c/run.sh PREFIX        Prints "N passed, N failed".
#        ONLY=t_attach tests-c/run.sh PREFIX   runs one program (a glob).
set -u
prefix=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
libdir=$(dirname "$(find "$prefix" -name lxc.pc -path '*pkgconfig*' | head -n1)")/..
libdir=$(cd "$libdir" && pwd)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
export LD_LIBRARY_PATH="$libdir"
bin=$(mktemp -d /tmp/lxc-tests-c.XXXXXX)
chmod 0755 "$bin" # t_unpriv re-executes itself as another user
trap 'rm -rf "$bin"' EXIT
cflags=$(pkg-config --cflags lxc) libs=$(pkg-config --libs lxc)
passed=0 failed=0
for src in "$here"/${ONLY:-t_*}.c; do
	name=$(basename "$src" .c)
	lxcpath="$bin/$name.lxcpath"
	mkdir -p "$lxcpath"
	if ! gcc -std=gnu11 -Wall -Wextra -Werror -g $cflags -o "$bin/$name" "$src" $libs -lpthread; then
		echo "FAIL $name (build)"; failed=$((failed + 1)); continue
	fi
	if "$bin/$name" "$lxcpath"; then
		echo "PASS $name"; passed=$((passed + 1))
	else
		echo "FAIL $name"; failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
