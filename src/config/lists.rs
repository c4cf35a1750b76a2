//! Handlers for the keys that accumulate entries (capabilities, hooks,
//! cgroup items, limits, mounts, ...). An empty value clears the list.

use super::items::einval;
use super::model::{automount as am, CgroupItem, IdMap, LxcConf, Rlimit, HOOK_NAMES};
use super::validate::{is_c_space, parse_cap, safe_uint, safe_ulong, strtoull10};
use super::ConfigError;

/// One entry per line, each followed by '\n' (LXC's "%s\n" lists).
pub fn lines<'a, I: IntoIterator<Item = &'a String>>(items: I) -> String {
    let mut out = String::new();
    for s in items {
        out.push_str(s);
        out.push('\n');
    }
    out
}

fn tokens(v: &str) -> impl Iterator<Item = &str> {
    v.split([' ', '\t']).filter(|t| !t.is_empty())
}

/// `lxc.cap.drop`: names or numbers; "none" is only valid for keep.
pub fn set_cap_drop(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.caps.clear();
        c.caps_keep = false;
        return Ok(());
    }
    if c.caps_keep {
        return Err(einval(
            "Keeping and dropping capabilities are mutually exclusive",
        ));
    }
    let mut new = Vec::new();
    for tok in tokens(v) {
        if tok == "none" {
            return Err(einval(
                "The \"none\" keyword is only valid when keeping caps",
            ));
        }
        new.push((tok.to_string(), parse_cap(tok)?));
    }
    c.caps.extend(new);
    c.caps_keep = false;
    Ok(())
}

/// `lxc.cap.keep`: like drop, "none" empties the list (keeping nothing).
pub fn set_cap_keep(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.caps.clear();
        c.caps_keep = false;
        return Ok(());
    }
    if !c.caps_keep && !c.caps.is_empty() {
        return Err(einval(
            "Keeping and dropping capabilities are mutually exclusive",
        ));
    }
    let mut caps = c.caps.clone();
    for tok in tokens(v) {
        if tok == "none" {
            caps.clear();
            continue;
        }
        caps.push((tok.to_string(), parse_cap(tok)?));
    }
    c.caps = caps;
    c.caps_keep = true;
    Ok(())
}

pub fn get_caps(c: &LxcConf, keep: bool) -> String {
    if c.caps_keep != keep {
        return String::new();
    }
    lines(c.caps.iter().map(|(n, _)| n))
}

/// Which cgroup list a `lxc.cgroup*` key addresses.
fn cgroup_list(c: &mut LxcConf, v2: bool) -> &mut Vec<CgroupItem> {
    if v2 {
        &mut c.cgroup2
    } else {
        &mut c.cgroup
    }
}

fn cgroup_tokens(v2: bool) -> (&'static str, &'static str) {
    if v2 {
        ("lxc.cgroup2", "lxc.cgroup2.")
    } else {
        ("lxc.cgroup", "lxc.cgroup.")
    }
}

/// `lxc_clear_cgroups`: the whole list or one controller file.
pub fn clear_cgroups(c: &mut LxcConf, key: &str, v2: bool) -> Result<(), ConfigError> {
    let (global, prefix) = cgroup_tokens(v2);
    if key == global {
        cgroup_list(c, v2).clear();
        return Ok(());
    }
    let sub = key
        .strip_prefix(prefix)
        .ok_or_else(|| einval(format!("Invalid cgroup key \"{key}\"")))?;
    cgroup_list(c, v2).retain(|i| i.subsystem != sub);
    Ok(())
}

pub fn set_cgroup(c: &mut LxcConf, key: &str, v: &str, v2: bool) -> Result<(), ConfigError> {
    if v.is_empty() {
        return clear_cgroups(c, key, v2);
    }
    let (_, prefix) = cgroup_tokens(v2);
    let sub = key
        .strip_prefix(prefix)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| einval(format!("Invalid cgroup key \"{key}\"")))?;
    cgroup_list(c, v2).push(CgroupItem {
        subsystem: sub.to_string(),
        value: v.to_string(),
    });
    Ok(())
}

/// "lxc.cgroup" lists "key = value" lines, "lxc.cgroup.<file>" the values.
pub fn get_cgroup(c: &LxcConf, key: &str, v2: bool) -> Result<String, ConfigError> {
    let (global, prefix) = cgroup_tokens(v2);
    let list = if v2 { &c.cgroup2 } else { &c.cgroup };
    let mut out = String::new();
    if key == global {
        for i in list {
            out.push_str(&format!("{global}.{} = {}\n", i.subsystem, i.value));
        }
        return Ok(out);
    }
    let sub = key
        .strip_prefix(prefix)
        .ok_or_else(|| einval(format!("Invalid cgroup key \"{key}\"")))?;
    for i in list.iter().filter(|i| i.subsystem == sub) {
        out.push_str(&i.value);
        out.push('\n');
    }
    Ok(out)
}

/// Hook index of "lxc.hook.<name>".
fn hook_index(key: &str) -> Option<usize> {
    let name = key.strip_prefix("lxc.hook.")?;
    HOOK_NAMES.iter().position(|n| *n == name)
}

/// `lxc_clear_hooks`: "lxc.hook" clears all of them.
pub fn clear_hooks(c: &mut LxcConf, key: &str) -> Result<(), ConfigError> {
    if key == "lxc.hook" {
        c.hooks.iter_mut().for_each(Vec::clear);
        return Ok(());
    }
    let i = hook_index(key).ok_or_else(|| einval(format!("Invalid hook key: {key}")))?;
    c.hooks[i].clear();
    Ok(())
}

pub fn set_hook(c: &mut LxcConf, key: &str, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        return clear_hooks(c, key);
    }
    if key == "lxc.hook" {
        return Err(einval("lxc.hook must not have a value"));
    }
    let i = hook_index(key).ok_or_else(|| einval(format!("Invalid hook key: {key}")))?;
    c.hooks[i].push(v.to_string());
    Ok(())
}

pub fn get_hook(c: &LxcConf, key: &str) -> Result<String, ConfigError> {
    // LXC takes the text after the second dot, so "lxc.hook" has none.
    let i = hook_index(key).ok_or_else(|| einval(format!("Invalid hook key: {key}")))?;
    Ok(lines(&c.hooks[i]))
}

/// `parse_idmaps`: "u|g <nsid> <hostid> <range>", whitespace separated.
pub fn parse_idmap(v: &str) -> Result<IdMap, ConfigError> {
    let bad = || einval(format!("Failed to parse id mappings \"{v}\""));
    let is_ws = |c: char| c == ' ' || c == '\t' || c == '\r';
    let s = v.trim_start_matches(is_ws);
    let mut chars = s.chars();
    let kind = chars
        .next()
        .filter(|k| *k == 'u' || *k == 'g')
        .ok_or_else(bad)?;
    let rest = chars.as_str();
    if !rest.starts_with(is_ws) {
        return Err(bad());
    }
    if rest
        .trim_end_matches(|c| is_ws(c) || c == '\n')
        .contains('\n')
    {
        return Err(bad());
    }
    let fields: Vec<&str> = rest
        .trim_end_matches(|c| is_ws(c) || c == '\n')
        .split(is_ws)
        .filter(|f| !f.is_empty())
        .collect();
    let [nsid, hostid, range] = fields.as_slice() else {
        return Err(bad());
    };
    Ok(IdMap {
        kind,
        nsid: safe_ulong(nsid)?,
        hostid: safe_ulong(hostid)?,
        range: safe_ulong(range)?,
    })
}

pub fn get_idmaps(c: &LxcConf) -> String {
    c.idmaps
        .iter()
        .map(|m| format!("{} {} {} {}", m.kind, m.nsid, m.hostid, m.range))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `lxc.environment`: "KEY=VALUE", or "KEY" to pass the current value.
pub fn set_environment(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.environment.clear();
        return Ok(());
    }
    let (k, val) = match v.split_once('=') {
        Some((k, val)) => (k.to_string(), val.to_string()),
        None => {
            let val = std::env::var_os(v).ok_or_else(|| {
                ConfigError::new(
                    libc::ENOENT,
                    format!("Environment variable \"{v}\" is not set"),
                )
            })?;
            (v.to_string(), val.to_string_lossy().into_owned())
        }
    };
    c.environment.push((k, val));
    Ok(())
}

pub fn get_environment(c: &LxcConf) -> String {
    let mut out = String::new();
    for (k, v) in &c.environment {
        out.push_str(k);
        out.push('=');
        out.push_str(v);
        out.push('\n');
    }
    out
}

pub fn set_groups(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.groups.clear();
    } else {
        c.groups.extend(tokens(v).map(String::from));
    }
    Ok(())
}

/// `lxc.init.groups`: comma separated gids, appended.
pub fn set_init_groups(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.init_groups.clear();
        return Ok(());
    }
    let parts: Vec<&str> = v.split(',').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(einval(format!("No valid groups specified {v}")));
    }
    let gids = parts
        .iter()
        .map(|p| safe_uint(p))
        .collect::<Result<Vec<_>, _>>()?;
    c.init_groups.extend(gids);
    Ok(())
}

pub fn get_init_groups(c: &LxcConf) -> String {
    c.init_groups
        .iter()
        .map(|g| (*g as i32).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// `lxc_clear_limits`.
pub fn clear_prlimit(c: &mut LxcConf, key: &str) -> Result<(), ConfigError> {
    if key == "lxc.prlimit" {
        c.prlimits.clear();
        return Ok(());
    }
    let res = key
        .strip_prefix("lxc.prlimit.")
        .ok_or_else(|| einval(format!("Invalid prlimit key \"{key}\"")))?;
    c.prlimits.remove(res);
    Ok(())
}

/// One limit value: "unlimited" or a number as `strtoull` reads it.
fn limit_value(s: &str) -> Result<(u64, &str), ConfigError> {
    if let Some(rest) = s.strip_prefix("unlimited") {
        return Ok((u64::MAX, rest));
    }
    let (v, used) = strtoull10(s)?;
    Ok((v, &s[used..]))
}

/// `lxc.prlimit.<res>`: "soft[:hard]"; a single value sets both.
pub fn set_prlimit(c: &mut LxcConf, key: &str, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        return clear_prlimit(c, key);
    }
    let bad = || einval(format!("Invalid limit \"{v}\""));
    let res = key.strip_prefix("lxc.prlimit.").ok_or_else(bad)?;
    let skip = |s: &str| {
        s.trim_start_matches(|ch: char| ch.is_ascii() && is_c_space(ch as u8))
            .to_string()
    };
    let (soft, rest) = limit_value(v)?;
    let mut rest = skip(rest);
    if let Some(r) = rest.strip_prefix(':') {
        rest = r.to_string();
    } else if !rest.is_empty() {
        return Err(bad());
    }
    let rest = skip(&rest);
    let hard = if rest.is_empty() {
        soft
    } else {
        let (hard, tail) = limit_value(&rest)?;
        if !skip(tail).is_empty() {
            return Err(bad());
        }
        hard
    };
    c.prlimits.upsert(res, Rlimit { soft, hard });
    Ok(())
}

fn show_limit(l: &Rlimit) -> String {
    let one = |v: u64| {
        if v == u64::MAX {
            "unlimited".to_string()
        } else {
            v.to_string()
        }
    };
    if l.soft == l.hard {
        one(l.soft)
    } else {
        format!("{}:{}", one(l.soft), one(l.hard))
    }
}

pub fn get_prlimit(c: &LxcConf, key: &str) -> Result<String, ConfigError> {
    if key == "lxc.prlimit" {
        let mut out = String::new();
        for (res, l) in c.prlimits.iter() {
            out.push_str(&format!("lxc.prlimit.{res} = {}\n", show_limit(l)));
        }
        return Ok(out);
    }
    let res = key
        .strip_prefix("lxc.prlimit.")
        .ok_or_else(|| einval(format!("Invalid prlimit key \"{key}\"")))?;
    Ok(c.prlimits.get(res).map(show_limit).unwrap_or_default())
}

pub fn clear_sysctl(c: &mut LxcConf, key: &str) -> Result<(), ConfigError> {
    if key == "lxc.sysctl" {
        c.sysctls.clear();
        return Ok(());
    }
    let k = key
        .strip_prefix("lxc.sysctl.")
        .ok_or_else(|| ConfigError::new(libc::EPERM, format!("Invalid sysctl key \"{key}\"")))?;
    c.sysctls.remove(k);
    Ok(())
}

pub fn set_sysctl(c: &mut LxcConf, key: &str, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        return clear_sysctl(c, key);
    }
    let k = key
        .strip_prefix("lxc.sysctl.")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| einval(format!("Invalid sysctl key \"{key}\"")))?;
    c.sysctls.upsert(k, v.to_string());
    Ok(())
}

pub fn get_sysctl(c: &LxcConf, key: &str) -> Result<String, ConfigError> {
    if key == "lxc.sysctl" {
        let mut out = String::new();
        for (k, v) in c.sysctls.iter() {
            out.push_str(&format!("lxc.sysctl.{k} = {v}\n"));
        }
        return Ok(out);
    }
    let k = key
        .strip_prefix("lxc.sysctl.")
        .ok_or_else(|| einval(format!("Invalid sysctl key \"{key}\"")))?;
    Ok(c.sysctls.get(k).cloned().unwrap_or_default())
}

pub fn clear_proc(c: &mut LxcConf, key: &str) -> Result<(), ConfigError> {
    if key == "lxc.proc" {
        c.procs.clear();
        return Ok(());
    }
    let k = key
        .strip_prefix("lxc.proc.")
        .ok_or_else(|| ConfigError::new(libc::EPERM, format!("Invalid proc key \"{key}\"")))?;
    c.procs.retain(|(f, _)| f != k);
    Ok(())
}

pub fn set_proc(c: &mut LxcConf, key: &str, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        return clear_proc(c, key);
    }
    let k = key
        .strip_prefix("lxc.proc.")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| einval(format!("Invalid proc key \"{key}\"")))?;
    c.procs.push((k.to_string(), v.to_string()));
    Ok(())
}

pub fn get_proc(c: &LxcConf, key: &str) -> Result<String, ConfigError> {
    let mut out = String::new();
    if key == "lxc.proc" {
        for (k, v) in &c.procs {
            out.push_str(&format!("lxc.proc.{k} = {v}\n"));
        }
        return Ok(out);
    }
    let k = key
        .strip_prefix("lxc.proc.")
        .ok_or_else(|| einval(format!("Invalid proc key \"{key}\"")))?;
    // Duplicates are concatenated without a separator, as LXC prints them.
    for (_, v) in c.procs.iter().filter(|(f, _)| f == k) {
        out.push_str(v);
    }
    Ok(out)
}

/// `lxc.mount.auto` tokens: (name, mask, flags). Each cgroup token may also
/// carry a `:force` suffix (see `auto_mount_flags`); cgroup2 always forces.
const AUTO_MOUNTS: &[(&str, u32, u32)] = &[
    ("proc", am::PROC_MASK, am::PROC_MIXED),
    ("proc:mixed", am::PROC_MASK, am::PROC_MIXED),
    ("proc:rw", am::PROC_MASK, am::PROC_RW),
    ("sys", am::SYS_MASK, am::SYS_MIXED),
    ("sys:ro", am::SYS_MASK, am::SYS_RO),
    ("sys:mixed", am::SYS_MASK, am::SYS_MIXED),
    ("sys:rw", am::SYS_MASK, am::SYS_RW),
    (
        "cgroup2",
        am::CGROUP_MASK,
        am::CGROUP2_RW | am::CGROUP_FORCE,
    ),
    (
        "cgroup2:ro",
        am::CGROUP_MASK,
        am::CGROUP2_RO | am::CGROUP_FORCE,
    ),
    ("cgroup", am::CGROUP_MASK, am::CGROUP_NOSPEC),
    ("cgroup:mixed", am::CGROUP_MASK, am::CGROUP_MIXED),
    ("cgroup:ro", am::CGROUP_MASK, am::CGROUP_RO),
    ("cgroup:rw", am::CGROUP_MASK, am::CGROUP_RW),
    ("cgroup-full", am::CGROUP_MASK, am::CGROUP_FULL_NOSPEC),
    ("cgroup-full:mixed", am::CGROUP_MASK, am::CGROUP_FULL_MIXED),
    ("cgroup-full:ro", am::CGROUP_MASK, am::CGROUP_FULL_RO),
    ("cgroup-full:rw", am::CGROUP_MASK, am::CGROUP_FULL_RW),
];

/// (mask, flags) of one `lxc.mount.auto` token; `:force` is only a cgroup
/// modifier, as in LXC's token list.
fn auto_mount_flags(tok: &str) -> Option<(u32, u32)> {
    let (base, force) = match tok.strip_suffix(":force") {
        Some(base) if base.starts_with("cgroup") => (base, am::CGROUP_FORCE),
        _ => (tok, 0),
    };
    AUTO_MOUNTS
        .iter()
        .find(|(name, _, _)| *name == base)
        .map(|&(_, mask, flags)| (mask, flags | force))
}

/// `lxc.mount.auto`: tokens are merged into the existing flags.
pub fn set_mount_auto(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.auto_mounts = 0;
        return Ok(());
    }
    let mut flags = c.auto_mounts;
    let mut shm = (c.shmount_host.clone(), c.shmount_container.clone());
    for tok in tokens(v) {
        // LXC matches its table ("shmounts:" is an entry) before the
        // prefix: the bare token sets the flag and keeps the paths.
        if tok == "shmounts:" {
            flags = (flags & !am::SHMOUNTS_MASK) | am::SHMOUNTS;
            continue;
        }
        if let Some(spec) = tok.strip_prefix("shmounts:") {
            if spec.is_empty() {
                return Err(einval("Failed to copy shmounts host path"));
            }
            let (host, cont) = match spec.split_once(':') {
                Some((h, cn)) if !cn.is_empty() => (h, cn),
                Some((h, _)) => (h, "/dev/.lxc-mounts"),
                None => (spec, "/dev/.lxc-mounts"),
            };
            flags = (flags & !am::SHMOUNTS_MASK) | am::SHMOUNTS;
            shm = (Some(host.to_string()), Some(cont.to_string()));
            continue;
        }
        let (mask, flag) = auto_mount_flags(tok)
            .ok_or_else(|| einval(format!("Invalid filesystem to automount \"{tok}\"")))?;
        flags = (flags & !mask) | flag;
    }
    c.auto_mounts = flags;
    (c.shmount_host, c.shmount_container) = shm;
    Ok(())
}

/// LXC prints proc, sys and the v1 cgroup setting; cgroup2 and shmounts
/// have no spelling in its getter.
pub fn get_mount_auto(c: &LxcConf) -> String {
    let f = c.auto_mounts;
    if f & am::ALL_MASK == 0 {
        return String::new();
    }
    let mut parts: Vec<&str> = Vec::new();
    match f & am::PROC_MASK {
        am::PROC_MIXED => parts.push("proc:mixed"),
        am::PROC_RW => parts.push("proc:rw"),
        _ => {}
    }
    match f & am::SYS_MASK {
        am::SYS_RO => parts.push("sys:ro"),
        am::SYS_RW => parts.push("sys:rw"),
        am::SYS_MIXED => parts.push("sys:mixed"),
        _ => {}
    }
    let cg = match f & am::CGROUP_MASK {
        am::CGROUP_NOSPEC => Some("cgroup"),
        am::CGROUP_MIXED => Some("cgroup:mixed"),
        am::CGROUP_RO => Some("cgroup:ro"),
        am::CGROUP_RW => Some("cgroup:rw"),
        am::CGROUP_FULL_NOSPEC => Some("cgroup-full"),
        am::CGROUP_FULL_MIXED => Some("cgroup-full:mixed"),
        am::CGROUP_FULL_RO => Some("cgroup-full:ro"),
        am::CGROUP_FULL_RW => Some("cgroup-full:rw"),
        _ => None,
    };
    parts.extend(cg);
    parts.join(" ")
}
