//! Mounts made onto targets opened inside the rootfs ([`Opened`]): each is
//! built detached (open_tree for a bind, fsopen/fsmount for a new
//! filesystem), given its flags, then attached with move_mount onto the
//! target's descriptor, so no path is looked up between the check and the
//! mount. The mount made is returned as an [`Opened`] too: later steps look
//! up paths inside it (proc/sys, a cgroup tmpfs) without going through
//! the rootfs again.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use super::entry::PROPAGATION;
use super::in_root::Opened;
use super::vfs_flags;
use crate::error::{Error, Result, ResultExt};
use crate::sys::mount_api::{self as api, MountAttr};

/// What a bind mount binds.
pub(super) enum Source<'a> {
    /// A host path (the host's configuration: looked up by its rules).
    Host(&'a Path),
    /// Something opened inside the rootfs (or inside a mount made there).
    Opened(&'a Opened),
}

fn attach(tree: OwnedFd, target: &Opened) -> Result<Opened> {
    let shown = target.shown().to_path_buf();
    api::move_mount_onto(tree.as_fd(), target.fd(), &shown.display().to_string())?;
    Ok(Opened::mount(tree, shown))
}

/// `source` bound on `target` (`recursive`: with the mounts below it).
/// A bind ignores mount(2)'s other flags: non-zero `flags` are then given
/// to the new mount as a bind remount would (before it is attached).
pub(super) fn bind(
    source: Source,
    target: &Opened,
    recursive: bool,
    flags: libc::c_ulong,
) -> Result<Opened> {
    bind_prepared(source, target, recursive, flags, &mut |_| Ok(()))
}

/// [`bind`], with `prepare` given the detached tree first (an idmapped
/// mount entry has it idmapped there).
pub(super) fn bind_prepared(
    source: Source,
    target: &Opened,
    recursive: bool,
    flags: libc::c_ulong,
    prepare: &mut dyn FnMut(BorrowedFd<'_>) -> Result<()>,
) -> Result<Opened> {
    let tree = match source {
        Source::Host(path) => api::open_tree_clone(path, recursive)?,
        Source::Opened(o) => {
            api::open_tree_clone_at(Some(o.fd()), Path::new(""), recursive).context(
                format_args!("Failed to clone the mount tree of {}", o.shown().display()),
            )?
        }
    };
    prepare(tree.as_fd())?;
    if flags != 0 {
        api::set_attr(
            tree.as_fd(),
            false,
            &vfs_flags::remount_attr(flags),
            &format!(
                "Failed to set flags {flags:#x} on the bind mount for {}",
                target.shown().display()
            ),
        )?;
    }
    attach(tree, target)
}

/// A new `fstype` filesystem from `source` with mount(2)'s `data` and
/// `flags` (MS_RDONLY and the other superblock flags apply to the
/// filesystem as well as to the mount, as with mount(2)), on `target`.
pub(super) fn new_fs(
    fstype: &str,
    source: &str,
    data: &str,
    flags: libc::c_ulong,
    target: &Opened,
) -> Result<Opened> {
    let options: Vec<(String, Option<String>)> =
        std::iter::once(("source".to_string(), Some(source.to_string())))
            .chain(api::data_options(data))
            .chain(vfs_flags::superblock_options(flags).map(|o| (o.to_string(), None)))
            .collect();
    let tree = api::new_fs(fstype, &options, vfs_flags::attrs(flags)).context(format_args!(
        "Failed to mount {source} (type {fstype}, data \"{data}\") on {}",
        target.shown().display()
    ))?;
    attach(tree, target)
}

/// Gives the attached `mount` exactly the per-mount `flags`, as a bind
/// remount does.
pub(super) fn set_flags(mount: &Opened, flags: libc::c_ulong) -> Result<()> {
    api::set_attr(
        mount.fd(),
        false,
        &vfs_flags::remount_attr(flags),
        &format!(
            "Failed to set flags {flags:#x} on the mount on {}",
            mount.shown().display()
        ),
    )
}

/// The propagation among `flags` (MS_SHARED, MS_SLAVE...; with MS_REC for
/// the mounts below too) on the attached `mount`.
pub(super) fn set_propagation(mount: &Opened, flags: libc::c_ulong) -> Result<()> {
    let attr = MountAttr {
        propagation: flags & PROPAGATION,
        ..Default::default()
    };
    api::set_attr(
        mount.fd(),
        flags & libc::MS_REC != 0,
        &attr,
        &format!(
            "Failed to change the propagation of the mount on {}",
            mount.shown().display()
        ),
    )
}

/// mount(2) with MS_REMOUNT of the mount `target` is the root of (a
/// mount point crossed when it was opened), through its descriptor.
pub(super) fn remount(
    target: &Opened,
    source: &str,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> Result<()> {
    let path = crate::sys::at::proc_fd_path(target.fd());
    crate::sys::mount(Some(source), &path, fstype, flags, data).map_err(|e| {
        Error::new(
            e.errno,
            format!("{} (the mount on {})", e.message, target.shown().display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::os::unix::process::CommandExt;
    use std::path::PathBuf;

    const IN_MOUNT_NS: &str = "LXC_TEST_IN_MOUNT_NS";

    /// Runs the test `name` again in a child process with a private mount
    /// namespace (mounts need one, and a test runner is multithreaded);
    /// true when the caller is that child and should do the work.
    fn in_private_mount_ns(name: &str, scratch: &Path) -> bool {
        if std::env::var_os(IN_MOUNT_NS).is_some() {
            return true;
        }
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env(IN_MOUNT_NS, scratch);
        // SAFETY: unshare_rslave makes raw syscalls only.
        unsafe { child.pre_exec(crate::sys::unshare_rslave) };
        let status = child.status().unwrap();
        assert!(
            status.success(),
            "{name} in a private mount namespace: {status}"
        );
        false
    }

    fn scratch(tag: &str) -> PathBuf {
        match std::env::var_os(IN_MOUNT_NS) {
            Some(dir) => PathBuf::from(dir),
            None => crate::test_support::scratch_dir(&format!("mount-on-{tag}"))
                .canonicalize()
                .unwrap(),
        }
    }

    /// A bind on an absolute symlink and a tmpfs on a `..` path land
    /// inside the rootfs, with their flags; the host's paths are untouched.
    #[test]
    fn mounts_land_inside_the_rootfs() {
        let d = scratch("inside");
        if !in_private_mount_ns("rootfs::mount_on::tests::mounts_land_inside_the_rootfs", &d) {
            let host_data = d.join("data");
            assert!(!host_data.exists());
            std::fs::remove_dir_all(&d).unwrap();
            return;
        }
        let rootfs = d.join("rootfs");
        let src = d.join("src");
        std::fs::create_dir_all(rootfs.join("mnt")).unwrap();
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("marker"), "m").unwrap();
        // Points at a host path: inside the rootfs it is <rootfs><d>/data.
        symlink(d.join("data"), rootfs.join("mnt/link")).unwrap();
        let root = Opened::root(&rootfs).unwrap();
        let target = root.make_dirs("mnt/link").unwrap();
        let bound = bind(Source::Host(&src), &target, false, libc::MS_RDONLY).unwrap();
        let inside = rootfs.join(d.strip_prefix("/").unwrap()).join("data");
        assert_eq!(std::fs::read_to_string(inside.join("marker")).unwrap(), "m");
        let err = std::fs::write(inside.join("new"), "x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EROFS));
        set_flags(&bound, 0).unwrap();
        std::fs::write(inside.join("new"), "x").unwrap();
        set_propagation(&bound, libc::MS_PRIVATE).unwrap();

        let tmp = new_fs(
            "tmpfs",
            "none",
            "size=1m,mode=700",
            libc::MS_NOSUID,
            &root.make_dirs("../../x").unwrap(),
        )
        .unwrap();
        // SAFETY: statfs into a struct on our stack.
        let magic = unsafe {
            let mut st: libc::statfs = std::mem::zeroed();
            let p = crate::sys::cpath(&rootfs.join("x")).unwrap();
            assert_eq!(libc::statfs(p.as_ptr(), &mut st), 0);
            st.f_type
        };
        assert_eq!(magic, libc::TMPFS_MAGIC);
        assert_eq!(tmp.file_type().unwrap(), libc::S_IFDIR);
        // A bind from inside a mount just made.
        let sub = tmp.make_dirs("sub").unwrap();
        bind(
            Source::Opened(&root.resolve("mnt").unwrap()),
            &sub,
            false,
            0,
        )
        .unwrap();
        assert!(rootfs.join("x/sub/link").symlink_metadata().is_ok());
        assert!(new_fs("tmpfs", "none", "bogus", 0, &sub).is_err());
    }
}
