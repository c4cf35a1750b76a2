//! Creating the intermediate process as a fork of the caller (for exec
//! functions) and reading what the children report.

use std::os::fd::{AsRawFd, OwnedFd};

use super::child::{self, Plan, MSG_LEN};
use crate::error::{Error, Result};
use crate::sys::socket::recv_msg_flags;

pub(super) use crate::sys::pidfd_open;

/// waitpid() that retries on EINTR; the raw status.
pub(super) fn wait_status(pid: i32) -> Result<i32> {
    crate::sys::wait_status(pid, 0)
        .map_err(|e| Error::os(format_args!("Failed to wait for process {pid}"), &e))
}

/// Whether process `pid` lives in the pid namespace of inode `ns`. A
/// caller that may not look (an unprivileged caller and its non-dumpable
/// child) is believed: its containers' roots cannot take the socket.
fn in_pid_ns(pid: i32, ns: u64) -> bool {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(format!("/proc/{pid}/ns/pid")) {
        Ok(meta) => meta.ino() == ns,
        Err(e) => matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM)),
    }
}

/// Reads every message queued on `sock` without blocking. The one
/// descriptor a child may send (its seccomp listener) goes to `listener`.
fn drain(sock: &OwnedFd, out: &mut Vec<[i32; 3]>, listener: &mut Option<OwnedFd>) {
    loop {
        let mut buf = [0u8; MSG_LEN];
        let got = match recv_msg_flags(sock, &mut buf, libc::MSG_DONTWAIT) {
            Ok(g) if g.len == MSG_LEN => g,
            _ => return,
        };
        let word =
            |i: usize| i32::from_ne_bytes(buf[i * 4..i * 4 + 4].try_into().unwrap_or_default());
        let msg = [word(0), word(1), word(2)];
        // Only the first, and only before READY: later ones would come
        // from whoever took the socket inside.
        let ready = out.iter().any(|m| m[0] == child::MSG_READY);
        if msg[0] == child::MSG_LISTENER && listener.is_none() && !ready {
            *listener = got.fds.into_iter().next();
        }
        out.push(msg);
    }
}

/// The error a child's `[MSG_*_FAILED, step, errno]` message reports.
fn step_error(m: &[i32; 3]) -> Error {
    Error::new(
        m[2],
        format!(
            "{} failed: {}",
            child::step_name(m[1]),
            std::io::Error::from_raw_os_error(m[2])
        ),
    )
}

/// Creates the intermediate as a fork of the caller.
///
/// # Safety
/// `plan` is complete; the child runs only `child::intermediate`.
pub(super) unsafe fn spawn_forking(plan: &Plan) -> Result<i32> {
    let inter = libc::fork();
    if inter < 0 {
        return Err(Error::last_os("Failed to fork"));
    }
    if inter == 0 {
        child::intermediate(plan)
    }
    Ok(inter)
}

/// The caller's side once the intermediate exists: its report, then the
/// attached process's.
///
/// The attached process holds its end of the socket while a root inside
/// may take it: only the first pid counts, and only a process of the pid
/// namespace `pid_ns` (its inode) can be it, so a forged report cannot make
/// us wait for another child of the caller. Also returns the seccomp
/// listener the attached process sent, if any.
pub(super) fn after_fork(
    sock: &OwnedFd,
    inter: i32,
    pid_ns: u64,
) -> Result<(i32, Option<OwnedFd>)> {
    let inter_status = wait_status(inter)?;
    let mut msgs = Vec::new();
    let mut listener = None;
    drain(sock, &mut msgs, &mut listener);
    let mut attached = None;
    for m in &msgs {
        match m[0] {
            child::MSG_PID if attached.is_none() => attached = Some(m[1]),
            child::MSG_INTERMEDIATE_FAILED => return Err(step_error(m)),
            _ => {}
        }
    }
    if let Some(pid) = attached.filter(|&pid| !in_pid_ns(pid, pid_ns)) {
        return Err(Error::new(
            libc::EPROTO,
            format!("The attach reported process {pid}, which is not in the container"),
        ));
    }
    let Some(pid) = attached else {
        return Err(Error::new(
            libc::ECHILD,
            format!("The intermediate process died without creating the attached process (wait status {inter_status:#x})"),
        ));
    };
    // Wait until the attached process is ready (or failed, or died).
    let mut pidfd = None;
    loop {
        for m in &msgs {
            match m[0] {
                child::MSG_READY => return Ok((pid, listener)),
                child::MSG_ATTACHED_FAILED => {
                    let _ = wait_status(pid);
                    return Err(step_error(m));
                }
                _ => {}
            }
        }
        msgs.clear();
        let pidfd = pidfd.get_or_insert_with(|| pidfd_open(pid));
        let mut fds = [
            libc::pollfd {
                fd: sock.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: pidfd.as_ref().map_or(-1, |p| p.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: polling descriptors we own (a negative fd is ignored).
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            if crate::sys::errno() == libc::EINTR {
                continue;
            }
            return Err(Error::last_os("poll failed"));
        }
        drain(sock, &mut msgs, &mut listener);
        let closed = fds[0].revents & (libc::POLLHUP | libc::POLLERR) != 0;
        if msgs.is_empty() && (fds[1].revents != 0 || closed) {
            let status = wait_status(pid)?;
            return Err(Error::new(
                libc::ECHILD,
                format!("The attached process exited during its setup (wait status {status:#x})"),
            ));
        }
    }
}
