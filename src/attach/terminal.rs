//! LXC_ATTACH_TERMINAL on the caller's side, as LXC does it: a new pty from
//! the container's devpts instance (the host's when that cannot be
//! reached) becomes the attached process's controlling terminal and
//! replaces those of its stdin/stdout/stderr that are terminals (see
//! `child.rs`); the caller relays the pty to its own controlling terminal
//! (`/dev/tty`, in raw mode meanwhile, its window size followed) and copies
//! the pty's output to `log_fd`, until the pty is let go of. `attach` only
//! returns then.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::commands::client::Target;
use crate::error::Result;
use crate::pty::relay::{Relay, Stop};
use crate::pty::{self, without_sigttou};
use crate::sys::tty::{copy_winsize, set_raw};

pub struct Terminal {
    master: OwnedFd,
    /// Our copy of the pty's slave, held while the attached process lives
    /// (see `relay`).
    slave: Option<OwnedFd>,
    /// The caller's controlling terminal, if it has one.
    peer: Option<OwnedFd>,
    /// The peer's settings before raw mode, restored at the end.
    saved: Option<libc::termios>,
    /// The caller's `log_fd`: LXC's terminal takes it over and closes it.
    log_fd: RawFd,
}

/// The pty from the container's devpts, else one from the host's.
fn allocate(target: &Target<'_>) -> Result<pty::Pty> {
    match target.get_devpts_fd() {
        Ok(Some(devpts)) => match pty::allocate(Some(devpts.as_fd())) {
            Ok(p) => return Ok(p),
            Err(e) => log::info!("attach: {}; using a pty of the host", e.message),
        },
        Ok(None) => log::info!("attach: no devpts from the monitor; using a pty of the host"),
        Err(e) => log::info!(
            "attach: no devpts from the monitor ({}); using a pty of the host",
            e.message
        ),
    }
    pty::allocate(None)
}

/// In a user namespace, the pty goes to the container's root (LXC does so
/// for a host pty), so that the attached process can hand it on to the
/// user it becomes; its group stays when the container maps it (devpts'
/// tty group). A caller without the right to do so leaves it as is.
fn give_to_container_root(slave: &OwnedFd, init_pid: i32) {
    let read =
        |f: &str| crate::sys::procfs::read(format!("/proc/{init_pid}/{f}")).unwrap_or_default();
    let mut maps = crate::idmap::parse_text(&read("uid_map"), 'u');
    maps.extend(crate::idmap::parse_text(&read("gid_map"), 'g'));
    let Ok((uid, root_gid)) = crate::idmap::host_root(&maps) else {
        return;
    };
    if (uid, root_gid) == (0, 0) {
        return;
    }
    let mapped = |gid: u32| {
        maps.iter().any(|m| {
            m.kind == 'g' && u64::from(gid) >= m.hostid && u64::from(gid) - m.hostid < m.range
        })
    };
    // SAFETY: fstat into a struct on our stack.
    let group = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        (libc::fstat(slave.as_raw_fd(), &mut st) == 0).then_some(st.st_gid)
    };
    let gid = match group {
        Some(g) if mapped(g) => u32::MAX,
        _ => root_gid,
    };
    // SAFETY: fchown on a descriptor we own.
    if unsafe { libc::fchown(slave.as_raw_fd(), uid, gid) } < 0 {
        log::debug!(
            "attach: cannot give the pty to {uid}: {}",
            std::io::Error::last_os_error()
        );
    }
}

impl Terminal {
    /// Allocates the pty and prepares the caller's terminal; `log_fd`
    /// (negative: none) belongs to the terminal from now on.
    pub fn open(target: &Target<'_>, init_pid: i32, log_fd: RawFd) -> Result<Terminal> {
        let pty = allocate(target)?;
        log::debug!("attach: allocated pty {}", pty.number);
        give_to_container_root(&pty.slave, init_pid);
        // SAFETY: a constant C string; the descriptor becomes ours.
        let fd = unsafe { libc::open(c"/dev/tty".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        // SAFETY: a fresh descriptor.
        let peer = (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) });
        let mut terminal = Terminal {
            master: pty.master,
            slave: Some(pty.slave),
            peer,
            saved: None,
            log_fd: -1,
        };
        if let Some(peer) = &terminal.peer {
            let fd = peer.as_raw_fd();
            copy_winsize(fd, terminal.master.as_raw_fd());
            terminal.saved = Some(without_sigttou(|| set_raw(fd))?);
        }
        terminal.log_fd = log_fd;
        Ok(terminal)
    }

    /// The slave, for the attached process.
    pub fn slave_fd(&self) -> RawFd {
        self.slave.as_ref().map_or(-1, |s| s.as_raw_fd())
    }

    /// What the intermediate process closes: the master, the caller's
    /// terminal and the log (unless it is one of the attached process's
    /// stdio descriptors). The container never gets them.
    pub fn child_close_fds(&self, stdio: &[i32; 3]) -> Vec<RawFd> {
        let mut fds = vec![self.master.as_raw_fd()];
        fds.extend(self.peer.as_ref().map(|p| p.as_raw_fd()));
        if self.log_fd > 2 && !stdio.contains(&self.log_fd) {
            fds.push(self.log_fd);
        }
        fds
    }

    /// Relays until the pty is let go of, then restores the caller's
    /// terminal. While the attached process `pid` lives, our copy of the
    /// slave keeps the pty from hanging up, even when the process holds no
    /// descriptor of it (none of its stdio is a terminal) and only opens
    /// /dev/tty later; once it exited, the relay goes on until whatever it
    /// left holding the pty closes it too, as LXC.
    pub fn relay(mut self, pid: i32) {
        let peer = self.peer.as_ref().map_or(-1, |p| p.as_raw_fd());
        let mut relay = Relay {
            master: self.master.as_raw_fd(),
            input: peer,
            output: peer,
            log: self.log_fd,
            size_from: peer,
            filter: None,
        };
        let mut stop = match super::spawn::pidfd_open(pid) {
            Some(pidfd) => relay.run(pidfd.as_raw_fd()),
            None => Ok(Stop::Watch),
        };
        if stop == Ok(Stop::Watch) {
            self.slave = None;
            stop = relay.run(-1);
        }
        match stop {
            Ok(s) => log::debug!("attach: terminal relay ended: {s:?}"),
            Err(e) => log::warn!("attach: terminal relay failed: {}", e.message),
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let (Some(peer), Some(old)) = (&self.peer, &self.saved) {
            // SAFETY: restoring settings read before, on our descriptor.
            without_sigttou(|| unsafe { libc::tcsetattr(peer.as_raw_fd(), libc::TCSAFLUSH, old) });
        }
        if self.log_fd >= 0 {
            // SAFETY: the caller handed log_fd over, as to LXC's terminal.
            unsafe { libc::close(self.log_fd) };
        }
    }
}
