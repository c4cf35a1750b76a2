//! Which cgroups an attached process joins, as the raw descriptors the
//! children see (the joining itself is in `child.rs`).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use libc::c_void;

use super::options::{self as o, AttachOptions};
use super::queries::Answers;
use crate::error::{Error, Result};

/// The cgroups the children join, as the raw descriptors they see.
pub(super) struct Cgroups {
    pub v1: Vec<RawFd>,
    pub v2: RawFd,
    pub v2_optional: bool,
    /// What `v2` is when owned here: the `.lxc` leaf, a confined view.
    _owned: Vec<OwnedFd>,
    /// The v2 descriptors `v2` replaces: closed by the intermediate like
    /// every other host descriptor.
    pub replaced_v2: Vec<RawFd>,
}

/// Whether the v2 cgroup `dir` hands controllers to children: then no
/// process may live in it (cgroup2's no-internal-process rule), e.g. once
/// a container's systemd has moved its init into a child cgroup.
fn delegates_controllers(dir: RawFd) -> bool {
    // SAFETY: openat below a directory descriptor we hold.
    let fd = unsafe {
        libc::openat(
            dir,
            c"cgroup.subtree_control".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        )
    };
    if fd < 0 {
        return false;
    }
    // SAFETY: a fresh descriptor, owned from here on.
    let file = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut buf = [0u8; 64];
    // SAFETY: reading into our buffer.
    let n = unsafe { libc::read(file.as_raw_fd(), buf.as_mut_ptr() as *mut c_void, buf.len()) };
    n > 0 && buf[..n as usize].iter().any(|b| !b.is_ascii_whitespace())
}

/// The `.lxc` leaf below the v2 cgroup `dir` (made when missing), where
/// LXC attaches too when the container's cgroup itself cannot hold
/// processes.
fn v2_leaf(dir: RawFd) -> Result<OwnedFd> {
    // SAFETY: mkdirat/openat below a directory descriptor we hold.
    unsafe {
        if libc::mkdirat(dir, c".lxc".as_ptr(), 0o755) < 0 && crate::sys::errno() != libc::EEXIST {
            return Err(Error::last_os("Failed to create the cgroup2 leaf .lxc"));
        }
        let fd = libc::openat(
            dir,
            c".lxc".as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return Err(Error::last_os("Failed to open the cgroup2 leaf .lxc"));
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// The v2 cgroup `dir` as the root of a detached mount of its own: the
/// attached process holds it from its creation until it closes it, and a
/// root inside with CAP_SYS_PTRACE over the host could take it; from this
/// view `..` stays at the container's cgroup instead of reaching the host's
/// hierarchy. None without CAP_SYS_ADMIN (an unprivileged caller, whose
/// containers' roots cannot take descriptors of a non-dumpable process).
fn confined_view(dir: RawFd) -> Option<OwnedFd> {
    // SAFETY: borrowing a descriptor the answers keep open.
    let dir = unsafe { std::os::fd::BorrowedFd::borrow_raw(dir) };
    crate::sys::mount_api::open_tree_clone_at(Some(dir), std::path::Path::new(""), false).ok()
}

pub(super) fn cgroups_to_join(
    name: &str,
    answers: &Answers,
    opts: &AttachOptions,
) -> Result<Cgroups> {
    let none = Cgroups {
        v1: Vec::new(),
        v2: -1,
        v2_optional: false,
        _owned: Vec::new(),
        replaced_v2: Vec::new(),
    };
    if opts.flags & o::MOVE_TO_CGROUP == 0 {
        return Ok(none);
    }
    let Some(cgroups) = answers.cgroups.as_ref().map_err(Clone::clone)? else {
        return Err(Error::new(
            libc::ESRCH,
            format!("Container \"{name}\" is not running"),
        ));
    };
    if cgroups.v1.is_empty() && cgroups.v2.is_none() {
        // A container without writable cgroups: LXC attaches all the same.
        log::debug!("attach: \"{name}\" has no cgroups to join");
    }
    let mut v2 = cgroups.v2.as_ref().map_or(-1, |d| d.as_raw_fd());
    let (mut owned, mut replaced_v2) = (Vec::new(), Vec::new());
    if v2 >= 0 && delegates_controllers(v2) {
        let fd = v2_leaf(v2)?;
        replaced_v2.push(v2);
        v2 = fd.as_raw_fd();
        owned.push(fd);
    }
    if v2 >= 0 {
        if let Some(view) = confined_view(v2) {
            replaced_v2.push(v2);
            v2 = view.as_raw_fd();
            owned.push(view);
        }
    }
    Ok(Cgroups {
        v1: cgroups.v1.iter().map(|d| d.as_raw_fd()).collect(),
        v2,
        v2_optional: cgroups.v2_optional,
        _owned: owned,
        replaced_v2,
    })
}
