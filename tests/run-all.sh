#!/bin/sh
# The project's one test command: every layer, against real kernel objects
# and Debian's LXC as the oracle. Run as root on a machine with the
# packages of .ci/run installed.
#   1. lints: cargo fmt, cargo clippy -D warnings, raw syscalls only in
#      src/sys/, no import loop between the modules of src/
#   2. cargo test (core and C layer unit tests)
#   3. the committed headers equal the generated ones
#   4. meson build + install into a scratch prefix; exported symbols
#   5. tests-c/ programs through pkg-config against the installed library,
#      then the confinement programs on Debian's liblxc (differential)
#   6. ABI conformance against Debian's lxc-dev headers and library
#   7. real clients: Debian's python3-lxc, go-lxc and LXD (alone and as a
#      three-member cluster) on our library
set -u
# No test reads the caller's terminal: run under a tty in a background
# process group (under a `timeout` wrapper, say), a read of it stops the
# reader (SIGTTIN) for good.
exec </dev/null
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
work=$(mktemp -d /tmp/lxc-rs-tests.XXXXXX)
# t_unpriv runs as another user, who must be able to load our library.
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT
# The monitor's prelinked copy (src/prelink) is made where the run removes it.
export LXC_RS_PRELINK="$work/prelink"
prefix="$work/prefix"
status=0
started=$(date +%s)
# Each step's header says when it began (seconds into the run), so a slow
# or stuck layer shows in any log.
step() { printf '\n=== %s (at %ds)\n' "$*" $(($(date +%s) - started)); }
fail() { echo "FAILED: $*"; status=1; }
# Runs a layer with a time bound ($1 minutes, far above its usual time):
# a hang fails that layer and the run goes on. KILL follows TERM a minute
# later, after the layer's own cleanup had its chance.
bounded() {
	limit=$1
	shift
	timeout -k 60 $((limit * 60)) "$@"
	rc=$?
	[ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "TIMED OUT after $limit minutes: $*"
	return $rc
}

step "lints"
cargo fmt --all -- --check || fail "cargo fmt"
cargo clippy --workspace --all-targets --locked -- -D warnings || fail "cargo clippy"

step "raw syscalls live in src/sys/"
raw=$(grep -rn 'libc::syscall' src capi --include='*.rs' | grep -v '^src/sys/' | grep -v '^src/sys\.rs:')
[ -z "$raw" ] && echo "no libc::syscall outside src/sys/" || { echo "$raw"; fail "libc::syscall outside src/sys/"; }

step "no import loop between the modules of src/"
python3 tests/check-layers.py || fail "module import loop"

step "cargo test"
bounded 30 cargo test --workspace --locked || fail "cargo test"

step "generated headers are committed"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git diff --exit-code -- include/ || fail "include/ differs from what build.rs generates: commit it"
fi

step "meson build and install"
if meson setup "$work/build" --prefix="$prefix" >"$work/meson.log" 2>&1 &&
	meson compile -C "$work/build" >>"$work/meson.log" 2>&1 &&
	meson install -C "$work/build" >>"$work/meson.log" 2>&1; then
	echo "installed into $prefix"
else
	cat "$work/meson.log"; fail "meson"; exit 1
fi
libdir=$(dirname "$(find "$prefix" -name liblxc.so.1 | head -n1)")
[ -L "$libdir/liblxc.so" ] || fail "liblxc.so dev link missing"

step "exported symbols"
expected="list_active_containers list_all_containers list_defined_containers lxc_attach_run_command
lxc_attach_run_shell lxc_config_item_is_supported lxc_container_get lxc_container_new lxc_container_put
lxc_get_global_config_item lxc_get_version lxc_get_wait_states lxc_has_api_extension lxc_log_close lxc_log_init"
got=$(nm -D --defined-only "$libdir/liblxc.so.1" | awk '{print $3}' | sort | tr '\n' ' ')
want=$(echo $expected | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$got" = "$want" ] && echo "exports: exactly the public API" || fail "exports: got [$got] want [$want]"
readelf -d "$libdir/liblxc.so.1" | grep -q 'SONAME.*\[liblxc.so.1\]' || fail "soname"

step "tests-c"
bounded 20 tests-c/run.sh "$prefix" || fail "tests-c"

step "tests-c differential: the confinement programs on Debian's liblxc"
bounded 15 tests-c/run.sh --oracle "$prefix" || fail "tests-c differential"

step "ABI against Debian's LXC"
tests-c/abi-check.sh "$prefix" || fail "abi-check"

step "configuration: differential against Debian's liblxc"
bounded 10 tests/confdiff/run.sh "$prefix" >"$work/confdiff.log" 2>&1 && tail -n 1 "$work/confdiff.log" ||
	{ tail -n 40 "$work/confdiff.log"; fail "confdiff"; }

step "python3-lxc on our library"
mkdir -p "$work/py"
bounded 5 env LD_LIBRARY_PATH="$libdir" /usr/bin/python3 tests/clients/python_smoke.py "$work/py" || fail "python3-lxc smoke"
mkdir -p "$work/pylife"
bounded 5 env LD_LIBRARY_PATH="$libdir" /usr/bin/python3 tests/clients/python_lifecycle.py "$work/pylife" || fail "python3-lxc lifecycle + interop"
mkdir -p "$work/pyattach"
bounded 5 env LD_LIBRARY_PATH="$libdir" /usr/bin/python3 tests/clients/python_attach.py "$work/pyattach" || fail "python3-lxc attach"
mkdir -p "$work/pynet"
bounded 5 env LD_LIBRARY_PATH="$libdir" /usr/bin/python3 tests/clients/python_network.py "$work/pynet" || fail "python3-lxc network"
mkdir -p "$work/pysnap"
bounded 5 /usr/bin/python3 tests/clients/python_snapshots.py "$work/pysnap" "$libdir" || fail "python3-lxc clone/snapshots + interop with Debian's LXC"

step "go-lxc on our library"
mkdir -p "$work/go"
bounded 15 tests/clients/go/run.sh "$prefix" "$work/go" || fail "go-lxc client"

step "interactive console through tmux"
bounded 5 tests/console_tmux.sh "$prefix" || fail "console tmux"

# Last: the LXD daemon changes host settings while it runs (forwarding).
step "LXD 5.0 on our library (Debian's lxd, offline busybox image)"
bounded 15 tests/clients/lxd/run.sh "$prefix" || fail "LXD on our library"

step "LXD 5.0 cluster on our library (three members, each in its own netns)"
bounded 15 tests/clients/lxd/cluster.sh "$prefix" || fail "LXD cluster on our library"

echo
echo "whole run: $(($(date +%s) - started)) s"
if [ $status -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; fi
exit $status
