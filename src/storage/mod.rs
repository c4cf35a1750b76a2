//! Backing stores of container root filesystems (LXC's `storage/`).
//!
//! `lxc.rootfs.path` names a backing store as "<type>:<source>" ("dir:/a/b",
//! "lvm:/dev/vg/lv", ...) or as a bare path. The `dir`, `btrfs`, `loop` and
//! `overlay` types are implemented (`overlay` only for snapshot clones, as LXC); every other
//! type is recognised and refused with `ENOTSUP` so that nothing is ever
//! done to storage this library does not understand.

mod btrfs;
pub mod cmdlines;
mod copy;
mod dir;
mod loopdev;
mod overlay;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use btrfs::BtrfsStorage;
pub use loopdev::{ChildMount, LoopStorage};

/// The filesystem type of a loop image, when its superblock says.
pub fn loop_fstype(image: &Path) -> Option<&'static str> {
    loopdev::detect_fstype(image)
}
/// Runs `cmd` in a private mount namespace (slave of the host's) with
/// `mounts` mounted first: storage a command must see (an overlay or loop
/// rootfs) without it ever being mounted on the host. Only raw syscalls run
/// between the fork and the exec; everything is prepared before.
pub fn in_private_mounts(cmd: &mut std::process::Command, mounts: Vec<std::sync::Arc<ChildMount>>) {
    // SAFETY: only raw syscalls between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(cmd, move || {
            crate::sys::unshare_rslave()?;
            for m in &mounts {
                if !m.mount() {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

pub use copy::{copy_tree, copy_tree_into};
pub use dir::{rmdir_onedev, rmdir_onedev_except, DirStorage};
pub use overlay::OverlayStorage;

/// btrfs helpers for clone (snapshots on the same filesystem).
pub mod btrfs_ops {
    pub use super::btrfs::{is_btrfs, is_subvolume, same_fs, snapshot, subvolume_create};
}

/// `<container dir>/overlay` and its upper layer `overlay/delta`.
pub const OVERLAY_PRIVATE_DIR: &str = overlay::PRIVATE_DIR;
pub const OVERLAY_DELTA_PATH: &str = "overlay/delta";

/// The backing-store types LXC knows, in the order it probes them.
pub const KNOWN_TYPES: &[&str] = &[
    "dir",
    "zfs",
    "lvm",
    "rbd",
    "btrfs",
    "overlay",
    "overlayfs",
    "loop",
    "nbd",
];

/// What every backend does for create, destroy and rename.
pub trait Storage: std::fmt::Debug {
    /// The backend type ("dir").
    fn kind(&self) -> &'static str;
    /// The value to store in `lxc.rootfs.path` ("dir:/var/lib/lxc/c1/rootfs").
    fn src(&self) -> String;
    /// Where the root filesystem is visible on the host for templates.
    fn host_path(&self) -> &Path;
    /// Makes the empty backing store.
    fn create(&self) -> Result<()>;
    /// Removes the backing store and everything in it.
    fn destroy(&self) -> Result<()>;
    /// What has to be mounted to see the rootfs at `host_path` (None: it
    /// is a plain directory there).
    fn rootfs_mount(&self) -> Option<RootfsMount> {
        None
    }
}

/// A rootfs that must be mounted before use: in the container's mount
/// namespace at start, in a child's for templates, hooks and copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootfsMount {
    Overlay(OverlayStorage),
    Loop(LoopStorage),
}

impl RootfsMount {
    /// Mounts it on `target` in the caller's mount namespace.
    pub fn mount(&self, target: &Path) -> Result<()> {
        match self {
            RootfsMount::Overlay(o) => {
                o.prepare()?;
                crate::sys::mount(
                    Some("overlay"),
                    target,
                    Some("overlay"),
                    0,
                    Some(&o.mount_data()),
                )
            }
            RootfsMount::Loop(l) => l.mount(target),
        }
    }

    /// Everything a forked child needs to mount it on `target` with raw
    /// syscalls (a loop device is attached here and kept by the result).
    pub fn for_child(&self, target: &Path) -> Result<ChildMount> {
        let target = crate::sys::cpath(target)?;
        match self {
            RootfsMount::Overlay(o) => {
                o.prepare()?;
                Ok(ChildMount {
                    source: c"overlay".into(),
                    target,
                    fstypes: vec![c"overlay".into()],
                    data: Some(crate::sys::cstring(&o.mount_data())?),
                    flags: 0,
                    _guard: None,
                })
            }
            RootfsMount::Loop(l) => {
                let dev = loopdev::attach(l.image())?;
                let fstypes = loopdev::fstypes_for(l.image())
                    .iter()
                    .map(|t| crate::sys::cstring(t))
                    .collect::<Result<Vec<_>>>()?;
                Ok(ChildMount {
                    source: crate::sys::cpath(&dev.path)?,
                    target,
                    fstypes,
                    data: None,
                    flags: 0,
                    _guard: Some(dev),
                })
            }
        }
    }
}

/// What a forked child mounts to see the rootfs `dir` as a mount point of
/// its own: `mount` on it, else a bind of the directory onto itself.
pub fn rootfs_for_child(dir: &Path, mount: Option<&RootfsMount>) -> Result<ChildMount> {
    if let Some(m) = mount {
        return m.for_child(dir);
    }
    let path = crate::sys::cpath(dir)?;
    Ok(ChildMount {
        source: path.clone(),
        target: path,
        fstypes: vec![c"none".into()],
        data: None,
        flags: libc::MS_BIND | libc::MS_REC,
        _guard: None,
    })
}

/// Copies the tree at `src` into the existing directory `dst` where either
/// side may first need a mount (a loop image): `cp -a -x -T` runs in a
/// child with its own mount namespace, where both are mounted (LXC runs
/// rsync the same way). Without mounts, `copy_tree_into` does it in process.
pub fn copy_mounted(
    src: &Path,
    src_mount: Option<&RootfsMount>,
    dst: &Path,
    dst_mount: Option<&RootfsMount>,
) -> Result<()> {
    if src_mount.is_none() && dst_mount.is_none() {
        return copy_tree_into(src, dst);
    }
    let mounts = [src_mount.map(|m| (m, src)), dst_mount.map(|m| (m, dst))]
        .into_iter()
        .flatten()
        .map(|(m, t)| m.for_child(t).map(std::sync::Arc::new))
        .collect::<Result<Vec<_>>>()?;
    let mut cmd = std::process::Command::new("cp");
    cmd.arg("-a").arg("-x").arg("-T").arg(src).arg(dst);
    cmd.stdin(std::process::Stdio::null());
    in_private_mounts(&mut cmd, mounts);
    let out = cmd.output().map_err(|e| {
        Error::os(
            format_args!("Failed to copy {} to {}", src.display(), dst.display()),
            &e,
        )
    })?;
    if !out.status.success() {
        return Err(Error::new(
            libc::EIO,
            format!(
                "Failed to copy {} to {}: {}",
                src.display(),
                dst.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(())
}

fn unsupported(kind: &str) -> Error {
    Error::new(
        libc::ENOTSUP,
        format!(
            "Backing store type \"{kind}\" is not supported by this liblxc (only \"dir\", \"btrfs\", \"loop\" and overlay snapshots are implemented)"
        ),
    )
}

/// The backend for `create(bdevtype)` with its rootfs at `dest`. `None`,
/// "dir" and "best" (LXC's "try every type", which ends at dir) give `dir`.
pub fn for_create(bdevtype: Option<&str>, dest: &Path) -> Result<Box<dyn Storage>> {
    for_create_with(bdevtype, dest, None, 0)
}

/// `for_create` with `bdev_specs`'s fstype and fssize (loop images).
pub fn for_create_with(
    bdevtype: Option<&str>,
    dest: &Path,
    fstype: Option<&str>,
    fssize: u64,
) -> Result<Box<dyn Storage>> {
    match bdevtype.unwrap_or("dir") {
        "loop" => {
            let image = dest.parent().unwrap_or(Path::new("/")).join("rootdev");
            Ok(Box::new(LoopStorage::for_create(
                image,
                dest.to_path_buf(),
                fstype,
                fssize,
            )))
        }
        "dir" => Ok(Box::new(DirStorage::new(dest.to_path_buf()))),
        "btrfs" => Ok(Box::new(BtrfsStorage::new(dest.to_path_buf()))),
        // LXC tries btrfs, zfs, lvm, then dir: btrfs wins on a btrfs lxcpath.
        "best" if dest.parent().is_some_and(btrfs::is_btrfs) => {
            Ok(Box::new(BtrfsStorage::new(dest.to_path_buf())))
        }
        "best" => Ok(Box::new(DirStorage::new(dest.to_path_buf()))),
        t if KNOWN_TYPES.contains(&t) => Err(unsupported(t)),
        t => Err(Error::invalid(format!(
            "Unknown backing store type \"{t}\""
        ))),
    }
}

/// Splits an `lxc.rootfs.path` into (type, source). A bare path is `dir`
/// when it is not a block device (LXC probes; a directory or a missing
/// path is all `dir` can be).
pub fn parse_rootfs_path(value: &str) -> Result<(&'static str, PathBuf)> {
    if let Some((prefix, rest)) = value.split_once(':') {
        if let Some(kind) = KNOWN_TYPES.iter().find(|k| **k == prefix) {
            return Ok((kind, PathBuf::from(rest)));
        }
        if !prefix.starts_with('/') {
            return Err(Error::new(
                libc::ENOTSUP,
                format!("Unknown backing store type \"{prefix}\" in rootfs path \"{value}\""),
            ));
        }
    }
    if value.is_empty() {
        return Err(Error::invalid("Empty rootfs path"));
    }
    if !value.starts_with('/') {
        return Err(Error::new(
            libc::ENOTSUP,
            format!("Cannot tell the backing store type of rootfs path \"{value}\""),
        ));
    }
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(value) {
        Ok(m) if m.file_type().is_block_device() => Ok(("loop", PathBuf::from(value))),
        Ok(m) if m.is_file() => Ok(("loop", PathBuf::from(value))),
        _ => Ok(("dir", PathBuf::from(value))),
    }
}

/// The backend of a loaded configuration's rootfs, `None` without one.
/// The configuration keeps the type prefix apart from the path (as LXC's
/// `rootfs.bdev_type` and `rootfs.path`).
pub fn from_config(conf: &crate::config::LxcConf) -> Result<Option<Box<dyn Storage>>> {
    let Some(path) = conf.rootfs_path.as_deref() else {
        return Ok(None);
    };
    match conf.rootfs_bdev_type.as_deref() {
        Some(kind) if KNOWN_TYPES.contains(&kind) => backend(kind, PathBuf::from(path)).map(Some),
        // A type that is none (the setter splits a plain "/a:b" at its
        // colon too) gets the text's own checks.
        Some(kind) => from_rootfs_path(&format!("{kind}:{path}")).map(Some),
        None => from_rootfs_path(path).map(Some),
    }
}

/// The backend of an `lxc.rootfs.path` value.
pub fn from_rootfs_path(value: &str) -> Result<Box<dyn Storage>> {
    let (kind, src) = parse_rootfs_path(value)?;
    backend(kind, src)
}

/// The backend of type `kind` (one of [`KNOWN_TYPES`]) at `src`.
fn backend(kind: &str, src: PathBuf) -> Result<Box<dyn Storage>> {
    if kind == "overlay" || kind == "overlayfs" {
        return Ok(Box::new(OverlayStorage::parse(&src.to_string_lossy())?));
    }
    if kind == "btrfs" {
        return Ok(Box::new(BtrfsStorage::new(src)));
    }
    if kind == "loop" {
        return Ok(Box::new(LoopStorage::new(src)));
    }
    if kind != "dir" {
        return Err(unsupported(kind));
    }
    log::debug!("Using dir storage at {}", src.display());
    Ok(Box::new(DirStorage::new(src)))
}

/// A fresh scratch directory for a storage test.
#[cfg(test)]
fn test_scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lxc-storage-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootfs_path_types() {
        assert_eq!(
            parse_rootfs_path("dir:/var/lib/lxc/c1/rootfs").unwrap(),
            ("dir", PathBuf::from("/var/lib/lxc/c1/rootfs"))
        );
        assert_eq!(parse_rootfs_path("lvm:/dev/vg/lv").unwrap().0, "lvm");
        assert_eq!(
            parse_rootfs_path("/nonexistent/rootfs").unwrap(),
            ("dir", PathBuf::from("/nonexistent/rootfs"))
        );
        assert_eq!(parse_rootfs_path("").unwrap_err().errno, libc::EINVAL);
        assert_eq!(parse_rootfs_path("rel/x").unwrap_err().errno, libc::ENOTSUP);
        assert_eq!(
            from_rootfs_path("zfs:lxc/c1").unwrap_err().errno,
            libc::ENOTSUP
        );
        let s = from_rootfs_path("dir:/a/b").unwrap();
        assert_eq!(s.src(), "dir:/a/b");
        assert_eq!(s.host_path(), Path::new("/a/b"));
    }

    #[test]
    fn config_rootfs_types() {
        let of = |v: &str| {
            let mut c = crate::config::Config::new();
            c.set_item("lxc.rootfs.path", v).unwrap();
            from_config(c.conf()).map(|s| s.map(|s| s.src()))
        };
        assert_eq!(of("btrfs:/x").unwrap().as_deref(), Some("btrfs:/x"));
        assert_eq!(of("/x").unwrap().as_deref(), Some("dir:/x"));
        assert_eq!(of("zfs:lxc/c1").unwrap_err().errno, libc::ENOTSUP);
        assert_eq!(of("bogus:x").unwrap_err().errno, libc::ENOTSUP);
    }

    #[test]
    fn create_types() {
        let p = Path::new("/x/c1/rootfs");
        assert_eq!(for_create(None, p).unwrap().kind(), "dir");
        assert_eq!(
            for_create(Some("best"), p).unwrap().src(),
            "dir:/x/c1/rootfs"
        );
        assert_eq!(
            for_create(Some("btrfs"), p).unwrap().src(),
            "btrfs:/x/c1/rootfs"
        );
        let e = for_create(Some("lvm"), p).unwrap_err();
        assert_eq!(e.errno, libc::ENOTSUP);
        assert!(e.message.contains("lvm"), "{}", e.message);
        assert_eq!(
            for_create(Some("bogus"), p).unwrap_err().errno,
            libc::EINVAL
        );
    }
}
