//! The new mount API (open_tree, fsopen/fsconfig/fsmount, mount_setattr,
//! move_mount): detached mounts built in one place and attached in
//! another (a running container's mount namespace, or init's rootfs).

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::error::{Error, Result};

const OPEN_TREE_CLONE: libc::c_uint = 1;
pub const AT_RECURSIVE: libc::c_uint = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const FSOPEN_CLOEXEC: libc::c_uint = 1;

pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
/// The access-time field (relatime is its 0 value).
pub const MOUNT_ATTR_ATIME_MASK: u64 = 0x70;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
pub const MOUNT_ATTR_IDMAP: u64 = 0x100000;

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MountAttr {
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    pub userns_fd: u64,
}

fn fd_result(r: libc::c_long, what: &str) -> Result<OwnedFd> {
    if r < 0 {
        return Err(Error::last_os(what));
    }
    // SAFETY: the kernel returned a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

/// A detached copy of the mount at `path` (and, `recursive`, of the
/// mounts below it): open_tree(OPEN_TREE_CLONE).
pub fn open_tree_clone(path: &Path, recursive: bool) -> Result<OwnedFd> {
    open_tree_clone_at(None, path, recursive)
}

/// [`open_tree_clone`] of `path` looked up from `dir` (None: the current
/// directory); an empty `path` clones what `dir` itself refers to.
pub fn open_tree_clone_at(
    dir: Option<BorrowedFd<'_>>,
    path: &Path,
    recursive: bool,
) -> Result<OwnedFd> {
    let p = super::cpath(path)?;
    let empty = if path.as_os_str().is_empty() {
        libc::AT_EMPTY_PATH as libc::c_uint
    } else {
        0
    };
    let flags = OPEN_TREE_CLONE
        | libc::O_CLOEXEC as libc::c_uint
        | empty
        | if recursive { AT_RECURSIVE } else { 0 };
    let dirfd = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: open_tree on a NUL-terminated path.
    let r = unsafe { libc::syscall(libc::SYS_open_tree, dirfd, p.as_ptr(), flags) };
    fd_result(
        r,
        &format!("Failed to clone the mount tree of {}", path.display()),
    )
}

/// mount_setattr(2) on the detached tree `tree` (all of it, `recursive`).
pub fn set_attr(tree: BorrowedFd<'_>, recursive: bool, attr: &MountAttr, what: &str) -> Result<()> {
    let flags = libc::AT_EMPTY_PATH | if recursive { AT_RECURSIVE as i32 } else { 0 };
    // SAFETY: mount_setattr on a descriptor we hold with a valid struct.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 {
        return Err(Error::last_os(what));
    }
    Ok(())
}

/// mount(2)'s comma-separated `data` as fsconfig options: `key=value`
/// strings and bare flags.
pub fn data_options(data: &str) -> impl Iterator<Item = (String, Option<String>)> + '_ {
    data.split(',')
        .filter(|o| !o.is_empty())
        .map(|opt| match opt.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (opt.to_string(), None),
        })
}

/// A new filesystem of `fstype`, configured with `options` (key, value;
/// no value for flags) and mounted detached with the MOUNT_ATTR_* `attrs`
/// (given at fsmount: a proc or sysfs mount in a user namespace must carry
/// the host's nosuid/nodev/noexec from the start).
pub fn new_fs(fstype: &str, options: &[(String, Option<String>)], attrs: u64) -> Result<OwnedFd> {
    let fstype_c = super::cstring(fstype)?;
    // SAFETY: fsopen with a NUL-terminated name.
    let fs = fd_result(
        unsafe { libc::syscall(libc::SYS_fsopen, fstype_c.as_ptr(), FSOPEN_CLOEXEC) },
        &format!("Failed to open a {fstype} filesystem context"),
    )?;
    for (key, value) in options {
        let k = super::cstring(key)?;
        let v = value.as_deref().map(super::cstring).transpose()?;
        let (cmd, vptr) = match &v {
            Some(v) => (FSCONFIG_SET_STRING, v.as_ptr()),
            None => (FSCONFIG_SET_FLAG, std::ptr::null()),
        };
        // SAFETY: fsconfig with NUL-terminated key and value.
        if unsafe { libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), cmd, k.as_ptr(), vptr, 0) }
            < 0
        {
            return Err(Error::new(
                super::errno(),
                format!("Invalid mount option \"{key}\" for {fstype}"),
            ));
        }
    }
    // SAFETY: creating the superblock and mounting it detached.
    unsafe {
        if libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            0usize,
            0usize,
            0,
        ) < 0
        {
            return Err(Error::new(
                super::errno(),
                format!("Failed to create the {fstype} filesystem"),
            ));
        }
        fd_result(
            libc::syscall(
                libc::SYS_fsmount,
                fs.as_raw_fd(),
                FSMOUNT_CLOEXEC,
                attrs as u32,
            ),
            "Failed to mount the new filesystem",
        )
    }
}

/// Attaches the detached tree `tree` on `target` (resolved in the
/// caller's mount namespace).
pub fn move_mount_to(tree: BorrowedFd<'_>, target: &Path) -> Result<()> {
    let t = super::cpath(target)?;
    // SAFETY: move_mount of a detached tree onto a NUL-terminated path.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if r < 0 {
        return Err(Error::last_os(format_args!(
            "Failed to attach the mount on {}",
            target.display()
        )));
    }
    Ok(())
}

/// Attaches the detached tree `tree` on what `target` refers to (an
/// O_PATH descriptor): no path is looked up again, so nothing can be
/// swapped in between. `what` names the target in the error.
pub fn move_mount_onto(tree: BorrowedFd<'_>, target: BorrowedFd<'_>, what: &str) -> Result<()> {
    // SAFETY: move_mount between two descriptors we borrow.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    if r < 0 {
        return Err(Error::last_os(format_args!(
            "Failed to attach the mount on {what}"
        )));
    }
    Ok(())
}
