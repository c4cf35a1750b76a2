//! Copy clones of a `dir` rootfs: the tree copied as `rsync -aHXS` copies
//! it for LXC. One thread walks the tree and makes every entry; regular
//! files' contents and their metadata are copied by a few threads
//! meanwhile: on this VM a copy of 1000 files of 100 kB with a cold cache
//! took half the time with four readers in flight as with one (the disk
//! serves parallel reads), and less with a warm one. Directories get their
//! mode, owner and times last, children first, so that a directory made
//! read-only is never one a copy still has to write into.

use std::ffi::CString;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

use crate::error::{Error, Result};
use crate::sys::cpath;

/// Threads copying files' contents while the walk goes on.
const COPY_THREADS: usize = 4;

/// Files made and waiting for a copying thread (each holds two
/// descriptors: the queue stays far below any descriptor limit).
const QUEUED_FILES: usize = 4 * COPY_THREADS;

/// Copies the tree at `src` to `dst` (which must not exist), as
/// `rsync -aHXS` does for LXC's copy clones: directories, regular files
/// (reflinked when the filesystem can, else copied in kernel with
/// `copy_file_range`, holes kept), symlinks (as links), device nodes,
/// fifos and sockets, hard links (as hard links), owners (when permitted),
/// modes, extended attributes and timestamps. Stays on `src`'s
/// filesystem: mount points become empty directories.
pub fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    let meta = tree_root(src)?;
    Copier::run(&meta, |c| c.copy_dir(src, dst, &meta))
}

/// `copy_tree` into the existing directory `dst` (a new btrfs subvolume):
/// its contents, then its owner, mode, xattrs and times.
pub fn copy_tree_into(src: &Path, dst: &Path) -> Result<()> {
    let meta = tree_root(src)?;
    Copier::run(&meta, |c| {
        c.copy_contents(src, dst, &meta)?;
        c.dirs
            .push((src.to_path_buf(), dst.to_path_buf(), meta.clone()));
        Ok(())
    })
}

/// The metadata of `src`, a directory.
fn tree_root(src: &Path) -> Result<std::fs::Metadata> {
    let meta = std::fs::symlink_metadata(src).map_err(|e| Error::io("Failed to stat", src, &e))?;
    if !meta.is_dir() {
        return Err(Error::new(
            libc::ENOTDIR,
            format!("Cannot copy {}: not a directory", src.display()),
        ));
    }
    Ok(meta)
}

/// A regular file made by the walk, for a copying thread: its contents,
/// then its owner, xattrs, mode and times.
struct FileJob {
    from: PathBuf,
    to: PathBuf,
    meta: std::fs::Metadata,
    src: std::fs::File,
    dst: std::fs::File,
}

/// The walk.
struct Copier<'a> {
    dev: u64,
    /// (dev, inode) of files with several links -> their first copy.
    links: std::collections::HashMap<(u64, u64), PathBuf>,
    /// Where files go to the copying threads (None: copied by the walk).
    jobs: Option<mpsc::SyncSender<FileJob>>,
    /// Set by a copying thread that failed: the walk stops.
    failed: &'a AtomicBool,
    /// Copies made by the walk itself (no thread could be made).
    data: DataCopier,
    /// Directories made, to be finished once all is copied (children
    /// first, the order they were completed in).
    dirs: Vec<(PathBuf, PathBuf, std::fs::Metadata)>,
}

impl Copier<'_> {
    /// Runs `walk` with the copying threads, then finishes the directories;
    /// the first error of either.
    fn run(
        root: &std::fs::Metadata,
        walk: impl FnOnce(&mut Copier<'_>) -> Result<()>,
    ) -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<FileJob>(QUEUED_FILES);
        let rx = Mutex::new(rx);
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        let failed = AtomicBool::new(false);
        let walked = std::thread::scope(|scope| {
            let worker = || {
                let mut data = DataCopier::default();
                loop {
                    let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(job) = job else { break };
                    if failed.load(Ordering::Relaxed) {
                        continue;
                    }
                    if let Err(e) = data.copy(job) {
                        failed.store(true, Ordering::Relaxed);
                        let mut first = first_error.lock().unwrap_or_else(|p| p.into_inner());
                        first.get_or_insert(e);
                    }
                }
            };
            let threads = (0..COPY_THREADS)
                .filter(|_| {
                    std::thread::Builder::new()
                        .name("lxc-copy".into())
                        .stack_size(128 * 1024)
                        .spawn_scoped(scope, worker)
                        .is_ok()
                })
                .count();
            let mut copier = Copier {
                dev: root.dev(),
                links: std::collections::HashMap::new(),
                jobs: (threads > 0).then_some(tx),
                failed: &failed,
                data: DataCopier::default(),
                dirs: Vec::new(),
            };
            let walked = walk(&mut copier);
            // The threads end once the queue is empty.
            copier.jobs = None;
            walked.map(|()| std::mem::take(&mut copier.dirs))
        });
        if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        for (from, to, meta) in walked? {
            finish_copy(&from, &to, &meta)?;
        }
        Ok(())
    }

    fn copy_dir(&mut self, src: &Path, dst: &Path, meta: &std::fs::Metadata) -> Result<()> {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dst)
            .map_err(|e| Error::io("Failed to create directory", dst, &e))?;
        self.copy_contents(src, dst, meta)?;
        self.dirs
            .push((src.to_path_buf(), dst.to_path_buf(), meta.clone()));
        Ok(())
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
            return self.copy_file(from, to, m);
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

    /// Makes the copy of a regular file (so that a later hard link finds
    /// it) and hands it to a copying thread.
    fn copy_file(&mut self, from: &Path, to: &Path, m: &std::fs::Metadata) -> Result<()> {
        if self.failed.load(Ordering::Relaxed) {
            return Err(Error::new(libc::ECANCELED, "The copy failed"));
        }
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
        let job = FileJob {
            from: from.to_path_buf(),
            to: to.to_path_buf(),
            meta: m.clone(),
            src,
            dst,
        };
        match &self.jobs {
            Some(tx) => match tx.send(job) {
                Ok(()) => Ok(()),
                // Every thread is gone (they only end with the queue).
                Err(mpsc::SendError(job)) => self.data.copy(job),
            },
            None => self.data.copy(job),
        }
    }
}

/// Copies files' contents.
#[derive(Default)]
struct DataCopier {
    /// The read/write fallback's buffer, made on first use.
    buf: Vec<u8>,
}

impl DataCopier {
    /// A file's contents, then its metadata.
    fn copy(&mut self, job: FileJob) -> Result<()> {
        let (sfd, dfd) = (job.src.as_raw_fd(), job.dst.as_raw_fd());
        let to = &job.to;
        let size = job.meta.len() as i64;
        // A reflink shares the blocks (btrfs, xfs): instant, holes included.
        // SAFETY: two valid descriptors.
        let reflinked = size > 0 && unsafe { libc::ioctl(dfd, libc::FICLONE, sfd) } == 0;
        let mut pos: i64 = 0;
        while !reflinked && pos < size {
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
        if !reflinked && unsafe { libc::ftruncate(dfd, size) } < 0 {
            return Err(Error::last_io("Failed to set the size of", to));
        }
        drop((job.src, job.dst));
        finish_copy(&job.from, to, &job.meta)
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

/// A copy's owner (when permitted), xattrs, mode and times, as the
/// original's.
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

    use super::super::test_scratch as scratch;

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

    /// Many files through the copying threads, hard links between them,
    /// and directories that only their owner may enter or none may write:
    /// every content and mode arrives.
    #[test]
    fn many_files_and_closed_directories() {
        let d = scratch("many");
        let src = d.join("src");
        for i in 0..40 {
            let dir = src.join(format!("d{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            for j in 0..10 {
                std::fs::write(dir.join(format!("f{j}")), format!("{i}-{j}").repeat(1000)).unwrap();
            }
            std::fs::hard_link(dir.join("f0"), dir.join("hl")).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500 - i % 2 * 0o400))
                .unwrap();
        }
        let dst = d.join("dst");
        copy_tree(&src, &dst).unwrap();
        for i in 0..40 {
            let dir = dst.join(format!("d{i}"));
            for j in 0..10 {
                let got = std::fs::read_to_string(dir.join(format!("f{j}"))).unwrap();
                assert_eq!(got, format!("{i}-{j}").repeat(1000));
            }
            assert_eq!(
                std::fs::metadata(dir.join("hl")).unwrap().ino(),
                std::fs::metadata(dir.join("f0")).unwrap().ino()
            );
            let mode = std::fs::metadata(&dir).unwrap().mode() & 0o7777;
            assert_eq!(mode, 0o500 - i % 2 * 0o400);
        }
        for root in [&src, &dst] {
            for i in 0..40 {
                let dir = root.join(format!("d{i}"));
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
            }
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
