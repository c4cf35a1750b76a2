//! `lxc.mount.entry` / fstab lines: parsing and the mount flags they mean.

use super::options::IdmapSource;
use crate::error::{Error, Result};

/// One fstab-format entry: "source target fstype [options [dump [pass]]]".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub source: String,
    /// Inside the rootfs (a leading '/' is stripped, as LXC does), where
    /// the container sees it: its symlinks followed and `..` stopping at
    /// its root.
    pub target: String,
    pub fstype: String,
    pub flags: libc::c_ulong,
    /// Options that are not flags, passed to the filesystem.
    pub data: String,
    /// LXC's own options.
    pub create_dir: bool,
    pub create_file: bool,
    pub optional: bool,
    /// `relative`: `source` is a path inside the rootfs.
    pub relative: bool,
    /// `idmap=container|<user ns path>`: the bind is an idmapped mount.
    pub idmap: Option<IdmapSource>,
}

const FLAG_OPTIONS: &[(&str, libc::c_ulong, bool)] = &[
    ("defaults", 0, false),
    ("ro", libc::MS_RDONLY, false),
    ("rw", libc::MS_RDONLY, true),
    ("nosuid", libc::MS_NOSUID, false),
    ("suid", libc::MS_NOSUID, true),
    ("nodev", libc::MS_NODEV, false),
    ("dev", libc::MS_NODEV, true),
    ("noexec", libc::MS_NOEXEC, false),
    ("exec", libc::MS_NOEXEC, true),
    ("sync", libc::MS_SYNCHRONOUS, false),
    ("async", libc::MS_SYNCHRONOUS, true),
    ("remount", libc::MS_REMOUNT, false),
    ("mand", libc::MS_MANDLOCK, false),
    ("nomand", libc::MS_MANDLOCK, true),
    ("dirsync", libc::MS_DIRSYNC, false),
    ("noatime", libc::MS_NOATIME, false),
    ("atime", libc::MS_NOATIME, true),
    ("nodiratime", libc::MS_NODIRATIME, false),
    ("diratime", libc::MS_NODIRATIME, true),
    ("bind", libc::MS_BIND, false),
    ("rbind", libc::MS_BIND | libc::MS_REC, false),
    ("relatime", libc::MS_RELATIME, false),
    ("norelatime", libc::MS_RELATIME, true),
    ("strictatime", libc::MS_STRICTATIME, false),
    ("private", libc::MS_PRIVATE, false),
    ("rprivate", libc::MS_PRIVATE | libc::MS_REC, false),
    ("slave", libc::MS_SLAVE, false),
    ("rslave", libc::MS_SLAVE | libc::MS_REC, false),
    ("shared", libc::MS_SHARED, false),
    ("rshared", libc::MS_SHARED | libc::MS_REC, false),
    ("unbindable", libc::MS_UNBINDABLE, false),
    ("runbindable", libc::MS_UNBINDABLE | libc::MS_REC, false),
];

/// The MS_* flag an fstab option names, and whether the option clears it
/// ("rw", "exec"...) rather than sets it; None for filesystem options.
pub fn flag_option(opt: &str) -> Option<(libc::c_ulong, bool)> {
    FLAG_OPTIONS
        .iter()
        .find(|(n, _, _)| *n == opt)
        .map(|(_, flag, clear)| (*flag, *clear))
}

/// Propagation flags must be applied in a separate mount call.
pub const PROPAGATION: libc::c_ulong =
    libc::MS_PRIVATE | libc::MS_SLAVE | libc::MS_SHARED | libc::MS_UNBINDABLE;

impl MountEntry {
    /// `source` on `target` (inside the rootfs, any leading `/` dropped) as
    /// `fstype`, with no flags and no options.
    pub fn new(source: &str, target: &str, fstype: &str) -> MountEntry {
        MountEntry {
            source: source.to_string(),
            target: target.trim_start_matches('/').to_string(),
            fstype: fstype.to_string(),
            flags: 0,
            data: String::new(),
            create_dir: false,
            create_file: false,
            optional: false,
            relative: false,
            idmap: None,
        }
    }

    pub fn parse(line: &str) -> Result<MountEntry> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // As getmntent, which LXC reads entries with: options may be left out.
        if fields.len() < 3 {
            return Err(Error::invalid(format!(
                "Invalid mount entry \"{line}\": want \"source target fstype [options]\""
            )));
        }
        let mut entry = MountEntry::new(fields[0], fields[1], fields[2]);
        let mut data = Vec::new();
        let options = fields.get(3).copied().unwrap_or_default();
        for opt in options.split(',').filter(|o| !o.is_empty()) {
            match opt {
                "create=dir" => entry.create_dir = true,
                "create=file" => entry.create_file = true,
                "optional" => entry.optional = true,
                "relative" => entry.relative = true,
                _ if opt.starts_with("idmap=") => {
                    entry.idmap = Some(IdmapSource::parse(&opt[6..], "lxc.mount.entry")?);
                }
                _ => match flag_option(opt) {
                    Some((flag, true)) => entry.flags &= !flag,
                    Some((flag, false)) => entry.flags |= flag,
                    None => data.push(opt),
                },
            }
        }
        entry.data = data.join(",");
        if entry.idmap.is_some() {
            // LXC's limits on idmapped entries.
            if !entry.is_bind() || !matches!(entry.fstype.as_str(), "" | "none") {
                return Err(Error::invalid(format!(
                    "Invalid mount entry \"{line}\": only bind mounts can be idmapped"
                )));
            }
            if !entry.data.is_empty() {
                return Err(Error::invalid(format!(
                    "Invalid mount entry \"{line}\": an idmapped bind mount takes no filesystem options"
                )));
            }
        }
        Ok(entry)
    }

    pub fn is_bind(&self) -> bool {
        self.flags & libc::MS_BIND != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idmapped_entries() {
        let e = MountEntry::parse("/srv/d srv none rbind,idmap=container,create=dir 0 0").unwrap();
        assert_eq!(e.idmap, Some(IdmapSource::Container));
        assert!(e.is_bind() && e.flags & libc::MS_REC != 0 && e.data.is_empty());
        let e = MountEntry::parse("/srv/d srv none bind,idmap=/proc/7/ns/user 0 0").unwrap();
        assert_eq!(e.idmap, Some(IdmapSource::Path("/proc/7/ns/user".into())));
        assert_eq!(MountEntry::parse("/a a none bind 0 0").unwrap().idmap, None);
        for bad in [
            "/a a none bind,idmap= 0 0",
            "tmpfs a tmpfs idmap=container 0 0",
            "/a a ext4 bind,idmap=container 0 0",
            "/a a none bind,idmap=container,size=1m 0 0",
        ] {
            assert!(MountEntry::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn busybox_entries() {
        let e = MountEntry::parse("/lib lib none ro,bind 0 0").unwrap();
        assert_eq!(e.target, "lib");
        assert!(e.is_bind());
        assert_eq!(e.flags & libc::MS_RDONLY, libc::MS_RDONLY);
        let e = MountEntry::parse("shm dev/shm tmpfs defaults,create=dir 0 0").unwrap();
        assert!(e.create_dir && !e.optional && e.flags == 0);
        let e =
            MountEntry::parse("mqueue /dev/mqueue mqueue defaults,optional,create=dir").unwrap();
        assert!(e.optional);
        assert_eq!(e.target, "dev/mqueue");
        let e = MountEntry::parse("tmpfs tmp tmpfs size=10m,mode=1777,nosuid 0 0").unwrap();
        assert_eq!(e.data, "size=10m,mode=1777");
        assert_eq!(e.flags, libc::MS_NOSUID);
    }

    #[test]
    fn rejects() {
        assert!(MountEntry::parse("a b").is_err());
    }

    /// fstab rules: no options is "defaults", no dump and pass are 0.
    #[test]
    fn three_fields() {
        let e = MountEntry::parse("proc proc proc").unwrap();
        assert_eq!((e.source.as_str(), e.target.as_str()), ("proc", "proc"));
        assert_eq!(e.fstype, "proc");
        assert!(e.flags == 0 && e.data.is_empty() && !e.optional);
    }

    /// `..` is resolved inside the rootfs at start (it stops at its root).
    #[test]
    fn relative_source_and_dotdot_target() {
        let e = MountEntry::parse("dev/null proc/kcore none bind,relative 0 0").unwrap();
        assert!(e.relative && e.is_bind());
        assert!(e.data.is_empty());
        let e = MountEntry::parse("/x ../../etc none bind 0 0").unwrap();
        assert_eq!(e.target, "../../etc");
        assert!(!e.relative);
    }
}
