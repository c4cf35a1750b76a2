//! `lxc.mount.auto = cgroup*` inside the container, decided as LXC 5/6
//! decide it (see lxc.container.conf(5)):
//!
//! - In a cgroup namespace, with CAP_SYS_ADMIN kept and no `:force`,
//!   nothing is mounted: the container's init mounts its cgroups itself
//!   (and a premounted tree can confuse it).
//! - `cgroup2`, or a host with the cgroup2 hierarchy alone: that
//!   hierarchy on /sys/fs/cgroup (needs a cgroup namespace).
//! - Otherwise a writable tmpfs on /sys/fs/cgroup (LXC keeps it writable
//!   for mountall) with a directory per hierarchy: in a cgroup namespace
//!   each hierarchy rooted at the container's cgroup (`mixed` is `rw`
//!   there: everything visible is the container's own); without one the
//!   host's paths, read-only but for the container's own cgroup unless
//!   `rw` asks otherwise.
//!
//! In a user namespace the container's own cgroup directories are bound
//! instead of mounting cgroup filesystems.

use std::path::PathBuf;

use super::auto::{CgroupAccess, CgroupAuto};
use super::in_root::Opened;
use super::mount_on::{self, Source};
use super::{RootfsPlan, MS_BASE};
use crate::cgroups::Hierarchy;
use crate::error::{Error, Result};

/// How the cgroups appear under /sys/fs/cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// Left to the container's init.
    Skip,
    /// The cgroup2 hierarchy on /sys/fs/cgroup itself.
    Cgroup2Root { ro: bool },
    /// A tmpfs with one directory per hierarchy.
    PerHierarchy,
}

/// LXC's decision for `auto` given the container's cgroup namespace and
/// whether the host has the cgroup2 hierarchy alone.
pub(super) fn layout(
    auto: CgroupAuto,
    force: bool,
    cgroupns: bool,
    pure_unified: bool,
) -> Result<Layout> {
    if cgroupns && !force && !pure_unified {
        return Ok(Layout::Skip);
    }
    if pure_unified || matches!(auto, CgroupAuto::Cgroup2 { .. }) {
        if !cgroupns {
            return Err(Error::new(
                libc::EOPNOTSUPP,
                "lxc.mount.auto: mounting the cgroup2 hierarchy needs a cgroup namespace \
                 (the container shares the host's)",
            ));
        }
        return Ok(Layout::Cgroup2Root {
            ro: auto.read_only(),
        });
    }
    Ok(Layout::PerHierarchy)
}

/// The directory of hierarchy `h` under /sys/fs/cgroup: its mount point's
/// name on the host ("pids", "unified").
fn hierarchy_dir_name(h: &Hierarchy) -> String {
    h.mountpoint
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unified".into())
}

impl RootfsPlan {
    pub(super) fn mount_cgroups(&self, root: &Opened) -> Result<()> {
        let Some(auto) = self.auto.cgroup else {
            return Ok(());
        };
        let pure_unified = self.hierarchies.len() == 1 && self.hierarchies[0].unified;
        match layout(auto, self.auto.cgroup_force, self.cgroupns, pure_unified)? {
            Layout::Skip => {
                log::info!(
                    "lxc.mount.auto: cgroups left to the container's init (it has a cgroup \
                     namespace and CAP_SYS_ADMIN; \":force\" mounts them)"
                );
                Ok(())
            }
            Layout::Cgroup2Root { ro } => {
                let h = self.hierarchies.iter().find(|h| h.unified).ok_or_else(|| {
                    Error::new(
                        libc::ENOENT,
                        "lxc.mount.auto: the host has no cgroup2 hierarchy to mount",
                    )
                })?;
                self.mount_own_root(h, &root.make_dirs("sys/fs/cgroup")?, ro)
            }
            Layout::PerHierarchy => {
                let base = mount_on::new_fs(
                    "tmpfs",
                    "tmpfs",
                    "size=10240k,mode=755",
                    MS_BASE,
                    &root.make_dirs("sys/fs/cgroup")?,
                )?;
                // Our fresh tmpfs: the directories are made inside it.
                for h in &self.hierarchies {
                    let dir = base.make_dirs(hierarchy_dir_name(h))?;
                    if self.cgroupns {
                        self.mount_own_root(h, &dir, auto.read_only())?;
                    } else {
                        self.mount_host_paths(h, &dir, auto)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// The container's cgroup of `h`, on the host.
    fn own_cgroup(&self, h: &Hierarchy) -> Option<&PathBuf> {
        self.own_cgroups
            .iter()
            .find(|(o, _)| o.mountpoint == h.mountpoint)
            .map(|(_, dir)| dir)
    }

    /// Hierarchy `h` on `target` as the cgroup namespace shows it: rooted
    /// at the container's cgroup.
    fn mount_own_root(&self, h: &Hierarchy, target: &Opened, ro: bool) -> Result<()> {
        let ro = if ro { libc::MS_RDONLY } else { 0 };
        if self.userns.is_some() {
            let Some(own) = self.own_cgroup(h) else {
                return Ok(());
            };
            return mount_on::bind(Source::Host(own), target, false, MS_BASE | ro).map(drop);
        }
        mount_hierarchy(h, target, MS_BASE | ro).map(drop)
    }

    /// Without a cgroup namespace: the host's path down to the
    /// container's cgroup, which alone is writable (`mixed`), or the whole
    /// hierarchy (`cgroup-full`).
    fn mount_host_paths(&self, h: &Hierarchy, dir: &Opened, auto: CgroupAuto) -> Result<()> {
        let Some(own) = self.own_cgroup(h) else {
            return Ok(());
        };
        let rel = own.strip_prefix(&h.mountpoint).map_err(|_| {
            Error::invalid(format!(
                "Cgroup {} is not below its hierarchy {}",
                own.display(),
                h.mountpoint.display()
            ))
        })?;
        let (full, access) = match auto {
            CgroupAuto::Full(a) => (true, a),
            CgroupAuto::Own(a) => (false, a),
            // layout() sends cgroup2 requests to the root.
            CgroupAuto::Cgroup2 { .. } => return Ok(()),
        };
        let tree_ro = if access == CgroupAccess::Rw {
            0
        } else {
            libc::MS_RDONLY
        };
        if full {
            let tree = if self.userns.is_some() {
                mount_on::bind(Source::Host(&h.mountpoint), dir, false, MS_BASE | tree_ro)?
            } else {
                mount_hierarchy(h, dir, MS_BASE | tree_ro)?
            };
            if access == CgroupAccess::Mixed {
                mount_on::bind(Source::Host(own), &tree.resolve(rel)?, false, MS_BASE)?;
            }
            return Ok(());
        }
        // The path is plain tmpfs directories, read-only unless `rw`.
        let own_dir = dir.make_dirs(rel)?;
        let own_target = if tree_ro != 0 {
            let ro_path =
                mount_on::bind(Source::Opened(dir), dir, false, libc::MS_RDONLY | MS_BASE)?;
            ro_path.resolve(rel)?
        } else {
            own_dir
        };
        let own_ro = if access == CgroupAccess::Ro {
            libc::MS_RDONLY
        } else {
            0
        };
        mount_on::bind(Source::Host(own), &own_target, false, MS_BASE | own_ro).map(drop)
    }
}

/// A new mount of hierarchy `h` (cgroup2, or cgroup with its controllers)
/// on `target`.
fn mount_hierarchy(h: &Hierarchy, target: &Opened, flags: libc::c_ulong) -> Result<Opened> {
    let (fstype, opts) = h.mount_data();
    mount_on::new_fs(fstype, fstype, &opts, flags, target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CgroupAccess::*;

    #[test]
    fn cgroup_namespace_leaves_it_to_init_unless_forced() {
        for auto in [
            CgroupAuto::Own(Mixed),
            CgroupAuto::Own(Rw),
            CgroupAuto::Full(Mixed),
        ] {
            assert_eq!(layout(auto, false, true, false).unwrap(), Layout::Skip);
            assert_eq!(
                layout(auto, true, true, false).unwrap(),
                Layout::PerHierarchy
            );
        }
        // Without a cgroup namespace there is no init to leave it to.
        assert_eq!(
            layout(CgroupAuto::Own(Mixed), false, false, false).unwrap(),
            Layout::PerHierarchy
        );
    }

    #[test]
    fn cgroup2_goes_on_the_root() {
        assert_eq!(
            layout(CgroupAuto::Cgroup2 { ro: true }, true, true, false).unwrap(),
            Layout::Cgroup2Root { ro: true }
        );
        // A pure cgroup2 host always mounts (LXC: distributions' inits
        // did not mount cgroup2 themselves).
        assert_eq!(
            layout(CgroupAuto::Own(Mixed), false, true, true).unwrap(),
            Layout::Cgroup2Root { ro: false }
        );
        assert_eq!(
            layout(CgroupAuto::Full(Ro), false, true, true).unwrap(),
            Layout::Cgroup2Root { ro: true }
        );
        let err = layout(CgroupAuto::Cgroup2 { ro: false }, true, false, false).unwrap_err();
        assert_eq!(err.errno, libc::EOPNOTSUPP);
        assert!(layout(CgroupAuto::Own(Rw), true, false, true).is_err());
    }
}
