//! Backing stores of container root filesystems (LXC's `storage/`).
//!
//! `lxc.rootfs.path` names a backing store as "<type>:<source>" ("dir:/a/b",
//! "lvm:/dev/vg/lv", ...) or as a bare path. The `dir`, `btrfs` and `overlay`
//! types are implemented (`overlay` only for snapshot clones, as LXC); every other
//! type is recognised and refused with `ENOTSUP` so that nothing is ever
//! done to storage this library does not understand.

mod btrfs;
mod dir;
mod overlay;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use btrfs::BtrfsStorage;
pub use dir::{copy_tree, copy_tree_into, rmdir_onedev, rmdir_onedev_except, DirStorage};
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
}

fn unsupported(kind: &str) -> Error {
    Error::new(
        libc::ENOTSUP,
        format!(
            "Backing store type \"{kind}\" is not supported by this liblxc (only \"dir\", \"btrfs\" and overlay snapshots are implemented)"
        ),
    )
}

/// The backend for `create(bdevtype)` with its rootfs at `dest`. `None`,
/// "dir" and "best" (LXC's "try every type", which ends at dir) give `dir`.
pub fn for_create(bdevtype: Option<&str>, dest: &Path) -> Result<Box<dyn Storage>> {
    match bdevtype.unwrap_or("dir") {
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
        Some(kind) => from_rootfs_path(&format!("{kind}:{path}")).map(Some),
        None => from_rootfs_path(path).map(Some),
    }
}

/// The backend of an `lxc.rootfs.path` value.
pub fn from_rootfs_path(value: &str) -> Result<Box<dyn Storage>> {
    let (kind, src) = parse_rootfs_path(value)?;
    if kind == "overlay" || kind == "overlayfs" {
        return Ok(Box::new(OverlayStorage::parse(&src.to_string_lossy())?));
    }
    if kind == "btrfs" {
        return Ok(Box::new(BtrfsStorage::new(src)));
    }
    if kind != "dir" {
        return Err(unsupported(kind));
    }
    log::debug!("Using dir storage at {}", src.display());
    Ok(Box::new(DirStorage::new(src)))
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
