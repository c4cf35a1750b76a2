//! Undoing the journal once the monitor and init are gone: the host's
//! neighbour entries, routes and devices, physical devices given back,
//! then the cgroups. Best effort, each step logged.

use std::os::fd::OwnedFd;

use crate::journal::{Item, Record};
use crate::net::netlink::Rtnl;
use crate::net::PhysDevice;

pub(super) fn undo(journal: Record) {
    // What was undone, by kind, for the summary (each is logged as done).
    let mut done: Vec<&'static str> = Vec::new();
    host_network(&journal.items, &mut done);
    give_phys_back(&journal.items, journal.netns, &mut done);
    cgroups(&journal.items, &mut done);
    log::warn!("Cleaned up: {}", summary(&done));
}

/// "3 cgroup(s), 2 proxy neighbour(s)", in the order first seen.
fn summary(done: &[&str]) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for d in done {
        if !kinds.contains(d) {
            kinds.push(d);
        }
    }
    if kinds.is_empty() {
        return "nothing was left".into();
    }
    kinds
        .iter()
        .map(|k| format!("{} {k}(s)", done.iter().filter(|d| *d == k).count()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a netlink failure only says the thing is gone already.
fn gone(errno: i32) -> bool {
    matches!(errno, libc::ENOENT | libc::ENODEV | libc::ESRCH)
}

fn host_network(items: &[Item], done: &mut Vec<&'static str>) {
    let wanted = items.iter().any(|i| {
        matches!(
            i,
            Item::Proxy { .. } | Item::LoRoute { .. } | Item::HostLink(_)
        )
    });
    if !wanted {
        return;
    }
    let mut nl = match Rtnl::open() {
        Ok(nl) => nl,
        Err(e) => {
            log::error!("Cannot clean up the host's network: {}", e.message);
            return;
        }
    };
    let lo = nl.index_of("lo").ok();
    for item in items {
        let (kind, what, result) = match item {
            Item::Proxy { ip, dev, ifindex } => (
                "proxy neighbour",
                format!("{ip} on {dev}"),
                nl.del_proxy_neighbour(*ip, *ifindex),
            ),
            Item::LoRoute { ip, prefix } => match lo {
                Some(lo) => (
                    "loopback route",
                    format!("{ip}/{prefix}"),
                    nl.del_device_route(*ip, *prefix, lo),
                ),
                None => continue,
            },
            Item::HostLink(name) => match nl.index_of(name) {
                Ok(idx) => ("host device", name.clone(), nl.delete_link(idx)),
                Err(_) => continue,
            },
            _ => continue,
        };
        match result {
            Ok(()) => {
                log::info!("Removed the {kind} {what}");
                done.push(kind);
            }
            Err(e) if gone(e.errno) => {}
            Err(e) => log::error!("Failed to remove the {kind} {what}: {}", e.message),
        }
    }
}

fn give_phys_back(items: &[Item], netns: Option<OwnedFd>, done: &mut Vec<&'static str>) {
    let phys: Vec<PhysDevice> = items
        .iter()
        .filter_map(|i| match i {
            Item::Phys(dev) => Some(dev.clone()),
            _ => None,
        })
        .collect();
    if phys.is_empty() {
        return;
    }
    let Some(netns) = netns else {
        log::error!(
            "Cannot give physical devices back: no hold on the container's network namespace"
        );
        return;
    };
    let host = match std::fs::File::open("/proc/self/ns/net") {
        Ok(f) => OwnedFd::from(f),
        Err(e) => {
            log::error!("Cannot open the host's network namespace: {e}");
            return;
        }
    };
    for name in crate::net::restore_phys_devices(&phys, &netns, &host) {
        log::info!("Gave the physical device {name} back to the host");
        done.push("physical device");
    }
    // The last hold: the namespace and what else was in it go now.
    drop(netns);
}

fn cgroups(items: &[Item], done: &mut Vec<&'static str>) {
    // Newest first: a cgroup before the parents made for it.
    for item in items.iter().rev() {
        let (dir, removed) = match item {
            Item::Cgroup(dir) if dir.exists() => {
                crate::cgroups::remove_tree(dir);
                (dir, !dir.exists())
            }
            // Only if empty: anything else in it is not the container's.
            Item::CgroupParent(dir) => (dir, std::fs::remove_dir(dir).is_ok()),
            _ => continue,
        };
        if removed {
            log::info!("Removed cgroup {}", dir.display());
            done.push("cgroup");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_by_kind() {
        assert_eq!(summary(&[]), "nothing was left");
        assert_eq!(
            summary(&[
                "proxy neighbour",
                "cgroup",
                "proxy neighbour",
                "cgroup",
                "cgroup"
            ]),
            "2 proxy neighbour(s), 3 cgroup(s)"
        );
    }
}
