//! A synchronous rtnetlink client: one request, one ACK (or a dump), no
//! async runtime inside a library that forks. Messages are built and read
//! with `sys::netlink`; only the attributes used here are encoded or read.

use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};

use libc::{
    IFLA_ADDRESS, IFLA_AF_SPEC, IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINK,
    IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU, IFLA_NET_NS_FD, IFLA_NET_NS_PID, IFLA_NUM_RX_QUEUES,
    IFLA_NUM_TX_QUEUES, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE,
    NLM_F_REQUEST,
};

use crate::error::{Error, Result};
use crate::sys::netlink::{self as nl, Outcome, Request};

/// `<linux/if_link.h>`, `<linux/veth.h>`, `<linux/if_bridge.h>`: the
/// nested attributes of the link kinds made here.
const VETH_INFO_PEER: u16 = 1;
const IFLA_MACVLAN_MODE: u16 = 1;
const IFLA_VLAN_ID: u16 = 1;
const IFLA_IPVLAN_MODE: u16 = 1;
const IFLA_IPVLAN_FLAGS: u16 = 2;
const IFLA_BRIDGE_FLAGS: u16 = 0;
const IFLA_BRIDGE_VLAN_INFO: u16 = 2;
const BRIDGE_FLAGS_MASTER: u16 = 1;
const BRIDGE_VLAN_INFO_PVID: u16 = 2;
const BRIDGE_VLAN_INFO_UNTAGGED: u16 = 4;
const IPVLAN_F_PRIVATE: u16 = 1;
const IPVLAN_F_VEPA: u16 = 2;

/// `struct ifinfomsg`: family, type, index, flags, change mask.
fn ifinfomsg(family: u8, index: u32, flags: u32, change: u32) -> [u8; 16] {
    let mut m = [0u8; 16];
    m[0] = family;
    m[4..8].copy_from_slice(&index.to_ne_bytes());
    m[8..12].copy_from_slice(&flags.to_ne_bytes());
    m[12..16].copy_from_slice(&change.to_ne_bytes());
    m
}

/// A link message's index (`struct ifinfomsg`), if it has the header.
fn link_index(payload: &[u8]) -> Option<u32> {
    (payload.len() >= 16).then(|| nl::u32_at(payload, 4))
}

/// A link message's attributes, after its `struct ifinfomsg`.
fn link_attrs(payload: &[u8]) -> &[u8] {
    payload.get(16..).unwrap_or_default()
}

fn family_of(ip: &IpAddr) -> u8 {
    if ip.is_ipv4() {
        libc::AF_INET as u8
    } else {
        libc::AF_INET6 as u8
    }
}

fn ip_bytes(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

/// A network namespace as netlink names it: by a process living in it,
/// or by a descriptor of it (one made before init existed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetnsRef {
    Pid(i32),
    Fd(std::os::fd::RawFd),
}

impl NetnsRef {
    fn put(self, msg: &mut Request) {
        match self {
            NetnsRef::Pid(pid) => msg.attr_u32(IFLA_NET_NS_PID, pid as u32),
            NetnsRef::Fd(fd) => msg.attr_u32(IFLA_NET_NS_FD, fd as u32),
        };
    }
}

#[derive(Debug)]
pub struct Rtnl {
    socket: OwnedFd,
    seq: u32,
}

/// One link as a dump reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
}

/// The size of a receive buffer: a dump's datagrams fit.
const RECV_BUF: usize = 64 * 1024;

impl Rtnl {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> Result<Rtnl> {
        let socket = nl::open(libc::NETLINK_ROUTE, &[], false)
            .map_err(|e| Error::os("Failed to open rtnetlink", &e))?;
        Ok(Rtnl { socket, seq: 0 })
    }

    /// A non-blocking socket hearing the link notifications (RTNLGRP_LINK)
    /// of the calling thread's network namespace.
    pub fn open_link_events() -> Result<Rtnl> {
        let socket = nl::open(libc::NETLINK_ROUTE, &[libc::RTNLGRP_LINK], true)
            .map_err(|e| Error::os("Failed to open rtnetlink link events", &e))?;
        Ok(Rtnl { socket, seq: 0 })
    }

    /// On a socket from `open_link_events`: the indexes of the links that
    /// the notifications queued so far report deleted (none when nothing
    /// is queued). An error (ENOBUFS: notifications were lost) means the
    /// caller must look for itself.
    pub fn deleted_links(&mut self) -> Result<Vec<u32>> {
        let mut buf = vec![0u8; RECV_BUF];
        let mut out = Vec::new();
        loop {
            let n = match nl::recv(&self.socket, &mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(out),
                Err(e) => return Err(Error::os("rtnetlink link events", &e)),
            };
            for msg in nl::messages(&buf[..n]).map_while(|m| m.ok()) {
                if msg.kind == libc::RTM_DELLINK {
                    out.extend(link_index(msg.payload));
                }
            }
        }
    }

    /// The socket, to poll.
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        self.socket.as_raw_fd()
    }

    fn send(&mut self, msg: &mut Request, flags: u16) -> Result<u32> {
        self.seq += 1;
        nl::send(&self.socket, msg.datagram(self.seq, flags))
            .map_err(|e| Error::os("rtnetlink send", &e))?;
        Ok(self.seq)
    }

    /// Receives the answers to request `seq`, calling `each` on every
    /// answer's payload, until the ACK/NACK or the end of a dump.
    fn receive(&mut self, seq: u32, what: &str, mut each: impl FnMut(&[u8])) -> Result<()> {
        let mut buf = vec![0u8; RECV_BUF];
        loop {
            let n =
                nl::recv(&self.socket, &mut buf).map_err(|e| Error::os("rtnetlink recv", &e))?;
            for msg in nl::messages(&buf[..n]) {
                let msg = msg.map_err(|e| Error::os("rtnetlink: bad message", &e))?;
                if msg.seq != seq {
                    continue;
                }
                match msg.outcome() {
                    Outcome::Data(payload) => each(payload),
                    Outcome::Done => return Ok(()),
                    Outcome::Failed(errno) => {
                        return Err(Error::new(
                            errno,
                            format!("{what}: {}", std::io::Error::from_raw_os_error(errno)),
                        ))
                    }
                }
            }
        }
    }

    fn request(&mut self, mut msg: Request, extra: u16, what: &str) -> Result<()> {
        let seq = self.send(&mut msg, (NLM_F_REQUEST | NLM_F_ACK) as u16 | extra)?;
        self.receive(seq, what, |_| {})
    }

    /// Every link of the namespace, each with its attributes.
    fn dump_links(&mut self, mut each: impl FnMut(u32, &[u8])) -> Result<()> {
        let mut msg = Request::new(libc::RTM_GETLINK, 0, &ifinfomsg(0, 0, 0, 0));
        let seq = self.send(&mut msg, (NLM_F_REQUEST | NLM_F_DUMP) as u16)?;
        self.receive(seq, "Failed to list links", |payload| {
            if let Some(index) = link_index(payload) {
                each(index, link_attrs(payload));
            }
        })
    }

    pub fn links(&mut self) -> Result<Vec<Link>> {
        let mut out = Vec::new();
        self.dump_links(|index, attrs| {
            let name = nl::find_attr(attrs, IFLA_IFNAME).map(nl::attr_str);
            out.push(Link {
                index,
                name: String::from_utf8_lossy(name.unwrap_or_default()).into_owned(),
            });
        })?;
        Ok(out)
    }

    /// Index of the link named `name` (its name, not an alternative one):
    /// one RTM_GETLINK by name, not a dump of every link.
    pub fn index_of(&mut self, name: &str) -> Result<u32> {
        let missing = || Error::new(libc::ENODEV, format!("No network interface \"{name}\""));
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(missing());
        }
        let mut msg = Request::new(libc::RTM_GETLINK, 0, &ifinfomsg(0, 0, 0, 0));
        msg.attr_str(IFLA_IFNAME, name);
        let seq = self.send(&mut msg, (NLM_F_REQUEST | NLM_F_ACK) as u16)?;
        let mut found = None;
        let asked = self.receive(seq, "Failed to look up a link", |payload| {
            if is_named(link_attrs(payload), name) {
                found = link_index(payload);
            }
        });
        match asked {
            Err(e) if e.errno == libc::ENODEV => Err(missing()),
            Err(e) => Err(e),
            Ok(()) => found.ok_or_else(missing),
        }
    }

    /// Addresses of every interface: (interface index, address, prefix).
    pub fn addresses(&mut self) -> Result<Vec<(u32, IpAddr, u8)>> {
        let mut msg = Request::new(libc::RTM_GETADDR, 0, &[0u8; 8]);
        let seq = self.send(&mut msg, (NLM_F_REQUEST | NLM_F_DUMP) as u16)?;
        let mut out = Vec::new();
        self.receive(seq, "Failed to list addresses", |payload| {
            // struct ifaddrmsg: family, prefix length, flags, scope, index.
            let Some(attrs) = payload.get(8..) else {
                return;
            };
            let addr = nl::find_attr(attrs, libc::IFA_LOCAL)
                .or_else(|| nl::find_attr(attrs, libc::IFA_ADDRESS))
                .and_then(ip_from);
            if let Some(ip) = addr {
                out.push((nl::u32_at(payload, 4), ip, payload[1]));
            }
        })?;
        Ok(out)
    }

    /// Creates a veth pair `host` <-> `peer` (see `veth_message`).
    pub fn create_veth(
        &mut self,
        host: &str,
        peer: &str,
        mtu: Option<u32>,
        peer_ns: Option<NetnsRef>,
        queues: (u32, u32),
        master: Option<u32>,
    ) -> Result<()> {
        self.create_link(
            veth_message(host, peer, mtu, peer_ns, queues, master),
            &format!("Failed to create veth pair {host}/{peer}"),
        )
    }

    /// Creates a macvlan `name` on `parent` (kernel MACVLAN_MODE_* value;
    /// 0 = the kernel's default).
    pub fn create_macvlan(&mut self, name: &str, parent: u32, mode: u32) -> Result<()> {
        self.create_link(
            macvlan_message(name, parent, mode),
            &format!("Failed to create macvlan {name}"),
        )
    }

    /// Creates the link an RTM_NEWLINK message describes (`veth_message`,
    /// `macvlan_message`, `ipvlan_message`, `vlan_message`).
    pub fn create_link(&mut self, msg: Request, what: &str) -> Result<()> {
        self.request(msg, (NLM_F_CREATE | NLM_F_EXCL) as u16, what)
    }

    /// Moves a link into the network namespace behind `ns_fd`, renaming it
    /// there to `new_name` and setting `mtu` in the same step.
    pub fn move_to_netns_fd(
        &mut self,
        index: u32,
        ns_fd: i32,
        new_name: &str,
        mtu: Option<u32>,
    ) -> Result<()> {
        let mut msg = set_link_message(index, None);
        msg.attr_u32(IFLA_NET_NS_FD, ns_fd as u32)
            .attr_str(IFLA_IFNAME, new_name);
        if let Some(m) = mtu {
            msg.attr_u32(IFLA_MTU, m);
        }
        self.request(
            msg,
            0,
            &format!("Failed to move {new_name} back to the host"),
        )
    }

    /// MTU of a link.
    pub fn mtu_of(&mut self, name: &str) -> Result<Option<u32>> {
        let mut found = None;
        self.dump_links(|_, attrs| {
            if is_named(attrs, name) {
                found = nl::find_attr(attrs, IFLA_MTU)
                    .filter(|v| v.len() >= 4)
                    .map(|v| nl::u32_at(v, 0));
            }
        })?;
        Ok(found)
    }

    pub fn set_up(&mut self, index: u32, up: bool) -> Result<()> {
        self.request(
            set_link_message(index, Some(up)),
            0,
            "Failed to set link state",
        )
    }

    pub fn set_master(&mut self, index: u32, master: u32) -> Result<()> {
        let mut msg = set_link_message(index, None);
        msg.attr_u32(IFLA_MASTER, master);
        self.request(msg, 0, "Failed to attach to the bridge")
    }

    pub fn set_name(&mut self, index: u32, name: &str) -> Result<()> {
        let mut msg = set_link_message(index, None);
        msg.attr_str(IFLA_IFNAME, name);
        self.request(msg, 0, &format!("Failed to rename interface to {name}"))
    }

    pub fn set_mtu(&mut self, index: u32, mtu: u32) -> Result<()> {
        let mut msg = set_link_message(index, None);
        msg.attr_u32(IFLA_MTU, mtu);
        self.request(msg, 0, &format!("Failed to set MTU {mtu}"))
    }

    pub fn set_hwaddr(&mut self, index: u32, mac: [u8; 6]) -> Result<()> {
        let mut msg = set_link_message(index, None);
        msg.attr(IFLA_ADDRESS, &mac);
        self.request(msg, 0, "Failed to set the hardware address")
    }

    /// Moves a link into the network namespace `ns`.
    pub fn move_to_netns(&mut self, index: u32, ns: NetnsRef) -> Result<()> {
        let mut msg = set_link_message(index, None);
        ns.put(&mut msg);
        self.request(msg, 0, "Failed to move the interface into the container")
    }

    /// Moves a link into the network namespace of `pid` under `new_name`.
    pub fn move_to_pid_netns_named(&mut self, index: u32, pid: i32, new_name: &str) -> Result<()> {
        let mut msg = set_link_message(index, None);
        NetnsRef::Pid(pid).put(&mut msg);
        msg.attr_str(IFLA_IFNAME, new_name);
        self.request(
            msg,
            0,
            &format!("Failed to move the interface into the container as {new_name}"),
        )
    }

    pub fn delete_link(&mut self, index: u32) -> Result<()> {
        let msg = Request::new(libc::RTM_DELLINK, 0, &ifinfomsg(0, index, 0, 0));
        self.request(msg, 0, "Failed to delete link")
    }

    pub fn add_address(
        &mut self,
        index: u32,
        addr: IpAddr,
        prefix: u8,
        broadcast: Option<std::net::Ipv4Addr>,
    ) -> Result<()> {
        // struct ifaddrmsg: family, prefix length, flags, scope, index.
        let mut header = [0u8; 8];
        header[0] = family_of(&addr);
        header[1] = prefix;
        header[4..8].copy_from_slice(&index.to_ne_bytes());
        let mut msg = Request::new(libc::RTM_NEWADDR, 0, &header);
        msg.attr(libc::IFA_LOCAL, &ip_bytes(&addr))
            .attr(libc::IFA_ADDRESS, &ip_bytes(&addr));
        if let Some(b) = broadcast {
            msg.attr(libc::IFA_BROADCAST, &b.octets());
        }
        self.request(
            msg,
            (NLM_F_CREATE | NLM_F_EXCL) as u16,
            &format!("Failed to add address {addr}/{prefix}"),
        )
    }

    /// A route to `dest/prefix` through the device `index` (scope link).
    pub fn add_device_route(&mut self, dest: IpAddr, prefix: u8, index: u32) -> Result<()> {
        self.request(
            device_route_message(libc::RTM_NEWROUTE, dest, prefix, index),
            (NLM_F_CREATE | NLM_F_EXCL) as u16,
            &format!("Failed to add route {dest}/{prefix}"),
        )
    }

    /// A proxy neighbour entry: the host answers ARP/NDP for `ip` on the
    /// device `index` (veth router mode).
    pub fn add_proxy_neighbour(&mut self, ip: IpAddr, index: u32) -> Result<()> {
        self.request(
            proxy_neighbour_message(libc::RTM_NEWNEIGH, ip, index),
            (NLM_F_CREATE | NLM_F_REPLACE) as u16,
            &format!("Failed to add proxy neighbour {ip}"),
        )
    }

    /// Removes the proxy neighbour entry for `ip` on the device `index`.
    pub fn del_proxy_neighbour(&mut self, ip: IpAddr, index: u32) -> Result<()> {
        self.request(
            proxy_neighbour_message(libc::RTM_DELNEIGH, ip, index),
            0,
            &format!("Failed to remove proxy neighbour {ip}"),
        )
    }

    /// Removes the route `dest/prefix` through the device `index`.
    pub fn del_device_route(&mut self, dest: IpAddr, prefix: u8, index: u32) -> Result<()> {
        self.request(
            device_route_message(libc::RTM_DELROUTE, dest, prefix, index),
            0,
            &format!("Failed to remove route {dest}/{prefix}"),
        )
    }

    /// Adds (RTM_SETLINK) or removes (RTM_DELLINK) VLAN `vid` on the bridge
    /// port `index` (see `bridge_vlan_message`).
    pub fn bridge_vlan(&mut self, index: u32, vid: u16, tagged: bool, add: bool) -> Result<()> {
        let (kind, what) = if add {
            (libc::RTM_SETLINK, "add")
        } else {
            (libc::RTM_DELLINK, "remove")
        };
        self.request(
            bridge_vlan_message(kind, index, vid, tagged),
            0,
            &format!("Failed to {what} bridge VLAN {vid} on interface {index}"),
        )
    }

    /// A default route through `gateway` (None: a device route on `index`).
    pub fn add_default_route(
        &mut self,
        index: u32,
        gateway: Option<IpAddr>,
        v6: bool,
    ) -> Result<()> {
        let family = if v6 { libc::AF_INET6 } else { libc::AF_INET } as u8;
        let scope = if gateway.is_some() {
            libc::RT_SCOPE_UNIVERSE
        } else {
            libc::RT_SCOPE_LINK
        };
        let mut msg = Request::new(libc::RTM_NEWROUTE, 0, &rtmsg(family, 0, scope));
        msg.attr_u32(libc::RTA_OIF, index);
        if let Some(gw) = gateway {
            msg.attr(libc::RTA_GATEWAY, &ip_bytes(&gw));
        }
        self.request(
            msg,
            (NLM_F_CREATE | NLM_F_EXCL) as u16,
            "Failed to add the default route",
        )
    }
}

/// An RTM_SETLINK of link `index`, bringing it up or down when `up` says.
fn set_link_message(index: u32, up: Option<bool>) -> Request {
    let iff_up = libc::IFF_UP as u32;
    let (flags, change) = match up {
        Some(true) => (iff_up, iff_up),
        Some(false) => (0, iff_up),
        None => (0, 0),
    };
    Request::new(libc::RTM_SETLINK, 0, &ifinfomsg(0, index, flags, change))
}

/// `struct rtmsg` of a unicast route of the main table that the boot
/// protocol made: family, destination prefix length, scope.
fn rtmsg(family: u8, dest_prefix: u8, scope: u8) -> [u8; 12] {
    let mut m = [0u8; 12];
    m[0] = family;
    m[1] = dest_prefix;
    m[4] = libc::RT_TABLE_MAIN;
    m[5] = libc::RTPROT_BOOT;
    m[6] = scope;
    m[7] = libc::RTN_UNICAST;
    m
}

/// The RTM_NEWROUTE/RTM_DELROUTE (`kind`) of a device route.
pub fn device_route_message(kind: u16, dest: IpAddr, prefix: u8, index: u32) -> Request {
    let header = rtmsg(family_of(&dest), prefix, libc::RT_SCOPE_LINK);
    let mut msg = Request::new(kind, 0, &header);
    msg.attr(libc::RTA_DST, &ip_bytes(&dest))
        .attr_u32(libc::RTA_OIF, index);
    msg
}

/// The RTM_NEWNEIGH/RTM_DELNEIGH (`kind`) of a proxy entry.
pub fn proxy_neighbour_message(kind: u16, ip: IpAddr, index: u32) -> Request {
    // struct ndmsg: family, padding, index, state, flags, type.
    let mut header = [0u8; 12];
    header[0] = family_of(&ip);
    header[4..8].copy_from_slice(&index.to_ne_bytes());
    header[10] = libc::NTF_PROXY;
    let mut msg = Request::new(kind, 0, &header);
    msg.attr(libc::NDA_DST, &ip_bytes(&ip));
    msg
}

/// A link's name, its receive and transmit queue counts (0: not sent, the
/// kernel picks) and its MTU.
fn put_name_and_queues(msg: &mut Request, name: &str, rx: u32, tx: u32, mtu: Option<u32>) {
    msg.attr_str(IFLA_IFNAME, name);
    if rx > 0 {
        msg.attr_u32(IFLA_NUM_RX_QUEUES, rx);
    }
    if tx > 0 {
        msg.attr_u32(IFLA_NUM_TX_QUEUES, tx);
    }
    if let Some(m) = mtu {
        msg.attr_u32(IFLA_MTU, m);
    }
}

/// The RTM_NEWLINK of a veth pair: `peer` created in the network
/// namespace `peer_ns` when given. `queues` are the container end's
/// (rx, tx) queue counts (0: the kernel's default); the host end gets them
/// crossed (its rx = the peer's tx), as LXC does. With `master`, the host
/// end is plugged into that bridge and brought up in the same request
/// (the kernel applies both once it made the pair, and undoes the pair if
/// either fails).
pub fn veth_message(
    host: &str,
    peer: &str,
    mtu: Option<u32>,
    peer_ns: Option<NetnsRef>,
    queues: (u32, u32),
    master: Option<u32>,
) -> Request {
    let (rx, tx) = queues;
    let up = if master.is_some() {
        libc::IFF_UP as u32
    } else {
        0
    };
    let mut msg = Request::new(libc::RTM_NEWLINK, 0, &ifinfomsg(0, 0, up, up));
    put_name_and_queues(&mut msg, host, tx, rx, mtu);
    if let Some(bridge) = master {
        msg.attr_u32(IFLA_MASTER, bridge);
    }
    msg.begin_nest(IFLA_LINKINFO)
        .attr_str(IFLA_INFO_KIND, "veth")
        .begin_nest(IFLA_INFO_DATA)
        .begin_nest(VETH_INFO_PEER)
        .bytes(&ifinfomsg(0, 0, 0, 0));
    put_name_and_queues(&mut msg, peer, rx, tx, mtu);
    if let Some(ns) = peer_ns {
        // Created directly in init's namespace: no move needed.
        ns.put(&mut msg);
    }
    msg.end_nest().end_nest().end_nest();
    msg
}

/// The AF_BRIDGE link message that adds (RTM_SETLINK) or removes
/// (RTM_DELLINK) VLAN `vid` on the bridge port `index`: IFLA_AF_SPEC
/// carrying IFLA_BRIDGE_FLAGS = BRIDGE_FLAGS_MASTER (the bridge applies it
/// to its port) and IFLA_BRIDGE_VLAN_INFO, either tagged (no flags) or
/// untagged with `vid` as the port's PVID, as LXC sends for
/// `veth.vlan.tagged.id` and `veth.vlan.id`.
pub fn bridge_vlan_message(kind: u16, index: u32, vid: u16, tagged: bool) -> Request {
    let flags = if tagged {
        0
    } else {
        BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED
    };
    // struct bridge_vlan_info: flags, vid.
    let mut info = [0u8; 4];
    info[..2].copy_from_slice(&flags.to_ne_bytes());
    info[2..].copy_from_slice(&vid.to_ne_bytes());
    let header = ifinfomsg(libc::AF_BRIDGE as u8, index, 0, 0);
    let mut msg = Request::new(kind, 0, &header);
    msg.begin_nest(IFLA_AF_SPEC)
        .attr_u16(IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_MASTER)
        .attr(IFLA_BRIDGE_VLAN_INFO, &info)
        .end_nest();
    msg
}

/// The RTM_NEWLINK of a link `name` of `kind` on `parent`, with the
/// kind's data attributes put by `data` (none when it is `None`).
fn child_link(name: &str, parent: u32, kind: &str, data: Option<&dyn Fn(&mut Request)>) -> Request {
    let mut msg = Request::new(libc::RTM_NEWLINK, 0, &ifinfomsg(0, 0, 0, 0));
    msg.attr_str(IFLA_IFNAME, name)
        .attr_u32(IFLA_LINK, parent)
        .begin_nest(IFLA_LINKINFO)
        .attr_str(IFLA_INFO_KIND, kind);
    if let Some(data) = data {
        msg.begin_nest(IFLA_INFO_DATA);
        data(&mut msg);
        msg.end_nest();
    }
    msg.end_nest();
    msg
}

/// The RTM_NEWLINK of an 802.1q vlan `id` on `parent`.
pub fn vlan_message(name: &str, parent: u32, id: u16) -> Request {
    child_link(
        name,
        parent,
        "vlan",
        Some(&|m: &mut Request| {
            m.attr_u16(IFLA_VLAN_ID, id);
        }),
    )
}

/// The RTM_NEWLINK of an ipvlan: `mode` 0 l2, 1 l3, 2 l3s (LXC's
/// `ipvlan.mode`, the kernel's IPVLAN_MODE_*), `isolation` 0 bridge,
/// 1 private, 2 vepa.
pub fn ipvlan_message(name: &str, parent: u32, mode: u16, isolation: u16) -> Request {
    let flags = match isolation {
        1 => IPVLAN_F_PRIVATE,
        2 => IPVLAN_F_VEPA,
        _ => 0,
    };
    child_link(
        name,
        parent,
        "ipvlan",
        Some(&|m: &mut Request| {
            m.attr_u16(IFLA_IPVLAN_MODE, mode)
                .attr_u16(IFLA_IPVLAN_FLAGS, flags);
        }),
    )
}

/// The RTM_NEWLINK of a macvlan (kernel MACVLAN_MODE_* `mode`; 0: the
/// kernel's default, not sent).
pub fn macvlan_message(name: &str, parent: u32, mode: u32) -> Request {
    let data = |m: &mut Request| {
        m.attr_u32(IFLA_MACVLAN_MODE, mode);
    };
    child_link(
        name,
        parent,
        "macvlan",
        (mode != 0).then_some(&data as &dyn Fn(&mut Request)),
    )
}

/// Whether a link's own name (not an alternative name) among its
/// attributes is `name`.
fn is_named(attrs: &[u8], name: &str) -> bool {
    nl::attrs(attrs).any(|(kind, v)| kind == IFLA_IFNAME && nl::attr_str(v) == name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emitted(msg: &Request) -> Vec<u8> {
        msg.body().to_vec()
    }

    /// Runs `test` (as root: skipped otherwise) with a request socket and
    /// a link-event socket in a new network namespace of a thread of its
    /// own, gone with the thread and what was made in it.
    fn in_a_network_namespace_of_its_own(test: impl FnOnce(Rtnl, Rtnl) + Send + 'static) {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        std::thread::spawn(|| {
            // SAFETY: only this thread changes namespace, and it ends after.
            assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0);
            test(Rtnl::open().unwrap(), Rtnl::open_link_events().unwrap());
        })
        .join()
        .unwrap();
    }

    /// The flags and the master's index of the link named `name`.
    fn flags_and_master(nl: &mut Rtnl, name: &str) -> (u32, Option<u32>) {
        let mut msg = Request::new(libc::RTM_GETLINK, 0, &ifinfomsg(0, 0, 0, 0));
        msg.attr_str(IFLA_IFNAME, name);
        let seq = nl
            .send(&mut msg, (NLM_F_REQUEST | NLM_F_ACK) as u16)
            .unwrap();
        let mut found = (0, None);
        nl.receive(seq, "the link", |payload| {
            let master = nl::find_attr(link_attrs(payload), IFLA_MASTER).map(|v| nl::u32_at(v, 0));
            found = (nl::u32_at(payload, 8), master);
        })
        .unwrap();
        found
    }

    /// A veth made with a master is plugged into that bridge and up, from
    /// one request; without one it is neither.
    #[test]
    fn a_veth_is_plugged_and_up_as_it_is_made() {
        in_a_network_namespace_of_its_own(|mut nl, _| {
            let mut bridge = Request::new(libc::RTM_NEWLINK, 0, &ifinfomsg(0, 0, 0, 0));
            bridge
                .attr_str(IFLA_IFNAME, "tbr0")
                .begin_nest(IFLA_LINKINFO)
                .attr_str(IFLA_INFO_KIND, "bridge")
                .end_nest();
            nl.create_link(bridge, "a bridge").unwrap();
            let br = nl.index_of("tbr0").unwrap();
            nl.create_veth("tp0", "tp1", None, None, (0, 0), Some(br))
                .unwrap();
            let (flags, master) = flags_and_master(&mut nl, "tp0");
            assert_eq!(master, Some(br));
            assert_ne!(flags & libc::IFF_UP as u32, 0);
            let (peer_flags, peer_master) = flags_and_master(&mut nl, "tp1");
            assert_eq!((peer_flags & libc::IFF_UP as u32, peer_master), (0, None));
            nl.create_veth("tq0", "tq1", None, None, (0, 0), None)
                .unwrap();
            let (flags, master) = flags_and_master(&mut nl, "tq0");
            assert_eq!((flags & libc::IFF_UP as u32, master), (0, None));
            // A master that is no bridge: nothing is left of the pair.
            let lo = nl.index_of("lo").unwrap();
            assert!(nl
                .create_veth("tr0", "tr1", None, None, (0, 0), Some(lo))
                .is_err());
            assert_eq!(nl.index_of("tr0").unwrap_err().errno, libc::ENODEV);
            assert_eq!(nl.index_of("tr1").unwrap_err().errno, libc::ENODEV);
        });
    }

    /// The netlink port `sock` is bound to.
    fn port_of(sock: std::os::fd::RawFd) -> u32 {
        // SAFETY: all zeroes is a valid sockaddr_nl; getsockname fills it.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: our socket, our address of its length.
        let rc = unsafe {
            libc::getsockname(sock, (&mut addr as *mut libc::sockaddr_nl).cast(), &mut len)
        };
        assert_eq!(rc, 0);
        addr.nl_pid
    }

    /// Sends `msg` numbered `seq` from a socket of another process's kind
    /// (not the kernel) to netlink port `port`.
    fn forge(mut msg: Request, seq: u32, port: u32) {
        let liar = nl::open(libc::NETLINK_ROUTE, &[], false).unwrap();
        nl::send_to(&liar, msg.datagram(seq, 0), port).unwrap();
    }

    /// A root inside a container's network namespace can send to the
    /// ports of our sockets there: what it sends never passes for the
    /// kernel's answer, nor for the kernel's notifications.
    #[test]
    fn replies_forged_by_another_process_are_ignored() {
        in_a_network_namespace_of_its_own(|mut nl, mut events| {
            // The next request is numbered 1: a forged refusal of it, and a
            // forged link named "lo" with index 99 answering it.
            let mut refusal = (-libc::EPERM).to_ne_bytes().to_vec();
            refusal.extend_from_slice(&[0; nl::HEADER_LEN]);
            forge(
                Request::new(libc::NLMSG_ERROR as u16, 0, &refusal),
                1,
                port_of(nl.raw_fd()),
            );
            let mut fake = Request::new(libc::RTM_NEWLINK, 0, &ifinfomsg(0, 99, 0, 0));
            fake.attr_str(IFLA_IFNAME, "lo");
            forge(fake, 1, port_of(nl.raw_fd()));
            let lo = nl.index_of("lo").unwrap();
            assert_ne!(lo, 99);
            // A forged deletion notification.
            let gone = Request::new(libc::RTM_DELLINK, 0, &ifinfomsg(0, lo, 0, 0));
            forge(gone, 0, port_of(events.raw_fd()));
            assert_eq!(events.deleted_links().unwrap(), Vec::<u32>::new());
        });
    }

    /// The client against the kernel, in a network namespace of a thread
    /// of its own (gone with the thread, with what was made in it).
    #[test]
    fn a_private_network_namespace_through_the_client() {
        in_a_network_namespace_of_its_own(|mut nl, mut events| {
            assert_eq!(events.deleted_links().unwrap(), Vec::<u32>::new());
            let lo = nl.index_of("lo").unwrap();
            let only_lo = vec![Link {
                index: lo,
                name: "lo".into(),
            }];
            assert_eq!(nl.links().unwrap(), only_lo);
            assert_eq!(nl.index_of("nope0").unwrap_err().errno, libc::ENODEV);
            nl.create_veth("tv0", "tv1", Some(1400), None, (2, 2), None)
                .unwrap();
            let again = nl.create_veth("tv0", "tv1", None, None, (0, 0), None);
            assert_eq!(again.unwrap_err().errno, libc::EEXIST);
            assert_eq!(nl.mtu_of("tv1").unwrap(), Some(1400));
            let (a, b) = (nl.index_of("tv0").unwrap(), nl.index_of("tv1").unwrap());
            nl.set_mtu(a, 1300).unwrap();
            assert_eq!(nl.mtu_of("tv0").unwrap(), Some(1300));
            nl.set_name(a, "tv2").unwrap();
            assert_eq!(nl.index_of("tv2").unwrap(), a);
            nl.set_hwaddr(a, [2, 0, 0, 0, 0, 1]).unwrap();
            nl.set_up(a, true).unwrap();
            nl.set_up(b, true).unwrap();
            let ip: IpAddr = "10.9.8.7".parse().unwrap();
            nl.add_address(a, ip, 24, Some("10.9.8.255".parse().unwrap()))
                .unwrap();
            let v6: IpAddr = "fd00:9::7".parse().unwrap();
            nl.add_address(b, v6, 64, None).unwrap();
            let addrs = nl.addresses().unwrap();
            assert!(addrs.contains(&(a, ip, 24)), "{addrs:?}");
            assert!(addrs.contains(&(b, v6, 64)), "{addrs:?}");
            let net: IpAddr = "10.9.9.0".parse().unwrap();
            nl.add_device_route(net, 24, a).unwrap();
            let twice = nl.add_device_route(net, 24, a).unwrap_err();
            assert_eq!(twice.errno, libc::EEXIST);
            nl.del_device_route(net, 24, a).unwrap();
            nl.add_default_route(a, Some("10.9.8.1".parse().unwrap()), false)
                .unwrap();
            nl.add_proxy_neighbour("10.9.8.9".parse().unwrap(), a)
                .unwrap();
            nl.del_proxy_neighbour("10.9.8.9".parse().unwrap(), a)
                .unwrap();
            nl.delete_link(a).unwrap();
            let mut gone = events.deleted_links().unwrap();
            gone.sort();
            assert_eq!(gone, [a.min(b), a.max(b)]);
            assert_eq!(nl.links().unwrap(), only_lo);
            let missing = nl.delete_link(a).unwrap_err();
            assert_eq!(missing.errno, libc::ENODEV);
            assert!(missing.message.starts_with("Failed to delete link: "));
        });
    }

    #[test]
    fn vlan_message_bytes() {
        let buf = emitted(&vlan_message("v5", 3, 5));
        // IFLA_LINK (5) = 3
        assert!(buf.windows(8).any(|w| w == [8, 0, 5, 0, 3, 0, 0, 0]));
        // IFLA_INFO_KIND "vlan\0"
        assert!(buf.windows(5).any(|w| w == b"vlan\0"));
        // IFLA_VLAN_ID (1) = 5, u16 padded to 8
        assert!(buf.windows(6).any(|w| w == [6, 0, 1, 0, 5, 0]));
    }

    #[test]
    fn ipvlan_message_bytes() {
        let buf = emitted(&ipvlan_message("iv0", 4, 1, 1));
        assert!(buf.windows(7).any(|w| w == b"ipvlan\0"));
        // IFLA_IPVLAN_MODE (1) = l3 (1); IFLA_IPVLAN_FLAGS (2) = private (1)
        assert!(buf.windows(6).any(|w| w == [6, 0, 1, 0, 1, 0]));
        assert!(buf.windows(6).any(|w| w == [6, 0, 2, 0, 1, 0]));
        let l2 = emitted(&ipvlan_message("iv1", 4, 0, 0));
        assert!(l2.windows(6).any(|w| w == [6, 0, 1, 0, 0, 0]));
    }

    #[test]
    fn route_and_proxy_messages() {
        let r = device_route_message(libc::RTM_NEWROUTE, "10.0.3.7".parse().unwrap(), 32, 9);
        let r = emitted(&r);
        // rtmsg: AF_INET, /32, table main (254), boot (3), scope link
        // (253), unicast (1); RTA_DST 10.0.3.7, RTA_OIF 9
        assert_eq!(&r[..8], &[2, 32, 0, 0, 254, 3, 253, 1]);
        assert_eq!(&r[12..20], &[8, 0, 1, 0, 10, 0, 3, 7]);
        assert_eq!(&r[20..28], &[8, 0, 4, 0, 9, 0, 0, 0]);
        let n = proxy_neighbour_message(libc::RTM_NEWNEIGH, "fd00::1".parse().unwrap(), 9);
        assert_eq!(n.kind(), libc::RTM_NEWNEIGH);
        let buf = emitted(&n);
        // ndmsg: family AF_INET6 (10), ifindex 9, flags NTF_PROXY (8)
        assert_eq!(buf[0], 10);
        assert_eq!(&buf[4..8], &9i32.to_ne_bytes());
        assert_eq!(buf[10], 8);
    }

    /// Offsets of every (len, type) attribute header of `kind` directly in
    /// `buf[from..to]` (not descending into nests).
    fn attrs(buf: &[u8], from: usize, to: usize, kind: u16) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = from;
        while at + 4 <= to {
            let len = u16::from_ne_bytes([buf[at], buf[at + 1]]) as usize;
            let ty = u16::from_ne_bytes([buf[at + 2], buf[at + 3]]) & 0x3fff;
            if ty == kind {
                out.push(at);
            }
            if len < 4 {
                break;
            }
            at += (len + 3) & !3;
        }
        out
    }

    fn u32_attr(buf: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes(buf[at + 4..at + 8].try_into().unwrap())
    }

    #[test]
    fn veth_queues_are_crossed_between_the_ends() {
        const IFLA_NUM_TX_QUEUES: u16 = 31;
        const IFLA_NUM_RX_QUEUES: u16 = 32;
        const IFLA_LINKINFO: u16 = 18;
        const IFLA_INFO_DATA: u16 = 2;
        const VETH_INFO_PEER: u16 = 1;
        let buf = emitted(&veth_message(
            "vh0",
            "vc0",
            None,
            Some(NetnsRef::Pid(42)),
            (4, 2),
            None,
        ));
        // Host end (top level, after the 16-byte ifinfomsg): rx 2, tx 4.
        let rx = attrs(&buf, 16, buf.len(), IFLA_NUM_RX_QUEUES);
        let tx = attrs(&buf, 16, buf.len(), IFLA_NUM_TX_QUEUES);
        assert_eq!((rx.len(), tx.len()), (1, 1));
        assert_eq!(&buf[rx[0]..rx[0] + 4], &[8, 0, 32, 0]);
        assert_eq!((u32_attr(&buf, rx[0]), u32_attr(&buf, tx[0])), (2, 4));
        // Peer: IFLA_LINKINFO > IFLA_INFO_DATA > VETH_INFO_PEER > ifinfomsg.
        let li = attrs(&buf, 16, buf.len(), IFLA_LINKINFO)[0];
        let li_end = li + u16::from_ne_bytes([buf[li], buf[li + 1]]) as usize;
        let data = attrs(&buf, li + 4, li_end, IFLA_INFO_DATA)[0];
        let data_end = data + u16::from_ne_bytes([buf[data], buf[data + 1]]) as usize;
        let peer = attrs(&buf, data + 4, data_end, VETH_INFO_PEER)[0];
        let peer_end = peer + u16::from_ne_bytes([buf[peer], buf[peer + 1]]) as usize;
        let body = peer + 4 + 16;
        let prx = attrs(&buf, body, peer_end, IFLA_NUM_RX_QUEUES);
        let ptx = attrs(&buf, body, peer_end, IFLA_NUM_TX_QUEUES);
        assert_eq!((u32_attr(&buf, prx[0]), u32_attr(&buf, ptx[0])), (4, 2));
        // IFLA_NET_NS_PID (19) = 42 on the peer only.
        assert_eq!(attrs(&buf, body, peer_end, 19).len(), 1);
        assert!(attrs(&buf, 16, buf.len(), 19).is_empty());
        // Unset counts are not sent at all (the kernel picks its default).
        let plain = emitted(&veth_message("vh0", "vc0", None, None, (0, 0), None));
        assert!(attrs(&plain, 16, plain.len(), IFLA_NUM_RX_QUEUES).is_empty());
        assert!(!plain
            .windows(4)
            .any(|w| w == [8, 0, 32, 0] || w == [8, 0, 31, 0]));
        // Only rx set: host tx = n, peer rx = n, nothing else.
        let one = emitted(&veth_message("vh0", "vc0", None, None, (3, 0), None));
        let htx = attrs(&one, 16, one.len(), IFLA_NUM_TX_QUEUES);
        assert_eq!(htx.len(), 1);
        assert_eq!(u32_attr(&one, htx[0]), 3);
        assert!(attrs(&one, 16, one.len(), IFLA_NUM_RX_QUEUES).is_empty());
    }

    #[test]
    fn bridge_vlan_message_bytes() {
        // struct ifinfomsg: AF_BRIDGE (7), pad, type 0, index 9, flags 0,
        // change 0; then IFLA_AF_SPEC (26, 20 bytes) holding
        // IFLA_BRIDGE_FLAGS (0) = BRIDGE_FLAGS_MASTER (1), u16 padded, and
        // IFLA_BRIDGE_VLAN_INFO (2) = struct bridge_vlan_info {flags, vid}.
        let mut want: Vec<u8> = vec![7, 0, 0, 0];
        want.extend_from_slice(&9i32.to_ne_bytes());
        want.extend_from_slice(&[0; 8]);
        want.extend_from_slice(&20u16.to_ne_bytes());
        want.extend_from_slice(&26u16.to_ne_bytes());
        want.extend_from_slice(&6u16.to_ne_bytes());
        want.extend_from_slice(&0u16.to_ne_bytes());
        want.extend_from_slice(&1u16.to_ne_bytes());
        want.extend_from_slice(&[0, 0]);
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&2u16.to_ne_bytes());
        let head = want.clone();
        // untagged: BRIDGE_VLAN_INFO_PVID (2) | BRIDGE_VLAN_INFO_UNTAGGED (4)
        want.extend_from_slice(&6u16.to_ne_bytes());
        want.extend_from_slice(&100u16.to_ne_bytes());
        assert_eq!(
            emitted(&bridge_vlan_message(libc::RTM_SETLINK, 9, 100, false)),
            want
        );
        // tagged: no flags
        let mut tagged = head;
        tagged.extend_from_slice(&0u16.to_ne_bytes());
        tagged.extend_from_slice(&4094u16.to_ne_bytes());
        assert_eq!(
            emitted(&bridge_vlan_message(libc::RTM_SETLINK, 9, 4094, true)),
            tagged
        );
    }

    #[test]
    fn proxy_neighbour_removal_is_the_same_entry() {
        // RTM_DELNEIGH carries the same ndmsg (NTF_PROXY) and NDA_DST.
        let n = proxy_neighbour_message(libc::RTM_DELNEIGH, "10.1.2.3".parse().unwrap(), 4);
        assert_eq!(n.kind(), libc::RTM_DELNEIGH);
        let buf = emitted(&n);
        assert_eq!(buf[0], 2); // AF_INET
        assert_eq!(buf[10], 8); // NTF_PROXY
                                // NDA_DST (1), 4-byte IPv4 address
        assert_eq!(&buf[12..20], &[8, 0, 1, 0, 10, 1, 2, 3]);
    }

    #[test]
    fn macvlan_message_carries_mode_and_parent() {
        let buf = emitted(&macvlan_message("mv0", 7, 4));
        // IFLA_LINK (5) = 7
        assert_eq!(attrs(&buf, 16, buf.len(), 5).len(), 1);
        assert!(buf.windows(8).any(|w| w == [8, 0, 5, 0, 7, 0, 0, 0]));
        assert!(buf.windows(8).any(|w| w == b"macvlan\0"));
        // IFLA_MACVLAN_MODE (1) = MACVLAN_MODE_BRIDGE (4), u32
        let needle = [8u8, 0, 1, 0, 4, 0, 0, 0];
        assert!(buf.windows(8).any(|w| w == needle));
        // The kernel's default mode: no IFLA_INFO_DATA at all.
        let plain = emitted(&macvlan_message("mv0", 7, 0));
        let li = attrs(&plain, 16, plain.len(), 18)[0];
        assert!(attrs(&plain, li + 4, plain.len(), 2).is_empty());
    }
}
