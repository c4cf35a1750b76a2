//! `StartSpec`: what starting a container means, derived once from its
//! configuration and the start options, and validated before anything is
//! created. Reads the typed model (`config.conf()`): the configuration
//! layer parsed and checked each value once, at set time.

use std::path::{Path, PathBuf};

use crate::caps;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::net::NetPlan;
use crate::rootfs::{MountAuto, MountEntry, RootfsOptions};
use crate::storage::{LoopStorage, OverlayStorage, RootfsMount};

use super::signals::configured as signal;
use super::timens::TimeOffsets;

/// What the monitor needs to restore a container (its command line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreRequest {
    pub directory: String,
    pub criu: String,
    pub criu_version: String,
    pub verbose: bool,
    pub action_script: Option<String>,
}

/// Arguments of `start(useinit, argv)` plus the handle's start settings.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Run our init as PID 1 for an application container (lxc-execute).
    pub use_init: bool,
    /// Overrides lxc.init.cmd when not empty.
    pub argv: Vec<String>,
    /// Run in the background (the default) or block until the container exits.
    pub daemonize: bool,
    pub close_all_fds: bool,
    pub pidfile: Option<String>,
    /// Restore from a CRIU checkpoint instead of starting init.
    pub restore: Option<RestoreRequest>,
}

/// Whether the container keeps it decides how `lxc.mount.auto` cgroups
/// are mounted.
const CAP_SYS_ADMIN: u32 = 21;

#[derive(Debug, Clone)]
pub struct StartSpec {
    pub name: String,
    pub lxcpath: String,
    pub config_file: PathBuf,
    pub rootfs: PathBuf,
    /// A rootfs to mount on `rootfs` at start (overlay, loop).
    pub rootfs_mount: Option<RootfsMount>,
    /// `lxc.rootfs.options` (its `idmap=` only with a user namespace).
    pub rootfs_options: RootfsOptions,
    /// Where init assembles the root before pivoting: the rootfs itself,
    /// or, for an idmapped rootfs, `lxc.rootfs.mount` when that directory
    /// exists (as LXC: the container's root need not reach the rootfs
    /// through the lxcpath).
    pub build_dir: PathBuf,
    pub uts_name: String,
    pub init_argv: Vec<String>,
    /// Application container: PID 1 is our reaper, the command its child.
    pub use_init: bool,
    pub init_uid: u32,
    pub init_gid: u32,
    pub init_cwd: String,
    pub environment: Vec<String>,
    pub tty_max: u32,
    pub pty_max: u32,
    pub autodev: bool,
    pub mount_auto: MountAuto,
    pub mount_entries: Vec<MountEntry>,
    pub caps_drop: Vec<u32>,
    /// CLONE_NEW* flags of the namespaces the container gets.
    pub clone_flags: i32,
    /// Whether init gets its own cgroup namespace (entered after the
    /// parent placed it in its cgroups).
    pub new_cgroupns: bool,
    /// A new time namespace with these offsets (unshared by init itself,
    /// see `timens`); None: the host's (or a shared) one.
    pub time_ns: Option<TimeOffsets>,
    /// `lxc.namespace.share.*`: (CLONE_NEW* flag, /proc/<pid>/ns/<x>) of
    /// namespaces joined instead of created.
    pub shared_ns: SharedNamespaces,
    /// `lxc.init.groups`.
    pub init_groups: Vec<u32>,
    /// `lxc.ephemeral`: destroyed when it stops.
    pub ephemeral: bool,
    /// AppArmor/SELinux label for init (or why none).
    pub lsm: crate::lsm::LsmAction,
    /// The network to build (`lxc.net.*`).
    pub net: NetPlan,
    pub halt_signal: i32,
    pub reboot_signal: i32,
    pub stop_signal: i32,
    pub no_new_privs: bool,
    /// `lxc.hook.*` with the start-time environment.
    pub hooks: crate::hooks::Hooks,
    /// `lxc.prlimit.*`, `lxc.proc.*`, `lxc.sysctl.*`, keyring, sched core,
    /// `lxc.monitor.signal.pdeath`.
    pub confine: super::confine::Confinement,
    /// `lxc.seccomp.profile`, compiled (None: none, or already confined
    /// without `lxc.seccomp.allow_nesting`).
    pub seccomp: Option<crate::seccomp::Profile>,
    /// `lxc.idmap`: when set, init gets a user namespace (CLONE_NEWUSER
    /// is in `clone_flags`) with these maps.
    pub idmaps: Vec<crate::config::IdMap>,
}

/// A command key's words (`lxc.init.cmd`, `lxc.execute.cmd`).
fn words(cmd: &Option<String>) -> Vec<String> {
    cmd.as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// A text value, None when unset or blank.
fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Strips a storage prefix: "dir:/x" -> "/x". Other backends are storage's.
fn rootfs_dir(path: &str) -> Result<PathBuf> {
    let p = path.strip_prefix("dir:").unwrap_or(path);
    if p.is_empty() {
        return Err(Error::invalid("lxc.rootfs.path is not set"));
    }
    if let Some((kind, _)) = p.split_once(':') {
        if !p.starts_with('/') {
            return Err(Error::new(
                libc::ENOTSUP,
                format!("Rootfs backend \"{kind}\" is not supported yet"),
            ));
        }
    }
    Ok(PathBuf::from(p))
}

/// The directory the root is built on and, for an overlay or loop rootfs,
/// what to mount there: `<lxcpath>/<name>/rootfs` (LXC mounts it on
/// `lxc.rootfs.mount`; clone and create made this directory for it).
/// `kind` and `path` are `lxc.rootfs.path` as the configuration split it.
fn rootfs_source(
    kind: Option<&str>,
    path: &str,
    container_dir: &Path,
) -> Result<(PathBuf, Option<RootfsMount>)> {
    let mounted = |m| Ok((container_dir.join("rootfs"), Some(m)));
    match kind {
        Some("overlay" | "overlayfs") => {
            mounted(RootfsMount::Overlay(OverlayStorage::parse(path)?))
        }
        Some("loop") => mounted(RootfsMount::Loop(LoopStorage::new(PathBuf::from(path)))),
        // A btrfs subvolume is used as a directory (LXC bind-mounts it).
        None | Some("dir" | "btrfs") => Ok((rootfs_dir(path)?, None)),
        // The configuration splits at the first colon, also in a plain
        // path ("/a:b"); rootfs_dir tells a path from an unknown backend.
        Some(k) => Ok((rootfs_dir(&format!("{k}:{path}"))?, None)),
    }
}

/// `lxc.rootfs.options`, checked against the rootfs: `idmap=` needs a
/// directory rootfs (as LXC) and only means something with a user
/// namespace (LXC ignores it otherwise).
fn rootfs_options(
    config: &Config,
    mount: &Option<RootfsMount>,
    clone_flags: i32,
) -> Result<RootfsOptions> {
    let mut o = RootfsOptions::parse(config.conf().rootfs_options.as_deref().unwrap_or(""))?;
    if o.idmap.is_some() && mount.is_some() {
        return Err(Error::invalid(
            "lxc.rootfs.options: an idmapped rootfs (idmap=) must be a directory (dir or btrfs), not overlay or loop",
        ));
    }
    if o.idmap.is_some() && clone_flags & libc::CLONE_NEWUSER == 0 {
        log::info!("lxc.rootfs.options: idmap= ignored, the container has no lxc.idmap");
        o.idmap = None;
    }
    Ok(o)
}

/// `/proc/<pid>/ns/<file>` names of LXC's namespace keys.
fn ns_file(flag: i32) -> &'static str {
    match flag {
        libc::CLONE_NEWNET => "net",
        libc::CLONE_NEWUTS => "uts",
        libc::CLONE_NEWIPC => "ipc",
        libc::CLONE_NEWPID => "pid",
        libc::CLONE_NEWNS => "mnt",
        libc::CLONE_NEWUSER => "user",
        libc::CLONE_NEWCGROUP => "cgroup",
        libc::CLONE_NEWTIME => "time",
        _ => "",
    }
}

/// Namespaces joined instead of created: (CLONE_NEW* flag, ns file path).
pub type SharedNamespaces = Vec<(i32, String)>;

/// The namespaces of init, as decided from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Namespaces {
    /// CLONE_NEW* flags given to clone (neither cgroup nor time).
    clone_flags: i32,
    /// A cgroup namespace, unshared by init once in its cgroups.
    new_cgroupns: bool,
    /// A time namespace, unshared by init (its offsets must be written
    /// before any task enters it, which clone would do).
    new_timens: bool,
    shared: SharedNamespaces,
}

/// Init's clone flags when the configuration alone decides them (no
/// `lxc.namespace.share.*`, which asks other containers); None otherwise,
/// when it is invalid (the start then says why), or with time offsets
/// (whose warning the spec's own reading gives, once).
pub fn own_clone_flags(config: &Config) -> Option<i32> {
    let shares = config.conf().ns_share.iter();
    if shares.flatten().any(|target| !target.is_empty()) || TimeOffsets::from_config(config).any() {
        return None;
    }
    let net = NetPlan::from_config(config).ok()?;
    namespaces(config, "", &net).ok().map(|ns| ns.clone_flags)
}

/// The namespaces of init: LXC's default set (mnt, pid, uts, ipc, net
/// unless `none`, cgroup, time when an offset is set), narrowed by
/// `lxc.namespace.clone` or `lxc.namespace.keep`, minus those joined
/// through `lxc.namespace.share.<ns>` (a container name in the same
/// lxcpath, a pid, or a /proc/<pid>/ns path).
fn namespaces(config: &Config, lxcpath: &str, net: &NetPlan) -> Result<Namespaces> {
    let conf = config.conf();
    let wants_time = TimeOffsets::from_config(config).any();
    let mut flags = libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWCGROUP
        | net.clone_flag();
    if wants_time {
        flags |= libc::CLONE_NEWTIME;
    }
    if conf.ns_clone != 0 {
        flags = conf.ns_clone;
    }
    // A user namespace comes with lxc.idmap (LXC adds it then).
    if !conf.idmaps.is_empty() {
        flags |= libc::CLONE_NEWUSER;
    }
    if wants_time && conf.ns_keep & libc::CLONE_NEWTIME != 0 {
        return Err(Error::invalid(
            "lxc.time.offset.* is set but lxc.namespace.keep keeps the time namespace",
        ));
    }
    flags &= !conf.ns_keep;
    if flags & libc::CLONE_NEWUSER != 0 && conf.idmaps.is_empty() {
        return Err(Error::invalid(
            "lxc.namespace.clone = user needs lxc.idmap entries",
        ));
    }
    if !conf.idmaps.is_empty() && flags & libc::CLONE_NEWUSER == 0 {
        return Err(Error::invalid(
            "lxc.idmap is set but lxc.namespace.keep keeps the user namespace",
        ));
    }
    let mut shared = Vec::new();
    for (i, (ns_name, flag)) in crate::config::NAMESPACES.iter().enumerate() {
        let Some(target) = conf.ns_share[i].as_deref().filter(|t| !t.is_empty()) else {
            continue;
        };
        if !matches!(
            *flag,
            libc::CLONE_NEWNET
                | libc::CLONE_NEWUTS
                | libc::CLONE_NEWIPC
                | libc::CLONE_NEWPID
                | libc::CLONE_NEWTIME
        ) {
            return Err(Error::new(
                libc::ENOTSUP,
                format!(
                    "lxc.namespace.share.{ns_name}: sharing this namespace is not supported yet"
                ),
            ));
        }
        let path = if target.starts_with('/') {
            target.to_string()
        } else {
            let pid = match target.parse::<i32>() {
                Ok(p) => p,
                Err(_) => crate::commands::client::Target {
                    lxcpath,
                    name: target,
                    timeout: 5,
                }
                .get_init_pid()?
                .ok_or_else(|| {
                    Error::new(
                        libc::ESRCH,
                        format!(
                            "lxc.namespace.share.{ns_name}: container \"{target}\" is not running"
                        ),
                    )
                })?,
            };
            format!("/proc/{pid}/ns/{}", ns_file(*flag))
        };
        if *flag == libc::CLONE_NEWNET && !net.ifaces.is_empty() {
            return Err(Error::invalid(
                "lxc.namespace.share.net cannot be combined with lxc.net interfaces",
            ));
        }
        flags &= !flag;
        shared.push((*flag, path));
    }
    // Init, in its new user namespace, has no rights over namespaces the
    // host's user namespace owns.
    if flags & libc::CLONE_NEWUSER != 0 && !shared.is_empty() {
        return Err(Error::new(
            libc::ENOTSUP,
            "lxc.namespace.share.* together with lxc.idmap is not supported yet",
        ));
    }
    if flags & libc::CLONE_NEWNS == 0 {
        return Err(Error::new(
            libc::ENOTSUP,
            "The container needs its own mount namespace (mnt cannot be kept or shared)",
        ));
    }
    let new_timens = flags & libc::CLONE_NEWTIME != 0;
    if wants_time && !new_timens {
        // As LXC: a clone list without time, or a shared time namespace,
        // wins over the offsets.
        log::warn!("lxc.time.offset.* ignored: the container gets no new time namespace");
    }
    Ok(Namespaces {
        clone_flags: flags & !(libc::CLONE_NEWCGROUP | libc::CLONE_NEWTIME),
        new_cgroupns: flags & libc::CLONE_NEWCGROUP != 0,
        new_timens,
        shared,
    })
}

/// `lxc.mount.auto = shmounts:<host>[:<inside>]`: LXC adds the mount
/// tunnel as one more bind entry, after the configured ones. The bind is a
/// slave of the host path, as init's whole tree is made rslave first, so
/// what the host mounts below it later appears inside (LXD's device
/// hotplug relies on that).
fn shmount_entry(conf: &crate::config::LxcConf) -> Result<Option<MountEntry>> {
    use crate::config::model::automount::SHMOUNTS_MASK;
    if conf.auto_mounts & SHMOUNTS_MASK == 0 {
        return Ok(None);
    }
    let host = conf
        .shmount_host
        .as_deref()
        .ok_or_else(|| Error::invalid("lxc.mount.auto: shmounts: needs a host path"))?;
    let inside = conf
        .shmount_container
        .as_deref()
        .unwrap_or("/dev/.lxc-mounts");
    Ok(Some(MountEntry {
        flags: libc::MS_BIND,
        create_dir: true,
        ..MountEntry::new(host, inside, "none")
    }))
}

impl StartSpec {
    /// The namespace flags reported to `get_clone_flags` clients (attach
    /// enters these): the clone flags plus a time namespace init made.
    pub fn reported_clone_flags(&self) -> i32 {
        if self.time_ns.is_some() {
            self.clone_flags | libc::CLONE_NEWTIME
        } else {
            self.clone_flags
        }
    }

    pub fn from_config(
        name: &str,
        lxcpath: &str,
        config_file: PathBuf,
        config: &Config,
        opts: &StartOptions,
    ) -> Result<StartSpec> {
        let conf = config.conf();
        let init_argv = if !opts.argv.is_empty() {
            opts.argv.clone()
        } else if opts.use_init {
            // lxc-execute's default command, else init's (as LXC).
            let mut cmd = words(&conf.execute_cmd);
            if cmd.is_empty() {
                cmd = words(&conf.init_cmd);
            }
            if cmd.is_empty() {
                return Err(Error::invalid(
                    "No command to execute: pass argv or set lxc.execute.cmd or lxc.init.cmd",
                ));
            }
            cmd
        } else {
            let cmd = words(&conf.init_cmd);
            if cmd.is_empty() {
                vec!["/sbin/init".to_string()]
            } else {
                cmd
            }
        };
        let uts_name = match text(&conf.uts_name) {
            Some(uts) => uts.trim_matches('"').to_string(),
            None => name.to_string(),
        };
        let mut entries = conf
            .mount_entries
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .map(MountEntry::parse)
            .collect::<Result<Vec<_>>>()?;
        entries.extend(shmount_entry(conf)?);
        let listed: Vec<u32> = conf.caps.iter().map(|(_, n)| *n).collect();
        let caps_drop = caps::caps_to_drop(&listed, conf.caps_keep, caps::last_cap());
        let net = NetPlan::from_config(config)?;
        let ns = namespaces(config, lxcpath, &net)?;
        let idmaps = conf.idmaps.clone();
        if !idmaps.is_empty() {
            crate::idmap::host_root(&idmaps)?;
        }
        let hooks = crate::hooks::Hooks::for_start(name, &config_file, config);
        let confine = super::confine::Confinement::from_config(config)?;
        let (rootfs, rootfs_mount) = rootfs_source(
            conf.rootfs_bdev_type.as_deref(),
            &text(&conf.rootfs_path).unwrap_or_default(),
            &Path::new(lxcpath).join(name),
        )?;
        let rootfs_options = rootfs_options(config, &rootfs_mount, ns.clone_flags)?;
        let build_dir = match (&rootfs_options.idmap, &conf.rootfs_mount) {
            (Some(_), Some(dir)) if Path::new(dir).is_dir() => PathBuf::from(dir),
            _ => rootfs.clone(),
        };
        Ok(StartSpec {
            name: name.to_string(),
            lxcpath: lxcpath.to_string(),
            config_file,
            rootfs,
            rootfs_mount,
            rootfs_options,
            build_dir,
            uts_name,
            init_argv,
            use_init: opts.use_init,
            init_uid: conf.init_uid,
            init_gid: conf.init_gid,
            init_cwd: text(&conf.init_cwd).unwrap_or_else(|| "/".into()),
            environment: conf
                .environment
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            tty_max: conf.tty_max,
            pty_max: conf.pty_max,
            autodev: conf.autodev != 0,
            // The flags, not the getter's text: it cannot spell `:force`
            // or `cgroup2`.
            mount_auto: MountAuto::from_flags(
                conf.auto_mounts,
                !caps_drop.contains(&CAP_SYS_ADMIN),
            )?,
            mount_entries: entries,
            caps_drop,
            clone_flags: ns.clone_flags,
            new_cgroupns: ns.new_cgroupns,
            time_ns: ns.new_timens.then(|| TimeOffsets::from_config(config)),
            shared_ns: ns.shared,
            init_groups: conf.init_groups.clone(),
            ephemeral: conf.ephemeral != 0,
            lsm: crate::lsm::for_config(config)?,
            net,
            halt_signal: signal("lxc.signal.halt", conf.signal_halt, libc::SIGPWR)?,
            reboot_signal: signal("lxc.signal.reboot", conf.signal_reboot, libc::SIGINT)?,
            stop_signal: signal("lxc.signal.stop", conf.signal_stop, libc::SIGKILL)?,
            no_new_privs: conf.no_new_privs,
            hooks,
            confine,
            seccomp: crate::seccomp::for_container(
                conf.seccomp_profile.as_deref(),
                conf.seccomp_allow_nesting != 0,
            )?,
            idmaps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shmounts_tunnel_entry() {
        let mut c = Config::new();
        assert_eq!(shmount_entry(c.conf()).unwrap(), None);
        c.set_item(
            "lxc.mount.auto",
            "proc:mixed shmounts:/var/lib/x/shmounts:/dev/.lxd-mounts",
        )
        .unwrap();
        let e = shmount_entry(c.conf()).unwrap().unwrap();
        assert_eq!(
            (e.source.as_str(), e.target.as_str(), e.is_bind()),
            ("/var/lib/x/shmounts", "dev/.lxd-mounts", true)
        );
        assert!(e.create_dir && !e.optional);
        // LXC's default place inside.
        c.set_item("lxc.mount.auto", "shmounts:/h").unwrap();
        assert_eq!(
            shmount_entry(c.conf()).unwrap().unwrap().target,
            "dev/.lxc-mounts"
        );
        // The bare token keeps the flag but names no host path.
        let mut bare = Config::new();
        bare.set_item("lxc.mount.auto", "shmounts:").unwrap();
        assert_eq!(shmount_entry(bare.conf()).unwrap_err().errno, libc::EINVAL);
    }

    /// The namespaces of a configuration with `items` (and an empty net).
    fn ns(items: &[(&str, &str)]) -> Result<Namespaces> {
        let mut c = Config::new();
        c.set_item("lxc.net.0.type", "empty").unwrap();
        for (k, v) in items {
            c.set_item(k, v).unwrap();
        }
        let net = NetPlan::from_config(&c).unwrap();
        namespaces(&c, "/nonexistent", &net)
    }

    /// What the monitor starts its network namespace's thread with before
    /// the spec exists: the spec's own flags, or nothing where they depend
    /// on another container (or the configuration is refused).
    #[test]
    fn own_clone_flags_are_the_spec_s_or_none() {
        let config = |items: &[(&str, &str)]| {
            let mut c = Config::new();
            c.set_item("lxc.net.0.type", "empty").unwrap();
            for (k, v) in items {
                c.set_item(k, v).unwrap();
            }
            c
        };
        for items in [
            &[][..],
            &[("lxc.namespace.keep", "net")],
            &[("lxc.namespace.clone", "mnt pid uts")],
            &[
                ("lxc.idmap", "u 0 100000 65536"),
                ("lxc.idmap", "g 0 100000 65536"),
            ],
        ] {
            assert_eq!(
                own_clone_flags(&config(items)),
                Some(ns(items).unwrap().clone_flags),
                "{items:?}"
            );
        }
        let shared = config(&[("lxc.namespace.share.uts", "1")]);
        assert_eq!(own_clone_flags(&shared), None);
        let refused = config(&[("lxc.namespace.keep", "mnt")]);
        assert_eq!(own_clone_flags(&refused), None);
        let offsets = config(&[("lxc.time.offset.boot", "1s")]);
        assert_eq!(own_clone_flags(&offsets), None);
    }

    #[test]
    fn idmap_brings_a_user_namespace() {
        let flags = |items: &[(&str, &str)]| ns(items).map(|n| n.clone_flags);
        assert_eq!(flags(&[]).unwrap() & libc::CLONE_NEWUSER, 0);
        let mapped = [
            ("lxc.idmap", "u 0 100000 65536"),
            ("lxc.idmap", "g 0 100000 65536"),
        ];
        assert_ne!(flags(&mapped).unwrap() & libc::CLONE_NEWUSER, 0);
        assert_eq!(
            flags(&[("lxc.namespace.clone", "mnt pid user")])
                .unwrap_err()
                .errno,
            libc::EINVAL
        );
        let kept = [mapped[0], mapped[1], ("lxc.namespace.keep", "user")];
        assert_eq!(flags(&kept).unwrap_err().errno, libc::EINVAL);
        let shared = [
            mapped[0],
            mapped[1],
            ("lxc.namespace.share.uts", "/proc/1/ns/uts"),
        ];
        assert_eq!(flags(&shared).unwrap_err().errno, libc::ENOTSUP);
    }

    #[test]
    fn time_namespace_with_offsets_or_when_asked() {
        let none = ns(&[]).unwrap();
        assert!(!none.new_timens);
        let offset = ns(&[("lxc.time.offset.boot", "1h")]).unwrap();
        assert!(offset.new_timens);
        // Never a clone flag: init unshares it to write the offsets first.
        assert_eq!(offset.clone_flags & libc::CLONE_NEWTIME, 0);
        assert!(
            ns(&[("lxc.namespace.clone", "mnt pid time")])
                .unwrap()
                .new_timens
        );
        assert!(
            !ns(&[
                ("lxc.time.offset.boot", "1h"),
                ("lxc.namespace.clone", "mnt pid")
            ])
            .unwrap()
            .new_timens
        );
        let kept = ns(&[
            ("lxc.time.offset.monotonic", "5s"),
            ("lxc.namespace.keep", "time"),
        ]);
        assert_eq!(kept.unwrap_err().errno, libc::EINVAL);
        let shared = ns(&[
            ("lxc.time.offset.monotonic", "5s"),
            ("lxc.namespace.share.time", "/proc/1/ns/time"),
        ])
        .unwrap();
        assert!(!shared.new_timens);
        assert_eq!(
            shared.shared,
            vec![(libc::CLONE_NEWTIME, "/proc/1/ns/time".to_string())]
        );
    }

    #[test]
    fn rootfs_paths() {
        assert_eq!(rootfs_dir("dir:/a/b").unwrap(), PathBuf::from("/a/b"));
        assert_eq!(rootfs_dir("/a/b").unwrap(), PathBuf::from("/a/b"));
        assert!(rootfs_dir("").is_err());
        assert_eq!(
            rootfs_dir("overlay:/a:/b").unwrap_err().errno,
            libc::ENOTSUP
        );
        let dir = Path::new("/l/b");
        let (root, ovl) =
            rootfs_source(Some("overlay"), "/l/a/rootfs:/l/b/overlay/delta", dir).unwrap();
        assert_eq!(root, PathBuf::from("/l/b/rootfs"));
        assert!(matches!(ovl, Some(RootfsMount::Overlay(o)) if o.lower() == "/l/a/rootfs"));
        let (root, l) = rootfs_source(Some("loop"), "/l/b/rootdev", dir).unwrap();
        assert_eq!(root, PathBuf::from("/l/b/rootfs"));
        assert!(matches!(l, Some(RootfsMount::Loop(_))));
        assert_eq!(
            rootfs_source(Some("dir"), "/x", dir).unwrap(),
            (PathBuf::from("/x"), None)
        );
        assert_eq!(
            rootfs_source(Some("btrfs"), "/x", dir).unwrap(),
            (PathBuf::from("/x"), None)
        );
        assert_eq!(
            rootfs_source(Some("/a"), "b", dir).unwrap(),
            (PathBuf::from("/a:b"), None)
        );
        assert_eq!(
            rootfs_source(Some("zfs"), "x", dir).unwrap_err().errno,
            libc::ENOTSUP
        );
    }
}
