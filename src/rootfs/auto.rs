//! `lxc.mount.auto` as a start resolves it: read from the configuration's
//! flags (the getter's text has no spelling for `:force` or `cgroup2`, so
//! it cannot be the source), with LXC's defaults applied.

use crate::config::model::automount as am;
use crate::error::{Error, Result};

/// Who may write below a mounted cgroup tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupAccess {
    Ro,
    Rw,
    /// Read-only except the container's own cgroup.
    Mixed,
}

/// The cgroup part of `lxc.mount.auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupAuto {
    /// `cgroup[:mixed|:ro|:rw]`: the container's own cgroups.
    Own(CgroupAccess),
    /// `cgroup-full[:mixed|:ro|:rw]`: whole hierarchies.
    Full(CgroupAccess),
    /// `cgroup2[:ro]`: the cgroup2 hierarchy alone on /sys/fs/cgroup.
    Cgroup2 { ro: bool },
}

impl CgroupAuto {
    /// Whether every cgroup mount is read-only.
    pub fn read_only(self) -> bool {
        matches!(
            self,
            CgroupAuto::Own(CgroupAccess::Ro)
                | CgroupAuto::Full(CgroupAccess::Ro)
                | CgroupAuto::Cgroup2 { ro: true }
        )
    }
}

/// What `lxc.mount.auto` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountAuto {
    /// "rw" or "mixed".
    pub proc: Option<String>,
    /// "rw", "ro" or "mixed".
    pub sys: Option<String>,
    pub cgroup: Option<CgroupAuto>,
    /// Mount the cgroups even in a cgroup namespace: `:force` was given,
    /// or the container keeps no CAP_SYS_ADMIN to mount them itself.
    pub cgroup_force: bool,
}

impl MountAuto {
    /// From LXC_AUTO_* `flags`. A cgroup mode left unspecified is `rw`
    /// when the container keeps CAP_SYS_ADMIN (it could remount a
    /// read-only part anyway) and `mixed` otherwise, as LXC decides.
    pub fn from_flags(flags: u32, has_sys_admin: bool) -> Result<MountAuto> {
        let proc = match flags & am::PROC_MASK {
            am::PROC_MIXED => Some("mixed"),
            am::PROC_RW => Some("rw"),
            _ => None,
        };
        let sys = match flags & am::SYS_MASK {
            am::SYS_MIXED => Some("mixed"),
            am::SYS_RO => Some("ro"),
            am::SYS_RW => Some("rw"),
            _ => None,
        };
        let default = if has_sys_admin {
            CgroupAccess::Rw
        } else {
            CgroupAccess::Mixed
        };
        let cgroup = match flags & am::CGROUP_MASK & !am::CGROUP_FORCE {
            0 => None,
            // The unspecified values share bits with the others: first.
            am::CGROUP_NOSPEC => Some(CgroupAuto::Own(default)),
            am::CGROUP_FULL_NOSPEC => Some(CgroupAuto::Full(default)),
            am::CGROUP_MIXED => Some(CgroupAuto::Own(CgroupAccess::Mixed)),
            am::CGROUP_RO => Some(CgroupAuto::Own(CgroupAccess::Ro)),
            am::CGROUP_RW => Some(CgroupAuto::Own(CgroupAccess::Rw)),
            am::CGROUP_FULL_MIXED => Some(CgroupAuto::Full(CgroupAccess::Mixed)),
            am::CGROUP_FULL_RO => Some(CgroupAuto::Full(CgroupAccess::Ro)),
            am::CGROUP_FULL_RW => Some(CgroupAuto::Full(CgroupAccess::Rw)),
            am::CGROUP2_RW => Some(CgroupAuto::Cgroup2 { ro: false }),
            am::CGROUP2_RO => Some(CgroupAuto::Cgroup2 { ro: true }),
            other => {
                return Err(Error::invalid(format!(
                    "Invalid lxc.mount.auto cgroup flags {other:#x}"
                )))
            }
        };
        Ok(MountAuto {
            proc: proc.map(str::to_string),
            sys: sys.map(str::to_string),
            cgroup,
            cgroup_force: cgroup.is_some() && (flags & am::CGROUP_FORCE != 0 || !has_sys_admin),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn auto(value: &str, has_sys_admin: bool) -> MountAuto {
        let mut c = Config::new();
        c.set_item("lxc.mount.auto", value).unwrap();
        MountAuto::from_flags(c.conf().auto_mounts, has_sys_admin).unwrap()
    }

    #[test]
    fn proc_and_sys() {
        let a = auto("proc:mixed sys:ro cgroup:mixed", true);
        assert_eq!(a.proc.as_deref(), Some("mixed"));
        assert_eq!(a.sys.as_deref(), Some("ro"));
        assert_eq!(a.cgroup, Some(CgroupAuto::Own(CgroupAccess::Mixed)));
        assert!(!a.cgroup_force);
        let a = auto("proc:rw sys", true);
        assert_eq!(a.proc.as_deref(), Some("rw"));
        assert_eq!(a.sys.as_deref(), Some("mixed"));
        assert_eq!(a.cgroup, None);
        assert!(!a.cgroup_force);
        assert_eq!(auto("sys:rw", true).sys.as_deref(), Some("rw"));
    }

    #[test]
    fn cgroup_modes() {
        use CgroupAccess::*;
        for (value, want) in [
            ("cgroup:ro", CgroupAuto::Own(Ro)),
            ("cgroup:rw", CgroupAuto::Own(Rw)),
            ("cgroup-full:mixed", CgroupAuto::Full(Mixed)),
            ("cgroup-full:ro", CgroupAuto::Full(Ro)),
            ("cgroup-full:rw", CgroupAuto::Full(Rw)),
        ] {
            assert_eq!(auto(value, true).cgroup, Some(want), "{value}");
        }
        assert!(auto("cgroup-full:ro", true).cgroup.unwrap().read_only());
        assert!(!auto("cgroup-full:mixed", true).cgroup.unwrap().read_only());
    }

    /// The getter drops these; the start must not.
    #[test]
    fn force_and_cgroup2_survive() {
        let a = auto("cgroup:mixed:force", true);
        assert_eq!(a.cgroup, Some(CgroupAuto::Own(CgroupAccess::Mixed)));
        assert!(a.cgroup_force);
        let a = auto("cgroup-full:ro:force", true);
        assert_eq!(a.cgroup, Some(CgroupAuto::Full(CgroupAccess::Ro)));
        assert!(a.cgroup_force);
        let a = auto("cgroup2", true);
        assert_eq!(a.cgroup, Some(CgroupAuto::Cgroup2 { ro: false }));
        assert!(a.cgroup_force);
        assert!(auto("cgroup2:ro", true).cgroup.unwrap().read_only());
    }

    /// No specifier: rw with CAP_SYS_ADMIN, mixed (and forced) without.
    #[test]
    fn unspecified_follows_sys_admin() {
        let a = auto("cgroup", true);
        assert_eq!(a.cgroup, Some(CgroupAuto::Own(CgroupAccess::Rw)));
        assert!(!a.cgroup_force);
        let a = auto("cgroup", false);
        assert_eq!(a.cgroup, Some(CgroupAuto::Own(CgroupAccess::Mixed)));
        assert!(a.cgroup_force);
        assert_eq!(
            auto("cgroup-full", true).cgroup,
            Some(CgroupAuto::Full(CgroupAccess::Rw))
        );
        assert_eq!(
            auto("cgroup-full:force", false).cgroup,
            Some(CgroupAuto::Full(CgroupAccess::Mixed))
        );
        // Nothing to force without a cgroup request.
        assert!(!auto("proc", false).cgroup_force);
    }
}
