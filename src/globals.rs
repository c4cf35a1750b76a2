//! Global configuration items (`lxc_get_global_config_item`): read from
//! `lxc.conf` ("/etc/lxc/lxc.conf" for root, "~/.config/lxc/lxc.conf" for
//! other users), falling back to LXC's defaults.

use std::path::{Path, PathBuf};

/// The items `lxc_get_global_config_item` knows.
pub const GLOBAL_KEYS: &[&str] = &[
    "lxc.default_config",
    "lxc.lxcpath",
    "lxc.bdev.lvm.vg",
    "lxc.bdev.lvm.thin_pool",
    "lxc.bdev.zfs.root",
    "lxc.bdev.rbd.rbdpool",
    "lxc.bdev.rbd.rbduser",
    "lxc.cgroup.pattern",
    "lxc.cgroup.use",
];

/// Where the caller's global files live: root uses the system paths, other
/// users their home directory (as LXC does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalPaths {
    pub lxc_conf: PathBuf,
    pub default_lxcpath: String,
    pub default_config: String,
}

impl GlobalPaths {
    pub fn for_user(euid: u32, home: Option<&str>) -> Self {
        if euid == 0 {
            return GlobalPaths {
                lxc_conf: PathBuf::from("/etc/lxc/lxc.conf"),
                default_lxcpath: "/var/lib/lxc".into(),
                default_config: "/etc/lxc/default.conf".into(),
            };
        }
        let home = home.filter(|h| !h.is_empty()).unwrap_or("/");
        let home = home.trim_end_matches('/');
        GlobalPaths {
            lxc_conf: PathBuf::from(format!("{home}/.config/lxc/lxc.conf")),
            default_lxcpath: format!("{home}/.local/share/lxc"),
            default_config: format!("{home}/.config/lxc/default.conf"),
        }
    }

    /// The paths of the calling process.
    pub fn current() -> Self {
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        Self::for_user(euid, std::env::var("HOME").ok().as_deref())
    }
}

/// LXC's built-in value of `key` when lxc.conf does not set it; `None` for
/// items that have no default. Unknown keys are `Err`.
fn default_value(key: &str, paths: &GlobalPaths) -> Result<Option<String>, ()> {
    Ok(match key {
        "lxc.default_config" => Some(paths.default_config.clone()),
        "lxc.lxcpath" => Some(paths.default_lxcpath.clone()),
        "lxc.bdev.lvm.vg" | "lxc.bdev.lvm.thin_pool" | "lxc.bdev.zfs.root" => Some("lxc".into()),
        "lxc.bdev.rbd.rbdpool" => Some("lxc".into()),
        "lxc.bdev.rbd.rbduser" | "lxc.cgroup.pattern" | "lxc.cgroup.use" => None,
        _ => return Err(()),
    })
}

/// Finds `key` in the text of an lxc.conf: "key = value" lines, leading
/// whitespace and '#' comments ignored, the last occurrence wins.
/// Unlike LXC 5.0 we drop trailing whitespace, which LXC keeps inside the
/// value (turning "vg0 " into a volume group that cannot exist).
pub fn lookup_in_text(text: &str, key: &str) -> Option<String> {
    text.lines().rev().find_map(|line| {
        let line = line.trim_start();
        if line.starts_with('#') {
            return None;
        }
        let (k, v) = line.split_once('=')?;
        (k.trim_end() == key).then(|| v.trim().to_string())
    })
}

/// The value of a global item, or `Err(EINVAL)` for an unknown key.
pub fn global_config_value(key: &str, paths: &GlobalPaths) -> Result<Option<String>, i32> {
    let default = default_value(key, paths).map_err(|_| libc::EINVAL)?;
    let configured = read_lxc_conf(&paths.lxc_conf).and_then(|text| lookup_in_text(&text, key));
    let value = configured.or(default);
    Ok(match (key, value) {
        // lxcpaths are compared and hashed as strings (command socket
        // names), so the trailing slashes must go.
        ("lxc.lxcpath", Some(v)) => Some(strip_trailing_slashes(&v)),
        (_, v) => v,
    })
}

/// A missing or unreadable lxc.conf (a FIFO, a device, a huge file)
/// leaves the defaults.
fn read_lxc_conf(path: &Path) -> Option<String> {
    crate::sys::read_regular_text(path).ok()
}

/// "/a/b//" -> "/a/b"; "/" stays "/".
pub fn strip_trailing_slashes(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() && path.starts_with('/') {
        "/".into()
    } else {
        trimmed.into()
    }
}

/// The default lxcpath of the calling process.
pub fn default_lxcpath() -> String {
    let paths = GlobalPaths::current();
    global_config_value("lxc.lxcpath", &paths)
        .ok()
        .flatten()
        .unwrap_or(paths.default_lxcpath)
}

/// LXC's run directory: /run when it belongs to us, else
/// $XDG_RUNTIME_DIR, else ~/.cache/lxc/run.
pub fn rundir() -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid/getegid have no preconditions.
    let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if let Ok(m) = std::fs::metadata("/run") {
        if m.uid() == euid || m.gid() == egid {
            return PathBuf::from("/run");
        }
    }
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR") {
        return PathBuf::from(x);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/".into());
    Path::new(&home).join(".cache/lxc/run")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_root_and_user() {
        let root = GlobalPaths::for_user(0, Some("/root"));
        let no_conf = GlobalPaths {
            lxc_conf: "/nonexistent/lxc.conf".into(),
            ..root.clone()
        };
        let get = |k| global_config_value(k, &no_conf).unwrap();
        assert_eq!(get("lxc.lxcpath").as_deref(), Some("/var/lib/lxc"));
        assert_eq!(
            get("lxc.default_config").as_deref(),
            Some("/etc/lxc/default.conf")
        );
        assert_eq!(get("lxc.bdev.lvm.vg").as_deref(), Some("lxc"));
        assert_eq!(get("lxc.cgroup.pattern"), None);
        assert_eq!(global_config_value("bogus", &no_conf), Err(libc::EINVAL));

        let user = GlobalPaths::for_user(1000, Some("/home/u/"));
        assert_eq!(user.default_lxcpath, "/home/u/.local/share/lxc");
        assert_eq!(user.default_config, "/home/u/.config/lxc/default.conf");
        assert_eq!(user.lxc_conf, PathBuf::from("/home/u/.config/lxc/lxc.conf"));
    }

    #[test]
    fn lxc_conf_parsing() {
        let text = "lxc.lxcpath = /tmp/foo//\n  # lxc.bdev.zfs.root = x\n\
                    lxc.bdev.zfs.root=zz\n lxc.bdev.lvm.vg = myvg   \nlxc.bdev.zfs.root = last\n";
        assert_eq!(
            lookup_in_text(text, "lxc.bdev.zfs.root").as_deref(),
            Some("last")
        );
        assert_eq!(
            lookup_in_text(text, "lxc.bdev.lvm.vg").as_deref(),
            Some("myvg")
        );
        assert_eq!(lookup_in_text(text, "lxc.cgroup.use"), None);

        let dir = std::env::temp_dir().join(format!("lxc-globals-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("lxc.conf");
        std::fs::write(&conf, text).unwrap();
        let paths = GlobalPaths {
            lxc_conf: conf,
            ..GlobalPaths::for_user(0, None)
        };
        assert_eq!(
            global_config_value("lxc.lxcpath", &paths)
                .unwrap()
                .as_deref(),
            Some("/tmp/foo")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn slashes() {
        assert_eq!(strip_trailing_slashes("/a/b//"), "/a/b");
        assert_eq!(strip_trailing_slashes("///"), "/");
        assert_eq!(strip_trailing_slashes("rel/"), "rel");
    }
}
