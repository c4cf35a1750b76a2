//! The container's filesystem view, built inside its new mount namespace
//! before pivot_root: mount.auto proc and sys, mount entries, mount.auto
//! cgroups (`cgroupfs`), autodev /dev, devpts, console and ttys. Runs in the container's init
//! process (single-threaded, before exec).
//!
//! The rootfs' content is the container's, hostile or not: every path
//! below it is opened inside it as the container sees it (`in_root`) and
//! mounted on through that descriptor (`mount_on`), never looked up again.

pub mod auto;
mod cgroupfs;
pub mod entry;
mod in_root;
mod mount_on;
pub mod options;
mod vfs_flags;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

pub use auto::{CgroupAccess, CgroupAuto, MountAuto};
pub use entry::MountEntry;
pub use in_root::Opened;
pub use options::{IdmapSource, RootfsOptions};

use crate::cgroups::Hierarchy;
use crate::error::{Error, Result, ResultExt};
use mount_on::Source;

const MS_BASE: libc::c_ulong = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

/// Everything the rootfs setup needs, computed before the container starts.
#[derive(Debug, Clone, Default)]
pub struct RootfsPlan {
    pub rootfs: PathBuf,
    /// A rootfs mounted on `rootfs` (overlay, loop) instead of binding it on itself.
    pub mount: Option<crate::storage::RootfsMount>,
    pub auto: MountAuto,
    pub entries: Vec<MountEntry>,
    pub autodev: bool,
    pub autodev_tmpfs_size: u64,
    pub pty_max: u32,
    pub hierarchies: Vec<Hierarchy>,
    /// The container's own cgroup directory of each hierarchy (its limit
    /// cgroup), for `lxc.mount.auto = cgroup*`.
    pub own_cgroups: Vec<(Hierarchy, PathBuf)>,
    /// Whether init has its own cgroup namespace (rooted at its cgroup).
    pub cgroupns: bool,
    /// Set when init runs in a user namespace (`lxc.idmap`).
    pub userns: Option<UsernsRootfs>,
    /// `lxc.rootfs.options` of a directory rootfs.
    pub options: RootfsOptions,
}

/// The console and ttys bound onto the container's /dev: paths of host
/// pty slaves, known once the monitor allocated them (after init's clone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerminalNames {
    /// Bound onto /dev/console.
    pub console: Option<String>,
    /// Bound onto /dev/tty1.. in order.
    pub ttys: Vec<String>,
}

/// Inside a user namespace: what replaces the mounts it may not make
/// (cgroups are bound from `RootfsPlan::own_cgroups` instead of mounted).
#[derive(Debug, Clone, Default)]
pub struct UsernsRootfs {
    /// Whether gid 5 (tty) is mapped: devpts gets `gid=5` only then.
    pub tty_gid_mapped: bool,
}

/// Asks the monitor to idmap a detached tree: (tree, user namespace,
/// recursive).
pub type IdmapRequest<'a> = dyn FnMut(BorrowedFd<'_>, BorrowedFd<'_>, bool) -> Result<()> + 'a;

/// The rootfs must be a directory init can reach; the error names the real
/// cause (EACCES when the container's root may not traverse a parent,
/// typically `<lxcpath>/<name>` not given to a mapped root).
fn check_rootfs_dir(root: &Path) -> Result<()> {
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::new(
            libc::ENOTDIR,
            format!("Rootfs {} is not a directory", root.display()),
        )),
        Err(e) => Err(Error::io("Failed to reach the rootfs", root, &e)),
    }
}

impl RootfsPlan {
    /// Runs every step in LXC's order, the console and ttys `terminals`
    /// gives (asked for only then) bound last; the rootfs
    /// ends up mounted on itself ready for pivot_root. Calls `hook` with
    /// "mount" once every mount is done and with "autodev" before /dev is
    /// filled (LXC's
    /// `lxc.hook.mount` and `lxc.hook.autodev` points). `idmapped` is the
    /// detached idmapped rootfs the monitor built (`idmap=` in
    /// `lxc.rootfs.options`), attached on `rootfs` instead of a bind.
    /// `idmap` has the monitor idmap the detached tree of a mount entry
    /// with `idmap=` to a user namespace (tree, user namespace, recursive).
    pub fn setup_with(
        &self,
        idmapped: Option<&OwnedFd>,
        terminals: &mut dyn FnMut() -> Result<TerminalNames>,
        hook: &mut dyn FnMut(&str) -> Result<()>,
        idmap: &mut IdmapRequest<'_>,
    ) -> Result<()> {
        // Nothing we mount may propagate back to the host.
        crate::sys::make_rslave()
            .map_err(|e| Error::io("Failed to make a recursive slave of", Path::new("/"), &e))?;
        let root = &self.rootfs;
        check_rootfs_dir(root)?;
        match (&self.mount, idmapped) {
            (Some(m), _) => m.mount(root)?,
            (None, Some(tree)) => crate::sys::mount_api::move_mount_to(tree.as_fd(), root)?,
            (None, None) => {
                crate::sys::mount(
                    Some(&root.to_string_lossy()),
                    root,
                    None,
                    libc::MS_BIND | libc::MS_REC,
                    None,
                )?;
                self.options.apply(root)?;
            }
        }
        // Opened once mounted: below it, every path is the container's.
        let root = Opened::root(&self.rootfs)?;
        if self.autodev {
            self.mount_dev_tmpfs(&root)?;
        }
        self.mount_proc(&root)?;
        self.mount_sys(&root)?;
        // As LXC, the idmapped entries after all the others.
        let plain = self.entries.iter().filter(|e| e.idmap.is_none());
        let idmapped_entries = self.entries.iter().filter(|e| e.idmap.is_some());
        for entry in plain.chain(idmapped_entries) {
            if let Err(e) = self.mount_entry(&root, entry, idmap) {
                if entry.optional {
                    log::info!(
                        "Skipping optional mount entry {}: {}",
                        entry.target,
                        e.message
                    );
                } else {
                    return Err(e);
                }
            }
        }
        // After the entries, as LXC: they may provide /sys.
        self.mount_cgroups(&root)?;
        hook("mount")?;
        if self.autodev {
            hook("autodev")?;
        }
        // A hook may have mounted over the rootfs: open it again.
        let root = Opened::root(&self.rootfs)?;
        if self.autodev {
            self.fill_dev(&root)?;
        }
        self.mount_devpts(&root)?;
        self.bind_console_and_ttys(&root, &terminals()?)
    }

    fn mount_dev_tmpfs(&self, root: &Opened) -> Result<()> {
        let size = if self.autodev_tmpfs_size > 0 {
            self.autodev_tmpfs_size
        } else {
            500_000
        };
        mount_on::new_fs(
            "tmpfs",
            "none",
            &format!("size={size},mode=755"),
            libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_STRICTATIME,
            &root.make_dirs("dev")?,
        )
        .map(drop)
    }

    fn mount_proc(&self, root: &Opened) -> Result<()> {
        let Some(mode) = &self.auto.proc else {
            return Ok(());
        };
        let proc_fs = mount_on::new_fs("proc", "proc", "", MS_BASE, &root.make_dirs("proc")?)?;
        if mode == "mixed" {
            // /proc/sys read-only except the network sysctls of the
            // container's own network namespace; no sysrq from inside.
            let sys = proc_fs.resolve("sys")?;
            // Opened before sys goes read-only: the writable original.
            let net = proc_fs.resolve("sys/net")?;
            let sys_ro =
                mount_on::bind(Source::Opened(&sys), &sys, false, libc::MS_RDONLY | MS_BASE)?;
            mount_on::bind(Source::Opened(&net), &sys_ro.resolve("net")?, false, 0)?;
            // Kernels without CONFIG_MAGIC_SYSRQ have no trigger to guard.
            if let Some(trigger) = proc_fs.try_resolve("sysrq-trigger")? {
                mount_on::bind(
                    Source::Opened(&trigger),
                    &trigger,
                    false,
                    libc::MS_RDONLY | MS_BASE,
                )?;
            }
        }
        Ok(())
    }

    fn mount_sys(&self, root: &Opened) -> Result<()> {
        let Some(mode) = &self.auto.sys else {
            return Ok(());
        };
        let sysfs = mount_on::new_fs("sysfs", "sysfs", "", MS_BASE, &root.make_dirs("sys")?)?;
        if mode == "mixed" {
            // Writable only where the container's own network devices live.
            let net = sysfs.resolve("devices/virtual/net")?;
            mount_on::bind(Source::Opened(&net), &net, false, 0)?;
            mount_on::set_flags(&sysfs, libc::MS_RDONLY | MS_BASE)?;
        } else if mode == "ro" {
            mount_on::set_flags(&sysfs, libc::MS_RDONLY | MS_BASE)?;
        }
        Ok(())
    }

    fn mount_entry(
        &self,
        root: &Opened,
        e: &MountEntry,
        idmap: &mut IdmapRequest<'_>,
    ) -> Result<()> {
        let source = if e.source.is_empty() {
            "none"
        } else {
            &e.source
        };
        // `relative`: the source is a path of the rootfs, opened there.
        let source_in_root = e.relative.then(|| root.resolve(source)).transpose()?;
        let target = match root.try_resolve(&e.target)? {
            Some(target) => target,
            None => {
                let source_is_file = match &source_in_root {
                    Some(s) => s.file_type()? == libc::S_IFREG,
                    None => Path::new(source).is_file(),
                };
                if e.create_file || (e.is_bind() && source_is_file) {
                    root.make_file(&e.target)?
                } else {
                    root.make_dirs(&e.target)?
                }
            }
        };
        let base = e.flags & !entry::PROPAGATION;
        let mounted = if e.is_bind() {
            let source = match &source_in_root {
                Some(s) => Source::Opened(s),
                None => Source::Host(Path::new(source)),
            };
            let rest = base & !(libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT);
            let recursive = base & libc::MS_REC != 0;
            match &e.idmap {
                None => mount_on::bind(source, &target, recursive, rest)?,
                Some(which) => {
                    let userns = match which {
                        // Init's own, seen through the host's /proc.
                        IdmapSource::Container => Path::new("/proc/self/ns/user"),
                        IdmapSource::Path(p) => p.as_path(),
                    };
                    let ns = options::open_userns(userns)
                        .context(format_args!("lxc.mount.entry {}", e.target))?;
                    mount_on::bind_prepared(source, &target, recursive, rest, &mut |tree| {
                        idmap(tree, ns.as_fd(), recursive)
                            .context(format_args!("lxc.mount.entry {}", e.target))
                    })?
                }
            }
        } else if base & libc::MS_REMOUNT != 0 {
            let data = (!e.data.is_empty()).then_some(e.data.as_str());
            let fstype = (e.fstype != "none").then_some(e.fstype.as_str());
            mount_on::remount(&target, source, fstype, base, data)?;
            target
        } else {
            // A rootfs file as the source (an image, a device): through
            // its descriptor, which the kernel follows.
            let source = match &source_in_root {
                Some(s) => crate::sys::at::proc_fd_path(s.fd())
                    .to_string_lossy()
                    .into_owned(),
                None => source.to_string(),
            };
            mount_on::new_fs(&e.fstype, &source, &e.data, base, &target)?
        };
        if e.flags & entry::PROPAGATION != 0 {
            mount_on::set_propagation(&mounted, e.flags)?;
        }
        Ok(())
    }

    /// The standard device nodes of an autodev /dev.
    fn fill_dev(&self, root: &Opened) -> Result<()> {
        const NODES: &[(&str, u32, u32)] = &[
            ("null", 1, 3),
            ("zero", 1, 5),
            ("full", 1, 7),
            ("random", 1, 8),
            ("urandom", 1, 9),
            ("tty", 5, 0),
        ];
        // Our own tmpfs, which nothing but this start has seen: each name
        // is made in it directly, with no lookup from the root.
        let dev = root.resolve("dev")?;
        // SAFETY: umask has no preconditions; restored right after.
        let old = unsafe { libc::umask(0) };
        let made = NODES.iter().try_for_each(|(name, major, minor)| {
            if self.userns.is_none() {
                return dev.mknod_in(name, libc::S_IFCHR | 0o666, *major, *minor);
            }
            // No mknod in a user namespace: the host's node, bound.
            let node = format!("dev/{name}");
            if root.try_resolve(&node)?.is_some() {
                return Ok(());
            }
            let host = Path::new("/dev").join(name);
            mount_on::bind(Source::Host(&host), &root.make_file(&node)?, false, 0).map(drop)
        });
        // SAFETY: as above.
        unsafe { libc::umask(old) };
        made?;
        for (link, to) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            dev.symlink_in(link, to)?;
        }
        Ok(())
    }

    fn mount_devpts(&self, root: &Opened) -> Result<()> {
        let max = if self.pty_max > 0 {
            format!(",max={}", self.pty_max)
        } else {
            String::new()
        };
        let gid = if self.userns.as_ref().is_some_and(|u| !u.tty_gid_mapped) {
            ""
        } else {
            ",gid=5"
        };
        let pts = mount_on::new_fs(
            "devpts",
            "devpts",
            &format!("newinstance,ptmxmode=0666,mode=0620{gid}{max}"),
            libc::MS_NOSUID | libc::MS_NOEXEC,
            &root.make_dirs("dev/pts")?,
        )?;
        // The container's /dev/ptmx must be its own devpts instance's.
        match root.link_type("dev/ptmx")? {
            Some(libc::S_IFLNK) => Ok(()),
            Some(_) => mount_on::bind(
                Source::Opened(&pts.resolve("ptmx")?),
                &root.resolve("dev/ptmx")?,
                false,
                0,
            )
            .map(drop),
            None => root.symlink("dev/ptmx", "pts/ptmx"),
        }
    }

    fn bind_console_and_ttys(&self, root: &Opened, terminals: &TerminalNames) -> Result<()> {
        let console = (terminals.console.iter()).map(|pty| ("console".to_string(), pty));
        let ttys =
            (terminals.ttys.iter().enumerate()).map(|(i, pty)| (format!("tty{}", i + 1), pty));
        // An autodev /dev is our own tmpfs: a missing target is made in it
        // directly; one already there (a hook's) is looked up from the root.
        let dev = if self.autodev {
            Some(root.resolve("dev")?)
        } else {
            None
        };
        for (name, host_pty) in console.chain(ttys) {
            let made = match &dev {
                Some(dev) => dev.new_file_in(&name)?,
                None => None,
            };
            let target = match made {
                Some(target) => target,
                None => root.make_file(format!("dev/{name}"))?,
            };
            mount_on::bind(Source::Host(Path::new(host_pty)), &target, false, 0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootfs_errors_name_the_cause() {
        let base = std::env::temp_dir().join(format!("lxc-rootfs-check-{}", std::process::id()));
        std::fs::create_dir_all(&base).unwrap();
        assert!(check_rootfs_dir(&base).is_ok());
        let e = check_rootfs_dir(&base.join("missing")).unwrap_err();
        assert_eq!(e.errno, libc::ENOENT);
        assert!(e.message.contains("missing"), "{}", e.message);
        let file = base.join("file");
        std::fs::write(&file, "").unwrap();
        assert_eq!(check_rootfs_dir(&file).unwrap_err().errno, libc::ENOTDIR);
        // Below a file: the kernel's ENOTDIR, not "does not exist".
        assert_eq!(
            check_rootfs_dir(&file.join("rootfs")).unwrap_err().errno,
            libc::ENOTDIR
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
}
