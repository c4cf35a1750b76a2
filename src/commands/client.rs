//! Client side of the command socket: one connection per command, as LXC.

use std::os::fd::{AsRawFd, OwnedFd};

use super::cgroup_fd::CgroupCtx;
use super::{
    decode_state_msg, int_to_ptr, socket_name, Cmd, Header, DATA_MAX, HEADER_LEN, MAX_STATE,
    STATE_MSG_LEN,
};
use crate::error::{Error, Result};
use crate::sys::socket;

/// What a request carries besides its number.
#[derive(Debug, Clone)]
pub enum Payload {
    None,
    /// An integer in the pointer field (ttynum, timeout, state).
    Inline(i32),
    /// Bytes sent after the header (strings include their NUL).
    Data(Vec<u8>),
    /// A descriptor sent in a second message after the header, its number
    /// in the pointer field (LXC's SECCOMP_NOTIFY_ADD_LISTENER).
    Fd(std::os::fd::RawFd),
}

impl Payload {
    pub fn string(s: &str) -> Payload {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        Payload::Data(v)
    }
}

/// A response: header, payload and the descriptors passed with it.
#[derive(Debug)]
pub struct Reply {
    pub header: Header,
    pub data: Vec<u8>,
    pub fds: Vec<OwnedFd>,
    /// The connection, for commands that keep it open (state clients).
    pub conn: OwnedFd,
}

impl Reply {
    /// `ret` as a Result (`ret` is 0 or -errno).
    pub fn check(&self, what: &str) -> Result<()> {
        if self.header.first < 0 {
            let errno = -self.header.first;
            return Err(Error::new(
                errno,
                format!(
                    "{what}: the monitor answered {}",
                    std::io::Error::from_raw_os_error(errno)
                ),
            ));
        }
        Ok(())
    }

    /// The payload as a string without its trailing NUL.
    pub fn text(&self) -> String {
        let end = self
            .data
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.data.len());
        String::from_utf8_lossy(&self.data[..end]).into_owned()
    }
}

/// What GET_CGROUP_CTX answers.
#[derive(Debug)]
pub struct CgroupDirs {
    /// LXC's `cgroup_layout_t` (`cgroup_fd::Layout`).
    pub layout: i32,
    /// O_PATH descriptors of the container's cgroup directories.
    pub dirs: Vec<OwnedFd>,
}

/// The outcome of one command.
#[derive(Debug)]
pub enum Outcome {
    /// No monitor listens (or it went away): the container is stopped.
    Stopped,
    /// The monitor closed the connection without answering.
    Closed,
    Reply(Reply),
}

/// A container's command socket address.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub lxcpath: &'a str,
    pub name: &'a str,
    /// Seconds every receive may wait (`rcv_timeout`); 0 = unbounded.
    pub timeout: i32,
}

fn is_stopped_errno(errno: i32) -> bool {
    matches!(
        errno,
        libc::ECONNREFUSED | libc::EPIPE | libc::ENOENT | libc::ECONNRESET
    )
}

/// A request on its way: sent, its answer not read yet. Several of them
/// travel at once (each on its own connection, as LXC's), so a caller that
/// needs many answers waits about one round trip instead of one each.
#[derive(Debug)]
pub struct Pending {
    cmd: Cmd,
    /// None: nobody listens, the container is stopped.
    conn: Option<OwnedFd>,
}

impl Target<'_> {
    /// Sends `cmd` and collects the response.
    pub fn command(&self, cmd: Cmd, payload: Payload) -> Result<Outcome> {
        self.send(cmd, payload)?.receive(self)
    }

    /// Sends `cmd` without waiting for the answer ([`Pending::receive`]).
    pub fn send(&self, cmd: Cmd, payload: Payload) -> Result<Pending> {
        self.send_at(&socket_name(self.lxcpath, self.name), cmd, payload)
    }

    /// As `command`, on an explicit abstract socket name (the hashed names
    /// found in /proc/net/unix).
    fn command_at(&self, sock_name: &str, cmd: Cmd, payload: Payload) -> Result<Outcome> {
        self.send_at(sock_name, cmd, payload)?.receive(self)
    }

    fn send_at(&self, sock_name: &str, cmd: Cmd, payload: Payload) -> Result<Pending> {
        let stopped = Pending { cmd, conn: None };
        let conn = match socket::connect(sock_name) {
            Ok(c) => c,
            Err(e) if is_stopped_errno(e.errno) => return Ok(stopped),
            Err(e) => return Err(e),
        };
        let keeps_connection = matches!(cmd, Cmd::AddStateClient | Cmd::GetTtyFd);
        let passed_fd = match payload {
            Payload::Fd(fd) => Some(fd),
            _ => None,
        };
        if self.timeout > 0 && !keeps_connection {
            socket::set_recv_timeout(&conn, self.timeout)?;
        }
        let (datalen, inline, data) = match payload {
            Payload::None => (0, 0, Vec::new()),
            Payload::Inline(v) => (0, int_to_ptr(v), Vec::new()),
            Payload::Data(d) => (d.len() as i32, 0, d),
            Payload::Fd(fd) => (0, int_to_ptr(fd), Vec::new()),
        };
        let header = Header {
            first: cmd as i32,
            datalen,
            inline,
        };
        let sent = socket::send_with_credentials(&conn, &header.encode()).and_then(|n| {
            if n != HEADER_LEN {
                return Err(Error::new(libc::EIO, "Short write of a command request"));
            }
            if !data.is_empty() {
                socket::write_full(&conn, &data)?;
            }
            if let Some(fd) = passed_fd {
                socket::send_with_fd(&conn, &[0], fd)?;
            }
            Ok(())
        });
        match sent {
            Ok(()) => {}
            // A monitor that ends while a request reaches it (its container
            // stopping) closes the connection between any two writes.
            Err(e) if is_stopped_errno(e.errno) => return Ok(stopped),
            Err(e) => return Err(e),
        }
        Ok(Pending {
            cmd,
            conn: Some(conn),
        })
    }
}

impl Pending {
    /// Reads the answer; `target` is the one the request went to.
    pub fn receive(self, target: &Target<'_>) -> Result<Outcome> {
        let cmd = self.cmd;
        let Some(conn) = self.conn else {
            return Ok(Outcome::Stopped);
        };
        let mut hbuf = [0u8; HEADER_LEN];
        let first = match socket::recv_msg(&conn, &mut hbuf) {
            Ok(r) => r,
            Err(e) if e.errno == libc::ECONNRESET => return Ok(Outcome::Stopped),
            Err(e) if e.errno == libc::EAGAIN => {
                return Err(Error::new(
                    libc::ETIMEDOUT,
                    format!(
                        "Command {cmd:?} to \"{}\" timed out after {}s",
                        target.name, target.timeout
                    ),
                ))
            }
            Err(e) => return Err(e),
        };
        if first.len == 0 {
            return Ok(Outcome::Closed);
        }
        if first.len < HEADER_LEN && !socket::read_full(&conn, &mut hbuf[first.len..])? {
            return Ok(Outcome::Closed);
        }
        let header = Header::decode(&hbuf);
        let wanted = usize::try_from(header.datalen).unwrap_or(0);
        if wanted > DATA_MAX && cmd != Cmd::ConsoleLog {
            return Err(Error::new(
                libc::E2BIG,
                format!("Response to {cmd:?} too long: {wanted} bytes"),
            ));
        }
        let mut data = vec![0u8; wanted];
        if wanted > 0 && !socket::read_full(&conn, &mut data)? {
            return Err(Error::new(
                libc::EPIPE,
                format!("Response to {cmd:?} cut short"),
            ));
        }
        Ok(Outcome::Reply(Reply {
            header,
            data,
            fds: first.fds,
            conn,
        }))
    }
}

impl Target<'_> {
    /// A command that must be answered (a closed connection is an error).
    fn ask(&self, cmd: Cmd, payload: Payload) -> Result<Option<Reply>> {
        self.answered(cmd, self.command(cmd, payload)?)
    }

    /// The reply of an outcome that must be one (see `ask`).
    fn answered(&self, cmd: Cmd, outcome: Outcome) -> Result<Option<Reply>> {
        match outcome {
            Outcome::Stopped => Ok(None),
            Outcome::Closed => Err(Error::new(
                libc::ECONNRESET,
                format!(
                    "The monitor of \"{}\" closed the connection without answering {cmd:?}",
                    self.name
                ),
            )),
            Outcome::Reply(r) => Ok(Some(r)),
        }
    }

    /// The state index (0 = STOPPED when no monitor answers).
    pub fn get_state(&self) -> Result<usize> {
        match self.command(Cmd::GetState, Payload::None)? {
            Outcome::Stopped | Outcome::Closed => Ok(0),
            Outcome::Reply(r) => {
                let s = r.header.inline_int();
                usize::try_from(s)
                    .ok()
                    .filter(|&s| s < MAX_STATE)
                    .ok_or_else(|| {
                        Error::new(libc::EPROTO, format!("Monitor reported invalid state {s}"))
                    })
            }
        }
    }

    pub fn get_init_pid(&self) -> Result<Option<i32>> {
        Ok(self
            .ask(Cmd::GetInitPid, Payload::None)?
            .map(|r| r.header.inline_int())
            .filter(|&p| p > 0))
    }

    pub fn get_init_pidfd(&self) -> Result<Option<OwnedFd>> {
        self.init_pidfd_from(self.command(Cmd::GetInitPidfd, Payload::None)?)
    }

    /// The answer to a GET_INIT_PIDFD sent with `send`.
    pub fn init_pidfd_from(&self, outcome: Outcome) -> Result<Option<OwnedFd>> {
        match self.answered(Cmd::GetInitPidfd, outcome)? {
            None => Ok(None),
            Some(r) => {
                r.check("GET_INIT_PIDFD")?;
                r.fds
                    .into_iter()
                    .next()
                    .map(Some)
                    .ok_or_else(|| Error::new(libc::EBADF, "The monitor sent no pidfd"))
            }
        }
    }

    /// The `CLONE_NEW*` flags the container was started with (None when
    /// it is not running).
    pub fn get_clone_flags(&self) -> Result<Option<i32>> {
        self.clone_flags_from(self.command(Cmd::GetCloneFlags, Payload::None)?)
    }

    /// The answer to a GET_CLONE_FLAGS sent with `send`.
    pub fn clone_flags_from(&self, outcome: Outcome) -> Result<Option<i32>> {
        match self.answered(Cmd::GetCloneFlags, outcome)? {
            None => Ok(None),
            Some(r) => {
                r.check("GET_CLONE_FLAGS")?;
                Ok(Some(r.header.inline_int()))
            }
        }
    }

    /// Asks the monitor to stop the container and waits until it is gone
    /// (LXC's monitor answers only on failure and closes when done).
    pub fn stop(&self) -> Result<()> {
        match self.command(Cmd::Stop, Payload::None)? {
            Outcome::Stopped | Outcome::Closed => Ok(()),
            Outcome::Reply(r) => r.check("Failed to stop the container"),
        }
    }

    pub fn get_config_item(&self, key: &str) -> Result<Option<String>> {
        self.config_item_from(key, self.command(Cmd::GetConfigItem, Payload::string(key))?)
    }

    /// The answer to a GET_CONFIG_ITEM for `key` sent with `send`.
    pub fn config_item_from(&self, key: &str, outcome: Outcome) -> Result<Option<String>> {
        match self.answered(Cmd::GetConfigItem, outcome)? {
            None => Ok(None),
            Some(r) => {
                if r.header.first < 0 {
                    return Err(Error::new(
                        libc::EINVAL,
                        format!("The running container has no value for {key}"),
                    ));
                }
                Ok(Some(r.text()))
            }
        }
    }

    /// The container's cgroup path relative to the hierarchy root of
    /// `controller` (None: the unified hierarchy).
    pub fn get_cgroup(&self, controller: Option<&str>) -> Result<Option<String>> {
        self.cgroup_query(Cmd::GetCgroup, controller)
    }

    /// Like `get_cgroup`, the cgroup holding the limits (LXC's
    /// GET_LIMIT_CGROUP; differs with lxc.cgroup.dir.container.inner).
    pub fn get_limit_cgroup(&self, controller: Option<&str>) -> Result<Option<String>> {
        self.cgroup_query(Cmd::GetLimitCgroup, controller)
    }

    fn cgroup_query(&self, cmd: Cmd, controller: Option<&str>) -> Result<Option<String>> {
        let payload = controller.map_or(Payload::None, Payload::string);
        Self::cgroup_from(cmd, controller, self.command(cmd, payload)?)
    }

    /// The answer to a GET_CGROUP / GET_LIMIT_CGROUP for `controller`
    /// sent with `send`.
    pub fn cgroup_from(
        cmd: Cmd,
        controller: Option<&str>,
        outcome: Outcome,
    ) -> Result<Option<String>> {
        match outcome {
            Outcome::Stopped => Ok(None),
            Outcome::Closed => Err(Error::new(
                libc::ENOENT,
                format!("No cgroup for controller {controller:?}"),
            )),
            Outcome::Reply(r) => {
                r.check(&format!("{cmd:?}"))?;
                Ok(Some(r.text()))
            }
        }
    }

    /// GET_CGROUP_CTX: a descriptor of init's cgroup in every hierarchy,
    /// from LXC's monitors as from ours (Ok(None): not running).
    pub fn get_cgroup_ctx(&self) -> Result<Option<CgroupDirs>> {
        self.cgroup_ctx_from(self.command(Cmd::GetCgroupCtx, Self::cgroup_ctx_request())?)
    }

    /// The payload of a GET_CGROUP_CTX request (for `send`).
    pub fn cgroup_ctx_request() -> Payload {
        Payload::Data(CgroupCtx::default().encode().to_vec())
    }

    /// The answer to a GET_CGROUP_CTX sent with `send`.
    pub fn cgroup_ctx_from(&self, outcome: Outcome) -> Result<Option<CgroupDirs>> {
        let Some(r) = self.answered(Cmd::GetCgroupCtx, outcome)? else {
            return Ok(None);
        };
        let ctx = CgroupCtx::decode(&r.data);
        // An error with no descriptors announced: no writable cgroups.
        if r.header.first < 0 && ctx.fd_len == 0 {
            return Ok(Some(CgroupDirs {
                layout: ctx.layout,
                dirs: Vec::new(),
            }));
        }
        r.check("GET_CGROUP_CTX")?;
        if ctx.fd_len as usize != r.fds.len() {
            return Err(Error::new(
                libc::EPROTO,
                format!(
                    "The monitor announced {} cgroup descriptors and sent {}",
                    ctx.fd_len,
                    r.fds.len()
                ),
            ));
        }
        Ok(Some(CgroupDirs {
            layout: ctx.layout,
            dirs: r.fds,
        }))
    }

    /// Asks the monitor to freeze (or thaw) the container and answer once
    /// the freezer settled, waiting up to `timeout` seconds (-1: its cap).
    pub fn set_frozen(&self, freeze: bool, timeout: i32) -> Result<Outcome> {
        let cmd = if freeze { Cmd::Freeze } else { Cmd::Unfreeze };
        self.command(cmd, Payload::Inline(timeout))
    }

    /// Tells the monitor a state change it cannot see itself (freezer).
    pub fn serve_state_clients(&self, state: usize) -> Result<()> {
        self.ask(Cmd::ServeStateClients, Payload::Inline(state as i32))?;
        Ok(())
    }

    /// Registers for the given states. Returns the current state if it is
    /// already one of them, else the connection on which the next matching
    /// state will arrive.
    pub fn add_state_client(&self, states: &[bool; MAX_STATE]) -> Result<StateWait> {
        self.add_state_client_raw(&states.map(i32::from))
    }

    /// As `add_state_client` with LXC's raw per-state values (2 = notify
    /// on the next entry into that state even if already in it).
    pub fn add_state_client_raw(&self, states: &[i32; MAX_STATE]) -> Result<StateWait> {
        let mut data = Vec::with_capacity(4 * MAX_STATE);
        for &s in states {
            data.extend_from_slice(&s.to_ne_bytes());
        }
        match self.command(Cmd::AddStateClient, Payload::Data(data))? {
            Outcome::Stopped | Outcome::Closed => Ok(StateWait::Now(0)),
            Outcome::Reply(r) => {
                r.check("ADD_STATE_CLIENT")?;
                let s = r.header.inline_int();
                match usize::try_from(s) {
                    Ok(s) if s < MAX_STATE => Ok(StateWait::Now(s)),
                    _ => Ok(StateWait::Later(r.conn)),
                }
            }
        }
    }
}

/// A tty handed out by GET_TTY_FD.
#[derive(Debug)]
pub struct TtyFd {
    /// The command connection: the tty stays reserved while it is open.
    pub conn: OwnedFd,
    /// The pty master (for tty 0, the master of the console proxy).
    pub master: OwnedFd,
    pub ttynum: i32,
}

impl Target<'_> {
    /// GET_TTY_FD: `ttynum` -1 = the first free tty, 0 = the console.
    /// Ok(None) when the container is not running.
    pub fn get_tty_fd(&self, ttynum: i32) -> Result<Option<TtyFd>> {
        let busy = || {
            Error::new(
                libc::EBUSY,
                format!("tty number {ttynum} invalid, busy or all ttys busy"),
            )
        };
        match self.command(Cmd::GetTtyFd, Payload::Inline(ttynum))? {
            Outcome::Stopped => Ok(None),
            Outcome::Closed => Err(busy()),
            Outcome::Reply(r) => {
                if r.header.first < 0 {
                    return Err(busy());
                }
                let master = r.fds.into_iter().next().ok_or_else(busy)?;
                Ok(Some(TtyFd {
                    conn: r.conn,
                    master,
                    ttynum: r.header.inline_int(),
                }))
            }
        }
    }

    /// GET_DEVPTS_FD: the container's devpts (Ok(None): not running).
    pub fn get_devpts_fd(&self) -> Result<Option<OwnedFd>> {
        match self.ask(Cmd::GetDevptsFd, Payload::None)? {
            None => Ok(None),
            Some(r) => {
                r.check("GET_DEVPTS_FD")?;
                r.fds
                    .into_iter()
                    .next()
                    .map(Some)
                    .ok_or_else(|| Error::new(libc::EBADF, "The monitor sent no devpts fd"))
            }
        }
    }

    /// GET_SECCOMP_NOTIFY_FD: the listener of init's seccomp notify
    /// filter (Ok(None): not running; EBADF: no notify filter).
    pub fn get_seccomp_notify_fd(&self) -> Result<Option<OwnedFd>> {
        match self.ask(Cmd::GetSeccompNotifyFd, Payload::None)? {
            None => Ok(None),
            Some(r) => {
                r.check("GET_SECCOMP_NOTIFY_FD")?;
                r.fds
                    .into_iter()
                    .next()
                    .map(Some)
                    .ok_or_else(|| Error::new(libc::EBADF, "The monitor sent no seccomp listener"))
            }
        }
    }

    /// SECCOMP_NOTIFY_ADD_LISTENER: the monitor serves `listener` (an
    /// attached process's) through the container's notify proxy.
    pub fn seccomp_notify_add_listener(&self, listener: &impl AsRawFd) -> Result<()> {
        match self.ask(
            Cmd::SeccompNotifyAddListener,
            Payload::Fd(listener.as_raw_fd()),
        )? {
            None => Err(Error::new(
                libc::ENOENT,
                format!("Container \"{}\" is not running", self.name),
            )),
            Some(r) => r.check("Failed to add the seccomp listener"),
        }
    }

    /// CONSOLE_LOG with LXC's `struct lxc_cmd_console_log` (24 bytes:
    /// clear, read, read_max, write_logfile). Err carries the monitor's
    /// errno (ENODATA: nothing to read; EFAULT: no ring buffer).
    /// ADD_BPF_DEVICE_CGROUP: one more device rule for a container on a
    /// pure cgroup2 host (LXC's `struct device_item` as payload).
    pub fn add_bpf_device_rule(&self, rule: &crate::cgroups::DeviceRule) -> Result<()> {
        let payload = crate::cgroups::device_rules::to_wire(rule).to_vec();
        match self.ask(Cmd::AddBpfDeviceCgroup, Payload::Data(payload))? {
            None => Err(Error::new(
                libc::ENOENT,
                format!("Container \"{}\" is not running", self.name),
            )),
            Some(r) => r.check(&format!("Failed to add the device rule \"{rule}\"")),
        }
    }

    pub fn console_log(&self, clear: bool, read: bool, read_max: u64) -> Result<Vec<u8>> {
        let mut req = [0u8; 24];
        req[0] = clear as u8;
        req[1] = read as u8;
        req[8..16].copy_from_slice(&read_max.to_ne_bytes());
        match self.ask(Cmd::ConsoleLog, Payload::Data(req.to_vec()))? {
            None => Err(Error::new(
                libc::ECONNREFUSED,
                format!("Container \"{}\" is not running", self.name),
            )),
            Some(r) => {
                r.check("CONSOLE_LOG")?;
                Ok(r.data)
            }
        }
    }
}

/// The (lxcpath, name) a monitor listening on the abstract socket
/// `sock_name` serves: how hashed socket names are resolved.
pub fn identify(sock_name: &str, timeout: i32) -> Result<Option<(String, String)>> {
    let t = Target {
        lxcpath: "",
        name: "",
        timeout,
    };
    let text = |cmd| -> Result<Option<String>> {
        match t.command_at(sock_name, cmd, Payload::None)? {
            Outcome::Reply(r) if r.header.first >= 0 => Ok(Some(r.text())),
            _ => Ok(None),
        }
    };
    match (text(Cmd::GetLxcpath)?, text(Cmd::GetName)?) {
        (Some(p), Some(n)) => Ok(Some((p, n))),
        _ => Ok(None),
    }
}

/// Result of registering a state client.
#[derive(Debug)]
pub enum StateWait {
    Now(usize),
    Later(OwnedFd),
}

/// Waits on a state-client connection for its state message. `timeout` in
/// seconds, negative = forever. Ok(None) on timeout; a closed connection
/// means the monitor exited: STOPPED.
pub fn receive_state(conn: &OwnedFd, timeout: i32) -> Result<Option<usize>> {
    if timeout >= 0 {
        let ms = timeout.saturating_mul(1000);
        if !wait_readable(conn, ms)? {
            return Ok(None);
        }
    }
    let mut buf = [0u8; STATE_MSG_LEN];
    match socket::read_full(conn, &mut buf) {
        Ok(true) => {
            let s = decode_state_msg(&buf);
            Ok(usize::try_from(s).ok().filter(|&s| s < MAX_STATE))
        }
        Ok(false) => Ok(Some(0)),
        Err(e) if e.errno == libc::ECONNRESET || e.errno == libc::EPIPE => Ok(Some(0)),
        Err(e) => Err(e),
    }
}

/// Polls one descriptor for input; false on timeout.
pub fn wait_readable(fd: &OwnedFd, timeout_ms: i32) -> Result<bool> {
    wait_any_readable(&[fd], timeout_ms)
}

/// Polls descriptors for input (-1: forever); false on timeout.
pub fn wait_any_readable(fds: &[&OwnedFd], timeout_ms: i32) -> Result<bool> {
    use std::os::fd::AsRawFd;
    let deadline =
        std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms.max(0) as u64);
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        let left = deadline
            .saturating_duration_since(std::time::Instant::now())
            .as_millis() as i32;
        // SAFETY: polling valid descriptors in a vector we own.
        let n = unsafe {
            libc::poll(
                pfds.as_mut_ptr(),
                pfds.len() as libc::nfds_t,
                if timeout_ms < 0 { -1 } else { left },
            )
        };
        if n < 0 {
            if crate::sys::errno() == libc::EINTR {
                continue;
            }
            return Err(Error::last_os("poll failed"));
        }
        return Ok(n > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A monitor that ends while a request reaches it (its container
    /// stopping) may close the connection after the header and before the
    /// rest: the container is stopped, as when nobody listens at all. (A
    /// checkpoint that stops the container waits for STOPPED so: it failed
    /// with EPIPE when the monitor left between the two writes.)
    #[test]
    fn a_monitor_gone_mid_request_means_stopped() {
        let lxcpath = format!("/tmp/cmd-client-{}", std::process::id());
        let listener = socket::listen(&super::super::socket_name(&lxcpath, "c")).unwrap();
        let monitor = std::thread::spawn(move || {
            let conn = socket::accept_plain(&listener, false).unwrap();
            let mut header = [0u8; HEADER_LEN];
            socket::read_full(&conn, &mut header).unwrap();
            // Gone, with the rest of the request unread.
        });
        let target = Target {
            lxcpath: &lxcpath,
            name: "c",
            timeout: 5,
        };
        // More than the socket takes before its reader reads: the writes
        // are still going when the monitor closes.
        let rest = Payload::Data(vec![0u8; 8 << 20]);
        let outcome = target.command(Cmd::AddStateClient, rest).unwrap();
        assert!(matches!(outcome, Outcome::Stopped), "{outcome:?}");
        monitor.join().unwrap();
    }
}
