//! What attach asks the container's monitor, all sent before any answer is
//! read: each request travels on its own connection (as LXC's), so the
//! caller waits about one round trip instead of one per request.

use std::os::fd::OwnedFd;

use super::options::{self as o, AttachOptions};
use crate::commands::client::{CgroupDirs, Payload, Pending, Target};
use crate::commands::Cmd;
use crate::error::Result;

/// The monitor's answers; a configuration item is None when not asked,
/// unset, or unanswered (attach goes on without it, as LXC).
pub struct Answers {
    /// None: the container is not running.
    pub pidfd: Option<OwnedFd>,
    pub clone_flags: Result<Option<i32>>,
    pub arch: Option<String>,
    pub no_new_privs: Option<String>,
    pub seccomp_profile: Option<String>,
    pub seccomp_nesting: Option<String>,
    /// With LXC_ATTACH_MOVE_TO_CGROUP: the container's cgroup directories
    /// (GET_CGROUP_CTX's answer; None: not asked, or not running).
    pub cgroups: Option<CgroupDirs>,
}

fn item(
    target: &Target<'_>,
    key: &'static str,
    wanted: bool,
) -> Result<Option<(&'static str, Pending)>> {
    if !wanted {
        return Ok(None);
    }
    Ok(Some((
        key,
        target.send(Cmd::GetConfigItem, Payload::string(key))?,
    )))
}

fn item_answer(target: &Target<'_>, sent: Option<(&str, Pending)>) -> Option<String> {
    let (key, pending) = sent?;
    let outcome = pending.receive(target).ok()?;
    target.config_item_from(key, outcome).ok().flatten()
}

/// Sends every request `opts` calls for, then collects the answers.
pub fn ask(target: &Target<'_>, opts: &AttachOptions) -> Result<Answers> {
    let pidfd = target.send(Cmd::GetInitPidfd, Payload::None)?;
    let clone_flags = target.send(Cmd::GetCloneFlags, Payload::None)?;
    let personality =
        opts.flags & o::SET_PERSONALITY != 0 && opts.personality == o::DETECT_PERSONALITY;
    let arch = item(target, "lxc.arch", personality)?;
    let no_new_privs = item(
        target,
        "lxc.no_new_privs",
        opts.flags & o::NO_NEW_PRIVS == 0,
    )?;
    let lsm = opts.flags & o::LSM != 0;
    let profile = item(target, "lxc.seccomp.profile", lsm)?;
    let nesting = item(target, "lxc.seccomp.allow_nesting", lsm)?;
    let cgroups = if opts.flags & o::MOVE_TO_CGROUP != 0 {
        Some(target.send(Cmd::GetCgroupCtx, Target::cgroup_ctx_request())?)
    } else {
        None
    };
    Ok(Answers {
        pidfd: target.init_pidfd_from(pidfd.receive(target)?)?,
        clone_flags: clone_flags
            .receive(target)
            .and_then(|o| target.clone_flags_from(o)),
        arch: item_answer(target, arch),
        no_new_privs: item_answer(target, no_new_privs),
        seccomp_profile: item_answer(target, profile),
        seccomp_nesting: item_answer(target, nesting),
        cgroups: match cgroups {
            Some(pending) => target.cgroup_ctx_from(pending.receive(target)?)?,
            None => None,
        },
    })
}
