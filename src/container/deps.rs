//! Dependencies between overlay clones and what they were cloned from
//! (LXC's `mod_rdep`, `mod_all_rdeps`, `add_rdepends`, `copy_rdepends`,
//! `has_fs_snapshots`).
//!
//! `<dir>/lxc_rdepends` of a clone lists what its rootfs depends on, and
//! `<dir>/lxc_snapshots` of the source lists its dependents, both as
//! "lxcpath\nname\n" pairs. An old-format `lxc_snapshots` holds a bare
//! count, which is kept counting. Both sit in container directories, whose
//! owner could put a FIFO or a device there: only regular files are read.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const SNAPSHOTS_FNAME: &str = "lxc_snapshots";
pub const RDEPENDS_FNAME: &str = "lxc_rdepends";

/// The "lxcpath\nname\n" pairs of a dependency file.
pub fn parse_pairs(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks_exact(2)
        .map(|p| (p[0].to_string(), p[1].to_string()))
        .collect()
}

/// LXC's `has_fs_snapshots`: the rootfs of the container in `dir` has
/// dependents (a non-empty `lxc_snapshots` that is not the count 0).
pub fn has_fs_snapshots(dir: &Path) -> bool {
    match crate::sys::read_regular_text(&dir.join(SNAPSHOTS_FNAME)) {
        Ok(t) if t.is_empty() => false,
        Ok(t) => t.trim().parse::<i64>() != Ok(0),
        Err(_) => false,
    }
}

/// What the container at `dir` depends on (its `lxc_rdepends`).
pub fn rdepends(dir: &Path) -> Vec<(String, String)> {
    crate::sys::read_regular_text(&dir.join(RDEPENDS_FNAME))
        .map(|t| parse_pairs(&t))
        .unwrap_or_default()
}

/// Appends one pair to `<dir>/lxc_rdepends` (LXC's `add_rdepends`).
pub fn add_rdepend(dir: &Path, lxcpath: &str, name: &str) -> Result<()> {
    append(&dir.join(RDEPENDS_FNAME), &format!("{lxcpath}\n{name}\n"))
}

fn append(path: &Path, entry: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::io("Failed to open", path, &e))?;
    f.write_all(entry.as_bytes())
        .map_err(|e| Error::io("Failed to write", path, &e))
}

/// The new `lxc_snapshots` text after adding or removing the dependent
/// (`lxcpath`, `name`); None when the file should go.
pub fn snapshots_text(old: &str, lxcpath: &str, name: &str, inc: bool) -> Option<String> {
    if let Ok(n) = old.trim().parse::<i64>() {
        // The legacy count; a count of 0 is dropped and the new format used.
        if n != 0 {
            return Some(format!("{}\n", n + if inc { 1 } else { -1 }));
        }
        return inc.then(|| format!("{lxcpath}\n{name}\n"));
    }
    let mut pairs = parse_pairs(old);
    if inc {
        pairs.push((lxcpath.to_string(), name.to_string()));
    } else {
        pairs.retain(|(p, n)| !(p == lxcpath && n == name));
    }
    if pairs.is_empty() {
        return None;
    }
    Some(pairs.iter().map(|(p, n)| format!("{p}\n{n}\n")).collect())
}

/// Adds (`inc`) or removes the dependent (`lxcpath`, `name`) in the
/// `lxc_snapshots` of the container at `source_dir` (LXC's `mod_rdep`).
pub fn mod_rdep(source_dir: &Path, lxcpath: &str, name: &str, inc: bool) -> Result<()> {
    let path = source_dir.join(SNAPSHOTS_FNAME);
    let old = match crate::sys::read_regular_text(&path) {
        Ok(t) => t,
        Err(e) if e.errno == libc::ENOENT => String::new(),
        Err(e) => return Err(e),
    };
    match snapshots_text(&old, lxcpath, name, inc) {
        Some(t) => super::write_atomically(&path, t.as_bytes(), 0o644),
        None => match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("Failed to remove", &path, &e)),
        },
    }
}

/// For each container the one at `dir` (`lxcpath`/`name`) depends on,
/// records (`inc`) or forgets it as a dependent (LXC's `mod_all_rdeps`).
pub fn mod_all_rdeps(dir: &Path, lxcpath: &str, name: &str, inc: bool) {
    for (p, n) in rdepends(dir) {
        let source: PathBuf = Path::new(&p).join(&n);
        if !source.is_dir() {
            log::error!("Unable to find dependent container {p}:{n}");
            continue;
        }
        if let Err(e) = mod_rdep(&source, lxcpath, name, inc) {
            log::error!("Failed to update snapshots file for {p}:{n}: {}", e.message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_file_edits() {
        assert_eq!(snapshots_text("", "/l", "c2", true).unwrap(), "/l\nc2\n");
        assert_eq!(
            snapshots_text("/l\nc2\n", "/m", "c3", true).unwrap(),
            "/l\nc2\n/m\nc3\n"
        );
        assert_eq!(
            snapshots_text("/l\nc2\n/m\nc3\n", "/l", "c2", false).unwrap(),
            "/m\nc3\n"
        );
        assert_eq!(snapshots_text("/l\nc2\n", "/l", "c2", false), None);
        // Legacy counts.
        assert_eq!(snapshots_text("2\n", "/l", "c", true).unwrap(), "3\n");
        assert_eq!(snapshots_text("2\n", "/l", "c", false).unwrap(), "1\n");
        assert_eq!(snapshots_text("0\n", "/l", "c", true).unwrap(), "/l\nc\n");
        assert_eq!(parse_pairs("/a\nb\n/c\n"), vec![("/a".into(), "b".into())]);
    }

    #[test]
    fn files() {
        let d = std::env::temp_dir().join(format!("lxc-deps-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let (base, clone) = (d.join("base"), d.join("clone"));
        std::fs::create_dir_all(&base).unwrap();
        std::fs::create_dir_all(&clone).unwrap();
        let lxcpath = d.display().to_string();
        assert!(!has_fs_snapshots(&base));
        add_rdepend(&clone, &lxcpath, "base").unwrap();
        mod_all_rdeps(&clone, &lxcpath, "clone", true);
        assert!(has_fs_snapshots(&base));
        assert_eq!(
            std::fs::read_to_string(base.join(SNAPSHOTS_FNAME)).unwrap(),
            format!("{lxcpath}\nclone\n")
        );
        mod_all_rdeps(&clone, &lxcpath, "clone", false);
        assert!(!base.join(SNAPSHOTS_FNAME).exists());
        std::fs::write(base.join(SNAPSHOTS_FNAME), "0\n").unwrap();
        assert!(!has_fs_snapshots(&base));
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// The files sit in the owner's directory: a FIFO there is refused,
    /// never waited on.
    #[test]
    fn fifos_are_not_read() {
        let d = std::env::temp_dir().join(format!("lxc-deps-fifo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        crate::sys::regular_file::mkfifo(&d.join(SNAPSHOTS_FNAME));
        crate::sys::regular_file::mkfifo(&d.join(RDEPENDS_FNAME));
        assert!(!has_fs_snapshots(&d));
        assert!(rdepends(&d).is_empty());
        let e = mod_rdep(&d, "/l", "c", true).unwrap_err();
        assert_eq!(e.errno, libc::EINVAL);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
