//! Network queries of a running container (`get_interfaces`, `get_ips`),
//! answered from inside its network namespace.
//!
//! LXC forks the caller for these; a fork of a threaded caller may deadlock
//! in the child. The network namespace is per thread, so we enter it from a
//! short-lived thread of our own and never fork.

use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};

use super::Container;
use crate::error::{Error, Result};
use crate::net::netlink::{Link, Rtnl};
use crate::sys::nsthread::{in_namespace, Ns};

fn in_netns<T: Send + 'static>(
    pid: i32,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    in_namespace(pid, Ns::Net, f)
}

/// Filters addresses as LXC's `get_ips` does: by interface (all but `lo`
/// when None), family ("inet"/"inet6"), and for IPv6 by scope id (0 =
/// global; a link-local address's scope id is its interface index).
pub fn select_ips(
    links: &[Link],
    addrs: &[(u32, IpAddr, u8)],
    interface: Option<&str>,
    family: Option<&str>,
    scope: i32,
) -> Vec<String> {
    let name_of = |idx: u32| {
        links
            .iter()
            .find(|l| l.index == idx)
            .map(|l| l.name.as_str())
            .unwrap_or("")
    };
    let mut out = Vec::new();
    for (idx, ip, _) in addrs {
        let name = name_of(*idx);
        match interface {
            Some(i) if i != name => continue,
            None if name == "lo" => continue,
            _ => {}
        }
        match ip {
            IpAddr::V4(_) => {
                if family.is_some_and(|f| f != "inet") {
                    continue;
                }
            }
            IpAddr::V6(v6) => {
                if family.is_some_and(|f| f != "inet6") {
                    continue;
                }
                let scope_id = if v6.is_unicast_link_local() {
                    *idx as i32
                } else {
                    0
                };
                if scope_id != scope {
                    continue;
                }
            }
        }
        out.push(ip.to_string());
    }
    out
}

impl Container {
    /// Interface names inside the container, each once, in index order.
    pub fn get_interfaces(&self) -> Result<Vec<String>> {
        let pid = self.running_init_pid()?;
        in_netns(pid, || {
            let mut names: Vec<String> = Vec::new();
            for l in Rtnl::open()?.links()? {
                if !names.contains(&l.name) {
                    names.push(l.name);
                }
            }
            Ok(names)
        })
    }

    pub fn get_ips(
        &self,
        interface: Option<&str>,
        family: Option<&str>,
        scope: i32,
    ) -> Result<Vec<String>> {
        let pid = self.running_init_pid()?;
        let (links, addrs) = in_netns(pid, || {
            let mut nl = Rtnl::open()?;
            Ok((nl.links()?, nl.addresses()?))
        })?;
        Ok(select_ips(&links, &addrs, interface, family, scope))
    }
}

impl Container {
    /// Moves the host interface `dev` into the running container, named
    /// `dst` there (default: the same name). Taken down first, as LXC does.
    pub fn attach_interface(&self, dev: &str, dst: Option<&str>) -> Result<()> {
        let pid = self.running_init_pid()?;
        let mut nl = Rtnl::open()?;
        let idx = nl.index_of(dev)?;
        nl.set_up(idx, false)?;
        nl.move_to_pid_netns_named(idx, pid, dst.unwrap_or(dev))
    }

    /// Gives the container's interface `dev` back to the caller's network
    /// namespace, named `dst` there (default: the same name).
    pub fn detach_interface(&self, dev: &str, dst: Option<&str>) -> Result<()> {
        let pid = self.running_init_pid()?;
        let host: OwnedFd = std::fs::File::open("/proc/thread-self/ns/net")
            .map_err(|e| {
                Error::io(
                    "Failed to open",
                    std::path::Path::new("/proc/thread-self/ns/net"),
                    &e,
                )
            })?
            .into();
        let (dev, dst) = (dev.to_string(), dst.unwrap_or(dev).to_string());
        in_netns(pid, move || {
            let mut nl = Rtnl::open()?;
            let idx = nl.index_of(&dev)?;
            nl.set_up(idx, false)?;
            nl.move_to_netns_fd(idx, host.as_raw_fd(), &dst, None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_selection_as_lxc() {
        let links = vec![
            Link {
                index: 1,
                name: "lo".into(),
            },
            Link {
                index: 6,
                name: "net0".into(),
            },
        ];
        let addrs = vec![
            (1, "127.0.0.1".parse().unwrap(), 8),
            (6, "10.0.0.2".parse().unwrap(), 24),
            (1, "::1".parse().unwrap(), 128),
            (6, "fd00::2".parse().unwrap(), 64),
            (6, "fe80::1".parse().unwrap(), 64),
        ];
        assert_eq!(
            select_ips(&links, &addrs, None, None, 0),
            ["10.0.0.2", "fd00::2"]
        );
        assert_eq!(
            select_ips(&links, &addrs, None, Some("inet"), 0),
            ["10.0.0.2"]
        );
        assert_eq!(
            select_ips(&links, &addrs, None, Some("inet6"), 6),
            ["fe80::1"]
        );
        assert_eq!(
            select_ips(&links, &addrs, Some("lo"), None, 0),
            ["127.0.0.1", "::1"]
        );
        assert!(select_ips(&links, &addrs, Some("eth9"), None, 0).is_empty());
    }
}
