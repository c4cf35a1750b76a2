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
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
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

/// Copies the tree at `src` to `dst` (which must not exist), as
/// `rsync -aHXS` does for LXC's copy clones: directories, regular files
/// (reflinked when the filesystem can, else copied in kernel with
/// `copy_file_range`, holes kept), symlinks (as links), device nodes,
/// fifos and sockets, hard links (as hard links), owners (when permitted),
/// modes, extended attributes and timestamps. Stays on `src`'s
/// filesystem: mount points become empty directories.
pub fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    let (mut copier, meta) = Copier::for_tree(src)?;
    copier.copy_dir(src, dst, &meta)
}

/// `copy_tree` into the existing directory `dst` (a new btrfs subvolume):
/// its contents, then its owner, mode, xattrs and times.
pub fn copy_tree_into(src: &Path, dst: &Path) -> Result<()> {
    let (mut copier, meta) = Copier::for_tree(src)?;
    copier.copy_contents(src, dst, &meta)?;
    finish_copy(src, dst, &meta)
}

struct Copier {
    dev: u64,
    /// (dev, inode) of files with several links -> their first copy.
    links: std::collections::HashMap<(u64, u64), PathBuf>,
    buf: Vec<u8>,
}

impl Copier {
    /// A copier that stays on the filesystem of the directory `src`, and
    /// `src`'s metadata.
    fn for_tree(src: &Path) -> Result<(Copier, std::fs::Metadata)> {
        let meta =
            std::fs::symlink_metadata(src).map_err(|e| Error::io("Failed to stat", src, &e))?;
        if !meta.is_dir() {
            return Err(Error::new(
                libc::ENOTDIR,
                format!("Cannot copy {}: not a directory", src.display()),
            ));
        }
        let copier = Copier {
            dev: meta.dev(),
            links: std::collections::HashMap::new(),
            buf: Vec::new(),
        };
        Ok((copier, meta))
    }

    fn copy_dir(&mut self, src: &Path, dst: &Path, meta: &std::fs::Metadata) -> Result<()> {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dst)
            .map_err(|e| Error::io("Failed to create directory", dst, &e))?;
        self.copy_contents(src, dst, meta)?;
        finish_copy(src, dst, meta)
    }

    fn copy_contents(&mut self, src: &Path, dst: &Path, meta: &std::fs::Metadata) -> Result<()> {
        if meta.dev() == self.dev {
            let mut entries: Vec<_> = std::fs::read_dir(src)
                .map_err(|e| Error::io("Failed to read", src, &e))?
                .collect::<std::io::Result<_>>()
                .map_err(|e| Error::io("Failed to read", src, &e))?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let from = entry.path();
                let to = dst.join(entry.file_name());
                let m = std::fs::symlink_metadata(&from)
                    .map_err(|e| Error::io("Failed to stat", &from, &e))?;
                self.copy_entry(&from, &to, &m)?;
            }
        }
        Ok(())
    }

    fn copy_entry(&mut self, from: &Path, to: &Path, m: &std::fs::Metadata) -> Result<()> {
        let ft = m.file_type();
        if ft.is_dir() {
            return self.copy_dir(from, to, m);
        }
        if m.nlink() > 1 {
            if let Some(first) = self.links.get(&(m.dev(), m.ino())) {
                return std::fs::hard_link(first, to)
                    .map_err(|e| Error::io("Failed to create hard link", to, &e));
            }
            self.links.insert((m.dev(), m.ino()), to.to_path_buf());
        }
        if ft.is_symlink() {
            let target =
                std::fs::read_link(from).map_err(|e| Error::io("Failed to read link", from, &e))?;
            std::os::unix::fs::symlink(&target, to)
                .map_err(|e| Error::io("Failed to create symlink", to, &e))?;
        } else if ft.is_file() {
            self.copy_file(from, to, m)?;
        } else {
            let c = cpath(to)?;
            // SAFETY: a valid C string; the mode and rdev come from lstat.
            if unsafe {
                libc::mknod(
                    c.as_ptr(),
                    m.mode() as libc::mode_t,
                    m.rdev() as libc::dev_t,
                )
            } < 0
            {
                return Err(Error::last_io("Failed to create special file", to));
            }
        }
        finish_copy(from, to, m)
    }

    fn copy_file(&mut self, from: &Path, to: &Path, m: &std::fs::Metadata) -> Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let src = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(from)
            .map_err(|e| Error::io("Failed to open", from, &e))?;
        let dst = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(to)
            .map_err(|e| Error::io("Failed to create", to, &e))?;
        let (sfd, dfd) = (src.as_raw_fd(), dst.as_raw_fd());
        let size = m.len() as i64;
        // A reflink shares the blocks (btrfs, xfs): instant, holes included.
        // SAFETY: two valid descriptors.
        if size > 0 && unsafe { libc::ioctl(dfd, libc::FICLONE, sfd) } == 0 {
            return Ok(());
        }
        let mut pos: i64 = 0;
        while pos < size {
            // SAFETY: lseek on a valid fd.
            let data = unsafe { libc::lseek(sfd, pos, libc::SEEK_DATA) };
            if data < 0 {
                if crate::sys::errno() == libc::ENXIO {
                    break; // only a hole is left
                }
                // No SEEK_DATA here: treat the rest as data.
                self.copy_range(sfd, dfd, pos, size, to)?;
                break;
            }
            // SAFETY: as above.
            let hole = unsafe { libc::lseek(sfd, data, libc::SEEK_HOLE) };
            let end = if hole < 0 { size } else { hole.min(size) };
            self.copy_range(sfd, dfd, data, end, to)?;
            pos = end;
        }
        // Trailing hole: extend without writing.
        // SAFETY: ftruncate on a valid fd.
        if unsafe { libc::ftruncate(dfd, size) } < 0 {
            return Err(Error::last_io("Failed to set the size of", to));
        }
        Ok(())
    }

    /// Copies bytes [start, end) at the same offsets: copy_file_range,
    /// falling back to pread/pwrite where the kernel cannot.
    fn copy_range(
        &mut self,
        sfd: RawFd,
        dfd: RawFd,
        start: i64,
        end: i64,
        to: &Path,
    ) -> Result<()> {
        let mut off_in = start;
        let mut off_out = start;
        let mut kernel = true;
        while off_in < end {
            let want = (end - off_in).min(1 << 30) as usize;
            if kernel {
                // SAFETY: valid fds and offset pointers.
                let n =
                    unsafe { libc::copy_file_range(sfd, &mut off_in, dfd, &mut off_out, want, 0) };
                if n > 0 {
                    continue;
                }
                if n == 0 {
                    break; // the file shrank under us
                }
                match crate::sys::errno() {
                    libc::EINTR => continue,
                    libc::EXDEV | libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP | libc::EIO => {
                        kernel = false;
                    }
                    _ => return Err(Error::last_io("Failed to copy data to", to)),
                }
            }
            if self.buf.is_empty() {
                self.buf = vec![0; 1 << 20];
            }
            let chunk = want.min(self.buf.len());
            // SAFETY: the buffer holds `chunk` bytes.
            let n = unsafe { libc::pread(sfd, self.buf.as_mut_ptr().cast(), chunk, off_in) };
            if n < 0 {
                if crate::sys::errno() == libc::EINTR {
                    continue;
                }
                return Err(Error::last_io("Failed to read the source of", to));
            }
            if n == 0 {
                break;
            }
            let mut done = 0usize;
            while done < n as usize {
                // SAFETY: writes bytes of the buffer filled above.
                let w = unsafe {
                    libc::pwrite(
                        dfd,
                        self.buf[done..].as_ptr().cast(),
                        n as usize - done,
                        off_out + done as i64,
                    )
                };
                if w < 0 {
                    if crate::sys::errno() == libc::EINTR {
                        continue;
                    }
                    return Err(Error::last_io("Failed to write", to));
                }
                done += w as usize;
            }
            off_in += n as i64;
            off_out += n as i64;
        }
        Ok(())
    }
}

/// Owner first (chown clears set-id bits and file capabilities), then the
/// extended attributes, the exact mode, and the timestamps last.
fn finish_copy(from: &Path, to: &Path, m: &std::fs::Metadata) -> Result<()> {
    // Unprivileged callers cannot give files away; their copy is theirs.
    let _ = std::os::unix::fs::lchown(to, Some(m.uid()), Some(m.gid()));
    copy_xattrs(from, to);
    let is_link = m.file_type().is_symlink();
    if !is_link {
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(m.mode() & 0o7777))
            .map_err(|e| Error::io("Failed to set mode on", to, &e))?;
    }
    let times = [
        libc::timespec {
            tv_sec: m.atime(),
            tv_nsec: m.atime_nsec(),
        },
        libc::timespec {
            tv_sec: m.mtime(),
            tv_nsec: m.mtime_nsec(),
        },
    ];
    let c = cpath(to)?;
    // SAFETY: valid C string and two timespecs.
    if unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    } < 0
    {
        log::warn!(
            "Failed to set the times of {}: {}",
            to.display(),
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

/// Copies every extended attribute of `from` (not following symlinks);
/// one the target cannot take is logged and skipped, as rsync does.
fn copy_xattrs(from: &Path, to: &Path) {
    let (Ok(f), Ok(t)) = (cpath(from), cpath(to)) else {
        return;
    };
    let mut names = vec![0u8; 1024];
    let len = loop {
        // SAFETY: valid C string and buffer of the given size.
        let n = unsafe { libc::llistxattr(f.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
        if n >= 0 {
            break n as usize;
        }
        if crate::sys::errno() != libc::ERANGE || names.len() > 1 << 20 {
            return;
        }
        names.resize(names.len() * 4, 0);
    };
    let mut value = vec![0u8; 4096];
    for name in names[..len].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let Ok(cname) = CString::new(name) else {
            continue;
        };
        let vlen = loop {
            // SAFETY: valid strings and buffer.
            let n = unsafe {
                libc::lgetxattr(
                    f.as_ptr(),
                    cname.as_ptr(),
                    value.as_mut_ptr().cast(),
                    value.len(),
                )
            };
            if n >= 0 {
                break Some(n as usize);
            }
            if crate::sys::errno() != libc::ERANGE || value.len() > 1 << 24 {
                break None;
            }
            value.resize(value.len() * 4, 0);
        };
        let Some(vlen) = vlen else { continue };
        // SAFETY: valid strings; the value is `vlen` bytes of the buffer.
        if unsafe { libc::lsetxattr(t.as_ptr(), cname.as_ptr(), value.as_ptr().cast(), vlen, 0) }
            < 0
        {
            log::warn!(
                "Failed to copy extended attribute {} to {}: {}",
                String::from_utf8_lossy(name),
                to.display(),
                std::io::Error::last_os_error()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, FileTypeExt};

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lxc-storage-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

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

    #[test]
    fn copy_preserves_modes_and_links() {
        let d = scratch("copy");
        let src = d.join("src");
        std::fs::create_dir_all(src.join("etc/sub")).unwrap();
        std::fs::write(src.join("etc/hostname"), b"c1").unwrap();
        std::fs::set_permissions(
            src.join("etc/hostname"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        std::fs::set_permissions(src.join("etc/sub"), std::fs::Permissions::from_mode(0o750))
            .unwrap();
        symlink("../etc/hostname", src.join("link")).unwrap();
        let dst = d.join("dst");
        copy_tree(&src, &dst).unwrap();
        assert_eq!(std::fs::read(dst.join("etc/hostname")).unwrap(), b"c1");
        assert_eq!(
            std::fs::metadata(dst.join("etc/hostname")).unwrap().mode() & 0o7777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(dst.join("etc/sub")).unwrap().mode() & 0o7777,
            0o750
        );
        assert_eq!(
            std::fs::read_link(dst.join("link")).unwrap(),
            PathBuf::from("../etc/hostname")
        );
        assert_eq!(copy_tree(&src, &dst).unwrap_err().errno, libc::EEXIST);
        std::fs::remove_dir_all(&dst).unwrap();
        // Hard links, a sparse file, an xattr, times, a fifo.
        std::fs::hard_link(src.join("etc/hostname"), src.join("etc/hl")).unwrap();
        {
            let f = std::fs::File::create(src.join("sparse")).unwrap();
            f.set_len(64 << 20).unwrap();
            use std::os::unix::fs::FileExt;
            f.write_at(b"tail", (64 << 20) - 4).unwrap();
        }
        let fifo = cpath(&src.join("fifo")).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o640) }, 0);
        let f = cpath(&src.join("etc/hostname")).unwrap();
        // SAFETY: valid C strings and buffer.
        let xattr_ok = unsafe {
            libc::lsetxattr(f.as_ptr(), c"user.lxc".as_ptr(), b"v".as_ptr().cast(), 1, 0)
        } == 0;
        let old = libc::timespec {
            tv_sec: 1_000_000,
            tv_nsec: 5,
        };
        // SAFETY: valid C string and two timespecs.
        unsafe { libc::utimensat(libc::AT_FDCWD, f.as_ptr(), [old, old].as_ptr(), 0) };
        copy_tree(&src, &dst).unwrap();
        let a = std::fs::metadata(dst.join("etc/hostname")).unwrap();
        let b = std::fs::metadata(dst.join("etc/hl")).unwrap();
        assert_eq!(a.ino(), b.ino());
        assert_eq!(a.nlink(), 2);
        assert_eq!(a.mtime(), 1_000_000);
        let sp = std::fs::metadata(dst.join("sparse")).unwrap();
        assert_eq!(sp.len(), 64 << 20);
        assert!(sp.blocks() < 1024, "holes kept: {} blocks", sp.blocks());
        let data = std::fs::read(dst.join("sparse")).unwrap();
        assert_eq!(&data[data.len() - 4..], b"tail");
        assert!(std::fs::symlink_metadata(dst.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        if xattr_ok {
            let d = cpath(&dst.join("etc/hostname")).unwrap();
            let mut v = [0u8; 8];
            // SAFETY: valid C strings and buffer.
            let n = unsafe {
                libc::lgetxattr(d.as_ptr(), c"user.lxc".as_ptr(), v.as_mut_ptr().cast(), 8)
            };
            assert_eq!(n, 1);
            assert_eq!(v[0], b'v');
        }
        assert_eq!(
            copy_tree(&src.join("link"), &d.join("x"))
                .unwrap_err()
                .errno,
            libc::ENOTDIR
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
