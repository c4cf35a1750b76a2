//! Pseudo-terminals the caller allocates itself: from a container's devpts
//! instance (so that a process inside sees one of the container's
//! `/dev/pts/N`) or from the host's, and the relay between a pty master and
//! the caller's descriptors (`relay`).

pub mod relay;

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::error::{Error, Result};

/// Both ends of a fresh pty, CLOEXEC, neither anyone's controlling terminal.
#[derive(Debug)]
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
    /// N of `/dev/pts/N` in the devpts instance it comes from.
    pub number: u32,
}

/// A new pty from the devpts instance `devpts` (a descriptor of its
/// directory), or from the host's `/dev/ptmx` when None.
///
/// The slave comes from the master itself (TIOCGPTPEER), never from a path
/// the container could have replaced.
pub fn allocate(devpts: Option<BorrowedFd<'_>>) -> Result<Pty> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    let fd = match devpts {
        // SAFETY: a single path component beneath a directory descriptor;
        // O_NOFOLLOW keeps a symlink from leading elsewhere.
        Some(dir) => unsafe {
            libc::openat(dir.as_raw_fd(), c"ptmx".as_ptr(), flags | libc::O_NOFOLLOW)
        },
        // SAFETY: a constant C string.
        None => unsafe { libc::open(c"/dev/ptmx".as_ptr(), flags) },
    };
    if fd < 0 {
        return Err(Error::last_os(if devpts.is_some() {
            "Failed to open ptmx in the container's devpts"
        } else {
            "Failed to open /dev/ptmx"
        }));
    }
    // SAFETY: a fresh descriptor we own.
    let master = unsafe { OwnedFd::from_raw_fd(fd) };
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int from our stack.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(Error::last_os("Failed to unlock the pty"));
    }
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes an unsigned int to our stack.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) } < 0 {
        return Err(Error::last_os("Failed to get the pty's number"));
    }
    // SAFETY: TIOCGPTPEER returns a new descriptor or -1.
    let fd = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) };
    if fd < 0 {
        return Err(Error::last_os(
            "Failed to open the pty's slave (TIOCGPTPEER)",
        ));
    }
    Ok(Pty {
        master,
        // SAFETY: a fresh descriptor we own.
        slave: unsafe { OwnedFd::from_raw_fd(fd) },
        number,
    })
}

/// Runs `f` with SIGTTOU blocked in this thread: a terminal setting
/// changed from a background process group then applies instead of
/// stopping the whole caller (the kernel skips the signal when blocked).
pub fn without_sigttou<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: sigset manipulation on our stack; the old mask is restored.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        let blocked = libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old) == 0;
        let r = f();
        if blocked {
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        }
        r
    }
}

/// Whether `fd` is a terminal.
pub fn is_tty(fd: i32) -> bool {
    // SAFETY: isatty has no memory-safety preconditions.
    fd >= 0 && unsafe { libc::isatty(fd) } == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_pty_pair_talks() {
        // SAFETY: borrowing a directory descriptor we keep open.
        let pts = std::fs::File::open("/dev/pts").unwrap();
        for devpts in [
            None,
            Some(unsafe { BorrowedFd::borrow_raw(pts.as_raw_fd()) }),
        ] {
            let pty = match allocate(devpts) {
                Ok(p) => p,
                // No ptys in this sandbox: nothing to check.
                Err(e) if e.errno == libc::ENOENT || e.errno == libc::EACCES => return,
                Err(e) => panic!("{e}"),
            };
            assert!(is_tty(pty.slave.as_raw_fd()));
            // SAFETY: writing and reading small buffers on our descriptors.
            unsafe {
                assert_eq!(
                    libc::write(pty.slave.as_raw_fd(), b"x".as_ptr().cast(), 1),
                    1
                );
                let mut b = [0u8; 1];
                assert_eq!(
                    libc::read(pty.master.as_raw_fd(), b.as_mut_ptr().cast(), 1),
                    1
                );
                assert_eq!(&b, b"x");
                let flags = libc::fcntl(pty.master.as_raw_fd(), libc::F_GETFD);
                assert_ne!(flags & libc::FD_CLOEXEC, 0);
            }
        }
    }
}
