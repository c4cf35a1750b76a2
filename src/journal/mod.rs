//! The sentinel's journal: what the monitor put on the host and removed
//! again, sent as it happens to the sentinel (see `sentinel`), which undoes
//! it if the monitor dies. Plain data and its wire format (`wire.rs`), so
//! that what creates host objects (cgroups, net) journals them without
//! knowing the sentinel; the monitor installs the journal's socket. The
//! monitor keeps a copy of what it journaled (`Record`), so that a
//! sentinel that replaces a lost one learns it all again.

pub(crate) mod wire;

use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// A host device moved into the container (`phys`): how it is found
/// there and how it comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysDevice {
    /// `lxc.net.<net_index>`.
    pub net_index: u32,
    /// Its name in the container (its host name when that was "eth%d"
    /// style: it is looked up under both).
    pub inside: String,
    pub host_name: String,
    pub mtu: Option<u32>,
}

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
    Phys(PhysDevice),
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
    /// The monitor cleaned up itself: nothing is left to undo.
    Clean,
    /// Whose journal this is (the first message on a connection).
    Container {
        name: String,
        lxcpath: String,
    },
    /// Where the sentinel logs, should it have to (the container's log
    /// file or "none", LXC's level number or -1): the configuration is
    /// read after the sentinel is launched.
    Log {
        file: String,
        level: i32,
    },
}

/// What a journal says is on the host now, and whose it is: the
/// sentinel's view of each monitor, and the monitor's own copy.
#[derive(Debug, Default)]
pub struct Record {
    pub name: String,
    pub lxcpath: String,
    /// In creation order (a cgroup parent precedes its children).
    pub items: Vec<Item>,
    pub init: Option<OwnedFd>,
    pub netns: Option<OwnedFd>,
    /// Where to log (file, level), as the monitor said.
    pub log: Option<(String, i32)>,
}

impl Record {
    /// Follows one message (`fd`: the descriptor it carried).
    pub(crate) fn apply(&mut self, msg: &Msg, fd: Option<OwnedFd>) {
        match msg {
            Msg::Add(item) => {
                if !self.items.contains(item) {
                    self.items.push(item.clone());
                }
            }
            Msg::Drop(item) => self.items.retain(|i| i != item),
            Msg::Init => self.init = fd,
            Msg::Netns => self.netns = fd,
            Msg::NoNetns => self.netns = None,
            Msg::Log { file, level } => self.log = Some((file.clone(), *level)),
            Msg::Container { name, lxcpath } => {
                self.name = name.clone();
                self.lxcpath = lxcpath.clone();
            }
            Msg::Clean => {}
        }
    }

    /// The messages that tell a new sentinel all of it.
    pub(crate) fn replay(&self) -> Vec<(Msg, Option<RawFd>)> {
        let mut out = vec![(
            Msg::Container {
                name: self.name.clone(),
                lxcpath: self.lxcpath.clone(),
            },
            None,
        )];
        if let Some((file, level)) = &self.log {
            let log = Msg::Log {
                file: file.clone(),
                level: *level,
            };
            out.push((log, None));
        }
        out.extend(self.items.iter().map(|i| (Msg::Add(i.clone()), None)));
        if let Some(init) = &self.init {
            out.push((Msg::Init, Some(init.as_raw_fd())));
        }
        if let Some(netns) = &self.netns {
            out.push((Msg::Netns, Some(netns.as_raw_fd())));
        }
        out
    }
}

/// What the sentinel tells a monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// It accepted the connection and follows this journal from now on.
    Hello { pid: i32 },
    /// `Clean` was read; `last`: it had no other journal and is leaving.
    Bye { last: bool },
}

/// The monitor's end of the journal; None in every other process (the
/// library's callers, the sentinel itself), where journaling is a no-op.
static JOURNAL: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// The monitor's copy of everything it journaled.
static MIRROR: Mutex<Option<Record>> = Mutex::new(None);

fn send(msg: &Msg, fd: Option<RawFd>) {
    let mut journal = JOURNAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(sock) = journal.as_ref() else {
        return;
    };
    if let Some(mirror) = MIRROR.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
        // SAFETY: duplicating a descriptor the caller holds open.
        let copy = fd.and_then(|fd| unsafe { dup(fd) });
        mirror.apply(msg, copy);
    }
    match send_on(sock, &wire::encode(msg), fd) {
        // A sentinel that is gone: the monitor's event loop sees the
        // socket hang up and gives the copy to another.
        Err(e) if matches!(e.errno, libc::EPIPE | libc::ECONNRESET) => {}
        Err(e) => {
            // Without its journal the sentinel would undo too little: say
            // so once and stop journaling (the monitor itself goes on).
            log::warn!(
                "The sentinel cannot follow any more ({}); a monitor killed now leaves traces",
                e.message
            );
            *journal = None;
        }
        Ok(()) => {}
    }
}

/// A close-on-exec copy of `fd`.
unsafe fn dup(fd: RawFd) -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    let copy = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0);
    (copy >= 0).then(|| OwnedFd::from_raw_fd(copy))
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

/// Tells the sentinel where to log.
pub fn note_log(file: &str, level: i32) {
    send(
        &Msg::Log {
            file: file.to_string(),
            level,
        },
        None,
    );
}

/// Makes `sock` the journal of this process (the monitor's), which from
/// now on keeps a copy of what it journals, starting with `first`.
pub(crate) fn install(sock: OwnedFd, first: &Msg) {
    let mut mirror = MIRROR.lock().unwrap_or_else(|p| p.into_inner());
    mirror
        .get_or_insert_with(Record::default)
        .apply(first, None);
    *JOURNAL.lock().unwrap_or_else(|p| p.into_inner()) = Some(sock);
}

/// Puts a new sentinel's socket in place of the lost one's, after telling
/// it everything journaled so far.
pub(crate) fn replace(sock: OwnedFd) -> Result<()> {
    let mut journal = JOURNAL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(mirror) = MIRROR.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        for (msg, fd) in mirror.replay() {
            send_on(&sock, &wire::encode(&msg), fd)?;
        }
    }
    *journal = Some(sock);
    Ok(())
}

/// Runs `f` on the journal's socket, if there is one.
pub(crate) fn with_socket<T>(f: impl FnOnce(&OwnedFd) -> T) -> Option<T> {
    let journal = JOURNAL.lock().unwrap_or_else(|p| p.into_inner());
    journal.as_ref().map(f)
}

/// Takes the journal's socket back (no more journaling).
pub(crate) fn take() -> Option<OwnedFd> {
    JOURNAL.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// Sends one journal message, with a descriptor if `fd` is given.
pub(crate) fn send_on(sock: &OwnedFd, bytes: &[u8], fd: Option<RawFd>) -> Result<()> {
    let sent = crate::sys::socket::send_with_fds(sock, bytes, fd.as_slice());
    sent.map(drop).map_err(|e| {
        Error::new(
            e.errno,
            format!("journal: {}", std::io::Error::from_raw_os_error(e.errno)),
        )
    })
}
