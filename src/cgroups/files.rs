//! A hierarchy's directories and files, looked up from its mountpoint
//! opened once. A path from `/` crosses `/sys` and `/sys/fs`, sysfs
//! directories: each lookup there waits while the kernel adds or removes
//! sysfs entries, which it does for every network namespace made or
//! destroyed (its `lo`). A start makes one on a thread while the monitor
//! makes the cgroups, so every cgroup path waited for it (0.2 ms per start
//! here, up to 1.5 ms).

use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use super::Hierarchy;
use crate::sys::at;

/// A hierarchy's opened mountpoint, when it has one (see [`Hierarchy::open_mount`]).
#[derive(Debug, Clone, Default)]
pub struct MountDir(Option<Arc<OwnedFd>>);

/// Two views of one hierarchy are equal whether or not either opened it.
impl PartialEq for MountDir {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for MountDir {}

impl MountDir {
    /// A mountpoint opened elsewhere (see `handoff`).
    pub(super) fn opened(fd: Arc<OwnedFd>) -> MountDir {
        MountDir(Some(fd))
    }

    pub(super) fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.0.as_ref().map(|fd| fd.as_fd())
    }
}

impl Hierarchy {
    /// Opens the mountpoint, from which this hierarchy's paths are looked
    /// up from now on.
    pub(super) fn open_mount(&mut self) -> io::Result<()> {
        let fd = at::openat(None, &self.mountpoint, libc::O_PATH | libc::O_DIRECTORY)?;
        self.mount = MountDir(Some(Arc::new(fd)));
        Ok(())
    }

    /// Where `path` is looked up from: the opened mountpoint and the rest
    /// of the path when it lies in this hierarchy, else the path as is.
    fn at<'p>(&self, path: &'p Path) -> (Option<BorrowedFd<'_>>, &'p Path) {
        let from_mount = self.mount.0.as_ref().and_then(|fd| {
            let rest = path.strip_prefix(&self.mountpoint).ok()?;
            let rest = if rest.as_os_str().is_empty() {
                Path::new(".")
            } else {
                rest
            };
            Some((Some(fd.as_fd()), rest))
        });
        from_mount.unwrap_or((None, path))
    }

    pub(super) fn mkdir(&self, dir: &Path) -> io::Result<()> {
        let (base, rest) = self.at(dir);
        at::mkdirat(base, rest.as_os_str(), 0o777)
    }

    pub(super) fn is_dir(&self, dir: &Path) -> bool {
        let (base, rest) = self.at(dir);
        at::statat(base, rest).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
    }

    /// Whether this process may write `path` (true when it does not
    /// exist: what may be created there is for the kernel to say).
    pub(super) fn may_write(&self, path: &Path) -> bool {
        let (base, rest) = self.at(path);
        match at::accessat(base, rest, libc::W_OK) {
            Ok(()) => true,
            Err(e) => e.raw_os_error() == Some(libc::ENOENT),
        }
    }

    pub(super) fn read(&self, file: &Path) -> io::Result<String> {
        let (base, rest) = self.at(file);
        crate::sys::procfs::read_opened(at::openat(base, rest, libc::O_RDONLY)?.into())
    }

    /// Writes `value` to an existing file in one write (cgroup files are
    /// never created).
    pub(super) fn write(&self, file: &Path, value: &str) -> io::Result<()> {
        let (base, rest) = self.at(file);
        std::fs::File::from(at::openat(base, rest, libc::O_WRONLY)?).write_all(value.as_bytes())
    }

    pub(super) fn open_dir(&self, dir: &Path) -> io::Result<std::fs::File> {
        let (base, rest) = self.at(dir);
        at::openat(base, rest, libc::O_RDONLY | libc::O_DIRECTORY).map(std::fs::File::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hierarchy_at(mountpoint: &Path) -> Hierarchy {
        Hierarchy {
            mountpoint: mountpoint.to_path_buf(),
            controllers: vec!["pids".into()],
            unified: false,
            current: "/".into(),
            order: 0,
            mount: MountDir::default(),
        }
    }

    /// Once opened, the hierarchy's paths are looked up from the
    /// descriptor: moving the directory away does not change where they
    /// lead, which a lookup from `/` would.
    #[test]
    fn paths_are_looked_up_from_the_opened_mountpoint() {
        let base = crate::test_support::scratch_dir("cgfiles-moved");
        let (mnt, moved) = (base.join("mnt"), base.join("moved"));
        std::fs::create_dir_all(&mnt).unwrap();
        let mut h = hierarchy_at(&mnt);
        h.open_mount().unwrap();
        std::fs::rename(&mnt, &moved).unwrap();

        assert!(h.is_dir(&mnt));
        h.mkdir(&mnt.join("lxc.payload.c")).unwrap();
        assert!(moved.join("lxc.payload.c").is_dir());
        let file = mnt.join("lxc.payload.c/tasks");
        std::fs::write(moved.join("lxc.payload.c/tasks"), "").unwrap();
        h.write(&file, "0").unwrap();
        assert_eq!(h.read(&file).unwrap(), "0");
        assert!(h.may_write(&file) && h.may_write(&mnt.join("absent")));
        assert!(h.open_dir(&mnt.join("lxc.payload.c")).is_ok());
        // Nothing is created by a write.
        assert!(h.write(&mnt.join("lxc.payload.c/absent"), "1").is_err());
        // A path outside the hierarchy is taken as it is.
        assert!(h.is_dir(&moved) && !h.is_dir(&mnt.join("nowhere")));
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn without_an_opened_mountpoint_paths_are_taken_as_they_are() {
        let base = crate::test_support::scratch_dir("cgfiles-plain");
        let h = hierarchy_at(&base);
        h.mkdir(&base.join("d")).unwrap();
        assert!(h.is_dir(&base.join("d")));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
