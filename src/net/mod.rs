//! Container networking from `lxc.net.<i>.*`: decided from the typed
//! configuration (pure, unit-tested), applied with rtnetlink in two
//! places: the host side in the monitor (create the veth pair, attach it to
//! the bridge, move the peer into init's network namespace before init is
//! released) and the container side in init before the rootfs setup
//! (rename, MAC, MTU, addresses, up, gateways).
//!
//! Types: `veth`, `macvlan` (on the `link` parent), `phys` (a host device
//! moved in, moved back with its name and MTU when the container ends),
//! `ipvlan` and `vlan` (created on the `link` parent and moved in; this
//! VM's kernel has neither, so they are covered by message unit tests),
//! `empty` (loopback only) and `none` (the host's network namespace).
//!
//! veth extras: queue counts (`veth.n_rxqueues/n_txqueues`), bridge VLANs
//! (`bridge_vlan`), and proxy neighbours for router mode and `l2proxy`
//! (`proxy`).

pub mod bridge_vlan;
pub mod netlink;
pub mod proxy;
pub mod unlink;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::{Config, NetType};
use crate::error::{Error, Result};
use crate::journal::Item;
pub use crate::journal::PhysDevice;
pub use netlink::NetnsRef;
use netlink::Rtnl;
pub use proxy::refresh_proxies;

/// Gateway choice of one address family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayPlan<A> {
    None,
    /// `auto`: the bridge's first address of that family on the host.
    Auto,
    /// `dev`: a device route.
    Dev,
    Addr(A),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfacePlan {
    /// `lxc.net.<index>`.
    pub index: u32,
    pub kind: NetType,
    /// Host bridge (`link`).
    pub link: String,
    /// Host end of the veth pair (`veth.pair`, or generated).
    pub host_name: String,
    /// Name of the container end while it is still on the host.
    pub peer_name: String,
    /// Name inside the container ("eth%d": the kernel picks the number).
    pub name: String,
    pub hwaddr: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    /// macvlan: kernel MACVLAN_MODE_* (0 = kernel default).
    pub macvlan_mode: u32,
    /// ipvlan: mode (0 l2, 1 l3, 2 l3s) and isolation (0 bridge, 1
    /// private, 2 vepa); vlan: the 802.1q id.
    pub ipvlan: (u16, u16),
    pub vlan_id: u16,
    /// phys: the device's MTU on the host, restored when it comes back.
    pub host_mtu: Option<u32>,
    /// `script.up` / `script.down`.
    pub up_script: Option<String>,
    pub down_script: Option<String>,
    /// veth `veth.mode = router`: no bridge; host routes to the
    /// container's addresses and proxy neighbours for its gateways.
    pub router: bool,
    /// `veth.ipv4.route` / `veth.ipv6.route`: host routes through the veth.
    pub host_routes: Vec<(IpAddr, u8)>,
    pub up: bool,
    pub ipv4: Vec<(Ipv4Addr, u8, Ipv4Addr)>,
    pub ipv6: Vec<(Ipv6Addr, u8)>,
    pub gateway4: GatewayPlan<Ipv4Addr>,
    pub gateway6: GatewayPlan<Ipv6Addr>,
    /// veth: `veth.n_rxqueues`, `veth.n_txqueues` of the container end
    /// (0: the kernel's default).
    pub queues: (u32, u32),
    /// veth on a bridge: `veth.vlan.id`, `veth.vlan.tagged.id`.
    pub bridge_vlan: bridge_vlan::BridgeVlan,
    /// `l2proxy`: proxy neighbours for the addresses on `link`.
    pub l2proxy: bool,
}

/// The whole network of a container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetPlan {
    /// Share the host's network namespace (`none`).
    pub host_netns: bool,
    pub ifaces: Vec<IfacePlan>,
    /// Bring the loopback up: as LXC, only when some interface (`empty`
    /// included) has `flags = up`; otherwise it stays down.
    pub loopback_up: bool,
}

/// "xx:xx:..." into bytes.
pub fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    let mut mac = [0u8; 6];
    if parts.len() != 6 {
        return Err(Error::invalid(format!("Invalid hardware address \"{s}\"")));
    }
    for (i, p) in parts.iter().enumerate() {
        mac[i] = u8::from_str_radix(p, 16)
            .map_err(|_| Error::invalid(format!("Invalid hardware address \"{s}\"")))?;
    }
    Ok(mac)
}

/// A random interface name "<prefix>XXXXXX" as LXC makes them.
pub fn random_name(prefix: &str) -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = [0u8; 6];
    // SAFETY: getrandom into a local buffer.
    unsafe { libc::getrandom(bytes.as_mut_ptr() as *mut libc::c_void, bytes.len(), 0) };
    let tail: String = bytes
        .iter()
        .map(|b| ALNUM[*b as usize % ALNUM.len()] as char)
        .collect();
    format!("{prefix}{tail}")
}

fn gateway<A: Copy>(g: &crate::config::net::Gateway<A>) -> GatewayPlan<A> {
    if g.auto {
        GatewayPlan::Auto
    } else if g.dev {
        GatewayPlan::Dev
    } else {
        g.addr.map_or(GatewayPlan::None, GatewayPlan::Addr)
    }
}

impl NetPlan {
    pub fn from_config(config: &Config) -> Result<NetPlan> {
        let mut plan = NetPlan::default();
        for (index, dev) in config.networks() {
            let Some(kind) = dev.kind else {
                return Err(Error::invalid(format!("lxc.net.{index}.type is not set")));
            };
            if kind != NetType::None && dev.up {
                plan.loopback_up = true;
            }
            match kind {
                NetType::Empty => continue,
                NetType::None => {
                    plan.host_netns = true;
                    continue;
                }
                NetType::Veth
                | NetType::Macvlan
                | NetType::Phys
                | NetType::Vlan
                | NetType::Ipvlan => {}
            }
            let router = kind == NetType::Veth && dev.mode == 2;
            if dev.link.is_empty() && !router {
                return Err(Error::invalid(format!(
                    "lxc.net.{index}.link: a veth needs a bridge"
                )));
            }
            let is_veth = kind == NetType::Veth;
            let bridge_vlan = bridge_vlan::BridgeVlan {
                untagged: dev.veth_vlan_id.filter(|_| is_veth),
                tagged: if is_veth {
                    dev.veth_vlan_tagged_ids.clone()
                } else {
                    Vec::new()
                },
            };
            bridge_vlan::validate(index, dev.mode == 1, &dev.link, &bridge_vlan)?;
            let queue = |n: i32| if is_veth { n.max(0) as u32 } else { 0 };
            let mtu = match &dev.mtu {
                Some(m) => Some(m.trim().parse::<u32>().map_err(|_| {
                    Error::invalid(format!("lxc.net.{index}.mtu: invalid value \"{m}\""))
                })?),
                None => None,
            };
            plan.ifaces.push(IfacePlan {
                index,
                kind,
                link: dev.link.clone(),
                host_name: if kind == NetType::Veth {
                    dev.veth_pair.clone()
                } else {
                    String::new()
                },
                peer_name: String::new(),
                name: if dev.name.is_empty() {
                    "eth%d".into()
                } else {
                    dev.name.clone()
                },
                hwaddr: dev.hwaddr.as_deref().map(parse_mac).transpose()?,
                mtu,
                macvlan_mode: if kind == NetType::Macvlan {
                    dev.mode.max(0) as u32
                } else {
                    0
                },
                ipvlan: (dev.mode.max(0) as u16, dev.isolation.max(0) as u16),
                up_script: dev.upscript.clone(),
                down_script: dev.downscript.clone(),
                vlan_id: dev.vlan_id,
                host_mtu: None,
                router: kind == NetType::Veth && dev.mode == 2,
                host_routes: dev
                    .veth_ipv4_routes
                    .iter()
                    .map(|r| (IpAddr::V4(r.addr), r.prefix as u8))
                    .chain(
                        dev.veth_ipv6_routes
                            .iter()
                            .map(|r| (IpAddr::V6(r.addr), r.prefix as u8)),
                    )
                    .collect(),
                up: dev.up,
                ipv4: dev
                    .ipv4
                    .iter()
                    .map(|a| (a.addr, a.prefix as u8, a.bcast))
                    .collect(),
                ipv6: dev.ipv6.iter().map(|a| (a.addr, a.prefix as u8)).collect(),
                gateway4: gateway(&dev.ipv4_gateway),
                gateway6: gateway(&dev.ipv6_gateway),
                queues: (queue(dev.veth_n_rxqueues), queue(dev.veth_n_txqueues)),
                bridge_vlan,
                l2proxy: dev.l2proxy,
            });
        }
        Ok(plan)
    }

    /// CLONE_NEWNET unless the container shares the host's network.
    pub fn clone_flag(&self) -> i32 {
        if self.host_netns {
            0
        } else {
            libc::CLONE_NEWNET
        }
    }
}

/// What a start put on the host: devices (veth host ends, macvlans...),
/// `l2proxy` entries and their loopback routes. Removed again if the start
/// fails, and when the container stops (`for_plan`).
#[derive(Debug, Default)]
pub struct HostSide {
    pub created: Vec<String>,
    pub proxies: Vec<proxy::ProxyEntry>,
    /// ipvlan `l2proxy`: routes to the loopback device.
    pub lo_routes: Vec<(IpAddr, u8)>,
}

impl HostSide {
    /// Everything a running container built from `plan` has on the host:
    /// the host ends of its veths (the kernel removes them with the
    /// container's network namespace, but only once that is torn down:
    /// deleting them ourselves makes "nothing left after stop"
    /// immediate), and its `l2proxy` entries and routes.
    pub fn for_plan(plan: &NetPlan) -> HostSide {
        HostSide {
            created: plan
                .ifaces
                .iter()
                .map(|i| i.host_name.clone())
                .filter(|n| !n.is_empty())
                .collect(),
            proxies: plan
                .ifaces
                .iter()
                .flat_map(proxy::l2proxy_entries)
                .collect(),
            lo_routes: plan
                .ifaces
                .iter()
                .flat_map(proxy::loopback_routes)
                .collect(),
        }
    }

    /// A device created on the host, journaled for the sentinel.
    fn add_created(&mut self, name: &str) {
        crate::journal::note(Item::HostLink(name.to_string()));
        self.created.push(name.to_string());
    }

    /// Journals for the sentinel what someone else made for us (CRIU's
    /// veth host ends of a restored container).
    pub fn journal(&self) {
        for name in &self.created {
            crate::journal::note(Item::HostLink(name.clone()));
        }
    }

    /// Best effort: what is already gone is skipped.
    pub fn cleanup(&self) {
        drop(self.release());
    }

    /// As `cleanup`, but returns as soon as nothing is left on the host:
    /// the kernel may still be finishing the deletions (see `unlink`) on
    /// a thread, which dropping the result joins.
    pub fn release(&self) -> unlink::Unlinking {
        let Ok(mut nl) = Rtnl::open() else {
            return unlink::Unlinking::default();
        };
        proxy::remove(&mut nl, &self.proxies);
        if !self.lo_routes.is_empty() {
            if let Ok(lo) = nl.index_of("lo") {
                for (dest, prefix) in &self.lo_routes {
                    crate::journal::forget(lo_route_item(*dest, *prefix));
                    let _ = nl.del_device_route(*dest, *prefix, lo);
                }
            }
        }
        for name in &self.created {
            crate::journal::forget(Item::HostLink(name.clone()));
        }
        unlink::delete(&mut nl, &self.created)
    }
}

fn lo_route_item(ip: IpAddr, prefix: u8) -> Item {
    Item::LoRoute { ip, prefix }
}

fn link_index(nl: &mut Rtnl, iface: &IfacePlan) -> Result<u32> {
    nl.index_of(&iface.link).map_err(|e| {
        Error::new(
            e.errno,
            format!(
                "lxc.net.{}.link: interface \"{}\" not found",
                iface.index, iface.link
            ),
        )
    })
}

/// Before init exists: checks the host interfaces named by `link`, picks
/// the interface names (generated ones random, as LXC's) and records the
/// MTU of physical devices so it can be restored.
pub fn assign_names(plan: &mut NetPlan) -> Result<()> {
    if plan.ifaces.is_empty() {
        return Ok(());
    }
    let mut nl = Rtnl::open()?;
    let host_netns = plan.host_netns;
    for iface in &mut plan.ifaces {
        if !(iface.router && iface.link.is_empty()) {
            link_index(&mut nl, iface)?;
        }
        // LXC's preconditions, before anything exists that would need undoing.
        proxy::check_l2proxy(iface)?;
        bridge_vlan::check_filtering(iface)?;
        match iface.kind {
            NetType::Veth => {
                if iface.host_name.is_empty() {
                    iface.host_name = random_name("veth");
                }
                // Made in the container's own namespace (see `setup_host`),
                // the container end can take its name at once, unless the
                // kernel is to number it ("eth%d").
                iface.peer_name = if host_netns || iface.name.contains('%') {
                    random_name("vethc")
                } else {
                    iface.name.clone()
                };
            }
            NetType::Macvlan => iface.peer_name = random_name("mcvl"),
            NetType::Vlan => iface.peer_name = random_name("vlan"),
            NetType::Ipvlan => iface.peer_name = random_name("ipvl"),
            _ => {
                // phys: the host device itself goes in.
                iface.peer_name = iface.link.clone();
                iface.host_mtu = nl.mtu_of(&iface.link)?;
            }
        }
    }
    Ok(())
}

/// Once init's network namespace `ns` exists: `l2proxy` entries first (as
/// LXC), then veth pairs created with their container end directly in it
/// (no move, which costs the kernel an RCU grace period), host
/// ends plugged into their bridges with their VLANs (or routed, in router
/// mode); macvlans are created for `move_into`. Undoes itself on failure.
pub fn setup_host(plan: &NetPlan, ns: NetnsRef) -> Result<HostSide> {
    let mut host = HostSide::default();
    if plan.ifaces.is_empty() {
        return Ok(host);
    }
    let result = (|| {
        let mut nl = Rtnl::open()?;
        for iface in &plan.ifaces {
            setup_l2proxy(&mut nl, iface, &mut host)?;
            match iface.kind {
                NetType::Veth => {
                    let bridge = if iface.router {
                        None
                    } else {
                        Some(link_index(&mut nl, iface)?)
                    };
                    // Plugged in and up as it is made, one request, unless
                    // a step needs the host end's index between.
                    let plugged = iface.bridge_vlan.is_empty() && iface.host_routes.is_empty();
                    nl.create_veth(
                        &iface.host_name,
                        &iface.peer_name,
                        iface.mtu,
                        Some(ns),
                        iface.queues,
                        bridge.filter(|_| plugged),
                    )?;
                    host.add_created(&iface.host_name);
                    if bridge.is_none() || !plugged {
                        let idx = nl.index_of(&iface.host_name)?;
                        if let Some(bridge) = bridge {
                            nl.set_master(idx, bridge)?;
                            bridge_vlan::apply(&mut nl, iface, idx)?;
                        }
                        nl.set_up(idx, true)?;
                        route_to_container(&mut nl, iface, idx)?;
                    }
                }
                NetType::Macvlan => {
                    let parent = link_index(&mut nl, iface)?;
                    nl.create_macvlan(&iface.peer_name, parent, iface.macvlan_mode)?;
                    host.add_created(&iface.peer_name);
                }
                NetType::Vlan | NetType::Ipvlan => {
                    let parent = link_index(&mut nl, iface)?;
                    let (msg, what) = if iface.kind == NetType::Vlan {
                        (
                            netlink::vlan_message(&iface.peer_name, parent, iface.vlan_id),
                            "vlan",
                        )
                    } else {
                        let (mode, isolation) = iface.ipvlan;
                        (
                            netlink::ipvlan_message(&iface.peer_name, parent, mode, isolation),
                            "ipvlan",
                        )
                    };
                    nl.create_link(
                        msg,
                        &format!(
                            "lxc.net.{}: failed to create the {what} device",
                            iface.index
                        ),
                    )
                    .map_err(|e| unknown_link_kind(e, what))?;
                    host.add_created(&iface.peer_name);
                }
                _ => {}
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(host),
        Err(e) => {
            host.cleanup();
            Err(e)
        }
    }
}

/// `l2proxy`: the container's addresses answered for on `link` (and, for
/// an ipvlan, routed to the loopback device), each recorded in `host` once
/// added so a failed start removes exactly what it added.
fn setup_l2proxy(nl: &mut Rtnl, iface: &IfacePlan, host: &mut HostSide) -> Result<()> {
    proxy::add(nl, &proxy::l2proxy_entries(iface), |e, idx| {
        crate::journal::note(proxy::journal_item(e, idx));
        host.proxies.push(e.clone())
    })?;
    let routes = proxy::loopback_routes(iface);
    if !routes.is_empty() {
        let lo = nl.index_of("lo")?;
        for (dest, prefix) in routes {
            nl.add_device_route(dest, prefix, lo)?;
            crate::journal::note(lo_route_item(dest, prefix));
            host.lo_routes.push((dest, prefix));
        }
    }
    Ok(())
}

impl PhysDevice {
    fn of(iface: &IfacePlan) -> PhysDevice {
        PhysDevice {
            net_index: iface.index,
            inside: if iface.name.contains('%') || iface.name.is_empty() {
                iface.link.clone()
            } else {
                iface.name.clone()
            },
            host_name: iface.link.clone(),
            mtu: iface.host_mtu,
        }
    }

    /// The sentinel's record of it.
    pub fn journal_item(&self) -> Item {
        Item::Phys(self.clone())
    }
}

/// The physical devices of a container.
pub fn phys_devices(plan: &NetPlan) -> Vec<PhysDevice> {
    plan.ifaces
        .iter()
        .filter(|i| i.kind == NetType::Phys)
        .map(PhysDevice::of)
        .collect()
}

/// Gives the physical devices back to the host when the container ends:
/// from inside its network namespace (`container_ns`, kept open by the
/// monitor so it outlives init) into `host_ns`, under their host names and
/// MTUs, as LXC does.
pub fn restore_phys(
    plan: &NetPlan,
    container_ns: &std::os::fd::OwnedFd,
    host_ns: &std::os::fd::OwnedFd,
) {
    restore_phys_devices(&phys_devices(plan), container_ns, host_ns);
}

/// `restore_phys` for a list of devices (the sentinel's, after a monitor
/// died). Best effort: logs what it cannot restore; returns the host names
/// of the devices given back.
pub fn restore_phys_devices(
    phys: &[PhysDevice],
    container_ns: &std::os::fd::OwnedFd,
    host_ns: &std::os::fd::OwnedFd,
) -> Vec<String> {
    use crate::sys::nsthread::{in_namespace_fd, Ns};
    use std::os::fd::AsRawFd;
    if phys.is_empty() {
        return Vec::new();
    }
    let (Ok(cns), Ok(hns)) = (container_ns.try_clone(), host_ns.try_clone()) else {
        return Vec::new();
    };
    let phys = phys.to_vec();
    let moved = in_namespace_fd(cns, Ns::Net, move || {
        let mut nl = Rtnl::open()?;
        let mut back = Vec::new();
        for dev in &phys {
            let idx = match nl
                .index_of(&dev.inside)
                .or_else(|_| nl.index_of(&dev.host_name))
            {
                Ok(i) => i,
                Err(e) => {
                    log::warn!(
                        "lxc.net.{}: {} not found in the container: {}",
                        dev.net_index,
                        dev.inside,
                        e.message
                    );
                    continue;
                }
            };
            match nl.move_to_netns_fd(idx, hns.as_raw_fd(), &dev.host_name, dev.mtu) {
                Ok(()) => {
                    crate::journal::forget(dev.journal_item());
                    back.push(dev.host_name.clone());
                }
                Err(e) => log::warn!("lxc.net.{}: {}", dev.net_index, e.message),
            }
        }
        Ok(back)
    });
    moved.unwrap_or_else(|e| {
        log::warn!("Failed to give physical interfaces back: {}", e.message);
        Vec::new()
    })
}

/// The arguments LXC passes to `script.up`/`script.down`: the type, the
/// host link and, for a veth, its host end.
pub fn script_args(iface: &IfacePlan) -> Vec<String> {
    let mut argv = vec![iface.kind.name().to_string(), iface.link.clone()];
    if iface.kind == NetType::Veth {
        argv.push(iface.host_name.clone());
    }
    argv
}

/// Runs the `script.up` (or `script.down`) of every interface.
pub fn run_scripts(plan: &NetPlan, hooks: &crate::hooks::Hooks, up: bool) -> Result<()> {
    for iface in &plan.ifaces {
        let script = if up {
            &iface.up_script
        } else {
            &iface.down_script
        };
        if let Some(script) = script {
            let key = format!(
                "lxc.net.{}.script.{}",
                iface.index,
                if up { "up" } else { "down" }
            );
            hooks.run_net_script(
                &key,
                script,
                if up { "up" } else { "down" },
                &script_args(iface),
            )?;
        }
    }
    Ok(())
}

/// Host routes through the host end `idx` of a veth: `veth.ipv4.route` /
/// `veth.ipv6.route`, and in router mode the container's own addresses
/// (/32, /128) plus proxy neighbours for its gateways. They go away with
/// the device.
fn route_to_container(nl: &mut Rtnl, iface: &IfacePlan, idx: u32) -> Result<()> {
    for (dest, prefix) in &iface.host_routes {
        nl.add_device_route(*dest, *prefix, idx)?;
    }
    if !iface.router {
        return Ok(());
    }
    // Proxy entries are answered only on interfaces that forward: enable it
    // on this host veth only (it goes away with the device).
    for path in [
        format!("/proc/sys/net/ipv4/conf/{}/forwarding", iface.host_name),
        format!("/proc/sys/net/ipv6/conf/{}/proxy_ndp", iface.host_name),
    ] {
        if let Err(e) = std::fs::write(&path, "1") {
            if !iface.ipv6.is_empty() || path.contains("ipv4") {
                return Err(Error::io(
                    "Failed to enable",
                    std::path::Path::new(&path),
                    &e,
                ));
            }
        }
    }
    for (addr, _, _) in &iface.ipv4 {
        nl.add_device_route(IpAddr::V4(*addr), 32, idx)?;
    }
    for (addr, _) in &iface.ipv6 {
        nl.add_device_route(IpAddr::V6(*addr), 128, idx)?;
    }
    proxy::add_gateways(nl, iface)
}

/// Moves the macvlans and physical devices into init's network namespace
/// `ns` (veth ends are created there).
pub fn move_into(plan: &NetPlan, ns: NetnsRef) -> Result<()> {
    let moving: Vec<&IfacePlan> = plan
        .ifaces
        .iter()
        .filter(|i| i.kind != NetType::Veth)
        .collect();
    if moving.is_empty() {
        return Ok(());
    }
    let mut nl = Rtnl::open()?;
    for iface in moving {
        let idx = nl.index_of(&iface.peer_name)?;
        if iface.kind == NetType::Phys {
            // Journaled before it goes: a device that is still here is
            // restored as a no-op.
            crate::journal::note(PhysDevice::of(iface).journal_item());
        }
        nl.move_to_netns(idx, ns)?;
        if iface.kind != NetType::Phys {
            // In the container now: its namespace takes it along.
            crate::journal::forget(Item::HostLink(iface.peer_name.clone()));
        }
    }
    Ok(())
}

/// Inside the container's network namespace: loopback up (if asked), then
/// every interface renamed, addressed and brought up, then the gateways.
pub fn setup_inside(plan: &NetPlan, host_gateways: &[Gateways]) -> Result<()> {
    if plan.host_netns {
        return Ok(());
    }
    configure_inside(&mut Rtnl::open()?, plan, host_gateways)
}

/// The loopback device's index in every network namespace (the kernel's
/// `LOOPBACK_IFINDEX`).
const LOOPBACK_INDEX: u32 = 1;

/// What [`setup_inside`] does, through `nl`, a socket of the container's
/// network namespace (the monitor's, for a namespace it holds).
pub fn configure_inside(nl: &mut Rtnl, plan: &NetPlan, host_gateways: &[Gateways]) -> Result<()> {
    if plan.host_netns {
        return Ok(());
    }
    if plan.loopback_up {
        nl.set_up(LOOPBACK_INDEX, true)?;
    }
    for (n, iface) in plan.ifaces.iter().enumerate() {
        let idx = nl.index_of(&iface.peer_name)?;
        if iface.peer_name != iface.name {
            nl.set_name(idx, &iface.name)?;
        }
        if let Some(mac) = iface.hwaddr {
            nl.set_hwaddr(idx, mac)?;
        }
        // A veth's ends were made with it.
        if let Some(mtu) = iface.mtu.filter(|_| iface.kind != NetType::Veth) {
            nl.set_mtu(idx, mtu)?;
        }
        for (addr, prefix, bcast) in &iface.ipv4 {
            nl.add_address(idx, IpAddr::V4(*addr), *prefix, Some(*bcast))?;
        }
        for (addr, prefix) in &iface.ipv6 {
            nl.add_address(idx, IpAddr::V6(*addr), *prefix, None)?;
        }
        if iface.up {
            nl.set_up(idx, true)?;
        }
        let (auto4, auto6) = host_gateways.get(n).copied().unwrap_or((None, None));
        set_gateway(nl, idx, iface.index, false, &iface.gateway4, auto4)?;
        set_gateway(nl, idx, iface.index, true, &iface.gateway6, auto6)?;
    }
    Ok(())
}

/// Applies `lxc.net.<index>.ipv4.gateway` (or `ipv6` when `v6`) to
/// interface `idx`; `auto` is the bridge address read on the host for
/// `GatewayPlan::Auto`.
fn set_gateway<A: Copy + Into<IpAddr>>(
    nl: &mut Rtnl,
    idx: u32,
    index: u32,
    v6: bool,
    plan: &GatewayPlan<A>,
    auto: Option<A>,
) -> Result<()> {
    match *plan {
        GatewayPlan::None => Ok(()),
        GatewayPlan::Dev => nl.add_default_route(idx, None, v6),
        GatewayPlan::Addr(a) => default_via(nl, idx, a.into()),
        GatewayPlan::Auto => {
            let (key, family) = if v6 {
                ("ipv6", "IPv6")
            } else {
                ("ipv4", "IPv4")
            };
            let gw = auto.ok_or_else(|| {
                Error::new(
                    libc::EADDRNOTAVAIL,
                    format!("lxc.net.{index}.{key}.gateway = auto: bridge has no {family} address"),
                )
            })?;
            nl.add_default_route(idx, Some(gw.into()), v6)
        }
    }
}

/// The kernel answers EOPNOTSUPP for a link kind it does not know (its
/// module not built or not loaded): say so, as the extension is advertised
/// whatever the running kernel has (as LXC).
fn unknown_link_kind(e: Error, what: &str) -> Error {
    if e.errno != libc::EOPNOTSUPP {
        return e;
    }
    Error::new(
        e.errno,
        format!("{} (this kernel has no {what} support)", e.message),
    )
}

/// A default route via `gw`; a gateway outside the interface's subnets
/// (veth router mode: a /32 address) first gets a device route, as LXC does.
fn default_via(nl: &mut Rtnl, idx: u32, gw: IpAddr) -> Result<()> {
    match nl.add_default_route(idx, Some(gw), gw.is_ipv6()) {
        Err(e) if e.errno == libc::ENETUNREACH => {
            nl.add_device_route(gw, if gw.is_ipv4() { 32 } else { 128 }, idx)?;
            nl.add_default_route(idx, Some(gw), gw.is_ipv6())
        }
        other => other,
    }
}

/// The addresses automatic gateways take, per interface (`host_gateways`).
pub type Gateways = (Option<Ipv4Addr>, Option<Ipv6Addr>);

/// For `gateway = auto`: the first IPv4/IPv6 address of each bridge, read
/// on the host before init leaves it.
pub fn host_gateways(plan: &NetPlan) -> Result<Vec<Gateways>> {
    let needs = plan
        .ifaces
        .iter()
        .any(|i| i.gateway4 == GatewayPlan::Auto || i.gateway6 == GatewayPlan::Auto);
    if !needs {
        return Ok(vec![(None, None); plan.ifaces.len()]);
    }
    let mut nl = Rtnl::open()?;
    let addrs = nl.addresses()?;
    let mut out = Vec::new();
    for iface in &plan.ifaces {
        let idx = nl.index_of(&iface.link)?;
        let v4 = addrs.iter().find_map(|(i, a, _)| match a {
            IpAddr::V4(v) if *i == idx => Some(*v),
            _ => None,
        });
        let v6 = addrs.iter().find_map(|(i, a, _)| match a {
            IpAddr::V6(v) if *i == idx && !v.is_unicast_link_local() => Some(*v),
            _ => None,
        });
        out.push((v4, v6));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_link_kind_is_named() {
        let e = unknown_link_kind(Error::new(libc::EOPNOTSUPP, "x: boom"), "ipvlan");
        assert_eq!(e.errno, libc::EOPNOTSUPP);
        assert_eq!(e.message, "x: boom (this kernel has no ipvlan support)");
        let e = unknown_link_kind(Error::new(libc::EEXIST, "x: boom"), "vlan");
        assert_eq!(e.message, "x: boom");
    }

    fn plan(lines: &str) -> Result<NetPlan> {
        let mut c = Config::new();
        c.parse_str(lines, "test").unwrap();
        NetPlan::from_config(&c)
    }

    #[test]
    fn empty_and_none() {
        let p = plan("lxc.net.0.type = empty\n").unwrap();
        assert!(p.ifaces.is_empty() && !p.host_netns && !p.loopback_up);
        // LXC brings the loopback up only for an interface with flags = up
        assert!(
            plan("lxc.net.0.type = empty\nlxc.net.0.flags = up\n")
                .unwrap()
                .loopback_up
        );
        assert!(
            !plan("lxc.net.0.type = veth\nlxc.net.0.link = br0\n")
                .unwrap()
                .loopback_up
        );
        assert_eq!(p.clone_flag(), libc::CLONE_NEWNET);
        let p = plan("lxc.net.0.type = none\n").unwrap();
        assert!(p.host_netns);
        assert_eq!(p.clone_flag(), 0);
    }

    #[test]
    fn veth_plan() {
        let p = plan(
            "lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.name = net0\nlxc.net.0.flags = up\n\
             lxc.net.0.hwaddr = 00:16:3e:aa:bb:cc\nlxc.net.0.mtu = 1400\n\
             lxc.net.0.ipv4.address = 10.1.2.3/24\nlxc.net.0.ipv4.gateway = auto\n\
             lxc.net.0.ipv6.address = fd00::3/64\nlxc.net.0.veth.pair = vhost0\n",
        )
        .unwrap();
        let i = &p.ifaces[0];
        assert_eq!(i.link, "br0");
        assert_eq!(i.name, "net0");
        assert_eq!(i.host_name, "vhost0");
        assert!(i.up);
        assert_eq!(i.hwaddr, Some([0, 0x16, 0x3e, 0xaa, 0xbb, 0xcc]));
        assert_eq!(i.mtu, Some(1400));
        assert_eq!(
            i.ipv4,
            vec![(
                "10.1.2.3".parse().unwrap(),
                24,
                "10.1.2.255".parse().unwrap()
            )]
        );
        assert_eq!(i.ipv6, vec![("fd00::3".parse().unwrap(), 64)]);
        assert_eq!(i.gateway4, GatewayPlan::Auto);
        assert_eq!(i.gateway6, GatewayPlan::None);
    }

    #[test]
    fn refusals() {
        assert_eq!(
            plan("lxc.net.0.type = veth\n").unwrap_err().errno,
            libc::EINVAL
        );
        assert_eq!(
            plan("lxc.net.0.type = phys\n").unwrap_err().errno,
            libc::EINVAL
        );
        assert_eq!(
            plan("lxc.net.0.type = vlan\n").unwrap_err().errno,
            libc::EINVAL
        );
    }

    #[test]
    fn vlan_and_ipvlan_plans() {
        let p =
            plan("lxc.net.0.type = vlan\nlxc.net.0.link = eth0\nlxc.net.0.vlan.id = 5\n").unwrap();
        assert_eq!((p.ifaces[0].kind, p.ifaces[0].vlan_id), (NetType::Vlan, 5));
        let p = plan(
            "lxc.net.0.type = ipvlan\nlxc.net.0.link = eth0\nlxc.net.0.ipvlan.mode = l3\n\
             lxc.net.0.ipvlan.isolation = private\n",
        )
        .unwrap();
        assert_eq!(p.ifaces[0].ipvlan, (1, 1));
    }

    #[test]
    fn router_mode_and_routes() {
        let p = plan(
            "lxc.net.0.type = veth\nlxc.net.0.veth.mode = router\nlxc.net.0.ipv4.address = 10.5.0.2/32\n\
             lxc.net.0.ipv4.gateway = 10.5.0.1\nlxc.net.0.veth.ipv4.route = 10.6.0.0/24\n",
        )
        .unwrap();
        let i = &p.ifaces[0];
        assert!(i.router);
        assert_eq!(i.host_routes, vec![("10.6.0.0".parse().unwrap(), 24)]);
        assert_eq!(i.gateway4, GatewayPlan::Addr("10.5.0.1".parse().unwrap()));
    }

    #[test]
    fn macvlan_and_phys_plans() {
        let p = plan(
            "lxc.net.0.type = macvlan\nlxc.net.0.link = p0\nlxc.net.0.macvlan.mode = bridge\n",
        )
        .unwrap();
        assert_eq!(p.ifaces[0].macvlan_mode, 4);
        assert_eq!(p.ifaces[0].host_name, "");
        let p =
            plan("lxc.net.0.type = phys\nlxc.net.0.link = p1\nlxc.net.0.name = inner\n").unwrap();
        assert_eq!(p.ifaces[0].kind, NetType::Phys);
        assert_eq!(p.ifaces[0].name, "inner");
    }

    #[test]
    fn veth_queues_vlans_and_l2proxy() {
        let p = plan(
            "lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.veth.n_rxqueues = 4\n\
             lxc.net.0.veth.n_txqueues = 2\nlxc.net.0.veth.vlan.id = 10\n\
             lxc.net.0.veth.vlan.tagged.id = 20\nlxc.net.0.veth.vlan.tagged.id = 30\n\
             lxc.net.0.l2proxy = 1\n",
        )
        .unwrap();
        let i = &p.ifaces[0];
        assert_eq!(i.queues, (4, 2));
        assert_eq!(i.bridge_vlan.untagged, Some(10));
        assert_eq!(i.bridge_vlan.tagged, vec![20, 30]);
        assert!(i.l2proxy);
        // unset and cleared counts: the kernel's default
        let p = plan(
            "lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.veth.n_rxqueues = 4\n\
             lxc.net.0.veth.n_rxqueues =\n",
        )
        .unwrap();
        assert_eq!(p.ifaces[0].queues, (0, 0));
        // LXC's checks: VLANs need bridge mode; the PVID cannot be tagged too
        let e = plan(
            "lxc.net.0.type = veth\nlxc.net.0.veth.mode = router\nlxc.net.0.veth.vlan.id = 5\n",
        )
        .unwrap_err();
        assert!(e.message.contains("not in bridge mode"), "{}", e.message);
        let e = plan(
            "lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.veth.vlan.id = 5\n\
             lxc.net.0.veth.vlan.tagged.id = 5\n",
        )
        .unwrap_err();
        assert_eq!(e.errno, libc::EINVAL);
    }

    #[test]
    fn names_and_macs() {
        let n = random_name("veth");
        assert_eq!(n.len(), 10);
        assert!(n.starts_with("veth"));
        assert!(parse_mac("00:11:22:33:44:zz").is_err());
        assert!(parse_mac("00:11:22").is_err());
    }
}
