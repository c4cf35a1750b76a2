//! The v1 side of every operation that differs between hierarchy kinds
//! (see [`super::Backend`]): one hierarchy per controller set, `tasks`,
//! `freezer.state`, `devices.allow`/`deny` files, `lxc.cgroup.*` keys.

use std::path::Path;

use super::{limits, write_setting, Backend, ContainerCgroups, DeviceRule, Hierarchy, Setting};
use crate::error::{Error, Result};

#[derive(Debug)]
pub(super) struct V1;

pub(super) static V1_BACKEND: V1 = V1;

impl Backend for V1 {
    fn is_line_of(&self, mounted: &[String], listed: &[String]) -> bool {
        !mounted.is_empty() && listed == mounted
    }

    fn delegation_files(&self) -> Vec<String> {
        Vec::new()
    }

    fn shared_files(&self) -> Vec<String> {
        vec!["cgroup.procs".into(), "tasks".into()]
    }

    fn offered(&self, h: &Hierarchy) -> Vec<String> {
        h.controllers.clone()
    }

    fn mount_data(&self, h: &Hierarchy) -> (&'static str, String) {
        // A named hierarchy ("name=systemd") has no controller: "none".
        let opts = h
            .controllers
            .iter()
            .map(|c| {
                if c.starts_with("name=") {
                    format!("none,{c}")
                } else {
                    c.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(",");
        ("cgroup", opts)
    }

    fn init_dir(&self, h: &Hierarchy, dir: &Path) -> Result<()> {
        inherit_cpuset(h, dir)
    }

    fn freezer(&self, h: &Hierarchy) -> Option<(u8, Option<&'static str>)> {
        // The v1 freezer wins over the cgroup2 one, as in LXC.
        h.controllers
            .iter()
            .any(|c| c == "freezer")
            .then_some((0, Some("freezer")))
    }

    fn freeze_write(&self, frozen: bool) -> (&'static str, &'static str) {
        ("freezer.state", if frozen { "FROZEN" } else { "THAWED" })
    }

    fn is_frozen(&self, dir: &Path) -> bool {
        std::fs::read_to_string(dir.join("freezer.state")).is_ok_and(|s| s.trim() == "FROZEN")
    }

    fn freeze_may_stall(&self) -> bool {
        true
    }

    fn self_attach_file(&self) -> Option<&'static str> {
        Some("tasks")
    }

    fn enters_at_birth(&self) -> bool {
        false
    }

    fn prepare_devices(&self, _: &mut ContainerCgroups) -> Result<()> {
        // devices.* are plain files, written by apply_limits(true).
        Ok(())
    }

    fn apply_limits(&self, cg: &mut ContainerCgroups, devices: bool) -> Result<()> {
        for s in cg.setup.legacy.iter().filter(|s| s.is_devices() == devices) {
            apply_legacy(cg, s, devices)?;
        }
        if !devices && !cg.setup.unified.is_empty() {
            log::warn!("Ignoring cgroup2 limits on legacy cgroup system");
        }
        Ok(())
    }

    fn add_device_rule(&self, _: &mut ContainerCgroups, _: DeviceRule) -> Result<()> {
        Err(Error::invalid(
            "Device rules through BPF need a pure cgroup2 host",
        ))
    }
}

/// Writes one `lxc.cgroup.*` setting into the hierarchy mounting its
/// controller. A refused `devices.*` write is only a warning, as in LXC.
fn apply_legacy(cg: &ContainerCgroups, s: &Setting, devices: bool) -> Result<()> {
    let controller = limits::controller_of(&s.file)?;
    let Some((h, dir)) = cg
        .dirs
        .iter()
        .find(|(h, _)| h.controllers.iter().any(|c| c == controller))
    else {
        return Err(Error::new(
            libc::ENOENT,
            format!(
                "Failed to set {}: no \"{controller}\" controller is mounted on this host",
                s.key
            ),
        ));
    };
    let value = if s.file == "devices.allow" && s.value.starts_with('/') {
        limits::convert_devpath(&s.value)?
    } else {
        s.value.clone()
    };
    let mut result = write_setting(h, dir, s, &value);
    // Init lives in the inner cgroup: it gets the same cpuset.
    if result.is_ok() && controller == "cpuset" && cg.setup.placement.inner.is_some() {
        result = write_setting(h, &cg.process_dir(dir), s, &value);
    }
    match result {
        Err(e) if devices && (e.errno == libc::EACCES || e.errno == libc::EPERM) => {
            log::warn!("{}", e.message);
            Ok(())
        }
        Err(e) => Err(e),
        Ok(()) => {
            log::debug!("Set {} to \"{}\"", s.file, s.value);
            Ok(())
        }
    }
}

/// A new v1 cpuset cgroup starts with empty `cpuset.cpus`/`cpuset.mems`
/// (no task may join it) unless `cgroup.clone_children` is set above: copy
/// the parent's values, as LXC does.
fn inherit_cpuset(h: &Hierarchy, dir: &Path) -> Result<()> {
    if !h.controllers.iter().any(|c| c == "cpuset") {
        return Ok(());
    }
    let ancestors = || {
        dir.ancestors()
            .skip(1)
            .take_while(|p| p.starts_with(&h.mountpoint))
    };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let own = dir.join(file);
        let current = h.read(&own).unwrap_or_default();
        if !current.trim().is_empty() {
            continue;
        }
        if file == "cpuset.cpus" {
            skip_domain_rebuild(h, dir, ancestors());
        }
        let parent_value = ancestors()
            .filter_map(|p| h.read(&p.join(file)).ok())
            .find(|v| !v.trim().is_empty())
            .unwrap_or_default();
        h.write(&own, parent_value.trim())
            .map_err(|e| Error::io("Failed to initialise", &own, &e))?;
    }
    Ok(())
}

/// Giving CPUs to a load-balanced cpuset makes the kernel rebuild the
/// scheduler domains, a walk over every cpuset on the host: 0.5 ms more
/// per start with 1000 containers running (docs/benchmarks.md). Below an
/// ancestor that balances (the host's top cpuset does by default), a
/// cpuset's own `sched_load_balance` changes nothing (the ancestor's
/// domain spans its CPUs), so the new one stops asking for a domain of its
/// own before it gets its CPUs. Elsewhere it is left as it is. Best
/// effort: without it the start is only slower.
fn skip_domain_rebuild<'a>(
    h: &Hierarchy,
    dir: &Path,
    mut ancestors: impl Iterator<Item = &'a Path>,
) {
    const FLAG: &str = "cpuset.sched_load_balance";
    let balanced_above = ancestors.any(|p| h.read(&p.join(FLAG)).is_ok_and(|v| v.trim() == "1"));
    if balanced_above {
        let _ = h.write(&dir.join(FLAG), "0");
    }
}
