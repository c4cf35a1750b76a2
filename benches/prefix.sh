# Sourced by the benchmarks: sets `prefix` to a meson install of ours (the
# first argument, or one built into $work/prefix) and `ours` to its libdir.
if [ $# -ge 1 ]; then
	prefix=$(cd "$1" && pwd)
else
	prefix="$work/prefix"
	meson setup "$work/build" "$top" --prefix="$prefix" >/dev/null
	meson compile -C "$work/build" >/dev/null
	meson install -C "$work/build" >/dev/null
fi
ours=$(dirname "$(find "$prefix" -name liblxc.so.1 | head -n1)")
