//! `rename`: move a stopped container to a new name.
//!
//! LXC 6.0 renames by cloning (copying the rootfs) and destroying the
//! original. For the `dir` backend the result is the same as moving
//! `<lxcpath>/<old>` to `<lxcpath>/<new>` with one rename(2), which is what
//! happens here (atomic, no copy). The configuration is updated as LXC's
//! clone does: `lxc.rootfs.path` and `lxc.uts.name`/`lxc.utsname` lines are
//! dropped and re-appended with the new values, paths of hooks and of
//! `lxc.mount.fstab` that pointed into the old directory are rewritten,
//! and the rootfs's `/etc/hostname`, if present, gets the new name.

use std::path::Path;

use super::clone::set_rootfs_hostname;
use super::deps;
use super::rewrite::{rewrite_config_text, Rewrite};
use super::{config_file_of, write_atomically, Container};
use crate::config::Config;
use crate::error::{Error, Result, ResultExt};
use crate::names;
use crate::storage;

/// The saved configuration text of the renamed container.
pub fn renamed_config_text(text: &str, old_dir: &str, new_dir: &str, newname: &str) -> String {
    rewrite_config_text(
        text,
        &Rewrite {
            old_dir,
            new_dir,
            uts_name: Some(newname),
            ..Default::default()
        },
    )
}

fn rename_noreplace(from: &Path, to: &Path) -> Result<()> {
    let f = crate::sys::cpath(from)?;
    let t = crate::sys::cpath(to)?;
    // SAFETY: valid C strings.
    let mut rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            f.as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc < 0 && crate::sys::errno() == libc::EINVAL {
        // A filesystem without RENAME_NOREPLACE: check, then rename.
        if to.symlink_metadata().is_ok() {
            return Err(Error::new(
                libc::EEXIST,
                format!(
                    "Failed to move {} to {}: target exists",
                    from.display(),
                    to.display()
                ),
            ));
        }
        // SAFETY: valid C strings.
        rc = unsafe { libc::rename(f.as_ptr(), t.as_ptr()) };
    }
    if rc < 0 {
        let err = std::io::Error::last_os_error();
        return Err(Error::os(
            format_args!("Failed to move {} to {}", from.display(), to.display()),
            &err,
        ));
    }
    Ok(())
}

impl Container {
    pub fn rename(&self, newname: &str) -> Result<()> {
        let _lock = self.disk_lock()?;
        names::validate_name(newname)?;
        let name = self.name();
        let lxcpath = self.lxcpath();
        self.check_stopped_and_defined("rename")?;
        let old_dir = self.container_dir();
        let new_dir = Path::new(&lxcpath).join(newname);
        if newname == name || new_dir.symlink_metadata().is_ok() {
            return Err(Error::new(
                libc::EEXIST,
                format!("Cannot rename \"{name}\": container \"{newname}\" already exists in \"{lxcpath}\""),
            ));
        }
        let config = self.config_or_disk()?;
        storage::from_config(config.conf()).context(format_args!("Cannot rename \"{name}\""))?;
        let old_s = old_dir.display().to_string();
        let new_s = new_dir.display().to_string();
        let text = renamed_config_text(&config.write(), &old_s, &new_s, newname);
        let new_config_file = config_file_of(&lxcpath, newname);
        let mut fresh = Config::new();
        fresh
            .parse_str(&text, &new_config_file.display().to_string())
            .context(format_args!("Cannot rename \"{name}\""))?;

        rename_noreplace(&old_dir, &new_dir)?;
        if let Err(e) = write_atomically(&new_config_file, text.as_bytes(), 0o640) {
            if let Err(back) = rename_noreplace(&new_dir, &old_dir) {
                log::error!("Failed to move {new_s} back to {old_s}: {}", back.message);
            }
            return Err(e);
        }
        if let Ok(Some(rootfs)) = storage::from_config(fresh.conf()) {
            set_rootfs_hostname(rootfs.as_ref(), newname);
        }
        // The sources of an overlay clone list it by name.
        deps::mod_all_rdeps(&new_dir, &lxcpath, &name, false);
        deps::mod_all_rdeps(&new_dir, &lxcpath, newname, true);
        let mut st = self.lock();
        st.name = newname.to_string();
        st.config_file = new_config_file;
        st.config = Some(fresh);
        Ok(())
    }
}
