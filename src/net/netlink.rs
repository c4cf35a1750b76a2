//! A synchronous rtnetlink client on netlink-sys: one request, one ACK (or
//! a dump), no async runtime inside a library that forks.

use std::net::IpAddr;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    AfSpecBridge, BridgeFlag, BridgeVlanInfo, BridgeVlanInfoFlags, InfoData, InfoIpVlan, InfoKind,
    InfoMacVlan, InfoVeth, InfoVlan, IpVlanFlags, IpVlanMode, LinkAttribute, LinkFlags, LinkInfo,
    LinkMessage, MacVlanMode,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::error::{Error, Result};

/// A network namespace as netlink names it: by a process living in it,
/// or by a descriptor of it (one made before init existed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetnsRef {
    Pid(i32),
    Fd(std::os::fd::RawFd),
}

impl NetnsRef {
    fn attribute(self) -> LinkAttribute {
        match self {
            NetnsRef::Pid(pid) => LinkAttribute::NetNsPid(pid as u32),
            NetnsRef::Fd(fd) => LinkAttribute::NetNsFd(fd),
        }
    }
}

pub struct Rtnl {
    socket: Socket,
    seq: u32,
}

/// One link as a dump reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
}

impl Rtnl {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> Result<Rtnl> {
        let mut socket =
            Socket::new(NETLINK_ROUTE).map_err(|e| Error::os("Failed to open rtnetlink", &e))?;
        socket
            .bind_auto()
            .map_err(|e| Error::os("Failed to bind rtnetlink", &e))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| Error::os("Failed to connect rtnetlink", &e))?;
        Ok(Rtnl { socket, seq: 0 })
    }

    /// A non-blocking socket hearing the link notifications (RTNLGRP_LINK)
    /// of the calling thread's network namespace.
    pub fn open_link_events() -> Result<Rtnl> {
        let failed = |what: &str, e: std::io::Error| {
            Error::os(format_args!("Failed to {what} rtnetlink link events"), &e)
        };
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(|e| failed("open", e))?;
        socket.bind_auto().map_err(|e| failed("bind", e))?;
        socket
            .add_membership(libc::RTNLGRP_LINK)
            .map_err(|e| failed("join", e))?;
        socket
            .set_non_blocking(true)
            .map_err(|e| failed("configure", e))?;
        Ok(Rtnl { socket, seq: 0 })
    }

    /// On a socket from `open_link_events`: the indexes of the links that
    /// the notifications queued so far report deleted (none when nothing
    /// is queued). An error (ENOBUFS: notifications were lost) means the
    /// caller must look for itself.
    pub fn deleted_links(&mut self) -> Result<Vec<u32>> {
        let mut buf = vec![0u8; 65536];
        let mut out = Vec::new();
        loop {
            let n = match self.socket.recv(&mut &mut buf[..], 0) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(out),
                Err(e) => return Err(Error::os("rtnetlink link events", &e)),
            };
            let mut offset = 0;
            while offset < n {
                let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[offset..n])
                else {
                    break;
                };
                if let NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) = msg.payload {
                    out.push(l.header.index);
                }
                let len = msg.header.length as usize;
                if len == 0 {
                    break;
                }
                offset += len;
            }
        }
    }

    /// The socket, to poll.
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.socket.as_raw_fd()
    }

    fn send(&mut self, msg: RouteNetlinkMessage, flags: u16) -> Result<u32> {
        let mut packet = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(msg));
        self.seq += 1;
        packet.header.flags = flags;
        packet.header.sequence_number = self.seq;
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf[..]);
        self.socket
            .send(&buf, 0)
            .map_err(|e| Error::os("rtnetlink send", &e))?;
        Ok(self.seq)
    }

    /// Receives the answers to request `seq`, calling `each` on every
    /// payload message, until the ACK/NACK or the end of a dump.
    fn receive(
        &mut self,
        seq: u32,
        what: &str,
        mut each: impl FnMut(RouteNetlinkMessage),
    ) -> Result<()> {
        let mut buf = vec![0u8; 65536];
        loop {
            let n = self
                .socket
                .recv(&mut &mut buf[..], 0)
                .map_err(|e| Error::os("rtnetlink recv", &e))?;
            let mut offset = 0;
            while offset < n {
                let msg: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::deserialize(&buf[offset..n]).map_err(|e| {
                        Error::new(libc::EPROTO, format!("rtnetlink: bad message: {e}"))
                    })?;
                let len = msg.header.length as usize;
                if msg.header.sequence_number == seq {
                    match msg.payload {
                        NetlinkPayload::Done(_) => return Ok(()),
                        NetlinkPayload::Error(err) => {
                            return match err.code {
                                None => Ok(()),
                                Some(code) => {
                                    let errno = -code.get();
                                    Err(Error::new(
                                        errno,
                                        format!(
                                            "{what}: {}",
                                            std::io::Error::from_raw_os_error(errno)
                                        ),
                                    ))
                                }
                            }
                        }
                        NetlinkPayload::InnerMessage(m) => each(m),
                        _ => {}
                    }
                }
                if len == 0 {
                    break;
                }
                offset += len;
            }
        }
    }

    fn request(&mut self, msg: RouteNetlinkMessage, extra: u16, what: &str) -> Result<()> {
        let seq = self.send(msg, NLM_F_REQUEST | NLM_F_ACK | extra)?;
        self.receive(seq, what, |_| {})
    }

    pub fn links(&mut self) -> Result<Vec<Link>> {
        let seq = self.send(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        let mut out = Vec::new();
        self.receive(seq, "Failed to list links", |m| {
            if let RouteNetlinkMessage::NewLink(l) = m {
                let name = l.attributes.iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n.clone()),
                    _ => None,
                });
                out.push(Link {
                    index: l.header.index,
                    name: name.unwrap_or_default(),
                });
            }
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
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        let seq = self.send(RouteNetlinkMessage::GetLink(msg), NLM_F_REQUEST | NLM_F_ACK)?;
        let mut found = None;
        let asked = self.receive(seq, "Failed to look up a link", |m| {
            if let RouteNetlinkMessage::NewLink(l) = m {
                if is_named(&l, name) {
                    found = Some(l.header.index);
                }
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
        let seq = self.send(
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        let mut out = Vec::new();
        self.receive(seq, "Failed to list addresses", |m| {
            if let RouteNetlinkMessage::NewAddress(a) = m {
                let addr = a.attributes.iter().find_map(|x| match x {
                    AddressAttribute::Local(ip) => Some(*ip),
                    _ => None,
                });
                let addr = addr.or_else(|| {
                    a.attributes.iter().find_map(|x| match x {
                        AddressAttribute::Address(ip) => Some(*ip),
                        _ => None,
                    })
                });
                if let Some(ip) = addr {
                    out.push((a.header.index, ip, a.header.prefix_len));
                }
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
    ) -> Result<()> {
        self.request(
            RouteNetlinkMessage::NewLink(veth_message(host, peer, mtu, peer_ns, queues)),
            NLM_F_CREATE | NLM_F_EXCL,
            &format!("Failed to create veth pair {host}/{peer}"),
        )
    }

    /// Creates a macvlan `name` on `parent` (kernel MACVLAN_MODE_* value;
    /// 0 = the kernel's default).
    pub fn create_macvlan(&mut self, name: &str, parent: u32, mode: u32) -> Result<()> {
        self.request(
            RouteNetlinkMessage::NewLink(macvlan_message(name, parent, mode)),
            NLM_F_CREATE | NLM_F_EXCL,
            &format!("Failed to create macvlan {name}"),
        )
    }

    /// Creates an ipvlan or 802.1q vlan device (`msg` from
    /// `ipvlan_message`/`vlan_message`).
    pub fn create_link(&mut self, msg: LinkMessage, what: &str) -> Result<()> {
        self.request(
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
            what,
        )
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
        let mut attrs = vec![
            LinkAttribute::NetNsFd(ns_fd),
            LinkAttribute::IfName(new_name.to_string()),
        ];
        if let Some(m) = mtu {
            attrs.push(LinkAttribute::Mtu(m));
        }
        self.set_link(
            index,
            attrs,
            None,
            &format!("Failed to move {new_name} back to the host"),
        )
    }

    /// MTU of a link.
    pub fn mtu_of(&mut self, name: &str) -> Result<Option<u32>> {
        let seq = self.send(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        let mut found = None;
        self.receive(seq, "Failed to list links", |m| {
            if let RouteNetlinkMessage::NewLink(l) = m {
                if is_named(&l, name) {
                    found = l.attributes.iter().find_map(|a| match a {
                        LinkAttribute::Mtu(m) => Some(*m),
                        _ => None,
                    });
                }
            }
        })?;
        Ok(found)
    }

    fn set_link(
        &mut self,
        index: u32,
        attrs: Vec<LinkAttribute>,
        up: Option<bool>,
        what: &str,
    ) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        if let Some(up) = up {
            msg.header.change_mask = LinkFlags::Up;
            if up {
                msg.header.flags = LinkFlags::Up;
            }
        }
        msg.attributes = attrs;
        self.request(RouteNetlinkMessage::SetLink(msg), 0, what)
    }

    pub fn set_up(&mut self, index: u32, up: bool) -> Result<()> {
        self.set_link(index, vec![], Some(up), "Failed to set link state")
    }

    pub fn set_master(&mut self, index: u32, master: u32) -> Result<()> {
        self.set_link(
            index,
            vec![LinkAttribute::Controller(master)],
            None,
            "Failed to attach to the bridge",
        )
    }

    pub fn set_name(&mut self, index: u32, name: &str) -> Result<()> {
        self.set_link(
            index,
            vec![LinkAttribute::IfName(name.to_string())],
            None,
            &format!("Failed to rename interface to {name}"),
        )
    }

    pub fn set_mtu(&mut self, index: u32, mtu: u32) -> Result<()> {
        self.set_link(
            index,
            vec![LinkAttribute::Mtu(mtu)],
            None,
            &format!("Failed to set MTU {mtu}"),
        )
    }

    pub fn set_hwaddr(&mut self, index: u32, mac: [u8; 6]) -> Result<()> {
        self.set_link(
            index,
            vec![LinkAttribute::Address(mac.to_vec())],
            None,
            "Failed to set the hardware address",
        )
    }

    /// Moves a link into the network namespace `ns`.
    pub fn move_to_netns(&mut self, index: u32, ns: NetnsRef) -> Result<()> {
        self.set_link(
            index,
            vec![ns.attribute()],
            None,
            "Failed to move the interface into the container",
        )
    }

    /// Moves a link into the network namespace of `pid` under `new_name`.
    pub fn move_to_pid_netns_named(&mut self, index: u32, pid: i32, new_name: &str) -> Result<()> {
        self.set_link(
            index,
            vec![
                LinkAttribute::NetNsPid(pid as u32),
                LinkAttribute::IfName(new_name.to_string()),
            ],
            None,
            &format!("Failed to move the interface into the container as {new_name}"),
        )
    }

    pub fn delete_link(&mut self, index: u32) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        self.request(
            RouteNetlinkMessage::DelLink(msg),
            0,
            "Failed to delete link",
        )
    }

    pub fn add_address(
        &mut self,
        index: u32,
        addr: IpAddr,
        prefix: u8,
        broadcast: Option<std::net::Ipv4Addr>,
    ) -> Result<()> {
        let mut msg = AddressMessage::default();
        msg.header.family = if addr.is_ipv4() {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        };
        msg.header.prefix_len = prefix;
        msg.header.index = index;
        msg.attributes.push(AddressAttribute::Local(addr));
        msg.attributes.push(AddressAttribute::Address(addr));
        if let Some(b) = broadcast {
            msg.attributes.push(AddressAttribute::Broadcast(b));
        }
        self.request(
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_EXCL,
            &format!("Failed to add address {addr}/{prefix}"),
        )
    }

    /// A route to `dest/prefix` through the device `index` (scope link).
    pub fn add_device_route(&mut self, dest: IpAddr, prefix: u8, index: u32) -> Result<()> {
        self.request(
            RouteNetlinkMessage::NewRoute(device_route_message(dest, prefix, index)),
            NLM_F_CREATE | NLM_F_EXCL,
            &format!("Failed to add route {dest}/{prefix}"),
        )
    }

    /// A proxy neighbour entry: the host answers ARP/NDP for `ip` on the
    /// device `index` (veth router mode).
    pub fn add_proxy_neighbour(&mut self, ip: IpAddr, index: u32) -> Result<()> {
        self.request(
            RouteNetlinkMessage::NewNeighbour(proxy_neighbour_message(ip, index)),
            NLM_F_CREATE | NLM_F_REPLACE,
            &format!("Failed to add proxy neighbour {ip}"),
        )
    }

    /// Removes the proxy neighbour entry for `ip` on the device `index`.
    pub fn del_proxy_neighbour(&mut self, ip: IpAddr, index: u32) -> Result<()> {
        self.request(
            RouteNetlinkMessage::DelNeighbour(proxy_neighbour_message(ip, index)),
            0,
            &format!("Failed to remove proxy neighbour {ip}"),
        )
    }

    /// Removes the route `dest/prefix` through the device `index`.
    pub fn del_device_route(&mut self, dest: IpAddr, prefix: u8, index: u32) -> Result<()> {
        self.request(
            RouteNetlinkMessage::DelRoute(device_route_message(dest, prefix, index)),
            0,
            &format!("Failed to remove route {dest}/{prefix}"),
        )
    }

    /// Adds (RTM_SETLINK) or removes (RTM_DELLINK) VLAN `vid` on the bridge
    /// port `index` (see `bridge_vlan_message`).
    pub fn bridge_vlan(&mut self, index: u32, vid: u16, tagged: bool, add: bool) -> Result<()> {
        let msg = bridge_vlan_message(index, vid, tagged);
        let (msg, what) = if add {
            (RouteNetlinkMessage::SetLink(msg), "add")
        } else {
            (RouteNetlinkMessage::DelLink(msg), "remove")
        };
        self.request(
            msg,
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
        let mut msg = RouteMessage::default();
        msg.header.address_family = if v6 {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        };
        msg.header.table = RouteHeader::RT_TABLE_MAIN;
        msg.header.protocol = RouteProtocol::Boot;
        msg.header.kind = RouteType::Unicast;
        msg.header.scope = if gateway.is_some() {
            RouteScope::Universe
        } else {
            RouteScope::Link
        };
        msg.attributes.push(RouteAttribute::Oif(index));
        if let Some(gw) = gateway {
            msg.attributes.push(RouteAttribute::Gateway(match gw {
                IpAddr::V4(a) => RouteAddress::Inet(a),
                IpAddr::V6(a) => RouteAddress::Inet6(a),
            }));
        }
        self.request(
            RouteNetlinkMessage::NewRoute(msg),
            NLM_F_CREATE | NLM_F_EXCL,
            "Failed to add the default route",
        )
    }
}

fn family_of(ip: &IpAddr) -> AddressFamily {
    if ip.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

/// The RTM_NEWROUTE body of a device route.
pub fn device_route_message(dest: IpAddr, prefix: u8, index: u32) -> RouteMessage {
    let mut msg = RouteMessage::default();
    msg.header.address_family = family_of(&dest);
    msg.header.destination_prefix_length = prefix;
    msg.header.table = RouteHeader::RT_TABLE_MAIN;
    msg.header.protocol = RouteProtocol::Boot;
    msg.header.kind = RouteType::Unicast;
    msg.header.scope = RouteScope::Link;
    msg.attributes.push(RouteAttribute::Destination(match dest {
        IpAddr::V4(a) => RouteAddress::Inet(a),
        IpAddr::V6(a) => RouteAddress::Inet6(a),
    }));
    msg.attributes.push(RouteAttribute::Oif(index));
    msg
}

/// The RTM_NEWNEIGH body of a proxy entry.
pub fn proxy_neighbour_message(ip: IpAddr, index: u32) -> NeighbourMessage {
    let mut msg = NeighbourMessage::default();
    msg.header.family = family_of(&ip);
    msg.header.ifindex = index;
    msg.header.flags = NeighbourFlags::Proxy;
    msg.attributes
        .push(NeighbourAttribute::Destination(match ip {
            IpAddr::V4(a) => NeighbourAddress::Inet(a),
            IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }));
    msg
}

/// The RTM_NEWLINK body of a veth pair: `peer` created in the network
/// namespace `peer_ns` when given. `queues` are the container end's
/// (rx, tx) queue counts (0: the kernel's default); the host end gets them
/// crossed (its rx = the peer's tx), as LXC does.
pub fn veth_message(
    host: &str,
    peer: &str,
    mtu: Option<u32>,
    peer_ns: Option<NetnsRef>,
    queues: (u32, u32),
) -> LinkMessage {
    let (rx, tx) = queues;
    let mut peer_msg = LinkMessage::default();
    peer_msg
        .attributes
        .push(LinkAttribute::IfName(peer.to_string()));
    push_queues(&mut peer_msg, rx, tx);
    if let Some(m) = mtu {
        peer_msg.attributes.push(LinkAttribute::Mtu(m));
    }
    if let Some(ns) = peer_ns {
        // Created directly in init's namespace: no move needed.
        peer_msg.attributes.push(ns.attribute());
    }
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(host.to_string()));
    push_queues(&mut msg, tx, rx);
    if let Some(m) = mtu {
        msg.attributes.push(LinkAttribute::Mtu(m));
    }
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_msg))),
    ]));
    msg
}

fn push_queues(msg: &mut LinkMessage, rx: u32, tx: u32) {
    if rx > 0 {
        msg.attributes.push(LinkAttribute::NumRxQueues(rx));
    }
    if tx > 0 {
        msg.attributes.push(LinkAttribute::NumTxQueues(tx));
    }
}

/// The AF_BRIDGE link message that adds (RTM_SETLINK) or removes
/// (RTM_DELLINK) VLAN `vid` on the bridge port `index`: IFLA_AF_SPEC
/// carrying IFLA_BRIDGE_FLAGS = BRIDGE_FLAGS_MASTER (the bridge applies it
/// to its port) and IFLA_BRIDGE_VLAN_INFO, either tagged (no flags) or
/// untagged with `vid` as the port's PVID, as LXC sends for
/// `veth.vlan.tagged.id` and `veth.vlan.id`.
pub fn bridge_vlan_message(index: u32, vid: u16, tagged: bool) -> LinkMessage {
    let flags = if tagged {
        BridgeVlanInfoFlags::empty()
    } else {
        BridgeVlanInfoFlags::Pvid | BridgeVlanInfoFlags::Untagged
    };
    let mut msg = LinkMessage::default();
    msg.header.interface_family = AddressFamily::Bridge;
    msg.header.index = index;
    msg.attributes.push(LinkAttribute::AfSpecBridge(vec![
        AfSpecBridge::Flags(BridgeFlag::Controller),
        AfSpecBridge::VlanInfo(BridgeVlanInfo { flags, vid }),
    ]));
    msg
}

fn child_link(name: &str, parent: u32, info: Vec<LinkInfo>) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    msg.attributes.push(LinkAttribute::Link(parent));
    msg.attributes.push(LinkAttribute::LinkInfo(info));
    msg
}

/// The RTM_NEWLINK body of an 802.1q vlan `id` on `parent`.
pub fn vlan_message(name: &str, parent: u32, id: u16) -> LinkMessage {
    child_link(
        name,
        parent,
        vec![
            LinkInfo::Kind(InfoKind::Vlan),
            LinkInfo::Data(InfoData::Vlan(vec![InfoVlan::Id(id)])),
        ],
    )
}

/// The RTM_NEWLINK body of an ipvlan: `mode` 0 l2, 1 l3, 2 l3s (LXC's
/// `ipvlan.mode`), `isolation` 0 bridge, 1 private, 2 vepa.
pub fn ipvlan_message(name: &str, parent: u32, mode: u16, isolation: u16) -> LinkMessage {
    let mode = match mode {
        0 => IpVlanMode::L2,
        1 => IpVlanMode::L3,
        2 => IpVlanMode::L3S,
        other => IpVlanMode::Other(other),
    };
    let flags = match isolation {
        1 => IpVlanFlags::Private,
        2 => IpVlanFlags::Vepa,
        _ => IpVlanFlags::empty(),
    };
    child_link(
        name,
        parent,
        vec![
            LinkInfo::Kind(InfoKind::IpVlan),
            LinkInfo::Data(InfoData::IpVlan(vec![
                InfoIpVlan::Mode(mode),
                InfoIpVlan::Flags(flags),
            ])),
        ],
    )
}

/// The RTM_NEWLINK body of a macvlan (separate so it can be unit-tested).
pub fn macvlan_message(name: &str, parent: u32, mode: u32) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    msg.attributes.push(LinkAttribute::Link(parent));
    let mut info = vec![LinkInfo::Kind(InfoKind::MacVlan)];
    if mode != 0 {
        let mode = match mode {
            1 => MacVlanMode::Private,
            2 => MacVlanMode::Vepa,
            4 => MacVlanMode::Bridge,
            8 => MacVlanMode::Passthrough,
            other => MacVlanMode::Other(other),
        };
        info.push(LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
            mode,
        )])));
    }
    msg.attributes.push(LinkAttribute::LinkInfo(info));
    msg
}

/// Whether the link's own name (not an alternative name) is `name`.
fn is_named(link: &LinkMessage, name: &str) -> bool {
    link.attributes
        .iter()
        .any(|a| matches!(a, LinkAttribute::IfName(n) if n == name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;

    fn emitted(msg: &LinkMessage) -> Vec<u8> {
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.emit(&mut buf);
        buf
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
        let r = device_route_message("10.0.3.7".parse().unwrap(), 32, 9);
        assert_eq!(r.header.destination_prefix_length, 32);
        assert_eq!(r.header.scope, RouteScope::Link);
        assert!(r.attributes.contains(&RouteAttribute::Oif(9)));
        let n = proxy_neighbour_message("fd00::1".parse().unwrap(), 9);
        assert_eq!(n.header.family, AddressFamily::Inet6);
        assert!(n.header.flags.contains(NeighbourFlags::Proxy));
        let mut buf = vec![0u8; n.buffer_len()];
        n.emit(&mut buf);
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
        let plain = emitted(&veth_message("vh0", "vc0", None, None, (0, 0)));
        assert!(attrs(&plain, 16, plain.len(), IFLA_NUM_RX_QUEUES).is_empty());
        assert!(!plain
            .windows(4)
            .any(|w| w == [8, 0, 32, 0] || w == [8, 0, 31, 0]));
        // Only rx set: host tx = n, peer rx = n, nothing else.
        let one = emitted(&veth_message("vh0", "vc0", None, None, (3, 0)));
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
        assert_eq!(emitted(&bridge_vlan_message(9, 100, false)), want);
        // tagged: no flags
        let mut tagged = head;
        tagged.extend_from_slice(&0u16.to_ne_bytes());
        tagged.extend_from_slice(&4094u16.to_ne_bytes());
        assert_eq!(emitted(&bridge_vlan_message(9, 4094, true)), tagged);
    }

    #[test]
    fn proxy_neighbour_removal_is_the_same_entry() {
        // RTM_DELNEIGH carries the same ndmsg (NTF_PROXY) and NDA_DST.
        let n = proxy_neighbour_message("10.1.2.3".parse().unwrap(), 4);
        let mut buf = vec![0u8; n.buffer_len()];
        n.emit(&mut buf);
        assert_eq!(buf[0], 2); // AF_INET
        assert_eq!(buf[10], 8); // NTF_PROXY
                                // NDA_DST (1), 4-byte IPv4 address
        assert_eq!(&buf[12..20], &[8, 0, 1, 0, 10, 1, 2, 3]);
    }

    #[test]
    fn macvlan_message_carries_mode_and_parent() {
        let msg = macvlan_message("mv0", 7, 4);
        assert!(msg.attributes.contains(&LinkAttribute::Link(7)));
        assert!(msg.attributes.iter().any(|a| matches!(a, LinkAttribute::LinkInfo(i)
            if i.contains(&LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(MacVlanMode::Bridge)]))))));
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.emit(&mut buf);
        // IFLA_MACVLAN_MODE (1) = MACVLAN_MODE_BRIDGE (4), u32
        let needle = [8u8, 0, 1, 0, 4, 0, 0, 0];
        assert!(buf.windows(8).any(|w| w == needle));
    }
}
