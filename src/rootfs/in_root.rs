//! Paths inside the container's rootfs, resolved as the container will see
//! them and opened in the same step (openat2 with RESOLVE_IN_ROOT): an
//! absolute symlink is followed inside the rootfs, `..` stops at its root,
//! magic links (/proc/<pid>/fd/N, cwd, root...) are refused, and what was
//! opened cannot be swapped for something else before it is used. The
//! container controls its rootfs: no path below it is looked up by the
//! host's rules. Missing paths are created the same way, from descriptors
//! of their parents.
//!
//! Mounts crossed on the way are followed (no RESOLVE_NO_XDEV): targets
//! legitimately lie on mounts made earlier inside the rootfs (dev/pts on
//! the /dev tmpfs, sys/kernel/security on sysfs).

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::sys::at;

const RESOLVE: u64 = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;

/// Symlinks followed while creating a path (the kernel's own limit).
const MAX_LINKS: u32 = 40;

/// A file or directory opened with O_PATH inside a root; itself the root
/// for the lookups made through it.
#[derive(Debug)]
pub struct Opened {
    fd: OwnedFd,
    /// What messages call it.
    shown: PathBuf,
}

/// What a created path ends in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Dir,
    File,
}

/// One step of a path walked while creating it.
enum Step {
    /// Back to the root (an absolute path or symlink).
    Root,
    Name(OsString),
}

/// The steps of `path`, last first (a stack).
fn steps(path: &Path) -> Vec<Step> {
    let mut steps: Vec<Step> = path
        .components()
        .filter_map(|c| match c {
            Component::RootDir | Component::Prefix(_) => Some(Step::Root),
            Component::CurDir => None,
            Component::ParentDir => Some(Step::Name("..".into())),
            Component::Normal(n) => Some(Step::Name(n.to_owned())),
        })
        .collect();
    steps.reverse();
    steps
}

/// The lookup of an empty path is ENOENT: it means the root itself here.
fn or_dot(path: &Path) -> &Path {
    if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    }
}

fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

impl Opened {
    /// The rootfs at the host path `path` (the host's configuration, so
    /// looked up by the host's rules), as the root of later lookups.
    pub fn root(path: &Path) -> Result<Opened> {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = std::fs::File::options()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| Error::io("Failed to open rootfs", path, &e))?;
        Ok(Opened {
            fd: dir.into(),
            shown: path.to_path_buf(),
        })
    }

    /// A mount just attached (its root, `fd`), named `shown`.
    pub(super) fn mount(fd: OwnedFd, shown: PathBuf) -> Opened {
        Opened { fd, shown }
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// The file type (S_IFMT bits) of what is opened.
    pub fn file_type(&self) -> Result<libc::mode_t> {
        Ok(self.stat()?.st_mode & libc::S_IFMT)
    }

    /// fstat of what is opened.
    pub fn stat(&self) -> Result<libc::stat> {
        at::stat(self.fd()).map_err(|e| Error::io("Failed to stat", &self.shown, &e))
    }

    fn open_at(&self, rel: &Path, flags: i32) -> io::Result<OwnedFd> {
        at::openat2(self.fd(), or_dot(rel), libc::O_PATH | flags, RESOLVE)
    }

    fn child(&self, fd: OwnedFd, rel: &Path) -> Opened {
        let rel = rel.strip_prefix("/").unwrap_or(rel);
        Opened {
            fd,
            shown: self.shown.join(rel),
        }
    }

    fn fail(&self, what: &str, rel: &Path, e: &io::Error) -> Error {
        let why = if errno(e) == libc::ELOOP {
            " (a /proc magic link, or a symlink loop: refused inside the rootfs)"
        } else {
            ""
        };
        Error::new(
            errno(e),
            format!(
                "{what} {} in {}: {e}{why}",
                rel.display(),
                self.shown.display()
            ),
        )
    }

    /// `rel` (a trailing symlink followed), which must exist.
    pub fn resolve(&self, rel: impl AsRef<Path>) -> Result<Opened> {
        let rel = rel.as_ref();
        self.open_at(rel, 0)
            .map(|fd| self.child(fd, rel))
            .map_err(|e| self.fail("Failed to open", rel, &e))
    }

    /// `rel`, or None when it does not exist.
    pub fn try_resolve(&self, rel: impl AsRef<Path>) -> Result<Option<Opened>> {
        let rel = rel.as_ref();
        match self.open_at(rel, 0) {
            Ok(fd) => Ok(Some(self.child(fd, rel))),
            Err(e) if errno(&e) == libc::ENOENT => Ok(None),
            Err(e) => Err(self.fail("Failed to open", rel, &e)),
        }
    }

    /// The type of `rel` itself (a trailing symlink not followed: S_IFLNK),
    /// or None when nothing is there.
    pub fn link_type(&self, rel: impl AsRef<Path>) -> Result<Option<libc::mode_t>> {
        Ok(self.link_stat(rel)?.map(|st| st.st_mode & libc::S_IFMT))
    }

    /// What `rel` itself is (fstat, a trailing symlink not followed), or
    /// None when nothing is there.
    pub fn link_stat(&self, rel: impl AsRef<Path>) -> Result<Option<libc::stat>> {
        let rel = rel.as_ref();
        match self.open_at(rel, libc::O_NOFOLLOW) {
            Ok(fd) => at::stat(fd.as_fd())
                .map(Some)
                .map_err(|e| self.fail("Failed to stat", rel, &e)),
            Err(e) if errno(&e) == libc::ENOENT => Ok(None),
            Err(e) => Err(self.fail("Failed to open", rel, &e)),
        }
    }

    /// `rel` as a directory, made with its missing parents (`mkdir -p`).
    pub fn make_dirs(&self, rel: impl AsRef<Path>) -> Result<Opened> {
        self.make(rel.as_ref(), Last::Dir)
    }

    /// `rel`, made as an empty file (and its parents as directories) when
    /// it does not exist.
    pub fn make_file(&self, rel: impl AsRef<Path>) -> Result<Opened> {
        self.make(rel.as_ref(), Last::File)
    }

    /// The parent of `rel`, opened, and the name of `rel` in it.
    fn parent_of<'a>(&self, rel: &'a Path) -> Result<(Opened, &'a OsStr)> {
        let name = rel.file_name().ok_or_else(|| {
            Error::invalid(format!(
                "{} in {} names no file",
                rel.display(),
                self.shown.display()
            ))
        })?;
        let parent = self.resolve(rel.parent().unwrap_or(Path::new("")))?;
        Ok((parent, name))
    }

    /// A symlink `rel` pointing to `to`, unless something is there already.
    pub fn symlink(&self, rel: impl AsRef<Path>, to: &str) -> Result<()> {
        let (parent, name) = self.parent_of(rel.as_ref())?;
        parent.symlink_in(name, to)
    }

    /// A new empty file `name` (one component) in this directory, opened;
    /// None when something is there already (to be looked up from the
    /// root instead). Three syscalls, no walk.
    pub fn new_file_in(&self, name: &str) -> Result<Option<Opened>> {
        let rel = Path::new(name);
        match at::create_file_at(self.fd(), OsStr::new(name), 0o666) {
            Ok(()) => {}
            Err(e) if errno(&e) == libc::EEXIST => return Ok(None),
            Err(e) => return Err(self.fail("Failed to create", rel, &e)),
        }
        self.open_at(rel, libc::O_NOFOLLOW)
            .map(|fd| Some(self.child(fd, rel)))
            .map_err(|e| self.fail("Failed to open", rel, &e))
    }

    /// The regular file `name` (one component) in this directory, opened
    /// for writing; never through a symlink, and anything else (a FIFO, a
    /// device) is never opened: found as a bare handle, type checked,
    /// reopened through it. None when it is not there or not a regular file.
    pub fn open_regular_in(&self, name: &str) -> Result<Option<std::fs::File>> {
        let rel = Path::new(name);
        let found = match self.open_at(rel, libc::O_NOFOLLOW) {
            Ok(fd) => self.child(fd, rel),
            Err(e) if errno(&e) == libc::ENOENT => return Ok(None),
            Err(e) => return Err(self.fail("Failed to open", rel, &e)),
        };
        if found.file_type()? != libc::S_IFREG {
            return Ok(None);
        }
        found.reopen(libc::O_WRONLY).map(Some)
    }

    /// What is opened, opened again with `flags` (read, write) through its
    /// descriptor: the same inode, not looked up again.
    pub fn reopen(&self, flags: libc::c_int) -> Result<std::fs::File> {
        crate::sys::reopen(self.fd(), flags)
            .map_err(|e| Error::io("Failed to open", &self.shown, &e))
    }

    /// A symlink `name` (one component) in this directory, pointing to
    /// `to`, unless something is there already: one syscall, no lookup.
    pub fn symlink_in(&self, name: impl AsRef<OsStr>, to: &str) -> Result<()> {
        let name = name.as_ref();
        match at::symlinkat(Path::new(to), self.fd(), name) {
            Err(e) if errno(&e) != libc::EEXIST => {
                Err(self.fail("Failed to create symlink", Path::new(name), &e))
            }
            _ => Ok(()),
        }
    }

    /// A device node `name` (one component) in this directory, unless
    /// something is there already: one syscall, no lookup.
    pub fn mknod_in(
        &self,
        name: impl AsRef<OsStr>,
        mode: libc::mode_t,
        major: u32,
        minor: u32,
    ) -> Result<()> {
        let name = name.as_ref();
        match at::mknodat(self.fd(), name, mode, major, minor) {
            Err(e) if errno(&e) != libc::EEXIST => {
                Err(self.fail("Failed to create device node", Path::new(name), &e))
            }
            _ => Ok(()),
        }
    }

    /// Walks `rel` from the root, making what is missing: each directory
    /// from a descriptor of its parent, never through a path the host
    /// resolves. A dangling symlink on the way is followed inside the root
    /// and what it points to is made.
    fn make(&self, rel: &Path, last: Last) -> Result<Opened> {
        if let Some(found) = self.try_resolve(rel)? {
            return Ok(found);
        }
        let mut pending = steps(rel);
        // Resolved from the root on each use: a component swapped
        // meanwhile still resolves inside it.
        let mut done = PathBuf::new();
        let mut links = 0;
        while let Some(step) = pending.pop() {
            let name = match step {
                Step::Root => {
                    done.clear();
                    continue;
                }
                Step::Name(name) => name,
            };
            let path = done.join(&name);
            match self.open_at(&path, 0) {
                Ok(_) => {
                    done = path;
                    continue;
                }
                Err(e) if errno(&e) == libc::ENOENT => {}
                Err(e) => return Err(self.fail("Failed to open", &path, &e)),
            }
            let parent = self
                .open_at(&done, libc::O_DIRECTORY)
                .map_err(|e| self.fail("Failed to open", or_dot(&done), &e))?;
            let made = if pending.is_empty() && last == Last::File {
                at::create_file_at(parent.as_fd(), &name, 0o666)
            } else {
                at::mkdirat(parent.as_fd(), &name, 0o755)
            };
            match made {
                Ok(()) => done = path,
                Err(e) if errno(&e) == libc::EEXIST => {
                    // Not found, yet there: a dangling symlink (or a
                    // racing change: look again).
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(self.fail(
                            "Failed to create",
                            rel,
                            &io::Error::from_raw_os_error(libc::ELOOP),
                        ));
                    }
                    match at::readlinkat(parent.as_fd(), &name) {
                        Ok(target) => pending.extend(steps(&target)),
                        Err(_) => pending.push(Step::Name(name)),
                    }
                }
                Err(e) => return Err(self.fail("Failed to create", &path, &e)),
            }
        }
        self.open_at(&done, 0)
            .map(|fd| self.child(fd, rel))
            .map_err(|e| self.fail("Failed to open", rel, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::symlink;

    /// A scratch directory with a `rootfs` in it, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let d = std::env::temp_dir().join(format!("lxc-in-root-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(d.join("rootfs")).unwrap();
            Scratch(d.canonicalize().unwrap())
        }

        fn rootfs(&self) -> PathBuf {
            self.0.join("rootfs")
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Where an opened descriptor really is, on the host.
    fn real_path(o: &Opened) -> PathBuf {
        std::fs::read_link(format!("/proc/self/fd/{}", o.fd().as_raw_fd())).unwrap()
    }

    #[test]
    fn absolute_symlink_is_followed_inside() {
        let s = Scratch::new("abs");
        let r = s.rootfs();
        std::fs::create_dir_all(r.join("mnt")).unwrap();
        std::fs::create_dir_all(r.join("data")).unwrap();
        symlink("/data", r.join("mnt/link")).unwrap();
        // Also a symlink to a host path that exists on the host only.
        symlink(&s.0, r.join("mnt/host")).unwrap();
        let root = Opened::root(&r).unwrap();
        assert_eq!(
            real_path(&root.resolve("mnt/link").unwrap()),
            r.join("data")
        );
        assert_eq!(
            real_path(&root.resolve("/mnt/link").unwrap()),
            r.join("data")
        );
        assert!(root.try_resolve("mnt/host").unwrap().is_none());
        assert_eq!(root.link_type("mnt/link").unwrap(), Some(libc::S_IFLNK));
        assert_eq!(root.link_type("mnt/nothing").unwrap(), None);
    }

    #[test]
    fn dotdot_stops_at_the_root() {
        let s = Scratch::new("dotdot");
        let r = s.rootfs();
        std::fs::create_dir_all(r.join("dev")).unwrap();
        std::fs::create_dir_all(r.join("tmp")).unwrap();
        symlink("../../../../..", r.join("dev/up")).unwrap();
        let root = Opened::root(&r).unwrap();
        assert_eq!(real_path(&root.resolve("../../../..").unwrap()), r);
        assert_eq!(
            real_path(&root.resolve("../../tmp").unwrap()),
            r.join("tmp")
        );
        assert_eq!(
            real_path(&root.resolve("dev/up/tmp").unwrap()),
            r.join("tmp")
        );
        // Made where the container would make it.
        let made = root.make_dirs("../../../x/y").unwrap();
        assert_eq!(real_path(&made), r.join("x/y"));
        assert!(!s.0.join("x").exists());
    }

    #[test]
    fn magic_links_are_refused() {
        // The host's root stands for a rootfs with its procfs mounted.
        let s = Scratch::new("magic");
        symlink("/proc/self/cwd", s.0.join("cwd")).unwrap();
        symlink("/proc/self/root/tmp", s.0.join("tmp")).unwrap();
        let root = Opened::root(Path::new("/")).unwrap();
        for link in ["cwd", "tmp"] {
            let err = root.resolve(s.0.join(link)).unwrap_err();
            assert_eq!(err.errno, libc::ELOOP, "{}", err.message);
            assert!(err.message.contains("magic link"), "{}", err.message);
        }
        assert_eq!(
            root.make_dirs(s.0.join("cwd/x")).unwrap_err().errno,
            libc::ELOOP
        );
    }

    #[test]
    fn dangling_symlinks_are_made_inside() {
        let s = Scratch::new("dangling");
        let r = s.rootfs();
        std::fs::create_dir_all(r.join("mnt")).unwrap();
        let outside = s.0.join("outside");
        symlink(&outside, r.join("mnt/dir")).unwrap();
        symlink(s.0.join("outside-file"), r.join("mnt/file")).unwrap();
        symlink("../rel", r.join("mnt/rel")).unwrap();
        let root = Opened::root(&r).unwrap();
        let inside = r.join(outside.strip_prefix("/").unwrap());
        assert_eq!(
            real_path(&root.make_dirs("mnt/dir/sub").unwrap()),
            inside.join("sub")
        );
        let file = root.make_file("mnt/file").unwrap();
        assert_eq!(file.file_type().unwrap(), libc::S_IFREG);
        assert_eq!(
            real_path(&root.make_dirs("mnt/rel").unwrap()),
            r.join("rel")
        );
        assert!(!outside.exists() && !s.0.join("outside-file").exists());
        // Existing paths are opened as they are.
        assert_eq!(
            root.make_file("mnt").unwrap().file_type().unwrap(),
            libc::S_IFDIR
        );
        // A loop ends.
        symlink("loop", r.join("loop")).unwrap();
        assert_eq!(root.make_dirs("loop/x").unwrap_err().errno, libc::ELOOP);
    }

    #[test]
    fn nodes_and_symlinks_are_made_inside() {
        let s = Scratch::new("nodes");
        let r = s.rootfs();
        std::fs::create_dir_all(r.join("dev")).unwrap();
        symlink("/", r.join("up")).unwrap();
        let root = Opened::root(&r).unwrap();
        root.symlink("up/dev/fd", "/proc/self/fd").unwrap();
        assert_eq!(
            std::fs::read_link(r.join("dev/fd")).unwrap(),
            Path::new("/proc/self/fd")
        );
        // Something there already: kept.
        root.symlink("dev/fd", "elsewhere").unwrap();
        assert_eq!(
            std::fs::read_link(r.join("dev/fd")).unwrap(),
            Path::new("/proc/self/fd")
        );
        let dev = root.resolve("up/dev").unwrap();
        dev.mknod_in("fifo", libc::S_IFIFO | 0o600, 0, 0).unwrap();
        assert_eq!(root.link_type("dev/fifo").unwrap(), Some(libc::S_IFIFO));
        // Something there already: kept.
        dev.mknod_in("fd", libc::S_IFIFO | 0o600, 0, 0).unwrap();
        assert_eq!(root.link_type("dev/fd").unwrap(), Some(libc::S_IFLNK));
        // A new file is made and opened; one there (a symlink too) is not.
        let made = dev.new_file_in("console").unwrap().unwrap();
        assert_eq!(made.file_type().unwrap(), libc::S_IFREG);
        assert!(dev.new_file_in("console").unwrap().is_none());
        assert!(dev.new_file_in("fd").unwrap().is_none());
    }

    /// A directory swapped for a symlink to the host while targets are
    /// opened: every open lands inside the rootfs, the symlink followed
    /// there.
    #[test]
    fn swapped_target_stays_inside() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::Arc;
        let s = Scratch::new("swap");
        let r = s.rootfs();
        let outside = s.0.join("outside");
        let followed_to = r.join(outside.strip_prefix("/").unwrap());
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::create_dir_all(&followed_to).unwrap();
        std::fs::create_dir(r.join("sw")).unwrap();
        symlink(&outside, r.join("sw-other")).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let swaps = Arc::new(AtomicUsize::new(0));
        let swapper = {
            let (r, stop, swaps) = (r.clone(), stop.clone(), swaps.clone());
            std::thread::spawn(move || {
                let a = crate::sys::cpath(&r.join("sw")).unwrap();
                let b = crate::sys::cpath(&r.join("sw-other")).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    // SAFETY: two NUL-terminated paths.
                    unsafe {
                        libc::renameat2(
                            libc::AT_FDCWD,
                            a.as_ptr(),
                            libc::AT_FDCWD,
                            b.as_ptr(),
                            libc::RENAME_EXCHANGE,
                        )
                    };
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let root = Opened::root(&r).unwrap();
        let (mut direct, mut followed) = (0, 0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        // Until both were seen, over many swaps (a loaded machine may
        // schedule the swapper late).
        while (direct == 0 || followed == 0 || swaps.load(Ordering::Relaxed) < 1000)
            && std::time::Instant::now() < deadline
        {
            if let Ok(Some(o)) = root.try_resolve("sw") {
                let p = real_path(&o);
                assert!(p.starts_with(&r), "{} escaped {}", p.display(), r.display());
                if p == followed_to {
                    followed += 1;
                } else {
                    direct += 1;
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().unwrap();
        assert!(
            direct > 0 && followed > 0,
            "direct {direct}, followed {followed}"
        );
    }
}
