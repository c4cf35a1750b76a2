//! Init's namespaces held by the monitor for `lxc.hook.stop`, which enters
//! them after init is gone (LXC preserves them right after the clone, so a
//! start failing later still hands them to the hook).

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::netns::MadeAhead;
use super::StartSpec;

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

/// The namespaces of an init, held so the stop hooks can enter them after
/// init is gone.
#[derive(Debug, Default)]
pub struct HeldNamespaces {
    fds: Vec<(&'static str, &'static str, OwnedFd)>,
    /// The mount namespace init was cloned with, once it left it (see
    /// [`HeldNamespaces::entered_root`]).
    left_mnt: Option<OwnedFd>,
}

/// Init as a failed start's end hooks see it: its pid and the namespaces
/// held since its clone.
pub type ClonedInit = Option<(i32, HeldNamespaces)>;

impl HeldNamespaces {
    /// Opens the namespaces init was created with (best effort), once init
    /// has joined them all.
    pub fn open(spec: &StartSpec, pid: i32) -> HeldNamespaces {
        Self::open_flags(Self::flags_of(spec), pid, |_| None)
    }

    /// The namespaces init ends up with that it did not share.
    fn flags_of(spec: &StartSpec) -> i32 {
        let flags = spec.reported_clone_flags();
        if spec.new_cgroupns {
            flags | libc::CLONE_NEWCGROUP
        } else {
            flags
        }
    }

    /// Right after the clone: what the clone made (init makes its cgroup
    /// and time namespaces later) and what was made `ahead` for it, which
    /// init may not have joined yet.
    pub fn open_cloned(spec: &StartSpec, pid: i32, ahead: Option<&MadeAhead>) -> HeldNamespaces {
        let flags = spec.clone_flags & !(libc::CLONE_NEWCGROUP | libc::CLONE_NEWTIME);
        Self::open_flags(flags, pid, |flag| ahead.and_then(|a| a.get(flag)))
    }

    /// Init entered its root through a holder (`sys::new_root`): `ns`, its
    /// mount namespace now, is the container's. The one it was cloned with
    /// is kept aside (see [`HeldNamespaces::completed`]).
    pub fn entered_root(&mut self, ns: OwnedFd) {
        if let Some(held) = self.fds.iter_mut().find(|(name, _, _)| *name == "mnt") {
            self.left_mnt = Some(std::mem::replace(&mut held.2, ns));
        }
    }

    /// What [`HeldNamespaces::open`] gives, from those held since the
    /// clone: only the namespaces init made afterwards are opened (its
    /// cgroup and time ones), once init has made them. With it, the mount
    /// namespace init left, if it did, to be dropped off the start's path:
    /// freeing it unmounts the host's copy.
    pub fn completed(self, spec: &StartSpec, pid: i32) -> (HeldNamespaces, Option<OwnedFd>) {
        self.completed_to(Self::flags_of(spec), pid)
    }

    fn completed_to(mut self, flags: i32, pid: i32) -> (HeldNamespaces, Option<OwnedFd>) {
        let mut all = Self::open_flags(flags & !self.flags(), pid, |_| None);
        all.fds.append(&mut self.fds);
        all.fds
            .sort_by_key(|(name, _, _)| NAMESPACES.iter().position(|(_, n, _)| n == name));
        (all, self.left_mnt.take())
    }

    /// The flags of the namespaces held.
    fn flags(&self) -> i32 {
        NAMESPACES
            .iter()
            .filter(|(_, name, _)| self.fds.iter().any(|(n, _, _)| n == name))
            .fold(0, |flags, (f, _, _)| flags | f)
    }

    /// The namespaces of `flags`: those `given` has, else init's.
    fn open_flags<'a>(
        flags: i32,
        pid: i32,
        given: impl Fn(i32) -> Option<BorrowedFd<'a>>,
    ) -> HeldNamespaces {
        let fds = NAMESPACES
            .iter()
            .filter(|(f, _, _)| flags & f != 0)
            .filter_map(|(f, name, var)| {
                let fd = match given(*f) {
                    Some(fd) => fd.try_clone_to_owned().ok(),
                    None => std::fs::File::open(format!("/proc/{pid}/ns/{name}"))
                        .ok()
                        .map(OwnedFd::from),
                };
                fd.map(|fd| (*name, *var, fd))
            })
            .collect();
        HeldNamespaces {
            fds,
            left_mnt: None,
        }
    }

    /// ("<ns>:/proc/<monitor>/fd/<n>" arguments, LXC_<NS>_NS variables).
    pub fn hook_args(&self) -> (Vec<String>, Vec<(String, String)>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ns_arguments() {
        let ns = HeldNamespaces::open_flags(libc::CLONE_NEWNS, std::process::id() as i32, |_| None);
        let (args, env) = ns.hook_args();
        let me = std::process::id();
        assert!(
            args[0].starts_with(&format!("mnt:/proc/{me}/fd/")),
            "{args:?}"
        );
        assert_eq!(env[0].0, "LXC_MNT_NS");
        assert_eq!(Some(env[0].1.as_str()), args[0].strip_prefix("mnt:"));
    }

    #[test]
    fn completed_keeps_what_was_held_and_adds_the_rest_in_order() {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let me = std::process::id() as i32;
        let given = std::fs::File::open("/proc/self/ns/uts").unwrap();
        let cloned = HeldNamespaces::open_flags(libc::CLONE_NEWNS | libc::CLONE_NEWNET, me, |f| {
            (f == libc::CLONE_NEWNET).then(|| given.as_fd())
        });
        let all =
            libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWNET | libc::CLONE_NEWCGROUP;
        let (held, left) = cloned.completed_to(all, me);
        assert!(left.is_none(), "the same mount namespace");
        let (args, _) = held.hook_args();
        let names: Vec<_> = args.iter().map(|a| a.split(':').next().unwrap()).collect();
        assert_eq!(names, ["mnt", "pid", "net", "cgroup"]);
        // The network namespace is still the one held since the clone.
        let net = std::fs::metadata(args[2].strip_prefix("net:").unwrap()).unwrap();
        assert_eq!(net.ino(), given.metadata().unwrap().ino());
    }

    #[test]
    fn the_mount_namespace_init_entered_replaces_the_one_it_left() {
        use std::os::unix::fs::MetadataExt;
        let me = std::process::id() as i32;
        let mut cloned = HeldNamespaces::open_flags(libc::CLONE_NEWNS, me, |_| None);
        // Any namespace file stands for the one init entered.
        let entered = std::fs::File::open("/proc/self/ns/uts").unwrap();
        let entered_ino = entered.metadata().unwrap().ino();
        cloned.entered_root(entered.into());
        let (held, left) = cloned.completed_to(libc::CLONE_NEWNS, me);
        let (args, _) = held.hook_args();
        let now = std::fs::metadata(args[0].strip_prefix("mnt:").unwrap()).unwrap();
        assert_eq!(now.ino(), entered_ino);
        let ours = std::fs::metadata("/proc/self/ns/mnt").unwrap();
        let left = std::fs::File::from(left.expect("the namespace it left"));
        assert_eq!(left.metadata().unwrap().ino(), ours.ino());
    }

    #[test]
    fn net_made_ahead() {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let me = std::process::id() as i32;
        // Any namespace file tells the given descriptor from init's entry.
        let given = std::fs::File::open("/proc/self/ns/uts").unwrap();
        let flags = libc::CLONE_NEWNS | libc::CLONE_NEWNET;
        let ns = HeldNamespaces::open_flags(flags, me, |f| {
            (f == libc::CLONE_NEWNET).then(|| given.as_fd())
        });
        let (args, _) = ns.hook_args();
        assert_eq!(args.len(), 2, "{args:?}");
        assert!(args[0].starts_with("mnt:") && args[1].starts_with("net:"));
        let held = std::fs::metadata(args[1].strip_prefix("net:").unwrap()).unwrap();
        let uts = std::fs::metadata("/proc/self/ns/uts").unwrap();
        assert_eq!((held.dev(), held.ino()), (uts.dev(), uts.ino()));
    }
}
