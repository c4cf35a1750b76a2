//! The monitor's side of a restore. The monitor has made what a start
//! makes before init (command socket, cgroups, console and ttys; not the
//! network: CRIU makes the veth pairs as it restores the namespace), then
//! runs CRIU as its child with `--restore-detached --restore-sibling`:
//! CRIU clones the restored init with CLONE_PARENT, so once CRIU exited
//! init is the monitor's child, which it reaps and serves as one it
//! started. CRIU runs in a mount namespace of its own where the rootfs is
//! a mount point (its `--root`); nothing of that reaches the host.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use super::Prepared;
use crate::criu::cmdline::{self, CgroupRoot, Common, Restore};
use crate::error::{Error, Result};
use crate::net::{HostSide, NetPlan};
use crate::spawn::InitProcess;
use crate::spawn::RestoreRequest;
use crate::sys;

/// CRIU gives the ptys it restores onto their dumped owner (fchown),
/// which a read-only devpts refuses (sandboxes mount one over the host's
/// /dev/pts). The restoring monitor then makes the container's ptys in a
/// devpts instance of its own, in a mount namespace of its own (a slave
/// of the host's); nothing of it reaches the host.
pub(crate) fn writable_ptys() -> Result<()> {
    let pts = Path::new("/dev/pts");
    if !sys::is_read_only(pts) {
        return Ok(());
    }
    log::info!("/dev/pts is read-only: the restored container's ptys get a devpts of their own");
    sys::unshare_rslave().map_err(|e| Error::os("Failed to unshare the monitor's mounts", &e))?;
    sys::mount(
        Some("devpts"),
        pts,
        Some("devpts"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )
}

/// The container's new cgroups as CRIU's roots.
fn cgroup_roots(cgroups: &crate::cgroups::ContainerCgroups) -> Vec<CgroupRoot> {
    cgroups
        .dirs
        .iter()
        .filter_map(|(h, dir)| {
            let rel = dir.strip_prefix(&h.mountpoint).ok()?;
            Some(CgroupRoot {
                controllers: h.controllers.clone(),
                path: format!("/{}", rel.display()),
            })
        })
        .collect()
}

fn lsm_profile(lsm: &crate::lsm::LsmAction) -> Option<String> {
    use crate::lsm::LsmAction;
    match lsm {
        LsmAction::AppArmor(p) => Some(format!("apparmor:{p}")),
        LsmAction::SELinux(c) => Some(format!("selinux:{c}")),
        LsmAction::Skip(_) => None,
    }
}

/// Restores the container whose images are in `req.directory` into what
/// `prep` made; the restored init, or an error with nothing of the
/// restore left (the caller removes the cgroups).
pub(crate) fn restore(prep: &Prepared, req: &RestoreRequest) -> Result<InitProcess> {
    let spec = &prep.spec;
    crate::criu::check_container(&spec.net, "restore")?;
    let dir = Path::new(&req.directory);
    let mut net = spec.net.clone();
    crate::net::assign_names(&mut net)?;
    let console = (prep.console.as_ref())
        .zip(prep.terminal_names.console.as_deref())
        .map(|((_, slave), path)| (slave, path));
    let ttys: Vec<(&OwnedFd, &str)> = (prep.ttys.iter())
        .zip(&prep.terminal_names.ttys)
        .map(|((_, slave), path)| (slave, path.as_str()))
        .collect();
    let terminals = crate::criu::terminals::for_restore(dir, console, &ttys)?;
    let inherited: Vec<RawFd> = terminals.iter().map(|t| t.fd).collect();
    // CRIU writes it with O_EXCL: a leftover of an earlier restore goes.
    let pidfile = dir.join("restore.pid");
    let _ = std::fs::remove_file(&pidfile);
    let common = Common {
        criu: req.criu.clone().into(),
        directory: req.directory.clone(),
        verbose: req.verbose,
        action_script: req.action_script.clone(),
        cgroup_roots: cgroup_roots(&prep.cgroups),
        // CRIU binds the source itself, not what it points to: /lib is a
        // symlink on merged-/usr hosts.
        binds: crate::criu::dump::binds(spec)
            .into_iter()
            .map(|(target, source)| {
                let real = std::fs::canonicalize(&source)
                    .map_or(source, |p| p.to_string_lossy().into_owned());
                (target, real)
            })
            .collect(),
    };
    let r = Restore {
        root: spec.rootfs.to_string_lossy().into_owned(),
        pidfile: pidfile.to_string_lossy().into_owned(),
        terminals,
        lsm_profile: lsm_profile(&spec.lsm),
        netdevs: cmdline::netdevs(&net.ifaces, &req.criu_version)?,
    };
    let argv = cmdline::restore(&common, &r);
    let root = crate::storage::rootfs_for_child(&spec.rootfs, spec.rootfs_mount.as_ref())?;
    let mut cmd = crate::criu::run::command(&argv);
    // SAFETY: only raw syscalls between fork and exec (the monitor is
    // single-threaded here anyway).
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            sys::unshare_rslave()?;
            if !root.mount() {
                return Err(std::io::Error::last_os_error());
            }
            for &fd in &inherited {
                sys::keep_on_exec(fd)?;
            }
            Ok(())
        });
    }
    let adopted = crate::criu::run::run(&mut cmd, &argv, "restore", &req.directory)
        .and_then(|()| adopt(&pidfile, spec.clone_flags, &net));
    let _ = std::fs::remove_file(&pidfile);
    adopted.inspect_err(|_| {
        // CRIU removes what it made when it fails, but not a veth end
        // it had already handed to the host.
        HostSide::for_plan(&net).cleanup();
    })
}

/// Takes the restored init over: its pidfd, its network namespace, and
/// the host ends of its veths journaled for the sentinel.
fn adopt(pidfile: &Path, clone_flags: i32, net: &NetPlan) -> Result<InitProcess> {
    let text = std::fs::read_to_string(pidfile)
        .map_err(|e| Error::io("CRIU restored but wrote no pid", pidfile, &e))?;
    let pid: i32 = text
        .trim()
        .parse()
        .map_err(|_| Error::invalid(format!("CRIU's pidfile holds {text:?}")))?;
    let pidfd = sys::pidfd_open(pid).ok_or_else(|| {
        Error::new(
            libc::ESRCH,
            format!("The restored init (pid {pid}) exited at once"),
        )
    })?;
    if !sys::is_live_child(&pidfd) {
        let _ = sys::pidfd_send_signal(&pidfd, libc::SIGKILL);
        return Err(Error::new(
            libc::ECHILD,
            format!("The restored init (pid {pid}) is not the monitor's child, or exited"),
        ));
    }
    crate::journal::note_init(&pidfd);
    let netns = (clone_flags & libc::CLONE_NEWNET != 0)
        .then(|| std::fs::File::open(format!("/proc/{pid}/ns/net")).ok())
        .flatten()
        .map(OwnedFd::from);
    if let Some(ns) = netns
        .as_ref()
        .filter(|_| !crate::net::phys_devices(net).is_empty())
    {
        crate::journal::note_netns(ns);
    }
    HostSide::for_plan(net).journal();
    log::info!("Restored init has pid {pid} (fd {})", pidfd.as_raw_fd());
    Ok(InitProcess {
        pid,
        pidfd,
        net: net.clone(),
        netns,
        seccomp_notify: None,
    })
}
