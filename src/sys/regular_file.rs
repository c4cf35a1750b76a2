//! Opening and reading files whose path a container's owner controls (its
//! configuration and includes, its seccomp policy, the markers in its
//! directory). Only regular files are accepted: a FIFO would block the
//! caller forever, a device such as /dev/zero never ends, and opening some
//! devices acts (a watchdog arms). Reads stop at `MAX_READ_SIZE`.

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use crate::error::{Error, Result};

/// The largest file read whole (16 MiB): far above any real configuration
/// or policy, far below what would hurt the caller's memory.
pub const MAX_READ_SIZE: u64 = 16 << 20;

fn open_raw(path: &CString, flags: libc::c_int) -> std::io::Result<OwnedFd> {
    // SAFETY: open(2) on a NUL-terminated path.
    let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The file behind `handle` (an O_PATH descriptor) opened with `flags`,
/// through /proc/self/fd: that same inode, no path looked up again (what
/// was type checked on the handle is what gets opened).
pub fn reopen(handle: BorrowedFd<'_>, flags: libc::c_int) -> std::io::Result<File> {
    let magic = CString::new(super::at::proc_fd_path(handle).into_os_string().into_vec())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    open_raw(&magic, flags | libc::O_NOCTTY).map(File::from)
}

fn kind_name(mode: libc::mode_t) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => "a directory",
        libc::S_IFIFO => "a FIFO",
        libc::S_IFCHR => "a character device",
        libc::S_IFBLK => "a block device",
        libc::S_IFSOCK => "a socket",
        _ => "not a regular file",
    }
}

/// EISDIR for a directory, EINVAL for any other non-regular file.
fn require_regular(st: &libc::stat, path: &Path) -> Result<()> {
    let mode = st.st_mode;
    if mode & libc::S_IFMT == libc::S_IFREG {
        return Ok(());
    }
    let errno = if mode & libc::S_IFMT == libc::S_IFDIR {
        libc::EISDIR
    } else {
        libc::EINVAL
    };
    Err(Error::new(
        errno,
        format!(
            "Refusing to read {}: {}, not a regular file",
            path.display(),
            kind_name(mode)
        ),
    ))
}

/// Opens `path` (symlinks followed) with `flags` (O_RDONLY, O_RDWR) only
/// when it is a regular file. Nothing blocks and no device is opened: the
/// type is checked on an O_PATH descriptor, then that same inode is
/// reopened through /proc/self/fd, so swapping the path in between gains
/// nothing. Without /proc the path is opened again non-blocking, and the
/// new descriptor must be the same regular file.
pub fn open_regular(path: &Path, flags: libc::c_int) -> Result<File> {
    let cpath = super::cpath(path)?;
    let pinned =
        open_raw(&cpath, libc::O_PATH).map_err(|e| Error::io("Failed to open", path, &e))?;
    let st = super::at::stat(pinned.as_fd()).map_err(|e| Error::io("Failed to stat", path, &e))?;
    require_regular(&st, path)?;
    match reopen(pinned.as_fd(), flags) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            let fd = open_raw(&cpath, flags | libc::O_NOCTTY | libc::O_NONBLOCK)
                .map_err(|e| Error::io("Failed to open", path, &e))?;
            let now =
                super::at::stat(fd.as_fd()).map_err(|e| Error::io("Failed to stat", path, &e))?;
            require_regular(&now, path)?;
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) {
                return Err(Error::new(
                    libc::EAGAIN,
                    format!("{} was replaced while being opened", path.display()),
                ));
            }
            Ok(File::from(fd))
        }
        other => other.map_err(|e| Error::io("Failed to open", path, &e)),
    }
}

/// Opens `path` for writing from its start, created with `mode` when
/// missing, only as a regular file reached without a symlink: in a
/// directory its owner controls, a planted symlink would redirect the
/// write and a FIFO would block it (ELOOP for a symlink, EINVAL for a FIFO
/// or device, EISDIR for a directory).
pub fn rewrite_regular(path: &Path, mode: libc::mode_t) -> Result<File> {
    let cpath = super::cpath(path)?;
    let flags =
        libc::O_WRONLY | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY;
    // SAFETY: open(2) on a NUL-terminated path.
    let fd = unsafe { libc::open(cpath.as_ptr(), flags | libc::O_CLOEXEC, mode) };
    if fd < 0 {
        return Err(Error::last_io("Failed to open for writing", path));
    }
    // SAFETY: a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let st = super::at::stat(fd.as_fd()).map_err(|e| Error::io("Failed to stat", path, &e))?;
    require_regular(&st, path)?;
    let file = File::from(fd);
    file.set_len(0)
        .map_err(|e| Error::io("Failed to truncate", path, &e))?;
    Ok(file)
}

fn too_big(path: &Path) -> Error {
    Error::new(
        libc::EFBIG,
        format!(
            "Refusing to read {}: larger than {MAX_READ_SIZE} bytes",
            path.display()
        ),
    )
}

/// The whole content of the regular file `path`, at most `MAX_READ_SIZE`
/// bytes (EFBIG beyond; see [`open_regular`] for the other errors).
pub fn read_regular_file(path: &Path) -> Result<Vec<u8>> {
    let file = open_regular(path, libc::O_RDONLY)?;
    let size = file
        .metadata()
        .map_err(|e| Error::io("Failed to stat", path, &e))?
        .len();
    if size > MAX_READ_SIZE {
        return Err(too_big(path));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // The file may grow while it is read: the bound holds regardless.
    (&file)
        .take(MAX_READ_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("Failed to read", path, &e))?;
    if bytes.len() as u64 > MAX_READ_SIZE {
        return Err(too_big(path));
    }
    Ok(bytes)
}

/// [`read_regular_file`] as UTF-8 text (EINVAL when it is not).
pub fn read_regular_text(path: &Path) -> Result<String> {
    String::from_utf8(read_regular_file(path)?)
        .map_err(|_| Error::invalid(format!("{} is not UTF-8 text", path.display())))
}

/// mkfifo(3), for the tests of every reader that must refuse one.
#[cfg(test)]
pub(crate) fn mkfifo(path: &Path) {
    let p = super::cpath(path).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(p.as_ptr(), 0o600) },
        0,
        "mkfifo {path:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    fn tmpdir(tag: &str) -> std::path::PathBuf {
        crate::test_support::scratch_dir(&format!("regfile-{tag}"))
    }

    #[test]
    fn reads_a_regular_file_and_through_a_symlink() {
        let d = tmpdir("plain");
        std::fs::write(d.join("f"), "lxc.arch = x86_64\n").unwrap();
        std::os::unix::fs::symlink(d.join("f"), d.join("l")).unwrap();
        assert_eq!(
            read_regular_text(&d.join("f")).unwrap(),
            "lxc.arch = x86_64\n"
        );
        assert_eq!(
            read_regular_text(&d.join("l")).unwrap(),
            "lxc.arch = x86_64\n"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let d = tmpdir("fifo");
        let fifo = d.join("fifo");
        mkfifo(&fifo);
        let started = Instant::now();
        let e = read_regular_file(&fifo).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(e.errno, libc::EINVAL);
        assert!(
            e.message.contains("a FIFO") && e.message.contains("fifo"),
            "{e}"
        );
        // A symlink to it too.
        std::os::unix::fs::symlink(&fifo, d.join("l")).unwrap();
        assert_eq!(
            read_regular_file(&d.join("l")).unwrap_err().errno,
            libc::EINVAL
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn devices_directories_and_missing_files() {
        let e = read_regular_file(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.errno, libc::EINVAL);
        assert!(e.message.contains("/dev/zero: a character device"), "{e}");
        assert_eq!(
            read_regular_file(Path::new("/")).unwrap_err().errno,
            libc::EISDIR
        );
        assert_eq!(
            read_regular_file(Path::new("/nonexistent/x"))
                .unwrap_err()
                .errno,
            libc::ENOENT
        );
    }

    #[test]
    fn an_oversized_file_is_refused() {
        let d = tmpdir("big");
        let big = d.join("big");
        let f = File::create(&big).unwrap();
        f.set_len(MAX_READ_SIZE + 1).unwrap(); // sparse: nothing is written
        let e = read_regular_file(&big).unwrap_err();
        assert_eq!(e.errno, libc::EFBIG);
        assert!(e.message.contains("big"), "{e}");
        f.set_len(MAX_READ_SIZE).unwrap();
        assert_eq!(read_regular_file(&big).unwrap().len() as u64, MAX_READ_SIZE);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn rewrites_only_regular_files_reached_without_a_symlink() {
        let d = tmpdir("rewrite");
        let f = d.join("f");
        std::fs::write(&f, "old content").unwrap();
        let mut w = rewrite_regular(&f, 0o600).unwrap();
        std::io::Write::write_all(&mut w, b"new").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"new");
        let made = d.join("made");
        drop(rewrite_regular(&made, 0o600).unwrap());
        assert!(made.is_file());
        std::os::unix::fs::symlink(&f, d.join("l")).unwrap();
        assert_eq!(
            rewrite_regular(&d.join("l"), 0o600).unwrap_err().errno,
            libc::ELOOP
        );
        assert_eq!(std::fs::read(&f).unwrap(), b"new");
        mkfifo(&d.join("fifo"));
        let started = Instant::now();
        let e = rewrite_regular(&d.join("fifo"), 0o600).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        // No reader: the non-blocking open fails at once.
        assert_eq!(e.errno, libc::ENXIO);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn opens_read_write_for_markers() {
        let d = tmpdir("rw");
        std::fs::write(d.join("m"), "").unwrap();
        let f = open_regular(&d.join("m"), libc::O_RDWR).unwrap();
        // SAFETY: fcntl F_GETFL on a descriptor we hold.
        let fl = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(fl & libc::O_ACCMODE, libc::O_RDWR);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
