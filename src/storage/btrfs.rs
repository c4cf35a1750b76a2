//! The `btrfs` backing store (LXC's `btrfs.c`): the rootfs is a btrfs
//! subvolume, `lxc.rootfs.path = btrfs:<path>`; it is used as a directory at
//! start (bind-mounted on itself like `dir`), clones of it on the same
//! filesystem are subvolume snapshots, and destroying it deletes the
//! subvolume. Everything goes through the btrfs ioctls (no btrfs-progs).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::Storage;
use crate::error::{Error, Result};
use crate::sys::cpath;

const BTRFS_SUPER_MAGIC: i64 = 0x9123_683E;
/// The inode number of the root directory of every subvolume.
const FIRST_FREE_OBJECTID: u64 = 256;
const PATH_NAME_MAX: usize = 4087;
// _IOW(0x94, nr, struct btrfs_ioctl_vol_args) with sizeof = 4096.
const IOC_SNAP_CREATE: libc::c_ulong = 0x5000_9401;
const IOC_SUBVOL_CREATE: libc::c_ulong = 0x5000_940E;
const IOC_SNAP_DESTROY: libc::c_ulong = 0x5000_940F;

/// `struct btrfs_ioctl_vol_args`.
#[repr(C)]
struct VolArgs {
    fd: i64,
    name: [u8; PATH_NAME_MAX + 1],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtrfsStorage {
    path: PathBuf,
}

impl BtrfsStorage {
    pub fn new(path: PathBuf) -> Self {
        BtrfsStorage { path }
    }
}

/// Whether `path` is on a btrfs filesystem.
pub fn is_btrfs(path: &Path) -> bool {
    let Ok(c) = cpath(path) else { return false };
    // SAFETY: statfs fills a zeroed plain-data struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid C string and out pointer.
    unsafe { libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type as i64 == BTRFS_SUPER_MAGIC }
}

/// Whether `path` is the root of a btrfs subvolume.
pub fn is_subvolume(path: &Path) -> bool {
    is_btrfs(path)
        && std::fs::symlink_metadata(path)
            .is_ok_and(|m| m.is_dir() && m.ino() == FIRST_FREE_OBJECTID)
}

/// Whether two paths are on the same btrfs filesystem (LXC's
/// `btrfs_same_fs`: same filesystem id).
pub fn same_fs(a: &Path, b: &Path) -> bool {
    let fsid = |p: &Path| -> Option<[i32; 2]> {
        let c = cpath(p).ok()?;
        // SAFETY: as in is_btrfs.
        let mut st: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: valid C string and out pointer.
        if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
            return None;
        }
        // SAFETY: fsid_t is two ints.
        Some(unsafe { std::mem::transmute::<libc::fsid_t, [i32; 2]>(st.f_fsid) })
    };
    is_btrfs(a) && is_btrfs(b) && fsid(a).is_some() && fsid(a) == fsid(b)
}

fn open_dir(path: &Path) -> Result<OwnedFd> {
    let c = cpath(path)?;
    // SAFETY: a valid C string.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Error::last_io("Failed to open", path));
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Runs `request` on the parent directory of `path` with the last
/// component of `path` as name and `fd` as source.
fn vol_ioctl(request: libc::c_ulong, path: &Path, fd: i64, what: &str) -> Result<()> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Error::invalid(format!(
            "Invalid subvolume path {}",
            path.display()
        )));
    };
    let name = name.as_bytes();
    if name.len() > PATH_NAME_MAX {
        return Err(Error::new(
            libc::ENAMETOOLONG,
            format!("{} is too long", path.display()),
        ));
    }
    let dir = open_dir(parent)?;
    let mut args = VolArgs {
        fd,
        name: [0; PATH_NAME_MAX + 1],
    };
    args.name[..name.len()].copy_from_slice(name);
    // SAFETY: a valid fd and a struct of the size the request encodes.
    if unsafe { libc::ioctl(dir.as_raw_fd(), request as _, &mut args) } < 0 {
        return Err(Error::last_io(what, path));
    }
    Ok(())
}

/// `btrfs subvolume create <path>`.
pub fn subvolume_create(path: &Path) -> Result<()> {
    vol_ioctl(
        IOC_SUBVOL_CREATE,
        path,
        0,
        "Failed to create btrfs subvolume",
    )
}

/// `btrfs subvolume snapshot <src> <dst>` (writable).
pub fn snapshot(src: &Path, dst: &Path) -> Result<()> {
    let s = open_dir(src)?;
    vol_ioctl(
        IOC_SNAP_CREATE,
        dst,
        i64::from(s.as_raw_fd()),
        "Failed to snapshot btrfs subvolume into",
    )
}

/// Deletes the subvolume at `path`; nested subvolumes inside it are
/// deleted first (LXC's `btrfs_recursive_destroy`).
pub fn subvolume_delete(path: &Path) -> Result<()> {
    delete_nested(
        path,
        std::fs::symlink_metadata(path)
            .map(|m| m.dev())
            .unwrap_or(0),
    )?;
    vol_ioctl(
        IOC_SNAP_DESTROY,
        path,
        0,
        "Failed to delete btrfs subvolume",
    )
}

fn delete_nested(dir: &Path, dev: u64) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let Ok(m) = e.path().symlink_metadata() else {
            continue;
        };
        if !m.is_dir() {
            continue;
        }
        if m.ino() == FIRST_FREE_OBJECTID && m.dev() != dev {
            subvolume_delete(&e.path())?;
        } else if m.dev() == dev {
            delete_nested(&e.path(), dev)?;
        }
    }
    Ok(())
}

impl Storage for BtrfsStorage {
    fn kind(&self) -> &'static str {
        "btrfs"
    }

    fn src(&self) -> String {
        format!("btrfs:{}", self.path.display())
    }

    fn host_path(&self) -> &Path {
        &self.path
    }

    fn create(&self) -> Result<()> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io("Failed to create directory", parent, &e))?;
        }
        subvolume_create(&self.path)
    }

    /// Deletes the subvolume; a plain directory (a rootfs copied here by
    /// hand) is removed like `dir`'s.
    fn destroy(&self) -> Result<()> {
        match std::fs::symlink_metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            _ if is_subvolume(&self.path) => subvolume_delete(&self.path),
            _ => super::rmdir_onedev(&self.path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_and_layout() {
        assert_eq!(std::mem::size_of::<VolArgs>(), 4096);
        let iow = |nr: libc::c_ulong| (1 << 30) | (4096 << 16) | (0x94 << 8) | nr;
        assert_eq!(IOC_SNAP_CREATE, iow(1));
        assert_eq!(IOC_SUBVOL_CREATE, iow(14));
        assert_eq!(IOC_SNAP_DESTROY, iow(15));
        let s = BtrfsStorage::new(PathBuf::from("/l/c/rootfs"));
        assert_eq!(s.src(), "btrfs:/l/c/rootfs");
        assert!(!is_btrfs(Path::new("/proc")));
    }
}
