//! mount(2)'s MS_* flags as the new mount API spells them: per-mount
//! attributes (fsmount, mount_setattr) and superblock options (fsconfig).

use crate::sys::mount_api::{self as api, MountAttr};

/// The mount attribute of a VFS flag, and whether it lives in the
/// access-time field (set as a whole).
pub(super) fn attr_of(flag: libc::c_ulong) -> Option<(u64, bool)> {
    Some(match flag {
        libc::MS_RDONLY => (api::MOUNT_ATTR_RDONLY, false),
        libc::MS_NOSUID => (api::MOUNT_ATTR_NOSUID, false),
        libc::MS_NODEV => (api::MOUNT_ATTR_NODEV, false),
        libc::MS_NOEXEC => (api::MOUNT_ATTR_NOEXEC, false),
        libc::MS_NODIRATIME => (api::MOUNT_ATTR_NODIRATIME, false),
        libc::MS_NOATIME => (api::MOUNT_ATTR_NOATIME, true),
        libc::MS_STRICTATIME => (api::MOUNT_ATTR_STRICTATIME, true),
        libc::MS_RELATIME => (0, true),
        _ => return None,
    })
}

/// The access-time value `flags` ask for, if any; strictatime wins over
/// noatime, which wins over relatime, as in mount(2).
fn atime(flags: libc::c_ulong) -> Option<u64> {
    [libc::MS_STRICTATIME, libc::MS_NOATIME, libc::MS_RELATIME]
        .into_iter()
        .find(|f| flags & f != 0)
        .and_then(attr_of)
        .map(|(attr, _)| attr)
}

/// The mount attributes of `flags` (fsmount's attr_flags; unset access
/// time: relatime, as for mount(2)).
pub(super) fn attrs(flags: libc::c_ulong) -> u64 {
    let single = [
        libc::MS_RDONLY,
        libc::MS_NOSUID,
        libc::MS_NODEV,
        libc::MS_NOEXEC,
        libc::MS_NODIRATIME,
    ]
    .into_iter()
    .filter(|f| flags & f != 0)
    .filter_map(attr_of)
    .fold(0, |acc, (attr, _)| acc | attr);
    single | atime(flags).unwrap_or(0)
}

/// mount_setattr arguments that give a mount exactly `flags`, as a bind
/// remount (MS_REMOUNT|MS_BIND) does: the per-mount flags not given are
/// cleared, the access time is kept unless given.
pub(super) fn remount_attr(flags: libc::c_ulong) -> MountAttr {
    let mut clear = api::MOUNT_ATTR_RDONLY
        | api::MOUNT_ATTR_NOSUID
        | api::MOUNT_ATTR_NODEV
        | api::MOUNT_ATTR_NOEXEC
        | api::MOUNT_ATTR_NODIRATIME;
    if atime(flags).is_some() {
        clear |= api::MOUNT_ATTR_ATIME_MASK;
    }
    MountAttr {
        attr_set: attrs(flags),
        attr_clr: clear,
        ..Default::default()
    }
}

/// The fsconfig flags of the superblock flags among `flags` (mount(2)
/// applies MS_RDONLY to the superblock as well as to the mount).
pub(super) fn superblock_options(flags: libc::c_ulong) -> impl Iterator<Item = &'static str> {
    [
        (libc::MS_RDONLY, "ro"),
        (libc::MS_SYNCHRONOUS, "sync"),
        (libc::MS_DIRSYNC, "dirsync"),
        (libc::MS_MANDLOCK, "mand"),
        (libc::MS_LAZYTIME, "lazytime"),
    ]
    .into_iter()
    .filter(move |(f, _)| flags & f != 0)
    .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_of_flags() {
        let base = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        assert_eq!(
            attrs(base),
            api::MOUNT_ATTR_NOSUID | api::MOUNT_ATTR_NODEV | api::MOUNT_ATTR_NOEXEC
        );
        assert_eq!(
            attrs(libc::MS_NOATIME | libc::MS_STRICTATIME),
            api::MOUNT_ATTR_STRICTATIME
        );
        // Not per-mount: left to the superblock.
        assert_eq!(attrs(libc::MS_SYNCHRONOUS | libc::MS_BIND), 0);
        let ro = remount_attr(libc::MS_RDONLY);
        assert_eq!(ro.attr_set, api::MOUNT_ATTR_RDONLY);
        assert_ne!(ro.attr_clr & api::MOUNT_ATTR_NOSUID, 0);
        assert_eq!(ro.attr_clr & api::MOUNT_ATTR_ATIME_MASK, 0);
        let noatime = remount_attr(libc::MS_NOATIME);
        assert_eq!(
            noatime.attr_clr & api::MOUNT_ATTR_ATIME_MASK,
            api::MOUNT_ATTR_ATIME_MASK
        );
        assert_eq!(
            superblock_options(libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_DIRSYNC)
                .collect::<Vec<_>>(),
            ["ro", "dirsync"]
        );
    }
}
