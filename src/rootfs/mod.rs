//! The container's filesystem view, built inside its new mount namespace
//! before pivot_root: mount.auto proc and sys, mount entries, mount.auto
//! cgroups (`cgroupfs`), autodev /dev, devpts, console and ttys. Runs in the container's init
//! process (single-threaded, before exec).

pub mod auto;
mod cgroupfs;
pub mod entry;
pub mod options;

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::symlink;
use std::path::{Component, Path, PathBuf};

pub use auto::{CgroupAccess, CgroupAuto, MountAuto};
pub use entry::MountEntry;
pub use options::{IdmapSource, RootfsOptions};

use crate::cgroups::Hierarchy;
use crate::error::{Error, Result};
use crate::sys::{mknod, mount};

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
    /// Host pty slave bound onto /dev/console.
    pub console: Option<String>,
    /// Host pty slaves bound onto /dev/tty1.. in order.
    pub ttys: Vec<String>,
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

/// Inside a user namespace: what replaces the mounts it may not make
/// (cgroups are bound from `RootfsPlan::own_cgroups` instead of mounted).
#[derive(Debug, Clone, Default)]
pub struct UsernsRootfs {
    /// Whether gid 5 (tty) is mapped: devpts gets `gid=5` only then.
    pub tty_gid_mapped: bool,
}

/// Resolves `relative` inside `root` without leaving it through `..` or a
/// symlink planted in the rootfs: every existing prefix must canonicalize
/// to a path under the canonical root. The prefix built so far is
/// canonical, so only a component that is a symlink needs resolving
/// (one lstat per component instead of a realpath of the whole prefix).
pub fn resolve_inside(root: &Path, relative: &str) -> Result<PathBuf> {
    let root = root
        .canonicalize()
        .map_err(|e| Error::io("Failed to resolve rootfs", root, &e))?;
    let mut path = root.clone();
    for component in Path::new(relative.trim_start_matches('/')).components() {
        match component {
            Component::Normal(c) => path.push(c),
            Component::CurDir => {}
            _ => {
                return Err(Error::invalid(format!(
                    "Mount target \"{relative}\" leaves the rootfs"
                )))
            }
        }
        let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            // A directory or file (canonical already), or nothing yet.
            continue;
        }
        if let Ok(real) = path.canonicalize() {
            if !real.starts_with(&root) {
                return Err(Error::new(
                    libc::ELOOP,
                    format!(
                        "Mount target \"{relative}\" resolves to {} outside the rootfs {} (symlink in the container)",
                        real.display(),
                        root.display()
                    ),
                ));
            }
            path = real;
        }
    }
    Ok(path)
}

fn mkdir_p(path: &Path) -> Result<()> {
    crate::sys::mkdir_p(path, "directory")
}

fn touch(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        mkdir_p(parent)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map(drop)
        .map_err(|e| Error::io("Failed to create file", path, &e))
}

/// Remounts an existing mount point read-only (the mount, not the superblock).
fn remount_ro(target: &Path, extra: libc::c_ulong) -> Result<()> {
    mount(
        None,
        target,
        None,
        libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | extra,
        None,
    )
}

fn bind(source: &Path, target: &Path, recursive: bool) -> Result<()> {
    let flags = libc::MS_BIND | if recursive { libc::MS_REC } else { 0 };
    mount(Some(&source.to_string_lossy()), target, None, flags, None)
}

impl RootfsPlan {
    /// Runs every step in LXC's order; the rootfs ends up mounted on itself
    /// ready for pivot_root.
    pub fn setup(&self) -> Result<()> {
        self.setup_with(None, &mut |_| Ok(()))
    }

    /// [`RootfsPlan::setup`], calling `hook` with "mount" once every mount
    /// is done and with "autodev" before /dev is filled (LXC's
    /// `lxc.hook.mount` and `lxc.hook.autodev` points). `idmapped` is the
    /// detached idmapped rootfs the monitor built (`idmap=` in
    /// `lxc.rootfs.options`), attached on `rootfs` instead of a bind.
    pub fn setup_with(
        &self,
        idmapped: Option<&OwnedFd>,
        hook: &mut dyn FnMut(&str) -> Result<()>,
    ) -> Result<()> {
        // Nothing we mount may propagate back to the host.
        crate::sys::make_rslave()
            .map_err(|e| Error::io("Failed to make a recursive slave of", Path::new("/"), &e))?;
        let root = &self.rootfs;
        if !root.is_dir() {
            return Err(Error::new(
                libc::ENOENT,
                format!(
                    "Rootfs {} does not exist or is not a directory",
                    root.display()
                ),
            ));
        }
        match (&self.mount, idmapped) {
            (Some(m), _) => m.mount(root)?,
            (None, Some(tree)) => crate::sys::mount_api::move_mount_to(tree.as_fd(), root)?,
            (None, None) => {
                bind(root, root, true)?;
                self.options.apply(root)?;
            }
        }
        if self.autodev {
            self.mount_dev_tmpfs()?;
        }
        self.mount_proc()?;
        self.mount_sys()?;
        for entry in &self.entries {
            if let Err(e) = self.mount_entry(entry) {
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
        self.mount_cgroups()?;
        hook("mount")?;
        if self.autodev {
            hook("autodev")?;
            self.fill_dev()?;
        }
        self.mount_devpts()?;
        self.bind_console_and_ttys()
    }

    fn mount_dev_tmpfs(&self) -> Result<()> {
        let dev = resolve_inside(&self.rootfs, "dev")?;
        mkdir_p(&dev)?;
        let size = if self.autodev_tmpfs_size > 0 {
            self.autodev_tmpfs_size
        } else {
            500_000
        };
        mount(
            Some("none"),
            &dev,
            Some("tmpfs"),
            libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_STRICTATIME,
            Some(&format!("size={size},mode=755")),
        )
    }

    fn mount_proc(&self) -> Result<()> {
        let Some(mode) = &self.auto.proc else {
            return Ok(());
        };
        let proc_dir = resolve_inside(&self.rootfs, "proc")?;
        mkdir_p(&proc_dir)?;
        mount(Some("proc"), &proc_dir, Some("proc"), MS_BASE, None)?;
        if mode == "mixed" {
            // /proc/sys read-only except the network sysctls of the
            // container's own network namespace; no sysrq from inside.
            let sys = proc_dir.join("sys");
            bind(&sys, &sys, false)?;
            let net = sys.join("net");
            bind(&net, &net, false)?;
            remount_ro(&sys, MS_BASE)?;
            // Kernels without CONFIG_MAGIC_SYSRQ have no trigger to guard.
            let trigger = proc_dir.join("sysrq-trigger");
            if trigger.exists() {
                bind(&trigger, &trigger, false)?;
                remount_ro(&trigger, MS_BASE)?;
            }
        }
        Ok(())
    }

    fn mount_sys(&self) -> Result<()> {
        let Some(mode) = &self.auto.sys else {
            return Ok(());
        };
        let sys = resolve_inside(&self.rootfs, "sys")?;
        mkdir_p(&sys)?;
        mount(Some("sysfs"), &sys, Some("sysfs"), MS_BASE, None)?;
        if mode == "mixed" {
            // Writable only where the container's own network devices live.
            let net = sys.join("devices/virtual/net");
            bind(&net, &net, false)?;
            remount_ro(&sys, MS_BASE)?;
        } else if mode == "ro" {
            remount_ro(&sys, MS_BASE)?;
        }
        Ok(())
    }

    fn mount_entry(&self, e: &MountEntry) -> Result<()> {
        let target = resolve_inside(&self.rootfs, &e.target)?;
        if !target.exists() {
            if e.create_file || (e.is_bind() && Path::new(&e.source).is_file()) {
                touch(&target)?;
            } else {
                mkdir_p(&target)?;
            }
        }
        let base = e.flags & !entry::PROPAGATION;
        let source = if e.source.is_empty() {
            "none"
        } else {
            &e.source
        };
        let data = (!e.data.is_empty()).then_some(e.data.as_str());
        let fstype = (e.fstype != "none" && !e.is_bind()).then_some(e.fstype.as_str());
        if e.is_bind() {
            mount(
                Some(source),
                &target,
                None,
                base & (libc::MS_BIND | libc::MS_REC),
                None,
            )?;
            // A bind mount ignores the other flags: apply them by remounting.
            let rest = base & !(libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT);
            if rest != 0 {
                mount(
                    None,
                    &target,
                    None,
                    libc::MS_REMOUNT | libc::MS_BIND | rest,
                    None,
                )?;
            }
        } else {
            mount(Some(source), &target, fstype, base, data)?;
        }
        if e.flags & entry::PROPAGATION != 0 {
            mount(
                None,
                &target,
                None,
                e.flags & (entry::PROPAGATION | libc::MS_REC),
                None,
            )?;
        }
        Ok(())
    }

    /// The standard device nodes of an autodev /dev.
    fn fill_dev(&self) -> Result<()> {
        let dev = resolve_inside(&self.rootfs, "dev")?;
        const NODES: &[(&str, u32, u32)] = &[
            ("null", 1, 3),
            ("zero", 1, 5),
            ("full", 1, 7),
            ("random", 1, 8),
            ("urandom", 1, 9),
            ("tty", 5, 0),
        ];
        // SAFETY: umask has no preconditions; restored right after.
        let old = unsafe { libc::umask(0) };
        let made = NODES.iter().try_for_each(|(name, major, minor)| {
            let p = dev.join(name);
            if p.exists() {
                return Ok(());
            }
            if self.userns.is_some() {
                // No mknod in a user namespace: the host's node, bound.
                touch(&p)?;
                return bind(&Path::new("/dev").join(name), &p, false);
            }
            mknod(&p, libc::S_IFCHR | 0o666, *major, *minor)
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
            let p = dev.join(link);
            if p.symlink_metadata().is_err() {
                symlink(to, &p).map_err(|e| Error::io("Failed to create symlink", &p, &e))?;
            }
        }
        Ok(())
    }

    fn mount_devpts(&self) -> Result<()> {
        let pts = resolve_inside(&self.rootfs, "dev/pts")?;
        mkdir_p(&pts)?;
        let max = if self.pty_max > 0 {
            format!(",max={}", self.pty_max)
        } else {
            String::new()
        };
        mount(
            Some("devpts"),
            &pts,
            Some("devpts"),
            libc::MS_NOSUID | libc::MS_NOEXEC,
            Some(&format!(
                "newinstance,ptmxmode=0666,mode=0620{}{max}",
                if self.userns.as_ref().is_some_and(|u| !u.tty_gid_mapped) {
                    ""
                } else {
                    ",gid=5"
                }
            )),
        )?;
        // The container's /dev/ptmx must be its own devpts instance's.
        let ptmx = resolve_inside(&self.rootfs, "dev/ptmx")?;
        if ptmx.symlink_metadata().is_ok() {
            if ptmx.is_symlink() {
                return Ok(());
            }
            touch(&ptmx)?;
            return bind(&pts.join("ptmx"), &ptmx, false);
        }
        symlink("pts/ptmx", &ptmx).map_err(|e| Error::io("Failed to create symlink", &ptmx, &e))
    }

    fn bind_console_and_ttys(&self) -> Result<()> {
        if let Some(console) = &self.console {
            let target = resolve_inside(&self.rootfs, "dev/console")?;
            touch(&target)?;
            bind(Path::new(console), &target, false)?;
        }
        for (i, tty) in self.ttys.iter().enumerate() {
            let target = resolve_inside(&self.rootfs, &format!("dev/tty{}", i + 1))?;
            touch(&target)?;
            bind(Path::new(tty), &target, false)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_symlink_is_refused() {
        let d = std::env::temp_dir().join(format!("lxc-resolve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("rootfs/dev")).unwrap();
        symlink("/etc", d.join("rootfs/evil")).unwrap();
        symlink("../../..", d.join("rootfs/dev/up")).unwrap();
        symlink("dev", d.join("rootfs/inner")).unwrap();
        let root = d.join("rootfs");
        // A symlink that stays inside is followed.
        assert_eq!(
            resolve_inside(&root, "inner/shm").unwrap(),
            root.canonicalize().unwrap().join("dev/shm")
        );
        assert!(resolve_inside(&root, "dev/shm")
            .unwrap()
            .ends_with("rootfs/dev/shm"));
        assert_eq!(
            resolve_inside(&root, "evil/passwd").unwrap_err().errno,
            libc::ELOOP
        );
        assert_eq!(
            resolve_inside(&root, "dev/up/x").unwrap_err().errno,
            libc::ELOOP
        );
        assert!(resolve_inside(&root, "../x").is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
