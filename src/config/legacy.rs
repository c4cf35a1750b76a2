//! Pre-3.0 key names. LXC 6.0 rejects them as unsupported; we reject them
//! too but say which key replaced them, which is what a user needs.

/// Renamed keys: (old, new). Matched exactly.
const RENAMED: &[(&str, &str)] = &[
    ("lxc.utsname", "lxc.uts.name"),
    ("lxc.rootfs", "lxc.rootfs.path"),
    ("lxc.id_map", "lxc.idmap"),
    ("lxc.pts", "lxc.pty.max"),
    ("lxc.tty", "lxc.tty.max"),
    ("lxc.devttydir", "lxc.tty.dir"),
    ("lxc.aa_profile", "lxc.apparmor.profile"),
    ("lxc.aa_allow_incomplete", "lxc.apparmor.allow_incomplete"),
    ("lxc.se_context", "lxc.selinux.context"),
    ("lxc.haltsignal", "lxc.signal.halt"),
    ("lxc.rebootsignal", "lxc.signal.reboot"),
    ("lxc.stopsignal", "lxc.signal.stop"),
    ("lxc.init_cmd", "lxc.init.cmd"),
    ("lxc.init_uid", "lxc.init.uid"),
    ("lxc.init_gid", "lxc.init.gid"),
    ("lxc.logfile", "lxc.log.file"),
    ("lxc.loglevel", "lxc.log.level"),
    ("lxc.syslog", "lxc.log.syslog"),
    ("lxc.mount", "lxc.mount.fstab"),
    ("lxc.console", "lxc.console.path"),
    ("lxc.seccomp", "lxc.seccomp.profile"),
    ("lxc.limit", "lxc.prlimit"),
    ("lxc.network", "lxc.net"),
];

/// Keys that were removed without a replacement.
const REMOVED: &[&str] = &["lxc.rootfs.backend", "lxc.pivotdir", "lxc.kmsg"];

/// Old network subkeys whose new spelling differs beyond the prefix.
const NET_SUBKEYS: &[(&str, &str)] = &[("ipv4", "ipv4.address"), ("ipv6", "ipv6.address")];

/// Rewrites "lxc.network[.N].sub" to "lxc.net.N.sub" (N defaults to 0,
/// the old unindexed syntax meant "the last interface").
fn network(key: &str) -> Option<String> {
    let rest = key.strip_prefix("lxc.network.")?;
    let (idx, sub) = match rest.split_once('.') {
        Some((i, s)) if i.bytes().all(|b| b.is_ascii_digit()) && !i.is_empty() => (i, s),
        _ if rest.bytes().all(|b| b.is_ascii_digit()) => return Some(format!("lxc.net.{rest}")),
        _ => ("0", rest),
    };
    let sub = NET_SUBKEYS
        .iter()
        .find(|(old, _)| *old == sub)
        .map_or(sub, |(_, new)| new);
    Some(format!("lxc.net.{idx}.{sub}"))
}

/// A hint naming the key that replaced a legacy `key`, if it is one.
pub fn replacement(key: &str) -> Option<String> {
    if let Some((_, new)) = RENAMED.iter().find(|(old, _)| *old == key) {
        return Some(format!("legacy key, use \"{new}\" instead"));
    }
    if REMOVED.contains(&key) {
        return Some("legacy key, removed in LXC 3.0".to_string());
    }
    if let Some(new) = network(key) {
        return Some(format!("legacy key, use \"{new}\" instead"));
    }
    if let Some(res) = key.strip_prefix("lxc.limit.") {
        return Some(format!("legacy key, use \"lxc.prlimit.{res}\" instead"));
    }
    None
}
