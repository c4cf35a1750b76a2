//! `lxc.hook.stop` and `lxc.hook.post-stop`, run by the monitor when init
//! has ended and after every start that failed once the command socket
//! existed (LXC's `lxc_end`, which `__lxc_start` runs on its error paths
//! too): stop while the container's namespaces are still held (their
//! paths as arguments for version 0 hooks, LXC_<NS>_NS for version 1),
//! post-stop once the cgroups and the network are gone. LXC_TARGET says
//! "stop" or "reboot"; LXC_PID names init once it was cloned.

use crate::cgroups::ContainerCgroups;
use crate::error::{Error, Result};
use crate::hooks::Hooks;
use crate::spawn::{ClonedInit, HeldNamespaces};

fn base(pid: Option<i32>, target: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = pid
        .map(|p| ("LXC_PID".to_string(), p.to_string()))
        .into_iter()
        .collect();
    env.push(("LXC_TARGET".to_string(), target.to_string()));
    env
}

/// The stop hooks of an init that has ended; a failure is logged only.
pub(crate) fn run_stop(hooks: &Hooks, ns: &HeldNamespaces, pid: Option<i32>, target: &str) {
    if !hooks.has("stop") {
        return;
    }
    let (args, ns_env) = ns.hook_args();
    let mut env = base(pid, target);
    let args = if hooks.version == 0 {
        args
    } else {
        env.extend(ns_env);
        Vec::new()
    };
    if let Err(e) = hooks.run("stop", &env, &args) {
        log::error!("Failed to run lxc.hook.stop: {}", e.message);
    }
}

/// The post-stop hooks; the caller turns a failed reboot into a stop.
pub(crate) fn run_post_stop(hooks: &Hooks, pid: Option<i32>, target: &str) -> Result<()> {
    hooks
        .run("post-stop", &base(pid, target), &[])
        .inspect_err(|e| log::error!("Failed to run lxc.hook.post-stop: {}", e.message))
}

/// What a start that fails hands to LXC's end of it: the hooks (the
/// start's, or the configuration's when the start spec could not be
/// made), init if it was cloned, and the cgroups made so far, removed
/// between the stop and post-stop hooks as `lxc_end` does.
pub(crate) struct FailedStart {
    pub hooks: Hooks,
    /// "stop", or "reboot" for the start of a reboot (LXC's
    /// `REBOOT_INIT` still set when that start fails).
    target: &'static str,
    /// The previous init's pid on a reboot (LXC_PID is still set then).
    last_pid: Option<i32>,
    pub cloned: ClonedInit,
    pub cgroups: ContainerCgroups,
}

impl FailedStart {
    pub fn new(hooks: Hooks) -> FailedStart {
        FailedStart {
            hooks,
            target: "stop",
            last_pid: None,
            cloned: None,
            cgroups: ContainerCgroups::default(),
        }
    }

    /// For the start of a reboot whose previous init was `pid`.
    pub fn reboot(hooks: Hooks, pid: i32) -> FailedStart {
        FailedStart {
            target: "reboot",
            last_pid: Some(pid),
            ..Self::new(hooks)
        }
    }

    /// Runs the end of the failed start and returns its error.
    pub fn end(mut self, e: Error) -> Error {
        let (pid, ns) = match self.cloned.take() {
            Some((pid, ns)) => (Some(pid), ns),
            None => (self.last_pid, HeldNamespaces::default()),
        };
        run_stop(&self.hooks, &ns, pid, self.target);
        self.cgroups.remove();
        drop(ns);
        let _ = run_post_stop(&self.hooks, pid, self.target);
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn env_of(out: &str, hook: &str) -> String {
        out.lines()
            .find(|l| l.starts_with(hook))
            .unwrap_or("")
            .to_string()
    }

    /// A failed start runs stop, then post-stop, with LXC_TARGET and,
    /// once init was cloned, LXC_PID; a reboot's start says "reboot" and
    /// keeps the previous init's pid.
    #[test]
    fn end_of_a_failed_start() {
        let d = std::env::temp_dir().join(format!("lxc-failed-start-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let out = d.join("out");
        let mut c = Config::new();
        c.set_item("lxc.hook.version", "1").unwrap();
        for h in ["stop", "post-stop"] {
            c.set_item(
                &format!("lxc.hook.{h}"),
                &format!(
                    "/bin/sh -c 'echo \"$LXC_HOOK_TYPE pid=${{LXC_PID-none}} target=$LXC_TARGET\" >> {}'",
                    out.display()
                ),
            )
            .unwrap();
        }
        let hooks = Hooks::for_start("c1", Path::new("/x/config"), &c);
        let e = FailedStart::new(hooks.clone()).end(Error::invalid("boom"));
        assert_eq!(e.message, "boom");
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            text,
            "stop pid=none target=stop\npost-stop pid=none target=stop\n"
        );
        std::fs::remove_file(&out).unwrap();
        let mut f = FailedStart::new(hooks.clone());
        f.cloned = Some((42, HeldNamespaces::default()));
        f.end(Error::invalid("boom"));
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(env_of(&text, "stop"), "stop pid=42 target=stop");
        assert_eq!(env_of(&text, "post-stop"), "post-stop pid=42 target=stop");
        std::fs::remove_file(&out).unwrap();
        FailedStart::reboot(hooks, 7).end(Error::invalid("boom"));
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            text,
            "stop pid=7 target=reboot\npost-stop pid=7 target=reboot\n"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
