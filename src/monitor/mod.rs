//! The monitor: one freshly exec'd process per running container. It
//! receives the in-memory configuration from the caller, creates the
//! container, reports RUNNING (or the real error) on a status pipe, then
//! owns the container: command socket, console, cgroups, state clients,
//! reaping init and cleaning up whatever way the container ends.
//!
//! Invocation (by `Container::start`, never by users):
//! `lxc-rs-monitor --name N --lxcpath P --config-file F [--foreground]`
//! with the configuration text on fd 3 and the status pipe on fd 4.

mod cgroup_fds;
mod events;
mod restore;
mod status;
mod stop_hooks;
pub mod terminal;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;

use crate::cgroups::{self, CgroupSetup, ContainerCgroups};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::rootfs::{RootfsPlan, TerminalNames};
use crate::spawn::StartOptions;
use crate::spawn::{self, InitProcess, StartSpec};
use crate::sys;
use stop_hooks::FailedStart;

pub use status::{StatusLine, STATUS_FD};

/// Descriptor carrying the configuration text.
pub const CONFIG_FD: i32 = 3;

/// Descriptor on which the caller sends the cgroup hierarchies it found
/// (`cgroups::handoff`), after the status pipe.
pub const HIERARCHIES_FD: i32 = STATUS_FD + 1;

/// Parsed command line of the monitor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    pub name: String,
    pub lxcpath: String,
    pub config_file: String,
    pub foreground: bool,
    /// Run our reaper as PID 1 (application container).
    pub use_init: bool,
    /// Arguments overriding lxc.init.cmd (after "--").
    pub init_argv: Vec<String>,
    /// Restore the container with CRIU instead of starting init.
    pub restore: Option<crate::spawn::RestoreRequest>,
}

impl Args {
    pub fn parse(argv: &[String]) -> Result<Args> {
        let mut a = Args::default();
        let mut it = argv.iter().skip(1);
        while let Some(arg) = it.next() {
            let mut value = |flag: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| Error::invalid(format!("{flag} needs a value")))
            };
            match arg.as_str() {
                "--name" => a.name = value("--name")?,
                "--lxcpath" => a.lxcpath = value("--lxcpath")?,
                "--config-file" => a.config_file = value("--config-file")?,
                "--foreground" => a.foreground = true,
                "--use-init" => a.use_init = true,
                "--restore" => a.restore_mut().directory = value("--restore")?,
                "--criu" => a.restore_mut().criu = value("--criu")?,
                "--criu-version" => a.restore_mut().criu_version = value("--criu-version")?,
                "--criu-verbose" => a.restore_mut().verbose = true,
                "--criu-action-script" => {
                    a.restore_mut().action_script = Some(value("--criu-action-script")?)
                }
                "--" => {
                    a.init_argv = it.cloned().collect();
                    break;
                }
                other => return Err(Error::invalid(format!("Unknown monitor argument {other}"))),
            }
        }
        if a.name.is_empty() || a.lxcpath.is_empty() {
            return Err(Error::invalid("The monitor needs --name and --lxcpath"));
        }
        if a.restore
            .as_ref()
            .is_some_and(|r| r.directory.is_empty() || r.criu.is_empty())
        {
            return Err(Error::invalid("A restore needs --restore and --criu"));
        }
        Ok(a)
    }

    fn restore_mut(&mut self) -> &mut crate::spawn::RestoreRequest {
        self.restore.get_or_insert_with(Default::default)
    }

    /// The command line `start` passes (argv[0] excluded).
    pub fn to_argv(&self) -> Vec<String> {
        let mut v = vec![
            "--name".into(),
            self.name.clone(),
            "--lxcpath".into(),
            self.lxcpath.clone(),
            "--config-file".into(),
            self.config_file.clone(),
        ];
        if self.foreground {
            v.push("--foreground".into());
        }
        if self.use_init {
            v.push("--use-init".into());
        }
        if let Some(r) = &self.restore {
            v.extend(["--restore".into(), r.directory.clone()]);
            v.extend(["--criu".into(), r.criu.clone()]);
            v.extend(["--criu-version".into(), r.criu_version.clone()]);
            if r.verbose {
                v.push("--criu-verbose".into());
            }
            if let Some(s) = &r.action_script {
                v.extend(["--criu-action-script".into(), s.clone()]);
            }
        }
        if !self.init_argv.is_empty() {
            v.push("--".into());
            v.extend(self.init_argv.iter().cloned());
        }
        v
    }
}

/// Destroys a stopped container (name, lxcpath): what `lxc.ephemeral`
/// does at the end. The binary passes the handle's destroy, which the
/// monitor, below the handle, does not import.
pub type DestroyFn = fn(&str, &str) -> Result<()>;

static DESTROY: std::sync::OnceLock<DestroyFn> = std::sync::OnceLock::new();

/// Destroys the container as [`main`] was told to.
fn destroy_ephemeral(name: &str, lxcpath: &str) -> Result<()> {
    match DESTROY.get() {
        Some(destroy) => destroy(name, lxcpath),
        None => Err(Error::new(
            libc::ENOSYS,
            "No way to destroy the container was given",
        )),
    }
}

/// Entry point of the monitor binary; returns its exit status.
pub fn main(argv: Vec<String>, destroy: DestroyFn) -> i32 {
    let _ = DESTROY.set(destroy);
    let Some((args, mut status, hierarchies)) = detach(&argv) else {
        return 1;
    };
    // Before anything of the container exists, while single-threaded, and
    // early and shallow: the sentinel keeps the heap and the stack it was
    // forked with, so neither holds the configuration yet.
    let sentinel = crate::sentinel::launch(&args.name, &args.lxcpath, !args.foreground);
    let Some(monitor) = start(&args, sentinel, &mut status, hierarchies) else {
        return 1;
    };
    // A sentinel this start had to start greeted it meanwhile.
    crate::sentinel::settle();
    let wait_status = monitor.run();
    status.send(&StatusLine::Exited(wait_status));
    // The monitor's own exit status mirrors init's.
    spawn::exit_code_for(wait_status)
}

/// Reads the arguments and leaves the caller; `None` once a failure was
/// told. With them, the socket of `HIERARCHIES_FD` when the caller passed
/// one.
#[inline(never)]
fn detach(argv: &[String]) -> Option<(Args, status::StatusPipe, Option<OwnedFd>)> {
    // Nothing the caller left open may reach the container.
    sys::raw::close_from(HIERARCHIES_FD + 1);
    sys::cloexec_from(CONFIG_FD);
    let mut status = status::StatusPipe::open();
    let hierarchies = sys::inherited_fd(HIERARCHIES_FD);
    let args = match Args::parse(argv) {
        Ok(a) => a,
        Err(e) => {
            status.send(&StatusLine::Error(e.errno, e.message.clone()));
            return None;
        }
    };
    // Exactly LXC's command line: LXD finds the container of a seccomp
    // notification by the last word of its monitor's /proc/<pid>/cmdline.
    sys::proctitle::set_cmdline(&format!("[lxc monitor] {} {}", args.lxcpath, args.name));
    sys::proctitle::set_comm(c"lxc-monitor");
    if !args.foreground {
        // Spawned detached (`SpawnSetup::detached`): no child of the
        // caller's already, and no process group leader.
        sys::leave_session();
    }
    Some((args, status, hierarchies))
}

/// Reads the configuration, starts the container and tells the caller;
/// `None` once a failure was told. Out of line: its locals are not kept on
/// the stack the monitor idles on.
#[inline(never)]
fn start(
    args: &Args,
    sentinel: Result<()>,
    status: &mut status::StatusPipe,
    hierarchies: Option<OwnedFd>,
) -> Option<Box<events::Monitor>> {
    let config = match read_config(args) {
        Ok(c) => c,
        Err(e) => {
            crate::sentinel::dismiss();
            status.send(&StatusLine::Error(e.errno, e.message.clone()));
            return None;
        }
    };
    let log_level = init_log(args, &config);
    let log_file = crate::log::current_file().map(|p| p.to_string_lossy().into_owned());
    crate::journal::note_log(
        log_file.as_deref().unwrap_or("none"),
        log_level.map_or(-1, |l| l as i32),
    );
    if let Err(e) = sentinel {
        log::warn!(
            "No sentinel for \"{}\" (a monitor killed leaves traces): {}",
            args.name,
            e.message
        );
    }
    // Sent by the caller long before now (it found them while we were
    // executed): nothing to wait for but the message already queued.
    let found = hierarchies.as_ref().and_then(cgroups::handoff::receive);
    drop(hierarchies);
    let early = early_netns(args, &config, found.is_some());
    let monitor = match events::Monitor::start(args, config, found, early) {
        Ok(m) => m,
        Err(e) => {
            log::error!("Failed to start container \"{}\": {}", args.name, e.message);
            // What the failed start made is undone already.
            crate::sentinel::dismiss();
            status.send(&StatusLine::Error(e.errno, e.message.clone()));
            return None;
        }
    };
    status.send(&StatusLine::Running(monitor.init_pid()));
    if !args.foreground {
        status.close();
    }
    Some(monitor)
}

/// The network namespace's thread started as soon as the configuration is
/// read, when nothing must come before it: not after a pre-start hook
/// (which runs before the container's namespaces exist), nor before the
/// monitor finds the hierarchies itself (see [`prepare`]). Init's clone
/// waited for that thread; the command socket and the start's spec now
/// come while it works. With the flags it was started for.
fn early_netns(args: &Args, config: &Config, hierarchies_found: bool) -> Option<EarlyNetns> {
    if args.restore.is_some() || !hierarchies_found || config.conf().has_hook("pre-start") {
        return None;
    }
    let flags = spawn::spec::own_clone_flags(config)?;
    Some((flags, spawn::netns::PendingNetns::start(flags)))
}

/// A network namespace's thread and the clone flags it was started for.
pub(crate) type EarlyNetns = (i32, spawn::netns::PendingNetns);

#[inline(never)]
fn read_config(args: &Args) -> Result<Config> {
    // SAFETY: fd 3 was handed to us by `start` for exactly this.
    let mut file = unsafe { std::fs::File::from_raw_fd(CONFIG_FD) };
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| Error::os("Failed to read the configuration", &e))?;
    Ok(Config::from_replay(&text, &args.config_file)?)
}

/// Sets up the container's log; returns its level, if configured.
fn init_log(args: &Args, config: &Config) -> Option<crate::log::Priority> {
    let conf = config.conf();
    let opts = crate::log::LogOptions {
        name: Some(args.name.clone()),
        lxcpath: Some(args.lxcpath.clone()),
        file: Some(
            conf.log_file
                .as_deref()
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .unwrap_or("none")
                .to_string(),
        ),
        level: crate::log::Priority::from_level(conf.log_level),
        prefix: Some("lxc-monitor".into()),
        quiet: true,
    };
    let _ = crate::log::init(&opts);
    opts.level
}

/// What the monitor sets up before init exists, in LXC's order.
pub(crate) struct Prepared {
    pub spec: StartSpec,
    pub plan: RootfsPlan,
    pub cgroups: ContainerCgroups,
    pub listener: OwnedFd,
    /// (master, slave kept open so the master never reports a hangup).
    pub console: Option<(OwnedFd, OwnedFd)>,
    pub ttys: Vec<(OwnedFd, OwnedFd)>,
    /// Their slaves' paths, bound in the container.
    pub terminal_names: TerminalNames,
    /// The console and ttys still to allocate (whether a console, how
    /// many ttys): a start allocates them once init is cloned.
    pub terminals_due: Option<(bool, usize)>,
    /// Init's network namespace, being made meanwhile (first start only;
    /// a reboot's clone3 makes it).
    pub netns: spawn::netns::PendingNetns,
}

/// A container's console and ttys, ptys of the host's devpts: (master,
/// slave kept open so the master never reports a hangup), and the slaves'
/// paths.
struct HostTerminals {
    console: Option<(OwnedFd, OwnedFd)>,
    ttys: Vec<(OwnedFd, OwnedFd)>,
    names: TerminalNames,
}

impl HostTerminals {
    fn allocate((console, ttys): (bool, usize)) -> Result<HostTerminals> {
        let pair = || -> Result<((OwnedFd, OwnedFd), String)> {
            let pty = crate::pty::allocate(None)?;
            Ok(((pty.master, pty.slave), format!("/dev/pts/{}", pty.number)))
        };
        let mut made = HostTerminals {
            console: None,
            ttys: Vec::with_capacity(ttys),
            names: Default::default(),
        };
        if console {
            let (fds, name) = pair()?;
            made.console = Some(fds);
            made.names.console = Some(name);
        }
        for _ in 0..ttys {
            let (fds, name) = pair()?;
            made.ttys.push(fds);
            made.names.ttys.push(name);
        }
        Ok(made)
    }

    /// Into the prepared container.
    fn install(self, prep: &mut Prepared) {
        prep.console = self.console;
        prep.ttys = self.ttys;
        prep.terminal_names = self.names;
    }
}

/// Everything before init's clone, in LXC's order. `listener` is the
/// command socket, made first by the caller; `failed` gets the start's
/// hooks and the cgroups made, for the end of a start failing from here.
pub(crate) fn prepare(
    args: &Args,
    config: &Config,
    listener: OwnedFd,
    failed: &mut FailedStart,
    found: Option<Vec<cgroups::handoff::Found>>,
    early: Option<EarlyNetns>,
) -> Result<Prepared> {
    let opts = StartOptions {
        argv: args.init_argv.clone(),
        use_init: args.use_init,
        ..Default::default()
    };
    let mut spec = StartSpec::from_config(
        &args.name,
        &args.lxcpath,
        PathBuf::from(&args.config_file),
        config,
        &opts,
    )?;
    let build_dir = spec.build_dir.clone();
    spec.hooks.set_rootfs_mount(&build_dir);
    failed.hooks = spec.hooks.clone();
    // LXC's pre-start: on the host, before cgroups and namespaces.
    spec.hooks.run("pre-start", &[], &[])?;
    // The hierarchies the caller found, else found here. Either before the
    // network namespace's thread: finding them looks paths up through
    // sysfs, which that thread's new namespace writes (see cgroups::files).
    let found = match found {
        Some(found) => found,
        None => cgroups::handoff::find(config.conf().cgroup_relative)?,
    };
    let hierarchies: Vec<_> = found
        .into_iter()
        .filter(|(h, delegated)| {
            if !delegated {
                log::info!(
                    "Skipping cgroup hierarchy {}: {} is not writable (not delegated to us)",
                    h.mountpoint.display(),
                    h.current_dir().display()
                );
            }
            *delegated
        })
        .map(|(h, _)| h)
        .collect();
    // The network namespace is made meanwhile (or since the configuration
    // was read: `early_netns`), on a thread joined before init's clone; the
    // network in it once init runs (after pre-start, which may make what it
    // uses). A restore's come from CRIU.
    let netns = match early {
        Some((flags, netns)) if flags == spec.clone_flags => netns,
        _ if args.restore.is_some() => spawn::netns::PendingNetns::default(),
        _ => spawn::netns::PendingNetns::start(spec.clone_flags),
    };
    let setup = CgroupSetup::from_conf(config.conf())?;
    failed.cgroups = ContainerCgroups::create_with(&hierarchies, &args.name, &setup)?;
    let terminals = (!config.conf().console_disabled(), spec.tty_max as usize);
    // Negative sizes (LXC's int) mean none given.
    let tmpfs_size = u64::try_from(config.conf().autodev_tmpfs_size).unwrap_or(0);
    let plan = RootfsPlan {
        rootfs: spec.build_dir.clone(),
        mount: spec.rootfs_mount.clone(),
        auto: spec.mount_auto.clone(),
        entries: spec.mount_entries.clone(),
        autodev: spec.autodev,
        autodev_tmpfs_size: tmpfs_size * 1024 * 1024,
        pty_max: spec.pty_max,
        hierarchies,
        own_cgroups: failed.cgroups.dirs.clone(),
        cgroupns: spec.new_cgroupns,
        userns: userns_rootfs(&spec),
        options: spec.rootfs_options.clone(),
    };
    let mut prep = Prepared {
        spec,
        plan,
        cgroups: std::mem::take(&mut failed.cgroups),
        listener,
        console: None,
        ttys: Vec::new(),
        terminal_names: TerminalNames::default(),
        terminals_due: Some(terminals),
        netns,
    };
    // CRIU restores onto them; a start makes them once init is cloned.
    if args.restore.is_some() {
        restore::writable_ptys()?;
        HostTerminals::allocate(terminals)?.install(&mut prep);
        prep.terminals_due = None;
    }
    Ok(prep)
}

/// What the rootfs setup does differently in a user namespace.
fn userns_rootfs(spec: &StartSpec) -> Option<crate::rootfs::UsernsRootfs> {
    (spec.clone_flags & libc::CLONE_NEWUSER != 0).then(|| crate::rootfs::UsernsRootfs {
        tty_gid_mapped: crate::idmap::host_id(&spec.idmaps, 'g', 5).is_some(),
    })
}

/// Starts init for a prepared container, or restores it with CRIU (see
/// [`spawn`]).
pub(crate) fn spawn_or_restore(
    args: &Args,
    prep: &mut Prepared,
    failed: &mut FailedStart,
) -> Result<InitProcess> {
    let Some(req) = &args.restore else {
        return spawn(prep, failed);
    };
    let init = restore::restore(prep, req);
    if init.is_err() {
        failed.cgroups = std::mem::take(&mut prep.cgroups);
    }
    init
}

/// Starts init for a prepared container (`failed.cloned` as
/// [`spawn::spawn_init`]'s `cloned_init`). On failure the container's cgroups move to
/// `failed`, for the end of the failed start.
pub(crate) fn spawn(prep: &mut Prepared, failed: &mut FailedStart) -> Result<InitProcess> {
    let mut allocated = None;
    // Allocated by the first start, kept by a reboot's.
    let due = prep.terminals_due.take();
    let kept = &prep.terminal_names;
    let mut terminals = || match due {
        Some(wanted) => {
            let made = HostTerminals::allocate(wanted)?;
            let names = made.names.clone();
            allocated = Some(made);
            Ok(names)
        }
        None => Ok(kept.clone()),
    };
    let root_holder = crate::sentinel::root_holder();
    let init = std::mem::take(&mut prep.netns).finish().and_then(|netns| {
        spawn::spawn_init(
            &prep.spec,
            &prep.plan,
            &mut prep.cgroups,
            netns,
            &mut failed.cloned,
            &mut terminals,
            root_holder,
        )
    });
    if let Some(made) = allocated {
        made.install(prep);
    }
    if init.is_err() {
        failed.cgroups = std::mem::take(&mut prep.cgroups);
    }
    init
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_roundtrip() {
        let a = Args {
            name: "c1".into(),
            lxcpath: "/tmp/p".into(),
            config_file: "/tmp/p/c1/config".into(),
            foreground: true,
            use_init: true,
            init_argv: vec!["/bin/sh".into(), "-c".into(), "echo hi".into()],
            restore: None,
        };
        let mut argv = vec!["[lxc monitor]".to_string()];
        argv.extend(a.to_argv());
        assert_eq!(Args::parse(&argv).unwrap(), a);
        let r = Args {
            init_argv: Vec::new(),
            restore: Some(crate::spawn::RestoreRequest {
                directory: "/tmp/ck".into(),
                criu: "/usr/sbin/criu".into(),
                criu_version: "4.2".into(),
                verbose: true,
                action_script: Some("/bin/true".into()),
            }),
            ..a
        };
        let mut argv = vec!["[lxc monitor]".to_string()];
        argv.extend(r.to_argv());
        assert_eq!(Args::parse(&argv).unwrap(), r);
        assert!(Args::parse(
            &["m", "--name", "c", "--lxcpath", "/p", "--restore", "/d"].map(String::from)
        )
        .is_err());
        assert!(Args::parse(&["m".to_string(), "--bogus".to_string()]).is_err());
        assert!(Args::parse(&["m".to_string()]).is_err());
    }
}
