#!/bin/sh
# Layer-3 real client: Debian's go-lxc (golang-gopkg-lxc-go-lxc.v2-dev),
# built with cgo against the liblxc installed in PREFIX (its lxc.pc, its
# headers) and run against that library.
#
# Usage: tests/clients/go/run.sh PREFIX LXCPATH
#        tests/clients/go/run.sh --oracle LXCPATH   (Debian's own liblxc)
# Exit status is the test result. Works offline: GOPATH mode over Debian's
# /usr/share/gocode; golang.org/x/sys comes from golang-golang-x-sys-dev if
# installed, else from the copy vendored in the Go toolchain.
# Needs: golang-go golang-gopkg-lxc-go-lxc.v2-dev lxc busybox-static
# lxc-templates, gcc, pkg-config, root.
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 PREFIX|--oracle LXCPATH" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$2" || exit 1
lxcpath=$(cd "$2" && pwd)

tmp=$(mktemp -d /tmp/lxc-go-client.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

gosrc=/usr/share/gocode/src
if [ ! -d "$gosrc/gopkg.in/lxc/go-lxc.v2" ]; then
	echo "go-lxc source missing: apt-get install golang-gopkg-lxc-go-lxc.v2-dev" >&2
	exit 1
fi
command -v go >/dev/null || { echo "go missing: apt-get install golang-go" >&2; exit 1; }

# Offline GOPATH-mode build environment, all under $tmp.
export GO111MODULE=off GOPROXY=off GOFLAGS= CGO_ENABLED=1
export GOCACHE="$tmp/cache" GOENV="$tmp/goenv" HOME="$tmp"
export GOPATH="$tmp/gopath:/usr/share/gocode"
if [ ! -d "$gosrc/golang.org/x/sys/unix" ]; then
	# go-lxc imports golang.org/x/sys/unix; Debian's package does not
	# depend on golang-golang-x-sys-dev. The toolchain vendors a copy.
	vend="$(go env GOROOT)/src/cmd/vendor/golang.org/x/sys"
	[ -d "$vend/unix" ] || { echo "no golang.org/x/sys/unix: apt-get install golang-golang-x-sys-dev" >&2; exit 1; }
	mkdir -p "$tmp/gopath/src/golang.org/x"
	ln -s "$vend" "$tmp/gopath/src/golang.org/x/sys"
fi

if [ "$1" = "--oracle" ]; then
	export LXC_GO_ORACLE=1
	unset PKG_CONFIG_PATH LD_LIBRARY_PATH
	expect_lib=/usr/lib/x86_64-linux-gnu/liblxc.so.1
else
	prefix=$(cd "$1" && pwd) || exit 1
	pc=$(find "$prefix" -name lxc.pc -path '*pkgconfig*' | head -n1)
	[ -n "$pc" ] || { echo "no lxc.pc under $prefix" >&2; exit 1; }
	libdir=$(cd "$(dirname "$pc")/.." && pwd)
	export PKG_CONFIG_PATH="$libdir/pkgconfig"
	export LD_LIBRARY_PATH="$libdir"
	expect_lib="$libdir/liblxc.so.1"
	unset LXC_GO_ORACLE
fi
# CRIU for the Checkpoint/Restore step, found as tests-c/t_criu.c finds it:
# $LXC_TEST_CRIU, else the `criu` on PATH when `criu check` passes, else
# ../shared/tools/criu-4.2/criu next to the repository, else
# /work/shared/tools/criu-4.2/criu (this kernel needs CRIU 4.2; Debian's 3.17
# fails). Its directory goes first on PATH; the library runs `criu` from
# PATH. main.go skips the step when no `criu check` passes, and on the oracle.
repo=$(cd "$here/../../.." && pwd)
if [ -n "${LXC_TEST_CRIU:-}" ]; then
	PATH="$(dirname "$LXC_TEST_CRIU"):$PATH"
elif ! criu check >/dev/null 2>&1; then
	for cand in "$repo/../shared/tools/criu-4.2/criu" /work/shared/tools/criu-4.2/criu; do
		if [ -x "$cand" ] && "$cand" check >/dev/null 2>&1; then
			PATH="$(cd "$(dirname "$cand")" && pwd):$PATH"
			break
		fi
	done
fi
export PATH
echo "go-lxc: criu: $(command -v criu || echo none)"

echo "go-lxc: building against $(pkg-config --modversion lxc) ($(pkg-config --cflags --libs lxc))"

# Build in a GOPATH-less copy so nothing is written into the source tree.
mkdir -p "$tmp/src"
cp "$here/main.go" "$tmp/src/"
if ! (cd "$tmp/src" && go build -o "$tmp/golxc-test" main.go); then
	echo "FAIL: go build"
	exit 1
fi

# The binary must resolve liblxc.so.1 to the library under test.
got=$(ldd "$tmp/golxc-test" | awk '$1 == "liblxc.so.1" {print $3}')
if [ "$(readlink -f "$got")" != "$(readlink -f "$expect_lib")" ]; then
	echo "FAIL: golxc-test resolves liblxc.so.1 to '$got', want $expect_lib"
	exit 1
fi
echo "go-lxc: running against $got, lxcpath $lxcpath"
"$tmp/golxc-test" "$lxcpath" &
pid=$!
wait $pid
rc=$?
# The container names are golxc<PID>[r|c]. Debian's LXC 5.0 leaves its
# lxc.monitor cgroups behind on cgroup v1 (busy until the client exits);
# the test has already checked ours; remove what is left, only if empty.
for d in /sys/fs/cgroup/lxc.*.golxc$pid* /sys/fs/cgroup/*/lxc.*.golxc$pid*; do
	[ -d "$d" ] && rmdir "$d" 2>/dev/null
done
exit $rc
