//! The sentinel: what undoes a container's host-side traces when its
//! monitor dies without cleaning up (SIGKILL, OOM kill, a crash).
//!
//! The monitor launches it first thing after detaching from the caller,
//! while it is still single-threaded and has created nothing: a fork of
//! the monitor (no exec: it shares the monitor's pages) with one end of a
//! SOCK_SEQPACKET pair as its only descriptor besides /dev/null. It lives in
//! the monitor's own cgroups (the caller's: our monitor never moves into an
//! `lxc.monitor.<name>` cgroup), never in the container's, so it can remove
//! those; it holds no command socket, pty or console. It is the monitor's
//! child, not a subreaper nor anyone's parent: init's parent is still the
//! monitor, as tools expect.
//!
//! As the monitor creates something on the host it journals it here
//! (`note`), and it journals what it removed again (`forget`): container
//! cgroups and the `lxc.cgroup.dir` parents it made, `l2proxy` neighbour
//! entries (with their link's ifindex) and loopback routes, host devices
//! not yet moved into the container, physical devices moved in (with their
//! host name and MTU). It also hands over init's pidfd and, when physical
//! devices went in, the container's network namespace: the kernel gives a
//! virtual device back to nobody (it is deleted with the namespace) and a
//! real one back under its container-side name, so putting them back as
//! they were needs the namespace alive after init.
//!
//! At its normal end (after its own cleanup) the monitor says `Clean` and
//! reaps the sentinel before it answers `stop`. If the socket reaches EOF
//! without that, the monitor is gone: the sentinel waits for init to end
//! (one blocking poll on its pidfd: with `lxc.monitor.signal.pdeath` init
//! is being killed already), undoes the journal, logs what it did to the
//! container's log, and exits.

mod launch;
mod undo;
mod watch;
mod wire;

use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::Mutex;

pub use launch::{dismiss, launch, reap, release};

/// One thing the monitor put on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A container cgroup, removed with whatever the container made below.
    Cgroup(PathBuf),
    /// An intermediate `lxc.cgroup.dir` directory this start created,
    /// removed if it is empty.
    CgroupParent(PathBuf),
    /// An `l2proxy` neighbour entry for `ip` on the host device `dev`.
    Proxy {
        ip: IpAddr,
        dev: String,
        ifindex: u32,
    },
    /// An ipvlan `l2proxy` route of `ip/prefix` to the loopback device.
    LoRoute { ip: IpAddr, prefix: u8 },
    /// A device created on the host that has not (yet) gone into the
    /// container: a veth host end, a macvlan before its move.
    HostLink(String),
    /// A host device moved into the container, to come back.
    Phys(crate::net::PhysDevice),
}

/// What the monitor tells the sentinel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Msg {
    Add(Item),
    Drop(Item),
    /// Init's pidfd rides along (a new one on every reboot).
    Init,
    /// The container's network namespace rides along.
    Netns,
    /// The network namespace is no longer needed (devices are back).
    NoNetns,
    /// The monitor cleaned up itself: exit without doing anything.
    Clean,
}

/// The monitor's end of the journal; None in every other process (the
/// library's callers, the sentinel itself), where journaling is a no-op.
static JOURNAL: Mutex<Option<OwnedFd>> = Mutex::new(None);

fn send(msg: &Msg, fd: Option<RawFd>) {
    let mut journal = JOURNAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(sock) = journal.as_ref() else {
        return;
    };
    if let Err(e) = launch::send(sock, &wire::encode(msg), fd) {
        // Without its journal the sentinel would undo too little: say so
        // once and stop journaling (the monitor itself goes on).
        log::warn!(
            "The sentinel cannot follow any more ({}); a monitor killed now leaves traces",
            e.message
        );
        *journal = None;
    }
}

/// Journals something just created on the host.
pub fn note(item: Item) {
    send(&Msg::Add(item), None);
}

/// Journals something removed again by the monitor.
pub fn forget(item: Item) {
    send(&Msg::Drop(item), None);
}

/// Journals the (new) init.
pub fn note_init(pidfd: &OwnedFd) {
    send(&Msg::Init, Some(pidfd.as_raw_fd()));
}

/// Hands over the container's network namespace, needed to give
/// physical devices back.
pub fn note_netns(netns: &OwnedFd) {
    send(&Msg::Netns, Some(netns.as_raw_fd()));
}

/// The network namespace may go.
pub fn forget_netns() {
    send(&Msg::NoNetns, None);
}
