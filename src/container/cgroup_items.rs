//! `get_cgroup_item` / `set_cgroup_item`: one cgroup file of a running
//! container, found as LXC finds it — the monitor names the container's
//! (limit) cgroup per controller over the command socket (GET_LIMIT_CGROUP,
//! so this works on containers started by LXC itself too), and the file is
//! `<mountpoint of that controller>/<path>/<subsys>` in the caller's view.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use super::Container;
use crate::cgroups::{self, limits};
use crate::error::{Error, Result, ResultExt};

/// The hierarchy that holds `controller` in the caller's view: the v1 one
/// mounting it, else the unified one (pure cgroup2 or a controller only v2
/// has).
fn hierarchy_for<'h>(
    hierarchies: &'h [cgroups::Hierarchy],
    controller: &str,
) -> Option<&'h cgroups::Hierarchy> {
    hierarchies
        .iter()
        .find(|h| !h.unified && h.controllers.iter().any(|c| c == controller))
        .or_else(|| hierarchies.iter().find(|h| h.unified))
}

/// The full path of `subsys` given the monitor's answer `rel` (relative to
/// the hierarchy root, with or without a leading '/').
pub fn item_path(mountpoint: &Path, rel: &str, subsys: &str) -> Result<PathBuf> {
    let rel = Path::new(rel.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(Error::invalid(format!(
            "The monitor answered an invalid cgroup path \"{}\"",
            rel.display()
        )));
    }
    Ok(mountpoint.join(rel).join(subsys))
}

impl Container {
    fn cgroup_item_path(&self, subsys: &str) -> Result<(PathBuf, bool)> {
        let controller = limits::controller_of(subsys)?;
        let addr = self.addr();
        let (target, name) = (addr.target(), self.name());
        let not_running =
            || Error::new(libc::ENOENT, format!("Container \"{name}\" is not running"));
        if target.get_state()? == 0 {
            return Err(not_running());
        }
        let rel = target
            .get_limit_cgroup(Some(controller))
            .context(format_args!("No \"{controller}\" cgroup for \"{name}\""))?
            .ok_or_else(not_running)?;
        let hierarchies = cgroups::detect()?;
        let h = hierarchy_for(&hierarchies, controller).ok_or_else(|| {
            Error::new(
                libc::ENOENT,
                format!("No \"{controller}\" cgroup hierarchy is mounted"),
            )
        })?;
        if h.unified && controller == "devices" {
            return Err(Error::new(
                libc::EOPNOTSUPP,
                "cgroup2 has no devices files (device rules are BPF programs)",
            ));
        }
        Ok((item_path(&h.mountpoint, &rel, subsys)?, h.unified))
    }

    /// One `devices.allow`/`devices.deny` rule for the running container
    /// on a pure cgroup2 host.
    fn add_device_rule(&self, subsys: &str, value: &str) -> Result<()> {
        let rule = cgroups::device_rules::parse(subsys, value, false)?;
        let addr = self.addr();
        let (target, name) = (addr.target(), self.name());
        if target.get_state()? == 0 {
            return Err(Error::new(
                libc::ENOENT,
                format!("Container \"{name}\" is not running"),
            ));
        }
        target.add_bpf_device_rule(&rule)
    }

    /// The raw content of the cgroup file `subsys` (trailing newline
    /// included, as LXC returns it) of the running container.
    pub fn get_cgroup_item(&self, subsys: &str) -> Result<Vec<u8>> {
        let (path, _) = self.cgroup_item_path(subsys)?;
        let mut out = Vec::new();
        std::fs::File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut out))
            .map_err(|e| Error::io("Failed to read", &path, &e))?;
        Ok(out)
    }

    /// Writes `value` into the cgroup file `subsys` of the running
    /// container. On a pure cgroup2 host `devices.allow`/`devices.deny`
    /// have no file: the rule goes to the monitor, which replaces the
    /// container's device program (as LXC).
    pub fn set_cgroup_item(&self, subsys: &str, value: &str) -> Result<()> {
        if value.is_empty() {
            return Err(Error::invalid(format!("Empty value for {subsys}")));
        }
        if limits::controller_of(subsys)? == "devices" {
            let hierarchies = cgroups::detect()?;
            if cgroups::pure_cgroup2(&hierarchies) {
                return self.add_device_rule(subsys, value);
            }
        }
        let (path, _) = self.cgroup_item_path(subsys)?;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|mut f| f.write_all(value.as_bytes()))
            .map_err(|e| Error::io(&format!("Failed to write \"{value}\" to"), &path, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let m = Path::new("/sys/fs/cgroup/pids");
        assert_eq!(
            item_path(m, "lxc.payload.c1", "pids.max").unwrap(),
            Path::new("/sys/fs/cgroup/pids/lxc.payload.c1/pids.max")
        );
        assert_eq!(
            item_path(m, "/a/lxc.payload.c1", "pids.max").unwrap(),
            Path::new("/sys/fs/cgroup/pids/a/lxc.payload.c1/pids.max")
        );
        assert!(item_path(m, "a/../../etc", "pids.max").is_err());
    }

    #[test]
    fn hierarchy_choice() {
        let v1 = cgroups::Hierarchy {
            mountpoint: "/sys/fs/cgroup/pids".into(),
            controllers: vec!["pids".into()],
            unified: false,
            current: "/".into(),
            order: 0,
            mount: Default::default(),
        };
        let v2 = cgroups::Hierarchy {
            mountpoint: "/sys/fs/cgroup/unified".into(),
            controllers: vec![],
            unified: true,
            current: "/".into(),
            order: 1,
            mount: Default::default(),
        };
        let hs = vec![v1.clone(), v2.clone()];
        assert_eq!(hierarchy_for(&hs, "pids"), Some(&v1));
        assert_eq!(hierarchy_for(&hs, "io"), Some(&v2));
        assert_eq!(hierarchy_for(&hs[..1], "io"), None);
    }
}
