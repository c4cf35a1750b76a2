//! Making a finished rootfs the container's root.
//!
//! `pivot_root(2)` moves the root of every task on the host whose root is
//! the old one, so it walks all of them under the task list lock: 17 µs
//! with an idle host here, 0.5-1.6 ms with 1000 containers running (~5000
//! host processes). Init can do without it: a *holder* mount namespace,
//! whose root is an empty read-only tmpfs over the kernel's rootfs, is made
//! once (with one pivot_root) by the process that keeps it; init then
//! clones its finished tree, enters a private copy of the holder, attaches
//! the tree on the tmpfs and chroots into it. The mounts a process of the
//! container can reach are then exactly what pivot_root leaves: its tree,
//! over a parent it cannot see (the tmpfs instead of the rootfs copy); a
//! chroot escape ends there, with nothing of the host in reach.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use super::mount_api;
use crate::error::{Error, Result};

/// The holder's tmpfs: room for its root directory only, read-only, so
/// that nothing can ever be created in it, and recognizable by that.
const HOLDER_OPTIONS: [(&str, &str); 3] = [("nr_inodes", "1"), ("size", "4k"), ("mode", "0555")];

/// pivot_root(".", ".") in `new_root`, then detach the old root stacked
/// underneath: no directory for the old root is needed inside the rootfs.
pub fn pivot_root_here(new_root: &Path) -> Result<()> {
    std::env::set_current_dir(new_root)
        .map_err(|e| Error::io("Failed to enter rootfs", new_root, &e))?;
    pivot_root_dot(format_args!(
        "Failed to pivot_root into {}",
        new_root.display()
    ))?;
    std::env::set_current_dir("/").map_err(|e| Error::io("Failed to enter", Path::new("/"), &e))
}

/// pivot_root(".", ".") and the detach of the old root; `what` says
/// which root in the error.
fn pivot_root_dot(what: impl std::fmt::Display) -> Result<()> {
    let dot = c".";
    // SAFETY: valid C strings; a raw syscall because libc has no wrapper.
    if unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) } < 0 {
        return Err(Error::last_os(what));
    }
    super::umount_detach(Path::new("."))
}

/// Makes a holder mount namespace (see the module) on a short-lived thread,
/// so that the caller's own root stays as it is; returns it. Needs
/// CAP_SYS_ADMIN.
pub fn make_holder() -> Result<OwnedFd> {
    std::thread::Builder::new()
        .name("lxc-holder".into())
        .spawn(build_holder)
        .map_err(|e| Error::new(libc::EAGAIN, format!("Failed to start a thread: {e}")))?
        .join()
        .map_err(|_| Error::new(libc::EIO, "The holder's thread panicked"))?
}

fn build_holder() -> Result<OwnedFd> {
    private_mount_namespace()?;
    let ns: OwnedFd = std::fs::File::open("/proc/thread-self/ns/mnt")
        .map_err(|e| Error::io("Failed to open", Path::new("/proc/thread-self/ns/mnt"), &e))?
        .into();
    let options: Vec<(String, Option<String>)> = HOLDER_OPTIONS
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .collect();
    let attrs = mount_api::MOUNT_ATTR_RDONLY
        | mount_api::MOUNT_ATTR_NOSUID
        | mount_api::MOUNT_ATTR_NODEV
        | mount_api::MOUNT_ATTR_NOEXEC;
    let tmpfs = mount_api::new_fs("tmpfs", &options, attrs)?;
    mount_api::move_mount_to(tmpfs.as_fd(), Path::new("/"))?;
    fchdir(tmpfs.as_fd())?;
    pivot_root_dot("Failed to pivot_root into the holder's root")?;
    Ok(ns)
}

/// Gives this thread a mount namespace of its own (and its own fs
/// context) whose mounts propagate nothing to the host's.
fn private_mount_namespace() -> Result<()> {
    // SAFETY: unshare affects this thread only.
    if unsafe { libc::unshare(libc::CLONE_FS | libc::CLONE_NEWNS) } < 0 {
        return Err(Error::last_os("Failed to make a mount namespace"));
    }
    super::mount(
        None,
        Path::new("/"),
        None,
        libc::MS_REC | libc::MS_PRIVATE,
        None,
    )
}

/// How [`enter_through_holder`] failed.
#[derive(Debug)]
pub enum EnterFailure {
    /// Before it left the caller's mount namespace: nothing changed.
    Before(Error),
    /// Once it had left it: the caller must not go on.
    After(Error),
}

/// Makes the tree mounted at `new_root` (in the caller's mount namespace,
/// which is left behind) the root of a private copy of `holder`.
pub fn enter_through_holder(
    new_root: &Path,
    holder: BorrowedFd<'_>,
) -> std::result::Result<(), EnterFailure> {
    let tree = mount_api::open_tree_clone(new_root, true).map_err(EnterFailure::Before)?;
    // SAFETY: setns with a descriptor we borrow; init shares no fs context.
    if unsafe { libc::setns(holder.as_raw_fd(), libc::CLONE_NEWNS) } < 0 {
        return Err(EnterFailure::Before(Error::last_os(
            "Failed to enter the holder's mount namespace",
        )));
    }
    let entered = || -> Result<()> {
        if !is_holder_root() {
            return Err(Error::new(
                libc::EINVAL,
                "The holder's mount namespace has an unexpected root",
            ));
        }
        // SAFETY: unshare with a flag, single-threaded init.
        if unsafe { libc::unshare(libc::CLONE_NEWNS) } < 0 {
            return Err(Error::last_os(
                "Failed to copy the holder's mount namespace",
            ));
        }
        mount_api::move_mount_to(tree.as_fd(), Path::new("/"))?;
        fchdir(tree.as_fd())?;
        // SAFETY: chroot to the current directory.
        if unsafe { libc::chroot(c".".as_ptr()) } < 0 {
            return Err(Error::last_os("Failed to chroot into the rootfs"));
        }
        Ok(())
    };
    entered().map_err(|e| {
        EnterFailure::After(e.context(format_args!(
            "Failed to enter the rootfs {}",
            new_root.display()
        )))
    })
}

/// Whether this root is a holder's tmpfs (a tmpfs of one inode). Never
/// the host's root, whatever the descriptor was: attaching the container
/// on that would leave the host under it.
fn is_holder_root() -> bool {
    // SAFETY: statfs into a struct on our stack.
    unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        libc::statfs(c"/".as_ptr(), &mut st) == 0
            && st.f_type == libc::TMPFS_MAGIC
            && st.f_files == 1
    }
}

fn fchdir(dir: BorrowedFd<'_>) -> Result<()> {
    // SAFETY: fchdir to a descriptor we borrow.
    if unsafe { libc::fchdir(dir.as_raw_fd()) } < 0 {
        return Err(Error::last_os("Failed to enter a mount"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a thread of its own (its own fs context and mount namespace):
    /// a tmpfs rootfs with a marker and a proc mount at `dir`.
    fn rootfs_in_own_namespace(dir: &Path) {
        private_mount_namespace().unwrap();
        crate::sys::mount(Some("tmpfs"), dir, Some("tmpfs"), 0, None).unwrap();
        for d in ["proc", "tmp", "container-marker"] {
            std::fs::create_dir(dir.join(d)).unwrap();
        }
        crate::sys::mount(Some("proc"), &dir.join("proc"), Some("proc"), 0, None).unwrap();
    }

    /// Runs `f` on a thread with that rootfs at a scratch directory named
    /// by `tag`, then removes the directory.
    fn with_rootfs<T: Send + 'static>(tag: &str, f: impl FnOnce(&Path) -> T + Send + 'static) -> T {
        let dir = crate::test_support::scratch_dir(tag);
        let d = dir.clone();
        let out = std::thread::spawn(move || {
            rootfs_in_own_namespace(&d);
            f(&d)
        })
        .join()
        .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        out
    }

    fn names(dir: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// The classic chroot escape (a root kept open outside a new chroot,
    /// then `..` as far as it goes): what "/" has where it ends.
    fn escape() -> Vec<String> {
        std::fs::create_dir_all("/tmp/escape").unwrap();
        let outside = std::fs::File::open("/").unwrap();
        // SAFETY: chroot/fchdir/chdir on this thread's own fs context.
        unsafe {
            assert_eq!(libc::chroot(c"/tmp/escape".as_ptr()), 0);
            assert_eq!(libc::fchdir(outside.as_raw_fd()), 0);
            for _ in 0..64 {
                libc::chdir(c"..".as_ptr());
            }
            assert_eq!(libc::chroot(c".".as_ptr()), 0);
        }
        names("/")
    }

    fn root() -> bool {
        // SAFETY: geteuid cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    #[test]
    fn a_rootfs_entered_through_the_holder_is_all_a_process_can_reach() {
        if !root() {
            return;
        }
        let holder = make_holder().unwrap();
        with_rootfs("new-root", move |d| {
            assert!(enter_through_holder(d, holder.as_fd()).is_ok());
            assert_eq!(names("/"), ["container-marker", "proc", "tmp"]);
            // The tree came along: proc is mounted, and the container's
            // root is the first mount it sees.
            let mounts = std::fs::read_to_string("/proc/thread-self/mountinfo").unwrap();
            let points: Vec<&str> = mounts
                .lines()
                .map(|l| l.split(' ').nth(4).unwrap())
                .collect();
            assert_eq!(points, ["/", "/proc"], "{mounts}");
            // pivot_root in there works (a nested container's start).
            private_mount_namespace().unwrap();
            std::fs::create_dir("/tmp/nested").unwrap();
            crate::sys::mount(
                Some("tmpfs"),
                Path::new("/tmp/nested"),
                Some("tmpfs"),
                0,
                None,
            )
            .unwrap();
            std::fs::create_dir("/tmp/nested/nested-marker").unwrap();
            pivot_root_here(Path::new("/tmp/nested")).unwrap();
            assert_eq!(names("/"), ["nested-marker"]);
        });
    }

    #[test]
    fn a_chroot_escape_from_the_new_root_finds_nothing_of_the_host() {
        if !root() {
            return;
        }
        let holder = make_holder().unwrap();
        let found = with_rootfs("new-root-escape", move |d| {
            assert!(enter_through_holder(d, holder.as_fd()).is_ok());
            escape()
        });
        // Where `..` stops: the container's root (or the holder's empty
        // tmpfs under it), never the host's /.
        assert!(
            found.is_empty() || found == ["container-marker", "proc", "tmp"],
            "{found:?}"
        );
    }

    #[test]
    fn a_holder_that_is_not_one_is_refused_before_anything_is_attached() {
        if !root() {
            return;
        }
        with_rootfs("new-root-wrong", |d| {
            // The host's namespace, as a holder: the container would sit
            // on the host's root.
            let host: OwnedFd = std::fs::File::open("/proc/self/ns/mnt").unwrap().into();
            match enter_through_holder(d, host.as_fd()) {
                Err(EnterFailure::After(e)) => {
                    assert!(e.message.contains("unexpected root"), "{}", e.message)
                }
                other => panic!("{other:?}"),
            }
            // Still the host's root, with nothing attached on it.
            assert!(Path::new("/etc").exists());
            assert!(!Path::new("/container-marker").exists());
        });
    }

    #[test]
    fn a_missing_rootfs_fails_before_leaving_the_namespace() {
        if !root() {
            return;
        }
        let holder = make_holder().unwrap();
        std::thread::spawn(move || {
            // SAFETY: unshare affects this thread only.
            assert!(unsafe { libc::unshare(libc::CLONE_FS) } == 0);
            let before = std::fs::read_link("/proc/thread-self/ns/mnt").unwrap();
            let r = enter_through_holder(Path::new("/nonexistent/rootfs"), holder.as_fd());
            assert!(matches!(r, Err(EnterFailure::Before(_))), "{r:?}");
            assert_eq!(
                std::fs::read_link("/proc/thread-self/ns/mnt").unwrap(),
                before
            );
        })
        .join()
        .unwrap();
    }
}
