//! The cgroup descriptor commands, answered as LXC 5.0/6.0 monitors answer
//! them, so that LXC's clients work on our containers: `lxc-attach` moves
//! its process into the container's cgroups with GET_CGROUP_CTX (without
//! an answer it leaves it in the caller's), `get/set_cgroup_item` go
//! through GET_LIMIT_CGROUP_FD, cgroup2 freezing through
//! GET_LIMIT_CGROUP2_FD.
//!
//! - GET_CGROUP_CTX: an O_PATH descriptor of init's cgroup (the
//!   `lxc.cgroup.dir.container.inner` child when set) in every hierarchy,
//!   in the kernel's hierarchy order, with the layout and the unified
//!   hierarchy's utilities.
//! - GET_CGROUP_FD / GET_LIMIT_CGROUP_FD: the hierarchy of one controller.
//!   LXC hands out the limit cgroup for GET_CGROUP_FD and init's cgroup for
//!   GET_LIMIT_CGROUP_FD, the other way round from their names (so LXC's
//!   `set_cgroup_item` writes into the inner cgroup); its clients know
//!   only that behaviour, and so we answer the same.
//! - GET_CGROUP2_FD / GET_LIMIT_CGROUP2_FD: on a pure cgroup2 host only,
//!   init's cgroup and the limit cgroup.
//! - GET_SYSTEMD_SCOPE: we never run a container in a systemd scope; LXC
//!   without one answers -EINVAL.
//!
//! The descriptors are opened per request and closed once sent.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::cgroups::{bpf_prog, ContainerCgroups};
use crate::commands::cgroup_fd::{
    reply_len, CgroupCtx, CgroupFd, Layout, CGROUP2_SUPER_MAGIC, CGROUP_CTX_LEN, CGROUP_FD_LEN,
    CGROUP_SUPER_MAGIC, CTX_MAX_FD, UTIL_DEVICES, UTIL_FREEZER,
};
use crate::commands::server::{self, Request, Response};
use crate::commands::Cmd;
use crate::error::{Error, Result};

/// The commands answered here.
const HANDLED: [Cmd; 6] = [
    Cmd::GetCgroupCtx,
    Cmd::GetCgroupFd,
    Cmd::GetLimitCgroupFd,
    Cmd::GetCgroup2Fd,
    Cmd::GetLimitCgroup2Fd,
    Cmd::GetSystemdScope,
];

/// Whether `cmd` is one of the commands answered here.
pub(super) fn handles(req: &Request) -> bool {
    HANDLED.iter().any(|c| req.is(*c))
}

pub(super) fn answer(conn: &OwnedFd, req: &Request, cgroups: &ContainerCgroups) -> Result<()> {
    let reply = |rsp: &Response<'_>| server::respond(conn, rsp);
    if req.is(Cmd::GetCgroupCtx) {
        cgroup_ctx(req, cgroups, reply)
    } else if req.is(Cmd::GetCgroupFd) || req.is(Cmd::GetLimitCgroupFd) {
        cgroup_fd(req, cgroups, req.is(Cmd::GetLimitCgroupFd), reply)
    } else if req.is(Cmd::GetCgroup2Fd) || req.is(Cmd::GetLimitCgroup2Fd) {
        cgroup2_fd(cgroups, req.is(Cmd::GetLimitCgroup2Fd), reply)
    } else {
        reply(&Response::error(libc::EINVAL))
    }
}

/// The hierarchy LXC's `get_hierarchy` picks for `controller`, as an index
/// into `hierarchies` ((is cgroup2, its controllers) pairs; a cgroup2
/// hierarchy's are those it offers). On a pure cgroup2 host "devices" and
/// "freezer" name the unified hierarchy when it stands in for them
/// (`utilities`), and nothing otherwise.
pub fn pick(
    hierarchies: &[(bool, Vec<String>)],
    controller: &str,
    utilities: u32,
) -> Option<usize> {
    let pure_unified = !hierarchies.is_empty() && hierarchies.iter().all(|(u, _)| *u);
    if pure_unified {
        let needed = match controller {
            "devices" => Some(UTIL_DEVICES),
            "freezer" => Some(UTIL_FREEZER),
            _ => None,
        };
        if let Some(bit) = needed {
            return (utilities & bit != 0).then_some(0);
        }
    }
    hierarchies
        .iter()
        .position(|(_, list)| list.iter().any(|c| c == controller))
}

fn layout(cgroups: &ContainerCgroups) -> Layout {
    Layout::of(cgroups.dirs.iter().map(|(h, _)| h.unified))
}

/// What the unified hierarchy stands in for, which LXC reports only on a
/// pure cgroup2 host: device rules (when BPF device programs load) and
/// freezing (when init's cgroup has cgroup.freeze).
fn utilities(cgroups: &ContainerCgroups) -> u32 {
    if !cgroups.pure_unified() {
        return 0;
    }
    let mut bits = 0;
    if bpf_prog::devices_supported() {
        bits |= UTIL_DEVICES;
    }
    let freeze = cgroups
        .cgroup2_dir()
        .map(|d| cgroups.process_dir(d).join("cgroup.freeze"));
    if freeze.is_some_and(|f| f.exists()) {
        bits |= UTIL_FREEZER;
    }
    bits
}

/// A cgroup directory as LXC keeps it: O_PATH, never through a symlink.
fn open_dir(dir: &Path) -> Result<OwnedFd> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir)
        .map(OwnedFd::from)
        .map_err(|e| Error::io("Failed to open cgroup", dir, &e))
}

fn failed(e: &Error) -> Response<'static> {
    log::warn!("{}", e.message);
    Response::error(e.errno)
}

fn cgroup_ctx(
    req: &Request,
    cgroups: &ContainerCgroups,
    reply: impl Fn(&Response<'_>) -> Result<()>,
) -> Result<()> {
    let mut ctx = CgroupCtx::decode(&req.data);
    ctx.layout = layout(cgroups) as i32;
    let mut dirs: Vec<_> = cgroups.dirs.iter().collect();
    if dirs.len() > CTX_MAX_FD {
        return reply(&Response::error(libc::E2BIG));
    }
    dirs.sort_by_key(|(h, _)| h.order);
    let mut fds: Vec<OwnedFd> = Vec::with_capacity(dirs.len());
    for (_, dir) in dirs {
        match open_dir(&cgroups.process_dir(dir)) {
            Ok(fd) => fds.push(fd),
            Err(e) => return reply(&failed(&e)),
        }
    }
    let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    ctx.fd_len = raw.len() as u32;
    ctx.fds[..raw.len()].copy_from_slice(&raw);
    // Otherwise the client's value comes back, as from LXC.
    if cgroups.cgroup2_dir().is_some() {
        ctx.utilities = utilities(cgroups);
    }
    let bytes = ctx.encode();
    let data = &bytes[..reply_len(CGROUP_CTX_LEN, req.data.len())];
    // No cgroup at all: the client reads fd_len 0 as "no writable cgroups".
    let ret = if raw.is_empty() { -libc::ENOENT } else { 0 };
    reply(&Response {
        ret,
        data,
        fds: &raw,
        ..Default::default()
    })
}

fn cgroup_fd(
    req: &Request,
    cgroups: &ContainerCgroups,
    limit: bool,
    reply: impl Fn(&Response<'_>) -> Result<()>,
) -> Result<()> {
    let mut m = CgroupFd::decode(&req.data);
    if m.controller().is_empty() {
        return reply(&Response::error(libc::EINVAL));
    }
    let offered: Vec<(bool, Vec<String>)> = cgroups
        .dirs
        .iter()
        .map(|(h, _)| (h.unified, h.offered_controllers()))
        .collect();
    let utilities = utilities(cgroups);
    let found = std::str::from_utf8(m.controller())
        .ok()
        .and_then(|c| pick(&offered, c, utilities));
    let Some((h, dir)) = found.map(|i| &cgroups.dirs[i]) else {
        return reply(&Response::error(libc::ENOENT));
    };
    let kind = if h.unified {
        CGROUP2_SUPER_MAGIC
    } else {
        CGROUP_SUPER_MAGIC
    };
    if m.kind != 0 && m.kind != kind {
        return reply(&Response::error(libc::EINVAL));
    }
    // Swapped against the names, as LXC does (see the module comment).
    let dir = if limit {
        cgroups.process_dir(dir)
    } else {
        dir.clone()
    };
    let fd = match open_dir(&dir) {
        Ok(fd) => fd,
        Err(e) => return reply(&failed(&e)),
    };
    m.layout = layout(cgroups) as i32;
    m.kind = kind;
    if h.unified {
        m.utilities = utilities;
    }
    m.fd = fd.as_raw_fd();
    let bytes = m.encode();
    reply(&Response {
        data: &bytes[..reply_len(CGROUP_FD_LEN, req.data.len())],
        fds: &[fd.as_raw_fd()],
        ..Default::default()
    })
}

fn cgroup2_fd(
    cgroups: &ContainerCgroups,
    limit: bool,
    reply: impl Fn(&Response<'_>) -> Result<()>,
) -> Result<()> {
    let Some(dir) = cgroups
        .cgroup2_dir()
        .filter(|_| layout(cgroups) == Layout::Unified)
    else {
        return reply(&Response::error(libc::EINVAL));
    };
    let dir = if limit {
        dir.to_path_buf()
    } else {
        cgroups.process_dir(dir)
    };
    match open_dir(&dir) {
        Ok(fd) => reply(&Response {
            fds: &[fd.as_raw_fd()],
            ..Default::default()
        }),
        Err(e) => reply(&failed(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(list: &[&str]) -> (bool, Vec<String>) {
        (false, list.iter().map(|s| s.to_string()).collect())
    }

    fn v2(list: &[&str]) -> (bool, Vec<String>) {
        (true, list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn pick_on_hybrid() {
        let hs = vec![
            v1(&["name=systemd"]),
            v1(&["memory"]),
            v1(&["cpu", "cpuacct"]),
            v2(&["hugetlb"]),
        ];
        assert_eq!(pick(&hs, "memory", 0), Some(1));
        assert_eq!(pick(&hs, "cpuacct", 0), Some(2));
        assert_eq!(pick(&hs, "name=systemd", 0), Some(0));
        // A controller only cgroup2 offers.
        assert_eq!(pick(&hs, "hugetlb", 0), Some(3));
        assert_eq!(pick(&hs, "unified", 0), None);
        assert_eq!(pick(&hs, "pids", 0), None);
        // devices/freezer are plain v1 controllers here.
        assert_eq!(pick(&hs, "devices", UTIL_DEVICES), None);
    }

    #[test]
    fn pick_on_pure_cgroup2() {
        let hs = vec![v2(&["cpu", "memory", "pids"])];
        assert_eq!(pick(&hs, "memory", 0), Some(0));
        assert_eq!(pick(&hs, "io", 0), None);
        assert_eq!(pick(&hs, "devices", 0), None);
        assert_eq!(pick(&hs, "devices", UTIL_DEVICES), Some(0));
        assert_eq!(pick(&hs, "freezer", UTIL_DEVICES), None);
        assert_eq!(pick(&hs, "freezer", UTIL_FREEZER), Some(0));
        assert_eq!(pick(&[], "memory", 0), None);
    }

    #[test]
    fn handled_commands() {
        let req = |cmd: Cmd| Request {
            cmd: cmd as i32,
            header: Default::default(),
            data: Vec::new(),
            permitted: true,
        };
        for cmd in HANDLED {
            assert!(handles(&req(cmd)), "{cmd:?}");
        }
        assert!(!handles(&req(Cmd::GetCgroup)));
    }
}
