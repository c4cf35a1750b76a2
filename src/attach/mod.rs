//! Running a process inside a running container (`attach`), as LXC 6.0:
//!
//! * the caller prepares everything (namespace fds, environment, ids,
//!   cwd, cgroup directories) and creates an intermediate process;
//! * the intermediate joins the container's cgroups, enters the
//!   namespaces and creates the attached process with CLONE_PARENT, so
//!   that it lands in the container's pid namespace (and v2 cgroup) and is
//!   the caller's child; it reports its pid and exits;
//! * the attached process drops privileges, sets up stdio, reports that it
//!   is ready and runs the payload.
//!
//! The code after fork is in `child.rs` and only makes raw syscalls, so
//! multi-threaded callers (Go, Python) are safe. Running a program (the
//! common case), the intermediate is a fresh exec of our helper instead of
//! a copy of the caller (see `helper.rs`): nothing of the caller is copied
//! and nothing of it reaches the container.

mod cgroups;
pub mod child;
pub mod command;
pub mod helper;
pub mod options;
mod queries;
mod spawn;
mod terminal;
mod wire;

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use libc::c_void;

pub use child::ExecFn;
pub use options::{AttachOptions, EnvPolicy};
pub use queries::AnswerCache;

use crate::commands::client::Target;
use crate::error::{Error, Result, ResultExt};
use cgroups::cgroups_to_join;
use child::{Exec, Plan};
use command::CommandPlan;
use options as o;
use queries::{Answers, RunFacts};
use spawn::{after_fork, spawn_forking, wait_status};

/// What the attached process runs.
pub enum Payload<'a> {
    /// attach()'s exec_function and its argument, called in the attached
    /// process (which must be a copy of the caller: fork-like).
    Function(ExecFn, *mut c_void),
    /// A program and its argv (argv[0] included; empty: the program
    /// alone), looked up in the attached process's PATH.
    Command {
        program: &'a [u8],
        argv: &'a [Vec<u8>],
    },
}

/// Whether `/proc/<pid>/ns/<name>` differs from ours; None when the
/// kernel lacks that namespace.
fn ns_differs(pid: i32, name: &str) -> Option<bool> {
    let theirs = std::fs::metadata(format!("/proc/{pid}/ns/{name}")).ok()?;
    let ours = std::fs::metadata(format!("/proc/self/ns/{name}")).ok()?;
    Some(theirs.dev() != ours.dev() || theirs.ino() != ours.ino())
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

/// /proc/<pid>/status.
fn read_proc_status(pid: i32) -> Result<String> {
    let path = format!("/proc/{pid}/status");
    crate::sys::procfs::read(&path)
        .map_err(|e| Error::io("Failed to read", std::path::Path::new(&path), &e))
}

/// The options' standard descriptors are open (checked before this attach
/// opens descriptors of its own, which could take a closed one's number).
fn check_stdio(opts: &AttachOptions) -> Result<()> {
    let streams = [
        ("stdin", opts.stdin_fd),
        ("stdout", opts.stdout_fd),
        ("stderr", opts.stderr_fd),
    ];
    for (name, fd) in streams {
        // SAFETY: F_GETFD only queries the descriptor table.
        if fd >= 0 && unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(Error::last_os(format_args!(
                "The {name} descriptor {fd} of the attach options is not open"
            )));
        }
    }
    Ok(())
}

/// The inode of the pid namespace the attached process lands in: the
/// container's when attaching enters it, else ours.
fn pid_ns_inode(ctx: &Context) -> Result<u64> {
    let path = match ctx.ns_fds.iter().find(|(_, f, _)| *f == libc::CLONE_NEWPID) {
        Some((fd, _, _)) => format!("/proc/self/fd/{}", fd.as_raw_fd()),
        None => "/proc/self/ns/pid".to_string(),
    };
    std::fs::metadata(&path)
        .map(|m| m.ino())
        .map_err(|e| Error::os("Failed to identify the pid namespace", &e))
}

/// What init's /proc tells us, gathered before the fork.
struct Context {
    ns_fds: Vec<(OwnedFd, i32, i32)>,
    namespaces: i32,
    status: o::InitStatus,
}

/// The container an attach goes to, as the handle knows it.
pub struct Attacher<'a> {
    pub name: String,
    pub lxcpath: String,
    /// Bound of each command round-trip (`set_timeout`).
    pub timeout: i32,
    /// The monitor's answers the handle keeps between attaches.
    pub cache: &'a AnswerCache,
    /// `lxc.environment` of the container's configuration.
    pub config_env: Vec<(String, String)>,
}

/// How an attach's intermediate comes to be: the helper, started first
/// (a program), or a fork of the caller (an exec function, or no helper
/// binary) with the socket pair it is forked with.
enum Intermediate {
    Helper(helper::Early),
    Fork { parent: OwnedFd, child: OwnedFd },
}

impl Attacher<'_> {
    /// Reads init's namespaces and status; checked against the monitor's
    /// answers by `checked_context`.
    fn attach_context(&self, opts: &AttachOptions, facts: &RunFacts) -> Result<Context> {
        let pid = facts.pid;
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
            facts.clone_flags,
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
        let status = read_proc_status(pid)?;
        Ok(Context {
            ns_fds,
            namespaces,
            status: o::parse_status(&status),
        })
    }

    /// The monitor's answers and init's /proc view, read while the monitor
    /// answers when the handle knows init from an earlier attach.
    fn checked_context(
        &self,
        target: &Target<'_>,
        opts: &AttachOptions,
    ) -> Result<(Answers, Context)> {
        let asked = self.cache.ask(target)?;
        let early = asked
            .kept
            .clone()
            .map(|facts| (self.attach_context(opts, &facts), facts));
        let answers = asked.receive(target, self.cache)?;
        let ctx = match early {
            Some((Ok(ctx), facts)) if std::sync::Arc::ptr_eq(&facts, &answers.facts) => ctx,
            _ => self.attach_context(opts, &answers.facts)?,
        };
        // The namespaces we opened belong to this init, not to a recycled pid.
        if !queries::pidfd_alive(&answers.pidfd) {
            return Err(Error::new(
                libc::ESRCH,
                format!("The init process of \"{}\" exited", target.name),
            ));
        }
        Ok((answers, ctx))
    }

    /// Runs `payload` inside the running container; returns the pid of the
    /// attached process, a child of the caller, to wait for.
    ///
    /// A `Payload::Function` must be safe to call in a forked child of a
    /// possibly multi-threaded process (an exec, typically).
    pub fn attach(&self, payload: Payload<'_>, opts: &AttachOptions) -> Result<i32> {
        self.attach_inner(payload, opts)
            .context(format_args!("Failed to attach to \"{}\"", self.name))
    }

    fn attach_inner(&self, payload: Payload<'_>, opts: &AttachOptions) -> Result<i32> {
        if opts.flags & o::LSM != 0 {
            log::debug!("attach: no LSM in use, ignoring the LSM flags");
        }
        let (lxcpath, name) = (self.lxcpath.clone(), self.name.clone());
        let target = Target {
            lxcpath: &lxcpath,
            name: &name,
            timeout: self.timeout,
        };
        check_stdio(opts)?;
        // A program runs through the helper, started first (an exec
        // function needs a copy of the caller; without the helper binary a
        // program takes the copy's way too, see docs/security.md).
        let early = match &payload {
            Payload::Command { .. } => helper::Early::start()?,
            Payload::Function(..) => None,
        };
        let (answers, ctx) = self.checked_context(&target, opts)?;
        let cgroups = cgroups_to_join(&name, &answers, opts)?;
        let enters = |flag: i32| ctx.ns_fds.iter().any(|(_, f, _)| *f == flag);
        let enters_userns = enters(libc::CLONE_NEWUSER);
        let attached_pid_ns = pid_ns_inode(&ctx)?;

        // Ids.
        let setup = if ctx.namespaces & libc::CLONE_NEWUSER != 0 {
            let read = |f: &str| {
                crate::sys::procfs::read(format!("/proc/{}/{f}", answers.facts.pid))
                    .unwrap_or_default()
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
        let detect_personality =
            opts.flags & o::SET_PERSONALITY != 0 && opts.personality == o::DETECT_PERSONALITY;
        let facts = &answers.facts;
        let container_personality = facts
            .arch
            .as_deref()
            .filter(|v| detect_personality && !v.trim().is_empty())
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
            || facts
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
            &self.config_env,
            &opts.extra_env_vars,
        );
        let command = match &payload {
            Payload::Command { program, argv } => {
                Some(CommandPlan::new(program, argv, env.get(b"PATH"))?)
            }
            Payload::Function(..) => None,
        };
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
            let nesting = facts
                .seccomp_nesting
                .as_deref()
                .is_some_and(|v| v.trim() == "1");
            crate::seccomp::for_container(facts.seccomp_profile.as_deref().map(str::trim), nesting)?
                .map(|p| p.filter)
        } else {
            None
        };

        let terminal = if opts.flags & o::TERMINAL != 0 {
            Some(terminal::Terminal::open(&target, facts.pid, opts.log_fd)?)
        } else {
            None
        };
        // The pidfd and every cgroup directory stay on the host's side.
        let mut close_fds = vec![answers.pidfd.as_raw_fd()];
        close_fds.extend(cgroups.replaced_v2);
        if let Some(t) = &terminal {
            close_fds.extend(t.child_close_fds(&stdio));
        }

        // The helper has its socket already; a fork gets a pair of its own.
        let way = match early {
            Some(early) => Intermediate::Helper(early),
            None => {
                let (parent, child) = crate::sys::socketpair_seqpacket()?;
                Intermediate::Fork { parent, child }
            }
        };
        let (sock, parent_sock) = match &way {
            Intermediate::Helper(_) => (-1, -1),
            Intermediate::Fork { parent, child } => (child.as_raw_fd(), parent.as_raw_fd()),
        };
        let mut plan = Plan {
            sock,
            parent_sock,
            cgroup_v1: cgroups.v1,
            cgroup_v2: cgroups.v2,
            v2_optional: cgroups.v2_optional,
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
            exec: match (&payload, &command) {
                (_, Some(cmd)) => Exec::Command(cmd),
                (Payload::Function(f, arg), None) => Exec::Function(*f, *arg),
                (Payload::Command { .. }, None) => unreachable!("a command has its plan"),
            },
            sigmask: None,
        };

        let (inter, parent_sock) = match way {
            // SAFETY: the plan's pointers live until this returns.
            Intermediate::Helper(early) => unsafe { early.give(&mut plan) }?,
            Intermediate::Fork { parent, child } => {
                // SAFETY: the child only runs `child::intermediate`, which
                // is async-signal safe and never returns.
                let pid = unsafe { spawn_forking(&plan) }?;
                drop(child);
                (pid, parent)
            }
        };
        drop(ctx);
        let result = after_fork(&parent_sock, inter, attached_pid_ns).map(|(pid, listener)| {
            if let Some(l) = listener {
                // LXC's lxc_seccomp_add_notifier: the monitor serves it.
                if let Err(e) = target.seccomp_notify_add_listener(&l) {
                    log::warn!("attach: the seccomp listener stays unserved: {}", e.message);
                }
            }
            pid
        });
        drop(plan);
        drop(command);
        drop(env_c);
        drop(parent_sock);
        if let (Ok(pid), Some(t)) = (&result, terminal) {
            // As LXC, attach returns once the attached process's terminal
            // is let go of.
            t.relay(*pid);
        }
        result
    }

    /// Runs `program` with `argv` (argv[0] included; empty: just the
    /// program) in the container and waits for it: the raw wait status.
    pub fn attach_run_wait(
        &self,
        opts: &AttachOptions,
        program: &[u8],
        argv: &[Vec<u8>],
    ) -> Result<i32> {
        let pid = self
            .attach(Payload::Command { program, argv }, opts)
            .context("attach_run_wait")?;
        wait_status(pid)
    }
}
