//! Changing a running container from outside: device nodes
//! (`add_device_node`/`remove_device_node`) and mounts (`mount`/`umount`).
//!
//! The work inside is done by a thread that joined the container's mount
//! namespace (paths, symlinks included, resolve inside the container); no
//! fork of the caller. Mounts use the new mount API: the mount is built
//! detached on the host (`open_tree`/`fsmount`) and attached inside with
//! `move_mount`, so LXC's `lxc.mount.auto = shmounts:` is not needed.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::nsthread::{in_namespace, Ns};
use super::Container;
use crate::error::{Error, Result};
use crate::sys;

const OPEN_TREE_CLONE: libc::c_uint = 1;
const AT_RECURSIVE: libc::c_uint = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const FSOPEN_CLOEXEC: libc::c_uint = 1;
const MOUNT_ATTR_RDONLY: u64 = 1;

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// The cgroup v1 device rule for a node: "c 1:3 rwm".
pub fn device_rule(is_char: bool, rdev: u64) -> String {
    let kind = if is_char { 'c' } else { 'b' };
    format!("{kind} {}:{} rwm", libc::major(rdev), libc::minor(rdev))
}

fn fd_result(r: libc::c_long, what: &str) -> Result<OwnedFd> {
    if r < 0 {
        return Err(Error::new(
            sys::errno(),
            format!("{what}: {}", std::io::Error::last_os_error()),
        ));
    }
    // SAFETY: the kernel returned a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

/// A detached mount of `source` built on the host: a bind (MS_BIND, with
/// MS_REC for a recursive one) or a new filesystem of `fstype` with the
/// comma-separated `data` options; MS_RDONLY makes it read-only.
fn detached_mount(
    source: Option<&str>,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> Result<OwnedFd> {
    let tree = if flags & libc::MS_BIND != 0 {
        let src =
            sys::cstring(source.ok_or_else(|| Error::invalid("A bind mount needs a source"))?)?;
        let recursive = if flags & libc::MS_REC != 0 {
            AT_RECURSIVE
        } else {
            0
        };
        // SAFETY: open_tree on a NUL-terminated path.
        let r = unsafe {
            libc::syscall(
                libc::SYS_open_tree,
                libc::AT_FDCWD,
                src.as_ptr(),
                OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | recursive,
            )
        };
        fd_result(
            r,
            &format!("Failed to clone the mount tree of {}", source.unwrap_or("")),
        )?
    } else {
        let fstype = fstype
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::invalid("A mount needs a filesystem type"))?;
        let fstype_c = sys::cstring(fstype)?;
        // SAFETY: fsopen/fsconfig/fsmount with NUL-terminated strings.
        let fs = fd_result(
            unsafe { libc::syscall(libc::SYS_fsopen, fstype_c.as_ptr(), FSOPEN_CLOEXEC) },
            &format!("Failed to open a {fstype} filesystem context"),
        )?;
        let mut options: Vec<(String, Option<String>)> = Vec::new();
        if let Some(src) = source.filter(|s| !s.is_empty()) {
            options.push(("source".into(), Some(src.to_string())));
        }
        for opt in data.unwrap_or("").split(',').filter(|o| !o.is_empty()) {
            match opt.split_once('=') {
                Some((k, v)) => options.push((k.to_string(), Some(v.to_string()))),
                None => options.push((opt.to_string(), None)),
            }
        }
        for (key, value) in &options {
            let k = sys::cstring(key)?;
            let v = value.as_deref().map(sys::cstring).transpose()?;
            let (cmd, vptr) = match &v {
                Some(v) => (FSCONFIG_SET_STRING, v.as_ptr()),
                None => (FSCONFIG_SET_FLAG, std::ptr::null()),
            };
            // SAFETY: fsconfig with NUL-terminated key and value.
            if unsafe {
                libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), cmd, k.as_ptr(), vptr, 0)
            } < 0
            {
                return Err(Error::new(
                    sys::errno(),
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
                    sys::errno(),
                    format!("Failed to create the {fstype} filesystem"),
                ));
            }
            fd_result(
                libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, 0u32),
                "Failed to mount the new filesystem",
            )?
        }
    };
    if flags & libc::MS_RDONLY != 0 {
        let attr = MountAttr {
            attr_set: MOUNT_ATTR_RDONLY,
            attr_clr: 0,
            propagation: 0,
            userns_fd: 0,
        };
        // SAFETY: mount_setattr on our detached tree with a valid struct.
        let r = unsafe {
            libc::syscall(
                libc::SYS_mount_setattr,
                tree.as_raw_fd(),
                c"".as_ptr(),
                libc::AT_EMPTY_PATH | AT_RECURSIVE as i32,
                &attr as *const MountAttr,
                std::mem::size_of::<MountAttr>(),
            )
        };
        if r < 0 {
            return Err(Error::new(
                sys::errno(),
                "Failed to make the mount read-only",
            ));
        }
    }
    Ok(tree)
}

/// Creates `path` (and its parents) as a directory or an empty file.
fn create_target(path: &Path, dir: bool) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("Failed to create", parent, &e))?;
    }
    let made = if dir {
        std::fs::create_dir(path)
    } else {
        std::fs::File::create(path).map(drop)
    };
    made.map_err(|e| Error::io("Failed to create the mount target", path, &e))
}

/// A host device node: its metadata and whether it is a character device.
fn device_of(src: &str) -> Result<(std::fs::Metadata, bool)> {
    let meta =
        std::fs::metadata(src).map_err(|e| Error::io("Failed to stat", Path::new(src), &e))?;
    let ft = meta.file_type();
    if !ft.is_char_device() && !ft.is_block_device() {
        return Err(Error::invalid(format!("{src} is not a device node")));
    }
    Ok((meta, ft.is_char_device()))
}

impl Container {
    /// Creates the host device `src` as `dest` (default: the same path)
    /// inside the running container and allows it in its device cgroup.
    pub fn add_device_node(&self, src: &str, dest: Option<&str>) -> Result<()> {
        let (meta, is_char) = device_of(src)?;
        let pid = self.running_init_pid()?;
        let dest = dest.unwrap_or(src).to_string();
        let (mode, rdev) = (meta.mode(), meta.rdev());
        self.set_cgroup_item("devices.allow", &device_rule(is_char, rdev))?;
        in_namespace(pid, Ns::Mnt, move || {
            let path = Path::new(&dest);
            let _ = std::fs::remove_file(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::io("Failed to create", parent, &e))?;
            }
            sys::mknod(path, mode, libc::major(rdev), libc::minor(rdev))
        })
    }

    /// Removes `dest` (default: `src`) from the running container and
    /// denies the device in its cgroup.
    pub fn remove_device_node(&self, src: &str, dest: Option<&str>) -> Result<()> {
        let (meta, is_char) = device_of(src)?;
        let pid = self.running_init_pid()?;
        let dest = dest.unwrap_or(src).to_string();
        self.set_cgroup_item("devices.deny", &device_rule(is_char, meta.rdev()))?;
        in_namespace(pid, Ns::Mnt, move || {
            std::fs::remove_file(&dest)
                .map_err(|e| Error::io("Failed to remove", Path::new(&dest), &e))
        })
    }

    /// Mounts into the running container: `source` is a host path (bind
    /// mounts) or a filesystem source, `target` a path inside.
    pub fn mount_inside(
        &self,
        source: Option<&str>,
        target: &str,
        fstype: Option<&str>,
        flags: libc::c_ulong,
        data: Option<&str>,
    ) -> Result<()> {
        let pid = self.running_init_pid()?;
        let is_dir = match source {
            Some(s) if flags & libc::MS_BIND != 0 => std::fs::metadata(s)
                .map_err(|e| Error::io("Failed to stat", Path::new(s), &e))?
                .is_dir(),
            _ => true,
        };
        let tree = detached_mount(source, fstype, flags, data)?;
        let target = target.to_string();
        in_namespace(pid, Ns::Mnt, move || {
            create_target(Path::new(&target), is_dir)?;
            let t =
                CString::new(target.as_str()).map_err(|_| Error::invalid("target contains NUL"))?;
            // SAFETY: move_mount of our detached tree onto a path inside.
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
                return Err(Error::new(
                    sys::errno(),
                    format!("Failed to attach the mount on {target}"),
                ));
            }
            Ok(())
        })
    }

    /// Unmounts `target` inside the running container.
    pub fn umount_inside(&self, target: &str, flags: i32) -> Result<()> {
        let pid = self.running_init_pid()?;
        let target = target.to_string();
        in_namespace(pid, Ns::Mnt, move || {
            let t =
                CString::new(target.as_str()).map_err(|_| Error::invalid("target contains NUL"))?;
            // SAFETY: umount2 of a path inside.
            if unsafe { libc::umount2(t.as_ptr(), flags) } < 0 {
                return Err(Error::new(
                    sys::errno(),
                    format!("Failed to unmount {target}"),
                ));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_rules() {
        assert_eq!(device_rule(true, libc::makedev(1, 3)), "c 1:3 rwm");
        assert_eq!(device_rule(false, libc::makedev(7, 0)), "b 7:0 rwm");
    }
}
