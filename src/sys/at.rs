//! Path operations relative to a directory descriptor: openat2(2) and the
//! `*at` calls. They return `io::Error` so that callers can tell "not
//! there" (ENOENT) and "already there" (EEXIST) from real failures.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn check(r: libc::c_long) -> io::Result<libc::c_long> {
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r)
}

/// openat2(2) of `path` from `dir` with open `flags` (O_CLOEXEC added) and
/// RESOLVE_* `resolve` flags. EAGAIN (a rename raced a `..` lookup under
/// RESOLVE_IN_ROOT/BENEATH) is retried a few times.
pub fn openat2(dir: BorrowedFd<'_>, path: &Path, flags: i32, resolve: u64) -> io::Result<OwnedFd> {
    let p = c_name(path.as_os_str())?;
    // SAFETY: open_how is plain integers; all-zero is valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = resolve;
    let mut tries = 0;
    loop {
        // SAFETY: openat2 with a NUL-terminated path and an open_how of the
        // size we pass.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                p.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        match check(r) {
            // SAFETY: the kernel returned a fresh descriptor.
            Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) }),
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) && tries < 16 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// What the `*at` calls below look a path up from: `dir`, or without one
/// the working directory (an absolute path is then looked up as is).
fn base<'a>(dir: impl Into<Option<BorrowedFd<'a>>>) -> RawFd {
    dir.into().map_or(libc::AT_FDCWD, |d| d.as_raw_fd())
}

/// mkdirat(2): a directory `name` in `dir` (`mode` less the umask).
pub fn mkdirat<'a>(
    dir: impl Into<Option<BorrowedFd<'a>>>,
    name: &OsStr,
    mode: libc::mode_t,
) -> io::Result<()> {
    let n = c_name(name)?;
    // SAFETY: a NUL-terminated name relative to a descriptor we borrow.
    check(unsafe { libc::mkdirat(base(dir), n.as_ptr(), mode) } as libc::c_long).map(drop)
}

/// openat(2) of `path` from `dir` with `flags` (O_CLOEXEC and O_NOCTTY
/// added; nothing is created).
pub fn openat<'a>(
    dir: impl Into<Option<BorrowedFd<'a>>>,
    path: &Path,
    flags: i32,
) -> io::Result<OwnedFd> {
    let p = c_name(path.as_os_str())?;
    let flags = flags | libc::O_CLOEXEC | libc::O_NOCTTY;
    // SAFETY: a NUL-terminated path relative to a descriptor we borrow.
    let fd = check(unsafe { libc::openat(base(dir), p.as_ptr(), flags) } as libc::c_long)?;
    // SAFETY: the kernel returned a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// faccessat(2): whether this process may access `path` from `dir` as
/// `mode` (R_OK, W_OK, X_OK) says.
pub fn accessat<'a>(
    dir: impl Into<Option<BorrowedFd<'a>>>,
    path: &Path,
    mode: i32,
) -> io::Result<()> {
    let p = c_name(path.as_os_str())?;
    // SAFETY: as above.
    check(unsafe { libc::faccessat(base(dir), p.as_ptr(), mode, 0) } as libc::c_long).map(drop)
}

/// fstatat(2) of `path` from `dir`, following a final symlink.
pub fn statat<'a>(dir: impl Into<Option<BorrowedFd<'a>>>, path: &Path) -> io::Result<libc::stat> {
    let p = c_name(path.as_os_str())?;
    // SAFETY: fstatat into a struct on our stack, with a NUL-terminated path.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        check(libc::fstatat(base(dir), p.as_ptr(), &mut st, 0) as libc::c_long)?;
        Ok(st)
    }
}

/// An empty regular file `name` in `dir`; EEXIST when anything (a symlink
/// included: it is not followed) is there already.
pub fn create_file_at(dir: BorrowedFd<'_>, name: &OsStr, mode: libc::mode_t) -> io::Result<()> {
    let n = c_name(name)?;
    let flags = libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_WRONLY | libc::O_CLOEXEC;
    // SAFETY: as above; the descriptor is closed by OwnedFd.
    let fd = check(unsafe { libc::openat(dir.as_raw_fd(), n.as_ptr(), flags, mode) } as _)?;
    // SAFETY: a fresh descriptor.
    drop(unsafe { OwnedFd::from_raw_fd(fd as i32) });
    Ok(())
}

/// mknodat(2): a device node `name` in `dir`.
pub fn mknodat(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    mode: libc::mode_t,
    major: u32,
    minor: u32,
) -> io::Result<()> {
    let n = c_name(name)?;
    let dev = libc::makedev(major, minor);
    // SAFETY: as above.
    check(unsafe { libc::mknodat(dir.as_raw_fd(), n.as_ptr(), mode, dev) } as libc::c_long)
        .map(drop)
}

/// symlinkat(2): a symlink `name` in `dir` pointing to `target`.
pub fn symlinkat(target: &Path, dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    let t = c_name(target.as_os_str())?;
    let n = c_name(name)?;
    // SAFETY: NUL-terminated strings and a descriptor we borrow.
    check(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) } as libc::c_long)
        .map(drop)
}

/// readlinkat(2): what the symlink `name` in `dir` points to.
pub fn readlinkat(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let n = c_name(name)?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: the buffer is ours and its length is passed.
    let len = check(unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            n.as_ptr(),
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
        )
    } as libc::c_long)?;
    buf.truncate(len as usize);
    Ok(PathBuf::from(std::ffi::OsString::from_vec(buf)))
}

/// The file type bits (S_IFMT) of what `fd` refers to (an O_PATH
/// descriptor of a symlink gives S_IFLNK).
pub fn file_type(fd: BorrowedFd<'_>) -> io::Result<libc::mode_t> {
    stat(fd).map(|st| st.st_mode & libc::S_IFMT)
}

/// fstat of what `fd` refers to.
pub fn stat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    // SAFETY: fstat into a struct on our stack.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        check(libc::fstat(fd.as_raw_fd(), &mut st) as libc::c_long)?;
        Ok(st)
    }
}

/// The /proc magic link naming `fd`: for the calls that take only a path
/// (mount(2)), so that they act on what `fd` refers to instead of looking
/// a path up again. Needs the host's /proc, as before pivot_root.
pub fn proc_fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}
