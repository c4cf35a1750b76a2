//! Proxy neighbour entries: the host answers ARP (IPv4) and NDP (IPv6) on
//! a device for addresses that live in the container. Two users:
//!
//! - veth router mode: the container's gateways on the host end of the
//!   veth (they go away with the device);
//! - `lxc.net.<i>.l2proxy`: the container's own addresses on its `link`
//!   (a host device that stays, so they are removed when the container
//!   stops), with LXC's sysctl preconditions and, for ipvlan, its routes
//!   to the loopback device.

use std::net::IpAddr;

use super::netlink::Rtnl;
use super::{GatewayPlan, IfacePlan, NetPlan};
use crate::config::NetType;
use crate::error::{Error, Result};

/// One proxy entry: answer for `ip` on the host device `dev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyEntry {
    pub ip: IpAddr,
    pub dev: String,
}

/// ipvlan mode l3s (LXC's `ipvlan.mode` value).
const IPVLAN_L3S: u16 = 2;

/// Router mode: the gateways, on the host end of the veth.
fn gateway_entries(iface: &IfacePlan) -> Vec<ProxyEntry> {
    if !iface.router {
        return Vec::new();
    }
    let v4 = match iface.gateway4 {
        GatewayPlan::Addr(gw) => Some(IpAddr::V4(gw)),
        _ => None,
    };
    let v6 = match iface.gateway6 {
        GatewayPlan::Addr(gw) => Some(IpAddr::V6(gw)),
        _ => None,
    };
    v4.into_iter()
        .chain(v6)
        .map(|ip| ProxyEntry {
            ip,
            dev: iface.host_name.clone(),
        })
        .collect()
}

fn wants_l2proxy(iface: &IfacePlan) -> bool {
    iface.l2proxy && !iface.link.is_empty()
}

/// The container's addresses.
fn addresses(iface: &IfacePlan) -> impl Iterator<Item = IpAddr> + '_ {
    iface
        .ipv4
        .iter()
        .map(|(a, _, _)| IpAddr::V4(*a))
        .chain(iface.ipv6.iter().map(|(a, _)| IpAddr::V6(*a)))
}

/// `l2proxy`: the container's addresses, on `link`.
pub fn l2proxy_entries(iface: &IfacePlan) -> Vec<ProxyEntry> {
    if !wants_l2proxy(iface) {
        return Vec::new();
    }
    addresses(iface)
        .map(|ip| ProxyEntry {
            ip,
            dev: iface.link.clone(),
        })
        .collect()
}

/// ipvlan with `l2proxy`: host routes of the container's addresses to the
/// loopback device, which LXC adds so the host answers for them.
pub fn loopback_routes(iface: &IfacePlan) -> Vec<(IpAddr, u8)> {
    if !wants_l2proxy(iface) || iface.kind != NetType::Ipvlan {
        return Vec::new();
    }
    addresses(iface)
        .map(|ip| (ip, if ip.is_ipv4() { 32 } else { 128 }))
        .collect()
}

fn sysctl_is_on(path: &str) -> bool {
    // LXC compares the first byte with "1".
    std::fs::read(path).is_ok_and(|v| v.first() == Some(&b'1'))
}

/// LXC's preconditions of `l2proxy`, checked before anything is created:
/// IPv4 addresses need `net.ipv4.conf.<link>.forwarding=1`, IPv6 ones
/// `net.ipv6.conf.<link>.proxy_ndp=1` and `forwarding=1`; an ipvlan must
/// be in l3s mode. EINVAL with LXC's wording otherwise.
pub fn check_l2proxy(iface: &IfacePlan) -> Result<()> {
    if !wants_l2proxy(iface) {
        return Ok(());
    }
    let link = &iface.link;
    let mut needed = Vec::new();
    if !iface.ipv4.is_empty() {
        needed.push(("ipv4", "forwarding"));
    }
    if !iface.ipv6.is_empty() {
        needed.extend([("ipv6", "proxy_ndp"), ("ipv6", "forwarding")]);
    }
    for (family, key) in needed {
        if !sysctl_is_on(&format!("/proc/sys/net/{family}/conf/{link}/{key}")) {
            return Err(Error::invalid(format!(
                "lxc.net.{}.l2proxy: Requires sysctl net.{family}.conf.{link}.{key}=1",
                iface.index
            )));
        }
    }
    if iface.kind == NetType::Ipvlan && iface.ipvlan.0 != IPVLAN_L3S {
        return Err(Error::invalid(format!(
            "lxc.net.{}.l2proxy: Requires ipvlan mode on dev \"{link}\" be l3s when used with l2proxy",
            iface.index
        )));
    }
    Ok(())
}

/// Adds `entries` (replacing any equal one), calling `added` after each
/// with the index of its device.
pub fn add(
    nl: &mut Rtnl,
    entries: &[ProxyEntry],
    mut added: impl FnMut(&ProxyEntry, u32),
) -> Result<()> {
    for e in entries {
        let idx = nl.index_of(&e.dev)?;
        nl.add_proxy_neighbour(e.ip, idx)?;
        added(e, idx);
    }
    Ok(())
}

/// The sentinel's record of an entry on the device with index `ifindex`.
pub fn journal_item(e: &ProxyEntry, ifindex: u32) -> crate::journal::Item {
    crate::journal::Item::Proxy {
        ip: e.ip,
        dev: e.dev.clone(),
        ifindex,
    }
}

/// Removes `entries`, best effort: a device or entry already gone is
/// fine; other failures are logged.
pub fn remove(nl: &mut Rtnl, entries: &[ProxyEntry]) {
    for e in entries {
        let Ok(idx) = nl.index_of(&e.dev) else {
            continue;
        };
        crate::journal::forget(journal_item(e, idx));
        match nl.del_proxy_neighbour(e.ip, idx) {
            Err(err) if err.errno != libc::ENOENT => {
                log::warn!(
                    "Failed to remove the l2proxy entry {} on {}: {}",
                    e.ip,
                    e.dev,
                    err.message
                )
            }
            _ => {}
        }
    }
}

/// Once init runs: the kernel drops proxy neighbour entries when a device's
/// carrier goes down, and the host veth end reports its carrier (down
/// until the container brings its end up) through the deferred link
/// watcher, which may run after we added them. Add the router-mode
/// gateways again now that the container's end is up, and the `l2proxy`
/// entries too: `link` may be a bridge, whose carrier follows its ports
/// (this container's included). An existing entry is replaced, not
/// duplicated.
pub fn refresh_proxies(plan: &NetPlan) -> Result<()> {
    let entries: Vec<ProxyEntry> = plan
        .ifaces
        .iter()
        .flat_map(|i| gateway_entries(i).into_iter().chain(l2proxy_entries(i)))
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    add(&mut Rtnl::open()?, &entries, |_, _| {})
}

/// Router mode, once the host end exists: its gateway entries.
pub fn add_gateways(nl: &mut Rtnl, iface: &IfacePlan) -> Result<()> {
    add(nl, &gateway_entries(iface), |_, _| {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn iface(lines: &str) -> IfacePlan {
        let mut c = Config::new();
        c.parse_str(lines, "test").unwrap();
        NetPlan::from_config(&c).unwrap().ifaces.remove(0)
    }

    #[test]
    fn l2proxy_entries_are_the_addresses_on_link() {
        let i = iface(
            "lxc.net.0.type = macvlan\nlxc.net.0.link = p0\nlxc.net.0.l2proxy = 1\n\
             lxc.net.0.ipv4.address = 10.1.0.5/24\nlxc.net.0.ipv6.address = fd00::5/64\n",
        );
        assert_eq!(
            l2proxy_entries(&i),
            vec![
                ProxyEntry {
                    ip: "10.1.0.5".parse().unwrap(),
                    dev: "p0".into()
                },
                ProxyEntry {
                    ip: "fd00::5".parse().unwrap(),
                    dev: "p0".into()
                }
            ]
        );
        assert!(loopback_routes(&i).is_empty());
        assert!(gateway_entries(&i).is_empty());
        let off = iface(
            "lxc.net.0.type = macvlan\nlxc.net.0.link = p0\nlxc.net.0.ipv4.address = 10.1.0.5/24\n",
        );
        assert!(l2proxy_entries(&off).is_empty());
    }

    #[test]
    fn ipvlan_l2proxy_needs_l3s_and_routes_to_lo() {
        let mut i = iface(
            "lxc.net.0.type = ipvlan\nlxc.net.0.link = p0\nlxc.net.0.l2proxy = 1\n\
             lxc.net.0.ipvlan.mode = l3s\nlxc.net.0.ipv6.address = fd00::7/64\n",
        );
        assert_eq!(loopback_routes(&i), vec![("fd00::7".parse().unwrap(), 128)]);
        i.ipv6.clear();
        i.ipvlan.0 = 1;
        // no addresses: no sysctl needed, but the mode still is
        let e = check_l2proxy(&i).unwrap_err();
        assert_eq!(e.errno, libc::EINVAL);
        assert!(e.message.contains("be l3s"), "{}", e.message);
    }

    #[test]
    fn missing_sysctls_are_named() {
        let i = iface(
            "lxc.net.0.type = veth\nlxc.net.0.link = nosuchlink0\nlxc.net.0.l2proxy = 1\n\
             lxc.net.0.ipv4.address = 10.1.0.5/24\n",
        );
        let e = check_l2proxy(&i).unwrap_err();
        assert_eq!(
            e.message,
            "lxc.net.0.l2proxy: Requires sysctl net.ipv4.conf.nosuchlink0.forwarding=1"
        );
        let mut i6 = i.clone();
        i6.ipv4.clear();
        i6.ipv6 = vec![("fd00::1".parse().unwrap(), 64)];
        assert!(check_l2proxy(&i6)
            .unwrap_err()
            .message
            .ends_with("net.ipv6.conf.nosuchlink0.proxy_ndp=1"));
    }

    #[test]
    fn router_gateways_on_the_host_end() {
        let mut i = iface(
            "lxc.net.0.type = veth\nlxc.net.0.veth.mode = router\nlxc.net.0.ipv4.address = 10.5.0.2/32\n\
             lxc.net.0.ipv4.gateway = 10.5.0.1\n",
        );
        i.host_name = "vethX".into();
        assert_eq!(
            gateway_entries(&i),
            vec![ProxyEntry {
                ip: "10.5.0.1".parse().unwrap(),
                dev: "vethX".into()
            }]
        );
    }
}
