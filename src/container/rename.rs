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

use std::path::{Path, PathBuf};

use super::{config_file_of, write_atomically, Container};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::names;
use crate::storage;

/// The key of a config line ("lxc.uts.name" for "  lxc.uts.name = x").
fn line_key(line: &str) -> &str {
    let l = line.trim_start();
    l.split_once('=').map_or("", |(k, _)| k.trim_end())
}

/// `value` with a leading `old_dir` (as a whole path component) replaced by `new_dir`.
fn repoint(value: &str, old_dir: &str, new_dir: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find(old_dir) {
        let after = &rest[i + old_dir.len()..];
        let whole =
            after.is_empty() || after.starts_with('/') || after.starts_with(char::is_whitespace);
        out.push_str(&rest[..i]);
        out.push_str(if whole { new_dir } else { old_dir });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The saved configuration text of the renamed container.
pub fn renamed_config_text(text: &str, old_dir: &str, new_dir: &str, newname: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rootfs: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let key = line_key(line);
        match key {
            "lxc.rootfs.path" | "lxc.rootfs" => {
                let value = line.split_once('=').map_or("", |(_, v)| v.trim());
                rootfs = Some(repoint(value, old_dir, new_dir));
            }
            "lxc.uts.name" | "lxc.utsname" => {}
            k if k.starts_with("lxc.hook") || k == "lxc.mount.fstab" => {
                out.push_str(&repoint(line, old_dir, new_dir));
            }
            _ => out.push_str(line),
        }
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if let Some(r) = rootfs.filter(|r| !r.is_empty()) {
        out.push_str(&format!("lxc.rootfs.path = {r}\n"));
    }
    out.push_str(&format!("lxc.uts.name = {newname}\n"));
    out
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
        return Err(Error::new(
            err.raw_os_error().unwrap_or(libc::EIO),
            format!(
                "Failed to move {} to {}: {err}",
                from.display(),
                to.display()
            ),
        ));
    }
    Ok(())
}

impl Container {
    pub fn rename(&self, newname: &str) -> Result<()> {
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
        let config = match self.lock().config.clone() {
            Some(c) => c,
            None => {
                let mut c = Config::new();
                c.load_file(&self.config_file())?;
                c
            }
        };
        storage::from_config(config.conf())
            .map_err(|e| Error::new(e.errno, format!("Cannot rename \"{name}\": {}", e.message)))?;
        let old_s = old_dir.display().to_string();
        let new_s = new_dir.display().to_string();
        let text = renamed_config_text(&config.write(), &old_s, &new_s, newname);
        let new_config_file = config_file_of(&lxcpath, newname);
        let mut fresh = Config::new();
        fresh
            .parse_str(&text, &new_config_file.display().to_string())
            .map_err(|e| Error::new(e.errno, format!("Cannot rename \"{name}\": {}", e.message)))?;

        rename_noreplace(&old_dir, &new_dir)?;
        if let Err(e) = write_atomically(&new_config_file, text.as_bytes(), 0o640) {
            if let Err(back) = rename_noreplace(&new_dir, &old_dir) {
                log::error!("Failed to move {new_s} back to {old_s}: {}", back.message);
            }
            return Err(e);
        }
        if let Ok(Some(rootfs)) = storage::from_config(fresh.conf()) {
            set_hostname_file(rootfs.host_path(), newname);
        }
        let mut st = self.lock();
        st.name = newname.to_string();
        st.config_file = new_config_file;
        st.config = Some(fresh);
        Ok(())
    }
}

/// LXC's clone writes the new name into an existing `<rootfs>/etc/hostname`.
fn set_hostname_file(rootfs: &Path, newname: &str) {
    let path: PathBuf = rootfs.join("etc/hostname");
    // Never follow a symlink planted in the rootfs.
    match path.symlink_metadata() {
        Ok(m) if m.is_file() => {
            if let Err(e) = std::fs::write(&path, newname) {
                log::warn!("Failed to update {}: {e}", path.display());
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_text() {
        let text = "# Template used\nlxc.rootfs.path = dir:/p/old/rootfs\nlxc.uts.name = \"old\"\n\
                    lxc.hook.destroy = /p/old/hook.sh arg\nlxc.mount.fstab = /p/old/fstab\n\
                    lxc.mount.entry = /p/older x none bind 0 0\nlxc.utsname = old\nlxc.tty.max = 5\n";
        assert_eq!(
            renamed_config_text(text, "/p/old", "/p/new", "new"),
            "# Template used\nlxc.hook.destroy = /p/new/hook.sh arg\nlxc.mount.fstab = /p/new/fstab\n\
             lxc.mount.entry = /p/older x none bind 0 0\nlxc.tty.max = 5\n\
             lxc.rootfs.path = dir:/p/new/rootfs\nlxc.uts.name = new\n"
        );
        // An external rootfs stays; no rootfs stays none.
        assert_eq!(
            renamed_config_text("lxc.rootfs.path = /srv/r", "/p/old", "/p/new", "n"),
            "lxc.rootfs.path = /srv/r\nlxc.uts.name = n\n"
        );
        assert_eq!(
            renamed_config_text("", "/p/old", "/p/new", "n"),
            "lxc.uts.name = n\n"
        );
        assert_eq!(
            repoint("/p/oldx/a /p/old", "/p/old", "/p/new"),
            "/p/oldx/a /p/new"
        );
    }
}
