//! What the configuration asks of the container's cgroups: where they go
//! (`lxc.cgroup.dir*`) and the `lxc.cgroup.*` / `lxc.cgroup2.*` settings
//! written into them at start, in LXC 6.0's order:
//!
//! * v1 settings other than `devices.*` are written right after the
//!   cgroups exist, before init joins them (memsw limits last, after the
//!   memory limits they may not exceed);
//! * v1 `devices.*` settings are written once init has set up its rootfs
//!   (autodev's mknod needs the device access a `devices.deny = a` takes
//!   away) and before it execs; EACCES/EPERM there is only a warning;
//! * v2 settings only on a pure cgroup2 host; on a legacy or hybrid host
//!   LXC ignores them with a warning, and so do we. v2 `devices.allow`/
//!   `devices.deny` have no file: they compile into a BPF device program
//!   (`device_rules`, `devices_bpf`), attached when v1 `devices.*` would be
//!   written.

use std::path::Path;

use crate::config::model::{CgroupItem, LxcConf};
use crate::error::{Error, Result};

/// Where the container's cgroup goes, below the base cgroup (`detect_base`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// `lxc.cgroup.dir`: `<dir>/lxc.payload.<name>`.
    pub dir: Option<String>,
    /// `lxc.cgroup.dir.container`: exactly this path, no "-N" retries.
    pub container_dir: Option<String>,
    /// `lxc.cgroup.dir.container.inner`: init lives in this child of the
    /// (limit) cgroup.
    pub inner: Option<String>,
}

impl Placement {
    /// The placement the configuration asks for, checked as LXC's
    /// `check_cgroup_dir_config` does.
    pub fn from_conf(conf: &LxcConf) -> Result<Placement> {
        let p = Placement {
            dir: conf.cgroup_dir.clone(),
            container_dir: conf.cgroup_container_dir.clone(),
            inner: conf.cgroup_container_inner_dir.clone(),
        };
        let monitor = conf.cgroup_monitor_dir.is_some();
        if monitor || p.container_dir.is_some() || p.inner.is_some() {
            if p.dir.is_some() {
                return Err(Error::invalid(
                    "lxc.cgroup.dir conflicts with lxc.cgroup.dir.container/monitor",
                ));
            }
            if !monitor || p.container_dir.is_none() {
                return Err(Error::invalid(
                    "lxc.cgroup.dir.container and lxc.cgroup.dir.monitor must both be set",
                ));
            }
        }
        for v in [&p.dir, &p.container_dir].into_iter().flatten() {
            check_relative_dir(v)?;
        }
        if let Some(inner) = &p.inner {
            check_file_name(inner)?;
        }
        Ok(p)
    }

    /// The limit cgroup path relative to the base, and whether a "-N"
    /// suffix may be tried when it exists.
    pub fn leaf(&self, container: &str) -> (String, bool) {
        let payload = super::payload_name(container);
        if let Some(d) = &self.container_dir {
            return (d.trim_matches('/').to_string(), false);
        }
        match &self.dir {
            Some(d) => (format!("{}/{payload}", d.trim_matches('/')), true),
            None => (payload, true),
        }
    }
}

/// A relative cgroup path without "." or ".." components.
fn check_relative_dir(v: &str) -> Result<()> {
    if v.starts_with('/') {
        return Err(Error::invalid(format!(
            "Cgroup directory \"{v}\" must be relative"
        )));
    }
    if v.split('/')
        .any(|c| c == "." || c == ".." || c.contains(".."))
        || v.trim_matches('/').is_empty()
    {
        return Err(Error::invalid(format!(
            "Cgroup directory \"{v}\" may not walk upwards or be empty"
        )));
    }
    Ok(())
}

/// A single cgroup file or directory name.
fn check_file_name(v: &str) -> Result<()> {
    if v.is_empty() || v.contains('/') || v.contains("..") || v == "." {
        return Err(Error::invalid(format!(
            "\"{v}\" is not a valid cgroup file name"
        )));
    }
    Ok(())
}

/// Checks a `subsys` argument ("memory.limit_in_bytes") and returns its
/// controller (the part before the first '.').
pub fn controller_of(subsys: &str) -> Result<&str> {
    check_file_name(subsys)?;
    let controller = subsys.split('.').next().unwrap_or("");
    if controller.is_empty() || !subsys.contains('.') {
        return Err(Error::invalid(format!(
            "\"{subsys}\" is not a \"<controller>.<file>\" cgroup file"
        )));
    }
    Ok(controller)
}

/// One setting to write: the configuration key (for errors), the cgroup
/// file and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub file: String,
    pub value: String,
}

impl Setting {
    pub fn is_devices(&self) -> bool {
        self.file.starts_with("devices")
    }
}

/// Everything the start applies to the container's cgroups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupSetup {
    pub placement: Placement,
    /// `lxc.cgroup.*`, in the order they are written.
    pub legacy: Vec<Setting>,
    /// `lxc.cgroup2.*`.
    pub unified: Vec<Setting>,
}

impl Setting {
    /// `<family>.<file> = value`, once `check` accepts the file name (its
    /// error then names the key).
    fn checked(
        family: &str,
        item: &CgroupItem,
        check: impl Fn(&str) -> Result<()>,
    ) -> Result<Setting> {
        let s = Setting {
            key: format!("{family}.{}", item.subsystem),
            file: item.subsystem.clone(),
            value: item.value.clone(),
        };
        check(&s.file).map_err(|e| Error::new(e.errno, format!("{}: {}", s.key, e.message)))?;
        Ok(s)
    }
}

impl CgroupSetup {
    pub fn from_conf(conf: &LxcConf) -> Result<CgroupSetup> {
        let mut legacy = Vec::new();
        let mut memsw = Vec::new();
        for item in &conf.cgroup {
            let s = Setting::checked("lxc.cgroup", item, |f| controller_of(f).map(drop))?;
            if s.file == "memory.memsw.limit_in_bytes" {
                memsw.push(s);
            } else {
                legacy.push(s);
            }
        }
        legacy.extend(memsw);
        let unified = conf
            .cgroup2
            .iter()
            .map(|item| Setting::checked("lxc.cgroup2", item, check_file_name))
            .collect::<Result<Vec<_>>>()?;
        Ok(CgroupSetup {
            placement: Placement::from_conf(conf)?,
            legacy,
            unified,
        })
    }
}

/// `devices.allow = /dev/null rwm`: LXC turns a device path into the
/// "c 1:3 rwm" form the kernel takes.
pub fn convert_devpath(value: &str) -> Result<String> {
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::fs::MetadataExt;
    let mut parts = value.split_whitespace();
    let path = parts.next().unwrap_or("");
    let mode = parts
        .next()
        .ok_or_else(|| Error::invalid(format!("Device rule \"{value}\" has no access mode")))?;
    if mode.is_empty() || mode.len() > 3 || !mode.chars().all(|c| "rwm".contains(c)) {
        return Err(Error::invalid(format!(
            "Device rule \"{value}\" has an invalid access mode"
        )));
    }
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::io("Failed to stat device", Path::new(path), &e))?;
    let kind = if meta.file_type().is_block_device() {
        'b'
    } else if meta.file_type().is_char_device() {
        'c'
    } else {
        return Err(Error::invalid(format!("\"{path}\" is not a device")));
    };
    let rdev = meta.rdev();
    Ok(format!(
        "{kind} {}:{} {mode}",
        libc::major(rdev),
        libc::minor(rdev)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn setup(lines: &[(&str, &str)]) -> Result<CgroupSetup> {
        let mut c = Config::new();
        for (k, v) in lines {
            c.set_item(k, v).unwrap();
        }
        CgroupSetup::from_conf(c.conf())
    }

    #[test]
    fn controller_mapping() {
        assert_eq!(controller_of("memory.limit_in_bytes").unwrap(), "memory");
        assert_eq!(controller_of("pids.max").unwrap(), "pids");
        assert_eq!(
            controller_of("memory.memsw.limit_in_bytes").unwrap(),
            "memory"
        );
        for bad in [
            "",
            "pids",
            ".max",
            "../pids.max",
            "pids/../x.y",
            "a/b.c",
            "x..y",
            ".",
        ] {
            assert!(controller_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn order_and_keys() {
        let s = setup(&[
            ("lxc.cgroup.memory.memsw.limit_in_bytes", "512M"),
            ("lxc.cgroup.devices.deny", "a"),
            ("lxc.cgroup.memory.limit_in_bytes", "256M"),
            ("lxc.cgroup.devices.allow", "c 1:3 rwm"),
            ("lxc.cgroup2.memory.max", "1G"),
        ])
        .unwrap();
        let files: Vec<&str> = s.legacy.iter().map(|x| x.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "devices.deny",
                "memory.limit_in_bytes",
                "devices.allow",
                "memory.memsw.limit_in_bytes"
            ]
        );
        assert_eq!(s.legacy[0].key, "lxc.cgroup.devices.deny");
        assert!(s.legacy[0].is_devices() && !s.legacy[1].is_devices());
        assert_eq!(s.unified[0].key, "lxc.cgroup2.memory.max");
        assert_eq!(s.unified[0].value, "1G");
    }

    #[test]
    fn placement() {
        let none = setup(&[]).unwrap();
        assert_eq!(none.placement.leaf("c1"), ("lxc.payload.c1".into(), true));
        let dir = setup(&[("lxc.cgroup.dir", "my/tree")]).unwrap();
        assert_eq!(
            dir.placement.leaf("c1"),
            ("my/tree/lxc.payload.c1".into(), true)
        );
        let explicit = setup(&[
            ("lxc.cgroup.dir.container", "ct/c1"),
            ("lxc.cgroup.dir.monitor", "mon/c1"),
            ("lxc.cgroup.dir.container.inner", "ns"),
        ])
        .unwrap();
        assert_eq!(explicit.placement.leaf("c1"), ("ct/c1".into(), false));
        assert_eq!(explicit.placement.inner.as_deref(), Some("ns"));
        // The container dir alone, or with lxc.cgroup.dir, is refused.
        assert!(setup(&[("lxc.cgroup.dir.container", "ct/c1")]).is_err());
        assert!(setup(&[
            ("lxc.cgroup.dir", "x"),
            ("lxc.cgroup.dir.container", "ct"),
            ("lxc.cgroup.dir.monitor", "mon"),
        ])
        .is_err());
        assert!(check_relative_dir("a/../b").is_err());
        assert!(check_relative_dir("/a").is_err());
        assert!(check_relative_dir("./a").is_err());
        assert!(check_relative_dir("a/b").is_ok());
    }

    #[test]
    fn devpath() {
        assert_eq!(convert_devpath("/dev/null rwm").unwrap(), "c 1:3 rwm");
        assert_eq!(convert_devpath("/dev/zero  r").unwrap(), "c 1:5 r");
        assert!(convert_devpath("/dev/null").is_err());
        assert!(convert_devpath("/dev/null rwx").is_err());
        assert!(convert_devpath("/etc/passwd r").is_err());
    }
}
