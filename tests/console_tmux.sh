#!/bin/sh
# Interactive console test through tmux on a busybox container started by
# our library (python3-lxc on it):
#   - Debian's lxc-console -t 1 reaches the getty, Ctrl-a q leaves it;
#   - Debian's lxc-console -t 0 reaches the console shell (our proxy);
#   - our console() (python3-lxc Container.console) in a real terminal:
#     raw mode, getty prompt, Ctrl-a q, the terminal restored.
# Usage: tests/console_tmux.sh PREFIX     (PREFIX: our installed library)
set -u
prefix=$(cd "$1" && pwd)
libdir=$(dirname "$(find "$prefix" -name liblxc.so.1 | head -n1)")
work=$(mktemp -d /tmp/lxc-console-tmux.XXXXXX)
lxcpath="$work/lxcpath"
mkdir -p "$lxcpath"
name="ctmux$$"
sock="lxcrs-console-$$"
status=0
fail() { echo "FAILED: $*"; status=1; }
tm() { tmux -L "$sock" "$@"; }
ours() { LD_LIBRARY_PATH="$libdir" /usr/bin/python3 -c "$1" "$lxcpath" "$name"; }

cleanup() {
	tm kill-server 2>/dev/null
	ours 'import lxc, sys
c = lxc.Container(sys.argv[2], sys.argv[1])
if c.running: c.stop()
if c.defined: c.destroy()' 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# wait_pane SESSION TEXT SECONDS: 0 once TEXT is on the pane.
wait_pane() {
	i=0
	while [ $i -lt $(($3 * 5)) ]; do
		tm capture-pane -p -t "$1" 2>/dev/null | grep -q "$2" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "--- pane $1:"; tm capture-pane -p -t "$1" 2>/dev/null
	return 1
}

# wait_gone SESSION SECONDS: 0 once the session's command has exited.
wait_gone() {
	i=0
	while [ $i -lt $(($2 * 5)) ]; do
		tm has-session -t "$1" 2>/dev/null || return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

ours 'import lxc, sys
c = lxc.Container(sys.argv[2], sys.argv[1])
c.set_config_item("lxc.net.0.type", "empty")
assert c.create("busybox", lxc.LXC_CREATE_QUIET), "create"
c.set_config_item("lxc.console.buffer.size", "auto")
assert c.start(), "start"' || { echo "FAILED: create/start"; exit 1; }

# 1. Debian's lxc-console on tty 1: the getty answers, Ctrl-a q leaves.
tm new-session -d -s deb1 -x 100 -y 30 "lxc-console -P $lxcpath -n $name -t 1"
wait_pane deb1 "Connected to tty 1" 10 || fail "lxc-console -t 1 did not connect"
tm send-keys -t deb1 Enter
wait_pane deb1 "login:" 15 || fail "lxc-console -t 1: no getty prompt"
tm send-keys -t deb1 C-a q
wait_gone deb1 10 || fail "lxc-console -t 1: Ctrl-a q did not leave"

# 2. Debian's lxc-console on the console (tty 0): the askfirst shell.
tm new-session -d -s deb0 -x 100 -y 30 "lxc-console -P $lxcpath -n $name -t 0"
wait_pane deb0 "Connected to tty 0" 10 || fail "lxc-console -t 0 did not connect"
tm send-keys -t deb0 Enter
sleep 0.5
tm send-keys -t deb0 'echo tmux$((20+3))' Enter
wait_pane deb0 "tmux23" 15 || fail "lxc-console -t 0: the console shell did not answer"
tm send-keys -t deb0 C-a q
wait_gone deb0 10 || fail "lxc-console -t 0: Ctrl-a q did not leave"

# 3. Our console() in a real terminal, then the terminal is sane again.
tm new-session -d -s ours -x 100 -y 30 "sh"
tm send-keys -t ours "LD_LIBRARY_PATH=$libdir /usr/bin/python3 -c 'import lxc; lxc.Container(\"$name\", \"$lxcpath\").console(1)'; stty -a | grep -o ' icanon' ; echo console-rc=\$?" Enter
wait_pane ours "Connected to tty 1" 10 || fail "our console() did not connect"
tm send-keys -t ours Enter
wait_pane ours "login:" 15 || fail "our console(): no getty prompt"
tm send-keys -t ours C-a q
wait_pane ours "console-rc=0" 10 || fail "our console(): Ctrl-a q did not leave or the terminal stayed raw"

ours 'import lxc, sys
c = lxc.Container(sys.argv[2], sys.argv[1])
assert c.stop(), "stop"' || fail "stop"

echo
if [ $status -eq 0 ]; then echo "console tmux: PASSED"; else echo "console tmux: FAILED"; fi
exit $status
