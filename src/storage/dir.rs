//! The `dir` backing store: the rootfs is a plain directory.
//!
//! Removal walks the tree through directory file descriptors (openat,
//! unlinkat with O_NOFOLLOW), so a symlink planted in the rootfs can never
//! redirect it outside, and it never descends into another mount (a
//! directory whose mount id or device differs from the top's), like LXC's
//! `lxc_rmdir_onedev`.

use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::Storage;
use crate::error::{Error, Result};
use crate::sys::cpath;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirStorage {
    path: PathBuf,
}

impl DirStorage {
    pub fn new(path: PathBuf) -> Self {
        DirStorage { path }
    }
}

impl Storage for DirStorage {
    fn kind(&self) -> &'static str {
        "dir"
    }

    fn src(&self) -> String {
        format!("dir:{}", self.path.display())
    }

    fn host_path(&self) -> &Path {
        &self.path
    }

    /// `mkdir -p` with mode 0755 (exactly, whatever the umask), as LXC's
    /// dir backend.
    fn create(&self) -> Result<()> {
        crate::sys::mkdir_p(&self.path, "rootfs directory")?;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o755)).map_err(|e| {
            Error::io(
                "Failed to set mode 0755 on rootfs directory",
                &self.path,
                &e,
            )
        })
    }

    fn destroy(&self) -> Result<()> {
        rmdir_onedev(&self.path)
    }
}

/// Device and mount id of `name` under `dirfd` (or of `dirfd` itself when
/// `name` is empty), without following a final symlink.
fn mount_identity(dirfd: RawFd, name: &CStr, path: &Path) -> Result<(u32, u32, u64, u32)> {
    // SAFETY: statx fills a zeroed plain-data struct.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    let flags = libc::AT_SYMLINK_NOFOLLOW
        | if name.is_empty() {
            libc::AT_EMPTY_PATH
        } else {
            0
        };
    // SAFETY: valid fd, NUL-terminated name, valid out pointer.
    let rc = unsafe {
        libc::statx(
            dirfd,
            name.as_ptr(),
            flags,
            libc::STATX_TYPE | libc::STATX_MNT_ID,
            &mut stx,
        )
    };
    if rc < 0 {
        return Err(Error::last_io("Failed to stat", path));
    }
    let mnt_id = if stx.stx_mask & libc::STATX_MNT_ID != 0 {
        stx.stx_mnt_id
    } else {
        0
    };
    Ok((
        stx.stx_dev_major,
        stx.stx_dev_minor,
        mnt_id,
        u32::from(stx.stx_mode) & libc::S_IFMT,
    ))
}

fn open_dir_at(dirfd: RawFd, name: &CStr, path: &Path) -> Result<OwnedFd> {
    // SAFETY: valid fd and NUL-terminated name.
    let fd = unsafe {
        libc::openat(
            dirfd,
            name.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Error::last_io("Failed to open directory", path));
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The names in the directory open at `dirfd` ("." and ".." left out).
fn list_dir(dirfd: RawFd, path: &Path) -> Result<Vec<CString>> {
    // SAFETY: fcntl on a valid fd.
    let dup = unsafe { libc::fcntl(dirfd, libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(Error::last_io("Failed to duplicate descriptor of", path));
    }
    // SAFETY: fdopendir takes ownership of `dup` on success.
    let dirp = unsafe { libc::fdopendir(dup) };
    if dirp.is_null() {
        let err = Error::last_io("Failed to read directory", path);
        // SAFETY: dup is still ours when fdopendir fails.
        unsafe { libc::close(dup) };
        return Err(err);
    }
    let mut names = Vec::new();
    // SAFETY: dirp is a valid DIR*; the entries are read before the next call.
    unsafe {
        libc::rewinddir(dirp);
        loop {
            let ent = libc::readdir(dirp);
            if ent.is_null() {
                break;
            }
            let name = CStr::from_ptr((*ent).d_name.as_ptr());
            if name.to_bytes() != b"." && name.to_bytes() != b".." {
                names.push(name.to_owned());
            }
        }
        libc::closedir(dirp);
    }
    Ok(names)
}

type Identity = (u32, u32, u64);

/// Removes everything under `dirfd`; keeps going after a failure and
/// returns the first one.
fn remove_contents(dirfd: RawFd, top: Identity, path: &Path) -> Result<()> {
    remove_contents_except(dirfd, top, path, None)
}

fn remove_contents_except(
    dirfd: RawFd,
    top: Identity,
    path: &Path,
    keep: Option<&str>,
) -> Result<()> {
    let mut first: Option<Error> = None;
    for name in list_dir(dirfd, path)? {
        if keep.is_some_and(|k| k.as_bytes() == name.to_bytes()) {
            continue;
        }
        let child = path.join(OsStr::from_bytes(name.to_bytes()));
        if let Err(e) = remove_entry(dirfd, &name, top, &child) {
            log::error!("{}", e.message);
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

fn remove_entry(dirfd: RawFd, name: &CStr, top: Identity, path: &Path) -> Result<()> {
    let (major, minor, mnt_id, kind) = match mount_identity(dirfd, name, path) {
        Err(e) if e.errno == libc::ENOENT => return Ok(()),
        other => other?,
    };
    if kind == libc::S_IFDIR {
        if (major, minor) != (top.0, top.1) || (mnt_id != 0 && top.2 != 0 && mnt_id != top.2) {
            return Err(Error::new(
                libc::EBUSY,
                format!(
                    "Not removing {}: it is a mount point (another filesystem)",
                    path.display()
                ),
            ));
        }
        let fd = open_dir_at(dirfd, name, path)?;
        let inner = remove_contents(fd.as_raw_fd(), top, path);
        drop(fd);
        inner?;
        // SAFETY: valid fd and NUL-terminated name.
        if unsafe { libc::unlinkat(dirfd, name.as_ptr(), libc::AT_REMOVEDIR) } < 0 {
            return Err(Error::last_io("Failed to remove directory", path));
        }
    } else {
        // SAFETY: valid fd and NUL-terminated name.
        if unsafe { libc::unlinkat(dirfd, name.as_ptr(), 0) } < 0 {
            return Err(Error::last_io("Failed to remove", path));
        }
    }
    Ok(())
}

/// Removes the directory `path` and its whole tree without following
/// symlinks and without entering other mounts (those make it fail with
/// EBUSY, everything else is still removed). A missing `path` is success;
/// a symlink `path` is removed itself, never its target.
pub fn rmdir_onedev(path: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("Failed to stat", path, &e)),
    };
    if !meta.is_dir() {
        return std::fs::remove_file(path).map_err(|e| Error::io("Failed to remove", path, &e));
    }
    let c = cpath(path)?;
    let fd = open_dir_at(libc::AT_FDCWD, &c, path)?;
    let (major, minor, mnt_id, _) = mount_identity(fd.as_raw_fd(), c"", path)?;
    remove_contents(fd.as_raw_fd(), (major, minor, mnt_id), path)?;
    drop(fd);
    std::fs::remove_dir(path).map_err(|e| Error::io("Failed to remove directory", path, &e))
}

/// `rmdir_onedev` that keeps the entry `keep` of `path` (LXC's
/// `lxc_rmdir_onedev(path, "snaps")`): everything else goes, and `path`
/// itself only when `keep` is not there.
pub fn rmdir_onedev_except(path: &Path, keep: &str) -> Result<()> {
    if !path.join(keep).exists() {
        return rmdir_onedev(path);
    }
    let c = cpath(path)?;
    let fd = open_dir_at(libc::AT_FDCWD, &c, path)?;
    let (major, minor, mnt_id, _) = mount_identity(fd.as_raw_fd(), c"", path)?;
    remove_contents_except(fd.as_raw_fd(), (major, minor, mnt_id), path, Some(keep))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, MetadataExt};

    use super::super::test_scratch as scratch;

    #[test]
    fn create_sets_0755_and_src() {
        let d = scratch("create");
        let s = DirStorage::new(d.join("c1/rootfs"));
        s.create().unwrap();
        let m = std::fs::metadata(d.join("c1/rootfs")).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o755);
        assert_eq!(s.src(), format!("dir:{}/c1/rootfs", d.display()));
        assert_eq!(s.kind(), "dir");
        s.destroy().unwrap();
        assert!(!d.join("c1/rootfs").exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn remove_does_not_follow_symlinks() {
        let d = scratch("rm");
        let outside = d.join("outside");
        std::fs::create_dir_all(outside.join("keep")).unwrap();
        std::fs::write(outside.join("keep/file"), b"x").unwrap();
        let root = d.join("rootfs");
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        std::fs::write(root.join("a/b/c/f"), b"data").unwrap();
        std::fs::write(root.join("top"), b"t").unwrap();
        symlink(&outside, root.join("a/link-dir")).unwrap();
        symlink(outside.join("keep/file"), root.join("link-file")).unwrap();
        symlink("/nonexistent", root.join("dangling")).unwrap();
        // A read-only directory is still emptied (we are its owner or root).
        std::fs::set_permissions(root.join("a/b"), std::fs::Permissions::from_mode(0o555)).unwrap();
        let res = rmdir_onedev(&root);
        if res.is_err() {
            // Unprivileged: cannot unlink inside a 0555 dir; make it writable.
            std::fs::set_permissions(root.join("a/b"), std::fs::Permissions::from_mode(0o755))
                .unwrap();
            rmdir_onedev(&root).unwrap();
        }
        assert!(!root.exists());
        assert_eq!(std::fs::read(outside.join("keep/file")).unwrap(), b"x");
        // Missing is fine; a symlink top is unlinked, not followed.
        rmdir_onedev(&root).unwrap();
        symlink(&outside, d.join("toplink")).unwrap();
        rmdir_onedev(&d.join("toplink")).unwrap();
        assert!(outside.join("keep/file").exists());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
