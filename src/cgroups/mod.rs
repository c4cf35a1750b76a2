//! Container cgroups on v1, v2 and hybrid hosts.
//!
//! The container's cgroup is `lxc.payload.<name>` created next to (under)
//! the monitor's own cgroup in every hierarchy, so a caller confined in a
//! delegated subtree keeps its containers inside it. The layout is read
//! from /proc/self/mountinfo and /proc/self/cgroup; the parsing is pure and
//! unit-tested, the directory work is in `ContainerCgroups`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub mountpoint: PathBuf,
    /// v1 controllers (and "name=systemd"-style names); empty for v2.
    pub controllers: Vec<String>,
    pub unified: bool,
    /// This process's cgroup in the hierarchy, relative to its root ("/x/y").
    pub current: String,
}

/// Parses the cgroup mounts of /proc/self/mountinfo: (mountpoint, super
/// options, is v2). Mount root other than "/" (bind-mounted subtrees) is
/// kept out: paths would not line up with /proc/self/cgroup.
pub fn parse_cgroup_mounts(mountinfo: &str) -> Vec<(PathBuf, Vec<String>, bool)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fields: Vec<&str> = left.split(' ').collect();
            let (root, mountpoint) = (fields.get(3)?, fields.get(4)?);
            let mut right = right.split(' ');
            let fstype = right.next()?;
            let _source = right.next()?;
            let super_opts = right.next().unwrap_or("");
            if *root != "/" {
                return None;
            }
            match fstype {
                "cgroup2" => Some((PathBuf::from(unescape(mountpoint)), Vec::new(), true)),
                "cgroup" => {
                    let controllers = super_opts
                        .split(',')
                        .filter(|o| is_controller_option(o))
                        .map(str::to_string)
                        .collect();
                    Some((PathBuf::from(unescape(mountpoint)), controllers, false))
                }
                _ => None,
            }
        })
        .collect()
}

/// mountinfo escapes spaces and a few other bytes as \ooo.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8) {
                out.push(v as char);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i] as char);
        i += 1;
    }
    out
}

fn is_controller_option(opt: &str) -> bool {
    const NOT_CONTROLLERS: &[&str] = &[
        "rw",
        "ro",
        "relatime",
        "noatime",
        "nosuid",
        "nodev",
        "noexec",
        "clone_children",
        "xattr",
        "nsdelegate",
        "memory_recursiveprot",
        "noprefix",
        "cpuset_v2_mode",
    ];
    !opt.is_empty() && !NOT_CONTROLLERS.contains(&opt) && !opt.starts_with("release_agent=")
}

/// Parses /proc/self/cgroup into (controllers, path) pairs; the v2 line has
/// no controllers.
pub fn parse_proc_cgroup(text: &str) -> Vec<(Vec<String>, String)> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            let list = controllers
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            Some((list, path.to_string()))
        })
        .collect()
}

/// Joins the two views into the hierarchies this process can use.
pub fn hierarchies_from(mountinfo: &str, proc_cgroup: &str) -> Vec<Hierarchy> {
    let memberships = parse_proc_cgroup(proc_cgroup);
    parse_cgroup_mounts(mountinfo)
        .into_iter()
        .filter_map(|(mountpoint, controllers, unified)| {
            let current = memberships
                .iter()
                .find(|(ctrls, _)| {
                    if unified {
                        ctrls.is_empty()
                    } else {
                        !controllers.is_empty() && ctrls == &controllers
                    }
                })?
                .1
                .clone();
            Some(Hierarchy {
                mountpoint,
                controllers,
                unified,
                current,
            })
        })
        .collect()
}

/// The hierarchies of the calling process.
pub fn detect() -> Result<Vec<Hierarchy>> {
    let read = |p: &str| {
        std::fs::read_to_string(p).map_err(|e| Error::io("Failed to read", Path::new(p), &e))
    };
    Ok(hierarchies_from(
        &read("/proc/self/mountinfo")?,
        &read("/proc/self/cgroup")?,
    ))
}

/// A new v1 cpuset cgroup starts with empty `cpuset.cpus`/`cpuset.mems`
/// (no task may join it) unless `cgroup.clone_children` is set above: copy
/// the parent's values, as LXC does.
fn inherit_cpuset(h: &Hierarchy, dir: &Path) -> Result<()> {
    if h.unified || !h.controllers.iter().any(|c| c == "cpuset") {
        return Ok(());
    }
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let own = dir.join(file);
        let current = std::fs::read_to_string(&own).unwrap_or_default();
        if !current.trim().is_empty() {
            continue;
        }
        let parent_value = dir
            .ancestors()
            .skip(1)
            .take_while(|p| p.starts_with(&h.mountpoint))
            .filter_map(|p| std::fs::read_to_string(p.join(file)).ok())
            .find(|v| !v.trim().is_empty())
            .unwrap_or_default();
        std::fs::write(&own, parent_value.trim())
            .map_err(|e| Error::io("Failed to initialise", &own, &e))?;
    }
    Ok(())
}

/// The cgroup directories of one container, one per hierarchy.
#[derive(Debug, Clone, Default)]
pub struct ContainerCgroups {
    pub dirs: Vec<(Hierarchy, PathBuf)>,
}

/// The leaf name of a container's cgroup (LXC 6.0's naming).
pub fn payload_name(container: &str) -> String {
    format!("lxc.payload.{container}")
}

impl ContainerCgroups {
    /// Creates `lxc.payload.<name>` under the caller's cgroup of every
    /// hierarchy. An existing directory of that name (a leftover, or a
    /// container of the same name in another lxcpath) gets a "-N" suffix,
    /// as LXC does. On failure nothing created is left behind.
    pub fn create(hierarchies: &[Hierarchy], container: &str) -> Result<ContainerCgroups> {
        let base = payload_name(container);
        'suffix: for n in 0..100 {
            let leaf = if n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let mut made = ContainerCgroups::default();
            for h in hierarchies {
                let dir = h
                    .mountpoint
                    .join(h.current.trim_start_matches('/'))
                    .join(&leaf);
                match std::fs::create_dir(&dir) {
                    Ok(()) => {
                        made.dirs.push((h.clone(), dir.clone()));
                        if let Err(e) = inherit_cpuset(h, &dir) {
                            made.remove();
                            return Err(e);
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                        made.remove();
                        continue 'suffix;
                    }
                    Err(e) => {
                        made.remove();
                        return Err(Error::io("Failed to create cgroup", &dir, &e));
                    }
                }
            }
            return Ok(made);
        }
        Err(Error::new(
            libc::EEXIST,
            format!("Failed to create cgroup {base}: 100 leftovers exist"),
        ))
    }

    /// Moves `pid` into every cgroup of the container.
    pub fn attach(&self, pid: i32) -> Result<()> {
        for (h, dir) in &self.dirs {
            let file = if h.unified { "cgroup.procs" } else { "tasks" };
            let path = dir.join(file);
            std::fs::write(&path, pid.to_string())
                .map_err(|e| Error::io(&format!("Failed to move {pid} into"), &path, &e))?;
        }
        Ok(())
    }

    fn freezer(&self) -> Option<&PathBuf> {
        self.dirs
            .iter()
            .find(|(h, _)| h.controllers.iter().any(|c| c == "freezer"))
            .map(|(_, d)| d)
    }

    /// Freezes (true) or thaws (false) the container; v1 freezer when the
    /// host has it, `cgroup.freeze` on v2 otherwise.
    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        let (path, value) = if let Some(dir) = self.freezer() {
            (
                dir.join("freezer.state"),
                if frozen { "FROZEN" } else { "THAWED" },
            )
        } else if let Some((_, dir)) = self.dirs.iter().find(|(h, _)| h.unified) {
            (dir.join("cgroup.freeze"), if frozen { "1" } else { "0" })
        } else {
            return Err(Error::new(libc::ENOTSUP, "No freezer cgroup on this host"));
        };
        std::fs::write(&path, value).map_err(|e| Error::io("Failed to write", &path, &e))
    }

    /// Whether the freezer reports the container frozen.
    pub fn is_frozen(&self) -> bool {
        if let Some(dir) = self.freezer() {
            return std::fs::read_to_string(dir.join("freezer.state"))
                .map(|s| s.trim() == "FROZEN")
                .unwrap_or(false);
        }
        self.dirs
            .iter()
            .find(|(h, _)| h.unified)
            .and_then(|(_, d)| std::fs::read_to_string(d.join("cgroup.events")).ok())
            .is_some_and(|ev| ev.lines().any(|l| l == "frozen 1"))
    }

    /// Removes every directory (the processes are gone once init died;
    /// rmdir may briefly see EBUSY while the kernel reaps them).
    pub fn remove(&self) {
        for (_, dir) in &self.dirs {
            for attempt in 0..50 {
                match std::fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == ErrorKind::NotFound => break,
                    Err(e) => {
                        if attempt == 49 {
                            log::warn!("Failed to remove cgroup {}: {e}", dir.display());
                        }
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            }
        }
    }

    /// The path of one cgroup file of the container, for `lxc.cgroup.*`
    /// (v1, "<controller>.<file>") and `lxc.cgroup2.*` (v2) keys.
    pub fn file_path(&self, key: &str, unified: bool) -> Option<PathBuf> {
        let controller = key.split('.').next()?;
        self.dirs
            .iter()
            .find(|(h, _)| {
                if unified {
                    h.unified
                } else {
                    h.controllers.iter().any(|c| c == controller)
                }
            })
            .map(|(_, d)| d.join(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n\
30 29 0:26 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
31 29 0:27 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children\n\
32 29 0:28 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n\
33 29 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n\
34 29 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n\
35 29 0:31 /sub /mnt/bound rw,relatime - cgroup cgroup rw,memory\n";

    const PROC_CGROUP: &str = "9:name=systemd:/\n6:freezer:/\n3:cpuset:/\n1:cpu:/a/b\n0::/\n";

    #[test]
    fn hybrid_layout() {
        let hs = hierarchies_from(MOUNTINFO, PROC_CGROUP);
        assert_eq!(hs.len(), 5, "{hs:#?}");
        assert_eq!(hs[0].controllers, vec!["cpu"]);
        assert_eq!(hs[0].current, "/a/b");
        assert_eq!(hs[1].controllers, vec!["cpuset"]);
        assert_eq!(hs[3].controllers, vec!["name=systemd"]);
        assert!(hs[4].unified && hs[4].current == "/");
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/plain"), "/plain");
    }

    #[test]
    fn naming() {
        assert_eq!(payload_name("c1"), "lxc.payload.c1");
    }
}
