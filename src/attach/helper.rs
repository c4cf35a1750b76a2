//! The attach helper: how a program is run inside a container without the
//! container ever seeing anything of the caller. The caller spawns a fresh
//! exec of our helper binary (`lxc-rs-monitor --attach-helper`, from its
//! read-only handle, see `sys::sealed_exe`) with only the attach socket
//! open, first thing (its exec overlaps the monitor's answers and the
//! plan's making), and sends it the plan once made; the helper is the
//! intermediate: it joins
//! the cgroups and namespaces and forks the attached process from itself.
//! What the container can then see before the program's exec is a copy of
//! the small helper holding the plan, non-dumpable, with no descriptor but
//! those the program gets, executed from a file it cannot write.

use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

use super::child::{self, Plan};
use super::wire;
use crate::error::{Error, Result};
use crate::sys;
use crate::sys::socket::{recv_msg, send_with_fds_flags, MAX_FDS};

/// argv[1] that makes the monitor binary the attach helper.
pub const FLAG: &str = "--attach-helper";

/// The helper's end of the attach socket.
const SOCK_FD: RawFd = 3;

/// Where the helper finds its own executable's handle (closed at once).
const HANDLE_FD: RawFd = 4;

/// The largest piece of the plan sent in one message.
const CHUNK: usize = 32 * 1024;

/// Starts the helper with `sock` as its attach socket, without waiting for
/// its exec (see `sys::spawn::start`).
fn spawn(handle: &OwnedFd, sock: &OwnedFd) -> Result<sys::spawn::Spawning> {
    let argv = [
        c"[lxc attach]".as_ptr() as *mut libc::c_char,
        c"--attach-helper".as_ptr() as *mut libc::c_char,
        std::ptr::null_mut(),
    ];
    let envp = [std::ptr::null_mut::<libc::c_char>()];
    let setup = sys::spawn::SpawnSetup {
        dup2: &[(sock.as_raw_fd(), SOCK_FD)],
        handle_slot: HANDLE_FD,
        // The helper restores the caller's mask for the program.
        block_all_signals: true,
        default_all_signals: false,
        detached: false,
    };
    // SAFETY: static strings and an empty, NULL-terminated environment.
    unsafe { sys::spawn::start(handle, &argv, envp.as_ptr(), &setup, "the attach helper") }
}

/// A helper started before its plan exists: its exec overlaps the
/// monitor's answers and the plan's making. Killed and reaped if the
/// attach ends before it was given its plan.
pub(super) struct Early {
    pid: i32,
    /// Until the plan is sent: the helper on its way to its exec.
    spawning: Option<sys::spawn::Spawning>,
    /// Taken once the helper has its plan (then nothing is killed).
    sock: Option<OwnedFd>,
}

impl Early {
    /// Spawns a helper waiting for its plan; None (logged) without the
    /// helper binary: the attach then forks the caller.
    pub(super) fn start() -> Result<Option<Early>> {
        let handle = match crate::helper_exe::helper_handle() {
            Ok(h) => h,
            Err(e) => {
                log::warn!("attach: no helper ({}), forking the caller", e.message);
                return Ok(None);
            }
        };
        let (sock, theirs) = sys::socketpair_seqpacket()?;
        let spawning = spawn(&handle, &theirs)?;
        Ok(Some(Early {
            pid: spawning.pid(),
            spawning: Some(spawning),
            sock: Some(sock),
        }))
    }

    /// Sends the helper `plan`; its pid and the socket, which is the
    /// caller's to watch from then on.
    ///
    /// # Safety
    /// The plan's pointers are live.
    pub(super) unsafe fn give(mut self, plan: &mut Plan) -> Result<(i32, OwnedFd)> {
        // SAFETY: as the caller promised.
        let messages = unsafe { plan_messages(plan) }?;
        if let Some(spawning) = self.spawning.take() {
            if let Err(e) = spawning.finish() {
                // Reaped already: nothing left to kill.
                self.sock = None;
                return Err(e);
            }
        }
        let sock = self.sock.as_ref().expect("an early helper has its socket");
        send_messages(sock, &messages)?;
        Ok((self.pid, self.sock.take().expect("taken once")))
    }
}

impl Drop for Early {
    fn drop(&mut self) {
        if self.sock.is_some() {
            // SAFETY: killing and reaping our own child.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            // Waits until it is off our memory; one whose exec failed was
            // reaped there (its pid may be another's by now).
            let reaped = self.spawning.take().is_some_and(|s| s.finish().is_err());
            if !reaped {
                let _ = sys::wait_status(self.pid, 0);
            }
        }
    }
}

/// Whether SIGPIPE is ignored in the caller (the helper's runtime ignores
/// it, so the program would inherit that otherwise).
fn sigpipe_ignored() -> bool {
    // SAFETY: querying a disposition into a local.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// The calling thread's signal mask.
fn current_sigmask() -> libc::sigset_t {
    // SAFETY: reading the mask into a local.
    unsafe {
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask);
        mask
    }
}

/// The messages that carry `plan` to the helper: its length, then the
/// bytes in pieces, the descriptors spread over the first messages.
///
/// # Safety
/// The plan's pointers are live.
pub(super) unsafe fn plan_messages(plan: &mut Plan) -> Result<Vec<(Vec<u8>, Vec<RawFd>)>> {
    plan.sigmask = Some(current_sigmask());
    let encoded = wire::encode(plan, sigpipe_ignored())?;
    let mut bytes = (encoded.bytes.len() as u64).to_ne_bytes().to_vec();
    bytes.extend_from_slice(&encoded.bytes);
    let messages = bytes
        .len()
        .div_ceil(CHUNK)
        .max(encoded.fds.len().div_ceil(MAX_FDS));
    let size = bytes.len().div_ceil(messages);
    let mut fds = encoded.fds.chunks(MAX_FDS);
    Ok(bytes
        .chunks(size)
        .map(|piece| (piece.to_vec(), fds.next().unwrap_or(&[]).to_vec()))
        .collect())
}

/// Sends `messages` on `sock`, waiting for room as the helper reads them.
fn send_messages(sock: &OwnedFd, messages: &[(Vec<u8>, Vec<RawFd>)]) -> Result<()> {
    for (piece, fds) in messages {
        send_with_fds_flags(sock, piece, fds, 0)
            .map_err(|e| Error::new(e.errno, "Failed to send the plan to the attach helper"))?;
    }
    Ok(())
}

/// Receives the plan on `sock`: (bytes, descriptors).
fn receive(sock: &OwnedFd) -> Result<(Vec<u8>, Vec<OwnedFd>)> {
    let mut bytes = Vec::new();
    let mut fds = Vec::new();
    let mut buf = vec![0u8; CHUNK + 8];
    let mut want = None;
    while want.is_none_or(|n| bytes.len() < n) {
        let got = recv_msg(sock, &mut buf)?;
        if got.len == 0 {
            return Err(Error::new(
                libc::EPIPE,
                "The caller closed the attach socket",
            ));
        }
        bytes.extend_from_slice(&buf[..got.len]);
        fds.extend(got.fds);
        if want.is_none() && bytes.len() >= 8 {
            let len = u64::from_ne_bytes(bytes[..8].try_into().unwrap_or_default());
            bytes.drain(..8);
            want = Some(len as usize);
        }
    }
    Ok((bytes, fds))
}

/// Entry point of the helper binary: becomes the intermediate (never
/// returns but on a broken plan, then with its exit status).
pub fn main() -> i32 {
    // What a container may see until the program's exec renames it.
    crate::sys::proctitle::set_comm(c"lxc-attach");
    // SAFETY: closing the handle we were run from; fd 3 is the attach
    // socket the caller set up.
    unsafe { libc::close(HANDLE_FD) };
    let sock = unsafe { OwnedFd::from_raw_fd(SOCK_FD) };
    let received = receive(&sock).and_then(|(bytes, fds)| {
        let raw: Vec<RawFd> = fds.into_iter().map(IntoRawFd::into_raw_fd).collect();
        wire::decode(&bytes, &raw, SOCK_FD)
    });
    let decoded = match received {
        Ok(d) => d,
        Err(e) => {
            child::report_failure(SOCK_FD, child::STEP_PLAN, e.errno);
            return 1;
        }
    };
    let disposition = if decoded.sigpipe_ignored {
        libc::SIG_IGN
    } else {
        libc::SIG_DFL
    };
    // SAFETY: single-threaded; setting a disposition, then running the
    // plan the caller prepared for exactly this.
    unsafe {
        libc::signal(libc::SIGPIPE, disposition);
        let _ = sock.into_raw_fd();
        child::intermediate(&decoded.plan)
    }
}
