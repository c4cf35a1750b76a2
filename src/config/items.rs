//! Handlers for the scalar top-level keys: strings, paths, numbers,
//! booleans, signals, sizes. Each setter validates before it writes, so a
//! failed set leaves the configuration untouched (LXC sometimes stores a
//! bad value before rejecting it; see docs/differences.md).

use super::model::{LxcConf, AUTODEV_TMPFS_SIZE_DEFAULT, LOG_LEVEL_NOTSET};
use super::validate::{
    parse_arch, parse_byte_size, path_simplify, safe_int, safe_int64_residual, safe_uint,
    sig_parse, LOG_LEVELS, NAMESPACES, SYSLOG_FACILITIES,
};
use super::ConfigError;

const PATH_MAX: usize = 4096;
const NAME_MAX: usize = 255;
/// `struct utsname` nodename size.
const UTS_LEN: usize = 65;
/// `sizeof(struct sockaddr_un.sun_path)`.
const SUN_PATH: usize = 108;

pub fn einval(msg: impl Into<String>) -> ConfigError {
    ConfigError::new(libc::EINVAL, msg)
}

/// `set_config_string_item`: empty means unset.
pub fn string_item(v: &str) -> Option<String> {
    (!v.is_empty()).then(|| v.to_string())
}

/// `set_config_path_item`: simplified, shorter than PATH_MAX.
pub fn path_item(v: &str) -> Result<Option<String>, ConfigError> {
    let p = path_simplify(v);
    if p.len() >= PATH_MAX {
        return Err(ConfigError::new(
            libc::ENAMETOOLONG,
            format!("{p} is too long (>= {PATH_MAX})"),
        ));
    }
    Ok(string_item(&p))
}

/// An unsigned flag in `0..=max`; empty resets to `empty`.
pub fn bounded_uint(v: &str, max: u32, empty: u32) -> Result<u32, ConfigError> {
    if v.is_empty() {
        return Ok(empty);
    }
    let n = safe_uint(v)?;
    if n > max {
        return Err(einval(format!("Value \"{v}\" must be between 0 and {max}")));
    }
    Ok(n)
}

/// `set_config_bool_item`: "0"/"1" (any spelling `lxc_safe_uint` reads).
pub fn bool_item(v: &str, empty: bool) -> Result<bool, ConfigError> {
    Ok(if v.is_empty() {
        empty
    } else {
        bounded_uint(v, 1, 0)? == 1
    })
}

/// Optional string as `lxc_get_conf_str` prints it (NULL -> "").
pub fn show(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

/// Optional string as `strprint("%s", NULL)` prints it with glibc.
pub fn show_or_null(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "(null)".to_string())
}

pub fn set_arch(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    c.personality =
        Some(parse_arch(v).ok_or_else(|| einval(format!("Unsupported personality \"{v}\"")))?);
    Ok(())
}

pub fn get_arch(c: &LxcConf) -> String {
    use super::model::Personality;
    match c.personality {
        Some(Personality::Linux32) => "i686".into(),
        Some(Personality::Linux) => "x86_64".into(),
        None => String::new(),
    }
}

pub fn set_autodev_tmpfs_size(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    // LXC never fails here: anything unparsable means the default.
    c.autodev_tmpfs_size = if v.is_empty() {
        AUTODEV_TMPFS_SIZE_DEFAULT
    } else {
        safe_int(v).unwrap_or(AUTODEV_TMPFS_SIZE_DEFAULT)
    };
    Ok(())
}

/// Checks shared by the `lxc.cgroup.dir*` keys.
fn relative_cgroup_path(key: &str, v: &str) -> Result<(), ConfigError> {
    if v.starts_with('/') {
        return Err(einval(format!("{key} paths may not be absolute")));
    }
    if v.contains("..") {
        return Err(einval(format!(
            "{key} paths may not walk upwards via \"../\""
        )));
    }
    Ok(())
}

pub fn cgroup_dir_value(key: &str, v: &str) -> Result<Option<String>, ConfigError> {
    if v.is_empty() {
        return Ok(None);
    }
    relative_cgroup_path(key, v)?;
    path_item(v)
}

pub fn cgroup_inner_dir_value(key: &str, v: &str) -> Result<Option<String>, ConfigError> {
    if v.is_empty() {
        return Ok(None);
    }
    if v.starts_with('/') {
        return Err(einval(format!("{key} paths may not be absolute")));
    }
    if v.contains('/') || v == "." || v == ".." {
        return Err(einval(
            "lxc.cgroup.dir.container.inner must be a single directory name",
        ));
    }
    Ok(string_item(v))
}

/// `lxc.console.size` / `lxc.console.buffer.size`: "auto" is 128 KiB,
/// otherwise at least a page, rounded up to a power of two.
pub fn console_size(v: &str) -> Result<u64, ConfigError> {
    if v.is_empty() {
        return Ok(0);
    }
    if v == "auto" {
        return Ok(1 << 17);
    }
    let size = parse_byte_size(v)?;
    let size = u64::try_from(size).map_err(|_| einval(format!("Invalid size \"{v}\"")))?;
    let page = crate::sys::page_size() as u64;
    let size = size.max(page);
    size.checked_next_power_of_two()
        .ok_or_else(|| einval(format!("Invalid size \"{v}\"")))
}

pub fn set_log_level(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.log_level = LOG_LEVEL_NOTSET;
        return Ok(());
    }
    let level = if v.as_bytes()[0].is_ascii_digit() {
        safe_int(v).map_err(|_| einval(format!("Invalid log level \"{v}\"")))?
    } else {
        LOG_LEVELS
            .iter()
            .position(|n| n.eq_ignore_ascii_case(v))
            .map_or(LOG_LEVEL_NOTSET, |i| i as i32)
    };
    if !(0..LOG_LEVEL_NOTSET).contains(&level) {
        return Err(einval(format!("Invalid log priority {level}")));
    }
    c.log_level = level;
    Ok(())
}

pub fn get_log_level(c: &LxcConf) -> String {
    usize::try_from(c.log_level)
        .ok()
        .and_then(|i| LOG_LEVELS.get(i))
        .copied()
        .unwrap_or("NOTSET")
        .to_string()
}

pub fn set_log_syslog(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if !v.is_empty() && !SYSLOG_FACILITIES.iter().any(|f| f.eq_ignore_ascii_case(v)) {
        return Err(einval(format!("Invalid syslog facility \"{v}\"")));
    }
    c.log_syslog = string_item(v);
    Ok(())
}

pub fn signal(v: &str) -> Result<i32, ConfigError> {
    if v.is_empty() {
        Ok(0)
    } else {
        sig_parse(v)
    }
}

pub fn set_uts_name(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.len() >= UTS_LEN {
        return Err(einval(format!("Hostname \"{v}\" is too long")));
    }
    c.uts_name = string_item(v);
    Ok(())
}

pub fn set_tty_dir(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.len() > NAME_MAX {
        return Err(ConfigError::new(
            libc::ENAMETOOLONG,
            format!("{v} is too long (>= {})", NAME_MAX + 1),
        ));
    }
    c.tty_dir = string_item(v);
    Ok(())
}

pub fn set_rootfs_path(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        // The storage type is left alone, as LXC does.
        c.rootfs_path = None;
        return Ok(());
    }
    match v.split_once(':') {
        Some((bdev, path)) => {
            let bdev = path_item(bdev)?;
            let path = path_item(path)?;
            c.rootfs_bdev_type = bdev;
            c.rootfs_path = path;
        }
        None => c.rootfs_path = path_item(v)?,
    }
    Ok(())
}

/// `lxc.rootfs.options`: generic mount options; the LXC-specific ones that
/// make no sense for the rootfs are refused.
pub fn set_rootfs_options(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.rootfs_options = None;
        return Ok(());
    }
    for bad in ["create=dir", "create=file", "optional", "relative"] {
        if v.contains(bad) {
            return Err(einval("Invalid LXC specific mount option for rootfs mount"));
        }
    }
    if let Some(pos) = v.find("idmap=") {
        let rest = &v[pos + "idmap=".len()..];
        let path = rest.split(',').next().unwrap_or("");
        if path.is_empty() {
            return Err(einval(
                "Missing idmap path for \"idmap=<path>\" LXC specific mount option",
            ));
        }
        // Never a plain open: a FIFO planted there would block the load.
        if path != "container" {
            if let Err(e) = crate::sys::open_regular(std::path::Path::new(path), libc::O_RDONLY) {
                return Err(ConfigError::new(
                    libc::ENOENT,
                    format!("Failed to open user namespace {path}: {}", e.message),
                ));
            }
        }
    }
    c.rootfs_options = Some(v.to_string());
    Ok(())
}

pub fn set_seccomp_notify_proxy(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.seccomp_notify_proxy = None;
        return Ok(());
    }
    let bad = || einval(format!("Invalid seccomp notify proxy \"{v}\""));
    let path = v.strip_prefix("unix:").ok_or_else(bad)?;
    if !(path.starts_with('/') || path.starts_with('@')) || path.len() < 2 {
        return Err(bad());
    }
    if path.len() + 1 > SUN_PATH {
        return Err(bad());
    }
    c.seccomp_notify_proxy = Some(path.to_string());
    Ok(())
}

pub fn get_seccomp_notify_proxy(c: &LxcConf) -> String {
    match &c.seccomp_notify_proxy {
        Some(p) if p.starts_with('/') => p.clone(),
        // Abstract sockets are shown without their leading '@'.
        Some(p) => p.get(1..).unwrap_or("").to_string(),
        None => String::new(),
    }
}

/// `lxc.time.offset.*`: "<n><unit>" with unit h, m, s, ms, us or ns
/// (at most two bytes of residue after the number, spaces included).
/// Returns (seconds, nanoseconds) updates: `None` leaves a field alone.
pub fn time_offset(v: &str) -> Result<(Option<i64>, Option<i64>), ConfigError> {
    let (n, unit) = safe_int64_residual(v, 3)?;
    let overflow = || ConfigError::new(libc::EOVERFLOW, format!("Time offset \"{v}\" overflows"));
    let mul = |m: i64| n.checked_mul(m).ok_or_else(overflow);
    Ok(match unit.trim_matches([' ', '\t', '\n']) {
        "h" => (Some(mul(3600)?), None),
        "m" => (Some(mul(60)?), None),
        "s" => (Some(n), None),
        "ms" => (None, Some(mul(1_000_000)?)),
        "us" => (None, Some(mul(1000)?)),
        "ns" => (None, Some(n)),
        _ => return Err(einval(format!("Invalid time offset unit in \"{v}\""))),
    })
}

pub fn show_time_offset(s: i64, ns: i64) -> String {
    if s != 0 {
        format!("{s}s")
    } else {
        format!("{ns}ns")
    }
}

/// `lxc.namespace.share.<ns>`: index of `<ns>` (exact, lowercase).
pub fn share_index(key: &str) -> Result<usize, ConfigError> {
    let ns = key.strip_prefix("lxc.namespace.share.").unwrap_or("");
    NAMESPACES
        .iter()
        .position(|(n, _)| *n == ns)
        .ok_or_else(|| einval(format!("Invalid namespace name \"{ns}\"")))
}

/// `lxc.namespace.clone`/`keep`: whitespace separated names, any case.
pub fn namespace_flags(v: &str) -> Result<i32, ConfigError> {
    let mut flags = 0;
    for tok in v.split([' ', '\t']).filter(|t| !t.is_empty()) {
        let f = NAMESPACES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(tok))
            .map(|(_, f)| *f)
            .ok_or_else(|| einval(format!("Invalid namespace name \"{tok}\"")))?;
        flags |= f;
    }
    Ok(flags)
}

pub fn show_namespaces(flags: i32) -> String {
    let mut out = String::new();
    for (name, f) in NAMESPACES {
        if flags & f != 0 {
            out.push_str(name);
            out.push('\n');
        }
    }
    out
}
