#!/bin/sh
# ABI conformance against Debian's LXC (lxc-dev, 5.0.2):
#  1. every sizeof/offsetof shared with Debian's headers is identical, and
#     ours has the 6.0 additions (rcv_timeout at 568, set_timeout at 576);
#  2. the headers compile as C99, GNU11 and C++11 with -Werror;
#  3. a binary built against Debian's headers and library runs on ours.
# Usage: tests-c/abi-check.sh PREFIX      (PREFIX: where meson installed us)
set -eu
prefix=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
libdir=$(dirname "$(find "$prefix" -name lxc.pc -path '*pkgconfig*' | head -n1)")/..
libdir=$(cd "$libdir" && pwd)
tmp=$(mktemp -d /tmp/lxc-abi.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

gcc -std=gnu11 -Wall -Wextra -Werror -I"$prefix/include" -o "$tmp/ours" "$here/abi/abi_layout.c"
gcc -std=gnu11 -Wall -Wextra -I/usr/include -o "$tmp/debian" "$here/abi/abi_layout.c"
"$tmp/ours" >"$tmp/ours.txt"
"$tmp/debian" >"$tmp/debian.txt"
# Lines of Debian's output that differ from ours, ignoring the size of the
# struct that 6.0 grew.
grep -v '^sizeof struct lxc_container ' "$tmp/debian.txt" | sort >"$tmp/deb.sorted"
sort "$tmp/ours.txt" >"$tmp/ours.sorted"
missing=$(comm -23 "$tmp/deb.sorted" "$tmp/ours.sorted")
if [ -n "$missing" ]; then
	echo "ABI mismatch with Debian's headers:"; echo "$missing"; fail=1
fi
for want in 'sizeof struct lxc_container 584' 'offsetof struct lxc_container.rcv_timeout 568' \
	'offsetof struct lxc_container.set_timeout 576' 'sizeof lxc_attach_options_t 96' \
	'sizeof struct bdev_specs 72'; do
	grep -qx "$want" "$tmp/ours.txt" || { echo "missing: $want"; fail=1; }
done
echo "abi layout: $(wc -l <"$tmp/ours.txt") lines checked"

for std in "gcc -std=c99" "gcc -std=gnu11" "g++ -std=c++11 -x c++"; do
	if $std -Wall -Wextra -Werror -I"$prefix/include" -o "$tmp/headers" "$here/abi/headers.c" \
		-L"$libdir" -llxc; then
		echo "headers: $std ok"
	else
		echo "headers: $std FAILED"; fail=1
	fi
done

gcc -std=gnu11 -Wall -Wextra -I/usr/include -o "$tmp/deb_smoke" "$here/abi/deb_smoke.c" \
	-L/usr/lib/x86_64-linux-gnu -llxc
mkdir -p "$tmp/lxcpath"
if LD_LIBRARY_PATH="$libdir" "$tmp/deb_smoke" "$tmp/lxcpath"; then
	echo "debian-built binary on our library: ok"
else
	echo "debian-built binary on our library: FAILED"; fail=1
fi
exit $fail
