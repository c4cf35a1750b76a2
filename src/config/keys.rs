//! LXC 6.0's configuration key table (`config_jump_table`): 86 entries in
//! LXC's order, each with its setter, getter and clearer. Lookup is "first
//! match wins" where non-strict entries match by prefix, so the order of
//! the table is part of the behaviour (lxc.cgroup.dir before lxc.cgroup).

use super::items::{self as it, einval, show, show_or_null};
use super::lists as ls;
use super::model::{LxcConf, AUTODEV_TMPFS_SIZE_DEFAULT, LOG_LEVEL_NOTSET};
use super::validate::safe_uint;
use super::{include, legacy, net, ConfigError};

/// State carried through nested `lxc.include`s.
pub struct SetCtx {
    /// Current include nesting depth.
    pub depth: u32,
    /// Files that may still be read in this operation.
    pub files_left: u32,
}

impl Default for SetCtx {
    fn default() -> Self {
        SetCtx {
            depth: 0,
            files_left: include::MAX_FILES,
        }
    }
}

pub type SetFn = fn(&mut LxcConf, &str, &str, &mut SetCtx) -> Result<(), ConfigError>;
pub type GetFn = fn(&LxcConf, &str) -> Result<String, ConfigError>;
pub type ClrFn = fn(&mut LxcConf, &str) -> Result<(), ConfigError>;

/// One row of the table.
pub struct KeyDef {
    pub name: &'static str,
    /// Exact match when true, prefix match otherwise.
    pub strict: bool,
    pub set: SetFn,
    pub get: GetFn,
    pub clr: ClrFn,
}

impl KeyDef {
    fn matches(&self, key: &str) -> bool {
        if self.strict {
            self.name == key
        } else {
            key.starts_with(self.name)
        }
    }
}

/// Declares a strict key whose setter, getter and clearer only touch `conf`.
macro_rules! key {
    ($name:literal, |$c:ident, $v:ident| $set:expr, |$g:ident| $get:expr, |$r:ident| $clr:expr) => {
        KeyDef {
            name: $name,
            strict: true,
            set: |$c, _k, $v, _x| {
                $set;
                Ok(())
            },
            get: |$g, _k| Ok($get),
            clr: |$r, _k| {
                $clr;
                Ok(())
            },
        }
    };
}

/// Declares a key whose three handlers all receive the key.
macro_rules! keyed {
    ($name:expr, $strict:expr, $set:expr, $get:expr, $clr:expr) => {
        KeyDef {
            name: $name,
            strict: $strict,
            set: $set,
            get: $get,
            clr: $clr,
        }
    };
}

fn hook_set(c: &mut LxcConf, k: &str, v: &str, _: &mut SetCtx) -> Result<(), ConfigError> {
    ls::set_hook(c, k, v)
}

fn hook_get(c: &LxcConf, k: &str) -> Result<String, ConfigError> {
    ls::get_hook(c, k)
}

fn hook_clr(c: &mut LxcConf, k: &str) -> Result<(), ConfigError> {
    ls::clear_hooks(c, k)
}

const fn hook_key(name: &'static str) -> KeyDef {
    keyed!(name, true, hook_set, hook_get, hook_clr)
}

fn start_get(c: &LxcConf, k: &str) -> Result<String, ConfigError> {
    Ok(match k {
        "lxc.start.auto" => c.start_auto.to_string(),
        // Printed with "%d", as LXC does.
        "lxc.start.delay" => (c.start_delay as i32).to_string(),
        _ => c.start_order.to_string(),
    })
}

fn start_set(c: &mut LxcConf, k: &str, v: &str, _: &mut SetCtx) -> Result<(), ConfigError> {
    match k {
        "lxc.start.auto" => c.start_auto = it::bounded_uint(v, 1, 0)?,
        "lxc.start.delay" => c.start_delay = if v.is_empty() { 0 } else { safe_uint(v)? },
        _ => {
            c.start_order = if v.is_empty() {
                0
            } else {
                super::validate::safe_int(v)?
            }
        }
    }
    Ok(())
}

fn start_clr(c: &mut LxcConf, k: &str) -> Result<(), ConfigError> {
    match k {
        "lxc.start.auto" => c.start_auto = 0,
        "lxc.start.delay" => c.start_delay = 0,
        _ => c.start_order = 0,
    }
    Ok(())
}

fn cgroup_dir_set(c: &mut LxcConf, k: &str, v: &str, _: &mut SetCtx) -> Result<(), ConfigError> {
    let val = it::cgroup_dir_value(k, v)?;
    *cgroup_dir_slot(c, k) = val;
    Ok(())
}

fn cgroup_dir_slot<'c>(c: &'c mut LxcConf, k: &str) -> &'c mut Option<String> {
    match k {
        "lxc.cgroup.dir.monitor.pivot" => &mut c.cgroup_monitor_pivot_dir,
        "lxc.cgroup.dir.monitor" => &mut c.cgroup_monitor_dir,
        "lxc.cgroup.dir.container" => &mut c.cgroup_container_dir,
        _ => &mut c.cgroup_dir,
    }
}

fn cgroup_dir_get(c: &LxcConf, k: &str) -> Result<String, ConfigError> {
    // Unset directories print as glibc's "(null)".
    Ok(show_or_null(match k {
        "lxc.cgroup.dir.monitor.pivot" => &c.cgroup_monitor_pivot_dir,
        "lxc.cgroup.dir.monitor" => &c.cgroup_monitor_dir,
        "lxc.cgroup.dir.container" => &c.cgroup_container_dir,
        _ => &c.cgroup_dir,
    }))
}

fn cgroup_dir_clr(c: &mut LxcConf, k: &str) -> Result<(), ConfigError> {
    *cgroup_dir_slot(c, k) = None;
    Ok(())
}

fn signal_slot<'c>(c: &'c mut LxcConf, k: &str) -> &'c mut i32 {
    match k {
        "lxc.signal.halt" => &mut c.signal_halt,
        "lxc.signal.reboot" => &mut c.signal_reboot,
        _ => &mut c.signal_stop,
    }
}

fn signal_set(c: &mut LxcConf, k: &str, v: &str, _: &mut SetCtx) -> Result<(), ConfigError> {
    *signal_slot(c, k) = it::signal(v)?;
    Ok(())
}

fn signal_get(c: &LxcConf, k: &str) -> Result<String, ConfigError> {
    Ok(match k {
        "lxc.signal.halt" => c.signal_halt,
        "lxc.signal.reboot" => c.signal_reboot,
        _ => c.signal_stop,
    }
    .to_string())
}

fn signal_clr(c: &mut LxcConf, k: &str) -> Result<(), ConfigError> {
    *signal_slot(c, k) = 0;
    Ok(())
}

fn share_set(c: &mut LxcConf, k: &str, v: &str, _: &mut SetCtx) -> Result<(), ConfigError> {
    let i = it::share_index(k)?;
    c.ns_share[i] = it::string_item(v);
    Ok(())
}

fn share_get(c: &LxcConf, k: &str) -> Result<String, ConfigError> {
    Ok(show_or_null(&c.ns_share[it::share_index(k)?]))
}

fn share_clr(c: &mut LxcConf, k: &str) -> Result<(), ConfigError> {
    c.ns_share[it::share_index(k)?] = None;
    Ok(())
}

fn include_set(c: &mut LxcConf, _k: &str, v: &str, x: &mut SetCtx) -> Result<(), ConfigError> {
    include::include(c, v, x)
}

fn net_set(c: &mut LxcConf, _k: &str, v: &str, _: &mut SetCtx) -> Result<(), ConfigError> {
    if !v.is_empty() {
        return Err(einval("lxc.net must not have a value"));
    }
    c.netdevs.clear();
    Ok(())
}

fn time_set(s: &mut i64, ns: &mut i64, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        *s = 0;
        *ns = 0;
        return Ok(());
    }
    let (new_s, new_ns) = it::time_offset(v)?;
    if let Some(x) = new_s {
        *s = x;
    }
    if let Some(x) = new_ns {
        *ns = x;
    }
    Ok(())
}

fn ns_clone_set(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.ns_clone = 0;
        return Ok(());
    }
    if c.ns_keep != 0 {
        return Err(einval(
            "Cannot set both \"lxc.namespace.clone\" and \"lxc.namespace.keep\"",
        ));
    }
    c.ns_clone |= it::namespace_flags(v)?;
    Ok(())
}

fn ns_keep_set(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        c.ns_keep = 0;
        return Ok(());
    }
    if c.ns_clone != 0 {
        return Err(einval(
            "Cannot set both \"lxc.namespace.clone\" and \"lxc.namespace.keep\"",
        ));
    }
    c.ns_keep |= it::namespace_flags(v)?;
    Ok(())
}

fn mount_fstab_set(c: &mut LxcConf, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        // LXC clears the fstab and still reports an error.
        c.mount_fstab = None;
        return Err(einval("lxc.mount.fstab must not be empty"));
    }
    c.mount_fstab = it::path_item(v)?;
    Ok(())
}

/// The table, in LXC 6.0's order.
pub static KEYS: &[KeyDef] = &[
    key!(
        "lxc.arch",
        |c, v| it::set_arch(c, v)?,
        |c| it::get_arch(c),
        |c| c.personality = None
    ),
    key!(
        "lxc.apparmor.profile",
        |c, v| c.apparmor_profile = it::string_item(v),
        |c| show(&c.apparmor_profile),
        |c| c.apparmor_profile = None
    ),
    key!(
        "lxc.apparmor.allow_incomplete",
        |c, v| c.apparmor_allow_incomplete = it::bounded_uint(v, 1, 0)?,
        |c| c.apparmor_allow_incomplete.to_string(),
        |c| c.apparmor_allow_incomplete = 0
    ),
    key!(
        "lxc.apparmor.allow_nesting",
        |c, v| c.apparmor_allow_nesting = it::bounded_uint(v, 1, 0)?,
        |c| c.apparmor_allow_nesting.to_string(),
        |c| c.apparmor_allow_nesting = 0
    ),
    key!(
        "lxc.apparmor.raw",
        |c, v| if v.is_empty() {
            c.apparmor_raw.clear()
        } else {
            c.apparmor_raw.push(v.to_string())
        },
        |c| ls::lines(&c.apparmor_raw),
        |c| c.apparmor_raw.clear()
    ),
    key!(
        "lxc.autodev.tmpfs.size",
        |c, v| it::set_autodev_tmpfs_size(c, v)?,
        |c| c.autodev_tmpfs_size.to_string(),
        |c| c.autodev_tmpfs_size = AUTODEV_TMPFS_SIZE_DEFAULT
    ),
    key!(
        "lxc.autodev",
        |c, v| c.autodev = it::bounded_uint(v, 1, 0)?,
        |c| c.autodev.to_string(),
        |c| c.autodev = 1
    ),
    key!(
        "lxc.cap.drop",
        |c, v| ls::set_cap_drop(c, v)?,
        |c| ls::get_caps(c, false),
        |c| {
            c.caps.clear();
            c.caps_keep = false
        }
    ),
    key!(
        "lxc.cap.keep",
        |c, v| ls::set_cap_keep(c, v)?,
        |c| ls::get_caps(c, true),
        |c| {
            c.caps.clear();
            c.caps_keep = false
        }
    ),
    keyed!(
        "lxc.cgroup2",
        false,
        |c, k, v, _| ls::set_cgroup(c, k, v, true),
        |c, k| ls::get_cgroup(c, k, true),
        |c, k| ls::clear_cgroups(c, k, true)
    ),
    keyed!(
        "lxc.cgroup.dir.monitor.pivot",
        true,
        cgroup_dir_set,
        cgroup_dir_get,
        cgroup_dir_clr
    ),
    keyed!(
        "lxc.cgroup.dir.monitor",
        true,
        cgroup_dir_set,
        cgroup_dir_get,
        cgroup_dir_clr
    ),
    keyed!(
        "lxc.cgroup.dir.container.inner",
        true,
        |c, k, v, _| {
            c.cgroup_container_inner_dir = it::cgroup_inner_dir_value(k, v)?;
            Ok(())
        },
        |c, _| Ok(show_or_null(&c.cgroup_container_inner_dir)),
        |c, _| {
            c.cgroup_container_inner_dir = None;
            Ok(())
        }
    ),
    keyed!(
        "lxc.cgroup.dir.container",
        true,
        cgroup_dir_set,
        cgroup_dir_get,
        cgroup_dir_clr
    ),
    keyed!(
        "lxc.cgroup.dir",
        true,
        cgroup_dir_set,
        cgroup_dir_get,
        cgroup_dir_clr
    ),
    key!(
        "lxc.cgroup.relative",
        |c, v| c.cgroup_relative = it::bool_item(v, false)?,
        |c| u8::from(c.cgroup_relative).to_string(),
        |c| c.cgroup_relative = false
    ),
    keyed!(
        "lxc.cgroup",
        false,
        |c, k, v, _| ls::set_cgroup(c, k, v, false),
        |c, k| ls::get_cgroup(c, k, false),
        |c, k| ls::clear_cgroups(c, k, false)
    ),
    key!(
        "lxc.console.buffer.size",
        |c, v| c.console_buffer_size = it::console_size(v)?,
        |c| c.console_buffer_size.to_string(),
        |c| c.console_buffer_size = 0
    ),
    key!(
        "lxc.console.logfile",
        |c, v| c.console_logfile = it::path_item(v)?,
        |c| show(&c.console_logfile),
        |c| c.console_logfile = None
    ),
    key!(
        "lxc.console.path",
        |c, v| c.console_path = it::path_item(v)?,
        |c| show(&c.console_path),
        |c| c.console_path = None
    ),
    key!(
        "lxc.console.rotate",
        |c, v| c.console_rotate = it::bounded_uint(v, 1, 0)?,
        |c| c.console_rotate.to_string(),
        |c| c.console_rotate = 0
    ),
    key!(
        "lxc.console.size",
        |c, v| c.console_size = it::console_size(v)?,
        |c| c.console_size.to_string(),
        |c| c.console_size = 0
    ),
    key!(
        "lxc.sched.core",
        |c, v| c.sched_core = it::bool_item(v, false)?,
        |c| u8::from(c.sched_core).to_string(),
        |c| c.sched_core = false
    ),
    key!(
        "lxc.environment",
        |c, v| ls::set_environment(c, v)?,
        |c| ls::get_environment(c),
        |c| c.environment.clear()
    ),
    key!(
        "lxc.ephemeral",
        |c, v| c.ephemeral = it::bounded_uint(v, 1, 0)?,
        |c| c.ephemeral.to_string(),
        |c| c.ephemeral = 0
    ),
    key!(
        "lxc.execute.cmd",
        |c, v| c.execute_cmd = it::string_item(v),
        |c| show(&c.execute_cmd),
        |c| c.execute_cmd = None
    ),
    key!(
        "lxc.group",
        |c, v| ls::set_groups(c, v)?,
        |c| ls::lines(&c.groups),
        |c| c.groups.clear()
    ),
    hook_key("lxc.hook.autodev"),
    hook_key("lxc.hook.clone"),
    hook_key("lxc.hook.destroy"),
    hook_key("lxc.hook.mount"),
    hook_key("lxc.hook.post-stop"),
    hook_key("lxc.hook.pre-mount"),
    hook_key("lxc.hook.pre-start"),
    hook_key("lxc.hook.start"),
    hook_key("lxc.hook.start-host"),
    hook_key("lxc.hook.stop"),
    key!(
        "lxc.hook.version",
        |c, v| c.hooks_version = it::bounded_uint(v, 1, 0)?,
        |c| c.hooks_version.to_string(),
        |c| c.hooks_version = 0
    ),
    hook_key("lxc.hook"),
    key!(
        "lxc.idmap",
        |c, v| if v.is_empty() {
            c.idmaps.clear()
        } else {
            c.idmaps.push(ls::parse_idmap(v)?)
        },
        |c| ls::get_idmaps(c),
        |c| c.idmaps.clear()
    ),
    keyed!(
        "lxc.include",
        true,
        include_set,
        |_, _| Err(ConfigError::new(
            libc::ENOSYS,
            "lxc.include cannot be read back"
        )),
        |_, _| Ok(())
    ),
    key!(
        "lxc.init.cmd",
        |c, v| c.init_cmd = it::string_item(v),
        |c| show(&c.init_cmd),
        |c| c.init_cmd = None
    ),
    key!(
        "lxc.init.gid",
        |c, v| c.init_gid = if v.is_empty() { 0 } else { safe_uint(v)? },
        |c| (c.init_gid as i32).to_string(),
        |c| c.init_gid = 0
    ),
    key!(
        "lxc.init.groups",
        |c, v| ls::set_init_groups(c, v)?,
        |c| ls::get_init_groups(c),
        |c| c.init_groups.clear()
    ),
    key!(
        "lxc.init.uid",
        |c, v| c.init_uid = if v.is_empty() { 0 } else { safe_uint(v)? },
        |c| (c.init_uid as i32).to_string(),
        |c| c.init_uid = 0
    ),
    key!(
        "lxc.init.cwd",
        |c, v| c.init_cwd = it::path_item(v)?,
        |c| show(&c.init_cwd),
        |c| c.init_cwd = None
    ),
    key!(
        "lxc.keyring.session",
        |c, v| c.keyring_session = it::bool_item(v, false)?,
        |c| u8::from(c.keyring_session).to_string(),
        |c| c.keyring_session = false
    ),
    key!(
        "lxc.log.file",
        |c, v| c.log_file = it::path_item(v)?,
        |c| show(&c.log_file),
        |c| c.log_file = None
    ),
    key!(
        "lxc.log.level",
        |c, v| it::set_log_level(c, v)?,
        |c| it::get_log_level(c),
        |c| c.log_level = LOG_LEVEL_NOTSET
    ),
    key!(
        "lxc.log.syslog",
        |c, v| it::set_log_syslog(c, v)?,
        |c| show(&c.log_syslog),
        |c| c.log_syslog = None
    ),
    key!(
        "lxc.monitor.unshare",
        |c, v| c.monitor_unshare = if v.is_empty() { 0 } else { safe_uint(v)? },
        |c| (c.monitor_unshare as i32).to_string(),
        |c| c.monitor_unshare = 0
    ),
    key!(
        "lxc.monitor.signal.pdeath",
        |c, v| c.monitor_signal_pdeath = it::signal(v)?,
        |c| c.monitor_signal_pdeath.to_string(),
        |c| c.monitor_signal_pdeath = 0
    ),
    key!(
        "lxc.mount.auto",
        |c, v| ls::set_mount_auto(c, v)?,
        |c| ls::get_mount_auto(c),
        |c| c.auto_mounts = 0
    ),
    key!(
        "lxc.mount.entry",
        |c, v| if v.is_empty() {
            c.mount_entries.clear()
        } else {
            c.mount_entries.push(v.to_string())
        },
        |c| ls::lines(&c.mount_entries),
        |c| c.mount_entries.clear()
    ),
    key!(
        "lxc.mount.fstab",
        |c, v| mount_fstab_set(c, v)?,
        |c| show(&c.mount_fstab),
        |c| c.mount_fstab = None
    ),
    key!(
        "lxc.namespace.clone",
        |c, v| ns_clone_set(c, v)?,
        |c| it::show_namespaces(c.ns_clone),
        |c| c.ns_clone = 0
    ),
    key!(
        "lxc.namespace.keep",
        |c, v| ns_keep_set(c, v)?,
        |c| it::show_namespaces(c.ns_keep),
        |c| c.ns_keep = 0
    ),
    keyed!(
        "lxc.namespace.share.",
        false,
        share_set,
        share_get,
        share_clr
    ),
    key!(
        "lxc.time.offset.boot",
        |c, v| time_set(&mut c.time_offset_boot_s, &mut c.time_offset_boot_ns, v)?,
        |c| it::show_time_offset(c.time_offset_boot_s, c.time_offset_boot_ns),
        |c| {
            c.time_offset_boot_s = 0;
            c.time_offset_boot_ns = 0
        }
    ),
    key!(
        "lxc.time.offset.monotonic",
        |c, v| time_set(
            &mut c.time_offset_monotonic_s,
            &mut c.time_offset_monotonic_ns,
            v
        )?,
        |c| it::show_time_offset(c.time_offset_monotonic_s, c.time_offset_monotonic_ns),
        |c| {
            c.time_offset_monotonic_s = 0;
            c.time_offset_monotonic_ns = 0
        }
    ),
    keyed!(
        "lxc.net.",
        false,
        |c, k, v, _| net::set(c, k, v),
        |c, k| net::get(c, k),
        |c, k| net::clear(c, k)
    ),
    keyed!(
        "lxc.net",
        true,
        net_set,
        |c, _| Ok(net::list_types(c)),
        |c, _| {
            c.netdevs.clear();
            Ok(())
        }
    ),
    key!(
        "lxc.no_new_privs",
        |c, v| c.no_new_privs = it::bool_item(v, false)?,
        |c| u8::from(c.no_new_privs).to_string(),
        |c| c.no_new_privs = false
    ),
    keyed!(
        "lxc.prlimit",
        false,
        |c, k, v, _| ls::set_prlimit(c, k, v),
        |c, k| ls::get_prlimit(c, k),
        |c, k| ls::clear_prlimit(c, k)
    ),
    key!(
        "lxc.pty.max",
        |c, v| c.pty_max = if v.is_empty() { 0 } else { safe_uint(v)? },
        |c| c.pty_max.to_string(),
        |c| c.pty_max = 0
    ),
    key!(
        "lxc.rootfs.managed",
        |c, v| c.rootfs_managed = it::bool_item(v, true)?,
        |c| u8::from(c.rootfs_managed).to_string(),
        |c| c.rootfs_managed = true
    ),
    key!(
        "lxc.rootfs.mount",
        |c, v| c.rootfs_mount = it::path_item(v)?,
        |c| show(&c.rootfs_mount),
        |c| c.rootfs_mount = None
    ),
    key!(
        "lxc.rootfs.options",
        |c, v| it::set_rootfs_options(c, v)?,
        |c| show(&c.rootfs_options),
        |c| c.rootfs_options = None
    ),
    key!(
        "lxc.rootfs.path",
        |c, v| it::set_rootfs_path(c, v)?,
        |c| show(&c.rootfs_path),
        |c| c.rootfs_path = None
    ),
    key!(
        "lxc.seccomp.allow_nesting",
        |c, v| c.seccomp_allow_nesting = it::bounded_uint(v, 1, 0)?,
        |c| c.seccomp_allow_nesting.to_string(),
        |c| c.seccomp_allow_nesting = 0
    ),
    key!(
        "lxc.seccomp.notify.cookie",
        |c, v| c.seccomp_notify_cookie = it::string_item(v),
        |c| show(&c.seccomp_notify_cookie),
        |c| c.seccomp_notify_cookie = None
    ),
    key!(
        "lxc.seccomp.notify.proxy",
        |c, v| it::set_seccomp_notify_proxy(c, v)?,
        |c| it::get_seccomp_notify_proxy(c),
        |c| c.seccomp_notify_proxy = None
    ),
    key!(
        "lxc.seccomp.profile",
        |c, v| c.seccomp_profile = it::path_item(v)?,
        |c| show(&c.seccomp_profile),
        |c| c.seccomp_profile = None
    ),
    key!(
        "lxc.selinux.context.keyring",
        |c, v| c.selinux_context_keyring = it::string_item(v),
        |c| show(&c.selinux_context_keyring),
        |c| c.selinux_context_keyring = None
    ),
    key!(
        "lxc.selinux.context",
        |c, v| c.selinux_context = it::string_item(v),
        |c| show(&c.selinux_context),
        |c| c.selinux_context = None
    ),
    keyed!("lxc.signal.halt", true, signal_set, signal_get, signal_clr),
    keyed!(
        "lxc.signal.reboot",
        true,
        signal_set,
        signal_get,
        signal_clr
    ),
    keyed!("lxc.signal.stop", true, signal_set, signal_get, signal_clr),
    keyed!("lxc.start.auto", true, start_set, start_get, start_clr),
    keyed!("lxc.start.delay", true, start_set, start_get, start_clr),
    keyed!("lxc.start.order", true, start_set, start_get, start_clr),
    key!(
        "lxc.tty.dir",
        |c, v| it::set_tty_dir(c, v)?,
        |c| show(&c.tty_dir),
        |c| c.tty_dir = None
    ),
    // LXC's clearer resets an unrelated field, so clearing lxc.tty.max
    // leaves the value readable (only the saved line goes away).
    keyed!(
        "lxc.tty.max",
        true,
        |c, _, v, _| {
            c.tty_max = if v.is_empty() { 0 } else { safe_uint(v)? };
            Ok(())
        },
        |c, _| Ok(c.tty_max.to_string()),
        |_, _| Ok(())
    ),
    key!(
        "lxc.uts.name",
        |c, v| it::set_uts_name(c, v)?,
        |c| show(&c.uts_name),
        |c| c.uts_name = None
    ),
    keyed!(
        "lxc.sysctl",
        false,
        |c, k, v, _| ls::set_sysctl(c, k, v),
        |c, k| ls::get_sysctl(c, k),
        |c, k| ls::clear_sysctl(c, k)
    ),
    keyed!(
        "lxc.proc",
        false,
        |c, k, v, _| ls::set_proc(c, k, v),
        |c, k| ls::get_proc(c, k),
        |c, k| ls::clear_proc(c, k)
    ),
];

fn unsupported(key: &str) -> ConfigError {
    let mut msg = format!("Unsupported config key \"{key}\"");
    if let Some(hint) = legacy::replacement(key) {
        msg.push_str(&format!(": {hint}"));
    }
    einval(msg)
}

/// `lxc_get_config`: the first entry that matches, in table order.
pub fn lookup(key: &str) -> Result<&'static KeyDef, ConfigError> {
    KEYS.iter()
        .find(|k| k.matches(key))
        .ok_or_else(|| unsupported(key))
}

/// Keys whose LXC getter is `lxc_get_conf_str`: the value is copied only
/// when it fits whole with its NUL, else the buffer is left untouched
/// (the other getters write a truncated, NUL-terminated prefix).
const WHOLE_VALUE_KEYS: &[&str] = &[
    "lxc.apparmor.profile",
    "lxc.console.logfile",
    "lxc.console.path",
    "lxc.execute.cmd",
    "lxc.init.cmd",
    "lxc.init.cwd",
    "lxc.log.file",
    "lxc.log.level",
    "lxc.log.syslog",
    "lxc.mount.fstab",
    "lxc.rootfs.mount",
    "lxc.rootfs.options",
    "lxc.rootfs.path",
    "lxc.seccomp.notify.cookie",
    "lxc.seccomp.notify.proxy",
    "lxc.seccomp.profile",
    "lxc.selinux.context",
    "lxc.selinux.context.keyring",
    "lxc.tty.dir",
    "lxc.uts.name",
];

/// Whether `get_config_item` copies `key`'s value whole or not at all.
pub fn copies_whole(key: &str) -> bool {
    WHOLE_VALUE_KEYS.contains(&key)
}

/// `lxc_config_item_is_supported`: exact match on a table name.
pub fn is_table_name(key: &str) -> bool {
    KEYS.iter().any(|k| k.name == key)
}

/// `lxc_list_config_items`: every name except the "xxx." prefix rows.
pub fn all_names() -> Vec<String> {
    KEYS.iter()
        .filter(|k| !k.name.ends_with('.'))
        .map(|k| k.name.to_string())
        .collect()
}

/// `lxc_list_subkeys`: LXC's fixed lists for a few namespaces (sic: the
/// hook list includes "autodevtmpfssize", which is not a hook).
pub fn subkeys(prefix: &str) -> Option<&'static [&'static str]> {
    Some(match prefix {
        "lxc.apparmor" => &["allow_incomplete", "allow_nesting", "profile", "raw"],
        "lxc.cgroup" => &["dir"],
        "lxc.selinux" => &["context", "context.keyring"],
        "lxc.mount" => &["auto", "entry", "fstab"],
        "lxc.rootfs" => &["mount", "options", "path"],
        "lxc.uts" => &["name"],
        "lxc.hook" => &[
            "autodev",
            "autodevtmpfssize",
            "clone",
            "destroy",
            "mount",
            "post-stop",
            "pre-mount",
            "pre-start",
            "start-host",
            "start",
            "stop",
        ],
        "lxc.cap" => &["drop", "keep"],
        "lxc.console" => &["logfile", "path"],
        "lxc.seccomp" => &["profile"],
        "lxc.signal" => &["halt", "reboot", "stop"],
        "lxc.start" => &["auto", "delay", "order"],
        "lxc.monitor" => &["unshare"],
        "lxc.keyring" => &["session"],
        _ => return None,
    })
}
