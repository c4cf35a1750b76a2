//! Creating the container's init: clone into new namespaces, let the parent
//! place it in its cgroups, build the rootfs, pivot, drop privileges, exec.
//!
//! This runs in the monitor, a freshly exec'd single-threaded process, so
//! the child may allocate and use std freely before its exec.

pub mod confine;
mod held_ns;
pub mod netns;
mod reaper;
pub mod signals;
pub mod spec;
pub mod timens;

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

pub use held_ns::{ClonedInit, HeldNamespaces};
pub use reaper::exit_code_for;
pub use spec::{RestoreRequest, StartOptions, StartSpec};

use crate::cgroups::ContainerCgroups;
use crate::error::{Error, Result, ResultExt};
use crate::net::{self, NetPlan};
use crate::rootfs::{RootfsPlan, TerminalNames};
use crate::sys;
use crate::sys::new_root::EnterFailure;

/// The container's init, seen from the monitor.
#[derive(Debug)]
pub struct InitProcess {
    pub pid: i32,
    pub pidfd: OwnedFd,
    /// The network as built (generated veth names filled in).
    pub net: NetPlan,
    /// The container's network namespace, held so it outlives init long
    /// enough to give physical interfaces back.
    pub netns: Option<OwnedFd>,
    /// The listener of init's seccomp notify filter.
    pub seccomp_notify: Option<OwnedFd>,
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Clones init and drives it to its exec. On success init has exec'd; on
/// failure it has exited and the error says which step failed inside.
/// `ahead`: namespaces made ahead (see [`netns`]); init joins them instead
/// of getting them from clone3, and the monitor builds the network in them
/// while init sets up its rootfs. `cloned_init` gets init's pid and namespaces right after the
/// clone, for the stop hooks of a start failing later. `terminals` gives
/// the console and ttys init binds: it runs once init is cloned, so that
/// what it allocates overlaps init's cgroup joins. `root_holder`: the
/// sentinel's holder, through which init enters its root without
/// pivot_root (`sys::new_root`; not in a user namespace, which may not
/// enter it).
pub fn spawn_init(
    spec: &StartSpec,
    plan: &RootfsPlan,
    cgroups: &mut ContainerCgroups,
    ahead: Option<netns::MadeAhead>,
    cloned_init: &mut ClonedInit,
    terminals: &mut dyn FnMut() -> Result<TerminalNames>,
    root_holder: Option<OwnedFd>,
) -> Result<InitProcess> {
    let steps = InitSteps {
        spec,
        plan,
        cloned_init,
        terminals,
        root_holder: root_holder
            .filter(|_| holder_keeps_the_tree(spec.clone_flags, &spec.hooks, &plan.entries)),
    };
    let mut net = spec.net.clone();
    if ahead.is_none() {
        // Init configures its network itself then: it needs the interface
        // names, decided before the clone.
        net::assign_names(&mut net)?;
    }
    spawn_with_network(steps, cgroups, net, ahead)
}

/// What [`spawn_init`] was given, but for the cgroups and the network.
struct InitSteps<'a> {
    spec: &'a StartSpec,
    plan: &'a RootfsPlan,
    cloned_init: &'a mut ClonedInit,
    terminals: &'a mut dyn FnMut() -> Result<TerminalNames>,
    /// Init's copy of it (inherited through the clone) is what it uses.
    root_holder: Option<OwnedFd>,
}

/// The terminals' names as "go" carries them.
impl TerminalNames {
    /// Each path NUL-terminated, the console's first, marked `c`, the
    /// ttys' `t`.
    fn encode(&self) -> Vec<u8> {
        let console = self.console.iter().map(|c| (b'c', c));
        let ttys = self.ttys.iter().map(|t| (b't', t));
        let mut out = Vec::new();
        for (kind, path) in console.chain(ttys) {
            out.push(kind);
            out.extend_from_slice(path.as_bytes());
            out.push(0);
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<TerminalNames> {
        let mut names = TerminalNames::default();
        let bad = || Error::invalid("init got malformed terminal names from the monitor");
        for entry in bytes.split_inclusive(|b| *b == 0) {
            let (kind, path) = entry
                .strip_suffix(&[0])
                .and_then(|e| e.split_first())
                .ok_or_else(bad)?;
            let path = String::from_utf8(path.to_vec()).map_err(|_| bad())?;
            match kind {
                b'c' if names.console.is_none() && names.ttys.is_empty() => {
                    names.console = Some(path)
                }
                b't' => names.ttys.push(path),
                _ => return Err(bad()),
            }
        }
        Ok(names)
    }
}

fn spawn_with_network(
    steps: InitSteps<'_>,
    cgroups: &mut ContainerCgroups,
    net: NetPlan,
    made_ahead: Option<netns::MadeAhead>,
) -> Result<InitProcess> {
    let InitSteps {
        spec,
        plan,
        cloned_init,
        terminals,
        root_holder,
    } = steps;
    let gateways = net::host_gateways(&net)?;
    // Device settings (v1 `devices.*`, the v2 device program) wait until
    // init has made its /dev nodes.
    let sync_devices = cgroups.needs_device_sync();
    let shared = open_shared_namespaces(spec)?;
    // Joining another pid namespace applies to the children we clone next.
    let pid_join = JoinPidNs::enter(&shared)?;
    let (parent_end, child_end) = sys::socketpair_seqpacket()?;
    let into_v2 = cgroups.unified_clone_dir()?;
    // In namespaces made ahead the monitor builds the network after "go"
    // (see `build_network`); init waits for it, and configures nothing.
    let network = if made_ahead.is_some() {
        if network_before_mounts(&spec.hooks, &spec.net, &plan.entries) {
            NetworkWait::BeforeMounts
        } else {
            NetworkWait::BeforeSysctls
        }
    } else {
        NetworkWait::OwnSetup
    };
    let clone_flags = spec.clone_flags & !made_ahead.as_ref().map_or(0, netns::MadeAhead::flags);
    // SAFETY: the monitor is single-threaded.
    let mut cloned = unsafe {
        sys::clone3_fork(
            clone_flags,
            into_v2.as_ref().map(|f| f.as_raw_fd()),
            "the container's init",
        )
    };
    let mut parent_moves_v2 = false;
    if let (Err(e), Some(_)) = (&cloned, &into_v2) {
        // A kernel or cgroup refusing CLONE_INTO_CGROUP: clone without it
        // and move init from here (paying the rwsem's grace period).
        log::info!("{}; moving init into its v2 cgroup afterwards", e.message);
        parent_moves_v2 = true;
        // SAFETY: as above.
        cloned = unsafe { sys::clone3_fork(clone_flags, None, "the container's init") };
    }
    drop(into_v2);
    let Some((pid, pidfd)) = cloned? else {
        drop(parent_end);
        let joined = made_ahead
            .as_ref()
            .map_or(Ok(()), netns::MadeAhead::join)
            .and_then(|()| join_namespaces(&shared))
            .and_then(|()| cgroups.attach_self_v1())
            .and_then(|()| send_parent(&child_end, CGROUPS_SYNC));
        if let Err(e) = joined {
            report_and_exit(&child_end, &e);
        }
        let network = InitNetwork {
            plan: &net,
            gateways: &gateways,
            wait: network,
        };
        let Err(err) = child_main(spec, plan, network, &child_end, sync_devices, root_holder);
        report_and_exit(&child_end, &err);
    };
    drop(child_end);
    drop(root_holder);
    drop(pid_join);
    crate::journal::note_init(&pidfd);
    let held = HeldNamespaces::open_cloned(spec, pid, made_ahead.as_ref());
    let (netns, inside) = made_ahead.map(|m| (m.net, m.inside)).unzip();
    let netns = if netns.is_some() {
        netns
    } else if spec.clone_flags & libc::CLONE_NEWNET != 0 {
        std::fs::File::open(format!("/proc/{pid}/ns/net"))
            .ok()
            .map(OwnedFd::from)
    } else {
        None
    };
    *cloned_init = Some((pid, held));
    // Netlink reaches init's namespace through our descriptor when we
    // hold one: init may not have joined a namespace made ahead yet.
    let ns_ref = match &netns {
        Some(ns) => net::NetnsRef::Fd(ns.as_raw_fd()),
        None => net::NetnsRef::Pid(pid),
    };
    if let Some(ns) = netns
        .as_ref()
        .filter(|_| !net::phys_devices(&net).is_empty())
    {
        // Physical devices come back from there only while it lives.
        crate::journal::note_netns(ns);
    }
    let mut init = InitProcess {
        pid,
        pidfd,
        net,
        netns,
        seccomp_notify: None,
    };
    let mut sock = UnixStream::from(parent_end);
    let mut host = net::HostSide::default();
    if inside.is_none() {
        // Init configures its network once released: the host side first.
        host = match net::setup_host(&init.net, ns_ref) {
            Ok(h) => h,
            Err(e) => {
                kill_and_reap(&init);
                return Err(e);
            }
        };
        let moved = net::run_scripts(&init.net, &spec.hooks, true)
            .and_then(|()| net::move_into(&init.net, ns_ref));
        if let Err(e) = moved {
            abandon(&init, &host);
            return Err(e);
        }
    }
    // Only a step that needs init in its cgroups (the cgroups given to a
    // mapped root, a v2 move from here), or one whose error could hide
    // init's, waits for init to join them: otherwise "go" is queued for
    // init while it joins, and its message is read with the others below.
    let cgroups_first = parent_moves_v2
        || spec.clone_flags & libc::CLONE_NEWUSER != 0
        || spec.rootfs_options.idmap.is_some()
        || spec.confine.acts_from_parent();
    // A mapped root gets the terminals before "go" (they are chowned to
    // it); otherwise init has them while it mounts (see [`TERMINALS`]).
    let names_before_go = spec.clone_flags & libc::CLONE_NEWUSER != 0;
    let mut released = || -> Result<()> {
        let names = if names_before_go {
            Some(terminals()?)
        } else {
            None
        };
        if cgroups_first {
            wait_child_msg(&sock, CGROUPS_SYNC)?;
        }
        if parent_moves_v2 {
            cgroups.attach_unified(pid)?;
        }
        spec.confine
            .apply_from_parent(pid, spec.clone_flags & libc::CLONE_NEWPID != 0)?;
        if let Some(names) = &names {
            setup_userns(spec, names, cgroups, pid)?;
        }
        let tree = idmapped_rootfs(spec, pid)?;
        release_init(&mut sock, names.as_ref(), tree)?;
        if names.is_none() {
            let mut msg = TERMINALS.to_vec();
            msg.extend(terminals()?.encode());
            sock.write_all(&msg)
                .map_err(|e| Error::os("Failed to give init its terminals", &e))?;
        }
        Ok(())
    };
    let parent_steps = released().and_then(|()| match inside {
        Some(mut nl) => {
            build_network(&mut init, &mut host, ns_ref, &mut nl, &gateways, spec)?;
            sock.write_all(NETWORK_READY)
                .map_err(|e| Error::os("Failed to tell init its network is ready", &e))
        }
        None => Ok(()),
    });
    if let Err(e) = parent_steps {
        abandon(&init, &host);
        return Err(reported_error(&sock).unwrap_or(e));
    }
    // EOF means exec succeeded (the socket is close-on-exec); DEVICES_SYNC
    // asks for the device settings; anything else is the child's error.
    // One SEQPACKET message: read it whole (a short buffer truncates it).
    let mut buf = vec![0u8; 8192];
    let mut reset = false;
    let msg = loop {
        let got = recv_from_init(&sock, &mut buf, 0, &mut reset);
        if let Err(e) = &got {
            abandon(&init, &host);
            return Err(Error::new(
                e.errno,
                format!("Lost the container's init during its setup: {}", e.message),
            ));
        }
        let n = got.as_ref().map_or(0, |r| r.len);
        if n == 0 && reset {
            abandon(&init, &host);
            return Err(Error::new(
                libc::ECHILD,
                "The container's init exited during its setup",
            ));
        }
        if &buf[..n] == CGROUPS_SYNC {
            continue;
        }
        if &buf[..n] == crate::seccomp::NOTIFY_SYNC {
            init.seccomp_notify = got.ok().and_then(|mut r| r.fds.pop());
            continue;
        }
        if sync_devices && &buf[..n] == DEVICES_SYNC {
            let applied = cgroups.apply_limits(true).and_then(|()| {
                sock.write_all(b"ok")
                    .map_err(|e| Error::os("Failed to release init after the device limits", &e))
            });
            if let Err(e) = applied {
                abandon(&init, &host);
                return Err(e);
            }
            continue;
        }
        if let Some(recursive) = idmap_request(&buf[..n]) {
            let fds = got.map(|r| r.fds).unwrap_or_default();
            if let Err(e) = answer_idmap(&mut sock, &fds, recursive) {
                abandon(&init, &host);
                return Err(e);
            }
            continue;
        }
        if let Some(text) = buf[..n].strip_prefix(EXEC_ERROR) {
            log::error!("{}", String::from_utf8_lossy(text));
            continue;
        }
        if &buf[..n] == ROOT_ENTERED {
            // Init stays in it until it ends: opened while it runs on.
            let ns = std::fs::File::open(format!("/proc/{pid}/ns/mnt"));
            if let (Ok(ns), Some((_, held))) = (ns, cloned_init.as_mut()) {
                held.entered_root(ns.into());
            }
            continue;
        }
        if &buf[..n] == START_HOST_SYNC {
            if let Err(e) = run_start_host(spec, pid, &mut sock) {
                abandon(&init, &host);
                return Err(e);
            }
            continue;
        }
        break String::from_utf8_lossy(&buf[..n]).into_owned();
    };
    if msg.is_empty() {
        if let Err(e) = net::refresh_proxies(&init.net) {
            log::warn!("Router-mode proxy neighbours: {}", e.message);
        }
        return Ok(init);
    }
    abandon(&init, &host);
    Err(child_error(&msg))
}

/// Where init waits for the network the monitor builds, or whether it
/// configures its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NetworkWait {
    /// Init configures its network right after its release (no
    /// namespace made ahead: the host side was built before).
    OwnSetup,
    /// Before its first mount: a hook or a mount may use the network.
    BeforeMounts,
    /// After its mounts, before its sysctls (which may name the
    /// container's interfaces) and anything that runs the container's code.
    BeforeSysctls,
}

/// Init's network: its plan, the bridges' addresses for automatic
/// gateways, and who configures it.
struct InitNetwork<'a> {
    plan: &'a NetPlan,
    gateways: &'a [net::Gateways],
    wait: NetworkWait,
}

/// Whether init's rootfs setup may need the container's network: a hook
/// it runs (pre-mount, mount, autodev) or a mount entry of a filesystem
/// other than the kernel's local ones (NFS, CIFS...), which LXC makes with
/// the network configured. With `up` scripts too, which LXC runs before
/// init goes on, and with idmapped mount entries: the monitor answers
/// init's requests for those only once the network is built, so init
/// would wait for it there anyway.
fn network_before_mounts(
    hooks: &crate::hooks::Hooks,
    net: &NetPlan,
    entries: &[crate::rootfs::MountEntry],
) -> bool {
    const LOCAL: &[&str] = &[
        "",
        "none",
        "bind",
        "tmpfs",
        "proc",
        "sysfs",
        "devpts",
        "mqueue",
        "cgroup",
        "cgroup2",
        "overlay",
        "ramfs",
        "devtmpfs",
        "securityfs",
        "debugfs",
        "tracefs",
        "hugetlbfs",
        "binfmt_misc",
        "fusectl",
        "pstore",
        "bpf",
        "configfs",
        "efivarfs",
        "squashfs",
        "ext2",
        "ext3",
        "ext4",
        "xfs",
        "btrfs",
        "vfat",
        "iso9660",
    ];
    ["pre-mount", "mount", "autodev"]
        .iter()
        .any(|hook| hooks.has(hook))
        || net.ifaces.iter().any(|i| i.up_script.is_some())
        || entries
            .iter()
            .any(|e| e.idmap.is_some() || !LOCAL.contains(&e.fstype.as_str()))
}

/// In the monitor once init is released, in namespaces made ahead: the
/// host side (veth pairs made with their container end inside, bridge
/// ports), the `up` scripts, the devices moved in, then the inside
/// configured through `nl`, a socket of the container's namespace (what
/// init otherwise does itself: names, addresses, routes, links up).
fn build_network(
    init: &mut InitProcess,
    host: &mut net::HostSide,
    ns: net::NetnsRef,
    nl: &mut crate::net::netlink::Rtnl,
    gateways: &[net::Gateways],
    spec: &StartSpec,
) -> Result<()> {
    net::assign_names(&mut init.net)?;
    *host = net::setup_host(&init.net, ns)?;
    net::run_scripts(&init.net, &spec.hooks, true)?;
    net::move_into(&init.net, ns)?;
    net::configure_inside(nl, &init.net, gateways)
}

/// What the monitor sends init once it built its network (see
/// [`NetworkWait`]), whatever init is waiting for then.
const NETWORK_READY: &[u8] = b"network";

/// Init's side of its socket once released: its requests and the
/// monitor's answers. Two notes may come before an answer, in any order:
/// [`NETWORK_READY`] and the terminals' names ([`TERMINALS`], unless "go"
/// carried them); each is kept and the answer read next.
struct MonitorLink<'a> {
    sock: &'a OwnedFd,
    /// Room for the largest message the monitor may send (see
    /// [`message_room`]).
    room: usize,
    network_ready: std::cell::Cell<bool>,
    terminals: std::cell::RefCell<Option<TerminalNames>>,
}

/// Room for any message of the monitor's to an init with `tty_max` ttys:
/// an answer (an error's text), or "go" or [`TERMINALS`] with the names
/// (a path is at most 20 bytes, "/dev/pts/" and a u32, and its kind and
/// NUL).
fn message_room(tty_max: u32) -> usize {
    8192 + 24 * (tty_max as usize + 1)
}

impl<'a> MonitorLink<'a> {
    fn new(sock: &'a OwnedFd, room: usize, terminals: Option<TerminalNames>) -> MonitorLink<'a> {
        MonitorLink {
            sock,
            room,
            network_ready: std::cell::Cell::new(false),
            terminals: std::cell::RefCell::new(terminals),
        }
    }

    /// The monitor's next message but the notes (empty: it went away).
    fn answer(&self) -> Result<Vec<u8>> {
        loop {
            if let Some(msg) = self.read_one()? {
                return Ok(msg);
            }
        }
    }

    /// One message of the monitor's; None when it was a note (kept).
    fn read_one(&self) -> Result<Option<Vec<u8>>> {
        let mut buf = vec![0u8; self.room];
        let n = crate::sys::socket::recv_msg(self.sock, &mut buf)?.len;
        buf.truncate(n);
        Ok((!self.noted(&buf)?).then_some(buf))
    }

    /// Keeps `msg` if it is a note; whether it was.
    fn noted(&self, msg: &[u8]) -> Result<bool> {
        if msg == NETWORK_READY {
            self.network_ready.set(true);
            return Ok(true);
        }
        match msg.strip_prefix(TERMINALS) {
            Some(names) => {
                *self.terminals.borrow_mut() = Some(TerminalNames::decode(names)?);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Reads notes until `done` (`what` names it in the error): nothing
    /// else may come first.
    fn wait_for(&self, done: impl Fn(&Self) -> bool, what: &str) -> Result<()> {
        while !done(self) {
            // A note that cannot be read (a malformed one) says so itself.
            match self.read_one()? {
                None => {}
                Some(msg) if msg.is_empty() => {
                    return Err(Error::new(
                        libc::EPIPE,
                        format!("The monitor went away before {what}"),
                    ))
                }
                Some(_) => {
                    return Err(Error::new(
                        libc::EPROTO,
                        format!("The monitor sent something else before {what}"),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Waits for [`NETWORK_READY`] unless it came already.
    fn wait_network(&self) -> Result<()> {
        self.wait_for(
            |l| l.network_ready.get(),
            "the container's network was ready",
        )
    }

    /// The console's and ttys' names, waited for unless they came.
    fn terminals(&self) -> Result<TerminalNames> {
        self.wait_for(
            |l| l.terminals.borrow().is_some(),
            "the container's terminals were allocated",
        )?;
        Ok(self.terminals.borrow().clone().unwrap_or_default())
    }

    /// Sends `msg` and waits for the monitor's "ok" (`what` names the step
    /// in the error).
    fn ask(&self, msg: &[u8], what: &str) -> Result<()> {
        let ok = send_parent(self.sock, msg).is_ok() && self.answer().is_ok_and(|r| r == b"ok");
        if !ok {
            return Err(Error::new(
                libc::EPIPE,
                format!("The monitor did not release init after {what}"),
            ));
        }
        Ok(())
    }
}

/// The error init reported and we have not read, if any: a step of ours
/// failing once init runs (EPIPE writing to it) most often follows init's
/// own failure, whose cause is the one to give.
fn reported_error(sock: &UnixStream) -> Option<Error> {
    let mut buf = vec![0u8; 8192];
    let mut reset = false;
    loop {
        let Ok(got) = recv_from_init(sock, &mut buf, libc::MSG_DONTWAIT, &mut reset) else {
            return None;
        };
        let msg = &buf[..got.len];
        if msg.is_empty() {
            return None;
        }
        // Errors are "<errno> <text>"; requests and notes are words.
        if msg[0].is_ascii_digit() {
            return Some(child_error(&String::from_utf8_lossy(msg)));
        }
    }
}

/// One message of init's (recv with `flags`). When init ended with
/// something of ours unread, which only a failure inside does (it reads all
/// before its exec), the kernel says so (ECONNRESET) once, before giving
/// what init sent: that is noted in `reset` and the read goes on.
fn recv_from_init(
    sock: &UnixStream,
    buf: &mut [u8],
    flags: libc::c_int,
    reset: &mut bool,
) -> Result<crate::sys::socket::Received> {
    loop {
        match crate::sys::socket::recv_msg_flags(sock, buf, flags) {
            Err(e) if e.errno == libc::ECONNRESET && !*reset => *reset = true,
            got => return got,
        }
    }
}

/// The error init reported ("<errno> <text>", see `report_and_exit`).
fn child_error(msg: &str) -> Error {
    let (errno, text) = msg.split_once(' ').unwrap_or(("5", msg));
    Error::new(errno.parse().unwrap_or(libc::EIO), text.to_string())
}

/// Waits for init's `expected` message; anything else is its error (or
/// its end).
fn wait_child_msg(sock: &UnixStream, expected: &[u8]) -> Result<()> {
    let mut buf = vec![0u8; 8192];
    let n = crate::sys::socket::recv_msg(sock, &mut buf)?.len;
    if &buf[..n] == expected {
        return Ok(());
    }
    if n == 0 {
        return Err(Error::new(
            libc::ECHILD,
            "The container's init exited during its setup",
        ));
    }
    Err(child_error(&String::from_utf8_lossy(&buf[..n])))
}

/// In init: one message to the monitor.
fn send_parent(sock: &OwnedFd, msg: &[u8]) -> Result<()> {
    // SAFETY: writing a buffer we own on our socket.
    let n = unsafe {
        libc::write(
            sock.as_raw_fd(),
            msg.as_ptr() as *const libc::c_void,
            msg.len(),
        )
    };
    if n != msg.len() as isize {
        return Err(Error::new(
            libc::EPIPE,
            "The monitor went away during init's setup",
        ));
    }
    Ok(())
}

/// With `lxc.idmap`, before init goes on: its uid/gid maps, and its
/// cgroups, console and ttys given to the container's root on the host.
fn setup_userns(
    spec: &StartSpec,
    terminals: &TerminalNames,
    cgroups: &ContainerCgroups,
    pid: i32,
) -> Result<()> {
    if spec.clone_flags & libc::CLONE_NEWUSER == 0 {
        return Ok(());
    }
    crate::idmap::write_maps(pid, &spec.idmaps)?;
    cgroups.chown_to(&spec.idmaps)?;
    let ptys: Vec<PathBuf> = terminals
        .console
        .iter()
        .chain(terminals.ttys.iter())
        .map(PathBuf::from)
        .collect();
    use crate::idmap::mapped::{chown_mapped, Who};
    chown_mapped(&spec.idmaps, &ptys, (Who::Root, Who::Root), true)
}

/// With `idmap=` in `lxc.rootfs.options`: the rootfs idmapped to the
/// container's (or the named) user namespace, built here in the host's
/// user namespace once init's maps are written.
fn idmapped_rootfs(spec: &StartSpec, pid: i32) -> Result<Option<OwnedFd>> {
    use crate::rootfs::IdmapSource;
    let userns = match &spec.rootfs_options.idmap {
        None => return Ok(None),
        Some(IdmapSource::Container) => PathBuf::from(format!("/proc/{pid}/ns/user")),
        Some(IdmapSource::Path(p)) => p.clone(),
    };
    crate::rootfs::options::idmapped_tree(&spec.rootfs, &userns, &spec.rootfs_options).map(Some)
}

/// Lets init go on, handing it the idmapped rootfs if there is one and
/// its console's and ttys' names if known already (else [`TERMINALS`]
/// follows).
fn release_init(
    sock: &mut UnixStream,
    terminals: Option<&TerminalNames>,
    tree: Option<OwnedFd>,
) -> Result<()> {
    let mut msg = GO.to_vec();
    match terminals {
        Some(names) => {
            msg.push(NAMES_NOW);
            msg.extend(names.encode());
        }
        None => msg.push(NAMES_LATER),
    }
    let sent = match &tree {
        Some(t) => crate::sys::socket::send_with_fd(sock, &msg, t.as_raw_fd()).map(drop),
        None => sock
            .write_all(&msg)
            .map_err(|e| Error::os("Failed to write to init's socket", &e)),
    };
    sent.context("Failed to release init")
}

/// What releases init once the monitor's steps are done; then
/// [`NAMES_NOW`] and the terminals' names, or [`NAMES_LATER`].
const GO: &[u8] = b"go";
const NAMES_NOW: u8 = b'=';
const NAMES_LATER: u8 = b'+';

/// The terminals' names, after a "go" that did not carry them: init needs
/// them only at the end of its rootfs, so the monitor allocates them
/// while init mounts (made before "go", they were what init waited for).
const TERMINALS: &[u8] = b"terminals ";

/// Init's reading of "go" after [`GO`]: the names, if they came.
fn names_in_go(rest: &[u8]) -> Result<Option<TerminalNames>> {
    match rest.split_first() {
        Some((&NAMES_NOW, names)) => TerminalNames::decode(names).map(Some),
        Some((&NAMES_LATER, [])) => Ok(None),
        _ => Err(Error::invalid(
            "init got a malformed \"go\" from the monitor",
        )),
    }
}

/// Whether init may enter its root through the holder: not in a user
/// namespace (which may not enter the host's), and only when the clone of
/// its tree keeps every mount: the kernel leaves unbindable ones out of a
/// clone, and a mount entry or a hook run in init's namespace could make
/// some (`pivot_root` then, which moves the tree as it is).
fn holder_keeps_the_tree(
    clone_flags: i32,
    hooks: &crate::hooks::Hooks,
    entries: &[crate::rootfs::MountEntry],
) -> bool {
    clone_flags & libc::CLONE_NEWUSER == 0
        && !entries.iter().any(|e| e.flags & libc::MS_UNBINDABLE != 0)
        && !["pre-mount", "mount", "autodev"]
            .iter()
            .any(|hook| hooks.has(hook))
}

/// Makes init's finished rootfs its root: through the sentinel's holder
/// when there is one (no pivot_root, whose cost grows with the host's
/// tasks: `sys::new_root`), else with pivot_root. Whether it went through
/// the holder (init is then in another mount namespace).
fn enter_root(rootfs: &Path, holder: Option<OwnedFd>) -> Result<bool> {
    if let Some(holder) = holder {
        match sys::new_root::enter_through_holder(rootfs, holder.as_fd()) {
            Ok(()) => {
                log::debug!("Entered the rootfs through the sentinel's holder");
                return Ok(true);
            }
            Err(EnterFailure::After(e)) => return Err(e),
            Err(EnterFailure::Before(e)) => log::info!("{}; pivot_root instead", e.message),
        }
    }
    sys::new_root::pivot_root_here(rootfs).map(|()| false)
}

/// Undoes a start that failed once init existed: physical interfaces go
/// back to the host, init dies, the host veth ends go.
fn abandon(init: &InitProcess, host: &net::HostSide) {
    if let (Some(ns), Ok(own)) = (&init.netns, std::fs::File::open("/proc/self/ns/net")) {
        net::restore_phys(&init.net, ns, &OwnedFd::from(own));
        crate::journal::forget_netns();
    }
    kill_and_reap(init);
    host.cleanup();
}

/// `lxc.hook.start-host`: in the monitor once init is set up (pivoted,
/// devices limited), before it drops its capabilities and execs.
fn run_start_host(spec: &StartSpec, pid: i32, sock: &mut UnixStream) -> Result<()> {
    spec.hooks
        .run("start-host", &[("LXC_PID".into(), pid.to_string())], &[])?;
    sock.write_all(b"ok")
        .map_err(|e| Error::os("Failed to release init after lxc.hook.start-host", &e))
}

/// Kills a half-started init and reaps it.
pub fn kill_and_reap(init: &InitProcess) {
    let _ = sys::pidfd_send_signal(&init.pidfd, libc::SIGKILL);
    let _ = sys::wait_status(init.pid, 0);
}

fn report_and_exit(sock: &OwnedFd, err: &Error) -> ! {
    let msg = format!("{} {}", err.errno, err.message);
    // SAFETY: writing a buffer we own, then leaving without unwinding or
    // running the monitor's atexit handlers.
    unsafe {
        libc::write(
            sock.as_raw_fd(),
            msg.as_ptr() as *const libc::c_void,
            msg.len(),
        );
        libc::_exit(1)
    }
}

/// What init sends once it moved itself into its v1 cgroups.
const CGROUPS_SYNC: &[u8] = b"cgroups";

/// What init sends once its rootfs and stdio are set up, when `devices.*`
/// settings are to be written before it goes on.
const DEVICES_SYNC: &[u8] = b"devices";

/// What init sends, when start-host hooks are configured, once it is set
/// up; it goes on when the monitor has run them.
const START_HOST_SYNC: &[u8] = b"start-host";

/// What init sends once it entered its root through the holder: its mount
/// namespace is not the one it was cloned with, which the monitor held for
/// the stop hooks (see `HeldNamespaces::entered_root`).
const ROOT_ENTERED: &[u8] = b"root-entered";

/// What init sends with a detached mount entry and a user namespace to
/// have the mount idmapped (`idmap=` in `lxc.mount.entry`); the second
/// asks for the mounts below it too.
const IDMAP_SYNC: &[u8] = b"idmap";
const IDMAP_REC_SYNC: &[u8] = b"idmap-rec";

/// Whether `msg` asks for an idmapped mount, and whether recursively.
fn idmap_request(msg: &[u8]) -> Option<bool> {
    match msg {
        IDMAP_SYNC => Some(false),
        IDMAP_REC_SYNC => Some(true),
        _ => None,
    }
}

/// In the monitor: idmaps the tree init sent ([tree, user namespace])
/// and answers "ok" or the error ("<errno> <text>"); Err only when init
/// cannot be answered.
fn answer_idmap(sock: &mut UnixStream, fds: &[OwnedFd], recursive: bool) -> Result<()> {
    let done = match fds {
        [tree, ns] => crate::rootfs::options::idmap_tree(
            tree.as_fd(),
            ns.as_fd(),
            recursive,
            Default::default(),
            "the bind",
        ),
        _ => Err(Error::invalid(
            "init asked for an idmapped mount without its two descriptors",
        )),
    };
    let answer = match done {
        Ok(()) => b"ok".to_vec(),
        Err(e) => format!("{} {}", e.errno, e.message).into_bytes(),
    };
    sock.write_all(&answer)
        .map_err(|e| Error::os("Failed to answer init's idmap request", &e))
}

/// In init: has the monitor idmap `tree` to `userns`.
fn request_idmap(
    link: &MonitorLink<'_>,
    tree: std::os::fd::BorrowedFd<'_>,
    userns: std::os::fd::BorrowedFd<'_>,
    recursive: bool,
) -> Result<()> {
    let msg = if recursive {
        IDMAP_REC_SYNC
    } else {
        IDMAP_SYNC
    };
    crate::sys::socket::send_with_fds(link.sock, msg, &[tree.as_raw_fd(), userns.as_raw_fd()])?;
    match link.answer()?.as_slice() {
        b"ok" => Ok(()),
        [] => Err(Error::new(
            libc::EPIPE,
            "The monitor went away during an idmapped mount",
        )),
        other => Err(child_error(&String::from_utf8_lossy(other))),
    }
}

/// The prefix of what an application container's PID 1 sends when its
/// command could not be executed (the container still starts, as LXC's).
const EXEC_ERROR: &[u8] = b"exec-error ";

pub(crate) enum Never {}

/// The child's side; returns only on failure.
fn child_main(
    spec: &StartSpec,
    plan: &RootfsPlan,
    network: InitNetwork<'_>,
    sock: &OwnedFd,
    sync_devices: bool,
    root_holder: Option<OwnedFd>,
) -> Result<Never> {
    // Die with the monitor rather than outlive it unsupervised
    // (`lxc.monitor.signal.pdeath`, SIGKILL by default).
    spec.confine.set_pdeath_signal();
    // A monitor that already serves (reboot) has its signals blocked for
    // its signalfd and SIGPIPE ignored: init starts with neither.
    // SAFETY: resetting this process's own mask and one disposition.
    unsafe {
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // "go", with the idmapped rootfs when there is one, and maybe the
    // terminals' names.
    let room = message_room(spec.tty_max);
    let mut go = vec![0u8; room];
    let (idmapped, terminals) = match crate::sys::socket::recv_msg(sock, &mut go) {
        Ok(mut r) if go[..r.len].starts_with(GO) => {
            (r.fds.pop(), names_in_go(&go[GO.len()..r.len])?)
        }
        _ => {
            return Err(Error::new(
                libc::EPIPE,
                "The monitor went away before init was released",
            ))
        }
    };
    let link = MonitorLink::new(sock, room, terminals);
    let timens_offsets = spec
        .time_ns
        .as_ref()
        .map(|_| timens::open_offsets())
        .transpose()?;
    // Our maps are written now: become root of the user namespace
    // (which clears the parent-death signal: set it again).
    if spec.clone_flags & libc::CLONE_NEWUSER != 0 {
        crate::idmap::become_root()?;
        spec.confine.set_pdeath_signal();
    }
    // Entered only now, so the cgroup namespace is rooted at the
    // container's cgroup that the parent just moved us into.
    // SAFETY: unshare with a flag.
    if spec.new_cgroupns && unsafe { libc::unshare(libc::CLONE_NEWCGROUP) } < 0 {
        return Err(Error::last_os("Failed to create the cgroup namespace"));
    }
    if let (Some(offsets), Some(file)) = (&spec.time_ns, timens_offsets) {
        timens::enter_new(offsets, file)?;
    }
    spec.confine.join_session_keyring();
    match network.wait {
        // The moved interfaces are here now: configure them from inside.
        NetworkWait::OwnSetup => net::setup_inside(network.plan, network.gateways)?,
        NetworkWait::BeforeMounts => link.wait_network()?,
        NetworkWait::BeforeSysctls => {}
    }
    let hook_env = child_hook_env(spec);
    run_pre_mount(spec, &hook_env)?;
    plan.setup_with(
        idmapped.as_ref(),
        &mut || link.terminals(),
        &mut |hook| spec.hooks.run(hook, &hook_env, &[]),
        &mut |tree, userns, recursive| request_idmap(&link, tree, userns, recursive),
    )?;
    drop(idmapped);
    if enter_root(&plan.rootfs, root_holder)? {
        send_parent(sock, ROOT_ENTERED)?;
    }
    sys::sethostname(&spec.uts_name)?;
    if network.wait == NetworkWait::BeforeSysctls {
        link.wait_network()?;
    }
    spec.confine.write_sysctls()?;
    setup_stdio(link.terminals()?.console.is_some())?;
    if sync_devices {
        // The `devices.*` settings, after autodev's mknod and the opening
        // of /dev/console, which they may forbid.
        link.ask(DEVICES_SYNC, "the device cgroup limits")?;
    }
    if spec.hooks.has("start-host") {
        link.ask(START_HOST_SYNC, "lxc.hook.start-host")?;
    }
    crate::caps::drop_bounding(&spec.caps_drop)?;
    if spec.no_new_privs {
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
            return Err(Error::last_os("Failed to set no_new_privs"));
        }
    }
    match &spec.lsm {
        crate::lsm::LsmAction::Skip(why) => log::info!("LSM: {why}"),
        action => crate::lsm::apply(action)?,
    }
    if let Some(profile) = &spec.seccomp {
        crate::seccomp::install_in_init(profile, sock)?;
    }
    // Inside the container, with its final privileges but before the
    // ids switch, as LXC's.
    spec.hooks.run("start", &hook_env, &[])?;
    switch_ids(spec.init_uid, spec.init_gid, &spec.init_groups)?;
    std::env::set_current_dir(&spec.init_cwd).map_err(|e| {
        Error::io(
            "Failed to enter lxc.init.cwd",
            Path::new(&spec.init_cwd),
            &e,
        )
    })?;
    exec_init(spec, sock)
}

/// The environment of the hooks init runs: the container's
/// `lxc.environment` on top of the hooks' own (LXC sets both in init).
fn child_hook_env(spec: &StartSpec) -> Vec<(String, String)> {
    spec.environment
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `lxc.hook.pre-mount`: in the container's mount namespace (made a
/// slave first, so nothing a hook mounts reaches the host), before any
/// of the container's mounts.
fn run_pre_mount(spec: &StartSpec, env: &[(String, String)]) -> Result<()> {
    if !spec.hooks.has("pre-mount") {
        return Ok(());
    }
    sys::make_rslave()
        .map_err(|e| Error::io("Failed to make a recursive slave of", Path::new("/"), &e))?;
    spec.hooks.run("pre-mount", env, &[])
}

/// New session with /dev/console as controlling terminal and stdio.
fn setup_stdio(has_console: bool) -> Result<()> {
    // SAFETY: plain syscalls on descriptors we own.
    unsafe {
        libc::setsid();
        let path = if has_console {
            c"/dev/console"
        } else {
            c"/dev/null"
        };
        let fd = libc::open(path.as_ptr(), libc::O_RDWR);
        if fd < 0 {
            return Err(Error::last_os(format_args!(
                "Failed to open {}",
                path.to_string_lossy()
            )));
        }
        if has_console {
            libc::ioctl(fd, libc::TIOCSCTTY, 0);
        }
        for target in 0..3 {
            libc::dup2(fd, target);
        }
        if fd > 2 {
            libc::close(fd);
        }
    }
    Ok(())
}

/// Init's ids and supplementary groups (`lxc.init.uid/gid/groups`).
fn switch_ids(uid: u32, gid: u32, groups: &[u32]) -> Result<()> {
    if uid == 0 && gid == 0 && groups.is_empty() {
        return Ok(());
    }
    // SAFETY: plain syscalls on a slice we own.
    unsafe {
        if libc::setgroups(groups.len(), groups.as_ptr()) < 0
            || libc::setgid(gid) < 0
            || libc::setuid(uid) < 0
        {
            return Err(Error::last_os(format_args!(
                "Failed to switch to uid {uid} gid {gid} groups {groups:?}"
            )));
        }
    }
    Ok(())
}

/// Opens the namespaces named by `lxc.namespace.share.*`.
fn open_shared_namespaces(spec: &StartSpec) -> Result<Vec<(i32, OwnedFd)>> {
    spec.shared_ns
        .iter()
        .map(|(flag, path)| {
            // Namespace files are regular (nsfs): a FIFO would block start.
            crate::sys::open_regular(Path::new(path), libc::O_RDONLY)
                .map(|f| (*flag, OwnedFd::from(f)))
                .context("Failed to open the shared namespace")
        })
        .collect()
}

/// In init, before anything else: join the shared namespaces (the pid
/// namespace was joined by the parent for its children).
fn join_namespaces(shared: &[(i32, OwnedFd)]) -> Result<()> {
    for (flag, fd) in shared.iter().filter(|(f, _)| *f != libc::CLONE_NEWPID) {
        // SAFETY: setns on a namespace descriptor we own.
        if unsafe { libc::setns(fd.as_raw_fd(), *flag) } < 0 {
            return Err(Error::last_os(format_args!(
                "Failed to join the shared namespace {flag:#x}"
            )));
        }
    }
    Ok(())
}

/// The monitor's pid namespace for children, switched to a shared one for
/// the clone of init and restored when dropped.
struct JoinPidNs {
    own: Option<OwnedFd>,
}

impl JoinPidNs {
    fn enter(shared: &[(i32, OwnedFd)]) -> Result<JoinPidNs> {
        let Some((_, target)) = shared.iter().find(|(f, _)| *f == libc::CLONE_NEWPID) else {
            return Ok(JoinPidNs { own: None });
        };
        let own: OwnedFd = std::fs::File::open("/proc/self/ns/pid")
            .map_err(|e| Error::io("Failed to open", Path::new("/proc/self/ns/pid"), &e))?
            .into();
        // SAFETY: setns on a pid namespace descriptor we own.
        if unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWPID) } < 0 {
            return Err(Error::last_os("Failed to join the shared pid namespace"));
        }
        Ok(JoinPidNs { own: Some(own) })
    }
}

impl Drop for JoinPidNs {
    fn drop(&mut self) {
        if let Some(own) = &self.own {
            // SAFETY: back to our own pid namespace for later children.
            unsafe { libc::setns(own.as_raw_fd(), libc::CLONE_NEWPID) };
        }
    }
}

/// The environment of init: only what LXC gives it.
fn init_environment(spec: &StartSpec) -> Vec<String> {
    let mut env = vec!["container=lxc".to_string(), format!("PATH={DEFAULT_PATH}")];
    env.extend(spec.environment.iter().cloned());
    env
}

fn exec_init(spec: &StartSpec, sock: &OwnedFd) -> Result<Never> {
    let argv: Vec<CString> = spec
        .init_argv
        .iter()
        .map(|a| sys::cstring(a))
        .collect::<Result<_>>()?;
    let envp: Vec<CString> = init_environment(spec)
        .iter()
        .map(|e| sys::cstring(e))
        .collect::<Result<_>>()?;
    let program = resolve_program(&spec.init_argv[0]);
    let prog = sys::cpath(&program)?;
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut env_ptrs: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    env_ptrs.push(std::ptr::null());
    // Nothing of the monitor may reach the container.
    sys::cloexec_from(3);
    if spec.use_init {
        // The container runs on without its command: the monitor logs why.
        let note = |e: Error| {
            let text = format!("Failed to exec {}: {}", program.display(), e.message);
            let _ = send_parent(sock, &[EXEC_ERROR, text.as_bytes()].concat());
        };
        return reaper::run(&prog, &argv_ptrs, &env_ptrs, sock.as_raw_fd(), note);
    }
    // SAFETY: NULL-terminated arrays of valid C strings.
    unsafe { libc::execve(prog.as_ptr(), argv_ptrs.as_ptr(), env_ptrs.as_ptr()) };
    Err(Error::last_os(format_args!(
        "Failed to exec init {}",
        program.display()
    )))
}

fn resolve_program(name: &str) -> std::path::PathBuf {
    if name.contains('/') {
        return name.into();
    }
    DEFAULT_PATH
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| name.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_waits_for_its_network_before_mounting_only_what_may_use_it() {
        use crate::rootfs::MountEntry;
        let none = crate::hooks::Hooks::default();
        let net = NetPlan::default();
        let entry = |line: &str| MountEntry::parse(line).unwrap();
        let local = [
            entry("/lib lib none ro,bind 0 0"),
            entry("tmpfs tmp tmpfs defaults 0 0"),
            entry("proc proc proc defaults 0 0"),
        ];
        assert!(!network_before_mounts(&none, &net, &local));
        for remote in [
            "srv:/export mnt/nfs nfs ro 0 0",
            "//srv/share mnt/smb cifs guest 0 0",
            "/srv mnt/idm none bind,idmap=container 0 0",
        ] {
            assert!(
                network_before_mounts(&none, &net, &[entry(remote)]),
                "{remote}"
            );
        }
        for hook in ["pre-mount", "mount", "autodev"] {
            assert!(
                network_before_mounts(&hook_only(hook), &net, &local),
                "{hook}"
            );
        }
        assert!(!network_before_mounts(&hook_only("start"), &net, &local));
    }

    /// Hooks with `/bin/true` as `name`'s only script.
    fn hook_only(name: &str) -> crate::hooks::Hooks {
        let mut hooks = crate::hooks::Hooks::default();
        let at = crate::config::HOOK_NAMES.iter().position(|h| *h == name);
        hooks.scripts[at.unwrap()] = vec!["/bin/true".into()];
        hooks
    }

    #[test]
    fn the_holder_is_used_only_where_the_tree_s_clone_keeps_every_mount() {
        use crate::rootfs::MountEntry;
        let none = crate::hooks::Hooks::default();
        let entry = |line: &str| MountEntry::parse(line).unwrap();
        let plain = [entry("/lib lib none ro,bind 0 0")];
        assert!(holder_keeps_the_tree(libc::CLONE_NEWNS, &none, &plain));
        assert!(!holder_keeps_the_tree(
            libc::CLONE_NEWNS | libc::CLONE_NEWUSER,
            &none,
            &plain
        ));
        for unbindable in [
            "/srv srv none bind,unbindable 0 0",
            "/srv srv none rbind,runbindable 0 0",
        ] {
            assert!(
                !holder_keeps_the_tree(libc::CLONE_NEWNS, &none, &[entry(unbindable)]),
                "{unbindable}"
            );
        }
        for hook in ["pre-mount", "mount", "autodev"] {
            assert!(
                !holder_keeps_the_tree(libc::CLONE_NEWNS, &hook_only(hook), &plain),
                "{hook}"
            );
        }
        assert!(holder_keeps_the_tree(
            libc::CLONE_NEWNS,
            &hook_only("start"),
            &plain
        ));
    }

    /// The monitor's end (to write to) and init's end of a start's socket.
    fn monitor_and_init() -> (UnixStream, OwnedFd) {
        let (monitor, init) = sys::socketpair_seqpacket().unwrap();
        (UnixStream::from(monitor), init)
    }

    /// A fresh link of init with one tty, the names not in "go".
    fn link_on(init: &OwnedFd) -> MonitorLink<'_> {
        MonitorLink::new(init, message_room(1), None)
    }

    /// "network" coming before the answer to a request is noted, not
    /// taken for the answer; a later wait for it returns at once.
    #[test]
    fn the_network_note_is_never_an_answer() {
        let (monitor, init) = monitor_and_init();
        let link = link_on(&init);
        (&monitor).write_all(NETWORK_READY).unwrap();
        (&monitor).write_all(b"ok").unwrap();
        link.ask(START_HOST_SYNC, "a test").unwrap();
        link.wait_network().unwrap();
        let mut buf = [0u8; 16];
        let n = crate::sys::socket::recv_msg(&monitor, &mut buf)
            .unwrap()
            .len;
        assert_eq!(&buf[..n], START_HOST_SYNC);

        let other = link_on(&init);
        (&monitor).write_all(b"22 refused").unwrap();
        assert!(other.ask(DEVICES_SYNC, "a test").is_err());
        (&monitor).write_all(NETWORK_READY).unwrap();
        other.wait_network().unwrap();
        drop(monitor);
        assert!(link_on(&init).wait_network().is_err());
    }

    /// The terminals' names may come in "go" or after it, before or
    /// between answers and the network note; init gets them whole either
    /// way, and a monitor gone before them is an error, not empty names.
    #[test]
    fn the_terminals_come_in_go_or_as_a_note() {
        let names = TerminalNames {
            console: Some("/dev/pts/7".into()),
            ttys: vec!["/dev/pts/8".into()],
        };
        let mut go = vec![NAMES_NOW];
        go.extend(names.encode());
        assert_eq!(names_in_go(&go).unwrap(), Some(names.clone()));
        assert_eq!(names_in_go(&[NAMES_LATER]).unwrap(), None);
        for junk in [&b""[..], b"x", b"+junk"] {
            assert!(names_in_go(junk).is_err(), "{junk:?}");
        }

        let (monitor, init) = monitor_and_init();
        let link = link_on(&init);
        let mut note = TERMINALS.to_vec();
        note.extend(names.encode());
        (&monitor).write_all(&note).unwrap();
        (&monitor).write_all(b"ok").unwrap();
        (&monitor).write_all(NETWORK_READY).unwrap();
        link.ask(START_HOST_SYNC, "a test").unwrap();
        link.wait_network().unwrap();
        assert_eq!(link.terminals().unwrap(), names);
        assert_eq!(link.terminals().unwrap(), names, "kept");

        let later = link_on(&init);
        (&monitor).write_all(NETWORK_READY).unwrap();
        (&monitor).write_all(&note).unwrap();
        assert_eq!(later.terminals().unwrap(), names);
        later.wait_network().unwrap();

        // As many ttys as the kernel has ptys: the names arrive whole.
        let many = TerminalNames {
            console: Some("/dev/pts/4294967295".into()),
            ttys: (0..4096)
                .map(|i| format!("/dev/pts/{}", 4294967295u32 - i))
                .collect(),
        };
        let mut note = TERMINALS.to_vec();
        note.extend(many.encode());
        (&monitor).write_all(&note).unwrap();
        let room = message_room(many.ttys.len() as u32);
        assert_eq!(
            MonitorLink::new(&init, room, None).terminals().unwrap(),
            many
        );

        let given = MonitorLink::new(&init, message_room(1), Some(TerminalNames::default()));
        assert_eq!(given.terminals().unwrap(), TerminalNames::default());
        drop(monitor);
        assert!(link_on(&init).terminals().is_err());
    }

    /// What comes instead of the note init waits for is told as it is: a
    /// malformed note by what is wrong with it, another message as one,
    /// the monitor gone as gone.
    #[test]
    fn a_wait_for_a_note_says_what_came_instead() {
        let (monitor, init) = monitor_and_init();
        let mut bad = TERMINALS.to_vec();
        bad.extend(b"junk");
        (&monitor).write_all(&bad).unwrap();
        let e = link_on(&init).terminals().unwrap_err();
        assert!(e.message.contains("malformed"), "{}", e.message);
        (&monitor).write_all(b"ok").unwrap();
        let e = link_on(&init).wait_network().unwrap_err();
        assert_eq!(e.errno, libc::EPROTO, "{}", e.message);
        drop(monitor);
        let e = link_on(&init).wait_network().unwrap_err();
        assert_eq!(e.errno, libc::EPIPE, "{}", e.message);
    }

    #[test]
    fn terminal_names_travel_in_go_and_junk_is_refused() {
        let all = TerminalNames {
            console: Some("/dev/pts/3".into()),
            ttys: vec!["/dev/pts/4".into(), "/dev/pts/12".into()],
        };
        let ttys_only = TerminalNames {
            console: None,
            ttys: vec!["/dev/pts/0".into()],
        };
        for names in [all, ttys_only, TerminalNames::default()] {
            assert_eq!(TerminalNames::decode(&names.encode()).unwrap(), names);
        }
        for junk in [
            &b"c/dev/pts/1"[..],
            b"x/dev/pts/1\0",
            b"\0",
            b"t/dev/pts/1\0c/dev/pts/2\0",
        ] {
            assert!(TerminalNames::decode(junk).is_err(), "{junk:?}");
        }
    }
}
