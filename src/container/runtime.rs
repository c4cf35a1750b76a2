//! Queries and control of a running container through its monitor's
//! command socket: state, init pid, stop, freeze, wait, shutdown, reboot.
//! Works the same on containers started by LXC itself (same protocol).

use super::state::{FROZEN, RUNNING, STOPPED, THAWED};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use super::{Container, STATES};
use crate::commands::client::{self, Outcome, StateWait, Target};
use crate::commands::{state_index, FREEZE_STATES_SERVED, MAX_STATE};
use crate::error::{Error, Result, ResultExt};

/// A command target owning its strings (the lock is not held while
/// talking to the monitor).
pub(super) struct Addr {
    lxcpath: String,
    name: String,
    timeout: i32,
}

impl Addr {
    pub(super) fn target(&self) -> Target<'_> {
        Target {
            lxcpath: &self.lxcpath,
            name: &self.name,
            timeout: self.timeout,
        }
    }
}

impl Container {
    pub(super) fn addr(&self) -> Addr {
        let st = self.lock();
        Addr {
            lxcpath: st.lxcpath.clone(),
            name: st.name.clone(),
            timeout: st.rcv_timeout,
        }
    }

    /// The container's state index; errors read as STOPPED only when no
    /// monitor answers.
    fn state_index(&self) -> Result<usize> {
        // The monitor answers FROZEN itself (ours checks the freezer; LXC's
        // is told by the freezing client).
        self.addr().target().get_state()
    }

    /// The container's state name (STOPPED when no monitor answers).
    pub fn state(&self) -> &'static str {
        match self.state_index() {
            Ok(s) => STATES[s],
            Err(e) => {
                log::warn!(
                    "Failed to get the state of \"{}\": {}",
                    self.name(),
                    e.message
                );
                STATES[STOPPED]
            }
        }
    }

    pub fn is_running(&self) -> bool {
        self.state() != STATES[STOPPED]
    }

    /// PID of init in the caller's pid namespace, or -1 when not running.
    pub fn init_pid(&self) -> i32 {
        self.addr()
            .target()
            .get_init_pid()
            .ok()
            .flatten()
            .unwrap_or(-1)
    }

    /// Init's pid, or ESRCH naming the container when it is not running.
    pub(crate) fn running_init_pid(&self) -> Result<i32> {
        let pid = self.init_pid();
        if pid <= 0 {
            return Err(not_running(libc::ESRCH, &self.name()));
        }
        Ok(pid)
    }

    pub fn init_pidfd(&self) -> Result<OwnedFd> {
        let addr = self.addr();
        addr.target()
            .get_init_pidfd()?
            .ok_or_else(|| not_running(libc::ESRCH, &addr.name))
    }

    /// Kills the container (lxc.signal.stop, default SIGKILL) and waits
    /// until its monitor has cleaned up.
    pub fn stop(&self) -> Result<()> {
        let addr = self.addr();
        if addr.target().get_state()? == STOPPED {
            return Ok(());
        }
        // A frozen container cannot die: the monitor thaws it, but the
        // client-side v1 freezer of LXC-started containers needs us.
        self.stop_inner(&addr)
    }

    fn stop_inner(&self, addr: &Addr) -> Result<()> {
        let unbounded = Addr {
            timeout: 0,
            lxcpath: addr.lxcpath.clone(),
            name: addr.name.clone(),
        };
        unbounded.target().stop()?;
        // The connection closes when the monitor exits; the socket may
        // linger a moment longer.
        let deadline = Instant::now() + Duration::from_secs(5);
        while addr.target().get_state()? != STOPPED {
            if Instant::now() > deadline {
                return Err(Error::new(
                    libc::ETIMEDOUT,
                    format!("Container \"{}\" did not stop", addr.name),
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }

    /// The running container's freezer, located once per operation from
    /// the monitor's GET_CGROUP answers (works for LXC-started containers,
    /// whose monitors freeze only on pure v2).
    fn freezer(&self, addr: &Addr) -> Result<crate::cgroups::Freezer> {
        let hierarchies = crate::cgroups::detect()?;
        crate::cgroups::Freezer::locate(&hierarchies, |c| {
            addr.target().get_cgroup(c).ok().flatten()
        })
        .ok_or_else(|| {
            Error::new(
                libc::ENOENT,
                format!("No freezer cgroup found for \"{}\"", addr.name),
            )
        })
    }

    fn set_frozen(&self, freeze: bool) -> Result<()> {
        let addr = self.addr();
        let what = if freeze { "freeze" } else { "thaw" };
        let target = addr.target();
        // Our monitor freezes itself and serves the states: one round trip.
        // LXC's freezes only on a pure cgroup2 host, serving no state (its
        // clients serve them around the request: the states it ends in are
        // served after it here), and answers ENOENT elsewhere (ENOSYS or
        // EINVAL without the command): then the freezer is driven from here.
        match target.set_frozen(freeze, -1)? {
            Outcome::Stopped | Outcome::Closed if freeze => {
                return Err(not_running(libc::EINVAL, &addr.name))
            }
            Outcome::Stopped | Outcome::Closed => return Ok(()),
            Outcome::Reply(r) => match r.check(&format!("Failed to {what} \"{}\"", addr.name)) {
                Ok(()) if r.header.inline_int() != FREEZE_STATES_SERVED => {
                    let served: &[usize] = if freeze {
                        &[FROZEN]
                    } else {
                        &[THAWED, RUNNING]
                    };
                    for &state in served {
                        let _ = target.serve_state_clients(state);
                    }
                    return Ok(());
                }
                Ok(()) => return Ok(()),
                Err(e)
                    if !matches!(
                        e.errno,
                        libc::ENOENT | libc::ENOSYS | libc::EINVAL | libc::ENOTSUP
                    ) =>
                {
                    return Err(e)
                }
                Err(_) => {}
            },
        }
        let state = self.state_index()?;
        if freeze && state == STOPPED {
            return Err(not_running(libc::EINVAL, &addr.name));
        }
        if !crate::states::freeze_changes(state, freeze) {
            return Ok(());
        }
        self.freezer(&addr)?
            .change_serving(freeze, Duration::from_secs(10), |state| {
                let _ = target.serve_state_clients(state);
            })
            .context(format_args!("\"{}\"", addr.name))
    }

    pub fn freeze(&self) -> Result<()> {
        self.set_frozen(true)
    }

    pub fn unfreeze(&self) -> Result<()> {
        self.set_frozen(false)
    }

    /// Waits up to `timeout` seconds (-1: forever, 0: just check) for
    /// `state`; Ok(false) on timeout. Blocks on a state-client connection,
    /// never polls the monitor in a loop (except, as LXC, once a second
    /// while no monitor exists yet).
    pub fn wait(&self, state: &str, timeout: i32) -> Result<bool> {
        let mut wanted = [false; MAX_STATE];
        for s in state.split('|').map(str::trim).filter(|s| !s.is_empty()) {
            let i =
                state_index(s).ok_or_else(|| Error::invalid(format!("Invalid state \"{s}\"")))?;
            wanted[i] = true;
        }
        if !wanted.iter().any(|&w| w) {
            return Err(Error::invalid("No state to wait for"));
        }
        let addr = self.addr();
        let deadline = deadline_of(timeout);
        loop {
            match addr.target().add_state_client(&wanted)? {
                StateWait::Now(s) if wanted[s] => return Ok(true),
                StateWait::Now(_) => {
                    // Not running yet (or already gone): LXC retries each second.
                    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                    if left == Some(Duration::ZERO) {
                        return Ok(false);
                    }
                    std::thread::sleep(left.map_or(Duration::from_millis(100), |l| {
                        l.min(Duration::from_millis(100))
                    }));
                }
                StateWait::Later(conn) => {
                    let left = deadline.map_or(-1, |d| {
                        d.saturating_duration_since(Instant::now()).as_secs() as i32
                    });
                    return match client::receive_state(&conn, left)? {
                        Some(s) => Ok(wanted[s]),
                        None => Ok(false),
                    };
                }
            }
        }
    }

    /// Sends lxc.signal.halt (default SIGPWR) and waits up to `timeout`
    /// seconds (-1: forever, 0: don't wait) for STOPPED. The signal follows
    /// the container through a reboot under way (a manager reboots, then
    /// stops): it goes to whichever init runs until the container stops.
    pub fn shutdown(&self, timeout: i32) -> Result<bool> {
        let addr = self.addr();
        if addr.target().get_state()? == STOPPED {
            return Ok(true);
        }
        let halt = self.signal_item("lxc.signal.halt", |c| c.signal_halt, libc::SIGPWR)?;
        if timeout == 0 {
            send_signal(&self.init_pidfd()?, halt)?;
            return Ok(true);
        }
        // Registered before the first signal, as LXC's: the stop cannot
        // slip by. A reboot keeps it registered (no STOPPED in between).
        let mut wanted = [false; MAX_STATE];
        wanted[STOPPED] = true;
        let StateWait::Later(stopped) = addr.target().add_state_client(&wanted)? else {
            return Ok(true);
        };
        let deadline = deadline_of(timeout);
        loop {
            // After a reboot, the monitor answers once the new init exists.
            let pidfd = match self.init_pidfd() {
                Ok(p) => p,
                // The monitor is going: its STOPPED is on the way.
                Err(e) if e.errno == libc::ESRCH || e.errno == libc::ECONNRESET => break,
                Err(e) => return Err(e),
            };
            if !signal_until_ready(&pidfd, halt, &[&stopped, &pidfd], deadline)? {
                return Ok(false);
            }
            // This init is gone: stopped, or rebooting into another one.
            if client::wait_readable(&stopped, 10)? || deadline.is_some_and(|d| Instant::now() >= d)
            {
                break;
            }
        }
        // The monitor may still be cleaning up: give it at least 5 s.
        let left = deadline.map_or(-1, |d| {
            d.saturating_duration_since(Instant::now()).as_secs().max(5) as i32
        });
        Ok(client::receive_state(&stopped, left)? == Some(STOPPED))
    }

    /// Unset signals are 0: the default applies (a container without
    /// `lxc.signal.halt` shuts down with SIGPWR, as LXC's).
    fn signal_item(
        &self,
        key: &str,
        field: fn(&crate::config::LxcConf) -> i32,
        default: i32,
    ) -> Result<i32> {
        let n = self.lock().config.as_ref().map_or(0, |c| field(c.conf()));
        crate::spawn::signals::configured(key, n, default)
    }

    /// Asks init to reboot (lxc.signal.reboot, default SIGINT).
    pub fn reboot(&self) -> Result<()> {
        let sig = self.signal_item("lxc.signal.reboot", |c| c.signal_reboot, libc::SIGINT)?;
        let pidfd = self.init_pidfd()?;
        send_signal(&pidfd, sig)
    }

    /// Reboots and waits up to `timeout` seconds for the container to be
    /// RUNNING again (LXC registers for the *next* RUNNING first).
    pub fn reboot2(&self, timeout: i32) -> Result<bool> {
        // LXC: a container that is not running needs no reboot (success).
        if self.state_index()? == STOPPED {
            return Ok(true);
        }
        if timeout == 0 {
            self.reboot()?;
            return Ok(true);
        }
        let addr = self.addr();
        let mut states = [0i32; MAX_STATE];
        states[RUNNING] = 2;
        let wait = addr.target().add_state_client_raw(&states)?;
        let conn = match wait {
            StateWait::Later(conn) => conn,
            StateWait::Now(s) => return Ok(s == RUNNING),
        };
        let sig = self.signal_item("lxc.signal.reboot", |c| c.signal_reboot, libc::SIGINT)?;
        let pidfd = self.init_pidfd()?;
        if !signal_until_ready(&pidfd, sig, &[&conn], deadline_of(timeout))? {
            return Ok(false);
        }
        Ok(client::receive_state(&conn, timeout)? == Some(RUNNING))
    }

    pub fn get_running_config_item(&self, key: &str) -> Result<String> {
        let addr = self.addr();
        addr.target()
            .get_config_item(key)?
            .ok_or_else(|| not_running(libc::ESRCH, &addr.name))
    }

    /// Whether the caller may control the container: a monitor that
    /// refuses our credentials answers EPERM. True for a stopped container.
    pub fn may_control(&self) -> bool {
        !matches!(self.addr().target().get_init_pidfd(), Err(e) if e.errno == libc::EPERM)
    }
}

/// When a wait of `timeout` seconds (-1: forever) started now ends.
fn deadline_of(timeout: i32) -> Option<Instant> {
    (timeout >= 0).then(|| Instant::now() + Duration::from_secs(timeout as u64))
}

/// Sends `signo` to init and waits until one of `done` becomes readable,
/// up to `deadline`. Init of a pid namespace drops signals it has no
/// handler for yet (busybox init installs them only after its sysinit),
/// so a shutdown or reboot right after start would be lost, as it is
/// with LXC: resend once a second while init lives. The pidfd makes a
/// resend to a recycled pid or a rebooted init impossible.
fn signal_until_ready(
    pidfd: &OwnedFd,
    signo: i32,
    done: &[&OwnedFd],
    deadline: Option<Instant>,
) -> Result<bool> {
    loop {
        match send_signal(pidfd, signo) {
            Ok(()) => {}
            // Init already exited: whatever `done` waits for is under way.
            Err(e) if e.errno == libc::ESRCH => {}
            Err(e) => return Err(e),
        }
        let left = deadline.map_or(1000, |d| {
            d.saturating_duration_since(Instant::now())
                .as_millis()
                .min(1000) as i32
        });
        if client::wait_any_readable(done, left)? {
            return Ok(true);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(false);
        }
    }
}

fn send_signal(pidfd: &OwnedFd, signo: i32) -> Result<()> {
    crate::sys::pidfd_send_signal(pidfd, signo)
        .map_err(|e| Error::os(format_args!("Failed to send signal {signo} to init"), &e))
}

fn not_running(errno: i32, name: &str) -> Error {
    Error::new(errno, format!("Container \"{name}\" is not running"))
}
