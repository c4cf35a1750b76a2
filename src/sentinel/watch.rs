//! The sentinel process: one per user, following the journal of every
//! monitor that joined it; when a monitor goes without saying `Clean`, it
//! waits for that container's init and undoes its journal.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::place::{self, Listener};
use super::undo;
use crate::journal::{wire, Msg, Record, Reply};
use crate::log::LogOptions;
use crate::sys;

/// Where the sentinel keeps its first monitor's journal (the rest is
/// closed).
const FIRST_FD: RawFd = 3;

/// One monitor's journal, and whose it is.
#[derive(Default)]
struct Followed {
    journal: Record,
    /// What went wrong reading it, logged should it have to be undone.
    trouble: Vec<String>,
}

/// What reading a connection came to.
enum Heard {
    /// Nothing more for now.
    Pending,
    /// `Clean`: the monitor cleaned up itself.
    Clean,
    /// EOF or an error without `Clean`: the monitor is gone.
    Gone,
}

impl Followed {
    /// Reads every message waiting on `sock`.
    fn read(&mut self, sock: &OwnedFd) -> Heard {
        let mut buf = [0u8; 8192];
        loop {
            let mut got = match sys::socket::recv_msg_flags(sock, &mut buf, libc::MSG_DONTWAIT) {
                Ok(r) => r,
                Err(e) if e.errno == libc::EAGAIN => return Heard::Pending,
                Err(e) => {
                    // Nothing is undone before init is gone, whatever this is.
                    self.trouble.push(format!("Journal: {}", e.message));
                    return Heard::Gone;
                }
            };
            // EOF: every copy of the monitor's end is closed.
            if got.len == 0 && got.fds.is_empty() {
                return Heard::Gone;
            }
            match wire::decode(&buf[..got.len]) {
                Some(Msg::Clean) => return Heard::Clean,
                Some(msg) => self.journal.apply(&msg, got.fds.pop()),
                None => self
                    .trouble
                    .push("Ignored an unreadable journal message".to_string()),
            }
        }
    }

    /// Undoes the journal of a monitor that died, logging to its
    /// container's log.
    fn undo(mut self) {
        let (file, level) = self.journal.log.take().unwrap_or(("none".into(), -1));
        let _ = crate::log::init(&LogOptions {
            name: Some(self.journal.name.clone()),
            lxcpath: Some(self.journal.lxcpath.clone()),
            file: Some(file),
            level: crate::log::Priority::from_level(level),
            prefix: Some("lxc-sentinel".into()),
            quiet: true,
        });
        for t in &self.trouble {
            log::error!("{t}");
        }
        log::warn!(
            "The monitor of \"{}\" ended without cleaning up: the sentinel does it",
            self.journal.name
        );
        undo::undo(self.journal);
        crate::log::close();
    }
}

/// The sentinel's life, from the socket of the monitor that started it;
/// returns its exit status.
pub(super) fn serve(first: OwnedFd) -> i32 {
    yield_to_starts();
    let first = detach(first);
    allow_many_descriptors();
    sys::proctitle::set_comm(c"lxc-sentinel");
    sys::proctitle::set_cmdline("[lxc sentinel]");
    let Ok(epoll) = sys::epoll::Epoll::new() else {
        return 1;
    };
    let mut sentinel = Sentinel {
        epoll,
        following: Vec::new(),
        orphans: Vec::new(),
        retry_leaving: false,
        root_holder: None,
    };
    // Without a place to listen it follows its first monitor only.
    let mut listener = Listener::bind(&place::socket_path())
        .ok()
        .filter(|l| sentinel.epoll.add(l.sock.as_raw_fd(), LISTENER).is_ok());
    if !sentinel.greet(&first) || !sentinel.follow(first) {
        return 1;
    }
    loop {
        if sentinel.idle() && sentinel.leave(&mut listener) {
            return 0;
        }
        sentinel.wait(&mut listener);
    }
}

struct Sentinel {
    /// What it waits on: the listener, every journal, orphans' inits
    /// (tokens: `LISTENER`, `JOURNAL | fd`, `ORPHAN | fd`).
    epoll: sys::epoll::Epoll,
    /// Monitors running, with their connections.
    following: Vec<(OwnedFd, Followed)>,
    /// Journals of dead monitors whose init still runs.
    orphans: Vec<Followed>,
    /// Whether leaving was put off for a monitor that was joining.
    retry_leaving: bool,
    /// The mount namespace monitors get with their greeting, for their
    /// init to enter its root without pivot_root (`sys::new_root`). Made
    /// for the second container: the first one's start is under way as the
    /// sentinel starts, and one container alone never has to pay for it.
    /// Without CAP_SYS_ADMIN there is none: inits then pivot_root. (None:
    /// not made yet.)
    root_holder: Option<Option<OwnedFd>>,
}

const LISTENER: u64 = u64::MAX;
const JOURNAL: u64 = 1 << 32;
const ORPHAN: u64 = 2 << 32;

/// How soon it tries again to leave after a monitor that was joining kept
/// it (the monitor's connection normally wakes it first).
const RETRY_LEAVING_MS: i32 = 50;

impl Sentinel {
    fn idle(&self) -> bool {
        self.following.is_empty() && self.orphans.is_empty()
    }

    /// Stops listening if no monitor is joining; whether it did (and so
    /// may exit).
    fn leave(&mut self, listener: &mut Option<Listener>) -> bool {
        let Some(l) = listener.as_ref() else {
            return true;
        };
        if !l.may_leave() {
            // A monitor is about to connect; its connection comes soon.
            self.retry_leaving = true;
            return false;
        }
        // Those that connected before are queued: they stay followed.
        self.accept(listener);
        if !self.idle() {
            if let Some(l) = listener.as_ref() {
                l.stay();
            }
            return false;
        }
        self.stop_listening(listener);
        true
    }

    fn stop_listening(&mut self, listener: &mut Option<Listener>) {
        if let Some(l) = listener.take() {
            self.epoll.remove(l.sock.as_raw_fd());
            l.close();
        }
    }

    /// Says hello to a monitor on `sock` (its sentinel's pid, and the
    /// holder); false if it could not be sent.
    fn greet(&self, sock: &OwnedFd) -> bool {
        // SAFETY: getpid cannot fail.
        let hello = wire::encode_reply(&Reply::Hello {
            pid: unsafe { libc::getpid() },
        });
        let holder = self.root_holder.as_ref().and_then(|h| h.as_ref());
        let holder = holder.map(|h| h.as_raw_fd());
        crate::journal::send_on(sock, &hello, holder).is_ok()
    }

    /// Follows the journal on `sock`; false if it cannot be watched.
    fn follow(&mut self, sock: OwnedFd) -> bool {
        let watched = self
            .epoll
            .add(sock.as_raw_fd(), JOURNAL | sock.as_raw_fd() as u64);
        if watched.is_ok() {
            self.following.push((sock, Followed::default()));
        }
        watched.is_ok()
    }

    /// Stops following connection `i`.
    fn unfollow(&mut self, i: usize) -> (OwnedFd, Followed) {
        let (sock, followed) = self.following.swap_remove(i);
        self.epoll.remove(sock.as_raw_fd());
        (sock, followed)
    }

    /// Waits for the init of a monitor that died, to undo its journal
    /// then (at once without an init).
    fn orphan(&mut self, mut followed: Followed) {
        let Some(init) = followed.journal.init.as_ref().map(|fd| fd.as_raw_fd()) else {
            followed.undo();
            return;
        };
        // Nothing is undone while init may run: unwatched, it stays.
        if let Err(e) = self.epoll.add(init, ORPHAN | init as u64) {
            followed.trouble.push(e.message);
        }
        self.orphans.push(followed);
    }

    /// One round: waits for any connection, journal or init, and handles
    /// what came.
    fn wait(&mut self, listener: &mut Option<Listener>) {
        let retrying = std::mem::take(&mut self.retry_leaving);
        let timeout = if retrying {
            RETRY_LEAVING_MS
        } else {
            sys::resident::QUIET_MS
        };
        let mut ready = self.epoll.wait(timeout);
        if ready.is_empty() {
            if retrying {
                return;
            }
            // Quiet for a while: what following the last starts, stops or
            // undos touched goes back while the sentinel waits.
            ready = self.epoll.wait_idle();
        }
        // Inits first, then journals, then new connections.
        let fd_of = |token: u64| (token & 0xffff_ffff) as RawFd;
        for &token in ready.iter().filter(|&&t| t != LISTENER && t & ORPHAN != 0) {
            let init_fd = |o: &Followed| o.journal.init.as_ref().map(|fd| fd.as_raw_fd());
            if let Some(i) = self
                .orphans
                .iter()
                .position(|o| init_fd(o) == Some(fd_of(token)))
            {
                let orphan = self.orphans.swap_remove(i);
                self.epoll.remove(fd_of(token));
                orphan.undo();
            }
        }
        for &token in ready.iter().filter(|&&t| t != LISTENER && t & JOURNAL != 0) {
            let sock_fd = fd_of(token);
            if let Some(i) = self
                .following
                .iter()
                .position(|(s, _)| s.as_raw_fd() == sock_fd)
            {
                self.hear(i, listener);
            }
        }
        if ready.contains(&LISTENER) {
            self.accept(listener);
        }
    }

    fn hear(&mut self, i: usize, listener: &mut Option<Listener>) {
        let (sock, followed) = &mut self.following[i];
        match followed.read(sock) {
            Heard::Pending => {}
            Heard::Clean => {
                let (sock, _) = self.unfollow(i);
                let last = self.idle() && self.leave(listener);
                let bye = wire::encode_reply(&Reply::Bye { last });
                let _ = crate::journal::send_on(&sock, &bye, None);
            }
            Heard::Gone => {
                let (_, followed) = self.unfollow(i);
                self.orphan(followed);
            }
        }
    }

    /// Accepts every waiting connection of this user's monitors.
    fn accept(&mut self, listener: &mut Option<Listener>) {
        let Some(l) = listener.as_ref() else {
            return;
        };
        loop {
            let sock = match sys::socket::accept_plain(&l.sock, true) {
                Ok(sock) => sock,
                Err(e) if matches!(e.errno, libc::EMFILE | libc::ENFILE) => {
                    // Full: monitors from now on start a sentinel of their own.
                    self.stop_listening(listener);
                    return;
                }
                Err(_) => return,
            };
            // SAFETY: geteuid cannot fail.
            let euid = unsafe { libc::geteuid() };
            if !sys::socket::peer_credentials(&sock).is_ok_and(|c| c.uid == euid) {
                continue;
            }
            if self.root_holder.is_none() {
                self.root_holder = Some(sys::new_root::make_holder().ok());
            }
            if self.greet(&sock) {
                self.follow(sock);
            }
        }
    }
}

/// Sheds everything of the monitor but `first`, which it puts on fd 3:
/// off the caller's session and terminal, no status pipe, nothing the
/// caller had.
fn detach(first: OwnedFd) -> OwnedFd {
    // The monitor's log file goes with the other descriptors below; the
    // logger must not keep a number that will be reused.
    crate::log::close();
    let first = if first.as_raw_fd() == FIRST_FD {
        first
    } else {
        // SAFETY: dup2 onto a number we then own; the old one is closed.
        unsafe {
            libc::dup2(first.as_raw_fd(), FIRST_FD);
            drop(first);
            OwnedFd::from_raw_fd(FIRST_FD)
        }
    };
    // Off the caller's terminal and process group (a foreground start's
    // Ctrl-C must not reach it).
    sys::leave_session();
    sys::raw::close_from(FIRST_FD + 1);
    // SAFETY: resetting this process's own signal mask.
    unsafe {
        // A monitor that forks one while it runs has its signals blocked
        // (they go to its signalfd): none of that here.
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
    first
}

/// The sentinel is forked at the start of the start that needs it, and
/// its own set-up (socket, lock files, greeting) would take a CPU from
/// that start's network-namespace thread and init (on 2 CPUs, a start was
/// seen waiting 0.5 ms for it). Nothing it does is urgent: it runs niced
/// (`NICENESS` above its monitor) for good.
fn yield_to_starts() {
    // SAFETY: nice(2) on this process; a refusal leaves it as it was.
    unsafe { libc::nice(NICENESS) };
}

/// How far below its monitors' priority the sentinel runs.
const NICENESS: i32 = 10;

/// Each container it follows costs the sentinel a connection, init's
/// pidfd and maybe a network namespace: the soft limit goes up to the hard
/// one.
fn allow_many_descriptors() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: get/setrlimit with a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Item;

    #[test]
    fn the_journal_follows_adds_and_drops() {
        let mut j = Record::default();
        let cg = Item::Cgroup("/sys/fs/cgroup/x/lxc.payload.a".into());
        let link = Item::HostLink("vethX".into());
        j.apply(&Msg::Add(cg.clone()), None);
        j.apply(&Msg::Add(link.clone()), None);
        j.apply(&Msg::Add(cg.clone()), None);
        assert_eq!(j.items, vec![cg.clone(), link.clone()]);
        j.apply(&Msg::Drop(cg.clone()), None);
        assert_eq!(j.items, vec![link]);
        let (a, _b) = sys::socketpair_seqpacket().unwrap();
        j.apply(&Msg::Netns, Some(a));
        assert!(j.netns.is_some());
        j.apply(&Msg::NoNetns, None);
        assert!(j.netns.is_none());
    }

    #[test]
    fn a_replay_tells_a_new_sentinel_all_of_it() {
        let (init, _peer) = sys::socketpair_seqpacket().unwrap();
        let mut mine = Record::default();
        let told = [
            Msg::Container {
                name: "c".into(),
                lxcpath: "/p".into(),
            },
            Msg::Log {
                file: "/p/c.log".into(),
                level: 3,
            },
            Msg::Add(Item::Cgroup("/sys/fs/cgroup/pids/lxc.payload.c".into())),
            Msg::Add(Item::HostLink("vethZ".into())),
            Msg::Drop(Item::HostLink("vethZ".into())),
        ];
        for m in &told {
            mine.apply(m, None);
        }
        mine.apply(&Msg::Init, Some(init));
        let mut theirs = Record::default();
        for (msg, fd) in mine.replay() {
            assert_eq!(fd.is_some(), msg == Msg::Init);
            // What arrives is a new descriptor for the same process.
            let copy = fd.map(|_| OwnedFd::from(std::fs::File::open("/dev/null").unwrap()));
            theirs.apply(&msg, copy);
        }
        assert_eq!((theirs.name.as_str(), theirs.lxcpath.as_str()), ("c", "/p"));
        assert_eq!(theirs.log, mine.log);
        assert_eq!(theirs.items, mine.items);
        assert!(theirs.init.is_some());
    }

    #[test]
    fn a_connection_is_read_until_clean_or_gone() {
        let (monitor, sentinel) = sys::socketpair_seqpacket().unwrap();
        let send = |m: &Msg| crate::journal::send_on(&monitor, &wire::encode(m), None).unwrap();
        let mut f = Followed::default();
        assert!(matches!(f.read(&sentinel), Heard::Pending));
        send(&Msg::Container {
            name: "c1".into(),
            lxcpath: "/p".into(),
        });
        send(&Msg::Add(Item::HostLink("vethY".into())));
        assert!(matches!(f.read(&sentinel), Heard::Pending));
        assert_eq!(
            (f.journal.name.as_str(), f.journal.lxcpath.as_str()),
            ("c1", "/p")
        );
        assert_eq!(f.journal.items, vec![Item::HostLink("vethY".into())]);
        send(&Msg::Clean);
        assert!(matches!(f.read(&sentinel), Heard::Clean));
        drop(monitor);
        assert!(matches!(f.read(&sentinel), Heard::Gone));
    }
}
