//! Our executables as a container may see them. A process of ours that a
//! container can see before it executes something else (the attached
//! process before its program, an application container's reaper) shows
//! its executable at `/proc/<pid>/exe`; a root inside could open it there
//! and, once no process runs it, reopen it for writing (CVE-2019-5736).
//! Run from one of these handles, what it reaches is a read-only mount of
//! the file (writes fail with EROFS) or a sealed in-memory copy.

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::mount_api::{self, MountAttr};
use crate::error::{Error, Result};

const MFD_ALLOW_SEALING: libc::c_uint = 0x2;
const MFD_EXEC: libc::c_uint = 0x10;
const F_SEAL_SEAL: libc::c_int = 0x1;
const F_SEAL_SHRINK: libc::c_int = 0x2;
const F_SEAL_GROW: libc::c_int = 0x4;
const F_SEAL_WRITE: libc::c_int = 0x8;

/// A detached read-only bind mount of the file `path` (looked up from
/// `dir`; an empty `path`: the file `dir` refers to). Close it as soon
/// as the program runs: while this descriptor is open the mount belongs to
/// an anonymous mount namespace, and anyone holding the file (through
/// `/proc/<pid>/exe`) with CAP_SYS_ADMIN over its own mount namespace may
/// clear the read-only flag; once closed, the mount is dissolved and its
/// flags are final.
pub fn read_only_mount(dir: Option<BorrowedFd<'_>>, path: &Path) -> Result<OwnedFd> {
    let tree = mount_api::open_tree_clone_at(dir, path, false)?;
    let attr = MountAttr {
        attr_set: mount_api::MOUNT_ATTR_RDONLY
            | mount_api::MOUNT_ATTR_NOSUID
            | mount_api::MOUNT_ATTR_NODEV,
        ..MountAttr::default()
    };
    mount_api::set_attr(
        tree.as_fd(),
        false,
        &attr,
        "Failed to make a mount of the helper read-only",
    )?;
    Ok(tree)
}

fn memfd(name: &std::ffi::CStr) -> Result<OwnedFd> {
    let flags = libc::MFD_CLOEXEC | MFD_ALLOW_SEALING;
    // SAFETY: memfd_create with a static name; MFD_EXEC is refused by
    // kernels before 6.3, which make memfds executable anyway.
    let mut fd = unsafe { libc::memfd_create(name.as_ptr(), flags | MFD_EXEC) };
    if fd < 0 && super::errno() == libc::EINVAL {
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    }
    if fd < 0 {
        return Err(Error::last_os("Failed to create a memfd for the helper"));
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A copy of `path` in memory, sealed against every change: safe to keep.
pub fn sealed_copy(path: &Path) -> Result<OwnedFd> {
    let copy = std::fs::File::from(memfd(c"lxc-rs-helper")?);
    let mut source =
        std::fs::File::open(path).map_err(|e| Error::io("Failed to open", path, &e))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut out = &copy;
    loop {
        let n = source
            .read(&mut buf)
            .map_err(|e| Error::io("Failed to read", path, &e))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])
            .map_err(|e| Error::os("Failed to copy the helper", &e))?;
    }
    let seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    // SAFETY: fcntl on our descriptor.
    if unsafe { libc::fcntl(copy.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(Error::last_os("Failed to seal the helper's copy"));
    }
    Ok(OwnedFd::from(copy))
}

/// The path through which exec(2) runs `fd` (the descriptor may be
/// close-on-exec: the kernel opens it before closing).
pub fn exec_path(fd: &impl AsRawFd) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL in a number")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever way the handle was made, reopening it for writing (as a
    /// container's root would through /proc/<pid>/exe) must fail.
    fn assert_not_writable(fd: &OwnedFd) {
        refuses_writes(fd).unwrap();
    }

    fn refuses_writes(fd: &OwnedFd) -> std::result::Result<(), String> {
        let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
        let w = std::fs::OpenOptions::new().write(true).open(&path);
        match w {
            Err(e) if matches!(e.raw_os_error(), Some(libc::EROFS) | Some(libc::EPERM)) => Ok(()),
            Err(e) => Err(format!("reopening for writing: {e}")),
            // A memfd opens, but its seal refuses every write.
            Ok(f) => match (&f).write(b"x") {
                Err(e) if e.raw_os_error() == Some(libc::EPERM) => Ok(()),
                other => Err(format!("writing: {other:?}")),
            },
        }
    }

    #[test]
    fn handles_refuse_writes_and_run() {
        let path = Path::new("/bin/true");
        let copy = sealed_copy(path).unwrap();
        assert_not_writable(&copy);
        let status = std::process::Command::new(exec_path(&copy).to_str().unwrap())
            .status()
            .unwrap();
        assert!(status.success());
        if let Ok(mount) = read_only_mount(None, path) {
            assert_not_writable(&mount);
            let status = std::process::Command::new(exec_path(&mount).to_str().unwrap())
                .status()
                .unwrap();
            assert!(status.success());
        }
    }

    /// What a root inside holds through /proc/<pid>/exe: another
    /// descriptor on the file. Once the mount's own descriptor is closed,
    /// the read-only flag cannot be cleared through it.
    #[test]
    fn a_closed_mount_handle_stays_read_only() {
        // In a process of its own: another test forking meanwhile would
        // copy the mount's descriptor, keeping its anonymous namespace (and
        // the flag clearable) until that child's exec.
        // SAFETY: the child runs the check and leaves with _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let code = match closed_mount_handle_check() {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("{e}");
                    1
                }
            };
            // SAFETY: leaving the child without running the harness.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: reaping our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    }

    fn closed_mount_handle_check() -> std::result::Result<(), String> {
        let Ok(mount) = read_only_mount(None, Path::new("/bin/true")) else {
            return Ok(()); // no CAP_SYS_ADMIN: the sealed copy is used
        };
        let held = std::fs::File::open(format!("/proc/self/fd/{}", mount.as_raw_fd()))
            .map_err(|e| e.to_string())?;
        let unlock = MountAttr {
            attr_clr: mount_api::MOUNT_ATTR_RDONLY,
            ..MountAttr::default()
        };
        drop(mount);
        if mount_api::set_attr(held.as_fd(), false, &unlock, "unlock").is_ok() {
            return Err("the read-only flag was cleared after the close".into());
        }
        refuses_writes(&OwnedFd::from(held))
    }
}
