//! `lxc.net.<idx>.<subkey>`: the network interface model and LXC's
//! per-interface key table (config_jump_table_net).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::model::LxcConf;
use super::validate::{complete_hwaddr, get_u16, safe_int, safe_int64_residual, safe_uint};
use super::ConfigError;

/// Interface names are copied into IFNAMSIZ (16) byte buffers.
const IFNAMSIZ: usize = 16;
/// LXC parses the subkey into a buffer of twice "veth.vlan.tagged.id".
const SUBKEY_BUF: usize = 2 * "veth.vlan.tagged.id".len();
const BRIDGE_VLAN_ID_MAX: u16 = 4094;

/// Network types, in LXC's `lxc_network_info` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetType {
    Empty,
    Veth,
    Macvlan,
    Ipvlan,
    Phys,
    Vlan,
    None,
}

impl NetType {
    pub fn name(self) -> &'static str {
        match self {
            NetType::Empty => "empty",
            NetType::Veth => "veth",
            NetType::Macvlan => "macvlan",
            NetType::Ipvlan => "ipvlan",
            NetType::Phys => "phys",
            NetType::Vlan => "vlan",
            NetType::None => "none",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "veth" => NetType::Veth,
            "macvlan" => NetType::Macvlan,
            "ipvlan" => NetType::Ipvlan,
            "vlan" => NetType::Vlan,
            "phys" => NetType::Phys,
            "empty" => NetType::Empty,
            "none" => NetType::None,
            _ => return None,
        })
    }
}

/// A gateway setting. LXC keeps "auto" and "dev" as flags next to the
/// address, and clearing only drops the address; we keep that shape
/// because it is observable ("dev" then an address still reads "dev").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway<A> {
    pub auto: bool,
    pub dev: bool,
    pub addr: Option<A>,
}

impl<A> Default for Gateway<A> {
    fn default() -> Self {
        Gateway {
            auto: false,
            dev: false,
            addr: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inet4 {
    pub addr: Ipv4Addr,
    pub prefix: u32,
    pub bcast: Ipv4Addr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inet6 {
    pub addr: Ipv6Addr,
    pub prefix: u32,
}

/// One network interface. `kind` is `None` after `lxc.net.<i>.type` was
/// cleared (LXC's type -1, shown as "(null)"/"(invalid)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDev {
    pub kind: Option<NetType>,
    pub up: bool,
    pub link: String,
    pub name: String,
    pub l2proxy: bool,
    pub hwaddr: Option<String>,
    pub mtu: Option<String>,
    pub upscript: Option<String>,
    pub downscript: Option<String>,
    pub ipv4: Vec<Inet4>,
    pub ipv4_gateway: Gateway<Ipv4Addr>,
    pub ipv6: Vec<Inet6>,
    pub ipv6_gateway: Gateway<Ipv6Addr>,
    /// Type-specific mode: veth (1 bridge, 2 router), macvlan (1,2,4,8),
    /// ipvlan (0 l2, 1 l3, 2 l3s); -1 once cleared.
    pub mode: i32,
    /// ipvlan isolation: 0 bridge, 1 private, 2 vepa; -1 once cleared.
    pub isolation: i32,
    pub veth_pair: String,
    pub veth_n_rxqueues: i32,
    pub veth_n_txqueues: i32,
    /// veth bridge VLAN: `Some(-1)` for "none".
    pub veth_vlan_id: Option<i32>,
    pub veth_vlan_tagged_ids: Vec<u16>,
    pub veth_ipv4_routes: Vec<Inet4>,
    pub veth_ipv6_routes: Vec<Inet6>,
    pub vlan_id: u16,
}

impl NetDev {
    /// A freshly allocated interface: zeroed memory in LXC, so type "empty".
    fn new() -> Self {
        NetDev {
            kind: Some(NetType::Empty),
            up: false,
            link: String::new(),
            name: String::new(),
            l2proxy: false,
            hwaddr: None,
            mtu: None,
            upscript: None,
            downscript: None,
            ipv4: Vec::new(),
            ipv4_gateway: Gateway::default(),
            ipv6: Vec::new(),
            ipv6_gateway: Gateway::default(),
            mode: 0,
            isolation: 0,
            veth_pair: String::new(),
            veth_n_rxqueues: 0,
            veth_n_txqueues: 0,
            veth_vlan_id: None,
            veth_vlan_tagged_ids: Vec::new(),
            veth_ipv4_routes: Vec::new(),
            veth_ipv6_routes: Vec::new(),
            vlan_id: 0,
        }
    }

    /// `lxc_clear_netdev`: everything reset, type invalid.
    fn cleared() -> Self {
        NetDev {
            kind: None,
            ..NetDev::new()
        }
    }
}

fn einval(msg: impl Into<String>) -> ConfigError {
    ConfigError::new(libc::EINVAL, msg)
}

/// Copies like `strlcpy` into an IFNAMSIZ buffer: silently truncated.
fn ifname(value: &str) -> String {
    let mut end = value.len().min(IFNAMSIZ - 1);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_string()
}

/// Classful prefix as LXC computes it: it tests the address in network
/// byte order with host-order macros, so on little-endian hosts the
/// *last* octet decides (10.0.0.200 -> /24, 10.0.0.5 -> /8).
fn classful_prefix(addr: Ipv4Addr) -> u32 {
    let word = u32::from_ne_bytes(addr.octets());
    if word & 0x8000_0000 == 0 {
        8
    } else if word & 0xc000_0000 == 0x8000_0000 {
        16
    } else if word & 0xe000_0000 == 0xc000_0000 {
        24
    } else {
        0
    }
}

fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    s.parse().ok()
}

fn parse_v6(s: &str) -> Option<Ipv6Addr> {
    s.parse().ok()
}

/// `inet_ntop(AF_INET6)` as glibc prints it: longest zero run (>= 2
/// words) compressed, and "::a.b.c.d" / "::ffff:a.b.c.d" for embedded IPv4.
pub fn ntop6(addr: &Ipv6Addr) -> String {
    let w = addr.segments();
    let (mut best_base, mut best_len) = (usize::MAX, 0);
    let mut i = 0;
    while i < 8 {
        if w[i] == 0 {
            let start = i;
            while i < 8 && w[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_base = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_base = usize::MAX;
    }
    let mut out = String::with_capacity(40);
    let mut i = 0;
    while i < 8 {
        if i == best_base {
            out.push(':');
            i += best_len;
            if i == 8 {
                out.push(':');
            }
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)) {
            let o = addr.octets();
            out.push_str(&format!("{}.{}.{}.{}", o[12], o[13], o[14], o[15]));
            break;
        }
        out.push_str(&format!("{:x}", w[i]));
        i += 1;
    }
    out
}

fn join_lines<I: Iterator<Item = String>>(items: I) -> String {
    items.collect::<Vec<_>>().join("\n")
}

type NetSet = fn(&mut NetDev, &str) -> Result<(), ConfigError>;
type NetGet = fn(&NetDev) -> Result<String, ConfigError>;
type NetClr = fn(&mut NetDev);

/// One per-interface key.
struct NetKey {
    name: &'static str,
    set: NetSet,
    get: NetGet,
    clr: NetClr,
}

fn require(dev: &NetDev, kind: NetType, what: &str) -> Result<(), ConfigError> {
    if dev.kind == Some(kind) {
        Ok(())
    } else {
        Err(einval(format!(
            "\"{what}\" can only be used with {} networks",
            kind.name()
        )))
    }
}

fn set_type(dev: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        *dev = NetDev::cleared();
        return Ok(());
    }
    let kind = NetType::parse(v).ok_or_else(|| einval(format!("Invalid network type {v}")))?;
    let mut fresh = NetDev::cleared();
    fresh.kind = Some(kind);
    match kind {
        NetType::Veth => fresh.mode = 1,
        NetType::Macvlan => fresh.mode = 1,
        // ipvlan mode 0 is already "l2" and isolation 0 "bridge", so LXC
        // keeps them: the default really is l2, not the documented l3.
        NetType::Ipvlan => {}
        NetType::Empty => fresh.name = "lo".to_string(),
        _ => {}
    }
    *dev = fresh;
    Ok(())
}

fn get_type(d: &NetDev) -> Result<String, ConfigError> {
    Ok(d.kind.map_or("(null)", NetType::name).to_string())
}

fn set_flags(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    // Any non-empty value means "up" to LXC, "down" included.
    d.up = !v.is_empty();
    Ok(())
}

fn set_link(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    d.link = ifname(v);
    Ok(())
}

fn set_name(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    d.name = ifname(v);
    Ok(())
}

fn set_l2proxy(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        d.l2proxy = false;
        return Ok(());
    }
    match safe_uint(v)? {
        0 => d.l2proxy = false,
        1 => d.l2proxy = true,
        _ => return Err(einval("l2proxy must be 0 or 1")),
    }
    Ok(())
}

fn set_hwaddr(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    d.hwaddr = (!v.is_empty()).then(|| complete_hwaddr(v));
    Ok(())
}

fn set_mtu(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    d.mtu = (!v.is_empty()).then(|| v.to_string());
    Ok(())
}

fn set_script_up(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    d.upscript = (!v.is_empty()).then(|| v.to_string());
    Ok(())
}

fn set_script_down(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    d.downscript = (!v.is_empty()).then(|| v.to_string());
    Ok(())
}

fn set_ipv4_address(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        d.ipv4.clear();
        return Ok(());
    }
    let bad = || einval(format!("Invalid ipv4 address \"{v}\""));
    let (addr_part, bcast) = match v.split_once(' ') {
        Some((a, b)) => (a, Some(b)),
        None => (v, None),
    };
    let (addr_str, prefix) = match addr_part.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (addr_part, None),
    };
    let addr = parse_v4(addr_str).ok_or_else(bad)?;
    let bcast = match bcast {
        Some(b) => Some(
            parse_v4(b).ok_or_else(|| einval(format!("Invalid ipv4 broadcast address \"{v}\"")))?,
        ),
        None => None,
    };
    let prefix = match prefix {
        Some(p) => safe_uint(p).map_err(|_| bad())?,
        None => classful_prefix(addr),
    };
    if prefix > 32 {
        return Err(bad());
    }
    let bcast = bcast.unwrap_or_else(|| {
        if prefix >= 31 {
            Ipv4Addr::UNSPECIFIED
        } else {
            Ipv4Addr::from(u32::from(addr) | (u32::MAX >> prefix))
        }
    });
    d.ipv4.push(Inet4 {
        addr,
        prefix,
        bcast,
    });
    Ok(())
}

fn set_ipv6_address(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        d.ipv6.clear();
        return Ok(());
    }
    let (addr_str, prefix) = match v.split_once('/') {
        // LXC does not bound the IPv6 prefix.
        Some((a, p)) => (a, safe_uint(p)?),
        None => (v, 64),
    };
    let addr =
        parse_v6(addr_str).ok_or_else(|| einval(format!("Invalid ipv6 address \"{addr_str}\"")))?;
    d.ipv6.push(Inet6 { addr, prefix });
    Ok(())
}

fn set_gateway<A>(
    gw: &mut Gateway<A>,
    v: &str,
    parse: fn(&str) -> Option<A>,
) -> Result<(), ConfigError> {
    // Parse before touching anything so that a bad address changes nothing.
    let addr = match v {
        "" | "auto" | "dev" => None,
        _ => Some(parse(v).ok_or_else(|| einval(format!("Invalid gateway address \"{v}\"")))?),
    };
    gw.addr = None;
    match v {
        "" => {}
        "auto" => gw.auto = true,
        "dev" => {
            gw.auto = false;
            gw.dev = true;
        }
        _ => {
            gw.addr = addr;
            gw.auto = false;
        }
    }
    Ok(())
}

fn set_ipv4_gateway(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    set_gateway(&mut d.ipv4_gateway, v, parse_v4)
}

fn set_ipv6_gateway(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    set_gateway(&mut d.ipv6_gateway, v, parse_v6)
}

fn get_gateway<A>(gw: &Gateway<A>, show: fn(&A) -> String) -> Result<String, ConfigError> {
    Ok(if gw.auto {
        "auto".to_string()
    } else if gw.dev {
        "dev".to_string()
    } else {
        gw.addr.as_ref().map(show).unwrap_or_default()
    })
}

fn route<A>(v: &str, max: u32, parse: fn(&str) -> Option<A>) -> Result<(A, u32), ConfigError> {
    let bad = || einval(format!("Invalid route \"{v}\""));
    let (a, p) = v.split_once('/').ok_or_else(bad)?;
    if p.is_empty() {
        return Err(bad());
    }
    let prefix = safe_uint(p).map_err(|_| bad())?;
    if prefix > max {
        return Err(bad());
    }
    Ok((parse(a).ok_or_else(bad)?, prefix))
}

fn set_veth_ipv4_route(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    require(d, NetType::Veth, "veth.ipv4.route")?;
    if v.is_empty() {
        d.veth_ipv4_routes.clear();
        return Ok(());
    }
    let (addr, prefix) = route(v, 32, parse_v4)?;
    d.veth_ipv4_routes.push(Inet4 {
        addr,
        prefix,
        bcast: Ipv4Addr::UNSPECIFIED,
    });
    Ok(())
}

fn set_veth_ipv6_route(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    require(d, NetType::Veth, "veth.ipv6.route")?;
    if v.is_empty() {
        d.veth_ipv6_routes.clear();
        return Ok(());
    }
    let (addr, prefix) = route(v, 128, parse_v6)?;
    d.veth_ipv6_routes.push(Inet6 { addr, prefix });
    Ok(())
}

fn mode_setter(
    d: &mut NetDev,
    v: &str,
    kind: NetType,
    names: &[(&str, i32)],
) -> Result<(), ConfigError> {
    require(d, kind, "mode")?;
    if v.is_empty() {
        d.mode = -1;
        return Ok(());
    }
    d.mode = names
        .iter()
        .find(|(n, _)| *n == v)
        .map(|(_, m)| *m)
        .ok_or_else(|| einval(format!("Invalid mode \"{v}\"")))?;
    Ok(())
}

const VETH_MODES: &[(&str, i32)] = &[("bridge", 1), ("router", 2)];
const MACVLAN_MODES: &[(&str, i32)] =
    &[("private", 1), ("vepa", 2), ("bridge", 4), ("passthru", 8)];
const IPVLAN_MODES: &[(&str, i32)] = &[("l3", 1), ("l3s", 2), ("l2", 0)];
const IPVLAN_ISOLATIONS: &[(&str, i32)] = &[("bridge", 0), ("private", 1), ("vepa", 2)];

fn mode_name(names: &[(&str, i32)], mode: i32) -> String {
    names
        .iter()
        .find(|(_, m)| *m == mode)
        .map_or("(invalid)", |(n, _)| n)
        .to_string()
}

fn set_veth_mode(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    mode_setter(d, v, NetType::Veth, VETH_MODES)
}

fn set_macvlan_mode(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    mode_setter(d, v, NetType::Macvlan, MACVLAN_MODES)
}

fn set_ipvlan_mode(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    mode_setter(d, v, NetType::Ipvlan, IPVLAN_MODES)
}

fn set_ipvlan_isolation(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    require(d, NetType::Ipvlan, "ipvlan.isolation")?;
    if v.is_empty() {
        d.isolation = -1;
        return Ok(());
    }
    d.isolation = IPVLAN_ISOLATIONS
        .iter()
        .find(|(n, _)| *n == v)
        .map(|(_, m)| *m)
        .ok_or_else(|| einval(format!("Invalid ipvlan isolation \"{v}\"")))?;
    Ok(())
}

fn queues(v: &str) -> Result<i32, ConfigError> {
    let n = safe_int(v).map_err(|_| einval(format!("Invalid queue count \"{v}\"")))?;
    if n <= 0 {
        return Err(einval(format!("Invalid queue count \"{v}\"")));
    }
    Ok(n)
}

fn set_veth_n_rxqueues(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    require(d, NetType::Veth, "veth.n_rxqueues")?;
    d.veth_n_rxqueues = if v.is_empty() { -1 } else { queues(v)? };
    Ok(())
}

fn set_veth_n_txqueues(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    require(d, NetType::Veth, "veth.n_txqueues")?;
    d.veth_n_txqueues = if v.is_empty() { -1 } else { queues(v)? };
    Ok(())
}

fn set_veth_pair(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    require(d, NetType::Veth, "veth.pair")?;
    d.veth_pair = ifname(v);
    Ok(())
}

fn bridge_vlan(v: &str) -> Result<u16, ConfigError> {
    let id = get_u16(v).map_err(|_| einval(format!("Invalid VLAN id \"{v}\"")))?;
    if id > BRIDGE_VLAN_ID_MAX {
        return Err(einval(format!("Invalid VLAN id \"{v}\"")));
    }
    Ok(id)
}

fn set_veth_vlan_id(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    require(d, NetType::Veth, "veth.vlan.id")?;
    d.veth_vlan_id = match v {
        "" => None,
        "none" => Some(-1),
        _ => Some(i32::from(bridge_vlan(v)?)),
    };
    Ok(())
}

fn set_veth_vlan_tagged_id(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    require(d, NetType::Veth, "veth.vlan.tagged.id")?;
    if v.is_empty() {
        d.veth_vlan_tagged_ids.clear();
    } else {
        let id = bridge_vlan(v)?;
        d.veth_vlan_tagged_ids.push(id);
    }
    Ok(())
}

fn set_vlan_id(d: &mut NetDev, v: &str) -> Result<(), ConfigError> {
    require(d, NetType::Vlan, "vlan.id")?;
    d.vlan_id = if v.is_empty() { 0 } else { get_u16(v)? };
    Ok(())
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn show4(list: &[Inet4]) -> String {
    join_lines(list.iter().map(|i| format!("{}/{}", i.addr, i.prefix)))
}

fn show6(list: &[Inet6]) -> String {
    join_lines(
        list.iter()
            .map(|i| format!("{}/{}", ntop6(&i.addr), i.prefix)),
    )
}

fn typed(
    d: &NetDev,
    kind: NetType,
    f: impl FnOnce(&NetDev) -> String,
) -> Result<String, ConfigError> {
    require(d, kind, kind.name())?;
    Ok(f(d))
}

/// The 25 subkeys, in LXC's table order (first prefix match wins there too,
/// but every entry is an exact match).
static NET_KEYS: &[NetKey] = &[
    NetKey {
        name: "flags",
        set: set_flags,
        get: |d| Ok(if d.up { "up".into() } else { String::new() }),
        clr: |d| d.up = false,
    },
    NetKey {
        name: "hwaddr",
        set: set_hwaddr,
        get: |d| Ok(opt(&d.hwaddr)),
        clr: |d| d.hwaddr = None,
    },
    NetKey {
        name: "ipv4.address",
        set: set_ipv4_address,
        get: |d| Ok(show4(&d.ipv4)),
        clr: |d| d.ipv4.clear(),
    },
    NetKey {
        name: "ipv4.gateway",
        set: set_ipv4_gateway,
        get: |d| get_gateway(&d.ipv4_gateway, |a| a.to_string()),
        clr: |d| d.ipv4_gateway.addr = None,
    },
    NetKey {
        name: "ipv6.address",
        set: set_ipv6_address,
        get: |d| Ok(show6(&d.ipv6)),
        clr: |d| d.ipv6.clear(),
    },
    NetKey {
        name: "ipv6.gateway",
        set: set_ipv6_gateway,
        get: |d| get_gateway(&d.ipv6_gateway, ntop6),
        clr: |d| d.ipv6_gateway.addr = None,
    },
    NetKey {
        name: "link",
        set: set_link,
        get: |d| Ok(d.link.clone()),
        clr: |d| d.link.clear(),
    },
    NetKey {
        name: "l2proxy",
        set: set_l2proxy,
        get: |d| Ok(u8::from(d.l2proxy).to_string()),
        clr: |d| d.l2proxy = false,
    },
    NetKey {
        name: "macvlan.mode",
        set: set_macvlan_mode,
        get: |d| typed(d, NetType::Macvlan, |d| mode_name(MACVLAN_MODES, d.mode)),
        clr: |d| {
            if d.kind == Some(NetType::Macvlan) {
                d.mode = -1
            }
        },
    },
    NetKey {
        name: "ipvlan.mode",
        set: set_ipvlan_mode,
        get: |d| typed(d, NetType::Ipvlan, |d| mode_name(IPVLAN_MODES, d.mode)),
        clr: |d| {
            if d.kind == Some(NetType::Ipvlan) {
                d.mode = -1
            }
        },
    },
    NetKey {
        name: "ipvlan.isolation",
        set: set_ipvlan_isolation,
        get: |d| {
            typed(d, NetType::Ipvlan, |d| {
                mode_name(IPVLAN_ISOLATIONS, d.isolation)
            })
        },
        clr: |d| {
            if d.kind == Some(NetType::Ipvlan) {
                d.isolation = -1
            }
        },
    },
    NetKey {
        name: "mtu",
        set: set_mtu,
        get: |d| Ok(opt(&d.mtu)),
        clr: |d| d.mtu = None,
    },
    NetKey {
        name: "name",
        set: set_name,
        get: |d| Ok(d.name.clone()),
        clr: |d| d.name.clear(),
    },
    NetKey {
        name: "script.down",
        set: set_script_down,
        get: |d| Ok(opt(&d.downscript)),
        clr: |d| d.downscript = None,
    },
    NetKey {
        name: "script.up",
        set: set_script_up,
        get: |d| Ok(opt(&d.upscript)),
        clr: |d| d.upscript = None,
    },
    NetKey {
        name: "type",
        set: set_type,
        get: get_type,
        clr: |d| *d = NetDev::cleared(),
    },
    NetKey {
        name: "vlan.id",
        set: set_vlan_id,
        get: |d| typed(d, NetType::Vlan, |d| d.vlan_id.to_string()),
        clr: |d| {
            if d.kind == Some(NetType::Vlan) {
                d.vlan_id = 0
            }
        },
    },
    NetKey {
        name: "veth.mode",
        set: set_veth_mode,
        get: |d| typed(d, NetType::Veth, |d| mode_name(VETH_MODES, d.mode)),
        clr: |d| {
            if d.kind == Some(NetType::Veth) {
                d.mode = -1
            }
        },
    },
    NetKey {
        name: "veth.n_rxqueues",
        set: set_veth_n_rxqueues,
        get: |d| {
            typed(d, NetType::Veth, |d| {
                if d.veth_n_rxqueues > 0 {
                    d.veth_n_rxqueues.to_string()
                } else {
                    String::new()
                }
            })
        },
        clr: |d| {
            if d.kind == Some(NetType::Veth) {
                d.veth_n_rxqueues = -1
            }
        },
    },
    NetKey {
        name: "veth.n_txqueues",
        set: set_veth_n_txqueues,
        get: |d| {
            typed(d, NetType::Veth, |d| {
                if d.veth_n_txqueues > 0 {
                    d.veth_n_txqueues.to_string()
                } else {
                    String::new()
                }
            })
        },
        clr: |d| {
            if d.kind == Some(NetType::Veth) {
                d.veth_n_txqueues = -1
            }
        },
    },
    NetKey {
        name: "veth.pair",
        set: set_veth_pair,
        get: |d| typed(d, NetType::Veth, |d| d.veth_pair.clone()),
        clr: |d| {
            if d.kind == Some(NetType::Veth) {
                d.veth_pair.clear()
            }
        },
    },
    NetKey {
        name: "veth.ipv4.route",
        set: set_veth_ipv4_route,
        get: |d| typed(d, NetType::Veth, |d| show4(&d.veth_ipv4_routes)),
        clr: |d| {
            if d.kind == Some(NetType::Veth) {
                d.veth_ipv4_routes.clear()
            }
        },
    },
    NetKey {
        name: "veth.ipv6.route",
        set: set_veth_ipv6_route,
        get: |d| typed(d, NetType::Veth, |d| show6(&d.veth_ipv6_routes)),
        clr: |d| {
            if d.kind == Some(NetType::Veth) {
                d.veth_ipv6_routes.clear()
            }
        },
    },
    NetKey {
        name: "veth.vlan.id",
        set: set_veth_vlan_id,
        get: |d| {
            typed(d, NetType::Veth, |d| {
                d.veth_vlan_id.map(|v| v.to_string()).unwrap_or_default()
            })
        },
        clr: |d| {
            if d.kind == Some(NetType::Veth) {
                d.veth_vlan_id = None
            }
        },
    },
    NetKey {
        name: "veth.vlan.tagged.id",
        set: set_veth_vlan_tagged_id,
        get: |d| {
            typed(d, NetType::Veth, |d| {
                join_lines(d.veth_vlan_tagged_ids.iter().map(u16::to_string))
            })
        },
        clr: |d| {
            if d.kind == Some(NetType::Veth) {
                d.veth_vlan_tagged_ids.clear()
            }
        },
    },
];

/// The per-interface subkey names (for documentation and tests).
pub fn subkey_names() -> impl Iterator<Item = &'static str> {
    NET_KEYS.iter().map(|k| k.name)
}

/// What a `lxc.net.<idx>[.<subkey>]` key resolves to.
struct NetRef<'k> {
    idx: u32,
    /// `None` when the key stops after the index.
    subkey: Option<&'k str>,
}

/// Parses "lxc.net.<idx><rest>" like `get_network_config_ops`: the index
/// is decimal, the rest must be empty or ".<subkey>" and short.
fn parse_key(key: &str) -> Result<NetRef<'_>, ConfigError> {
    let tail = key
        .strip_prefix("lxc.net.")
        .ok_or_else(|| einval(format!("Invalid network configuration key \"{key}\"")))?;
    if !tail.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return Err(einval(format!(
            "Failed to detect digit in string \"{tail}\""
        )));
    }
    let (idx, rest) = safe_int64_residual(tail, SUBKEY_BUF)?;
    if !(0..i64::from(i32::MAX)).contains(&idx) {
        return Err(ConfigError::new(
            libc::ERANGE,
            "Number of configured networks would overflow the counter",
        ));
    }
    let idx = idx as u32;
    if rest.is_empty() {
        return Ok(NetRef { idx, subkey: None });
    }
    let sub = rest
        .strip_prefix('.')
        .ok_or_else(|| einval(format!("Invalid subkey in \"{key}\"")))?;
    Ok(NetRef {
        idx,
        subkey: Some(sub),
    })
}

fn lookup(sub: &str, key: &str) -> Result<&'static NetKey, ConfigError> {
    NET_KEYS.iter().find(|k| k.name == sub).ok_or_else(|| {
        ConfigError::new(
            libc::ENOENT,
            format!("Unknown network configuration key \"{key}\""),
        )
    })
}

fn missing(key: &str) -> ConfigError {
    einval(format!("No network configured for \"{key}\""))
}

/// `set_config_jump_table_net`. An empty value clears, like LXC.
pub fn set(conf: &mut LxcConf, key: &str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty() {
        return clear(conf, key);
    }
    let r = parse_key(key)?;
    let sub = r.subkey.ok_or_else(|| {
        ConfigError::new(libc::ENOENT, format!("Missing network subkey in \"{key}\""))
    })?;
    let entry = lookup(sub, key)?;
    // Work on a copy so a failed set leaves no half-allocated interface.
    let mut dev = conf
        .netdevs
        .get(&r.idx)
        .cloned()
        .unwrap_or_else(|| Box::new(NetDev::new()));
    (entry.set)(&mut dev, value)?;
    conf.netdevs.insert(r.idx, dev);
    Ok(())
}

/// `clr_config_jump_table_net`: "lxc.net.<idx>" removes the interface.
pub fn clear(conf: &mut LxcConf, key: &str) -> Result<(), ConfigError> {
    let tail = key.strip_prefix("lxc.net.").unwrap_or("");
    if !tail.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return Err(einval(format!(
            "Invalid network configuration key \"{key}\""
        )));
    }
    if !tail.contains('.') {
        let idx = safe_uint(tail)?;
        conf.netdevs.remove(&idx);
        return Ok(());
    }
    let r = parse_key(key)?;
    let dev = conf.netdevs.get_mut(&r.idx).ok_or_else(|| missing(key))?;
    let sub = r
        .subkey
        .ok_or_else(|| ConfigError::new(libc::ENOENT, format!("Missing subkey in \"{key}\"")))?;
    (lookup(sub, key)?.clr)(dev);
    Ok(())
}

/// `get_config_jump_table_net`.
pub fn get(conf: &LxcConf, key: &str) -> Result<String, ConfigError> {
    let r = parse_key(key)?;
    let dev = conf.netdevs.get(&r.idx).ok_or_else(|| missing(key))?;
    let sub = r
        .subkey
        .ok_or_else(|| ConfigError::new(libc::ENOENT, format!("Missing subkey in \"{key}\"")))?;
    (lookup(sub, key)?.get)(dev)
}

/// `lxc_list_net`: the subkeys that make sense for this interface's type.
pub fn list_keys(conf: &LxcConf, key: &str) -> Result<Vec<String>, ConfigError> {
    let tail = key.strip_prefix("lxc.net.").unwrap_or("");
    if !tail.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return Err(einval(format!("Invalid network key \"{key}\"")));
    }
    let r = parse_key(key).map_err(|e| einval(e.message))?;
    let dev = conf.netdevs.get(&r.idx).ok_or_else(|| missing(key))?;
    let mut keys = vec!["type", "script.up", "script.down"];
    if dev.kind != Some(NetType::Empty) {
        keys.extend([
            "flags",
            "link",
            "name",
            "hwaddr",
            "mtu",
            "ipv6.address",
            "ipv6.gateway",
            "ipv4.address",
            "ipv4.gateway",
        ]);
    }
    match dev.kind {
        Some(NetType::Veth) => keys.extend([
            "veth.pair",
            "veth.ipv4.route",
            "veth.ipv6.route",
            "veth.vlan.id",
        ]),
        Some(NetType::Macvlan) => keys.push("macvlan.mode"),
        Some(NetType::Ipvlan) => keys.extend(["ipvlan.mode", "ipvlan.isolation"]),
        Some(NetType::Vlan) => keys.push("vlan.id"),
        _ => {}
    }
    Ok(keys.into_iter().map(String::from).collect())
}

/// `get_config_net` ("lxc.net"): every interface's type, one per line.
pub fn list_types(conf: &LxcConf) -> String {
    let mut out = String::new();
    for dev in conf.netdevs.values() {
        out.push_str(dev.kind.map_or("(invalid)", NetType::name));
        out.push('\n');
    }
    out
}
