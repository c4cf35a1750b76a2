//! An epoll instance: for a process that watches many descriptors at once
//! (the sentinel follows every running container's monitor), where poll(2)
//! would hand the kernel the whole list on every wake-up.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};

pub struct Epoll(OwnedFd);

/// Events taken per wait.
const BATCH: usize = 64;

impl Epoll {
    pub fn new() -> Result<Epoll> {
        // SAFETY: epoll_create1 returns a fresh descriptor or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(Error::last_os("Failed to create an epoll instance"));
        }
        // SAFETY: fresh and ours.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Watches `fd` for input (level-triggered, hang-ups included),
    /// reported with `token`.
    pub fn add(&self, fd: RawFd, token: u64) -> Result<()> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: registering a descriptor with an event on our stack.
        if unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            return Err(Error::last_os("Failed to watch a descriptor"));
        }
        Ok(())
    }

    /// Stops watching `fd`. Needed before closing it when another process
    /// may hold the same open file (a descriptor received over a socket):
    /// epoll forgets a file only once every copy is closed.
    pub fn remove(&self, fd: RawFd) {
        // SAFETY: unregistering; a descriptor not watched is an error we
        // have nothing to do about.
        unsafe {
            libc::epoll_ctl(
                self.0.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
    }

    /// Waits up to `timeout_ms` (-1: forever) for ready descriptors; their
    /// tokens (empty on a timeout or an interruption).
    pub fn wait(&self, timeout_ms: i32) -> Vec<u64> {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
        // SAFETY: the kernel fills at most BATCH events of our array.
        let n = unsafe {
            libc::epoll_wait(
                self.0.as_raw_fd(),
                events.as_mut_ptr(),
                BATCH as i32,
                timeout_ms,
            )
        };
        events[..n.max(0) as usize].iter().map(|e| e.u64).collect()
    }

    /// [`Epoll::wait`] without a timeout, in which this process idles: its
    /// idle pages are shed first (`sys::resident`).
    pub fn wait_idle(&self) -> Vec<u64> {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
        let idle = super::resident::IdleWait::Epoll(self.0.as_raw_fd(), &mut events);
        let n = super::resident::shed_idle_pages_then(idle).unwrap_or(0);
        events[..n].iter().map(|e| e.u64).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_tokens_of_ready_descriptors() {
        let ep = Epoll::new().unwrap();
        let (a, b) = crate::sys::socketpair_seqpacket().unwrap();
        ep.add(a.as_raw_fd(), 7).unwrap();
        assert!(ep.wait(0).is_empty());
        crate::sys::socket::send_with_fds(&b, b"x", &[]).unwrap();
        assert_eq!(ep.wait(1000), vec![7]);
        ep.remove(a.as_raw_fd());
        assert!(ep.wait(0).is_empty());
        ep.add(a.as_raw_fd(), 8).unwrap();
        drop(b);
        // A hang-up with data still queued: ready until read.
        assert_eq!(ep.wait(1000), vec![8]);
    }
}
