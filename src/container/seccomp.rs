//! `seccomp_notify_fd` / `seccomp_notify_fd_active`: the listener of the
//! running init's seccomp notify filter, from its monitor.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::Container;
use crate::error::{Error, Result};

/// Whether a listener still has filtered tasks (POLLHUP once they are gone).
fn listener_alive(fd: &OwnedFd) -> bool {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polling one descriptor we own, without waiting.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n >= 0 && pfd.revents & (libc::POLLHUP | libc::POLLNVAL) == 0
}

impl Container {
    /// A fresh descriptor of the listener (the caller owns it).
    pub fn seccomp_notify_fd_active(&self) -> Result<OwnedFd> {
        let addr = self.addr();
        let (target, name) = (addr.target(), self.name());
        match target.get_seccomp_notify_fd() {
            Ok(Some(fd)) => Ok(fd),
            Ok(None) => Err(Error::new(
                libc::ENOTCONN,
                format!("Container \"{name}\" is not running"),
            )),
            Err(e) if e.errno == libc::EBADF => Err(Error::new(
                libc::EBADF,
                format!("Container \"{name}\" has no seccomp notify filter"),
            )),
            Err(e) => Err(e),
        }
    }

    /// The listener, owned by this handle as LXC's (do not close it);
    /// fetched again when the container was restarted.
    pub fn seccomp_notify_fd(&self) -> Result<RawFd> {
        if let Some(fd) = self
            .lock()
            .seccomp_notify
            .as_ref()
            .filter(|f| listener_alive(f))
        {
            return Ok(fd.as_raw_fd());
        }
        let fd = self.seccomp_notify_fd_active()?;
        let raw = fd.as_raw_fd();
        self.lock().seccomp_notify = Some(fd);
        Ok(raw)
    }
}
