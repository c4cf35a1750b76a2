//! Snapshots (LXC 6.0's `do_lxcapi_snapshot*`): each snapshot is a
//! container `snapN` in the lxcpath `<lxcpath>/<name>/snaps` (or, when the
//! old-style `<lxcpath>snaps` directory exists, `<lxcpath>snaps/<name>`),
//! made by `clone` with KEEPNAME, KEEPMACADDR and KEEPBDEVTYPE: a copy for
//! a `dir` container, an overlay snapshot for an overlay one. `ts` holds
//! the creation time ("%Y:%m:%d %H:%M:%S", local time) and `comment` a
//! copy of the comment file.

use std::path::{Path, PathBuf};

use super::clone::{
    CloneOptions, CLONE_KEEPBDEVTYPE, CLONE_KEEPMACADDR, CLONE_KEEPNAME, CLONE_MAYBE_SNAPSHOT,
    CLONE_SNAPSHOT,
};
use super::create::{partial_state, PartialState};
use super::Container;
use crate::error::{Error, Result, ResultExt};
use crate::names;
use crate::storage;

pub const TIMESTAMP_FNAME: &str = "ts";
pub const COMMENT_FNAME: &str = "comment";

/// One entry of `snapshot_list` (`struct lxc_snapshot`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub name: String,
    /// `<snappath>/<name>/comment`, whether or not it exists (as LXC).
    pub comment_pathname: String,
    /// The content of `ts`; None when it is missing or empty.
    pub timestamp: Option<String>,
    pub lxcpath: String,
}

/// The first `snapN` with nothing at `<snappath>/snapN` (LXC's `get_next_index`).
pub fn next_index(snappath: &Path) -> u32 {
    (0..)
        .find(|i| {
            snappath
                .join(format!("snap{i}"))
                .symlink_metadata()
                .is_err()
        })
        .unwrap_or(0)
}

/// Snapshots whose `snapshot()` was killed half way (an unlocked `partial`
/// marker) are destroyed, as `lxc_container_new` does for a container, so
/// their index is free again and no broken snapshot is ever listed.
fn discard_interrupted(snappath: &Path) {
    let Ok(entries) = std::fs::read_dir(snappath) else {
        return;
    };
    for name in entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
    {
        if partial_state(&snappath.join(&name)).ok() == Some(PartialState::Incomplete) {
            // Opening a handle runs the incomplete-create recovery.
            drop(Container::new(&name, snappath.to_str()));
        }
    }
}

/// `time` as local time in LXC's timestamp format.
pub fn format_timestamp(time: libc::time_t) -> String {
    // SAFETY: localtime_r fills a zeroed tm; strftime writes at most 32 bytes.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&time, &mut tm).is_null() {
            return String::new();
        }
        let mut buf = [0u8; 32];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%Y:%m:%d %H:%M:%S".as_ptr(),
            &tm,
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

/// Sort key: snap2 before snap10, other names after, by name.
fn order(name: &str) -> (u64, String) {
    let n = name
        .strip_prefix("snap")
        .and_then(|d| d.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    (n, name.to_string())
}

impl Container {
    /// LXC's `get_snappath_dir`.
    pub fn snapshot_path(&self) -> PathBuf {
        let lxcpath = self.lxcpath();
        let old_style = PathBuf::from(format!("{lxcpath}snaps"));
        if old_style.is_dir() {
            return old_style.join(self.name());
        }
        Path::new(&lxcpath).join(self.name()).join("snaps")
    }

    fn require_defined(&self, op: &str) -> Result<()> {
        if self.is_defined() {
            return Ok(());
        }
        Err(Error::new(
            libc::ENOENT,
            format!(
                "Cannot {op}: container \"{}\" is not defined in \"{}\"",
                self.name(),
                self.lxcpath()
            ),
        ))
    }

    fn rootfs_kind(&self) -> Result<&'static str> {
        let config = self.config_or_disk()?;
        match storage::from_config(config.conf())? {
            Some(s) => Ok(s.kind()),
            None => Err(Error::invalid("the container has no rootfs")),
        }
    }

    /// `snapshot(commentfile)`: returns N of the new `snapN`.
    pub fn snapshot(&self, commentfile: Option<&Path>) -> Result<u32> {
        let _lock = self.disk_lock()?;
        self.require_defined("snapshot")?;
        let kind = self.rootfs_kind()?;
        let snappath = self.snapshot_path();
        discard_interrupted(&snappath);
        let i = next_index(&snappath);
        std::fs::create_dir_all(&snappath)
            .map_err(|e| Error::io("Failed to create snapshot directory", &snappath, &e))?;
        let mut flags = CLONE_SNAPSHOT
            | CLONE_KEEPMACADDR
            | CLONE_KEEPNAME
            | CLONE_KEEPBDEVTYPE
            | CLONE_MAYBE_SNAPSHOT;
        if kind == "dir" {
            // LXC: a dir container gets a copy clone.
            flags &= !CLONE_SNAPSHOT;
        }
        let newname = format!("snap{i}");
        let snap = self.clone_to(&CloneOptions {
            newname: Some(newname.clone()),
            lxcpath: Some(snappath.display().to_string()),
            flags,
            ..Default::default()
        })?;
        drop(snap);
        let dir = snappath.join(&newname);
        // SAFETY: time(NULL) has no preconditions.
        let now = unsafe { libc::time(std::ptr::null_mut()) };
        let ts = dir.join(TIMESTAMP_FNAME);
        std::fs::write(&ts, format_timestamp(now))
            .map_err(|e| Error::io("Failed to write timestamp", &ts, &e))?;
        if let Some(comment) = commentfile {
            let to = dir.join(COMMENT_FNAME);
            std::fs::copy(comment, &to)
                .map_err(|e| Error::io("Failed to copy the comment file to", &to, &e))?;
        }
        Ok(i)
    }

    /// `snapshot_list`: the snapshots that have a config, in index order.
    pub fn snapshot_list(&self) -> Result<Vec<Snapshot>> {
        self.require_defined("list snapshots")?;
        let snappath = self.snapshot_path();
        let Ok(entries) = std::fs::read_dir(&snappath) else {
            return Ok(Vec::new());
        };
        let lxcpath = snappath.display().to_string();
        let mut out: Vec<Snapshot> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let dir = snappath.join(&name);
                // A snapshot still being made (or killed half way) is not
                // one yet, even when its config is already written.
                if !dir.join("config").exists() || partial_state(&dir).ok()? != PartialState::None {
                    return None;
                }
                let timestamp = crate::sys::read_regular_text(&dir.join(TIMESTAMP_FNAME))
                    .ok()
                    .filter(|t| !t.is_empty());
                Some(Snapshot {
                    comment_pathname: dir.join(COMMENT_FNAME).display().to_string(),
                    timestamp,
                    lxcpath: lxcpath.clone(),
                    name,
                })
            })
            .collect();
        out.sort_by_key(|s| order(&s.name));
        Ok(out)
    }

    /// `snapshot_restore(snapname, newname)`: a clone of the snapshot back
    /// into this container's lxcpath; under this container's own name
    /// (newname None or equal) the container is destroyed first (its
    /// snapshots stay).
    pub fn snapshot_restore(&self, snapname: &str, newname: Option<&str>) -> Result<()> {
        let _lock = self.disk_lock()?;
        names::validate_name(snapname)?;
        let name = self.name();
        let dir = self.container_dir();
        if super::deps::has_fs_snapshots(&dir) {
            return Err(Error::new(
                libc::EBUSY,
                format!("Cannot restore \"{name}\": overlay clones depend on its rootfs"),
            ));
        }
        let kind = self.rootfs_kind()?;
        let newname = newname.unwrap_or(&name).to_string();
        let snappath = self.snapshot_path();
        let snap = Container::new(snapname, Some(&snappath.display().to_string()))?;
        if !snap.is_defined() {
            return Err(Error::new(
                libc::ENOENT,
                format!(
                    "Could not open snapshot \"{snapname}\" in {}",
                    snappath.display()
                ),
            ));
        }
        let in_place = newname == name;
        if in_place {
            if self.state() != "STOPPED" {
                return Err(Error::new(
                    libc::EBUSY,
                    format!("Cannot restore \"{name}\" in place: it is not stopped"),
                ));
            }
            self.destroy_steps(true)?;
        }
        let flags = if kind != "dir" && kind != "loop" {
            CLONE_SNAPSHOT | CLONE_MAYBE_SNAPSHOT
        } else {
            0
        };
        let opts = CloneOptions {
            newname: Some(newname.clone()),
            lxcpath: Some(self.lxcpath()),
            flags,
            bdevtype: Some(kind.to_string()),
            ..Default::default()
        };
        snap.clone_steps(&opts, in_place && kind == "overlay")?;
        if in_place {
            self.load_config(None)?;
        }
        Ok(())
    }

    /// `snapshot_destroy(snapname)`: destroys that snapshot container.
    pub fn snapshot_destroy(&self, snapname: &str) -> Result<()> {
        let _lock = self.disk_lock()?;
        names::validate_name(snapname)?;
        let snappath = self.snapshot_path();
        let snap = Container::new(snapname, Some(&snappath.display().to_string()))?;
        snap.destroy()
            .context(format_args!("Could not destroy snapshot \"{snapname}\""))
    }

    /// `snapshot_destroy_all`: every snapshot, then the snapshot directory.
    /// A container without snapshot directory has nothing to destroy
    /// (LXC 6.0 fails there, which makes `destroy_with_snapshots` fail on a
    /// container that never had a snapshot).
    pub fn snapshot_destroy_all(&self) -> Result<()> {
        let snappath = self.snapshot_path();
        let entries = match std::fs::read_dir(&snappath) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(Error::io(
                    "Failed to open snapshot directory",
                    &snappath,
                    &e,
                ))
            }
        };
        let mut first: Option<Error> = None;
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        names.sort_by_key(|n| std::cmp::Reverse(order(n)));
        for n in names {
            if let Err(e) = self.snapshot_destroy(&n) {
                log::error!("{}", e.message);
                first.get_or_insert(e);
            }
        }
        if let Err(e) = std::fs::remove_dir(&snappath) {
            log::error!("Error removing directory {}: {e}", snappath.display());
        }
        first.map_or(Ok(()), Err)
    }

    /// `destroy_with_snapshots`.
    pub fn destroy_with_snapshots(&self) -> Result<()> {
        self.require_defined("destroy")?;
        self.snapshot_destroy_all()?;
        self.destroy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_timestamp() {
        let d = std::env::temp_dir().join(format!("lxc-snapidx-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        assert_eq!(next_index(&d), 0);
        std::fs::create_dir_all(d.join("snap0")).unwrap();
        std::fs::create_dir_all(d.join("snap2")).unwrap();
        assert_eq!(next_index(&d), 1);
        std::fs::create_dir_all(d.join("snap1")).unwrap();
        assert_eq!(next_index(&d), 3);
        std::fs::remove_dir_all(&d).unwrap();
        let ts = format_timestamp(0);
        assert_eq!(ts.len(), 19, "{ts}");
        let b = ts.as_bytes();
        assert_eq!(
            (b[4], b[7], b[10], b[13], b[16]),
            (b':', b':', b' ', b':', b':')
        );
        assert!(
            ts.starts_with("1970:01:01") || ts.starts_with("1969:12:31"),
            "{ts}"
        );
        let mut v = vec!["snap10", "snap2", "x", "snap0"];
        v.sort_by_key(|n| order(n));
        assert_eq!(v, ["snap0", "snap2", "snap10", "x"]);
    }
}
