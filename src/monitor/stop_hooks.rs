//! `lxc.hook.stop` and `lxc.hook.post-stop`, run by the monitor when init
//! has ended (LXC's `lxc_end`): stop while the container's namespaces are
//! still held (their paths as arguments for version 0 hooks,
//! LXC_<NS>_NS for version 1), post-stop once the cgroups and the
//! network are gone. LXC_TARGET says "stop" or "reboot".

use std::os::fd::{AsRawFd, OwnedFd};

use crate::error::Result;
use crate::spawn::StartSpec;

/// LXC's namespace names and environment variables, in its order.
const NAMESPACES: [(i32, &str, &str); 7] = [
    (libc::CLONE_NEWNS, "mnt", "LXC_MNT_NS"),
    (libc::CLONE_NEWPID, "pid", "LXC_PID_NS"),
    (libc::CLONE_NEWUTS, "uts", "LXC_UTS_NS"),
    (libc::CLONE_NEWIPC, "ipc", "LXC_IPC_NS"),
    (libc::CLONE_NEWNET, "net", "LXC_NET_NS"),
    (libc::CLONE_NEWCGROUP, "cgroup", "LXC_CGROUP_NS"),
    (libc::CLONE_NEWTIME, "time", "LXC_TIME_NS"),
];

/// The namespaces of an init, held by the monitor so the stop hooks can
/// enter them after init is gone.
#[derive(Debug, Default)]
pub(crate) struct HeldNamespaces {
    fds: Vec<(&'static str, &'static str, OwnedFd)>,
}

impl HeldNamespaces {
    /// Opens the namespaces init was created with (best effort).
    pub fn open(spec: &StartSpec, pid: i32) -> HeldNamespaces {
        let mut flags = spec.reported_clone_flags();
        if spec.new_cgroupns {
            flags |= libc::CLONE_NEWCGROUP;
        }
        let fds = NAMESPACES
            .iter()
            .filter(|(f, _, _)| flags & f != 0)
            .filter_map(|(_, name, var)| {
                std::fs::File::open(format!("/proc/{pid}/ns/{name}"))
                    .ok()
                    .map(|f| (*name, *var, OwnedFd::from(f)))
            })
            .collect();
        HeldNamespaces { fds }
    }

    /// ("<ns>:/proc/<monitor>/fd/<n>" arguments, LXC_<NS>_NS variables).
    fn hook_args(&self) -> (Vec<String>, Vec<(String, String)>) {
        let me = std::process::id();
        let path = |fd: &OwnedFd| format!("/proc/{me}/fd/{}", fd.as_raw_fd());
        let args = self
            .fds
            .iter()
            .map(|(name, _, fd)| format!("{name}:{}", path(fd)))
            .collect();
        let env = self
            .fds
            .iter()
            .map(|(_, var, fd)| (var.to_string(), path(fd)))
            .collect();
        (args, env)
    }
}

fn base(pid: i32, target: &str) -> Vec<(String, String)> {
    vec![
        ("LXC_PID".to_string(), pid.to_string()),
        ("LXC_TARGET".to_string(), target.to_string()),
    ]
}

/// The stop hooks of an init that has ended; a failure is logged only.
pub(crate) fn run_stop(spec: &StartSpec, ns: &HeldNamespaces, pid: i32, target: &str) {
    if !spec.hooks.has("stop") {
        return;
    }
    let (args, ns_env) = ns.hook_args();
    let mut env = base(pid, target);
    let args = if spec.hooks.version == 0 {
        args
    } else {
        env.extend(ns_env);
        Vec::new()
    };
    if let Err(e) = spec.hooks.run("stop", &env, &args) {
        log::error!("Failed to run lxc.hook.stop: {}", e.message);
    }
}

/// The post-stop hooks; the caller turns a failed reboot into a stop.
pub(crate) fn run_post_stop(spec: &StartSpec, pid: i32, target: &str) -> Result<()> {
    spec.hooks
        .run("post-stop", &base(pid, target), &[])
        .inspect_err(|e| log::error!("Failed to run lxc.hook.post-stop: {}", e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ns_arguments() {
        let f = std::fs::File::open("/proc/self/ns/mnt").unwrap();
        let ns = HeldNamespaces {
            fds: vec![("mnt", "LXC_MNT_NS", OwnedFd::from(f))],
        };
        let (args, env) = ns.hook_args();
        let me = std::process::id();
        assert!(
            args[0].starts_with(&format!("mnt:/proc/{me}/fd/")),
            "{args:?}"
        );
        assert_eq!(env[0].0, "LXC_MNT_NS");
        assert_eq!(Some(env[0].1.as_str()), args[0].strip_prefix("mnt:"));
    }
}
