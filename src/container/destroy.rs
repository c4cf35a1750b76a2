//! `destroy`: remove a stopped container's rootfs and directory.
//!
//! As LXC 6.0's `container_destroy`: refuse a running container or one
//! with snapshots, run the `lxc.hook.destroy` hooks, remove the rootfs
//! through its backing store (unless `lxc.rootfs.managed = 0`, in which
//! case LXC leaves everything on disk), then `<lxcpath>/<name>`. The
//! handle keeps its in-memory configuration, as LXC's does.

use std::path::{Path, PathBuf};

use super::Container;
use crate::config::{Config, IdMap};
use crate::error::{Error, Result, ResultExt};
use crate::hooks::Hooks;
use crate::storage;

/// Whether `<dir>/snaps` holds snapshots.
fn has_snapshots(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("snaps"))
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
}

impl Container {
    /// `<lxcpath>/<name>`.
    pub(super) fn container_dir(&self) -> PathBuf {
        Path::new(&self.lxcpath()).join(self.name())
    }

    /// Refusals shared by destroy and rename.
    pub(super) fn check_stopped_and_defined(&self, op: &str) -> Result<()> {
        let name = self.name();
        if !self.is_defined() {
            return Err(Error::new(
                libc::ENOENT,
                format!(
                    "Cannot {op} container \"{name}\": it is not defined in \"{}\" ({} does not exist)",
                    self.lxcpath(),
                    self.config_file().display()
                ),
            ));
        }
        if self.is_running() {
            return Err(Error::new(
                libc::EBUSY,
                format!("Cannot {op} container \"{name}\": it is not stopped"),
            ));
        }
        if has_snapshots(&self.container_dir()) {
            return Err(Error::new(
                libc::EBUSY,
                format!("Cannot {op} container \"{name}\": it has snapshots"),
            ));
        }
        if super::deps::has_fs_snapshots(&self.container_dir()) {
            return Err(Error::new(
                libc::EBUSY,
                format!(
                    "Cannot {op} container \"{name}\": overlay clones depend on its rootfs (see {})",
                    self.container_dir().join(super::deps::SNAPSHOTS_FNAME).display()
                ),
            ));
        }
        Ok(())
    }

    pub fn destroy(&self) -> Result<()> {
        let _lock = self.disk_lock()?;
        self.check_stopped_and_defined("destroy")?;
        self.destroy_steps(false)
    }

    /// LXC's `container_destroy`. For a restore in place (`restore`), the
    /// `snaps` directory stays and an overlay container keeps its storage
    /// (only its config goes), as LXC's `LXC_STORAGE_INTERNAL_OVERLAY_RESTORE`.
    pub(super) fn destroy_steps(&self, restore: bool) -> Result<()> {
        let name = self.name();
        let config_file = self.config_file();
        // The handle's configuration; a handle without one (cleared)
        // reads the file so that an external rootfs is still found.
        let config = match self.lock().config.clone() {
            Some(c) => c,
            None => {
                let mut c = Config::new();
                if let Err(e) = c.load_file(&config_file) {
                    log::warn!("Destroying {name} without its configuration: {}", e.message);
                }
                c
            }
        };

        Hooks::plain(&name, &config_file, &config).run("destroy", &[], &[])?;

        let conf = config.conf();
        if !conf.rootfs_managed {
            log::info!("lxc.rootfs.managed = 0: leaving the storage of {name} in place");
            return Ok(());
        }
        let rootfs = storage::from_config(conf)
            .context(format_args!("Failed to destroy the rootfs of \"{name}\""))?;
        let dir = self.container_dir();
        let overlay = rootfs.as_ref().is_some_and(|r| r.kind() == "overlay");
        if restore && overlay {
            super::deps::mod_all_rdeps(&dir, &self.lxcpath(), &name, false);
            return std::fs::remove_file(&config_file)
                .map_err(|e| Error::io("Failed to remove", &config_file, &e));
        }
        if let (Some(rootfs), Some(_)) = (rootfs, &conf.rootfs_mount) {
            // Both are a directory tree of the container's ids (the
            // overlay's: its upper layer).
            let removed = if matches!(rootfs.kind(), "dir" | "overlay") {
                remove_mapped(rootfs.host_path(), None, &conf.idmaps)
            } else {
                rootfs.destroy()
            };
            removed.context(format_args!("Failed to destroy the rootfs of \"{name}\""))?;
        }
        super::deps::mod_all_rdeps(&dir, &self.lxcpath(), &name, false);
        let keep = restore.then_some("snaps");
        let removed = remove_mapped(&dir, keep, &conf.idmaps);
        removed.context(format_args!(
            "Failed to remove the directory {} of \"{name}\"",
            dir.display()
        ))
    }
}

/// Removes a directory tree (but `keep`) without crossing mounts. An
/// unprivileged caller cannot remove what the container's ids own: with
/// `lxc.idmap` it works as root of a user namespace holding the
/// container's maps and its own ids, as LXC's `userns_exec_full`.
pub(super) fn remove_mapped(dir: &Path, keep: Option<&str>, idmaps: &[IdMap]) -> Result<()> {
    use crate::idmap::mapped;
    let own = mapped::own_ids();
    if own.0 == 0 || idmaps.is_empty() {
        return match keep {
            Some(k) => storage::rmdir_onedev_except(dir, k),
            None => storage::rmdir_onedev(dir),
        };
    }
    let op = mapped::Op::Remove(dir.to_path_buf(), keep.map(str::to_string));
    mapped::run_helper(&mapped::container_and_self(idmaps, own), &op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destroy_hook_env() {
        let d = std::env::temp_dir().join(format!("lxc-hooks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let out = d.join("out");
        let mut c = Config::new();
        c.set_item("lxc.rootfs.path", "dir:/x/rootfs").unwrap();
        c.set_item(
            "lxc.hook.destroy",
            &format!(
                "/bin/sh -c 'echo \"$0 $1 $2 $LXC_NAME $LXC_ROOTFS_PATH $LXC_CONFIG_FILE\" > {}'",
                out.display()
            ),
        )
        .unwrap();
        let hooks = Hooks::plain("c1", Path::new("/x/config"), &c);
        hooks.run("destroy", &[], &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "c1 lxc destroy c1 /x/rootfs /x/config\n"
        );
        c.set_item("lxc.hook.destroy", "/bin/false").unwrap();
        let hooks = Hooks::plain("c1", Path::new("/x/config"), &c);
        let e = hooks.run("destroy", &[], &[]).unwrap_err();
        assert!(e.message.contains("/bin/false"), "{}", e.message);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
