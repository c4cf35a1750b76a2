//! Finding our own executable (the monitor, which is also the attach and
//! id-map helper) and the handle it is executed through.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::sys;

/// File name of the monitor executable.
pub const MONITOR_BIN: &str = "lxc-rs-monitor";

/// Where the monitor is looked for: `$LXC_RS_MONITOR`, then next to the
/// library (installed layouts `<prefix>/lib[/<triplet>]` with the monitor
/// in `<prefix>/libexec/lxc`, and cargo's target directory), then the
/// libexec directory the build was configured with.
pub fn monitor_candidates(lib_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("LXC_RS_MONITOR") {
        out.push(PathBuf::from(p));
    }
    if let Some(dir) = lib_dir {
        out.push(dir.join("../libexec/lxc").join(MONITOR_BIN));
        out.push(dir.join("../../libexec/lxc").join(MONITOR_BIN));
        out.push(dir.join(MONITOR_BIN));
        out.push(dir.join("..").join(MONITOR_BIN));
    }
    if let Some(dir) = option_env!("LXC_RS_LIBEXECDIR") {
        out.push(Path::new(dir).join("lxc").join(MONITOR_BIN));
    }
    out
}

/// Directory of the object this code is linked into (liblxc.so.1, or a
/// test executable); found once: the object stays where it was loaded from.
fn own_object_dir() -> Option<&'static Path> {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(locate_own_object).as_deref()
}

fn locate_own_object() -> Option<PathBuf> {
    // SAFETY: dladdr on the address of one of our functions; the returned
    // file name points into the loader's tables.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(locate_own_object as *const libc::c_void, &mut info) == 0
            || info.dli_fname.is_null()
        {
            return None;
        }
        let file = std::ffi::CStr::from_ptr(info.dli_fname)
            .to_string_lossy()
            .into_owned();
        let path = std::fs::canonicalize(&file)
            .ok()
            .or_else(|| std::env::current_exe().ok())?;
        path.parent().map(Path::to_path_buf)
    }
}

pub fn find_monitor() -> Result<PathBuf> {
    locate_monitor().map(|(path, _)| path)
}

/// The monitor's path and its metadata (read once per spawn: what tells
/// whether a copy made of it is still its copy).
fn locate_monitor() -> Result<(PathBuf, std::fs::Metadata)> {
    let candidates = monitor_candidates(own_object_dir());
    candidates
        .iter()
        .find_map(|p| {
            let meta = std::fs::metadata(p)
                .ok()
                .filter(std::fs::Metadata::is_file)?;
            Some((p.clone(), meta))
        })
        .ok_or_else(|| {
            Error::new(
                libc::ENOENT,
                format!(
                    "Cannot find the {MONITOR_BIN} executable (looked in {}); set LXC_RS_MONITOR",
                    candidates
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// The handle the monitor is executed through: a read-only mount of this
/// boot's prelinked copy (`prelink`) where there is one, else as
/// [`helper_handle`].
pub fn monitor_handle() -> Result<Arc<OwnedFd>> {
    let (path, meta) = locate_monitor()?;
    if let Some(copy) = crate::prelink::monitor_copy(&path, &meta) {
        match sys::sealed_exe::read_only_mount(Some(copy.as_fd()), Path::new("")) {
            Ok(mount) => return Ok(Arc::new(mount)),
            Err(e) => log::info!("The monitor runs unprelinked: {}", e.message),
        }
    }
    handle_of(path, &meta)
}

/// The handle the attach and id-map helpers are executed through (see
/// `sys::sealed_exe`), to be dropped as soon as the spawn returned: a
/// detached read-only mount made for this spawn (held open, a root inside
/// could make it writable again through `/proc/<pid>/exe`), or the
/// process's one sealed copy, made again when the file at that path
/// changed.
pub fn helper_handle() -> Result<Arc<OwnedFd>> {
    let (path, meta) = locate_monitor()?;
    handle_of(path, &meta)
}

fn handle_of(path: PathBuf, meta: &std::fs::Metadata) -> Result<Arc<OwnedFd>> {
    type Cached = (PathBuf, (u64, u64, i64, i64), Arc<OwnedFd>);
    static COPY: Mutex<Option<Cached>> = Mutex::new(None);
    if let Ok(mount) = sys::sealed_exe::read_only_mount(None, &path) {
        return Ok(Arc::new(mount));
    }
    let key = (meta.dev(), meta.ino(), meta.mtime(), meta.mtime_nsec());
    let mut copy = COPY.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((p, k, handle)) = copy.as_ref() {
        if *p == path && *k == key {
            return Ok(handle.clone());
        }
    }
    let handle = Arc::new(sys::sealed_exe::sealed_copy(&path)?);
    *copy = Some((path, key, handle.clone()));
    Ok(handle)
}
