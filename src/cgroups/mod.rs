//! Container cgroups on v1, v2 and hybrid hosts.
//!
//! The container's cgroup is `lxc.payload.<name>` created below a base
//! cgroup in every hierarchy, chosen as LXC's cgfsng does: a container
//! started by root escapes the caller's cgroup and goes below init's (pid
//! 1's, without a trailing `/init.scope`); a non-root caller, or
//! `lxc.cgroup.relative = 1`, keeps it below its own cgroup, so a caller
//! confined in a delegated subtree keeps its containers inside it. The
//! layout is read from /proc/self/mountinfo and /proc/<pid>/cgroup; the
//! parsing is pure and unit-tested, the directory work is in
//! `ContainerCgroups`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::journal::Item;

pub mod bpf_prog;
pub mod device_rules;
pub mod devices_bpf;
mod files;
pub mod handoff;
pub mod limits;
mod v1;
mod v2;

pub use device_rules::DeviceRule;
pub use limits::{CgroupSetup, Setting};

/// What differs between a v1 hierarchy and the cgroup2 one, so the rest of
/// this module never asks which kind it holds: each operation's two
/// behaviours sit side by side in `v1.rs` and `v2.rs`, and
/// [`Hierarchy::backend`] is the one place that picks.
trait Backend: std::fmt::Debug + Sync {
    /// Whether a /proc/<pid>/cgroup line listing `listed` is the hierarchy
    /// mounted with `mounted` controllers.
    fn is_line_of(&self, mounted: &[String], listed: &[String]) -> bool;
    /// Files besides the cgroup itself that must be writable for this
    /// process to create cgroups below it.
    fn delegation_files(&self) -> Vec<String>;
    /// Files of a container cgroup its root gets to own (`chown_to`).
    fn shared_files(&self) -> Vec<String>;
    /// The controllers `h` offers.
    fn offered(&self, h: &Hierarchy) -> Vec<String>;
    /// The filesystem type and options that mount `h` anew.
    fn mount_data(&self, h: &Hierarchy) -> (&'static str, String);
    /// Readies a new cgroup directory for tasks to join.
    fn init_dir(&self, h: &Hierarchy, dir: &Path) -> Result<()>;
    /// Whether this hierarchy can hold the container's freezer: its
    /// preference (lower wins) and the controller GET_CGROUP names it by.
    fn freezer(&self, h: &Hierarchy) -> Option<(u8, Option<&'static str>)>;
    /// The file and value that (un)freeze a cgroup.
    fn freeze_write(&self, frozen: bool) -> (&'static str, &'static str);
    fn is_frozen(&self, dir: &Path) -> bool;
    /// Whether a freeze can stall half-way and needs kicking
    /// ([`Freezer::set_and_wait`]).
    fn freeze_may_stall(&self) -> bool;
    /// The file init writes "0" to, moving itself in; None where it is
    /// born inside instead.
    fn self_attach_file(&self) -> Option<&'static str>;
    /// Whether init is created inside the cgroup (CLONE_INTO_CGROUP).
    fn enters_at_birth(&self) -> bool;
    // The limits below are per container: `ContainerCgroups::limits`
    // picks the backend from the host's layout, as LXC applies
    // `lxc.cgroup.*` on legacy/hybrid hosts and `lxc.cgroup2.*` on pure
    // cgroup2 ones.
    /// Readies the device settings before init exists.
    fn prepare_devices(&self, cg: &mut ContainerCgroups) -> Result<()>;
    /// See [`ContainerCgroups::apply_limits`].
    fn apply_limits(&self, cg: &mut ContainerCgroups, devices: bool) -> Result<()>;
    /// See [`ContainerCgroups::add_device_rule`].
    fn add_device_rule(&self, cg: &mut ContainerCgroups, rule: DeviceRule) -> Result<()>;
}

fn backend_of(unified: bool) -> &'static dyn Backend {
    if unified {
        &v2::V2_BACKEND
    } else {
        &v1::V1_BACKEND
    }
}

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub mountpoint: PathBuf,
    /// v1 controllers (and "name=systemd"-style names); empty for v2.
    pub controllers: Vec<String>,
    pub unified: bool,
    /// This process's cgroup in the hierarchy, relative to its root
    /// ("/x/y"); from [`detect_base`], the base cgroup containers go below.
    pub current: String,
    /// The position of its line in /proc/self/cgroup: the kernel's order
    /// of hierarchies, in which LXC lists them (GET_CGROUP_CTX).
    pub order: usize,
    /// The mountpoint, opened by [`detect_base`] for the start's work.
    pub mount: files::MountDir,
}

impl Hierarchy {
    fn backend(&self) -> &'static dyn Backend {
        backend_of(self.unified)
    }

    /// The controllers this hierarchy offers: a v1 one its mounted
    /// controllers, the cgroup2 one those enabled in `current` (LXC reads
    /// them there once; this reads them when asked).
    pub fn offered_controllers(&self) -> Vec<String> {
        self.backend().offered(self)
    }

    /// The filesystem type and options that mount this hierarchy anew
    /// (a container's own view of it).
    pub fn mount_data(&self) -> (&'static str, String) {
        self.backend().mount_data(self)
    }

    /// The directory of `current` in the hierarchy.
    pub fn current_dir(&self) -> PathBuf {
        self.mountpoint.join(self.current.trim_start_matches('/'))
    }

    /// Whether this process may create cgroups below `current` here: that
    /// cgroup is writable and, on v2, so are the files the kernel lists as
    /// delegatable. LXC skips hierarchies that were not delegated to an
    /// unprivileged caller rather than failing.
    pub fn delegated(&self) -> bool {
        let dir = self.current_dir();
        self.may_write(&dir)
            && self
                .backend()
                .delegation_files()
                .iter()
                .all(|f| self.may_write(&dir.join(f)))
    }
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
            let (order, (_, current)) = memberships
                .iter()
                .enumerate()
                .find(|(_, (ctrls, _))| backend_of(unified).is_line_of(&controllers, ctrls))?;
            Some(Hierarchy {
                mountpoint,
                controllers,
                unified,
                current: current.clone(),
                order,
                mount: files::MountDir::default(),
            })
        })
        .collect()
}

fn read_proc(p: &str) -> Result<String> {
    crate::sys::procfs::read(p).map_err(|e| Error::io("Failed to read", Path::new(p), &e))
}

/// The hierarchies of the calling process.
pub fn detect() -> Result<Vec<Hierarchy>> {
    Ok(hierarchies_from(
        &read_proc("/proc/self/mountinfo")?,
        &read_proc("/proc/self/cgroup")?,
    ))
}

/// Whether `hierarchies` are the cgroup2 one alone: a pure cgroup2 host,
/// where LXC applies `lxc.cgroup2.*` and device rules become a program.
pub fn pure_cgroup2<'h>(hierarchies: impl IntoIterator<Item = &'h Hierarchy>) -> bool {
    let mut any = false;
    hierarchies.into_iter().all(|h| {
        any = true;
        h.unified
    }) && any
}

/// Whose cgroups a new container goes below (LXC's `__initialize_cgroups`):
/// init's for root unless `lxc.cgroup.relative`, else the caller's.
pub fn base_cgroup_file(euid: libc::uid_t, relative: bool) -> &'static str {
    if euid == 0 && !relative {
        "/proc/1/cgroup"
    } else {
        "/proc/thread-self/cgroup"
    }
}

/// LXC's `prune_init_scope`: a trailing "/init.scope" (systemd's scope of
/// pid 1) is cut off, so containers go next to it, not inside it.
pub fn prune_init_scope(path: &str) -> &str {
    match path.strip_suffix("/init.scope") {
        Some("") => "/",
        Some(rest) => rest,
        None => path,
    }
}

/// The hierarchies with `current` set to the base cgroup a container is
/// created below (see the module comment). Hierarchies where that cgroup
/// is not visible here (another cgroup namespace's path, a missing
/// directory) are left out, as LXC skips them.
pub fn detect_base(relative: bool) -> Result<Vec<Hierarchy>> {
    // SAFETY: geteuid has no preconditions.
    let file = base_cgroup_file(unsafe { libc::geteuid() }, relative);
    // The calling thread's: the caller's thread that spawns the monitor
    // finds them for it (`handoff`), and namespaces are per thread.
    let mut hierarchies = hierarchies_from(
        &read_proc("/proc/thread-self/mountinfo")?,
        &read_proc(file)?,
    );
    if !relative {
        for h in &mut hierarchies {
            h.current = prune_init_scope(&h.current).to_string();
        }
    }
    hierarchies.retain_mut(|h| {
        let visible = !h.current.split('/').any(|c| c == "..")
            && h.open_mount().is_ok()
            && h.is_dir(&h.current_dir());
        if !visible {
            log::info!(
                "Skipping cgroup hierarchy {}: base cgroup {} (from {file}) is not reachable here",
                h.mountpoint.display(),
                h.current
            );
        }
        visible
    });
    Ok(hierarchies)
}

/// A container's freezer cgroup: the v1 `freezer.state` or the v2
/// `cgroup.freeze`/`cgroup.events` of its directory.
#[derive(Debug, Clone)]
pub struct Freezer {
    pub dir: PathBuf,
    backend: &'static dyn Backend,
}

impl Freezer {
    /// Of `items`, the one whose hierarchy holds the freezer (the first
    /// preferred), with the controller naming it.
    fn pick<T>(
        items: impl Iterator<Item = T>,
        hierarchy: impl Fn(&T) -> &Hierarchy,
    ) -> Option<(T, Option<&'static str>)> {
        items
            .filter_map(|t| {
                let h = hierarchy(&t);
                let (rank, controller) = h.backend().freezer(h)?;
                Some((rank, t, controller))
            })
            .min_by_key(|(rank, _, _)| *rank)
            .map(|(_, t, controller)| (t, controller))
    }

    /// Locates the freezer of a container from its cgroup paths relative to
    /// each hierarchy (what GET_CGROUP answers): `rel_of(Some("freezer"))`
    /// for v1, `rel_of(None)` for the unified hierarchy.
    pub fn locate(
        hierarchies: &[Hierarchy],
        rel_of: impl Fn(Option<&str>) -> Option<String>,
    ) -> Option<Freezer> {
        let (h, controller) = Self::pick(hierarchies.iter(), |h| h)?;
        let rel = rel_of(controller)?;
        Some(Freezer {
            dir: h.mountpoint.join(rel.trim_start_matches('/')),
            backend: h.backend(),
        })
    }

    pub fn set(&self, frozen: bool) -> Result<()> {
        let (file, value) = self.backend.freeze_write(frozen);
        let path = self.dir.join(file);
        std::fs::write(&path, value).map_err(|e| Error::io("Failed to write", &path, &e))
    }

    /// Sets the state and waits up to `limit` until the kernel reached it.
    ///
    /// On v1 a freeze can stall in FREEZING for good: the kernel marks each
    /// task frozen once, when the FROZEN write changes the state, and a
    /// task that was running then and goes straight into a freezable sleep
    /// is never marked (busybox init at boot: its vfork child is frozen
    /// before it execs, so init waits in vfork, unmarked; Debian's LXC 5.0
    /// hangs there as well). Thawing and freezing again makes the kernel
    /// visit every task once more; done whenever FREEZING outlasts a
    /// growing interval.
    pub fn set_and_wait(&self, frozen: bool, limit: Duration) -> Result<()> {
        self.set(frozen)?;
        let start = std::time::Instant::now();
        let mut kick = Duration::from_millis(10);
        let mut kicked = start;
        // A freezer usually settles within microseconds: poll fast first.
        let mut nap = Duration::from_micros(50);
        while self.is_frozen() != frozen {
            let now = std::time::Instant::now();
            if now.duration_since(start) >= limit {
                return Err(Error::new(
                    libc::ETIMEDOUT,
                    format!("The freezer {} did not settle", self.dir.display()),
                ));
            }
            if self.backend.freeze_may_stall() && frozen && now.duration_since(kicked) >= kick {
                log::info!(
                    "Freezer {} stuck in FREEZING: thawing and freezing again",
                    self.dir.display()
                );
                self.set(false)?;
                self.set(true)?;
                kicked = now;
                kick *= 2;
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(2));
        }
        Ok(())
    }

    pub fn is_frozen(&self) -> bool {
        self.backend.is_frozen(&self.dir)
    }

    /// [`Freezer::set_and_wait`], telling `serve` the container's states
    /// as LXC's clients do: FREEZING, then FROZEN (or THAWED). On failure,
    /// the state it is left in: a freeze that did not settle is undone
    /// (LXC leaves the tasks it froze frozen) and RUNNING served, a thaw
    /// that failed serves FROZEN.
    pub fn change_serving(
        &self,
        frozen: bool,
        limit: Duration,
        mut serve: impl FnMut(usize),
    ) -> Result<()> {
        use crate::states::state::{FREEZING, FROZEN, RUNNING, THAWED};
        if frozen {
            serve(FREEZING);
        }
        let outcome = self.set_and_wait(frozen, limit);
        match (&outcome, frozen) {
            (Ok(()), true) => serve(FROZEN),
            (Ok(()), false) => serve(THAWED),
            (Err(_), true) => {
                let _ = self.set(false);
                serve(RUNNING);
            }
            (Err(_), false) => serve(FROZEN),
        }
        outcome
    }
}

/// The cgroup directories of one container, one per hierarchy.
#[derive(Debug, Default)]
pub struct ContainerCgroups {
    /// The (limit) cgroup of each hierarchy.
    pub dirs: Vec<(Hierarchy, PathBuf)>,
    /// What the configuration asked (placement, settings); kept so a
    /// reboot recreates the same cgroups.
    pub setup: CgroupSetup,
    /// Intermediate directories (`lxc.cgroup.dir`) this start created,
    /// removed again with the container when empty.
    created_parents: Vec<PathBuf>,
    /// `lxc.cgroup2.devices.*` (or rules added while running) on a pure
    /// cgroup2 host. Dropping it leaves the program with the cgroup.
    devices: Option<v2::Devices>,
}

/// The leaf name of a container's cgroup (LXC 6.0's naming).
pub fn payload_name(container: &str) -> String {
    format!("lxc.payload.{container}")
}

/// Creates `dir` unless it exists; true when this call created it.
fn make_dir(h: &Hierarchy, dir: &Path) -> Result<bool> {
    match h.mkdir(dir) {
        Ok(()) => {
            h.backend().init_dir(h, dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("Failed to create cgroup", dir, &e)),
    }
}

/// Writes one setting into `dir`, naming the key, file and errno on
/// failure. The file must exist (cgroup files are never created).
fn write_setting(h: &Hierarchy, dir: &Path, s: &Setting, value: &str) -> Result<()> {
    let path = dir.join(&s.file);
    h.write(&path, value).map_err(|e| {
        Error::os(
            format_args!(
                "Failed to set {} = \"{}\" ({})",
                s.key,
                s.value,
                path.display()
            ),
            &e,
        )
    })
}

impl ContainerCgroups {
    /// Creates `lxc.payload.<name>` under the base cgroup of every
    /// hierarchy, without any settings.
    pub fn create(hierarchies: &[Hierarchy], container: &str) -> Result<ContainerCgroups> {
        Self::create_with(hierarchies, container, &CgroupSetup::default())
    }

    /// Creates the container's cgroup under the base cgroup of every
    /// hierarchy (`lxc.payload.<name>`, or where `lxc.cgroup.dir*` say) and
    /// writes the settings that precede init's arrival (all but
    /// `devices.*`). An existing `lxc.payload.<name>` (a leftover, or a
    /// container of the same name in another lxcpath) gets a "-N" suffix,
    /// as LXC does. On failure nothing created is left behind.
    pub fn create_with(
        hierarchies: &[Hierarchy],
        container: &str,
        setup: &CgroupSetup,
    ) -> Result<ContainerCgroups> {
        let mut made = Self::create_dirs(hierarchies, container, setup)?;
        if let Err(e) = made
            .apply_limits(false)
            .and_then(|()| made.prepare_devices())
        {
            made.remove();
            return Err(e);
        }
        Ok(made)
    }

    /// Whether every hierarchy of the container is cgroup2.
    pub fn pure_unified(&self) -> bool {
        pure_cgroup2(self.dirs.iter().map(|(h, _)| h))
    }

    /// The container's (limit) cgroup in the cgroup2 hierarchy.
    pub fn cgroup2_dir(&self) -> Option<&Path> {
        self.cgroup2().map(|(_, d)| d)
    }

    /// The cgroup2 hierarchy and the container's (limit) cgroup in it.
    fn cgroup2(&self) -> Option<(&Hierarchy, &Path)> {
        self.dirs
            .iter()
            .find(|(h, _)| h.unified)
            .map(|(h, d)| (h, d.as_path()))
    }

    /// Whose limits apply: `lxc.cgroup2.*` and the device program on a
    /// pure cgroup2 host, `lxc.cgroup.*` (device files included)
    /// elsewhere, as in LXC.
    fn limits(&self) -> &'static dyn Backend {
        backend_of(self.pure_unified())
    }

    /// Whether init must stop for the device settings once it made its
    /// /dev nodes (`devices.*` on v1, the device program on v2).
    pub fn needs_device_sync(&self) -> bool {
        self.setup.legacy.iter().any(|s| s.is_devices()) || self.devices.is_some()
    }

    /// Readies the device settings before init exists: on a pure cgroup2
    /// host, loads the device program (a bad rule fails the start here).
    fn prepare_devices(&mut self) -> Result<()> {
        self.limits().prepare_devices(self)
    }

    /// Adds one device rule to the running container (pure cgroup2 only:
    /// the device program is rebuilt and replaces the attached one).
    pub fn add_device_rule(&mut self, rule: DeviceRule) -> Result<()> {
        self.limits().add_device_rule(self, rule)
    }

    fn create_dirs(
        hierarchies: &[Hierarchy],
        container: &str,
        setup: &CgroupSetup,
    ) -> Result<ContainerCgroups> {
        let (base, may_retry) = setup.placement.leaf(container);
        let tries = if may_retry { 1000 } else { 1 };
        'suffix: for n in 0..tries {
            let leaf = if n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let mut made = ContainerCgroups {
                setup: setup.clone(),
                ..Default::default()
            };
            for h in hierarchies {
                let root = h.current_dir();
                let dir = root.join(&leaf);
                let step = (|| -> Result<bool> {
                    // Intermediate directories of lxc.cgroup.dir, top down
                    // (each cpuset level needs its cpus/mems).
                    let mut parent = root.clone();
                    let components: Vec<_> = Path::new(&leaf).components().collect();
                    for c in &components[..components.len().saturating_sub(1)] {
                        parent.push(c);
                        if make_dir(h, &parent)? {
                            crate::journal::note(Item::CgroupParent(parent.clone()));
                            made.created_parents.push(parent.clone());
                        }
                    }
                    match h.mkdir(&dir) {
                        Ok(()) => {
                            crate::journal::note(Item::Cgroup(dir.clone()));
                            made.dirs.push((h.clone(), dir.clone()));
                            h.backend().init_dir(h, &dir)?;
                        }
                        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
                        Err(e) => return Err(Error::io("Failed to create cgroup", &dir, &e)),
                    }
                    if let Some(inner) = &setup.placement.inner {
                        let inner_dir = dir.join(inner);
                        h.mkdir(&inner_dir)
                            .map_err(|e| Error::io("Failed to create cgroup", &inner_dir, &e))?;
                        h.backend().init_dir(h, &inner_dir)?;
                    }
                    Ok(true)
                })();
                match step {
                    Ok(true) => {}
                    Ok(false) if may_retry => {
                        made.remove();
                        continue 'suffix;
                    }
                    Ok(false) => {
                        made.remove();
                        return Err(Error::new(
                            libc::EEXIST,
                            format!("Failed to create cgroup {}: it exists", dir.display()),
                        ));
                    }
                    Err(e) => {
                        made.remove();
                        return Err(e);
                    }
                }
            }
            return Ok(made);
        }
        Err(Error::new(
            libc::ERANGE,
            format!("Failed to create cgroup {base}: 1000 leftovers exist"),
        ))
    }

    /// The directory init lives in: the limit cgroup, or its
    /// `lxc.cgroup.dir.container.inner` child.
    pub fn process_dir(&self, dir: &Path) -> PathBuf {
        match &self.setup.placement.inner {
            Some(inner) => dir.join(inner),
            None => dir.to_path_buf(),
        }
    }

    /// Writes the configured `lxc.cgroup.*` settings, either all but the
    /// `devices.*` ones (`devices == false`, before init joins) or only
    /// those (once init has set up its rootfs); then `lxc.cgroup2.*` with
    /// the former on a pure cgroup2 host, except `devices.*`: their
    /// program (loaded by `create_with`) is attached with the latter.
    pub fn apply_limits(&mut self, devices: bool) -> Result<()> {
        self.limits().apply_limits(self, devices)
    }

    /// Shares the container's cgroups with its root (user namespaces), as
    /// LXC's `cgfsng_chown`: owner the launcher (so it can still move
    /// attached processes in), group the container's root, each directory
    /// mode 0775 and (0664) `tasks` on v1, `cgroup.procs`, and on v2 the
    /// files the kernel lists as delegatable. Runs in the monitor.
    pub fn chown_to(&self, idmaps: &[crate::config::IdMap]) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let mut paths = Vec::new();
        for (h, dir) in &self.dirs {
            let mut dirs = vec![dir.clone()];
            if self.setup.placement.inner.is_some() {
                dirs.push(self.process_dir(dir));
            }
            let files = h.backend().shared_files();
            for d in dirs {
                let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o775));
                for f in &files {
                    let p = d.join(f);
                    if !p.exists() {
                        continue;
                    }
                    if let Err(e) =
                        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o664))
                    {
                        log::info!("Failed to chmod {}: {e}", p.display());
                    }
                    paths.push(p);
                }
                paths.push(d);
            }
        }
        use crate::idmap::mapped::{chown_mapped, Who};
        chown_mapped(idmaps, &paths, (Who::Caller, Who::Root), true)
    }

    /// Moves `pid` into the container's v2 cgroup from outside: the
    /// fallback when clone3 could not create init there.
    pub fn attach_unified(&self, pid: i32) -> Result<()> {
        let born_inside = self
            .dirs
            .iter()
            .filter(|(h, _)| h.backend().enters_at_birth());
        for (_, dir) in born_inside {
            let path = self.process_dir(dir).join("cgroup.procs");
            std::fs::write(&path, pid.to_string())
                .map_err(|e| Error::io(&format!("Failed to move {pid} into"), &path, &e))?;
        }
        Ok(())
    }

    /// Called by init, single-threaded, right after its clone: moves the
    /// calling thread into the container's cgroup of every v1 hierarchy
    /// by writing "0" to `tasks`. A thread moving itself this way is the
    /// one migration the kernel does without write-locking its global
    /// `cgroup_threadgroup_rwsem`, whose first writer after a quiet
    /// period waits a whole RCU grace period (10-15 ms on this host, the
    /// bulk of a start). The v2 cgroup is entered at birth instead
    /// (`unified_clone_dir`).
    pub fn attach_self_v1(&self) -> Result<()> {
        let joined = self
            .dirs
            .iter()
            .filter_map(|(h, dir)| Some((h, dir, h.backend().self_attach_file()?)));
        for (h, dir, file) in joined {
            let path = self.process_dir(dir).join(file);
            h.write(&path, "0")
                .map_err(|e| Error::io("Failed to move init into", &path, &e))?;
        }
        Ok(())
    }

    /// The container's v2 cgroup directory (where init lives), opened for
    /// clone3's CLONE_INTO_CGROUP; None without a v2 hierarchy.
    pub fn unified_clone_dir(&self) -> Result<Option<std::fs::File>> {
        let Some((h, dir)) = self
            .dirs
            .iter()
            .find(|(h, _)| h.backend().enters_at_birth())
        else {
            return Ok(None);
        };
        let path = self.process_dir(dir);
        h.open_dir(&path)
            .map(Some)
            .map_err(|e| Error::io("Failed to open cgroup", &path, &e))
    }

    /// The container's freezer: v1 freezer when the host has it, the v2
    /// cgroup otherwise.
    pub fn freezer(&self) -> Option<Freezer> {
        let ((h, dir), _) = Freezer::pick(self.dirs.iter(), |(h, _)| h)?;
        Some(Freezer {
            dir: dir.clone(),
            backend: h.backend(),
        })
    }

    /// Freezes (true) or thaws (false) the container.
    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        self.freezer()
            .ok_or_else(|| Error::new(libc::ENOTSUP, "No freezer cgroup on this host"))?
            .set(frozen)
    }

    /// Whether the freezer reports the container frozen.
    pub fn is_frozen(&self) -> bool {
        self.freezer().is_some_and(|f| f.is_frozen())
    }

    /// Removes every directory (the processes are gone once init died;
    /// rmdir may briefly see EBUSY while the kernel reaps them). The
    /// kernel releases the device program with the cgroup; it is not
    /// detached first, so a cgroup that cannot be removed stays confined.
    pub fn remove(&mut self) {
        for (_, dir) in &self.dirs {
            // The inner process cgroup is one of the children.
            remove_tree(dir);
            if !dir.exists() {
                crate::journal::forget(Item::Cgroup(dir.clone()));
            }
        }
        // Parents this start created, deepest first, if nothing else
        // moved in meanwhile.
        for dir in self.created_parents.iter().rev() {
            // Still in use by someone else: theirs to remove, not ours.
            let _ = std::fs::remove_dir(dir);
            crate::journal::forget(Item::CgroupParent(dir.clone()));
        }
        self.devices = None;
    }
}

/// Removes a container's cgroup `dir` with the cgroups made below it (a
/// delegated cgroup, as in a user namespace, may have children; the
/// `lxc.cgroup.dir.container.inner` one), deepest first. Best effort:
/// what cannot go is logged.
pub fn remove_tree(dir: &Path) {
    remove_children(dir);
    remove_dir_patiently(dir);
}

fn remove_children(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            let child = entry.path();
            remove_children(&child);
            remove_dir_patiently(&child);
        }
    }
}

/// rmdir that waits out the brief EBUSY while the kernel reaps the
/// container's last processes.
fn remove_dir_patiently(dir: &Path) {
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
        // The kernel's order is that of /proc/self/cgroup.
        let order: Vec<usize> = hs.iter().map(|h| h.order).collect();
        assert_eq!(order, vec![3, 2, 1, 0, 4]);
    }

    #[test]
    fn freezer_serves_the_states_it_leaves() {
        use crate::states::state::{FREEZING, FROZEN, RUNNING, THAWED};
        let dir = crate::test_support::scratch_dir("freezer-states");
        let run = |dir: &Path, frozen: bool| {
            let freezer = Freezer {
                dir: dir.to_path_buf(),
                backend: &v1::V1_BACKEND,
            };
            let mut served = Vec::new();
            let r = freezer.change_serving(frozen, Duration::from_secs(1), |s| served.push(s));
            (r.is_ok(), served)
        };
        assert_eq!(run(&dir, true), (true, vec![FREEZING, FROZEN]));
        assert_eq!(run(&dir, false), (true, vec![THAWED]));
        // A freezer that cannot be set: a freeze ends RUNNING, a thaw FROZEN.
        let gone = dir.join("gone");
        assert_eq!(run(&gone, true), (false, vec![FREEZING, RUNNING]));
        assert_eq!(run(&gone, false), (false, vec![FROZEN]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn base_cgroup() {
        assert_eq!(base_cgroup_file(0, false), "/proc/1/cgroup");
        assert_eq!(base_cgroup_file(0, true), "/proc/thread-self/cgroup");
        assert_eq!(base_cgroup_file(1000, false), "/proc/thread-self/cgroup");
        assert_eq!(prune_init_scope("/init.scope"), "/");
        assert_eq!(
            prune_init_scope("/system.slice/init.scope"),
            "/system.slice"
        );
        assert_eq!(prune_init_scope("/a/b"), "/a/b");
        assert_eq!(prune_init_scope("/"), "/");
        assert_eq!(prune_init_scope("/x-init.scope"), "/x-init.scope");
        // Init's cgroups as the base: the container's paths follow them.
        let init = "9:name=systemd:/init.scope\n6:freezer:/\n3:cpuset:/\n1:cpu:/\n0::/init.scope\n";
        let mut hs = hierarchies_from(MOUNTINFO, init);
        for h in &mut hs {
            h.current = prune_init_scope(&h.current).to_string();
        }
        assert!(hs.iter().all(|h| h.current == "/"), "{hs:#?}");
    }

    #[test]
    fn freezer_choice() {
        // Hybrid: the v1 freezer, asked for by its controller.
        let hs = hierarchies_from(MOUNTINFO, PROC_CGROUP);
        let f = Freezer::locate(&hs, |c| c.map(|c| format!("/{c}/x"))).unwrap();
        assert_eq!(f.dir, Path::new("/sys/fs/cgroup/freezer/freezer/x"));
        assert_eq!(f.backend.freeze_write(true), ("freezer.state", "FROZEN"));
        assert!(Freezer::locate(&hs, |_| None).is_none());
        // Pure cgroup2: the unified hierarchy.
        let v2: Vec<_> = hs.into_iter().filter(|h| h.unified).collect();
        let f = Freezer::locate(&v2, |c| c.is_none().then(|| "/x".into())).unwrap();
        assert_eq!(f.dir, Path::new("/sys/fs/cgroup/unified/x"));
        assert_eq!(f.backend.freeze_write(false), ("cgroup.freeze", "0"));
    }

    #[test]
    fn kinds() {
        let hs = hierarchies_from(MOUNTINFO, PROC_CGROUP);
        assert_eq!(hs[0].mount_data(), ("cgroup", "cpu".into()));
        assert_eq!(hs[3].mount_data(), ("cgroup", "none,name=systemd".into()));
        assert_eq!(hs[4].mount_data(), ("cgroup2", String::new()));
        assert!(!pure_cgroup2(&hs));
        assert!(pure_cgroup2(&hs[4..]));
        assert!(!pure_cgroup2(&hs[..0]));
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
