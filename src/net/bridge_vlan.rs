//! VLAN membership of a veth's host end on a Linux bridge
//! (`lxc.net.<i>.veth.vlan.id`, `veth.vlan.tagged.id`), as LXC applies it:
//! only on a bridge with `vlan_filtering` on; the port leaves the bridge's
//! default untagged VLAN (`default_pvid`) unless that is the one asked for,
//! joins `vlan.id` untagged as its PVID, and every tagged id tagged.
//!
//! Decisions are pure functions (unit-tested); the netlink messages are in
//! `netlink::bridge_vlan_message` (byte-tested), since this VM's kernel has
//! no CONFIG_BRIDGE_VLAN_FILTERING to run them against.

use std::path::Path;

use super::netlink::Rtnl;
use super::IfacePlan;
use crate::error::{Error, Result, ResultExt};

/// The VLAN settings of one veth.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeVlan {
    /// `veth.vlan.id`: the untagged VLAN (PVID), -1 for "none" (leave the
    /// default VLAN and join no untagged one); None when not set.
    pub untagged: Option<i32>,
    /// `veth.vlan.tagged.id`, in configuration order.
    pub tagged: Vec<u16>,
}

impl BridgeVlan {
    pub fn is_empty(&self) -> bool {
        self.untagged.is_none() && self.tagged.is_empty()
    }
}

/// LXC's configuration checks (`validate_veth`): VLANs need a veth in
/// bridge mode with a bridge, and the untagged id cannot also be tagged.
pub fn validate(index: u32, bridge_mode: bool, link: &str, vlan: &BridgeVlan) -> Result<()> {
    if vlan.is_empty() {
        return Ok(());
    }
    if !bridge_mode || link.is_empty() {
        return Err(Error::invalid(format!(
            "lxc.net.{index}: Cannot use veth vlan.id when not in bridge mode or no bridge link specified"
        )));
    }
    if let Some(id) = vlan.untagged {
        if vlan.tagged.iter().any(|t| i32::from(*t) == id) {
            return Err(Error::invalid(format!(
                "lxc.net.{index}: Cannot use same veth vlan.id \"{id}\" in vlan.tagged.id"
            )));
        }
    }
    Ok(())
}

/// One change on the bridge port, in the order LXC makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VlanStep {
    /// Leave the bridge's default untagged VLAN.
    RemoveDefault(u16),
    /// Join a VLAN, untagged as the PVID or tagged.
    Add { vid: u16, tagged: bool },
}

/// The port changes for `vlan` on a bridge whose `default_pvid` is given
/// (0: the bridge has none).
pub fn steps(vlan: &BridgeVlan, default_pvid: u16) -> Vec<VlanStep> {
    let mut out = Vec::new();
    if let Some(id) = vlan.untagged {
        if default_pvid != 0 && i32::from(default_pvid) != id {
            out.push(VlanStep::RemoveDefault(default_pvid));
        }
        if id >= 0 {
            out.push(VlanStep::Add {
                vid: id as u16,
                tagged: false,
            });
        }
    }
    out.extend(
        vlan.tagged
            .iter()
            .map(|&vid| VlanStep::Add { vid, tagged: true }),
    );
    out
}

fn bridge_attr(link: &str, attr: &str) -> std::path::PathBuf {
    Path::new("/sys/class/net")
        .join(link)
        .join("bridge")
        .join(attr)
}

fn read_attr(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| Error::io("Failed reading from", path, &e))
}

/// LXC's precondition, checked before anything is created: the bridge
/// `link` has `vlan_filtering` on (EPERM otherwise, as LXC).
pub fn check_filtering(iface: &IfacePlan) -> Result<()> {
    if iface.bridge_vlan.is_empty() {
        return Ok(());
    }
    let not_enabled = format!(
        "lxc.net.{}: vlan_filtering is not enabled on \"{}\"",
        iface.index, iface.link
    );
    // No such attribute: not a bridge, or a kernel built without
    // CONFIG_BRIDGE_VLAN_FILTERING.
    let value = read_attr(&bridge_attr(&iface.link, "vlan_filtering")).context(&not_enabled)?;
    if value != "1" {
        return Err(Error::new(libc::EPERM, not_enabled));
    }
    Ok(())
}

/// Applies the VLANs of `iface` to its host end `port` (already a port of
/// the bridge, not yet up).
pub fn apply(nl: &mut Rtnl, iface: &IfacePlan, port: u32) -> Result<()> {
    if iface.bridge_vlan.is_empty() {
        return Ok(());
    }
    check_filtering(iface)?;
    let default_pvid = if iface.bridge_vlan.untagged.is_some() {
        let text = read_attr(&bridge_attr(&iface.link, "default_pvid"))?;
        text.parse::<u16>().map_err(|_| {
            Error::invalid(format!(
                "lxc.net.{}: Failed parsing default_pvid of \"{}\"",
                iface.index, iface.link
            ))
        })?
    } else {
        0
    };
    for step in steps(&iface.bridge_vlan, default_pvid) {
        let (vid, tagged, add) = match step {
            VlanStep::RemoveDefault(vid) => (vid, false, false),
            VlanStep::Add { vid, tagged } => (vid, tagged, true),
        };
        nl.bridge_vlan(port, vid, tagged, add).map_err(|e| {
            Error::new(
                e.errno,
                format!(
                    "lxc.net.{}: {} on \"{}\"",
                    iface.index, e.message, iface.host_name
                ),
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vlan(untagged: Option<i32>, tagged: &[u16]) -> BridgeVlan {
        BridgeVlan {
            untagged,
            tagged: tagged.to_vec(),
        }
    }

    #[test]
    fn validation_as_lxc() {
        assert!(validate(0, true, "br0", &vlan(None, &[])).is_ok());
        // no VLAN settings: router mode or no bridge is fine
        assert!(validate(0, false, "", &vlan(None, &[])).is_ok());
        assert!(validate(0, true, "br0", &vlan(Some(10), &[20, 30])).is_ok());
        let e = validate(1, false, "br0", &vlan(Some(10), &[])).unwrap_err();
        assert_eq!(e.errno, libc::EINVAL);
        assert!(e.message.contains("not in bridge mode"), "{}", e.message);
        assert!(validate(1, true, "", &vlan(None, &[5])).is_err());
        let e = validate(2, true, "br0", &vlan(Some(10), &[20, 10])).unwrap_err();
        assert!(
            e.message.contains("same veth vlan.id \"10\""),
            "{}",
            e.message
        );
        // "none" never clashes with a tagged id
        assert!(validate(0, true, "br0", &vlan(Some(-1), &[1])).is_ok());
    }

    #[test]
    fn steps_as_lxc() {
        use VlanStep::*;
        // PVID 10 on a bridge whose default is 1: leave 1, join 10 untagged
        assert_eq!(
            steps(&vlan(Some(10), &[20]), 1),
            vec![
                RemoveDefault(1),
                Add {
                    vid: 10,
                    tagged: false
                },
                Add {
                    vid: 20,
                    tagged: true
                }
            ]
        );
        // the default VLAN itself: kept, re-added as PVID untagged
        assert_eq!(
            steps(&vlan(Some(1), &[]), 1),
            vec![Add {
                vid: 1,
                tagged: false
            }]
        );
        // "none": leave the default, join nothing untagged
        assert_eq!(steps(&vlan(Some(-1), &[]), 1), vec![RemoveDefault(1)]);
        // a bridge without a default VLAN
        assert_eq!(
            steps(&vlan(Some(-1), &[7]), 0),
            vec![Add {
                vid: 7,
                tagged: true
            }]
        );
        // tagged only: the default VLAN is left alone
        assert_eq!(
            steps(&vlan(None, &[3, 4]), 1),
            vec![
                Add {
                    vid: 3,
                    tagged: true
                },
                Add {
                    vid: 4,
                    tagged: true
                }
            ]
        );
    }
}
