//! Running a process inside a running container (`attach`), as LXC 6.0:
//!
//! * the caller prepares everything (namespace fds, environment, ids,
//!   cwd) and forks an intermediate process;
//! * the caller moves the intermediate into the container's cgroups, then
//!   lets it go on;
//! * the intermediate enters the namespaces and creates the attached
//!   process with CLONE_PARENT, so that it lands in the container's pid
//!   namespace and is the caller's child; it reports its pid and exits;
//! * the attached process drops privileges, sets up stdio, reports that it
//!   is ready and runs the payload.
//!
//! The code after fork is in `child.rs` and only makes raw syscalls, so
//! multi-threaded callers (Go, Python) are safe.

pub mod child;
pub mod options;
mod queries;
mod terminal;

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use libc::c_void;

pub use child::ExecFn;
pub use options::{AttachOptions, EnvPolicy};

use crate::commands::client::{CgroupDirs, Target};
use crate::container::Container;
use crate::error::{Error, Result};
use child::{Plan, MSG_LEN};
use options as o;

/// Whether `/proc/<pid>/ns/<name>` differs from ours; None when the
/// kernel lacks that namespace.
fn ns_differs(pid: i32, name: &str) -> Option<bool> {
    let theirs = std::fs::metadata(format!("/proc/{pid}/ns/{name}")).ok()?;
    let ours = std::fs::metadata(format!("/proc/self/ns/{name}")).ok()?;
    Some(theirs.dev() != ours.dev() || theirs.ino() != ours.ino())
}

/// The pid a pidfd refers to, from its fdinfo.
fn pidfd_pid(pidfd: &OwnedFd) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|v| v.trim().parse().ok())
        .filter(|p: &i32| *p > 0)
}

fn pidfd_alive(pidfd: &OwnedFd) -> bool {
    // SAFETY: signal 0 through a pidfd we own only checks for existence.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            0,
            0usize,
            0u32,
        ) == 0
    }
}

fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open returns a fresh descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0u32) };
    // SAFETY: a fresh descriptor we own.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn open_ns(pid: i32, name: &str) -> Result<OwnedFd> {
    let path = format!("/proc/{pid}/ns/{name}");
    let c = crate::sys::cstring(&path)?;
    // SAFETY: a valid C string; the descriptor is ours.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(Error::last_os(format_args!("Failed to open {path}")));
    }
    // SAFETY: fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// waitpid() that retries on EINTR; the raw status.
fn wait_status(pid: i32) -> Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(status);
        }
        let e = crate::sys::errno();
        if r < 0 && e != libc::EINTR {
            return Err(Error::new(e, format!("Failed to wait for process {pid}")));
        }
    }
}

fn kill_and_reap(pid: i32) {
    // SAFETY: our own unreaped child: the pid cannot be recycled.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let _ = wait_status(pid);
}

/// Reads every message queued on `sock` without blocking.
fn drain(sock: &OwnedFd, out: &mut Vec<[i32; 3]>) {
    loop {
        let mut buf = [0u8; MSG_LEN];
        // SAFETY: reading into our buffer.
        let n = unsafe {
            libc::recv(
                sock.as_raw_fd(),
                buf.as_mut_ptr() as *mut c_void,
                MSG_LEN,
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 && crate::sys::errno() == libc::EINTR {
            continue;
        }
        if n != MSG_LEN as isize {
            return;
        }
        let word =
            |i: usize| i32::from_ne_bytes(buf[i * 4..i * 4 + 4].try_into().unwrap_or_default());
        out.push([word(0), word(1), word(2)]);
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

/// Writes `pid` into `cgroup.procs` below the directory descriptor `dir`.
fn join_cgroup(dir: &OwnedFd, pid: i32) -> std::io::Result<()> {
    use std::io::Write;
    // SAFETY: openat relative to a directory descriptor we own, with a
    // constant NUL-terminated name.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c"cgroup.procs".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor, owned from here on.
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.write_all(pid.to_string().as_bytes())
}

/// Moves `pid` into the container's cgroup of every hierarchy, through the
/// directory descriptors its monitor handed out (GET_CGROUP_CTX, as LXC's
/// attach does, asked with the other `queries`): no path of ours to resolve.
fn move_to_cgroups(name: &str, ctx: &Option<CgroupDirs>, pid: i32) -> Result<()> {
    use crate::commands::cgroup_fd::{self, Layout};
    let ctx = ctx
        .as_ref()
        .ok_or_else(|| Error::new(libc::ESRCH, format!("Container \"{name}\" is not running")))?;
    if ctx.dirs.is_empty() {
        // A container without writable cgroups: LXC attaches all the same.
        log::debug!("attach: \"{name}\" has no cgroups to join");
    }
    for dir in &ctx.dirs {
        match join_cgroup(dir, pid) {
            Ok(()) => {}
            // The nearly empty v2 hierarchy of a hybrid host is optional.
            Err(e)
                if ctx.layout == Layout::Hybrid as i32
                    && crate::sys::fs_magic(dir.as_raw_fd())
                        == Some(i64::from(cgroup_fd::CGROUP2_SUPER_MAGIC)) =>
            {
                log::debug!("attach: skipping the cgroup2 hierarchy: {e}");
            }
            Err(e) => {
                return Err(Error::new(
                    e.raw_os_error().unwrap_or(libc::EIO),
                    format!("Failed to move process {pid} into a cgroup of \"{name}\": {e}"),
                ))
            }
        }
    }
    Ok(())
}

/// What the running container tells us, gathered before the fork.
struct Context {
    pidfd: OwnedFd,
    pid: i32,
    ns_fds: Vec<(OwnedFd, i32, i32)>,
    namespaces: i32,
    status: o::InitStatus,
}

impl Container {
    fn attach_context(
        &self,
        target: &Target<'_>,
        opts: &AttachOptions,
        pidfd: Option<OwnedFd>,
        clone_flags: Result<Option<i32>>,
    ) -> Result<Context> {
        let not_running = || {
            Error::new(
                libc::ESRCH,
                format!("Container \"{}\" is not running", target.name),
            )
        };
        let pidfd = pidfd.ok_or_else(not_running)?;
        let pid = match pidfd_pid(&pidfd) {
            Some(p) => p,
            None => target.get_init_pid()?.ok_or_else(not_running)?,
        };
        let clone_flags = match clone_flags {
            Ok(f) => f,
            Err(e) => {
                log::warn!(
                    "attach: failed to get the namespaces of the container: {}",
                    e.message
                );
                None
            }
        };
        // Each namespace compared once (None: unknown to the kernel).
        let differs: Vec<Option<bool>> = o::NAMESPACES
            .iter()
            .map(|(_, name)| ns_differs(pid, name))
            .collect();
        let differs_flag = |flag: i32| {
            o::NAMESPACES
                .iter()
                .position(|n| n.0 == flag)
                .and_then(|i| differs[i])
        };
        let namespaces = o::wanted_namespaces(
            opts.namespaces,
            clone_flags,
            |flag| differs_flag(flag).unwrap_or(false),
            opts.flags & o::MOVE_TO_CGROUP != 0,
        );
        let mut ns_fds = Vec::new();
        for (index, (flag, name)) in o::NAMESPACES.iter().enumerate() {
            // Shared with us (or unknown to the kernel): nothing to enter.
            if namespaces & flag != 0 && differs[index] == Some(true) {
                ns_fds.push((open_ns(pid, name)?, *flag, index as i32));
            }
        }
        let status_path = format!("/proc/{pid}/status");
        let status = std::fs::read_to_string(&status_path)
            .map_err(|e| Error::io("Failed to read", std::path::Path::new(&status_path), &e))?;
        // The namespaces we opened belong to this init, not to a recycled pid.
        if !pidfd_alive(&pidfd) {
            return Err(Error::new(
                libc::ESRCH,
                format!("The init process of \"{}\" exited", target.name),
            ));
        }
        Ok(Context {
            pidfd,
            pid,
            ns_fds,
            namespaces,
            status: o::parse_status(&status),
        })
    }

    /// Runs `exec(payload)` inside the running container; returns the pid
    /// of the attached process, a child of the caller, to wait for.
    ///
    /// `exec` and `payload` must be safe to call in a forked child of a
    /// possibly multi-threaded process (an exec, typically).
    pub fn attach(&self, exec: ExecFn, payload: *mut c_void, opts: &AttachOptions) -> Result<i32> {
        let name = self.name();
        self.attach_inner(exec, payload, opts).map_err(|e| {
            Error::new(
                e.errno,
                format!("Failed to attach to \"{name}\": {}", e.message),
            )
        })
    }

    fn attach_inner(
        &self,
        exec: ExecFn,
        payload: *mut c_void,
        opts: &AttachOptions,
    ) -> Result<i32> {
        if opts.flags & o::LSM != 0 {
            log::debug!("attach: no LSM in use, ignoring the LSM flags");
        }
        let (lxcpath, name) = (self.lxcpath(), self.name());
        let target = Target {
            lxcpath: &lxcpath,
            name: &name,
            timeout: self.rcv_timeout(),
        };
        let mut answers = queries::ask(&target, opts)?;
        let ctx = self.attach_context(
            &target,
            opts,
            answers.pidfd.take(),
            std::mem::replace(&mut answers.clone_flags, Ok(None)),
        )?;
        let enters_userns = ctx
            .ns_fds
            .iter()
            .any(|(_, flag, _)| *flag == libc::CLONE_NEWUSER);

        // Ids.
        let setup = if ctx.namespaces & libc::CLONE_NEWUSER != 0 {
            let read = |f: &str| {
                std::fs::read_to_string(format!("/proc/{}/{f}", ctx.pid)).unwrap_or_default()
            };
            (
                o::setup_id(&read("uid_map"), ctx.status.uid),
                o::setup_id(&read("gid_map"), ctx.status.gid),
            )
        } else {
            (None, None)
        };
        let setup_ids = if enters_userns {
            match setup {
                (Some(u), Some(g)) => Some((u, g)),
                _ => {
                    return Err(Error::invalid(
                        "The container's user namespace maps neither root nor its init's ids",
                    ))
                }
            }
        } else {
            None
        };
        let (mut target_uid, mut target_gid) =
            o::target_ids(opts, ctx.namespaces & libc::CLONE_NEWUSER != 0, setup);
        if let Some((u, g)) = setup_ids {
            // Already switched to these: skip the syscalls.
            if u == target_uid {
                target_uid = o::INVALID_ID;
            }
            if g == target_gid {
                target_gid = o::INVALID_ID;
            }
        }

        // Capabilities, personality, no_new_privs.
        let drop_caps = if opts.flags & o::DROP_CAPABILITIES != 0 {
            let bounding = ctx.status.cap_bounding.ok_or_else(|| {
                Error::new(libc::EIO, "No CapBnd in the status of the container's init")
            })?;
            o::caps_to_drop(bounding, crate::caps::last_cap())
        } else {
            Vec::new()
        };
        let container_personality = answers
            .arch
            .take()
            .filter(|v| !v.trim().is_empty())
            .and_then(|v| {
                let mut c = crate::config::Config::new();
                c.set_item("lxc.arch", v.trim()).ok()?;
                c.conf().personality
            })
            .map(|p| match p {
                crate::config::model::Personality::Linux => 0i64,
                crate::config::model::Personality::Linux32 => 0x0008,
            });
        let personality = o::personality(opts.flags, opts.personality, container_personality);
        let no_new_privs = opts.flags & o::NO_NEW_PRIVS != 0
            || answers
                .no_new_privs
                .as_deref()
                .is_some_and(|v| v.trim() == "1");

        // Environment, working directory, groups.
        let caller_env: Vec<Vec<u8>> = std::env::vars_os()
            .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
            .collect();
        let env = o::build_env(
            &caller_env,
            opts.env_policy,
            &opts.extra_keep_env,
            &self.config_environment(),
            &opts.extra_env_vars,
        );
        let env_c: Vec<CString> = env
            .0
            .into_iter()
            .map(|e| {
                CString::new(e)
                    .map_err(|_| Error::invalid("An environment entry contains a NUL byte"))
            })
            .collect::<Result<_>>()?;
        let mut envp: Vec<*const libc::c_char> = env_c.iter().map(|c| c.as_ptr()).collect();
        envp.push(std::ptr::null());
        let cwd = match &opts.initial_cwd {
            Some(d) => Some(
                CString::new(d.clone())
                    .map_err(|_| Error::invalid("initial_cwd contains a NUL byte"))?,
            ),
            None => std::env::current_dir()
                .ok()
                .and_then(|d| CString::new(d.as_os_str().as_bytes()).ok()),
        };
        let groups = (opts.flags & o::SETGROUPS != 0 && !opts.groups.is_empty())
            .then(|| opts.groups.clone());
        let stdio = [opts.stdin_fd, opts.stdout_fd, opts.stderr_fd];
        // With a terminal of its own, the attached process takes that one
        // as its controlling terminal instead (LXC would fail to).
        let make_ctty =
            opts.flags & o::TERMINAL == 0 && opts.stdin_fd > 0 && crate::pty::is_tty(opts.stdin_fd);

        // The container's seccomp policy, compiled before the fork.
        let seccomp = if opts.flags & o::LSM != 0 {
            let profile = answers.seccomp_profile.take();
            let nesting = answers
                .seccomp_nesting
                .as_deref()
                .is_some_and(|v| v.trim() == "1");
            crate::seccomp::for_container(profile.as_deref().map(str::trim), nesting)?
                .map(|p| p.filter)
        } else {
            None
        };

        let terminal = if opts.flags & o::TERMINAL != 0 {
            Some(terminal::Terminal::open(&target, ctx.pid, opts.log_fd)?)
        } else {
            None
        };
        let mut close_fds = vec![ctx.pidfd.as_raw_fd()];
        if let Some(t) = &terminal {
            close_fds.extend(t.child_close_fds(&stdio));
        }

        let (parent_sock, child_sock) = crate::sys::socketpair_seqpacket()?;
        let plan = Plan {
            sock: child_sock.as_raw_fd(),
            parent_sock: parent_sock.as_raw_fd(),
            ns_fds: ctx
                .ns_fds
                .iter()
                .map(|(fd, flag, i)| (fd.as_raw_fd(), *flag, *i))
                .collect(),
            close_fds,
            cwd,
            remount_proc_sys: opts.flags & o::REMOUNT_PROC_SYS != 0
                && ctx.namespaces & libc::CLONE_NEWNS == 0,
            personality: personality.map(|p| p as libc::c_ulong),
            drop_caps,
            envp: envp.as_ptr(),
            make_ctty,
            groups,
            setup_ids,
            no_new_privs,
            stdio,
            terminal: terminal.as_ref().map_or(-1, |t| t.slave_fd()),
            target_uid,
            target_gid,
            seccomp,
            exec,
            payload,
        };

        // SAFETY: the child only runs `child::intermediate`, which is
        // async-signal safe and never returns.
        let inter = unsafe { libc::fork() };
        if inter < 0 {
            return Err(Error::last_os("Failed to fork"));
        }
        if inter == 0 {
            // SAFETY: in the fresh child, with the plan built above.
            unsafe { child::intermediate(&plan) }
        }
        drop(child_sock);
        drop(ctx);
        let result = self.after_fork(&target, opts, &answers.cgroups, &parent_sock, inter);
        drop(env_c);
        drop(parent_sock);
        if let (Ok(pid), Some(t)) = (&result, terminal) {
            // As LXC, attach returns once the attached process's terminal
            // is let go of.
            t.relay(*pid);
        }
        result
    }

    /// The caller's side once the intermediate exists.
    fn after_fork(
        &self,
        target: &Target<'_>,
        opts: &AttachOptions,
        cgroups: &Option<CgroupDirs>,
        sock: &OwnedFd,
        inter: i32,
    ) -> Result<i32> {
        if opts.flags & o::MOVE_TO_CGROUP != 0 {
            if let Err(e) = move_to_cgroups(target.name, cgroups, inter) {
                kill_and_reap(inter);
                return Err(e);
            }
        }
        let go = [1u8];
        // SAFETY: a one-byte write on our socket.
        let n = unsafe {
            libc::send(
                sock.as_raw_fd(),
                go.as_ptr() as *const c_void,
                1,
                libc::MSG_NOSIGNAL,
            )
        };
        if n != 1 {
            let e = Error::last_os("Failed to wake the intermediate process");
            kill_and_reap(inter);
            return Err(e);
        }
        let inter_status = wait_status(inter)?;
        let mut msgs = Vec::new();
        drain(sock, &mut msgs);
        let mut attached = None;
        for m in &msgs {
            match m[0] {
                child::MSG_PID => attached = Some(m[1]),
                child::MSG_INTERMEDIATE_FAILED => return Err(step_error(m)),
                _ => {}
            }
        }
        let Some(pid) = attached else {
            return Err(Error::new(
                libc::ECHILD,
                format!("The intermediate process died without creating the attached process (wait status {inter_status:#x})"),
            ));
        };
        // Wait until the attached process is ready (or failed, or died).
        let pidfd = pidfd_open(pid);
        loop {
            for m in &msgs {
                match m[0] {
                    child::MSG_READY => return Ok(pid),
                    child::MSG_ATTACHED_FAILED => {
                        let _ = wait_status(pid);
                        return Err(step_error(m));
                    }
                    _ => {}
                }
            }
            msgs.clear();
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
            drain(sock, &mut msgs);
            let closed = fds[0].revents & (libc::POLLHUP | libc::POLLERR) != 0;
            if msgs.is_empty() && (fds[1].revents != 0 || closed) {
                let status = wait_status(pid)?;
                return Err(Error::new(
                    libc::ECHILD,
                    format!(
                        "The attached process exited during its setup (wait status {status:#x})"
                    ),
                ));
            }
        }
    }

    /// Runs `program` with `argv` (argv[0] included; empty: just the
    /// program) in the container and waits for it: the raw wait status.
    pub fn attach_run_wait(
        &self,
        opts: &AttachOptions,
        program: &[u8],
        argv: &[Vec<u8>],
    ) -> Result<i32> {
        let nul = |_| Error::invalid("An argument contains a NUL byte");
        let program_c = CString::new(program).map_err(nul)?;
        let argv_c: Vec<CString> = if argv.is_empty() {
            vec![program_c.clone()]
        } else {
            argv.iter()
                .map(|a| CString::new(a.clone()).map_err(nul))
                .collect::<Result<_>>()?
        };
        let mut argv_p: Vec<*const libc::c_char> = argv_c.iter().map(|a| a.as_ptr()).collect();
        argv_p.push(std::ptr::null());
        let cmd = child::Command {
            program: program_c.as_ptr(),
            argv: argv_p.as_ptr(),
        };
        let pid = self
            .attach(
                child::run_command,
                &cmd as *const child::Command as *mut c_void,
                opts,
            )
            .map_err(|e| Error::new(e.errno, format!("attach_run_wait: {}", e.message)))?;
        wait_status(pid)
    }
}
