//! What attach asks the container's monitor, all sent before any answer is
//! read: each request travels on its own connection (as LXC's), so the
//! caller waits about one round trip instead of one per request.
//!
//! What the configuration answers describe does not change during one run
//! of the container (its init, the namespaces it was started with, its
//! configuration), so a handle keeps them, as plain values, for the run
//! they came from; later attaches ask only for init's pidfd (which tells
//! the run apart) and the cgroup directories. No descriptor is kept: a
//! handle that attached holds nothing open.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use crate::commands::cgroup_fd::{self, Layout};
use crate::commands::client::{Payload, Pending, Target};
use crate::commands::Cmd;
use crate::error::{Error, Result};

/// The container's cgroup directories (GET_CGROUP_CTX), by kind.
#[derive(Debug)]
pub struct Cgroups {
    /// v1 hierarchies, joined by writing "0" to `tasks`.
    pub v1: Vec<OwnedFd>,
    /// The v2 cgroup, entered at birth with CLONE_INTO_CGROUP.
    pub v2: Option<OwnedFd>,
    /// A hybrid host's nearly empty v2 tree: joining it may fail.
    pub v2_optional: bool,
}

/// What the monitor says about one run of the container; a
/// configuration item is None when unset or unanswered (attach goes on
/// without it, as LXC).
#[derive(Debug)]
pub struct RunFacts {
    /// The run these belong to (see `run_key`).
    key: Option<u64>,
    /// init's pid in our pid namespace.
    pub pid: i32,
    /// The namespaces the container was started with (None: unknown).
    pub clone_flags: Option<i32>,
    pub arch: Option<String>,
    pub no_new_privs: Option<String>,
    pub seccomp_profile: Option<String>,
    pub seccomp_nesting: Option<String>,
}

/// The monitor's answers for one attach.
#[derive(Debug)]
pub struct Answers {
    pub pidfd: OwnedFd,
    pub facts: Arc<RunFacts>,
    /// GET_CGROUP_CTX's answer; an error is only reported to an attach
    /// that moves into the cgroups (Ok(None): not running).
    pub cgroups: Result<Option<Cgroups>>,
}

/// pidfs (Linux 6.9+) gives every process an inode number never reused
/// while the system runs: the identity of init, hence of the run. None on
/// older kernels, whose pidfds all share one inode: nothing is kept then.
fn run_key(pidfd: &OwnedFd) -> Option<u64> {
    const PIDFS_MAGIC: i64 = 0x5049_4446;
    if crate::sys::fs_magic(pidfd.as_raw_fd()) != Some(PIDFS_MAGIC) {
        return None;
    }
    // SAFETY: fstat into a zeroed struct, on a descriptor we own.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(pidfd.as_raw_fd(), &mut st) } == 0).then_some(st.st_ino)
}

fn item(target: &Target<'_>, key: &'static str) -> Result<(&'static str, Pending)> {
    Ok((key, target.send(Cmd::GetConfigItem, Payload::string(key))?))
}

fn item_answer(target: &Target<'_>, sent: (&str, Pending)) -> Option<String> {
    let (key, pending) = sent;
    let outcome = pending.receive(target).ok()?;
    target.config_item_from(key, outcome).ok().flatten()
}

/// The pid a pidfd refers to, from its fdinfo.
fn pidfd_pid(pidfd: &OwnedFd) -> Option<i32> {
    let text = crate::sys::procfs::read(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|v| v.trim().parse().ok())
        .filter(|p: &i32| *p > 0)
}

/// Whether the process behind `pidfd` still runs.
pub fn pidfd_alive(pidfd: &OwnedFd) -> bool {
    crate::sys::pidfd_send_signal(pidfd, 0).is_ok()
}

fn not_running(target: &Target<'_>) -> Error {
    Error::new(
        libc::ESRCH,
        format!("Container \"{}\" is not running", target.name),
    )
}

fn sort_cgroups(dirs: crate::commands::client::CgroupDirs) -> Cgroups {
    let hybrid = dirs.layout == Layout::Hybrid as i32;
    let mut sorted = Cgroups {
        v1: Vec::new(),
        v2: None,
        v2_optional: hybrid,
    };
    for dir in dirs.dirs {
        if crate::sys::fs_magic(dir.as_raw_fd()) == Some(i64::from(cgroup_fd::CGROUP2_SUPER_MAGIC))
        {
            sorted.v2 = Some(dir);
        } else {
            sorted.v1.push(dir);
        }
    }
    sorted
}

/// The two requests every attach sends, in flight.
pub struct Asked {
    pidfd: Pending,
    cgroups: Pending,
    /// The facts the handle kept from an earlier attach (maybe of an
    /// earlier run: `receive` tells).
    pub kept: Option<Arc<RunFacts>>,
}

impl Asked {
    /// The answers; the kept facts when they describe this run, else
    /// fresh ones.
    pub fn receive(self, target: &Target<'_>, cache: &AnswerCache) -> Result<Answers> {
        let pidfd = target
            .init_pidfd_from(self.pidfd.receive(target)?)?
            .ok_or_else(|| not_running(target))?;
        let cgroups = self
            .cgroups
            .receive(target)
            .and_then(|o| target.cgroup_ctx_from(o))
            .map(|c| c.map(sort_cgroups));
        let key = run_key(&pidfd);
        let facts = match self.kept.filter(|f| key.is_some() && f.key == key) {
            Some(facts) => facts,
            None => {
                let fresh = Arc::new(ask_facts(target, &pidfd, key)?);
                *cache.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
                fresh
            }
        };
        Ok(Answers {
            pidfd,
            facts,
            cgroups,
        })
    }
}

fn ask_facts(target: &Target<'_>, pidfd: &OwnedFd, key: Option<u64>) -> Result<RunFacts> {
    let clone_flags = target.send(Cmd::GetCloneFlags, Payload::None)?;
    let arch = item(target, "lxc.arch")?;
    let no_new_privs = item(target, "lxc.no_new_privs")?;
    let profile = item(target, "lxc.seccomp.profile")?;
    let nesting = item(target, "lxc.seccomp.allow_nesting")?;
    let clone_flags = match clone_flags
        .receive(target)
        .and_then(|o| target.clone_flags_from(o))
    {
        Ok(f) => f,
        Err(e) => {
            log::warn!(
                "attach: failed to get the namespaces of the container: {}",
                e.message
            );
            None
        }
    };
    Ok(RunFacts {
        key,
        clone_flags,
        arch: item_answer(target, arch),
        no_new_privs: item_answer(target, no_new_privs),
        seccomp_profile: item_answer(target, profile),
        seccomp_nesting: item_answer(target, nesting),
        pid: match pidfd_pid(pidfd) {
            Some(p) => p,
            None => target.get_init_pid()?.ok_or_else(|| not_running(target))?,
        },
    })
}

/// A handle's facts about the container's latest run.
#[derive(Debug, Default)]
pub struct AnswerCache(Mutex<Option<Arc<RunFacts>>>);

impl AnswerCache {
    /// Sends what every attach asks (init's pidfd, the cgroup
    /// directories); the caller may work with the kept facts while the
    /// monitor answers.
    pub fn ask(&self, target: &Target<'_>) -> Result<Asked> {
        Ok(Asked {
            pidfd: target.send(Cmd::GetInitPidfd, Payload::None)?,
            cgroups: target.send(Cmd::GetCgroupCtx, Target::cgroup_ctx_request())?,
            kept: self.0.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        })
    }
}
