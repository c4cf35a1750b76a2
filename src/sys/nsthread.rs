//! Work inside one namespace of a running container without forking the
//! caller: network and mount namespaces are per thread (the mount namespace
//! once the thread stops sharing its fs context), so a short-lived thread
//! of our own joins it, does the work, and ends.

use std::os::fd::{AsRawFd, OwnedFd};

use crate::error::{Error, Result};

/// Which namespace to join.
#[derive(Debug, Clone, Copy)]
pub enum Ns {
    Net,
    Mnt,
}

impl Ns {
    fn file(self) -> &'static str {
        match self {
            Ns::Net => "net",
            Ns::Mnt => "mnt",
        }
    }

    fn flag(self) -> i32 {
        match self {
            Ns::Net => libc::CLONE_NEWNET,
            Ns::Mnt => libc::CLONE_NEWNS,
        }
    }
}

/// Runs `f` in a new thread that joined namespace `ns` of `pid`. In the
/// mount namespace the thread's root and cwd are the container's root.
pub fn in_namespace<T: Send + 'static>(
    pid: i32,
    ns: Ns,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let path = format!("/proc/{pid}/ns/{}", ns.file());
    let fd: OwnedFd = std::fs::File::open(&path)
        .map_err(|e| Error::io("Failed to open", std::path::Path::new(&path), &e))?
        .into();
    in_namespace_fd(fd, ns, f)
}

/// `in_namespace` for a namespace already held by `fd`.
pub fn in_namespace_fd<T: Send + 'static>(
    fd: OwnedFd,
    ns: Ns,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let worker = std::thread::Builder::new()
        .name("lxc-ns".into())
        .spawn(move || {
            // SAFETY: unshare/setns affect only this thread, which ends right
            // after; the descriptor is ours.
            unsafe {
                if matches!(ns, Ns::Mnt) && libc::unshare(libc::CLONE_FS) < 0 {
                    return Err(Error::last_os("Failed to unshare the fs context"));
                }
                if libc::setns(fd.as_raw_fd(), ns.flag()) < 0 {
                    return Err(Error::last_os(format_args!(
                        "Failed to enter the container's {} namespace",
                        ns.file()
                    )));
                }
            }
            f()
        })
        .map_err(|e| Error::new(libc::EAGAIN, format!("Failed to start a thread: {e}")))?;
    worker
        .join()
        .map_err(|_| Error::new(libc::EIO, "The namespace worker thread panicked"))?
}
