//! The typed configuration model: what LXC keeps in `struct lxc_conf`,
//! restricted to what the configuration keys set. Lifecycle code reads
//! these fields; the key table (keys.rs) is the only writer.

use std::collections::{BTreeMap, HashMap};

use super::net::NetDev;

/// Where `lxc.rootfs.mount` points by default (Debian's/LXC's libdir layout).
pub const DEFAULT_ROOTFS_MOUNT: &str = "/usr/lib/x86_64-linux-gnu/lxc/rootfs";

/// LXC's "no level configured" log level (`LXC_LOG_LEVEL_NOTSET`).
pub const LOG_LEVEL_NOTSET: i32 = 9;

/// Default `lxc.autodev.tmpfs.size` restored by an empty value or a clear.
pub const AUTODEV_TMPFS_SIZE_DEFAULT: i32 = 500_000;

/// `lxc.arch` personalities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personality {
    /// PER_LINUX (64-bit).
    Linux,
    /// PER_LINUX32.
    Linux32,
}

/// The hooks, in LXC's `lxchook_names` order.
pub const HOOK_NAMES: [&str; 10] = [
    "pre-start",
    "pre-mount",
    "mount",
    "autodev",
    "start",
    "stop",
    "post-stop",
    "clone",
    "destroy",
    "start-host",
];

/// One `lxc.idmap` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMap {
    /// 'u' or 'g'.
    pub kind: char,
    pub nsid: u64,
    pub hostid: u64,
    pub range: u64,
}

impl IdMap {
    pub const fn new(kind: char, nsid: u64, hostid: u64, range: u64) -> IdMap {
        IdMap {
            kind,
            nsid,
            hostid,
            range,
        }
    }
}

/// One `lxc.cgroup.*` / `lxc.cgroup2.*` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupItem {
    pub subsystem: String,
    pub value: String,
}

/// One resource limit; `u64::MAX` is RLIM_INFINITY ("unlimited").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    pub soft: u64,
    pub hard: u64,
}

/// Ordered key/value entries with O(1) lookup by key; used where LXC
/// replaces an existing entry in place (sysctl, prlimit), so that 100,000
/// distinct keys do not cost a quadratic scan.
#[derive(Debug, Clone)]
pub struct IndexedList<V> {
    entries: Vec<(String, V)>,
    index: HashMap<String, usize>,
}

impl<V> Default for IndexedList<V> {
    fn default() -> Self {
        IndexedList {
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<V> IndexedList<V> {
    /// Replaces the value of `key` in place, or appends it.
    pub fn upsert(&mut self, key: &str, value: V) {
        if let Some(&i) = self.index.get(key) {
            if let Some(slot) = self.entries.get_mut(i) {
                slot.1 = value;
                return;
            }
        }
        self.index.insert(key.to_string(), self.entries.len());
        self.entries.push((key.to_string(), value));
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.index
            .get(key)
            .and_then(|&i| self.entries.get(i))
            .map(|(_, v)| v)
    }

    pub fn remove(&mut self, key: &str) {
        if self.index.remove(key).is_some() {
            self.entries.retain(|(k, _)| k != key);
            self.reindex();
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.index.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn reindex(&mut self) {
        self.index = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.clone(), i))
            .collect();
    }
}

/// `lxc.mount.auto` flags (LXC_AUTO_* bit values).
pub mod automount {
    pub const PROC_RW: u32 = 1 << 0;
    pub const PROC_MIXED: u32 = 1 << 1;
    pub const PROC_MASK: u32 = PROC_RW | PROC_MIXED;
    pub const SYS_RW: u32 = 1 << 2;
    pub const SYS_RO: u32 = 1 << 3;
    pub const SYS_MIXED: u32 = SYS_RW | SYS_RO;
    pub const SYS_MASK: u32 = SYS_MIXED;
    pub const CGROUP_RO: u32 = 1 << 4;
    pub const CGROUP_RW: u32 = 1 << 5;
    pub const CGROUP_MIXED: u32 = CGROUP_RO | CGROUP_RW;
    pub const CGROUP_FULL_RO: u32 = 1 << 6;
    pub const CGROUP_FULL_RW: u32 = 1 << 7;
    pub const CGROUP_FULL_MIXED: u32 = CGROUP_FULL_RO | CGROUP_FULL_RW;
    pub const CGROUP2_RW: u32 = 1 << 8;
    pub const CGROUP2_RO: u32 = 1 << 9;
    pub const CGROUP_NOSPEC: u32 = 0x0B0;
    pub const CGROUP_FULL_NOSPEC: u32 = 0x0E0;
    pub const CGROUP_FORCE: u32 = 1 << 10;
    pub const CGROUP_MASK: u32 = CGROUP_MIXED
        | CGROUP_FULL_MIXED
        | CGROUP_NOSPEC
        | CGROUP_FULL_NOSPEC
        | CGROUP_FORCE
        | CGROUP2_RW
        | CGROUP2_RO;
    pub const SHMOUNTS: u32 = 1 << 11;
    pub const SHMOUNTS_MASK: u32 = SHMOUNTS;
    pub const ALL_MASK: u32 = PROC_MASK | SYS_MASK | CGROUP_MASK;
}

/// The in-memory configuration of one container (LXC's `struct lxc_conf`).
#[derive(Debug, Clone)]
pub struct LxcConf {
    pub personality: Option<Personality>,
    pub apparmor_profile: Option<String>,
    pub apparmor_allow_incomplete: u32,
    pub apparmor_allow_nesting: u32,
    pub apparmor_raw: Vec<String>,
    pub autodev_tmpfs_size: i32,
    pub autodev: u32,
    /// Capability names as written (`lxc.cap.drop` / `lxc.cap.keep`) with their numbers.
    pub caps: Vec<(String, u32)>,
    /// True when `caps` is a keep list.
    pub caps_keep: bool,
    pub cgroup2: Vec<CgroupItem>,
    pub cgroup: Vec<CgroupItem>,
    pub cgroup_dir: Option<String>,
    pub cgroup_monitor_dir: Option<String>,
    pub cgroup_monitor_pivot_dir: Option<String>,
    pub cgroup_container_dir: Option<String>,
    pub cgroup_container_inner_dir: Option<String>,
    pub cgroup_relative: bool,
    pub console_buffer_size: u64,
    pub console_logfile: Option<String>,
    pub console_path: Option<String>,
    pub console_rotate: u32,
    pub console_size: u64,
    pub sched_core: bool,
    pub environment: Vec<(String, String)>,
    pub ephemeral: u32,
    pub execute_cmd: Option<String>,
    pub groups: Vec<String>,
    /// Hook commands, indexed like [`HOOK_NAMES`].
    pub hooks: [Vec<String>; 10],
    pub hooks_version: u32,
    pub idmaps: Vec<IdMap>,
    pub init_cmd: Option<String>,
    pub init_gid: u32,
    pub init_groups: Vec<u32>,
    pub init_uid: u32,
    pub init_cwd: Option<String>,
    /// `lxc.keyring.session` (LXC's `keyring_disable_session`).
    pub keyring_session: bool,
    pub log_file: Option<String>,
    /// 0 (TRACE) ..= 8 (FATAL), or [`LOG_LEVEL_NOTSET`].
    pub log_level: i32,
    pub log_syslog: Option<String>,
    pub monitor_unshare: u32,
    pub monitor_signal_pdeath: i32,
    /// LXC_AUTO_* bits, see [`automount`].
    pub auto_mounts: u32,
    pub shmount_host: Option<String>,
    pub shmount_container: Option<String>,
    pub mount_entries: Vec<String>,
    pub mount_fstab: Option<String>,
    pub ns_clone: i32,
    pub ns_keep: i32,
    /// `lxc.namespace.share.<ns>`, indexed like `validate::NAMESPACES`.
    pub ns_share: [Option<String>; 8],
    pub time_offset_boot_s: i64,
    pub time_offset_boot_ns: i64,
    pub time_offset_monotonic_s: i64,
    pub time_offset_monotonic_ns: i64,
    /// Network interfaces by index (`lxc.net.<idx>.*`), ordered like LXC's
    /// list; boxed: a map node holds room for eleven values.
    pub netdevs: BTreeMap<u32, Box<NetDev>>,
    pub no_new_privs: bool,
    pub prlimits: IndexedList<Rlimit>,
    pub pty_max: u32,
    pub rootfs_managed: bool,
    pub rootfs_mount: Option<String>,
    pub rootfs_options: Option<String>,
    pub rootfs_path: Option<String>,
    /// Storage type prefix of `lxc.rootfs.path` ("dir", "btrfs", ...).
    pub rootfs_bdev_type: Option<String>,
    pub seccomp_allow_nesting: u32,
    pub seccomp_notify_cookie: Option<String>,
    /// Socket path of `lxc.seccomp.notify.proxy`; abstract names keep their '@'.
    pub seccomp_notify_proxy: Option<String>,
    pub seccomp_profile: Option<String>,
    pub selinux_context_keyring: Option<String>,
    pub selinux_context: Option<String>,
    pub signal_halt: i32,
    pub signal_reboot: i32,
    pub signal_stop: i32,
    pub start_auto: u32,
    pub start_delay: u32,
    pub start_order: i32,
    pub tty_dir: Option<String>,
    pub tty_max: u32,
    pub uts_name: Option<String>,
    pub sysctls: IndexedList<String>,
    /// `lxc.proc.*`: LXC appends without replacing, so duplicates are kept.
    pub procs: Vec<(String, String)>,
}

impl LxcConf {
    /// `lxc.console.path = none`: the container gets no console (the
    /// monitor allocates none, a checkpoint records none).
    pub fn console_disabled(&self) -> bool {
        self.console_path.as_deref().map(str::trim) == Some("none")
    }

    /// Whether `lxc.hook.<name>` has a command.
    pub fn has_hook(&self, name: &str) -> bool {
        HOOK_NAMES
            .iter()
            .position(|h| *h == name)
            .is_some_and(|i| !self.hooks[i].is_empty())
    }
}

impl Default for LxcConf {
    /// LXC's `lxc_conf_init` defaults for the configurable fields.
    fn default() -> Self {
        LxcConf {
            personality: None,
            apparmor_profile: None,
            apparmor_allow_incomplete: 0,
            apparmor_allow_nesting: 0,
            apparmor_raw: Vec::new(),
            autodev_tmpfs_size: 0,
            autodev: 1,
            caps: Vec::new(),
            caps_keep: false,
            cgroup2: Vec::new(),
            cgroup: Vec::new(),
            cgroup_dir: None,
            cgroup_monitor_dir: None,
            cgroup_monitor_pivot_dir: None,
            cgroup_container_dir: None,
            cgroup_container_inner_dir: None,
            cgroup_relative: false,
            console_buffer_size: 0,
            console_logfile: None,
            console_path: None,
            console_rotate: 0,
            console_size: 0,
            sched_core: false,
            environment: Vec::new(),
            ephemeral: 0,
            execute_cmd: None,
            groups: Vec::new(),
            hooks: Default::default(),
            hooks_version: 0,
            idmaps: Vec::new(),
            init_cmd: None,
            init_gid: 0,
            init_groups: Vec::new(),
            init_uid: 0,
            init_cwd: None,
            keyring_session: false,
            log_file: None,
            log_level: LOG_LEVEL_NOTSET,
            log_syslog: None,
            monitor_unshare: 0,
            monitor_signal_pdeath: libc::SIGKILL,
            auto_mounts: 0,
            shmount_host: None,
            shmount_container: None,
            mount_entries: Vec::new(),
            mount_fstab: None,
            ns_clone: 0,
            ns_keep: 0,
            ns_share: Default::default(),
            time_offset_boot_s: 0,
            time_offset_boot_ns: 0,
            time_offset_monotonic_s: 0,
            time_offset_monotonic_ns: 0,
            netdevs: BTreeMap::new(),
            no_new_privs: false,
            prlimits: IndexedList::default(),
            pty_max: 0,
            rootfs_managed: true,
            rootfs_mount: Some(DEFAULT_ROOTFS_MOUNT.to_string()),
            rootfs_options: None,
            rootfs_path: None,
            rootfs_bdev_type: None,
            seccomp_allow_nesting: 0,
            seccomp_notify_cookie: None,
            seccomp_notify_proxy: None,
            seccomp_profile: None,
            selinux_context_keyring: None,
            selinux_context: None,
            signal_halt: 0,
            signal_reboot: 0,
            signal_stop: 0,
            start_auto: 0,
            start_delay: 0,
            start_order: 0,
            tty_dir: None,
            tty_max: 0,
            uts_name: None,
            sysctls: IndexedList::default(),
            procs: Vec::new(),
        }
    }
}
