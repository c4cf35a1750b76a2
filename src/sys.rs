//! Thin, typed wrappers over the syscalls the container setup needs. They
//! decide nothing; they turn errno into `Error` with the path and the step.

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::ptr;

use crate::error::{Error, Result};

pub mod anon_pages;
pub mod at;
pub mod clone;
pub mod eh_frame;
pub mod epoll;
pub mod lean_malloc;
pub mod mount_api;
pub mod netlink;
pub mod new_root;
pub mod nsthread;
pub mod own_stack_thread;
pub mod procfs;
pub mod proctitle;
pub mod raw;
pub mod regular_file;
pub mod resident;
pub mod sealed_exe;
pub mod socket;
pub mod spawn;
pub mod tty;
pub mod unix_diag;

pub use clone::clone3_fork;
pub use regular_file::{
    open_regular, read_regular_file, read_regular_text, reopen, rewrite_regular, MAX_READ_SIZE,
};

/// pidfd_send_signal(2) of `signo` (0: only whether the process exists)
/// through `pidfd`. Allocation-free.
pub fn pidfd_send_signal(pidfd: &impl std::os::fd::AsRawFd, signo: i32) -> std::io::Result<()> {
    // SAFETY: a signal through a descriptor the caller holds.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signo,
            0usize,
            0u32,
        )
    };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// pidfd_open(2); None when the process is gone (or the call fails).
pub fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open returns a fresh descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0u32) };
    // SAFETY: a fresh descriptor we own.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Whether the process behind `pidfd` is a live child of ours: waitid
/// without reaping it (ECHILD: someone else's; exited: not live).
pub fn is_live_child(pidfd: &impl std::os::fd::AsRawFd) -> bool {
    // SAFETY: waitid into a zeroed siginfo on our stack.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PIDFD,
            pidfd.as_raw_fd() as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        r == 0 && info.si_pid() == 0
    }
}

/// Clears FD_CLOEXEC so `fd` survives an exec. Raw syscalls only
/// (async-signal-safe, for between fork and exec).
pub fn keep_on_exec(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor number, no pointers.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

pub fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// waitpid(2) of child `pid` with `flags`, retried when a signal
/// interrupts it: its wait status.
pub fn wait_status(pid: libc::pid_t, flags: libc::c_int) -> std::io::Result<libc::c_int> {
    let mut status = 0;
    loop {
        // SAFETY: waiting for a child of ours into a local status.
        if unsafe { libc::waitpid(pid, &mut status, flags) } >= 0 {
            return Ok(status);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

pub fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid(format!("{s:?} contains a NUL byte")))
}

pub fn cpath(p: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::invalid(format!("{} contains a NUL byte", p.display())))
}

/// The filesystem type (statfs magic) of what `fd` refers to; None when
/// fstatfs fails.
pub fn fs_magic(fd: RawFd) -> Option<i64> {
    // SAFETY: fstatfs into a struct on our stack.
    unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        if libc::fstatfs(fd, &mut st) < 0 {
            return None;
        }
        Some(st.f_type as i64)
    }
}

/// mount(2). `source`/`fstype`/`data` may be None.
pub fn mount(
    source: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> Result<()> {
    let src = source.map(cstring).transpose()?;
    let fs = fstype.map(cstring).transpose()?;
    let dat = data.map(cstring).transpose()?;
    let tgt = cpath(target)?;
    let opt = |c: &Option<CString>| c.as_ref().map_or(ptr::null(), |c| c.as_ptr());
    // SAFETY: all pointers are NUL-terminated strings or NULL.
    let rc = unsafe {
        libc::mount(
            opt(&src),
            tgt.as_ptr(),
            opt(&fs),
            flags,
            opt(&dat) as *const libc::c_void,
        )
    };
    if rc < 0 {
        return Err(Error::last_os(format_args!(
            "Failed to mount {} on {} (type {}, flags {flags:#x}, data {})",
            source.unwrap_or("none"),
            target.display(),
            fstype.unwrap_or("none"),
            data.unwrap_or("")
        )));
    }
    Ok(())
}

/// Makes every mount of our mount namespace a slave of its peer
/// (MS_SLAVE|MS_REC on /): host mounts still reach us, nothing mounted
/// here reaches the host. One syscall, no allocation: async-signal-safe,
/// so it may run between fork and exec.
pub fn make_rslave() -> std::io::Result<()> {
    // SAFETY: a static C string and NULLs.
    let rc = unsafe {
        libc::mount(
            ptr::null(),
            c"/".as_ptr(),
            ptr::null(),
            libc::MS_SLAVE | libc::MS_REC,
            ptr::null(),
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// A private mount namespace for the calling process: unshare(CLONE_NEWNS)
/// then [`make_rslave`]. Raw syscalls only (async-signal-safe).
pub fn unshare_rslave() -> std::io::Result<()> {
    // SAFETY: unshare takes no pointers.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    make_rslave()
}

/// `mkdir -p` whose new directories get mode 0755 (less the umask, as
/// mkdir(2)); `what` names the directory in the error ("Failed to create
/// <what> <path>: ...").
pub fn mkdir_p(path: &Path, what: &str) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(path)
        .map_err(|e| Error::io(&format!("Failed to create {what}"), path, &e))
}

/// Makes `dir` (mode 0700, its parents as `mkdir -p`) unless it exists,
/// then checks it with [`check_private_dir`].
pub fn private_dir(dir: &Path, what: &str) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("Failed to create", parent, &e))?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("Failed to create", dir, &e)),
    }
    check_private_dir(dir, what)
}

/// Refuses a `dir` that is not this user's own directory or that others
/// may enter: `what` is kept only in one that is.
pub fn check_private_dir(dir: &Path, what: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(dir).map_err(|e| Error::io("Failed to stat", dir, &e))?;
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    if !m.is_dir() || m.uid() != euid || m.mode() & 0o077 != 0 {
        return Err(Error::new(
            libc::EPERM,
            format!(
                "{} is not a private directory of uid {euid}: {what} is not kept there",
                dir.display()
            ),
        ));
    }
    Ok(())
}

pub fn umount_detach(target: &Path) -> Result<()> {
    let tgt = cpath(target)?;
    // SAFETY: a valid C string.
    if unsafe { libc::umount2(tgt.as_ptr(), libc::MNT_DETACH) } < 0 {
        return Err(Error::last_os(format_args!(
            "Failed to unmount {}",
            target.display()
        )));
    }
    Ok(())
}

pub fn mknod(path: &Path, mode: libc::mode_t, major: u32, minor: u32) -> Result<()> {
    let p = cpath(path)?;
    // SAFETY: a valid C string.
    if unsafe { libc::mknod(p.as_ptr(), mode, libc::makedev(major, minor)) } < 0 {
        return Err(Error::last_os(format_args!(
            "Failed to create device node {}",
            path.display()
        )));
    }
    Ok(())
}

pub fn sethostname(name: &str) -> Result<()> {
    // SAFETY: pointer and length describe `name`.
    if unsafe { libc::sethostname(name.as_ptr() as *const libc::c_char, name.len()) } < 0 {
        return Err(Error::last_os(format_args!(
            "Failed to set hostname to \"{name}\""
        )));
    }
    Ok(())
}

/// Sets or clears O_NONBLOCK on `fd`.
pub fn set_blocking(fd: RawFd, blocking: bool) -> Result<()> {
    // SAFETY: fcntl flag update on a descriptor the caller owns.
    let r = unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        let fl = if blocking {
            fl & !libc::O_NONBLOCK
        } else {
            fl | libc::O_NONBLOCK
        };
        libc::fcntl(fd, libc::F_SETFL, fl)
    };
    if r < 0 {
        return Err(Error::last_os("Failed to change O_NONBLOCK"));
    }
    Ok(())
}

/// Leaves the caller's session, terminal and directory: a new session,
/// /dev/null on fds 0-2, `/` as the working directory. Best effort: the
/// caller is no process group leader, so `setsid` cannot fail.
pub fn leave_session() {
    // SAFETY: plain syscalls on this process's own descriptors and session.
    unsafe {
        libc::setsid();
        // Not close-on-exec: where it lands on 0-2 it is kept as stdio.
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for std_fd in 0..3 {
                libc::dup2(null, std_fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
        libc::chdir(c"/".as_ptr());
    }
}

/// The size of a memory page.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// What a program of ours entered through its own C `main` (no std
/// runtime) needs of that runtime: SIGPIPE ignored (a write to a closed
/// socket fails with EPIPE instead of killing it), and descriptors 0-2
/// open, on /dev/null where closed, so that nothing it opens or receives
/// takes a standard descriptor's number; malloc with one arena and large
/// buffers mapped; the spawner's environment (see `lean_malloc`).
pub fn runtime_init() {
    lean_malloc::restore_spawner_environment();
    eh_frame::register_if_prelinked();
    // SAFETY: polling and opening this process's own descriptors; setting
    // a disposition before any thread exists.
    unsafe {
        let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
            fd,
            events: 0,
            revents: 0,
        });
        if libc::poll(fds.as_mut_ptr(), 3, 0) >= 0 {
            for closed in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
                // The lowest free number: this one, as the lower ones are open.
                let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if fd >= 0 && fd != closed.fd {
                    libc::dup2(fd, closed.fd);
                    libc::close(fd);
                }
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        // Its helper threads allocate from the one heap: an arena of
        // their own would keep a touched page for the container's life.
        libc::mallopt(libc::M_ARENA_MAX, 1);
        // Large buffers (netlink replies, /proc files) are mapped and
        // unmapped: in the heap each one leaves a hole that what is
        // allocated next scatters into.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 16 * 1024);
    }
}

/// A close-on-exec pipe: (read end, write end); `what` names it in the
/// error.
pub fn pipe(what: &str) -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 into a local array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(Error::last_os(format_args!("Failed to create {what}")));
    }
    // SAFETY: two fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A pipe-like connected pair of CLOEXEC sockets.
pub fn socketpair_seqpacket() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc < 0 {
        return Err(Error::last_os("Failed to create a socket pair"));
    }
    // SAFETY: both descriptors are fresh and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Whether the filesystem at `path` is read-only (its mount or its
/// superblock); false when it cannot be told.
pub fn is_read_only(path: &Path) -> bool {
    let Ok(p) = cpath(path) else {
        return false;
    };
    // SAFETY: statvfs into a struct on our stack.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        libc::statvfs(p.as_ptr(), &mut st) == 0 && st.f_flag & libc::ST_RDONLY != 0
    }
}

/// Descriptor `fd`, handed to this process at its exec, when it is open.
/// Only for a number nothing in this process opened itself.
pub fn inherited_fd(fd: RawFd) -> Option<OwnedFd> {
    // SAFETY: fcntl probes whether the descriptor exists before we own it.
    let open = unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0;
    // SAFETY: open, and the caller says it is ours to own.
    open.then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets FD_CLOEXEC on every descriptor from `first` up.
pub fn cloexec_from(first: RawFd) {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only flags descriptors.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC as libc::c_uint,
        )
    };
}
