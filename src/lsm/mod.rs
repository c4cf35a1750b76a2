//! Linux security modules: which one the host runs, what the container's
//! `lxc.apparmor.*` / `lxc.selinux.*` keys ask for, and applying the label
//! to init right before its exec (through `/proc/self/attr/.../exec`, so
//! it takes effect at the exec, as LXC does).
//!
//! This VM's kernel has neither AppArmor nor SELinux: the decision logic is
//! unit-tested; applying a label is untested-here. Without an LSM the keys
//! are accepted and logged, as LXC does.

use std::path::Path;

use crate::config::Config;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostLsm {
    AppArmor,
    SELinux,
    None,
}

/// The host's LSM, read under `root` (the host's `/` in production).
pub fn detect(root: &Path) -> HostLsm {
    let enabled = std::fs::read_to_string(root.join("sys/module/apparmor/parameters/enabled"))
        .map(|v| v.trim() == "Y")
        .unwrap_or(false);
    if enabled && root.join("sys/kernel/security/apparmor").exists() {
        return HostLsm::AppArmor;
    }
    if root.join("sys/fs/selinux/enforce").exists() {
        return HostLsm::SELinux;
    }
    HostLsm::None
}

/// What to do for init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LsmAction {
    /// Nothing to apply; the reason is logged.
    Skip(String),
    /// Write `exec <profile>` to `/proc/self/attr/apparmor/exec`.
    AppArmor(String),
    /// Write the context to `/proc/self/attr/exec`.
    SELinux(String),
}

/// LXC's choice: AppArmor profiles apply only on an AppArmor host
/// ("unconfined" applies nothing; "generated" needs LXC's profile
/// generator, which we do not ship: refused unless
/// `lxc.apparmor.allow_incomplete`), SELinux contexts only on an SELinux
/// host; anything else is skipped with a log line.
pub fn decide(
    host: HostLsm,
    apparmor_profile: Option<&str>,
    allow_incomplete: bool,
    selinux: Option<&str>,
) -> Result<LsmAction> {
    match host {
        HostLsm::AppArmor => match apparmor_profile {
            None | Some("") => Ok(LsmAction::Skip("no lxc.apparmor.profile".into())),
            Some("unconfined") => Ok(LsmAction::Skip("lxc.apparmor.profile = unconfined".into())),
            Some("generated") if allow_incomplete => {
                Ok(LsmAction::Skip("lxc.apparmor.profile = generated is not supported; allow_incomplete".into()))
            }
            Some("generated") => Err(Error::new(
                libc::ENOTSUP,
                "lxc.apparmor.profile = generated: profile generation is not supported (set a profile, or lxc.apparmor.allow_incomplete = 1)",
            )),
            Some(p) => Ok(LsmAction::AppArmor(p.to_string())),
        },
        HostLsm::SELinux => match selinux {
            None | Some("") => Ok(LsmAction::Skip("no lxc.selinux.context".into())),
            Some(c) => Ok(LsmAction::SELinux(c.to_string())),
        },
        HostLsm::None => {
            let keys: Vec<&str> = [
                apparmor_profile.filter(|p| !p.is_empty()).map(|_| "lxc.apparmor.profile"),
                selinux.filter(|c| !c.is_empty()).map(|_| "lxc.selinux.context"),
            ]
            .into_iter()
            .flatten()
            .collect();
            Ok(LsmAction::Skip(if keys.is_empty() {
                "no LSM on this host".into()
            } else {
                format!("no LSM on this host: ignoring {}", keys.join(", "))
            }))
        }
    }
}

/// The action for a container's configuration on this host.
pub fn for_config(config: &Config) -> Result<LsmAction> {
    let conf = config.conf();
    decide(
        detect(Path::new("/")),
        conf.apparmor_profile.as_deref(),
        conf.apparmor_allow_incomplete != 0,
        conf.selinux_context.as_deref(),
    )
}

/// In init, right before exec.
pub fn apply(action: &LsmAction) -> Result<()> {
    let (path, value) = match action {
        LsmAction::Skip(_) => return Ok(()),
        LsmAction::AppArmor(p) => {
            let path = if Path::new("/proc/self/attr/apparmor/exec").exists() {
                "/proc/self/attr/apparmor/exec"
            } else {
                "/proc/self/attr/exec"
            };
            (path, format!("exec {p}"))
        }
        LsmAction::SELinux(c) => ("/proc/self/attr/exec", c.clone()),
    };
    std::fs::write(path, value)
        .map_err(|e| Error::io("Failed to set the LSM label through", Path::new(path), &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        assert_eq!(
            decide(HostLsm::None, Some("generated"), false, None).unwrap(),
            LsmAction::Skip("no LSM on this host: ignoring lxc.apparmor.profile".into())
        );
        assert_eq!(
            decide(
                HostLsm::AppArmor,
                Some("lxc-container-default"),
                false,
                None
            )
            .unwrap(),
            LsmAction::AppArmor("lxc-container-default".into())
        );
        assert!(matches!(
            decide(HostLsm::AppArmor, Some("unconfined"), false, None).unwrap(),
            LsmAction::Skip(_)
        ));
        assert_eq!(
            decide(HostLsm::AppArmor, Some("generated"), false, None)
                .unwrap_err()
                .errno,
            libc::ENOTSUP
        );
        assert!(matches!(
            decide(HostLsm::AppArmor, Some("generated"), true, None).unwrap(),
            LsmAction::Skip(_)
        ));
        assert_eq!(
            decide(
                HostLsm::SELinux,
                Some("x"),
                false,
                Some("system_u:system_r:lxc_t:s0")
            )
            .unwrap(),
            LsmAction::SELinux("system_u:system_r:lxc_t:s0".into())
        );
        assert!(matches!(
            decide(HostLsm::SELinux, None, false, None).unwrap(),
            LsmAction::Skip(_)
        ));
    }

    #[test]
    fn detection_from_a_fake_root() {
        let root = std::env::temp_dir().join(format!("lxc-lsm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(detect(&root), HostLsm::None);
        std::fs::create_dir_all(root.join("sys/module/apparmor/parameters")).unwrap();
        std::fs::write(root.join("sys/module/apparmor/parameters/enabled"), "Y\n").unwrap();
        std::fs::create_dir_all(root.join("sys/kernel/security/apparmor")).unwrap();
        assert_eq!(detect(&root), HostLsm::AppArmor);
        std::fs::remove_dir_all(root.join("sys/kernel/security")).unwrap();
        std::fs::create_dir_all(root.join("sys/fs/selinux")).unwrap();
        std::fs::write(root.join("sys/fs/selinux/enforce"), "1").unwrap();
        assert_eq!(detect(&root), HostLsm::SELinux);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
