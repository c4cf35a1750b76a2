//! Deleting host links without waiting for the kernel's tail of it.
//!
//! An RTM_DELLINK request returns only after the kernel, having unlisted
//! the device and released the rtnl lock, waits for an RCU barrier and for
//! the device's last references: about 20 ms, most of a veth container's
//! stop. The device is gone from the host (name free, bridge port removed,
//! RTM_DELLINK notification sent) well before that. So the requests go out
//! on a thread, and the caller waits only for the notifications, then for
//! the rtnl lock (a look-up of each name, which must miss) so everything
//! the kernel does under it is over; the thread finishes in the background
//! and is joined when the returned `Unlinking` is dropped.

use std::os::fd::AsRawFd;
use std::thread::JoinHandle;

use super::netlink::Rtnl;

/// The thread still finishing the deletions; dropping this joins it.
#[derive(Debug, Default)]
pub struct Unlinking(Option<JoinHandle<()>>);

impl Drop for Unlinking {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            let _ = t.join();
        }
    }
}

/// Deletes the host links named `names` (those already gone are skipped)
/// through `nl`; returns once none of them exists any more, or once every
/// deletion was tried (best effort, like a synchronous one).
pub fn delete(nl: &mut Rtnl, names: &[String]) -> Unlinking {
    let found: Vec<(u32, &String)> = names
        .iter()
        .filter_map(|n| nl.index_of(n).ok().map(|i| (i, n)))
        .collect();
    if found.is_empty() {
        return Unlinking(None);
    }
    let mut pending: Vec<u32> = found.iter().map(|(i, _)| *i).collect();
    let indexes = pending.clone();
    // The notification socket exists before any deletion is asked for.
    let ready = Rtnl::open_link_events()
        .ok()
        .zip(crate::sys::pipe("a pipe").ok())
        .zip(Rtnl::open().ok());
    let Some(((mut events, (done_rx, done_tx)), mut deleter)) = ready else {
        delete_links(nl, &indexes);
        return Unlinking(None);
    };
    let spawned = std::thread::Builder::new()
        .name("lxc-unlink".into())
        .stack_size(128 * 1024)
        .spawn(move || {
            delete_links(&mut deleter, &indexes);
            // Hangs the pipe up: every request was answered.
            drop(done_tx);
        });
    let Ok(thread) = spawned else {
        delete_links(nl, &pending);
        return Unlinking(None);
    };
    while !pending.is_empty() {
        let mut fds = [events.raw_fd(), done_rx.as_raw_fd()].map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
        // SAFETY: polling two descriptors we own, from our stack.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
            if crate::sys::errno() == libc::EINTR {
                continue;
            }
            break;
        }
        if fds[1].revents != 0 {
            break;
        }
        match events.deleted_links() {
            Ok(gone) => pending.retain(|i| !gone.contains(i)),
            // Notifications were lost: wait for the thread instead.
            Err(_) => break,
        }
    }
    if !pending.is_empty() {
        // The thread ended, or cannot be followed: its deletions are
        // complete once it is joined.
        let _ = thread.join();
        return Unlinking(None);
    }
    // RTM_GETLINK runs under the rtnl lock, so each look-up also waits for
    // the deleting request to release it: what the kernel does under the
    // lock after the notification (sysfs entries) is over too.
    for (_, name) in &found {
        let _ = nl.index_of(name);
    }
    Unlinking(Some(thread))
}

/// Deletes the links `indexes`, best effort (each failure only logged by
/// the kernel's absence of the link later).
fn delete_links(nl: &mut Rtnl, indexes: &[u32]) {
    for &i in indexes {
        let _ = nl.delete_link(i);
    }
}
