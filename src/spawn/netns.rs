//! The container's new network namespace, made on a helper thread while
//! the monitor prepares the rest (command socket, cgroups, ptys), with the
//! host side of its network (veth pairs, their bridge ports, `l2proxy`
//! entries) built into it there too: the namespace is the costliest one to
//! create (about half a millisecond), and both would otherwise sit on the
//! start's critical path, one inside clone3, the other while init waits.
//! Init joins the namespace with setns right after its clone, before
//! anything of its own uses the network. The IPC and UTS namespaces init
//! is to get are made there too: the IPC one (an internal mqueue mount)
//! cost clone3 as much again as the pid and mount ones together.
//!
//! Only for a namespace the host's user namespace may own: with
//! `lxc.idmap` init's own user namespace must own it, so clone3 makes it
//! as before. The thread is joined before the monitor clones or forks
//! again, so the monitor stays single-threaded where that matters.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::error::{Error, Result};
use crate::net::{self, HostSide, NetPlan, NetnsRef};
use crate::sys::own_stack_thread::{self, OwnStackThread};

/// What the helper thread made: the namespaces, the network plan with its
/// generated interface names, and what it built on the host for it.
#[derive(Debug)]
pub struct NetnsAhead {
    pub ns: MadeAhead,
    pub net: NetPlan,
    pub host: HostSide,
}

/// The namespaces made ahead for init, which it joins after its clone.
#[derive(Debug)]
pub struct MadeAhead {
    pub net: OwnedFd,
    /// (CLONE_NEWIPC or CLONE_NEWUTS, the namespace).
    pub others: Vec<(i32, OwnedFd)>,
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

type Outcome = Result<Option<NetnsAhead>>;

/// A network namespace being made, or none to make.
#[derive(Debug, Default)]
pub struct PendingNetns(Option<OwnStackThread<Outcome>>);

impl PendingNetns {
    /// Starts making one for `net` when init is to get a new network
    /// namespace (`clone_flags` holds CLONE_NEWNET) outside a new user
    /// namespace.
    pub fn start(clone_flags: i32, net: &NetPlan) -> PendingNetns {
        if clone_flags & libc::CLONE_NEWNET == 0 || clone_flags & libc::CLONE_NEWUSER != 0 {
            return PendingNetns(None);
        }
        let net = net.clone();
        let others = clone_flags & (libc::CLONE_NEWIPC | libc::CLONE_NEWUTS);
        // A thread that cannot be made only means clone3 makes it. Its
        // stack is unmapped when it is joined, not kept for a next thread
        // the monitor never makes.
        let handle =
            own_stack_thread::spawn(c"lxc-netns", 256 * 1024, move || make_ahead(net, others)).ok();
        PendingNetns(handle)
    }

    /// What the thread made. Ok(None): nothing to join (init then gets its
    /// network namespace from clone3, which also reports the error if the
    /// kernel refuses one); an error is the start's (the thread undid
    /// what it built).
    pub fn finish(mut self) -> Outcome {
        match self.0.take().map(OwnStackThread::join) {
            None => Ok(None),
            Some(Ok(outcome)) => outcome,
            Some(Err(_)) => Err(Error::new(
                libc::EIO,
                "The thread setting up the container's network died",
            )),
        }
    }
}

impl Drop for PendingNetns {
    /// A start that fails before the clone still waits for the thread and
    /// undoes its host side (the namespace goes with its descriptor).
    fn drop(&mut self) {
        if let Some(Ok(Ok(Some(ahead)))) = self.0.take().map(OwnStackThread::join) {
            ahead.host.cleanup();
        }
    }
}

/// On the helper thread: a new network namespace, kept by a descriptor,
/// and the host side of the network built into it from the host's.
fn make_ahead(mut net: NetPlan, others: i32) -> Outcome {
    let Some(ns) = new_namespaces(others) else {
        return Ok(None);
    };
    let host = net::assign_names(&mut net)
        .and_then(|()| net::setup_host(&net, NetnsRef::Fd(ns.net.as_raw_fd())))?;
    Ok(Some(NetnsAhead { ns, net, host }))
}

/// A new network namespace and those of `others` (of [`MADE_WITH_NET`]),
/// this thread staying in its own; None (logged) when the kernel refuses.
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
    })
}
