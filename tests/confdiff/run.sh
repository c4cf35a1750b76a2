#!/bin/sh
# Differential conformance of the configuration API: the same scripts
# through the same C client against Debian's liblxc (the oracle) and ours.
# Usage: tests/confdiff/run.sh PREFIX
#   PREFIX: where our liblxc is installed (meson install --prefix).
# Env: CONFDIFF_KEEP=1 keeps the work directory (transcripts in it).
# Exits non-zero on any difference not listed in allowed.txt.
set -u
prefix=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
debian_libdir=/usr/lib/x86_64-linux-gnu
ours_libdir=$(dirname "$(find "$prefix" -name liblxc.so.1 | head -n1)")
[ -e "$debian_libdir/liblxc.so.1" ] || { echo "confdiff: Debian's liblxc1 is not installed"; exit 1; }
[ -e "$ours_libdir/liblxc.so.1" ] || { echo "confdiff: no liblxc.so.1 under $prefix"; exit 1; }
work=$(mktemp -d /tmp/lxc-confdiff.XXXXXX)
[ "${CONFDIFF_KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT

# One client, compiled against our headers, linked by soname only.
gcc -std=gnu11 -Wall -Wextra -Werror -I"$top/include" -o "$work/client" "$here/client.c" \
	-L"$ours_libdir" -llxc || exit 1

# Corpus: tests/confdiff/corpus/*.script, written by gen.py (re-run
# "python3 tests/confdiff/gen.py tests/confdiff/corpus" after editing it).
corpus=$(ls "$here"/corpus/*.script)

for side in debian ours; do
	if [ $side = debian ]; then libdir=$debian_libdir; else libdir=$ours_libdir; fi
	# Same-length private lxcpaths (the client prints it as $LXCPATH, but
	# lengths of values containing it are printed as they are).
	lxcpath="$work/lxcpath.$(echo $side | cut -c1)"
	mkdir -p "$lxcpath"
	LD_LIBRARY_PATH="$libdir" "$work/client" "$lxcpath" $corpus \
		>"$work/$side.out" 2>"$work/$side.err"
	rc=$?
	[ $rc -eq 0 ] || { echo "confdiff: client on $side exited with $rc"; tail -n 3 "$work/$side.out"; exit 1; }
done
[ "${CONFDIFF_KEEP:-}" = 1 ] && echo "confdiff: transcripts in $work"
python3 "$here/compare.py" "$work/debian.out" "$work/ours.out" "$here/allowed.txt"
