//! The container's new network namespace, made on a helper thread while
//! the monitor prepares the rest (command socket, cgroups): it is the
//! costliest one to create (about half a millisecond), which would
//! otherwise sit inside init's clone3. Init joins it with setns right
//! after its clone. The IPC and UTS namespaces init is to get are made
//! there too: the IPC one (an internal mqueue mount) cost clone3 as much
//! again as the pid and mount ones together. The thread also opens a route
//! netlink socket inside the new namespace: with it the monitor builds the
//! network (host side and inside) once init runs, while init sets up its
//! rootfs (see `spawn`), instead of before init's clone.
//!
//! Only for a namespace the host's user namespace may own: with
//! `lxc.idmap` init's own user namespace must own it, so clone3 makes it
//! as before. The thread is joined before the monitor clones or forks
//! again, so the monitor stays single-threaded where that matters.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::error::{Error, Result};
use crate::net::netlink::Rtnl;
use crate::sys::own_stack_thread::{self, OwnStackThread};

/// The namespaces made ahead for init, which it joins after its clone.
#[derive(Debug)]
pub struct MadeAhead {
    pub net: OwnedFd,
    /// (CLONE_NEWIPC or CLONE_NEWUTS, the namespace).
    pub others: Vec<(i32, OwnedFd)>,
    /// Route netlink, bound to the network namespace.
    pub inside: Rtnl,
}

/// The namespaces besides the network one that are made ahead with it.
const MADE_WITH_NET: [(i32, &std::ffi::CStr); 2] = [
    (libc::CLONE_NEWIPC, c"/proc/thread-self/ns/ipc"),
    (libc::CLONE_NEWUTS, c"/proc/thread-self/ns/uts"),
];

impl MadeAhead {
    /// Their clone flags: what clone3 must not make again.
    pub fn flags(&self) -> i32 {
        self.others
            .iter()
            .fold(libc::CLONE_NEWNET, |flags, (f, _)| flags | f)
    }

    /// The one of kind `flag`, if made ahead.
    pub fn get(&self, flag: i32) -> Option<BorrowedFd<'_>> {
        if flag == libc::CLONE_NEWNET {
            return Some(self.net.as_fd());
        }
        self.others
            .iter()
            .find(|(f, _)| *f == flag)
            .map(|(_, fd)| fd.as_fd())
    }

    /// In init, first thing after its clone: join them.
    pub fn join(&self) -> Result<()> {
        let all = std::iter::once((libc::CLONE_NEWNET, &self.net))
            .chain(self.others.iter().map(|(f, fd)| (*f, fd)));
        for (flag, fd) in all {
            // SAFETY: setns on a namespace descriptor we own.
            if unsafe { libc::setns(fd.as_raw_fd(), flag) } < 0 {
                return Err(Error::last_os(
                    "Failed to join a namespace made for the container",
                ));
            }
        }
        Ok(())
    }
}

type Outcome = Option<MadeAhead>;

/// A network namespace being made, or none to make.
#[derive(Debug, Default)]
pub struct PendingNetns(Option<OwnStackThread<Outcome>>);

impl PendingNetns {
    /// Starts making one when init is to get a new network namespace
    /// (`clone_flags` holds CLONE_NEWNET) outside a new user namespace.
    pub fn start(clone_flags: i32) -> PendingNetns {
        if clone_flags & libc::CLONE_NEWNET == 0 || clone_flags & libc::CLONE_NEWUSER != 0 {
            return PendingNetns(None);
        }
        let others = clone_flags & (libc::CLONE_NEWIPC | libc::CLONE_NEWUTS);
        // A thread that cannot be made only means clone3 makes it. Its
        // stack is unmapped when it is joined, not kept for a next thread
        // the monitor never makes.
        let handle =
            own_stack_thread::spawn(c"lxc-netns", 256 * 1024, move || new_namespaces(others)).ok();
        PendingNetns(handle)
    }

    /// What the thread made. Ok(None): nothing to join (init then gets its
    /// network namespace from clone3, which also reports the error if the
    /// kernel refuses one).
    pub fn finish(mut self) -> Result<Outcome> {
        match self.0.take().map(OwnStackThread::join) {
            None => Ok(None),
            Some(Ok(outcome)) => Ok(outcome),
            Some(Err(_)) => Err(Error::new(
                libc::EIO,
                "The thread making the container's network namespace died",
            )),
        }
    }
}

impl Drop for PendingNetns {
    /// A start that fails before the clone still waits for the thread (the
    /// namespaces go with their descriptors).
    fn drop(&mut self) {
        drop(self.0.take().map(OwnStackThread::join));
    }
}

/// On the helper thread: a new network namespace and those of `others`
/// (of [`MADE_WITH_NET`]), this thread staying in its own; None (logged)
/// when the kernel refuses.
fn new_namespaces(others: i32) -> Option<MadeAhead> {
    let open = |path: &std::ffi::CStr| {
        // SAFETY: open of a namespace file of this thread.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        // SAFETY: a fresh descriptor.
        (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
    };
    let kinds = std::iter::once((libc::CLONE_NEWNET, c"/proc/thread-self/ns/net"))
        .chain(MADE_WITH_NET.into_iter().filter(|(f, _)| others & f != 0));
    let own = kinds
        .clone()
        .map(|(flag, path)| Some((flag, open(path)?)))
        .collect::<Option<Vec<_>>>()?;
    // SAFETY: unshare of this thread's own namespaces.
    if unsafe { libc::unshare(libc::CLONE_NEWNET | others) } < 0 {
        log::info!(
            "Creating the network namespace ahead failed ({}); clone3 creates it",
            std::io::Error::last_os_error()
        );
        return None;
    }
    let made = kinds
        .map(|(flag, path)| Some((flag, open(path)?)))
        .collect::<Option<Vec<_>>>();
    let inside = Rtnl::open();
    // Back, so the netlink sockets opened next talk to the host. A thread
    // that cannot go back must not go on: it ends here, and the namespaces
    // with their descriptors.
    for (flag, fd) in &own {
        // SAFETY: setns on a namespace descriptor we own.
        if unsafe { libc::setns(fd.as_raw_fd(), *flag) } < 0 {
            return None;
        }
    }
    let mut made = made?.into_iter();
    let (_, net) = made.next()?;
    Some(MadeAhead {
        net,
        others: made.collect(),
        inside: inside.ok()?,
    })
}
