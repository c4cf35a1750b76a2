//! The monitor prelinked: a copy of the static-pie monitor linked at one
//! random address per boot, which every monitor of that boot runs.
//!
//! Why: a static-pie relocates its pointers (tables, vtables, std's panic
//! locations: 44 kB here) into private pages at each start, so every
//! running monitor held its own copy. Written into the file, those pages
//! stay the file's and are shared by all monitors.
//!
//! The trade-off: monitors of one boot share their code's address (their
//! stacks, heaps and mappings stay random per process), as LXC's monitors
//! forked from one caller share the caller's. A new boot, or a new monitor
//! binary, gets a new address. `LXC_RS_PRELINK=0` keeps one address per
//! monitor. Made only where the caller can run the monitor from a
//! read-only mount (see `helper_exe`); the attach and id-map helpers,
//! which a container can see, keep running the original.
//!
//! The copy lives in `/var/cache/lxc/monitor` for root (a directory only
//! its owner may write; `LXC_RS_PRELINK=<dir>` chooses another), on disk
//! like the original so that its unused pages are reclaimable. A copy is
//! written under a temporary name, checked to run and unwind a panic, and
//! only then linked to its final name.

pub mod elf;

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::sys;

/// The monitor's argument asking it to unwind a panic and report (status
/// 0) that it could: what a fresh copy must pass before it is used.
pub const CHECK_FLAG: &str = "--check-prelinked";

const PREFIX: &str = "lxc-rs-monitor.";
const WHAT: &str = "the prelinked monitor";

/// The monitor's side of [`CHECK_FLAG`].
pub fn check_main() -> i32 {
    std::panic::set_hook(Box::new(|_| {}));
    let unwound: std::thread::Result<()> =
        std::panic::catch_unwind(|| panic!("the prelinked monitor's unwinding check"));
    i32::from(unwound.is_ok())
}

/// The directory of the copies, or None where prelinking is off: for
/// callers other than root (who run the monitor from a sealed copy of the
/// original, see `helper_exe`) and with `LXC_RS_PRELINK=0`.
fn directory() -> Option<PathBuf> {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    match std::env::var_os("LXC_RS_PRELINK") {
        Some(v) if v == "0" || v == "off" => None,
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => Some(PathBuf::from("/var/cache/lxc/monitor")),
    }
}

/// This boot's identity, read once.
fn boot_id() -> Option<&'static str> {
    static ID: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let text = sys::procfs::read("/proc/sys/kernel/random/boot_id").ok()?;
        let id: String = text.trim().chars().filter(|c| *c != '-').collect();
        (!id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit())).then_some(id)
    })
    .as_deref()
}

/// The name of the copy of the file `meta` describes, in this boot.
fn copy_name(meta: &std::fs::Metadata, boot: &str) -> String {
    format!(
        "{PREFIX}{boot}.{:x}-{:x}.{:x}.{:x}.{:x}",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec()
    )
}

/// A handle (O_PATH) on this boot's prelinked copy of the monitor at
/// `original` (whose metadata is `meta`), made if missing; None (why
/// logged) where there is none to run: off, not a static-pie, or the copy
/// could not be made or checked.
pub fn monitor_copy(original: &Path, meta: &std::fs::Metadata) -> Option<Arc<OwnedFd>> {
    copy_in(&directory()?, original, meta)
}

fn copy_in(dir: &Path, original: &Path, meta: &std::fs::Metadata) -> Option<Arc<OwnedFd>> {
    // What this process last found for a copy's path: the copy, checked
    // when opened and held from then on, or nothing (not retried at each
    // start). One maker per process: they share the temporary file's name.
    type Found = (PathBuf, Option<Arc<OwnedFd>>);
    static FOUND: Mutex<Option<Found>> = Mutex::new(None);
    let boot = boot_id()?;
    let path = dir.join(copy_name(meta, boot));
    let mut found = FOUND.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((known, handle)) = found.as_ref() {
        if *known == path {
            return handle.clone();
        }
    }
    let opened = match open_checked(&path) {
        Err(e) if e.errno == libc::ENOENT => make(original, dir, &path, boot),
        other => other.map(Some),
    };
    let handle = opened
        .unwrap_or_else(|e| {
            log::info!("The monitor runs unprelinked: {}", e.message);
            None
        })
        .map(Arc::new);
    *found = Some((path, handle.clone()));
    handle
}

/// The file at `path`, if it is a regular file of ours that only we may
/// change, in a directory that only we may enter.
fn open_checked(path: &Path) -> Result<OwnedFd> {
    sys::check_private_dir(path.parent().unwrap_or(Path::new("/")), WHAT)?;
    let fd = OwnedFd::from(
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| Error::io("Failed to open", path, &e))?,
    );
    let meta = sys::at::stat(fd.as_fd()).map_err(|e| Error::io("Failed to stat", path, &e))?;
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.st_mode & libc::S_IFMT != libc::S_IFREG
        || meta.st_uid != euid
        || meta.st_mode & 0o022 != 0
    {
        return Err(Error::new(
            libc::EPERM,
            format!(
                "{} is not a file only uid {euid} may change",
                path.display()
            ),
        ));
    }
    Ok(fd)
}

/// Writes, checks and places the copy; None when the monitor is not a
/// static-pie (linked dynamically where no static libc was found).
fn make(original: &Path, dir: &Path, path: &Path, boot: &str) -> Result<Option<OwnedFd>> {
    let image = std::fs::read(original).map_err(|e| Error::io("Failed to read", original, &e))?;
    if !elf::is_static_pie(&image) {
        return Ok(None);
    }
    let copy = elf::relocate(&image, random_base()?)?;
    sys::private_dir(dir, WHAT)?;
    // SAFETY: getpid cannot fail.
    let temporary = dir.join(format!(".{PREFIX}{}", unsafe { libc::getpid() }));
    let _ = std::fs::remove_file(&temporary);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o500)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temporary)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &copy));
    let placed = written
        .map_err(|e| Error::io("Failed to write", &temporary, &e))
        .and_then(|()| check(&temporary))
        .and_then(|()| match std::fs::hard_link(&temporary, path) {
            // Another process placed its copy first: that one is used.
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                Err(Error::io("Failed to place", path, &e))
            }
            _ => Ok(()),
        });
    let _ = std::fs::remove_file(&temporary);
    placed?;
    remove_stale(dir, path, boot);
    open_checked(path).map(Some)
}

/// Runs the copy with [`CHECK_FLAG`]: it must start and unwind a panic
/// (the unwinder finds the copy's frames only through what
/// `sys::eh_frame` registers).
fn check(copy: &Path) -> Result<()> {
    let handle = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(copy)
        .map_err(|e| Error::io("Failed to open", copy, &e))?;
    let flag = sys::cstring(CHECK_FLAG)?;
    let argv = [
        c"lxc-rs-monitor".as_ptr() as *mut libc::c_char,
        flag.as_ptr() as *mut libc::c_char,
        std::ptr::null_mut(),
    ];
    let envp = [std::ptr::null_mut::<libc::c_char>()];
    let setup = sys::spawn::SpawnSetup {
        dup2: &[],
        handle_slot: 3,
        block_all_signals: false,
        default_all_signals: true,
        detached: false,
    };
    // A child another thread forked while the copy was open for writing
    // holds that descriptor until its own exec: the copy cannot run
    // (ETXTBSY) for that long.
    let mut tries = 0;
    let pid = loop {
        // SAFETY: an empty, NULL-terminated environment.
        match unsafe { sys::spawn::spawn(&handle, &argv, envp.as_ptr(), &setup, WHAT) } {
            Err(e) if e.errno == libc::ETXTBSY && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            spawned => break spawned?,
        }
    };
    // A status that cannot be read (a caller ignoring SIGCHLD has its
    // children reaped by the kernel) is no pass.
    let status = sys::wait_status(pid, 0)
        .map_err(|e| Error::io("Failed to wait for the check of", copy, &e))?;
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else {
        Err(Error::new(
            libc::ENOEXEC,
            format!(
                "{} failed its check (wait status {status:#x})",
                copy.display()
            ),
        ))
    }
}

/// Copies of earlier boots and of earlier versions of this monitor, and
/// the temporary files of makers that died (no such process here).
fn remove_stale(dir: &Path, current: &Path, boot: &str) {
    let Some(name) = current.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    // "<prefix><boot>.<dev>-<ino>." names this monitor's file in this boot.
    let same_file = name.rsplitn(4, '.').nth(3).unwrap_or(name);
    let this_boot = format!("{PREFIX}{boot}.");
    let this_file = format!("{same_file}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let other = entry.file_name();
        let Some(other) = other.to_str() else {
            continue;
        };
        let stale = other.starts_with(PREFIX)
            && other != name
            && (!other.starts_with(&this_boot) || other.starts_with(&this_file));
        let orphan = other
            .strip_prefix('.')
            .and_then(|t| t.strip_prefix(PREFIX))
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
        if stale || orphan {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A page-aligned address in the range the kernel gives position-
/// independent executables (2/3 of the address space, 28 random bits).
fn random_base() -> Result<u64> {
    let mut bytes = [0u8; 8];
    // SAFETY: getrandom into a local buffer of its size.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        return Err(Error::last_os("getrandom"));
    }
    let pages = u64::from_le_bytes(bytes) & ((1 << 28) - 1);
    Ok(0x5555_5555_4000 + (pages << 12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_named_by_boot_and_file() {
        let meta = std::fs::metadata("/proc/self/exe").unwrap();
        let name = copy_name(&meta, "abc");
        assert!(name.starts_with("lxc-rs-monitor.abc."), "{name}");
        let same_file = name.rsplitn(4, '.').nth(3).unwrap();
        assert_eq!(
            same_file,
            format!("lxc-rs-monitor.abc.{:x}-{:x}", meta.dev(), meta.ino())
        );
        assert!(boot_id().is_some_and(|b| b.len() == 32));
    }

    #[test]
    fn bases_are_page_aligned_and_vary() {
        let a = random_base().unwrap();
        let b = random_base().unwrap();
        assert_eq!(a % 4096, 0);
        assert!((0x5555_5555_4000..0x5655_5555_4000).contains(&a));
        assert_ne!(a, b);
    }

    /// A static-pie made for the test: succeeds only when run with
    /// CHECK_FLAG (C: no unwinding to check, the copy's start is).
    fn static_pie(dir: &Path) -> PathBuf {
        let source = dir.join("prog.c");
        std::fs::write(
            &source,
            "#include <string.h>\nint main(int c, char **v) \
             { return !(c == 2 && !strcmp(v[1], \"--check-prelinked\")); }\n",
        )
        .unwrap();
        let prog = dir.join("prog");
        let built = std::process::Command::new("cc")
            .args(["-static-pie", "-O1", "-o"])
            .arg(&prog)
            .arg(&source)
            .status()
            .unwrap();
        assert!(built.success(), "cc -static-pie (static glibc) is needed");
        prog
    }

    fn inode(fd: &OwnedFd) -> u64 {
        sys::at::stat(fd.as_fd()).unwrap().st_ino
    }

    /// Made once (checked, in a private directory), reused, made again
    /// when the original changes (the old copy removed), refused in a
    /// directory others may enter.
    #[test]
    fn a_copy_is_made_checked_reused_and_replaced() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return; // copies are made for root only
        }
        let scratch = crate::test_support::scratch_dir("prelink-copy");
        let original = static_pie(&scratch);
        let dir = scratch.join("copies");
        let copies = || std::fs::read_dir(&dir).unwrap().count();
        let copy_of =
            |original: &Path| copy_in(&dir, original, &std::fs::metadata(original).unwrap());
        // A new version of the original (its mtime moved on).
        let rewrite = |seconds| {
            let later = std::time::SystemTime::now() + std::time::Duration::from_secs(seconds);
            std::fs::File::options()
                .append(true)
                .open(&original)
                .unwrap()
                .set_modified(later)
                .unwrap();
        };

        let first = copy_of(&original).expect("a copy");
        assert_eq!(copies(), 1);
        let status =
            std::process::Command::new(sys::sealed_exe::exec_path(&*first).to_str().unwrap())
                .arg(CHECK_FLAG)
                .status()
                .unwrap();
        assert!(status.success());
        let header = std::fs::read(sys::sealed_exe::exec_path(&*first).to_str().unwrap()).unwrap();
        assert!(
            !elf::is_static_pie(&header) && header[16] == 2,
            "a fixed-address executable"
        );
        assert_eq!(inode(&copy_of(&original).unwrap()), inode(&first));

        rewrite(5);
        let second = copy_of(&original).expect("a new copy");
        assert_ne!(inode(&second), inode(&first));
        assert_eq!(copies(), 1);

        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        rewrite(10);
        assert!(copy_of(&original).is_none());
        std::fs::remove_dir_all(&scratch).unwrap();
    }

    /// Stale copies go; the current one, other files' copies of this boot
    /// and unrelated files stay.
    #[test]
    fn stale_copies_are_removed() {
        let dir = crate::test_support::scratch_dir("prelink-stale");
        let live = format!(".{PREFIX}{}", std::process::id());
        let dead = format!(".{PREFIX}{}", u32::MAX);
        let names = [
            ("lxc-rs-monitor.b1.1-2.10.5.7", true),  // current
            ("lxc-rs-monitor.b1.1-2.10.4.7", false), // this file, older
            ("lxc-rs-monitor.b1.1-3.10.5.7", true),  // another monitor
            ("lxc-rs-monitor.b0.1-2.10.5.7", false), // another boot
            ("unrelated", true),
            (live.as_str(), true),  // being made by a live process
            (dead.as_str(), false), // left by a maker that died
        ];
        for (n, _) in names {
            std::fs::write(dir.join(n), b"").unwrap();
        }
        remove_stale(&dir, &dir.join(names[0].0), "b1");
        for (n, kept) in names {
            assert_eq!(dir.join(n).exists(), kept, "{n}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
