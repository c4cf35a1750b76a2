//! The monitor's side: starting the sentinel, sending it the journal,
//! dismissing it at the monitor's normal end.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

use crate::error::Result;
use crate::journal::{self, wire, Msg};
use crate::sys;

/// Where the sentinel keeps its end of the journal (the rest is closed).
const JOURNAL_FD: RawFd = 3;

/// How long a dismissed sentinel may take to go before it is killed (it
/// exits as soon as it reads `Clean`; this only bounds a stopped one).
const DISMISS_TIMEOUT_MS: i32 = 2000;

/// The running sentinel: its pidfd (it is our child until we reap it).
struct Launched {
    pid: i32,
    pidfd: OwnedFd,
}

impl Launched {
    fn kill(&self) {
        // Our own, not yet reaped child: the pidfd still names it.
        let _ = sys::pidfd_send_signal(&self.pidfd, libc::SIGKILL);
    }
}

static LAUNCHED: Mutex<Option<Launched>> = Mutex::new(None);

/// Starts the sentinel of container `name`; where it logs comes through
/// the journal (`journal::note_log`). Call while single-threaded and
/// before anything of the container exists.
///
/// A fork without exec: the child shares the monitor's pages until either
/// writes, and maps only the code it runs (a fresh exec of the monitor
/// binary costs more than the monitor itself in VmRSS).
pub fn launch(name: &str, lxcpath: &str) -> Result<()> {
    let (ours, theirs) = sys::socketpair_seqpacket()?;
    // SAFETY: the monitor is single-threaded here.
    let cloned = unsafe { sys::clone3_fork(0, None, "the sentinel")? };
    let Some((pid, pidfd)) = cloned else {
        // The monitor's end must not stay open here: its EOF is the news.
        drop(ours);
        let code = sentinel_child(theirs, name, lxcpath);
        // SAFETY: leaving without returning into the monitor's code.
        unsafe { libc::_exit(code) };
    };
    drop(theirs);
    // Journaling never blocks the monitor: a sentinel that stopped reading
    // (SIGSTOP) costs it the journal, not the container.
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(ours.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(ours.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    journal::install(ours);
    *LAUNCHED.lock().unwrap_or_else(|p| p.into_inner()) = Some(Launched { pid, pidfd });
    Ok(())
}

/// The forked child: sheds everything of the monitor but its end of the
/// journal, takes its own name and log prefix, and watches.
fn sentinel_child(journal: OwnedFd, name: &str, lxcpath: &str) -> i32 {
    // The monitor's log file goes with the other descriptors below; the
    // logger must not keep a number that will be reused.
    crate::log::close();
    let journal = if journal.as_raw_fd() == JOURNAL_FD {
        journal
    } else {
        // SAFETY: dup2 onto a number we then own; the old one is closed.
        unsafe {
            libc::dup2(journal.as_raw_fd(), JOURNAL_FD);
            drop(journal);
            OwnedFd::from_raw_fd(JOURNAL_FD)
        }
    };
    // SAFETY: plain syscalls on this process's own descriptors and session.
    unsafe {
        // Off the caller's terminal and process group (a foreground
        // start's Ctrl-C must not reach it).
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        for std_fd in 0..3 {
            libc::dup2(null, std_fd);
        }
        // Only the journal stays: no status pipe, nothing the caller had.
        sys::raw::close_from(JOURNAL_FD + 1);
        libc::chdir(c"/".as_ptr());
    }
    retitle(&format!("[lxc sentinel] {lxcpath} {name}"));
    super::watch::run(journal, name, lxcpath)
}

/// Names this process "lxc-sentinel" (comm) and "[lxc sentinel] ..."
/// (its command line, as ps and pgrep -f read it), so it is never taken
/// for the monitor whose argv it inherited.
fn retitle(title: &str) {
    sys::proctitle::set_comm(c"lxc-sentinel");
    sys::proctitle::set_cmdline(title);
}

/// At the monitor's normal end, once it has cleaned up itself: tells the
/// sentinel so, and reaps it, so it is gone before `stop` returns.
pub fn dismiss() {
    release();
    reap();
}

/// The first half of `dismiss`: says `Clean` (the sentinel starts leaving
/// while the monitor finishes) and closes the journal.
pub fn release() {
    let journal = journal::take();
    let launched = LAUNCHED.lock().unwrap_or_else(|p| p.into_inner());
    let Some(launched) = launched.as_ref() else {
        return;
    };
    let told = journal.as_ref().is_some_and(|sock| {
        // `Clean` must arrive: blocking again, but bounded.
        let tv = libc::timeval {
            tv_sec: (DISMISS_TIMEOUT_MS / 1000) as libc::time_t,
            tv_usec: 0,
        };
        // SAFETY: fcntl and setsockopt on our own descriptor, with a
        // pointer to a local timeval.
        unsafe {
            let flags = libc::fcntl(sock.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(sock.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDTIMEO,
                &tv as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
        }
        journal::send_on(sock, &wire::encode(&Msg::Clean), None).is_ok()
    });
    if !told {
        // Everything is clean: killed before it sees EOF, it undoes nothing.
        launched.kill();
    }
}

/// The second half of `dismiss`: waits (bounded) for the sentinel to
/// leave and reaps it.
pub fn reap() {
    let Some(launched) = LAUNCHED.lock().unwrap_or_else(|p| p.into_inner()).take() else {
        return;
    };
    let mut pfd = libc::pollfd {
        fd: launched.pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polling a pidfd we own.
    let gone = loop {
        let r = unsafe { libc::poll(&mut pfd, 1, DISMISS_TIMEOUT_MS) };
        if !(r < 0 && sys::errno() == libc::EINTR) {
            break r > 0;
        }
    };
    if !gone {
        // Stopped, or stuck: the cleanup is done, it has nothing to do.
        log::warn!("The sentinel did not leave in time: killing it");
        launched.kill();
    }
    let mut status = 0;
    // SAFETY: reaping our own child.
    while unsafe { libc::waitpid(launched.pid, &mut status, 0) } < 0 && sys::errno() == libc::EINTR
    {
    }
}
