//! Acting as the container's root on the host without being root: an
//! unprivileged caller cannot chown a file to the container's root uid
//! or remove files the container's ids own. As LXC does
//! (`userns_exec_mapped_root`, `userns_exec_full`), the work runs as root
//! of a throw-away user namespace whose maps (written through
//! newuidmap/newgidmap) contain both the caller's ids and the ids
//! involved, so the kernel grants CAP_CHOWN / CAP_DAC_OVERRIDE over them.
//!
//! The forked child runs Rust, so only a fresh single-threaded process may
//! call [`in_mapped_root`]: the monitor, or the helper mode of the monitor
//! binary ([`helper_main`]) that library callers spawn through
//! [`run_helper`] (the caller's own process is never forked).

use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::IdMap;
use crate::error::{Error, Result};
use crate::sys;

/// The argument that puts the monitor binary in helper mode.
pub const HELPER_FLAG: &str = "--as-mapped-root";

fn map(kind: char, nsid: u64, hostid: u64) -> IdMap {
    IdMap {
        kind,
        nsid,
        hostid,
        range: 1,
    }
}

/// The maps of LXC's `userns_exec_mapped_root`: the container's root
/// (ns 0) and the caller's own ids (mapped to themselves).
pub fn root_and_self(container: &[IdMap], (uid, gid): (u32, u32)) -> Result<Vec<IdMap>> {
    let (ruid, rgid) = super::host_root(container)?;
    Ok(vec![
        map('u', 0, ruid.into()),
        map('u', uid.into(), uid.into()),
        map('g', 0, rgid.into()),
        map('g', gid.into(), gid.into()),
    ])
}

/// The maps of LXC's `userns_exec_full`: the container's maps, plus the
/// caller's ids at the first free ns id when the container maps none.
pub fn container_and_self(container: &[IdMap], (uid, gid): (u32, u32)) -> Vec<IdMap> {
    let mut maps = container.to_vec();
    for (kind, id) in [('u', u64::from(uid)), ('g', u64::from(gid))] {
        if super::mapped_hostid(container, kind, id).is_none() {
            maps.push(map(kind, super::unmapped_nsid(container, kind), id));
        }
    }
    maps
}

/// The caller's effective ids.
pub fn own_ids() -> (u32, u32) {
    // SAFETY: geteuid/getegid have no preconditions.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// Runs `work` as root of a new user namespace with `maps`, in a forked
/// child. Only for fresh single-threaded processes (see the module doc).
pub fn in_mapped_root(maps: &[IdMap], work: impl FnOnce() -> Result<()>) -> Result<()> {
    let (parent_end, child_end) = sys::socketpair_seqpacket()?;
    // SAFETY: fork in a single-threaded process (the callers' contract).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Error::last_os(
            "Failed to fork a process for the mapped user namespace",
        ));
    }
    if pid == 0 {
        drop(parent_end);
        let result = child(&child_end, work);
        let msg = match result {
            Ok(()) => String::new(),
            Err(e) => format!("{} {}", e.errno, e.message),
        };
        // SAFETY: reporting on our socket, then leaving without unwinding.
        unsafe {
            libc::write(
                child_end.as_raw_fd(),
                msg.as_ptr() as *const libc::c_void,
                msg.len(),
            );
            libc::_exit(i32::from(!msg.is_empty()))
        }
    }
    drop(child_end);
    let result = parent(UnixStream::from(parent_end), pid, maps);
    let mut status = 0;
    // SAFETY: reaping our own child.
    unsafe {
        if result.is_err() {
            libc::kill(pid, libc::SIGKILL);
        }
        libc::waitpid(pid, &mut status, 0);
    }
    result
}

fn child(sock: &OwnedFd, work: impl FnOnce() -> Result<()>) -> Result<()> {
    // SAFETY: unshare with a flag.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } < 0 {
        return Err(Error::last_os("Failed to create a user namespace"));
    }
    let mut byte = [0u8; 1];
    // SAFETY: one byte each way on our socket.
    let synced = unsafe {
        libc::write(sock.as_raw_fd(), b"r".as_ptr() as *const libc::c_void, 1) == 1
            && libc::read(sock.as_raw_fd(), byte.as_mut_ptr() as *mut libc::c_void, 1) == 1
    };
    if !synced {
        return Err(Error::new(libc::EPIPE, "The mapping parent went away"));
    }
    super::become_root()?;
    work()
}

fn parent(mut sock: UnixStream, pid: i32, maps: &[IdMap]) -> Result<()> {
    let mut buf = vec![0u8; 4096];
    let ready = crate::sys::socket::recv_msg(&sock, &mut buf)?;
    if &buf[..ready.len] != b"r" {
        return Err(reported(&buf[..ready.len]));
    }
    super::write_maps(pid, maps)?;
    sock.write_all(b"g")
        .map_err(|e| Error::io("Failed to release", Path::new("the mapped child"), &e))?;
    let done = crate::sys::socket::recv_msg(&sock, &mut buf)?;
    if done.len == 0 {
        return Ok(());
    }
    Err(reported(&buf[..done.len]))
}

/// "errno message" as the child reports it.
fn reported(msg: &[u8]) -> Error {
    let msg = String::from_utf8_lossy(msg);
    let (errno, text) = msg.split_once(' ').unwrap_or(("5", &msg));
    Error::new(errno.parse().unwrap_or(libc::EIO), text.to_string())
}

/// What the helper does as the mapped root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// chown to (ns uid, ns gid), not following a final symlink.
    Chown(u32, u32, Vec<PathBuf>),
    /// Removes a tree without crossing mounts (keeping one entry).
    Remove(PathBuf, Option<String>),
    /// Copies the tree `src` to `dst` (into it when it exists), owners
    /// included (LXC's rsync in `userns_exec_full`). With overlayfs mount
    /// data, that overlay is first mounted on `src` in a private mount
    /// namespace (an overlay rootfs copied through its merged view).
    Copy {
        src: PathBuf,
        dst: PathBuf,
        overlay: Option<String>,
    },
}

impl Op {
    fn to_args(&self) -> Vec<String> {
        match self {
            Op::Chown(u, g, paths) => {
                let mut v = vec!["chown".into(), u.to_string(), g.to_string()];
                v.extend(paths.iter().map(|p| p.display().to_string()));
                v
            }
            Op::Remove(p, keep) => {
                let mut v = vec!["remove".into(), p.display().to_string()];
                v.extend(keep.iter().cloned());
                v
            }
            Op::Copy { src, dst, overlay } => {
                let mut v = vec![
                    "copy".into(),
                    src.display().to_string(),
                    dst.display().to_string(),
                ];
                v.extend(overlay.iter().cloned());
                v
            }
        }
    }

    fn parse(args: &[String]) -> Result<Op> {
        let bad = || Error::invalid(format!("Invalid mapped-root operation {args:?}"));
        let num = |s: Option<&String>| s.and_then(|s| s.parse::<u32>().ok()).ok_or_else(bad);
        match args.first().map(String::as_str) {
            Some("chown") if args.len() > 3 => Ok(Op::Chown(
                num(args.get(1))?,
                num(args.get(2))?,
                args[3..].iter().map(PathBuf::from).collect(),
            )),
            Some("remove") if (2..=3).contains(&args.len()) => {
                Ok(Op::Remove(PathBuf::from(&args[1]), args.get(2).cloned()))
            }
            Some("copy") if (3..=4).contains(&args.len()) => Ok(Op::Copy {
                src: PathBuf::from(&args[1]),
                dst: PathBuf::from(&args[2]),
                overlay: args.get(3).cloned(),
            }),
            _ => Err(bad()),
        }
    }

    /// Does it (as root of the mapped namespace).
    pub fn run(&self) -> Result<()> {
        match self {
            Op::Chown(u, g, paths) => paths.iter().try_for_each(|p| {
                std::os::unix::fs::lchown(p, Some(*u), Some(*g))
                    .map_err(|e| Error::io(&format!("Failed to chown to {u}:{g} (mapped)"), p, &e))
            }),
            Op::Remove(p, None) => crate::storage::rmdir_onedev(p),
            Op::Remove(p, Some(keep)) => crate::storage::rmdir_onedev_except(p, keep),
            Op::Copy { src, dst, overlay } => {
                if let Some(data) = overlay {
                    sys::unshare_rslave()
                        .map_err(|e| Error::os("Failed to make a private mount namespace", &e))?;
                    sys::mount(Some("overlay"), src, Some("overlay"), 0, Some(data))?;
                }
                if dst.exists() {
                    crate::storage::copy_tree_into(src, dst)
                } else {
                    crate::storage::copy_tree(src, dst)
                }
            }
        }
    }
}

fn map_arg(m: &IdMap) -> String {
    format!("{}:{}:{}:{}", m.kind, m.nsid, m.hostid, m.range)
}

fn parse_map(s: &str) -> Result<IdMap> {
    let parts: Vec<&str> = s.split(':').collect();
    let num = |i: usize| parts.get(i).and_then(|v| v.parse::<u64>().ok());
    match (parts.first().copied(), num(1), num(2), num(3)) {
        (Some(k @ ("u" | "g")), Some(nsid), Some(hostid), Some(range)) if parts.len() == 4 => {
            Ok(IdMap {
                kind: k.chars().next().unwrap_or('u'),
                nsid,
                hostid,
                range,
            })
        }
        _ => Err(Error::invalid(format!("Invalid map \"{s}\""))),
    }
}

/// The helper's command line (after the program name).
pub fn helper_argv(maps: &[IdMap], op: &Op) -> Vec<String> {
    let mut v = vec![HELPER_FLAG.to_string()];
    for m in maps {
        v.push("--map".into());
        v.push(map_arg(m));
    }
    v.push("--".into());
    v.extend(op.to_args());
    v
}

fn parse_helper_argv(argv: &[String]) -> Result<(Vec<IdMap>, Op)> {
    let mut maps = Vec::new();
    let mut it = argv.iter().skip_while(|a| *a != HELPER_FLAG).skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--map" => maps.push(parse_map(
                it.next()
                    .ok_or_else(|| Error::invalid("--map needs a value"))?,
            )?),
            "--" => return Ok((maps, Op::parse(&it.cloned().collect::<Vec<_>>())?)),
            other => return Err(Error::invalid(format!("Unknown helper argument {other}"))),
        }
    }
    Err(Error::invalid("The mapped-root helper needs an operation"))
}

/// Entry of the monitor binary in helper mode: prints "errno message" on
/// stderr and exits 1 on failure.
pub fn helper_main(argv: &[String]) -> i32 {
    crate::sys::proctitle::set_comm(c"lxc-idmap");
    // Nothing the caller left open is needed here.
    crate::sys::raw::close_from(3);
    let result = parse_helper_argv(argv).and_then(|(maps, op)| in_mapped_root(&maps, || op.run()));
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{} {}", e.errno, e.message);
            1
        }
    }
}

/// From a library caller: runs `op` as root of a user namespace with
/// `maps` through the monitor binary's helper mode.
pub fn run_helper(maps: &[IdMap], op: &Op) -> Result<()> {
    let program = crate::helper_exe::find_monitor()?;
    let out = Command::new(&program)
        .args(helper_argv(maps, op))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .map_err(|e| Error::io("Failed to run", &program, &e))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().last().unwrap_or("").trim();
    if line.is_empty() {
        return Err(Error::new(
            libc::EIO,
            format!(
                "{} {HELPER_FLAG} failed ({})",
                program.display(),
                out.status
            ),
        ));
    }
    Err(reported(line.as_bytes()))
}

/// Whose id a chown gives: the container's root, or the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Root,
    Caller,
}

/// Chowns `paths` (the caller's) to `(uid, gid)` of the container's root
/// or the caller, on the host. Root does it directly; an unprivileged
/// caller first moves the group to its own gid (no privilege needed: a
/// namespace may only chown an inode whose ids it maps), then chowns in a
/// [root, self] namespace. `fresh_process`: the caller may fork (monitor)
/// rather than spawn the helper (library).
pub fn chown_mapped(
    container: &[IdMap],
    paths: &[PathBuf],
    (uid, gid): (Who, Who),
    fresh_process: bool,
) -> Result<()> {
    let root = super::host_root(container)?;
    let own = own_ids();
    let host = |who: Who, r: u32, o: u32| if who == Who::Root { r } else { o };
    let wanted = (host(uid, root.0, own.0), host(gid, root.1, own.1));
    if own.0 == 0 {
        return paths.iter().try_for_each(|p| super::chown_path(p, wanted));
    }
    for p in paths {
        let meta = std::fs::symlink_metadata(p).map_err(|e| Error::io("Failed to stat", p, &e))?;
        if meta.gid() != own.1 {
            std::os::unix::fs::lchown(p, None, Some(own.1))
                .map_err(|e| Error::io(&format!("Failed to chgrp to {}", own.1), p, &e))?;
        }
    }
    if wanted == own {
        return Ok(());
    }
    // In the [root, self] namespace the root is 0 and the caller itself.
    let ns = |who: Who, o: u32| if who == Who::Root { 0 } else { o };
    let op = Op::Chown(ns(uid, own.0), ns(gid, own.1), paths.to_vec());
    let maps = root_and_self(container, own)?;
    if fresh_process {
        in_mapped_root(&maps, || op.run())
    } else {
        run_helper(&maps, &op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_with_self() {
        let c = [
            IdMap::new('u', 0, 100000, 65536),
            IdMap::new('g', 0, 100000, 65536),
        ];
        assert_eq!(
            root_and_self(&c, (1001, 1002)).unwrap(),
            vec![
                IdMap::new('u', 0, 100000, 1),
                IdMap::new('u', 1001, 1001, 1),
                IdMap::new('g', 0, 100000, 1),
                IdMap::new('g', 1002, 1002, 1)
            ]
        );
        let full = container_and_self(&c, (1001, 1002));
        assert_eq!(
            &full[2..],
            &[
                IdMap::new('u', 65536, 1001, 1),
                IdMap::new('g', 65536, 1002, 1)
            ]
        );
        // Already mapped: nothing added.
        assert_eq!(container_and_self(&c, (100005, 100005)).len(), 2);
    }

    #[test]
    fn helper_command_line() {
        let maps = [IdMap::new('u', 0, 100000, 1), IdMap::new('g', 7, 1000, 1)];
        for op in [
            Op::Chown(0, 1000, vec!["/a b".into(), "/c".into()]),
            Op::Remove("/x".into(), Some("snaps".into())),
            Op::Remove("/x".into(), None),
            Op::Copy {
                src: "/a".into(),
                dst: "/b".into(),
                overlay: None,
            },
            Op::Copy {
                src: "/l/c/rootfs".into(),
                dst: "/l/d/rootfs".into(),
                overlay: Some("upperdir=/u,lowerdir=/l,workdir=/w".into()),
            },
        ] {
            let mut argv = vec!["lxc-rs-monitor".to_string()];
            argv.extend(helper_argv(&maps, &op));
            assert_eq!(parse_helper_argv(&argv).unwrap(), (maps.to_vec(), op));
        }
        let bad = |v: &[&str]| {
            let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            parse_helper_argv(&v).is_err()
        };
        assert!(bad(&[
            "m",
            HELPER_FLAG,
            "--map",
            "x:0:1:1",
            "--",
            "remove",
            "/x"
        ]));
        assert!(bad(&["m", HELPER_FLAG, "--", "chown", "0", "0"]));
        assert!(bad(&["m", HELPER_FLAG, "--", "rm", "/x"]));
        assert!(bad(&["m", HELPER_FLAG]));
    }
}
