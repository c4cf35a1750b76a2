#!/usr/bin/python3
"""Networking through Debian's python3-lxc: the `network` list (its
attributes are lxc.net.<i>.* keys), get_interfaces and get_ips with
interface/family/scope filters, on a busybox container with a veth on a
bridge this test creates (IPv4 + IPv6 on both ends; nothing leaves the
machine). Every bridge and veth it creates is gone at the end.
Run with LD_LIBRARY_PATH pointing at our liblxc.so.1, or without it against
Debian's liblxc (the same observations must hold).
Usage: python_network.py PRIVATE_LXCPATH"""
import os
import subprocess
import sys

import lxc

lxcpath = sys.argv[1]
fails = []
pid = os.getpid()
name = "pn%d" % pid
net = 100 + pid % 100
bridge = "pnbr%d" % (pid % 100000)
v4, v6 = "10.%d.5.2" % net, "fd00:%d:5::2" % net
host4, host6 = "10.%d.5.1" % net, "fd00:%d:5::1" % net


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL:", what, file=sys.stderr)


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True)


def cgroups(kind):
    """Directories lxc.<kind>.<name>[-N] in every hierarchy, deepest first."""
    found = []
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        found += [os.path.join(root, d) for d in dirs
                  if d == "lxc.%s.%s" % (kind, name) or d.startswith("lxc.%s.%s-" % (kind, name))]
    return sorted(found, key=len, reverse=True)


def inside(c, cmd):
    """stdout of `sh -c cmd` inside the container."""
    r, w = os.pipe()
    rc = c.attach_wait(lxc.attach_run_command, ["sh", "-c", cmd], stdout=w)
    os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        out += chunk
    os.close(r)
    return rc, out.decode()


def run(c):
    check(c.set_config_item("lxc.net.0.type", "empty"), "net type before create")
    if not c.create("busybox", flags=lxc.LXC_CREATE_QUIET):
        check(False, "create")
        return
    # The network list: replace the template's interface with a veth.
    check(c.clear_config_item("lxc.net"), "clear lxc.net")
    check(len(c.network) == 0, "no network after clear: %d" % len(c.network))
    check(c.network.add("veth"), "network.add(veth)")
    check(len(c.network) == 1, "len(network) == 1: %d" % len(c.network))
    n = c.network[0]
    n.link = bridge
    # not eth0: the template's udhcpc must find nothing to configure
    n.name = "net0"
    n.flags = "up"
    n.ipv4_address = "%s/24" % v4
    n.ipv6_address = "%s/64" % v6
    n.ipv4_gateway = host4
    # not among LXC's get_keys, so not attributes. Both are set: the kernel
    # keeps the counts of a veth peer only when the request has both.
    check(c.set_config_item("lxc.net.0.veth.n_rxqueues", "2"), "set veth.n_rxqueues")
    check(c.set_config_item("lxc.net.0.veth.n_txqueues", "3"), "set veth.n_txqueues")
    check(c.network[0].type == "veth", "network[0].type: %r" % c.network[0].type)
    check(c.network[0].link == bridge, "network[0].link: %r" % c.network[0].link)
    check(c.network[0].name == "net0", "network[0].name: %r" % c.network[0].name)
    check(c.network[0].flags == "up", "network[0].flags: %r" % c.network[0].flags)
    # one value: python3-lxc gives a string (a list only for several lines)
    check(c.network[0].ipv4_address == "%s/24" % v4,
          "network[0].ipv4_address: %r" % c.network[0].ipv4_address)
    check(c.network[0].ipv6_address == "%s/64" % v6,
          "network[0].ipv6_address: %r" % c.network[0].ipv6_address)
    check(c.network[0].ipv4_gateway == host4, "network[0].ipv4_gateway: %r" % c.network[0].ipv4_gateway)
    check(c.get_config_item("lxc.net.0.veth.n_rxqueues") == "2",
          "veth.n_rxqueues: %r" % c.get_config_item("lxc.net.0.veth.n_rxqueues"))
    check("ipv4_address" in dir(c.network[0]) and "veth_pair" in dir(c.network[0]),
          "dir(network[0]): %r" % dir(c.network[0]))
    check(c.save_config(), "save_config")
    again = lxc.Container(name, lxcpath)
    check(len(again.network) == 1 and again.network[0].link == bridge, "saved network reloaded")

    if not c.start():
        check(False, "start")
        return
    # The host end is a port of our bridge.
    pair = c.get_running_config_item("lxc.net.0.veth.pair")
    check(bool(pair) and os.path.realpath("/sys/class/net/%s/master" % pair).endswith("/" + bridge),
          "host end %r on %s" % (pair, bridge))
    ifs = c.get_interfaces()
    check(isinstance(ifs, tuple) and "lo" in ifs and "net0" in ifs, "get_interfaces: %r" % (ifs,))
    # timeout: let IPv6 duplicate address detection settle
    ips = c.get_ips(timeout=5)
    check(v4 in ips and v6 in ips, "get_ips(): %r" % (ips,))
    check(not any(ip.startswith("fe80:") for ip in ips), "get_ips() is global scope only: %r" % (ips,))
    check(c.get_ips(interface="net0", family="inet") == (v4,), "get_ips(net0, inet): %r"
          % (c.get_ips(interface="net0", family="inet"),))
    check(c.get_ips(family="inet6") == (v6,), "get_ips(inet6): %r" % (c.get_ips(family="inet6"),))
    check(c.get_ips(interface="nosuchif0") == (), "get_ips(nosuchif0): %r"
          % (c.get_ips(interface="nosuchif0"),))
    lo = c.get_ips(interface="lo")
    check("127.0.0.1" in lo and "::1" in lo, "get_ips(lo): %r" % (lo,))
    # scope: an IPv6 link-local address is reported under its interface's index
    rc, idx = inside(c, "cat /sys/class/net/net0/ifindex")
    check(rc == 0 and idx.strip().isdigit(), "ifindex of net0: %r" % idx)
    if rc == 0 and idx.strip().isdigit():
        ll = c.get_ips(interface="net0", family="inet6", scope=int(idx))
        check(len(ll) == 1 and ll[0].startswith("fe80:"), "get_ips(net0, inet6, scope=%s): %r"
              % (idx.strip(), ll))
    # queue count and traffic both ways over the bridge
    rc, q = inside(c, "ls /sys/class/net/net0/queues")
    q = sorted(q.split())
    check(q == ["rx-0", "rx-1", "tx-0", "tx-1", "tx-2"], "net0 queues: %r" % q)
    hq = sorted(os.listdir("/sys/class/net/%s/queues" % pair)) if pair else []
    check(hq == ["rx-0", "rx-1", "rx-2", "tx-0", "tx-1"], "host end queues (crossed): %r" % hq)
    check(sh("busybox ping -c1 -W3 %s" % v4).returncode == 0, "host -> container ping")
    rc, _ = inside(c, "ping -c1 -W3 %s >/dev/null" % host4)
    check(rc == 0, "container -> host ping")
    rc, route = inside(c, "ip route")
    check("default via %s" % host4 in route, "default route: %r" % route)
    check(c.stop(), "stop")
    check(not pair or not os.path.exists("/sys/class/net/%s" % pair), "host end %r gone after stop" % pair)
    check(c.get_interfaces() is False or not c.get_interfaces(), "get_interfaces stopped: %r" % (c.get_interfaces(),))


def main():
    """The checks, in a child process: Debian's LXC 5.0 moves the process
    that starts a container into its lxc.monitor cgroups and leaves them
    behind, so only a parent can remove them afterwards."""
    r = sh("ip link add %s type bridge && ip addr add %s/24 dev %s && ip -6 addr add %s/64 dev %s nodad "
           "&& ip link set %s up" % (bridge, host4, bridge, host6, bridge, bridge))
    if r.returncode != 0:
        print("cannot create bridge %s: %s" % (bridge, r.stderr), file=sys.stderr)
        return 1
    c = lxc.Container(name, lxcpath)
    try:
        run(c)
    finally:
        if c.running:
            c.stop()
        if c.defined:
            check(c.destroy(), "destroy")
        sh("ip link del %s" % bridge)
    check(not os.path.exists("/sys/class/net/%s" % bridge), "bridge removed")
    return 1 if fails else 0


child = os.fork()
if child == 0:
    try:
        code = main()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
status = os.waitpid(child, 0)[1]
check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "checks (status %d)" % status)
check(not cgroups("payload"), "no lxc.payload cgroup left: %s" % cgroups("payload"))
if lxc.version.startswith("5."):
    for d in cgroups("monitor"):
        os.rmdir(d)
else:
    check(not cgroups("monitor"), "no lxc.monitor cgroup left: %s" % cgroups("monitor"))
print("python network:", "FAIL %s" % fails if fails else "ok")
sys.exit(1 if fails else 0)
