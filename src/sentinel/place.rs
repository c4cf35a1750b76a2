//! Where a sentinel listens: `<rundir>/lxc/sentinel/<key>`, in a directory
//! only its user may enter (containers, with mount namespaces of their
//! own, never see it; other users cannot connect). The key is a hash of
//! the monitor's network, mount and user namespaces and of its cgroups
//! (the caller's): the sentinel undoes host devices and routes in its own
//! network namespace and cgroups by their paths in its own mounts, and it
//! lives in the cgroups of the monitor that started it, so monitors share
//! it only where all of these are the same (the containers of one
//! manager, not those of separate service units, whose stop kills what is
//! in their cgroup).
//!
//! Joining needs no answer from the sentinel: connecting to a listening
//! socket succeeds at once. What could go wrong is a sentinel that is
//! leaving: a connection queued just before it closes its socket would be
//! dropped. A lock keeps that apart: a monitor connects holding it shared,
//! and a sentinel leaves only once it gets it exclusive and has accepted
//! every queued connection. Every context's locks are bytes of one file,
//! `locks` next to the sockets (record locks of the open file, which a fork
//! shares as it shares the file): a lock file per context was never
//! removed (removing a lock file races with its users), and contexts come
//! and go with the callers' cgroups.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::sys;

/// Worked out once per process: a monitor's context does not change, and
/// the sentinel it forks inherits the answer.
pub(super) fn socket_path() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let key = crate::commands::fnv1a_64(&context());
        crate::globals::rundir().join(format!("lxc/sentinel/{key:016x}"))
    })
    .clone()
}

/// What a sentinel must share with the monitors it serves.
fn context() -> Vec<u8> {
    let mut text = Vec::new();
    for ns in ["net", "mnt", "user"] {
        let ino = std::fs::metadata(format!("/proc/self/ns/{ns}")).map_or(0, |m| m.ino());
        text.extend_from_slice(format!("{ns}:{ino}\n").as_bytes());
    }
    text.extend(
        sys::procfs::read("/proc/self/cgroup")
            .unwrap_or_default()
            .bytes(),
    );
    text
}

/// The sentinel's listening socket, with the identity of its file: the
/// file is removed at the end only while it is still this one (a newer
/// sentinel may have taken the name meanwhile).
pub(super) struct Listener {
    pub sock: OwnedFd,
    path: PathBuf,
    file: (u64, u64),
    gate: Lock,
}

impl Listener {
    /// Binds a fresh socket file and moves it over `path` in one step, so
    /// that a stale file of a dead sentinel is replaced, never reused.
    pub fn bind(path: &Path) -> Result<Self> {
        let dir = path
            .parent()
            .ok_or_else(|| Error::invalid("The sentinel's socket has no directory"))?;
        sys::private_dir(dir, "the sentinel's socket")?;
        let gate = Lock::open(path, Lock::GATE, true)
            .map_err(|e| Error::io("Failed to open the lock of", path, &e))?;
        // SAFETY: getpid cannot fail.
        let fresh = dir.join(format!(".socket.{}", unsafe { libc::getpid() }));
        let _ = std::fs::remove_file(&fresh);
        let sock = sys::socket::listen_seqpacket_path(&fresh)?;
        let placed = std::fs::symlink_metadata(&fresh).and_then(|m| {
            std::fs::rename(&fresh, path)?;
            Ok(m)
        });
        match placed {
            Ok(m) => Ok(Self {
                sock,
                path: path.to_path_buf(),
                file: (m.dev(), m.ino()),
                gate,
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&fresh);
                Err(Error::io("Failed to place the sentinel's socket", path, &e))
            }
        }
    }

    /// Whether no monitor is between its lock and its connect: then
    /// every monitor that will ever join is queued already, and holds off
    /// until this process is gone. Held until the process exits.
    pub fn may_leave(&self) -> bool {
        self.gate.take(libc::F_WRLCK, false)
    }

    /// Lets monitors join again after `may_leave` (it found some queued).
    pub fn stay(&self) {
        self.gate.take(libc::F_UNLCK, false);
    }

    /// Stops listening: a monitor connecting from now on finds nobody and
    /// starts a sentinel of its own.
    pub fn close(self) {
        let ours =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.file);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// One of the two locks of the sentinel listening on a path: a byte of
/// the shared `locks` file, where the context's key puts it. Released when
/// the file is closed by every process sharing it.
struct Lock {
    file: File,
    at: libc::off_t,
}

impl Lock {
    /// Held shared by a joining monitor, exclusive by a leaving sentinel.
    const GATE: libc::off_t = 0;
    /// Held by the monitor starting the context's sentinel, and by it.
    const SPAWN: libc::off_t = 1;

    /// The lock `which` of the sentinel of `path`, in the `locks` file next
    /// to it (made if `writable`; a joining monitor only reads it).
    fn open(path: &Path, which: libc::off_t, writable: bool) -> std::io::Result<Lock> {
        let name = path
            .file_name()
            .map(|n| n.as_encoded_bytes())
            .unwrap_or_default();
        // Two bytes per context, anywhere in a file offsets of 63 bits reach.
        let at = (crate::commands::fnv1a_64(name) >> 2) as libc::off_t * 2 + which;
        let locks = path.with_file_name("locks");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(writable)
            .create(writable)
            .truncate(false)
            .open(locks)?;
        Ok(Lock { file, at })
    }

    /// Takes (`F_RDLCK`, `F_WRLCK`) or releases (`F_UNLCK`) the lock,
    /// waiting for it if `wait`; whether it is done.
    fn take(&self, kind: libc::c_int, wait: bool) -> bool {
        // SAFETY: flock is plain data.
        let mut range: libc::flock = unsafe { std::mem::zeroed() };
        range.l_type = kind as libc::c_short;
        range.l_whence = libc::SEEK_SET as libc::c_short;
        range.l_start = self.at;
        range.l_len = 1;
        let cmd = if wait {
            libc::F_OFD_SETLKW
        } else {
            libc::F_OFD_SETLK
        };
        loop {
            // SAFETY: fcntl on a descriptor we own with a flock on our stack.
            let r = unsafe { libc::fcntl(self.file.as_raw_fd(), cmd, &range) };
            if !(r < 0 && sys::errno() == libc::EINTR) {
                return r == 0;
            }
        }
    }
}

/// Connects to the sentinel listening on `path`, if any, holding its lock
/// shared meanwhile (a sentinel that is leaving is waited for, and then
/// gone); returns the connection and the sentinel's pid.
pub(super) fn join(path: &Path) -> Option<(OwnedFd, i32)> {
    let gate = Lock::open(path, Lock::GATE, false).ok()?;
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    // Only a lock of our own: another user's could hold this monitor off
    // forever (where they could write the directory).
    if gate.file.metadata().ok()?.uid() != euid || !gate.take(libc::F_RDLCK, true) {
        return None;
    }
    let sock = sys::socket::connect_seqpacket_path(path).ok()?;
    drop(gate);
    // The directory is private already; the peer is checked all the same.
    let cred = sys::socket::peer_credentials(&sock).ok()?;
    (cred.uid == euid).then_some((sock, cred.pid))
}

/// Holds the turn to start the sentinel of `path` while it lives: a
/// monitor that waited for it may find one started meanwhile, so that
/// monitors that all lost theirs at once (it was killed) end with one.
pub(super) struct SpawnTurn {
    _held: Lock,
}

pub(super) fn spawn_turn(path: &Path) -> Option<SpawnTurn> {
    sys::private_dir(path.parent()?, "the sentinel's socket").ok()?;
    let turn = Lock::open(path, Lock::SPAWN, true).ok()?;
    turn.take(libc::F_WRLCK, true)
        .then_some(SpawnTurn { _held: turn })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test's scratch directory `name`, of `mode`.
    fn scratch_dir(name: &str, mode: u32) -> PathBuf {
        let dir = crate::test_support::scratch_dir(name);
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
        dir
    }

    #[test]
    fn a_listener_replaces_a_stale_file_and_removes_only_its_own() {
        let dir = scratch_dir("sentinel-place", 0o700);
        let path = dir.join("socket");
        std::fs::write(&path, b"stale").unwrap();
        let first = Listener::bind(&path).unwrap();
        let (_sock, pid) = join(&path).unwrap();
        assert_eq!(pid, std::process::id() as i32);
        // Nobody is joining: it may leave (and holds the lock from now on).
        assert!(first.may_leave());
        // A second one takes the name; the first must then leave it alone.
        let second = Listener::bind(&path).unwrap();
        first.close();
        assert!(path.exists());
        second.close();
        assert!(!path.exists());
        assert!(join(&path).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every context's locks are bytes of one file: a joining monitor's
    /// shared lock keeps its own context's sentinel from leaving, not
    /// another's, and nothing but that file and the sockets is left.
    #[test]
    fn the_contexts_share_one_lock_file() {
        let dir = scratch_dir("sentinel-locks", 0o700);
        let (a, b) = (dir.join("00000000000000aa"), dir.join("00000000000000bb"));
        let (first, second) = (Listener::bind(&a).unwrap(), Listener::bind(&b).unwrap());
        let joining = Lock::open(&a, Lock::GATE, false).unwrap();
        assert!(joining.take(libc::F_RDLCK, true));
        assert!(!first.may_leave(), "a monitor is joining it");
        assert!(second.may_leave(), "another context's");
        drop(joining);
        assert!(first.may_leave());
        let turn = spawn_turn(&a).unwrap();
        let other = Lock::open(&a, Lock::SPAWN, true).unwrap();
        assert!(!other.take(libc::F_WRLCK, false), "the turn is taken");
        drop(turn);
        assert!(other.take(libc::F_WRLCK, false));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["00000000000000aa", "00000000000000bb", "locks"]);
        first.close();
        second.close();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_others_may_enter_is_refused() {
        let dir = scratch_dir("sentinel-open", 0o755);
        let err = Listener::bind(&dir.join("socket")).err().unwrap();
        assert_eq!(err.errno, libc::EPERM);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
