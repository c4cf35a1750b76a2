//! LXC's per-container disk lock: an OFD write lock on
//! `<rundir>/lxc/lock/<lxcpath>/.<name>`, the same file LXC locks, so our
//! library and LXC's exclude each other too. Re-entrant within one thread
//! (snapshot → clone of the same container), exclusive between threads and
//! processes.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, OnceLock};
use std::thread::ThreadId;

use crate::error::{Error, Result};
use crate::globals::rundir;

/// The lock file of a container (LXC keeps the double slash of an
/// absolute lxcpath).
pub fn lock_path(rundir: &Path, lxcpath: &str, name: &str) -> PathBuf {
    PathBuf::from(format!("{}/lxc/lock/{lxcpath}/.{name}", rundir.display()))
}

struct Held {
    owner: ThreadId,
    count: usize,
    file: Option<File>,
}

fn table() -> &'static (Mutex<HashMap<PathBuf, Held>>, Condvar) {
    static T: OnceLock<(Mutex<HashMap<PathBuf, Held>>, Condvar)> = OnceLock::new();
    T.get_or_init(|| (Mutex::new(HashMap::new()), Condvar::new()))
}

/// Held while it lives.
pub struct DiskLock {
    path: PathBuf,
}

fn ofd_lock(path: &Path) -> Result<File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("Failed to create", parent, &e))?;
    }
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::io("Failed to open the container lock", path, &e))?;
    // SAFETY: flock is plain data; F_OFD_SETLKW on our descriptor.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    loop {
        // SAFETY: as above.
        let r = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLKW, &fl) };
        if r == 0 {
            return Ok(file);
        }
        if crate::sys::errno() != libc::EINTR {
            return Err(Error::last_io("Failed to lock", path));
        }
    }
}

impl DiskLock {
    pub fn acquire(lxcpath: &str, name: &str) -> Result<DiskLock> {
        let path = lock_path(&rundir(), lxcpath, name);
        let me = std::thread::current().id();
        let (map, cv) = table();
        {
            let mut held = map.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                match held.get_mut(&path) {
                    Some(h) if h.owner == me => {
                        h.count += 1;
                        return Ok(DiskLock { path });
                    }
                    Some(_) => held = cv.wait(held).unwrap_or_else(|p| p.into_inner()),
                    None => break,
                }
            }
            held.insert(
                path.clone(),
                Held {
                    owner: me,
                    count: 1,
                    file: None,
                },
            );
        }
        // Other processes are waited for without holding the table.
        match ofd_lock(&path) {
            Ok(file) => {
                let mut held = map.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(h) = held.get_mut(&path) {
                    h.file = Some(file);
                }
                Ok(DiskLock { path })
            }
            Err(e) => {
                map.lock().unwrap_or_else(|p| p.into_inner()).remove(&path);
                cv.notify_all();
                Err(e)
            }
        }
    }
}

impl Drop for DiskLock {
    fn drop(&mut self) {
        let (map, cv) = table();
        let mut held = map.lock().unwrap_or_else(|p| p.into_inner());
        let done = held.get_mut(&self.path).is_some_and(|h| {
            h.count -= 1;
            h.count == 0
        });
        if done {
            // Dropping the file releases the OFD lock.
            held.remove(&self.path);
            cv.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_lxc() {
        assert_eq!(
            lock_path(Path::new("/run"), "/var/lib/lxc", "c1"),
            PathBuf::from("/run/lxc/lock//var/lib/lxc/.c1")
        );
    }

    #[test]
    fn reentrant_in_a_thread_exclusive_between_threads() {
        let lxcpath = format!("/tmp/lxc-locktest-{}", std::process::id());
        let a = DiskLock::acquire(&lxcpath, "c").unwrap();
        let b = DiskLock::acquire(&lxcpath, "c").unwrap();
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f2 = flag.clone();
        let p2 = lxcpath.clone();
        let t = std::thread::spawn(move || {
            let _l = DiskLock::acquire(&p2, "c").unwrap();
            f2.load(std::sync::atomic::Ordering::SeqCst)
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(b);
        std::thread::sleep(std::time::Duration::from_millis(20));
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        drop(a);
        assert!(
            t.join().unwrap(),
            "the other thread got the lock while we held it"
        );
        let _ = std::fs::remove_file(lock_path(&rundir(), &lxcpath, "c"));
    }
}
