//! The monitor's event loop: one poll over the signalfd, init's pidfd, the
//! command socket, the console and tty masters and the state clients.

use crate::states::state::{FROZEN, RUNNING, STARTING, STOPPED, STOPPING, THAWED};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::cgroup_fds;
use super::stop_hooks::{self, FailedStart};
use super::terminal::{self, ConsoleLogRequest, Holders, LogFile, Proxy, RingBuf};
use super::{prepare, spawn, spawn_or_restore, Args, Prepared};
use crate::commands::server::{self, Request, Response};
use crate::commands::{Cmd, CMD_MAX, FREEZE_STATES_SERVED, MAX_STATE};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::hooks::Hooks;
use crate::spawn::{HeldNamespaces, InitProcess};
use crate::sys;
use crate::sys::resident::{IdleWait, QUIET_MS};

struct StateClient {
    conn: OwnedFd,
    /// LXC's per-state values: non-zero = notify on that state; 1 also
    /// means "answer at once if already there" (2 waits for the next one,
    /// as reboot2 uses for RUNNING).
    states: [i32; MAX_STATE],
}

pub(crate) struct Monitor {
    name: String,
    lxcpath: String,
    foreground: bool,
    config: Config,
    prep: Prepared,
    init: InitProcess,
    state: usize,
    state_clients: Vec<StateClient>,
    /// STOP requests: answered by closing once the container is gone.
    stop_waiters: Vec<OwnedFd>,
    sigfd: OwnedFd,
    ring: Option<RingBuf>,
    logfile: Option<LogFile>,
    /// Clients holding a tty or the console proxy (GET_TTY_FD).
    holders: Holders,
    /// Init's namespaces, for the stop hooks.
    held_ns: HeldNamespaces,
    /// The mount namespace init was cloned with and left, until the caller
    /// has its answer (see `HeldNamespaces::completed`).
    left_mnt_ns: Option<OwnedFd>,
    /// Where init's seccomp notifications go (`lxc.seccomp.notify.proxy`).
    notify_proxy: Option<crate::seccomp::proxy::NotifyProxy>,
    /// The listeners of attached processes (SECCOMP_NOTIFY_ADD_LISTENER),
    /// served through the same proxy until their processes are gone.
    attach_listeners: Vec<OwnedFd>,
}

/// What a polled descriptor is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Signals,
    Init,
    Listener,
    Console,
    /// An unheld tty master (index): drained into the void.
    Tty(usize),
    StateClient,
    /// A connection holding a tty or the console proxy.
    Holder,
    /// The console proxy's pty: the client's input.
    ProxyPty,
    /// Init's seccomp listener, when a notify proxy serves it.
    SeccompNotify,
    /// An attached process's seccomp listener (index).
    AttachNotify(usize),
    /// The journal's socket: it hangs up if the sentinel is killed.
    Sentinel,
}

fn signal_fd() -> Result<OwnedFd> {
    // SAFETY: building and installing a signal mask, then a signalfd for it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        // SIGCHLD and every signal forwarded to init, as LXC does.
        libc::sigaddset(&mut set, libc::SIGCHLD);
        for s in crate::spawn::signals::FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        if fd < 0 {
            return Err(Error::last_os("Failed to create the monitor's signalfd"));
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

impl Monitor {
    /// Kept out of line and boxed: the setup's locals go with its frame,
    /// not into the stack the monitor idles on for the container's life.
    /// `found`: the cgroup hierarchies the caller found (see `prepare`).
    #[inline(never)]
    pub fn start(
        args: &Args,
        config: Config,
        found: Option<Vec<crate::cgroups::handoff::Found>>,
        early: Option<super::EarlyNetns>,
    ) -> Result<Box<Monitor>> {
        // The socket first: a second start of the same container fails
        // here, before anything of the running one is touched, and runs
        // no hook (LXC makes it before `__lxc_start`).
        let listener = server::listen(&args.lxcpath, &args.name)?;
        let config_file = std::path::Path::new(&args.config_file);
        let mut failed = FailedStart::new(Hooks::for_start(&args.name, config_file, &config));
        Self::start_with(args, config, listener, &mut failed, found, early)
            .map_err(|e| failed.end(e))
    }

    fn start_with(
        args: &Args,
        config: Config,
        listener: OwnedFd,
        failed: &mut FailedStart,
        found: Option<Vec<crate::cgroups::handoff::Found>>,
        early: Option<super::EarlyNetns>,
    ) -> Result<Box<Monitor>> {
        let mut prep = prepare(args, &config, listener, failed, found, early)?;
        let init = spawn_or_restore(args, &mut prep, failed)?;
        // From here init runs: a failure kills it and hands its cgroups
        // to the end of the failed start.
        let mut abort = |prep: &mut Prepared, init: &InitProcess, e: Error| {
            crate::spawn::kill_and_reap(init);
            failed.cgroups = std::mem::take(&mut prep.cgroups);
            e
        };
        let sigfd = match signal_fd() {
            Ok(s) => s,
            Err(e) => return Err(abort(&mut prep, &init, e)),
        };
        let notify_proxy = crate::seccomp::proxy::NotifyProxy::for_container(
            init.seccomp_notify.as_ref(),
            config.conf().seccomp_notify_proxy.as_deref(),
            config.conf().seccomp_notify_cookie.as_deref(),
        );
        let notify_proxy = match notify_proxy {
            Ok(p) => p,
            Err(e) => return Err(abort(&mut prep, &init, e)),
        };
        let (ring, logfile) = terminal::from_config(&config);
        let holders = Holders::new(prep.ttys.len());
        // Now that init joined them all (its cgroup namespace included).
        let (held_ns, left_mnt_ns) = match failed.cloned.take() {
            Some((_, since_clone)) => since_clone.completed(&prep.spec, init.pid),
            None => (HeldNamespaces::open(&prep.spec, init.pid), None),
        };
        let mut config = config;
        config.keep_items_only();
        record_network(&mut config, &init);
        log::info!(
            "Container \"{}\" is running with init pid {}",
            args.name,
            init.pid
        );
        Ok(Box::new(Monitor {
            name: args.name.clone(),
            lxcpath: args.lxcpath.clone(),
            foreground: args.foreground,
            config,
            prep,
            init,
            state: RUNNING,
            state_clients: Vec::new(),
            stop_waiters: Vec::new(),
            sigfd,
            ring,
            logfile,
            holders,
            held_ns,
            left_mnt_ns,
            notify_proxy,
            attach_listeners: Vec::new(),
        }))
    }

    pub fn init_pid(&self) -> i32 {
        self.init.pid
    }

    /// Serves until init exits, cleans up, returns init's wait status.
    pub fn run(mut self: Box<Self>) -> i32 {
        drop(self.left_mnt_ns.take());
        loop {
            let status = loop {
                match self.poll_once() {
                    Ok(Some(status)) => break status,
                    Ok(None) => {}
                    Err(e) => log::warn!("Monitor event loop: {}", e.message),
                }
            };
            if !self.is_reboot(status) {
                return self.finish(status);
            }
            if let Err(e) = self.restart() {
                log::error!("Failed to reboot \"{}\": {}", self.name, e.message);
                return self.finish_after_hooks(status);
            }
        }
    }

    /// The kernel ends a pid namespace whose init called reboot(2) with
    /// RESTART by SIGHUP (HALT/POWER_OFF give SIGINT): LXC restarts then.
    fn is_reboot(&self, status: i32) -> bool {
        self.stop_waiters.is_empty()
            && libc::WIFSIGNALED(status)
            && libc::WTERMSIG(status) == libc::SIGHUP
    }

    /// Starts a fresh init with the same configuration, console and
    /// command socket; state clients see STOPPING, STARTING, RUNNING.
    #[inline(never)]
    fn restart(&mut self) -> Result<()> {
        log::info!("Container \"{}\" is rebooting", self.name);
        self.set_state(STOPPING);
        self.drain_console();
        let (hooks, pid) = (&self.prep.spec.hooks, Some(self.init.pid));
        // The network first, as at a stop (see `finish`); joined at once:
        // the clone of the new init follows.
        drop(release_network(&mut self.init, hooks));
        stop_hooks::run_stop(hooks, &self.held_ns, pid, "reboot");
        self.prep.cgroups.remove();
        self.held_ns = HeldNamespaces::default();
        // A failing post-stop hook turns the reboot into a stop (LXC).
        stop_hooks::run_post_stop(hooks, pid, "reboot")?;
        // LXC's next `__lxc_start`: its failure ends as any failed start.
        let mut failed = FailedStart::reboot(hooks.clone(), self.init.pid);
        self.start_again(&mut failed).map_err(|e| failed.end(e))
    }

    fn start_again(&mut self, failed: &mut FailedStart) -> Result<()> {
        self.prep.spec.hooks.run("pre-start", &[], &[])?;
        failed.cgroups = crate::cgroups::ContainerCgroups::create_with(
            &self.prep.plan.hierarchies,
            &self.name,
            &self.prep.cgroups.setup,
        )?;
        self.prep.cgroups = std::mem::take(&mut failed.cgroups);
        self.set_state(STARTING);
        self.init = spawn(&mut self.prep, failed)?;
        self.held_ns = HeldNamespaces::open(&self.prep.spec, self.init.pid);
        failed.cloned = None;
        record_network(&mut self.config, &self.init);
        self.set_state(RUNNING);
        Ok(())
    }

    /// The ends take the monitor boxed: moved by value, its few kB would
    /// sit in the frame of `run`, on the stack the monitor idles on.
    #[inline(never)]
    fn finish(mut self: Box<Self>, status: i32) -> i32 {
        self.set_state(STOPPING);
        // Drain what init's last words left on the console.
        self.drain_console();
        let pid = Some(self.init.pid);
        // The network first, as LXC's `__lxc_start` does before `lxc_end`
        // runs the stop hooks: they find physical devices back on the host
        // (LXD's stopns hook moves one itself only if it is still inside).
        // Held until the clients heard the stop, so they need not wait for
        // the kernel's tail of the veth deletions.
        let unlinking = release_network(&mut self.init, &self.prep.spec.hooks);
        stop_hooks::run_stop(&self.prep.spec.hooks, &self.held_ns, pid, "stop");
        self.prep.cgroups.remove();
        self.held_ns = HeldNamespaces::default();
        // Nothing is left on the host: the sentinel may go (it is reaped in
        // `close_down`, before any client hears the container stopped).
        crate::sentinel::release();
        // Before the command socket closes, so that `stop` returns after it.
        let _ = stop_hooks::run_post_stop(&self.prep.spec.hooks, pid, "stop");
        let status = self.close_down(status);
        drop(unlinking);
        status
    }

    /// The end of a failed reboot, whose network was released and whose
    /// stop hooks ran already.
    #[inline(never)]
    fn finish_after_hooks(mut self: Box<Self>, status: i32) -> i32 {
        self.set_state(STOPPING);
        self.prep.cgroups.remove();
        crate::sentinel::release();
        self.close_down(status)
    }

    fn close_down(mut self: Box<Self>, status: i32) -> i32 {
        // Close the command socket before announcing STOPPED: anyone told
        // "stopped" must find the container stopped.
        drop(self.prep.listener);
        if self.prep.spec.ephemeral {
            // lxc.ephemeral: the container goes with its stop.
            let gone = super::destroy_ephemeral(&self.name, &self.lxcpath);
            if let Err(e) = gone {
                log::error!(
                    "Failed to destroy ephemeral container \"{}\": {}",
                    self.name,
                    e.message
                );
            }
        }
        // The sentinel is gone before anyone hears "stopped".
        crate::sentinel::reap();
        let name = self.name.clone();
        let old = std::mem::take(&mut self.state_clients);
        for client in old {
            if client.states[STOPPED] != 0 {
                let _ = server::push_state(&client.conn, &name, STOPPED);
            }
        }
        self.stop_waiters.clear();
        log::info!("Container \"{}\" stopped (wait status {status})", self.name);
        status
    }

    fn poll_once(&mut self) -> Result<Option<i32>> {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut srcs: Vec<Source> = Vec::new();
        let mut push = |fd: RawFd, src: Source| {
            fds.push(libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
            srcs.push(src);
        };
        push(self.sigfd.as_raw_fd(), Source::Signals);
        push(self.init.pidfd.as_raw_fd(), Source::Init);
        push(self.prep.listener.as_raw_fd(), Source::Listener);
        if let Some((m, _)) = &self.prep.console {
            push(m.as_raw_fd(), Source::Console);
        }
        for (i, (m, _)) in self.prep.ttys.iter().enumerate() {
            match &self.holders.ttys[i] {
                // A handed-out master is the client's to read.
                Some(conn) => push(conn.as_raw_fd(), Source::Holder),
                None => push(m.as_raw_fd(), Source::Tty(i)),
            }
        }
        if let Some(p) = &self.holders.proxy {
            push(p.conn.as_raw_fd(), Source::Holder);
            push(p.pty.as_raw_fd(), Source::ProxyPty);
        }
        for c in &self.state_clients {
            push(c.conn.as_raw_fd(), Source::StateClient);
        }
        if let (Some(l), Some(_)) = (&self.init.seccomp_notify, &self.notify_proxy) {
            push(l.as_raw_fd(), Source::SeccompNotify);
        }
        for (i, l) in self.attach_listeners.iter().enumerate() {
            push(l.as_raw_fd(), Source::AttachNotify(i));
        }
        if let Some(journal) = crate::journal::with_socket(|s| s.as_raw_fd()) {
            push(journal, Source::Sentinel);
        }
        // SAFETY: polling descriptors we own.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, QUIET_MS) };
        let waited = match n {
            // Quiet after serving: what serving touched goes back.
            0 => sys::resident::shed_idle_pages_then(IdleWait::Poll(&mut fds)),
            n if n < 0 => Err(sys::errno()),
            n => Ok(n as usize),
        };
        match waited {
            Ok(_) => {}
            Err(libc::EINTR) => return Ok(None),
            Err(errno) => {
                let err = std::io::Error::from_raw_os_error(errno);
                return Err(Error::os("poll failed", &err));
            }
        }
        self.serve(&fds, &srcs)
    }

    /// Handles what the poll found ready; init's wait status once it ended.
    /// Out of line: its frames are not on the stack the monitor idles on.
    #[inline(never)]
    fn serve(&mut self, fds: &[libc::pollfd], srcs: &[Source]) -> Result<Option<i32>> {
        let ready: Vec<(RawFd, Source, i16)> = fds
            .iter()
            .zip(srcs)
            .filter(|(p, _)| p.revents != 0)
            .map(|(p, s)| (p.fd, *s, p.revents))
            .collect();
        // Hung-up clients go first, before serving can add or remove
        // clients (and before a closed descriptor number can be reused).
        let gone: Vec<RawFd> = ready
            .iter()
            .filter(|(_, s, _)| *s == Source::StateClient)
            .map(|(fd, _, _)| *fd)
            .collect();
        self.state_clients
            .retain(|c| !gone.contains(&c.conn.as_raw_fd()));
        for &(fd, src, revents) in &ready {
            match src {
                Source::Holder if client_gone(fd) => self.holders.release(fd),
                // The client closed the proxy master.
                Source::ProxyPty if revents & libc::POLLIN == 0 || !self.proxy_input() => {
                    self.holders.proxy = None
                }
                _ => {}
            }
        }
        let is_ready = |src: Source| ready.iter().any(|(_, s, _)| *s == src);
        if is_ready(Source::Signals) {
            self.handle_signals();
        }
        if is_ready(Source::Init) {
            return Ok(Some(self.reap_init()));
        }
        if is_ready(Source::Listener) {
            self.serve_one()?;
        }
        if is_ready(Source::Console) {
            self.drain_console();
        }
        if is_ready(Source::Sentinel) {
            crate::sentinel::journal_readable();
        }
        let notified = ready
            .iter()
            .any(|(_, s, r)| *s == Source::SeccompNotify && r & libc::POLLIN != 0);
        if let (true, Some(p), Some(l)) =
            (notified, &mut self.notify_proxy, &self.init.seccomp_notify)
        {
            p.handle(l, std::process::id() as i32, self.init.pid);
        }
        self.serve_attach_listeners(&ready);
        for &(_, src, _) in &ready {
            if let Source::Tty(i) = src {
                if self.holders.ttys[i].is_none() {
                    let _ = drain(self.prep.ttys[i].0.as_raw_fd());
                }
            }
        }
        Ok(None)
    }

    /// Forwards what attached processes' listeners have; drops those whose
    /// processes are all gone (POLLHUP).
    fn serve_attach_listeners(&mut self, ready: &[(RawFd, Source, i16)]) {
        let mut gone = Vec::new();
        for &(_, src, revents) in ready {
            let Source::AttachNotify(i) = src else {
                continue;
            };
            if revents & libc::POLLIN != 0 {
                if let Some(p) = &mut self.notify_proxy {
                    p.handle(
                        &self.attach_listeners[i],
                        std::process::id() as i32,
                        self.init.pid,
                    );
                }
            } else if revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
                gone.push(i);
            }
        }
        for i in gone.into_iter().rev() {
            self.attach_listeners.remove(i);
        }
    }

    /// SECCOMP_NOTIFY_ADD_LISTENER: the listener comes in a message after
    /// the header. As LXC, refused (EINVAL) without a notify proxy.
    fn add_attach_listener(&mut self, conn: &OwnedFd) -> i32 {
        let mut byte = [0u8; 1];
        let listener = match crate::sys::socket::recv_msg(conn, &mut byte) {
            Ok(r) => r.fds.into_iter().next(),
            Err(e) => return -e.errno,
        };
        let Some(listener) = listener else {
            return -libc::EBADF;
        };
        if self.notify_proxy.is_none() {
            log::error!("No seccomp proxy to serve an attached process's listener");
            return -libc::EINVAL;
        }
        if !crate::seccomp::proxy::is_listener(&listener) {
            return -libc::EBADF;
        }
        self.attach_listeners.push(listener);
        0
    }

    /// Copies what the console client typed into the console; false when
    /// the proxy pty hung up.
    fn proxy_input(&mut self) -> bool {
        let (Some(p), Some((master, _))) = (&self.holders.proxy, &self.prep.console) else {
            return false;
        };
        let mut buf = [0u8; 4096];
        let n = crate::pty::relay::read_fd(p.pty.as_raw_fd(), &mut buf);
        if n < 0 {
            // The pty is non-blocking: nothing to read yet.
            return sys::errno() == libc::EAGAIN;
        }
        if n == 0 {
            return false;
        }
        crate::sys::tty::copy_winsize(p.pty.as_raw_fd(), master.as_raw_fd());
        let _ = crate::pty::relay::write_fd(master.as_raw_fd(), &buf[..n as usize]);
        true
    }

    fn handle_signals(&mut self) {
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: reading one siginfo record into a local struct.
            let n = unsafe {
                libc::read(
                    self.sigfd.as_raw_fd(),
                    &mut info as *mut _ as *mut libc::c_void,
                    std::mem::size_of::<libc::signalfd_siginfo>(),
                )
            };
            if n <= 0 {
                break;
            }
            let signo = info.ssi_signo as i32;
            if signo == libc::SIGCHLD {
                // Init is reaped through its pidfd; nothing else is ours.
                continue;
            }
            log::info!("Forwarding signal {signo} to init {}", self.init.pid);
            self.signal_init(signo);
        }
    }

    fn signal_init(&self, signo: i32) -> i32 {
        match sys::pidfd_send_signal(&self.init.pidfd, signo) {
            Ok(()) => 0,
            Err(e) => -e.raw_os_error().unwrap_or(libc::EIO),
        }
    }

    fn reap_init(&mut self) -> i32 {
        crate::sys::wait_status(self.init.pid, 0).unwrap_or(0)
    }

    fn drain_console(&mut self) {
        let Some((master, _)) = &self.prep.console else {
            return;
        };
        let fd = master.as_raw_fd();
        while let Some(bytes) = drain(fd) {
            if self.foreground {
                let _ = std::io::stdout().write_all(&bytes);
                let _ = std::io::stdout().flush();
            }
            if let Some(r) = &mut self.ring {
                r.write(&bytes);
            }
            if let Some(l) = &mut self.logfile {
                l.write(&bytes);
            }
            if let Some(p) = &self.holders.proxy {
                // Non-blocking: a client that stops reading loses output
                // rather than wedging the monitor.
                let _ = crate::pty::relay::write_fd(p.pty.as_raw_fd(), &bytes);
            }
        }
    }

    fn set_state(&mut self, state: usize) {
        self.state = if state == THAWED { RUNNING } else { state };
        let name = self.name.clone();
        self.state_clients.retain(|c| {
            if c.states[state] != 0 {
                let _ = server::push_state(&c.conn, &name, state);
                false
            } else {
                true
            }
        });
    }

    /// The state as LXC reports it: a frozen cgroup reads FROZEN even if
    /// someone froze it behind our back.
    fn current_state(&self) -> usize {
        if self.state == RUNNING && self.prep.cgroups.is_frozen() {
            return FROZEN;
        }
        self.state
    }

    fn serve_one(&mut self) -> Result<()> {
        let conn = server::accept(&self.prep.listener)?;
        server::set_client_timeout(&conn)?;
        let Some(req) = server::read_request(&conn)? else {
            return Ok(());
        };
        if !req.permitted {
            return server::respond(&conn, &Response::error(libc::EPERM));
        }
        self.dispatch(conn, &req)
    }

    fn dispatch(&mut self, conn: OwnedFd, req: &Request) -> Result<()> {
        let reply = |rsp: &Response<'_>| server::respond(&conn, rsp);
        if req.cmd < 0 || req.cmd >= CMD_MAX {
            return reply(&Response::error(libc::ENOSYS));
        }
        if req.is(Cmd::GetState) {
            reply(&Response::inline(self.current_state() as i32))
        } else if req.is(Cmd::GetInitPid) {
            reply(&Response::inline(self.init.pid))
        } else if req.is(Cmd::GetInitPidfd) {
            reply(&Response {
                fds: &[self.init.pidfd.as_raw_fd()],
                ..Default::default()
            })
        } else if req.is(Cmd::GetCloneFlags) {
            reply(&Response::inline(self.prep.spec.reported_clone_flags()))
        } else if req.is(Cmd::GetName) {
            reply(&Response {
                data: &server::with_nul(&self.name),
                ..Default::default()
            })
        } else if req.is(Cmd::GetLxcpath) {
            reply(&Response {
                data: &server::with_nul(&self.lxcpath),
                ..Default::default()
            })
        } else if req.is(Cmd::GetConfigItem) {
            let value = req
                .string()
                .and_then(|k| self.config.get_item(&k).ok())
                .filter(|v| !v.is_empty());
            match value {
                Some(v) => reply(&Response {
                    data: &server::with_nul(&v),
                    ..Default::default()
                }),
                None => reply(&Response {
                    ret: -1,
                    ..Default::default()
                }),
            }
        } else if req.is(Cmd::GetCgroup) || req.is(Cmd::GetLimitCgroup) {
            let controller = if req.data.is_empty() {
                None
            } else {
                req.string()
            };
            match self.cgroup_path(controller.as_deref(), req.is(Cmd::GetLimitCgroup)) {
                Some(p) => reply(&Response {
                    data: &server::with_nul(&p),
                    ..Default::default()
                }),
                // LXC closes the connection when it has no such cgroup.
                None => Ok(()),
            }
        } else if req.is(Cmd::Stop) {
            let signo = if self.prep.spec.stop_signal > 0 {
                self.prep.spec.stop_signal
            } else {
                libc::SIGKILL
            };
            let r = self.signal_init(signo);
            if r < 0 {
                return reply(&Response::error(-r));
            }
            let _ = self.prep.cgroups.set_frozen(false);
            self.stop_waiters.push(conn);
            Ok(())
        } else if req.is(Cmd::AddStateClient) {
            self.add_state_client(conn, req)
        } else if req.is(Cmd::ServeStateClients) {
            let state = req.header.inline_int();
            if let Some(s) = usize::try_from(state).ok().filter(|&s| s < MAX_STATE) {
                self.set_state(s);
            }
            reply(&Response::default())
        } else if req.is(Cmd::GetDevptsFd) {
            match self.devpts_fd() {
                Some(fd) => reply(&Response {
                    fds: &[fd.as_raw_fd()],
                    ..Default::default()
                }),
                None => reply(&Response::error(libc::EBADF)),
            }
        } else if req.is(Cmd::GetSeccompNotifyFd) {
            match &self.init.seccomp_notify {
                Some(fd) => reply(&Response {
                    fds: &[fd.as_raw_fd()],
                    ..Default::default()
                }),
                None => reply(&Response::error(libc::EBADF)),
            }
        } else if req.is(Cmd::SeccompNotifyAddListener) {
            let ret = self.add_attach_listener(&conn);
            reply(&Response {
                ret,
                ..Default::default()
            })
        } else if req.is(Cmd::GetTtyFd) {
            self.get_tty_fd(conn, req.header.inline_int())
        } else if req.is(Cmd::ConsoleLog) {
            let Some(q) = ConsoleLogRequest::decode(&req.data) else {
                return reply(&Response::error(libc::EINVAL));
            };
            match terminal::console_log(self.ring.as_mut(), &q) {
                Ok(data) => reply(&Response {
                    data: &data,
                    ..Default::default()
                }),
                Err(errno) => reply(&Response::error(errno)),
            }
        } else if req.is(Cmd::AddBpfDeviceCgroup) {
            // set_cgroup_item("devices.allow"/"devices.deny") on a pure
            // cgroup2 host, from our clients or LXC's.
            let r = crate::cgroups::device_rules::from_wire(&req.data)
                .and_then(|rule| self.prep.cgroups.add_device_rule(rule));
            if let Err(e) = &r {
                log::error!("Failed to add a device rule: {}", e.message);
            }
            reply(&Response {
                ret: r.map_or_else(|e| -e.errno, |()| 0),
                ..Default::default()
            })
        } else if cgroup_fds::handles(req) {
            cgroup_fds::answer(&conn, req, &self.prep.cgroups)
        } else if req.is(Cmd::Freeze) || req.is(Cmd::Unfreeze) {
            let freeze = req.is(Cmd::Freeze);
            match self.freeze(freeze, req.header.inline_int()) {
                Ok(()) => reply(&Response::inline(FREEZE_STATES_SERVED)),
                Err(e) => reply(&Response::error(e.errno)),
            }
        } else {
            reply(&Response::error(libc::ENOSYS))
        }
    }

    /// The cgroup path relative to the hierarchy's root, as LXC answers
    /// GET_CGROUP (init's cgroup) and GET_LIMIT_CGROUP (the one carrying
    /// the limits; they differ with lxc.cgroup.dir.container.inner), no
    /// leading slash.
    fn cgroup_path(&self, controller: Option<&str>, limit: bool) -> Option<String> {
        let cgroups = &self.prep.cgroups;
        // On a pure cgroup2 host every controller lives in the one hierarchy.
        let pure_unified = cgroups.pure_unified();
        cgroups
            .dirs
            .iter()
            .find(|(h, _)| match controller {
                None => h.unified,
                Some(c) => h.controllers.iter().any(|x| x == c) || pure_unified,
            })
            .and_then(|(h, dir)| {
                let dir = if limit {
                    dir.clone()
                } else {
                    cgroups.process_dir(dir)
                };
                dir.strip_prefix(&h.mountpoint)
                    .ok()
                    .map(|rel| rel.to_string_lossy().into_owned())
            })
    }

    /// The container's devpts instance (its /dev/pts, reached through
    /// init's root), for GET_DEVPTS_FD; None when it has none.
    fn devpts_fd(&self) -> Option<OwnedFd> {
        const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
        let path = format!("/proc/{}/root/dev/pts", self.init.pid);
        let dir = std::fs::File::open(path).ok()?;
        let magic = sys::fs_magic(dir.as_raw_fd())?;
        (magic == DEVPTS_SUPER_MAGIC).then(|| OwnedFd::from(dir))
    }

    /// GET_TTY_FD: hands out a tty master (or, for 0, a proxy of the
    /// console) and keeps the connection as the tty's reservation. A busy
    /// or invalid tty is answered -EBADF without a descriptor, as LXC.
    fn get_tty_fd(&mut self, conn: OwnedFd, req: i32) -> Result<()> {
        let denied = Response::error(libc::EBADF);
        if req == 0 {
            if self.holders.proxy.is_some() {
                return server::respond(&conn, &denied);
            }
            let Some((master, _)) = &self.prep.console else {
                return server::respond(&conn, &denied);
            };
            let crate::pty::Pty {
                master: ptx,
                slave: pty,
                ..
            } = crate::pty::allocate(None)?;
            crate::sys::tty::set_raw(pty.as_raw_fd())?;
            crate::sys::set_blocking(pty.as_raw_fd(), false)?;
            crate::sys::tty::copy_winsize(master.as_raw_fd(), ptx.as_raw_fd());
            server::respond(
                &conn,
                &Response {
                    inline: crate::commands::int_to_ptr(0),
                    fds: &[ptx.as_raw_fd()],
                    ..Default::default()
                },
            )?;
            // Our copy of the master goes, so the pty hangs up when the
            // client closes its copy.
            drop(ptx);
            self.holders.proxy = Some(Proxy { conn, pty });
            return Ok(());
        }
        let Some(ttynum) = self.holders.pick_tty(req) else {
            return server::respond(&conn, &denied);
        };
        let master = self.prep.ttys[ttynum - 1].0.as_raw_fd();
        server::respond(
            &conn,
            &Response {
                inline: crate::commands::int_to_ptr(ttynum as i32),
                fds: &[master],
                ..Default::default()
            },
        )?;
        self.holders.ttys[ttynum - 1] = Some(conn);
        Ok(())
    }

    fn add_state_client(&mut self, conn: OwnedFd, req: &Request) -> Result<()> {
        if req.data.len() != 4 * MAX_STATE {
            return server::respond(&conn, &Response::error(libc::EINVAL));
        }
        let mut states = [0i32; MAX_STATE];
        for (i, chunk) in req.data.chunks_exact(4).enumerate() {
            states[i] = i32::from_ne_bytes(chunk.try_into().unwrap_or_default());
        }
        let current = self.current_state();
        if states[current] == 1 {
            return server::respond(
                &conn,
                &Response {
                    ret: current as i32,
                    inline: current as u64,
                    ..Default::default()
                },
            );
        }
        let max = MAX_STATE as i32;
        server::respond(
            &conn,
            &Response {
                ret: max,
                inline: max as u64,
                ..Default::default()
            },
        )?;
        self.state_clients.push(StateClient { conn, states });
        Ok(())
    }

    /// Freezes or thaws, waiting up to `timeout` seconds (-1: 10s cap so a
    /// stuck freezer cannot wedge the monitor) for the freezer to settle.
    /// The freezer set and waited for in any case, the states served only
    /// where the container's changes (freezing a frozen container, thawing
    /// one neither frozen nor freezing: LXC's clients check first, and
    /// serve THAWED themselves before they ask for a thaw).
    fn freeze(&mut self, freeze: bool, timeout: i32) -> Result<()> {
        let freezer = self
            .prep
            .cgroups
            .freezer()
            .ok_or_else(|| Error::new(libc::ENOTSUP, "No freezer cgroup on this host"))?;
        let limit = Duration::from_secs(if timeout < 0 { 10 } else { timeout as u64 });
        if !crate::states::freeze_changes(self.state, freeze) {
            return freezer.set_and_wait(freeze, limit);
        }
        freezer.change_serving(freeze, limit, |state| self.set_state(state))
    }
}

/// The running configuration shows the generated host interface names,
/// as LXC's does (`lxc.net.<i>.veth.pair`).
fn record_network(config: &mut Config, init: &InitProcess) {
    for iface in &init.net.ifaces {
        let _ = config.set_item(
            &format!("lxc.net.{}.veth.pair", iface.index),
            &iface.host_name,
        );
    }
}

/// After init exited: physical interfaces go back to the host, then the
/// container's network namespace is released and what it had on the host
/// removed (veth host ends, `l2proxy` entries). Nothing of it is left when
/// this returns; the kernel's tail of the deletions runs on until the
/// result is dropped.
fn release_network(
    init: &mut InitProcess,
    hooks: &crate::hooks::Hooks,
) -> crate::net::unlink::Unlinking {
    if let Err(e) = crate::net::run_scripts(&init.net, hooks, false) {
        log::warn!("{}", e.message);
    }
    if let Some(ns) = init.netns.take() {
        match std::fs::File::open("/proc/self/ns/net") {
            Ok(host) => crate::net::restore_phys(&init.net, &ns, &OwnedFd::from(host)),
            Err(e) => log::warn!("Cannot open the host network namespace: {e}"),
        }
        crate::journal::forget_netns();
    }
    crate::net::HostSide::for_plan(&init.net).release()
}

/// Reads what is available on a non-blocking read; None when nothing is.
fn drain(fd: RawFd) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4096];
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: a zero-timeout poll of one entry on our stack.
    if unsafe { libc::poll(&mut pfd, 1, 0) } <= 0 || pfd.revents & libc::POLLIN == 0 {
        return None;
    }
    let n = crate::pty::relay::read_fd(fd, &mut buf);
    (n > 0).then(|| buf[..n as usize].to_vec())
}

/// A holder connection became readable: true when the client went away
/// (anything it sends is ignored).
fn client_gone(fd: RawFd) -> bool {
    let mut buf = [0u8; 256];
    // SAFETY: non-blocking receive into a local buffer.
    let n = unsafe {
        libc::recv(
            fd,
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    n == 0 || (n < 0 && sys::errno() != libc::EAGAIN && sys::errno() != libc::EINTR)
}
