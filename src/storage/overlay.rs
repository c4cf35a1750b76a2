//! The `overlay` backing store of snapshot clones (LXC's `overlay.c`).
//!
//! `lxc.rootfs.path = overlay:<lower>[:<lower>...]:<upper>`: the lower
//! layers are read-only (the source container's rootfs), writes land in
//! the upper directory (`<lxcpath>/<name>/overlay/delta`), and overlayfs
//! needs a work directory next to it (`<upper>/../work`). The rootfs is
//! mounted at start inside the container's mount namespace.

use std::path::{Path, PathBuf};

use super::Storage;
use crate::error::{Error, Result};

/// `<container dir>/overlay` and `.../work` (LXC 3.0 and later).
pub const PRIVATE_DIR: &str = "overlay";
pub const WORK_DIR: &str = "work";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayStorage {
    /// The lower layer(s), as overlayfs's `lowerdir` ("/a" or "/a:/b").
    lower: String,
    upper: PathBuf,
}

impl OverlayStorage {
    /// From the part after "overlay:" / "overlayfs:". The upper directory
    /// is the last ":/"-separated component, as LXC splits it.
    pub fn parse(rest: &str) -> Result<OverlayStorage> {
        let bad = || {
            Error::invalid(format!(
                "Invalid overlay rootfs path \"{rest}\" (want overlay:<lower>:<upper>)"
            ))
        };
        let i = rest.rfind(":/").ok_or_else(bad)?;
        let (lower, upper) = (&rest[..i], &rest[i + 1..]);
        if lower.is_empty() || !lower.starts_with('/') {
            return Err(bad());
        }
        Ok(OverlayStorage {
            lower: lower.to_string(),
            upper: PathBuf::from(upper),
        })
    }

    pub fn new(lower: &Path, upper: &Path) -> OverlayStorage {
        OverlayStorage {
            lower: lower.display().to_string(),
            upper: upper.to_path_buf(),
        }
    }

    /// The lower layer string (overlayfs `lowerdir`).
    pub fn lower(&self) -> &str {
        &self.lower
    }

    pub fn upper(&self) -> &Path {
        &self.upper
    }

    /// `work` next to the upper directory (LXC's `ovl_mount`).
    pub fn workdir(&self) -> PathBuf {
        self.upper.parent().unwrap_or(Path::new("/")).join(WORK_DIR)
    }

    /// Makes the upper and work directories when missing (as `ovl_mount`).
    pub fn prepare(&self) -> Result<()> {
        for d in [self.upper.clone(), self.workdir()] {
            std::fs::create_dir_all(&d)
                .map_err(|e| Error::io("Failed to create overlay directory", &d, &e))?;
        }
        Ok(())
    }

    /// The overlayfs mount data.
    pub fn mount_data(&self) -> String {
        format!(
            "upperdir={},lowerdir={},workdir={}",
            self.upper.display(),
            self.lower,
            self.workdir().display()
        )
    }
}

impl Storage for OverlayStorage {
    fn kind(&self) -> &'static str {
        "overlay"
    }

    fn src(&self) -> String {
        format!("overlay:{}:{}", self.lower, self.upper.display())
    }

    /// The upper directory: what belongs to this container.
    fn host_path(&self) -> &Path {
        &self.upper
    }

    fn create(&self) -> Result<()> {
        self.prepare()
    }

    fn rootfs_mount(&self) -> Option<super::RootfsMount> {
        Some(super::RootfsMount::Overlay(self.clone()))
    }

    /// Only the upper directory is this container's (LXC's `ovl_destroy`).
    fn destroy(&self) -> Result<()> {
        super::rmdir_onedev(&self.upper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_mount_data() {
        let o = OverlayStorage::parse("/l/c1/rootfs:/l/c2/overlay/delta").unwrap();
        assert_eq!(o.lower(), "/l/c1/rootfs");
        assert_eq!(o.upper(), Path::new("/l/c2/overlay/delta"));
        assert_eq!(o.workdir(), PathBuf::from("/l/c2/overlay/work"));
        assert_eq!(o.src(), "overlay:/l/c1/rootfs:/l/c2/overlay/delta");
        assert_eq!(
            o.mount_data(),
            "upperdir=/l/c2/overlay/delta,lowerdir=/l/c1/rootfs,workdir=/l/c2/overlay/work"
        );
        // Several lower layers; the old "delta0" layout.
        let o = OverlayStorage::parse("/a:/b:/p/c/delta0").unwrap();
        assert_eq!(o.lower(), "/a:/b");
        assert_eq!(o.workdir(), PathBuf::from("/p/c/work"));
        assert!(OverlayStorage::parse("/only").is_err());
        assert!(OverlayStorage::parse(":/x").is_err());
    }
}
