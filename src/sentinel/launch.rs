//! The monitor's side: joining the user's sentinel (or starting it),
//! sending it the journal, leaving it at the monitor's normal end.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

use super::{place, watch};
use crate::error::{Error, Result};
use crate::journal::{self, wire, Msg, Reply};
use crate::sys;

/// How long a sentinel may take to greet the monitor that started it or to
/// answer a `Clean`, and a leaving one to exit.
const ANSWER_TIMEOUT_S: i32 = 1;

/// The sentinel this monitor journals to: its pidfd, to see it exit.
struct Joined {
    pidfd: Option<OwnedFd>,
}

static JOINED: Mutex<Option<Joined>> = Mutex::new(None);

/// Whether this monitor runs detached from its caller (not its child).
static DETACHED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A sentinel this monitor started and has not heard from yet: its
/// greeting waits in the journal socket while the container starts, and
/// the turn to start one is held until then (the next monitor then finds
/// it listening).
static STARTED: Mutex<Option<Option<place::SpawnTurn>>> = Mutex::new(None);

/// The journal after `Clean`: where the sentinel's `Bye` arrives.
static LEAVING: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// Journals container `name` to the user's sentinel, started if there is
/// none (then call [`settle`] once the container started); `detached`: the
/// monitor is not its caller's child. Where it logs comes later through
/// the journal (`journal::note_log`). Call while single-threaded and
/// before anything of the container exists.
pub fn launch(name: &str, lxcpath: &str, detached: bool) -> Result<()> {
    DETACHED.store(detached, std::sync::atomic::Ordering::Relaxed);
    let sock = join_or_start()?;
    let whose = Msg::Container {
        name: name.to_string(),
        lxcpath: lxcpath.to_string(),
    };
    journal::send_on(&sock, &wire::encode(&whose), None)?;
    journal::install(sock, &whose);
    Ok(())
}

/// Called when the journal socket is readable while the container runs:
/// a late greeting is taken note of; a hang-up means the sentinel was
/// killed, and the monitor joins another.
pub fn journal_readable() {
    let mut buf = [0u8; 64];
    let heard = journal::with_socket(|sock| {
        sys::socket::recv_msg_flags(sock, &mut buf, libc::MSG_DONTWAIT).map(|r| r.len)
    });
    match heard {
        Some(Ok(len)) if len > 0 => {
            if let Some(Reply::Hello { pid }) = wire::decode_reply(&buf[..len]) {
                greeted(pid);
            }
        }
        Some(Err(e)) if e.errno == libc::EAGAIN => {}
        _ => rejoin(),
    }
}

/// Joins another sentinel, or starts one if this process may fork (it
/// has no other thread), and tells it everything journaled so far.
fn rejoin() {
    drop(journal::take());
    let joined = if single_threaded() {
        join_or_start()
    } else {
        place::join(&place::socket_path())
            .map(|(sock, pid)| joined(sock, pid))
            .ok_or_else(|| Error::new(libc::ENOENT, "no sentinel runs"))
    };
    match joined.and_then(journal::replace) {
        Ok(()) => {
            settle();
            log::warn!("The sentinel was gone: another one follows this container now")
        }
        Err(e) => log::warn!(
            "The sentinel was gone and none replaces it ({}); a monitor killed now leaves traces",
            e.message
        ),
    }
}

/// The connection to this context's sentinel, started if none runs.
fn join_or_start() -> Result<OwnedFd> {
    let path = place::socket_path();
    if let Some((sock, pid)) = place::join(&path) {
        return Ok(joined(sock, pid));
    }
    let turn = place::spawn_turn(&path);
    if let Some((sock, pid)) = place::join(&path) {
        return Ok(joined(sock, pid));
    }
    let sock = start_new()?;
    let _ = sys::set_blocking(sock.as_raw_fd(), false);
    *lock(&STARTED) = Some(turn);
    Ok(sock)
}

/// Remembers the sentinel behind `sock`, to see it exit.
fn joined(sock: OwnedFd, pid: i32) -> OwnedFd {
    // Journaling never blocks the monitor: a sentinel that stopped reading
    // (SIGSTOP) costs it the journal, not the container.
    let _ = sys::set_blocking(sock.as_raw_fd(), false);
    greeted(pid);
    sock
}

/// Reads the greeting of a sentinel this monitor started (off the start's
/// path: it was sent while the container started), so that the journal
/// socket is quiet until the sentinel hangs up, and lets the next monitor
/// start one if need be.
pub fn settle() {
    let Some(turn) = lock(&STARTED).take() else {
        return;
    };
    let hello = journal::with_socket(await_reply).flatten();
    if let Some(Reply::Hello { pid }) = hello {
        greeted(pid);
    }
    drop(turn);
}

/// The holder mount namespace the sentinel sent with its greeting (see
/// `sys::new_root`), kept for a reboot's init.
static ROOT_HOLDER: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// The sentinel's holder, if its greeting came already (a copy of the
/// descriptor); None without one. A greeting read here is the one
/// [`settle`] would wait for.
pub fn root_holder() -> Option<OwnedFd> {
    let mut holder = lock(&ROOT_HOLDER);
    if holder.is_none() {
        *holder = read_greeting();
    }
    holder.as_ref().and_then(|h| h.try_clone().ok())
}

/// A greeting waiting on the journal: its holder, if it came with one.
fn read_greeting() -> Option<OwnedFd> {
    let mut buf = [0u8; 64];
    let mut got = journal::with_socket(|sock| {
        sys::socket::recv_msg_flags(sock, &mut buf, libc::MSG_DONTWAIT).ok()
    })
    .flatten()?;
    let Some(Reply::Hello { pid }) = wire::decode_reply(&buf[..got.len]) else {
        return None;
    };
    // A sentinel joined is known already (its pid came with the
    // connection); one this monitor started is known from here on.
    if lock(&JOINED).is_none() {
        greeted(pid);
    }
    drop(lock(&STARTED).take());
    got.fds.pop()
}

/// Remembers the sentinel that greeted this monitor, to see it exit.
fn greeted(pid: i32) {
    *lock(&JOINED) = Some(Joined {
        pidfd: sys::pidfd_open(pid),
    });
}

/// Whether this process has one thread (it may fork a sentinel).
fn single_threaded() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|d| d.count() == 1)
}

/// The sentinel's next answer, waited for (bounded) whether or not the
/// socket blocks.
fn await_reply(sock: &OwnedFd) -> Option<Reply> {
    if !wait_readable(sock.as_raw_fd()) {
        return None;
    }
    let mut buf = [0u8; 64];
    let got = sys::socket::recv_msg_flags(sock, &mut buf, libc::MSG_DONTWAIT).ok()?;
    wire::decode_reply(&buf[..got.len])
}

/// Starts this context's sentinel, a fork that shares the pages of a
/// monitor that has read no configuration yet. It must be nobody's child
/// here (it outlives this monitor): a detached monitor makes it a sibling
/// (`CLONE_PARENT`: its parent is whoever adopted the monitor); one that
/// runs in the foreground, the caller's child, forks twice instead.
fn start_new() -> Result<OwnedFd> {
    let (ours, theirs) = sys::socketpair_seqpacket()?;
    let sibling = DETACHED.load(std::sync::atomic::Ordering::Relaxed);
    let flags = if sibling { libc::CLONE_PARENT } else { 0 };
    // SAFETY: the monitor is single-threaded here.
    let Some((pid, _pidfd)) = (unsafe { sys::clone3_fork(flags, None, "the sentinel")? }) else {
        // The monitor's end must not stay open here: its EOF is the news.
        drop(ours);
        let code = if sibling {
            watch::serve(theirs)
        } else {
            // SAFETY: still single-threaded; the middle process only exits.
            match unsafe { sys::clone3_fork(0, None, "the sentinel") } {
                Ok(None) => watch::serve(theirs),
                Ok(Some(_)) => 0,
                Err(_) => 1,
            }
        };
        // SAFETY: leaving without returning into the monitor's code.
        unsafe { libc::_exit(code) };
    };
    drop(theirs);
    if !sibling {
        // Reaping the middle process (already reaped for a caller that
        // ignores SIGCHLD).
        if sys::wait_status(pid, 0).unwrap_or(0) != 0 {
            return Err(Error::new(
                libc::ECHILD,
                "The sentinel could not be started",
            ));
        }
    }
    Ok(ours)
}

/// At the monitor's normal end, once it has cleaned up itself: tells the
/// sentinel so and waits until it has read it (and, if it was its last
/// container, until it is gone), so that nothing is left when `stop`
/// returns.
pub fn dismiss() {
    release();
    reap();
}

/// The first half of `dismiss`: says `Clean` (the sentinel starts leaving
/// while the monitor finishes).
pub fn release() {
    let Some(sock) = journal::take() else {
        return;
    };
    // `Clean` must arrive: blocking again, but bounded.
    let _ = sys::set_blocking(sock.as_raw_fd(), true);
    let _ = sys::socket::set_send_timeout(&sock, ANSWER_TIMEOUT_S);
    // Unsent, the journal just closes: the sentinel then undoes what is
    // left of it, which is nothing, the monitor having forgotten each
    // thing it removed.
    if journal::send_on(&sock, &wire::encode(&Msg::Clean), None).is_ok() {
        *lock(&LEAVING) = Some(sock);
    }
}

/// The second half of `dismiss`: waits (bounded) for the sentinel's
/// answer and, when it is leaving, for its exit.
pub fn reap() {
    let Some(sock) = lock(&LEAVING).take() else {
        return;
    };
    // A start that failed early has the greeting still unread.
    let mut answer = await_reply(&sock);
    if let Some(Reply::Hello { pid }) = answer {
        greeted(pid);
        answer = await_reply(&sock);
    }
    drop(lock(&STARTED).take());
    let last = matches!(answer, Some(Reply::Bye { last: true }));
    drop(sock);
    let Some(pidfd) = lock(&JOINED).take().and_then(|j| j.pidfd) else {
        return;
    };
    if last && !wait_readable(pidfd.as_raw_fd()) {
        log::warn!("The sentinel did not leave in time");
    }
}

/// Whether `fd` became readable (a pidfd: its process exited) within the
/// timeout.
fn wait_readable(fd: std::os::fd::RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: polling a descriptor the caller owns.
        let r = unsafe { libc::poll(&mut pfd, 1, ANSWER_TIMEOUT_S * 1000) };
        if !(r < 0 && sys::errno() == libc::EINTR) {
            return r > 0;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
