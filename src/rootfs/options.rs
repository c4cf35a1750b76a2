//! `lxc.rootfs.options` for a directory rootfs: the mount attributes of
//! its bind mount (ro, nosuid, nodev, noexec, atime) and LXC's
//! `idmap=container|<userns path>`, which mounts the rootfs as an
//! idmapped mount so a rootfs owned by host ids appears owned by the
//! container's ids without chowning it.
//!
//! The idmapped mount is built by the monitor in the host's user
//! namespace (only it may idmap the host's filesystem), detached
//! (open_tree + mount_setattr), once init's user namespace has its maps;
//! init receives the descriptor and attaches it (move_mount).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::vfs_flags::attr_of;
use crate::error::{Error, Result, ResultExt};
use crate::sys::mount_api::{self as api, MountAttr};

/// Which user namespace an idmapped rootfs follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdmapSource {
    /// `idmap=container`: the container's own.
    Container,
    /// `idmap=<path>`: a user namespace file (/proc/<pid>/ns/user or a
    /// bind mount of one).
    Path(PathBuf),
}

impl IdmapSource {
    /// The value of LXC's `idmap=` option (rootfs options, mount entries).
    pub fn parse(value: &str, key: &str) -> Result<IdmapSource> {
        match value {
            "" => Err(Error::invalid(format!(
                "{key}: idmap= needs \"container\" or a user namespace path"
            ))),
            "container" => Ok(IdmapSource::Container),
            p => Ok(IdmapSource::Path(PathBuf::from(p))),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootfsOptions {
    pub idmap: Option<IdmapSource>,
    /// mount_setattr attributes to set and to clear on the rootfs mount.
    pub attr_set: u64,
    pub attr_clr: u64,
}

impl RootfsOptions {
    /// Parses the value of `lxc.rootfs.options` (the setter already
    /// refused LXC's entry-only options and a missing idmap path).
    /// Filesystem-specific and other options do not apply to a bind mount
    /// and are ignored, as LXC does for a directory rootfs.
    pub fn parse(value: &str) -> Result<RootfsOptions> {
        let mut o = RootfsOptions::default();
        for opt in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Some(path) = opt.strip_prefix("idmap=") {
                o.idmap = Some(IdmapSource::parse(path, "lxc.rootfs.options")?);
                continue;
            }
            let Some((flag, clear)) = super::entry::flag_option(opt) else {
                log::info!("lxc.rootfs.options: ignoring \"{opt}\" for a directory rootfs");
                continue;
            };
            match attr_of(flag) {
                Some((bits, true)) if !clear => {
                    o.attr_clr |= api::MOUNT_ATTR_ATIME_MASK;
                    o.attr_set = (o.attr_set & !api::MOUNT_ATTR_ATIME_MASK) | bits;
                }
                Some((bits, false)) if clear => {
                    o.attr_set &= !bits;
                    o.attr_clr |= bits;
                }
                Some((bits, false)) => {
                    o.attr_clr &= !bits;
                    o.attr_set |= bits;
                }
                _ => log::info!("lxc.rootfs.options: ignoring \"{opt}\" for a directory rootfs"),
            }
        }
        Ok(o)
    }

    fn attr(&self) -> MountAttr {
        MountAttr {
            attr_set: self.attr_set,
            attr_clr: self.attr_clr,
            ..Default::default()
        }
    }

    /// Applies the attributes to the rootfs bind mount at `root` (and the
    /// mounts below it), in init's mount namespace.
    pub fn apply(&self, root: &Path) -> Result<()> {
        if self.attr_set == 0 && self.attr_clr == 0 {
            return Ok(());
        }
        let dir = std::fs::File::options()
            .read(true)
            .custom_flags_path()
            .open(root)
            .map_err(|e| Error::io("Failed to open rootfs", root, &e))?;
        api::set_attr(
            dir.as_fd(),
            true,
            &self.attr(),
            &format!("Failed to apply lxc.rootfs.options to {}", root.display()),
        )
    }
}

trait PathOnly {
    fn custom_flags_path(&mut self) -> &mut Self;
}

impl PathOnly for std::fs::OpenOptions {
    fn custom_flags_path(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
    }
}

/// The ns file of a user namespace, checked so that a wrong path gets a
/// precise error rather than the kernel's EINVAL.
pub fn open_userns(path: &Path) -> Result<OwnedFd> {
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
    // A namespace file is a regular file (nsfs); a FIFO would block start.
    let file =
        crate::sys::open_regular(path, libc::O_RDONLY).context("Failed to open user namespace")?;
    // SAFETY: an ioctl without argument on a descriptor we hold.
    let kind = unsafe { libc::ioctl(file.as_raw_fd(), NS_GET_NSTYPE) };
    if kind != libc::CLONE_NEWUSER {
        return Err(Error::invalid(format!(
            "idmap={} is not a user namespace",
            path.display()
        )));
    }
    Ok(OwnedFd::from(file))
}

/// Refuses the caller's own user namespace (the monitor's: the host's),
/// where an idmapped mount would map nothing.
fn refuse_own_userns(userns: BorrowedFd<'_>) -> Result<()> {
    let ours = std::fs::metadata("/proc/self/ns/user").ok();
    let theirs = userns
        .try_clone_to_owned()
        .and_then(|fd| std::fs::File::from(fd).metadata())
        .ok();
    if let (Some(a), Some(b)) = (ours, theirs) {
        if (a.dev(), a.ino()) == (b.dev(), b.ino()) {
            return Err(Error::invalid(
                "the user namespace is the host's own (an idmapped mount needs another one)",
            ));
        }
    }
    Ok(())
}

/// Idmaps the detached mount `tree` (and the mounts below it when
/// `recursive`) to the user namespace `userns` with `attr`'s other
/// attributes; `what` names the mount in the error, which explains the
/// kernel's usual refusals. Runs in the monitor (the host's user
/// namespace): only it is privileged over the host's filesystems.
pub fn idmap_tree(
    tree: BorrowedFd<'_>,
    userns: BorrowedFd<'_>,
    recursive: bool,
    attr: MountAttr,
    what: &str,
) -> Result<()> {
    let attr = MountAttr {
        attr_set: attr.attr_set | api::MOUNT_ATTR_IDMAP,
        userns_fd: userns.as_raw_fd() as u64,
        ..attr
    };
    let why = |errno: i32| {
        match errno {
        libc::EINVAL => " (its filesystem, or one mounted below it, does not support idmapped mounts)",
        libc::EPERM => " (only a process privileged over that filesystem may idmap it, and a mount that is already idmapped cannot be idmapped again)",
        libc::ENOSYS => " (this kernel has no mount_setattr)",
        _ => "",
    }
    };
    refuse_own_userns(userns)
        .and_then(|()| {
            api::set_attr(tree, recursive, &attr, "idmap").map_err(|e| {
                Error::new(
                    e.errno,
                    format!(
                        "{}{}",
                        std::io::Error::from_raw_os_error(e.errno),
                        why(e.errno)
                    ),
                )
            })
        })
        .context(format_args!(
            "Failed to create the idmapped mount of {what}"
        ))
}

/// The idmapped copy of the rootfs at `rootfs` (its submounts included),
/// following the user namespace `userns`, with the options' attributes;
/// slave, so nothing mounted inside reaches the host. Runs in the monitor.
pub fn idmapped_tree(rootfs: &Path, userns: &Path, opts: &RootfsOptions) -> Result<OwnedFd> {
    let ns = open_userns(userns).context("lxc.rootfs.options")?;
    let tree = api::open_tree_clone(rootfs, true)?;
    let attr = MountAttr {
        propagation: libc::MS_SLAVE,
        ..opts.attr()
    };
    let what = format!(
        "the rootfs {} for user namespace {}",
        rootfs.display(),
        userns.display()
    );
    idmap_tree(tree.as_fd(), ns.as_fd(), true, attr, &what)?;
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_and_idmap() {
        let o = RootfsOptions::parse("ro,nosuid,idmap=container").unwrap();
        assert_eq!(o.idmap, Some(IdmapSource::Container));
        assert_eq!(o.attr_set, api::MOUNT_ATTR_RDONLY | api::MOUNT_ATTR_NOSUID);
        assert_eq!(o.attr_clr, 0);
        let o = RootfsOptions::parse("idmap=/proc/7/ns/user,noatime,size=1m").unwrap();
        assert_eq!(o.idmap, Some(IdmapSource::Path("/proc/7/ns/user".into())));
        assert_eq!(o.attr_set, api::MOUNT_ATTR_NOATIME);
        assert_eq!(o.attr_clr, api::MOUNT_ATTR_ATIME_MASK);
        // Later options win.
        let o = RootfsOptions::parse("ro,rw,exec").unwrap();
        assert_eq!(o.attr_set, 0);
        assert_eq!(o.attr_clr, api::MOUNT_ATTR_RDONLY | api::MOUNT_ATTR_NOEXEC);
        assert_eq!(RootfsOptions::parse("").unwrap(), RootfsOptions::default());
        assert!(RootfsOptions::parse("idmap=").is_err());
    }
}
