//! Changing a running container from outside: device nodes
//! (`add_device_node`/`remove_device_node`) and mounts (`mount`/`umount`).
//!
//! The work inside is done by a thread that joined the container's mount
//! namespace (paths, symlinks included, resolve inside the container); no
//! fork of the caller. Mounts use the new mount API: the mount is built
//! detached on the host (`open_tree`/`fsmount`) and attached inside with
//! `move_mount`, so LXC's `lxc.mount.auto = shmounts:` is not needed.

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::Container;
use crate::error::{Error, Result};
use crate::sys;
use crate::sys::mount_api;
use crate::sys::nsthread::{in_namespace, Ns};

/// The cgroup v1 device rule for a node: "c 1:3 rwm".
pub fn device_rule(is_char: bool, rdev: u64) -> String {
    let kind = if is_char { 'c' } else { 'b' };
    format!("{kind} {}:{} rwm", libc::major(rdev), libc::minor(rdev))
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
        let src = source.ok_or_else(|| Error::invalid("A bind mount needs a source"))?;
        mount_api::open_tree_clone(Path::new(src), flags & libc::MS_REC != 0)?
    } else {
        let fstype = fstype
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::invalid("A mount needs a filesystem type"))?;
        let mut options: Vec<(String, Option<String>)> = Vec::new();
        if let Some(src) = source.filter(|s| !s.is_empty()) {
            options.push(("source".into(), Some(src.to_string())));
        }
        options.extend(mount_api::data_options(data.unwrap_or("")));
        mount_api::new_fs(fstype, &options, 0)?
    };
    if flags & libc::MS_RDONLY != 0 {
        let attr = mount_api::MountAttr {
            attr_set: mount_api::MOUNT_ATTR_RDONLY,
            ..Default::default()
        };
        mount_api::set_attr(
            tree.as_fd(),
            true,
            &attr,
            "Failed to make the mount read-only",
        )?;
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
            mount_api::move_mount_to(tree.as_fd(), Path::new(&target))
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
                return Err(Error::last_os(format_args!("Failed to unmount {target}")));
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
