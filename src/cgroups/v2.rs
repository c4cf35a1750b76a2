//! The cgroup2 side of every operation that differs between hierarchy
//! kinds (see [`super::Backend`]): one hierarchy, `cgroup.procs` and
//! CLONE_INTO_CGROUP, `cgroup.freeze`, a BPF device program,
//! `lxc.cgroup2.*` keys.

use std::path::Path;

use super::bpf_prog::DeviceProgram;
use super::device_rules::{self, RuleList};
use super::{
    devices_bpf, write_setting, Backend, ContainerCgroups, DeviceRule, Hierarchy, Setting,
};
use crate::error::{Error, Result};

#[derive(Debug)]
pub(super) struct V2;

pub(super) static V2_BACKEND: V2 = V2;

/// The device rules of a container on a pure cgroup2 host and the program
/// enforcing them (attached once init has made its /dev nodes).
#[derive(Debug)]
pub(super) struct Devices {
    rules: RuleList,
    program: DeviceProgram,
}

/// The files the kernel lets a cgroup's owner write when delegated
/// (None when the kernel does not say). Read once: the list is the
/// kernel's, and it is in sysfs (see `files`).
fn delegate_list() -> Option<&'static str> {
    static LIST: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| std::fs::read_to_string("/sys/kernel/cgroup/delegate").ok())
        .as_deref()
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

impl Backend for V2 {
    fn is_line_of(&self, _: &[String], listed: &[String]) -> bool {
        // The cgroup2 line of /proc/<pid>/cgroup lists no controllers.
        listed.is_empty()
    }

    fn delegation_files(&self) -> Vec<String> {
        lines(delegate_list().unwrap_or_default())
            .map(str::to_string)
            .collect()
    }

    fn shared_files(&self) -> Vec<String> {
        // Older kernels lack the list: these are what they delegate.
        let delegate =
            delegate_list().unwrap_or("cgroup.procs\ncgroup.subtree_control\ncgroup.threads\n");
        std::iter::once("cgroup.procs")
            .chain(lines(delegate).filter(|l| *l != "cgroup.procs"))
            .map(str::to_string)
            .collect()
    }

    fn offered(&self, h: &Hierarchy) -> Vec<String> {
        std::fs::read_to_string(h.current_dir().join("cgroup.controllers"))
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }

    fn mount_data(&self, _: &Hierarchy) -> (&'static str, String) {
        ("cgroup2", String::new())
    }

    fn init_dir(&self, _: &Hierarchy, _: &Path) -> Result<()> {
        Ok(())
    }

    fn freezer(&self, _: &Hierarchy) -> Option<(u8, Option<&'static str>)> {
        Some((1, None))
    }

    fn freeze_write(&self, frozen: bool) -> (&'static str, &'static str) {
        ("cgroup.freeze", if frozen { "1" } else { "0" })
    }

    fn is_frozen(&self, dir: &Path) -> bool {
        std::fs::read_to_string(dir.join("cgroup.events"))
            .is_ok_and(|ev| ev.lines().any(|l| l == "frozen 1"))
    }

    fn freeze_may_stall(&self) -> bool {
        false
    }

    fn self_attach_file(&self) -> Option<&'static str> {
        None
    }

    fn enters_at_birth(&self) -> bool {
        true
    }

    /// Compiles `lxc.cgroup2.devices.*` into a device program and loads
    /// it, so a bad rule or a kernel without BPF device cgroups fails the
    /// start before init exists. Unlike LXC, a lone `devices.deny = a`
    /// gives a program too (denying all).
    fn prepare_devices(&self, cg: &mut ContainerCgroups) -> Result<()> {
        let rules: Vec<&Setting> = cg.setup.unified.iter().filter(|s| s.is_devices()).collect();
        if rules.is_empty() {
            return Ok(());
        }
        let mut list = RuleList::for_config();
        for s in rules {
            let rule = device_rules::parse(&s.file, &s.value, true)
                .map_err(|e| Error::new(e.errno, format!("{}: {}", s.key, e.message)))?;
            list.add(rule);
        }
        let program = DeviceProgram::load(&devices_bpf::compile(&list))?;
        log::debug!(
            "Device program loaded: {} rule(s), default {}",
            list.effective().count(),
            if list.default_allow { "allow" } else { "deny" }
        );
        cg.devices = Some(Devices {
            rules: list,
            program,
        });
        Ok(())
    }

    fn apply_limits(&self, cg: &mut ContainerCgroups, devices: bool) -> Result<()> {
        if devices {
            // The device program loaded at creation goes on now.
            let dir = cg.cgroup2_dir().map(Path::to_path_buf);
            if let (Some(d), Some(dir)) = (&mut cg.devices, dir) {
                if !d.program.is_attached() {
                    d.program.attach(&dir)?;
                    log::debug!("Device program attached to {}", dir.display());
                }
            }
            return Ok(());
        }
        if !cg.setup.legacy.is_empty() {
            log::warn!("Ignoring legacy cgroup limits on pure cgroup2 system");
        }
        let Some((h, dir)) = cg.cgroup2() else {
            return Ok(());
        };
        // devices.* become the device program (prepare_devices).
        for s in cg.setup.unified.iter().filter(|s| !s.is_devices()) {
            write_setting(h, dir, s, &s.value)?;
            log::debug!("Set {} to \"{}\"", s.file, s.value);
        }
        Ok(())
    }

    /// The program is rebuilt and replaces the attached one. A container
    /// started without device rules starts from "allow everything" (what
    /// it had), so a deny denies just that; LXC starts from an allow-list
    /// there and would deny everything but the rule.
    fn add_device_rule(&self, cg: &mut ContainerCgroups, rule: DeviceRule) -> Result<()> {
        let dir = cg
            .cgroup2_dir()
            .ok_or_else(|| Error::new(libc::ENOENT, "The container has no cgroup2 cgroup"))?
            .to_path_buf();
        let mut rules = cg
            .devices
            .as_ref()
            .map_or_else(RuleList::allow_all, |d| d.rules.clone());
        if !rules.add(rule) {
            return Ok(());
        }
        let next = DeviceProgram::load(&devices_bpf::compile(&rules))?;
        match &mut cg.devices {
            Some(d) => {
                d.program.replace(next)?;
                d.rules = rules;
            }
            None => {
                let mut program = next;
                program.attach(&dir)?;
                cg.devices = Some(Devices { rules, program });
            }
        }
        log::info!("Device rule \"{rule}\" added");
        Ok(())
    }
}
