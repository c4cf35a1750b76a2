//! The container handle of the core. One `Container` per
//! `lxc_container_new`; its state sits behind one mutex so that threads
//! sharing a handle cannot tear it.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

mod attach;
mod cgroup_items;
mod clone;
mod clone_mapped;
mod console;
mod create;
mod deps;
mod destroy;
mod disklock;
mod inject;
mod migrate;
mod network;
mod rename;
mod rewrite;
mod runtime;
mod seccomp;
mod snapshot;
mod start;

pub use crate::spawn::StartOptions;
pub use clone::{
    CloneOptions, CLONE_ALLOW_RUNNING, CLONE_KEEPBDEVTYPE, CLONE_KEEPMACADDR, CLONE_KEEPNAME,
    CLONE_MAYBE_SNAPSHOT, CLONE_SNAPSHOT,
};
pub use create::{BdevSpecs, CreateOptions};
pub use migrate::MigrateFailure;
pub use snapshot::Snapshot;

use crate::config::Config;
use crate::error::{Error, Result, ResultExt};
use crate::globals;
use crate::names;

pub use crate::states::{state, STATES};

#[derive(Debug)]
struct State {
    name: String,
    lxcpath: String,
    config_file: PathBuf,
    /// `None` until a configuration is loaded or a key is set (LXC's NULL lxc_conf).
    config: Option<Config>,
    daemonize: bool,
    close_all_fds: bool,
    rcv_timeout: i32,
    /// The listener `seccomp_notify_fd` handed out (owned by the handle).
    seccomp_notify: Option<std::os::fd::OwnedFd>,
}

#[derive(Debug)]
pub struct Container {
    state: Mutex<State>,
    /// What the monitor told attach about the current run (see
    /// attach/queries.rs); kept outside `state` so attaches never wait
    /// for the handle's lock while another asks the monitor.
    pub(crate) attach_cache: crate::attach::AnswerCache,
}

/// A fresh configuration holding `lxc.default_config` when that file
/// exists: where LXC starts a container that has none.
fn default_config() -> Result<Config> {
    let default =
        globals::global_config_value("lxc.default_config", &globals::GlobalPaths::current())
            .ok()
            .flatten();
    let mut c = Config::new();
    if let Some(d) = default.filter(|d| Path::new(d).exists()) {
        c.load_file(Path::new(&d)).context(format_args!(
            "Failed to load default configuration file {d}"
        ))?;
    }
    Ok(c)
}

fn config_file_of(lxcpath: &str, name: &str) -> PathBuf {
    Path::new(lxcpath).join(name).join("config")
}

impl Container {
    /// Opens the container `name` under `lxcpath` (the default lxcpath when
    /// `None`), loading its configuration if it is defined.
    pub fn new(name: &str, lxcpath: Option<&str>) -> Result<Container> {
        names::validate_name(name)?;
        let lxcpath = match lxcpath {
            Some(p) => {
                // LXC drops trailing slashes (and newlines) from the lxcpath.
                let trimmed = p.trim_end_matches(['/', '\n']);
                let p = if trimmed.is_empty() { p } else { trimmed };
                names::validate_lxcpath(p)?;
                p.to_string()
            }
            None => globals::default_lxcpath(),
        };
        let config_file = config_file_of(&lxcpath, name);
        let container = Container {
            state: Mutex::new(State {
                name: name.to_string(),
                lxcpath,
                config_file,
                config: None,
                daemonize: true,
                close_all_fds: false,
                rcv_timeout: 0,
                seccomp_notify: None,
            }),
            attach_cache: Default::default(),
        };
        if container.is_defined() {
            container
                .load_config(None)
                .context(format_args!("Failed to load config for \"{name}\""))?;
        }
        create::recover_incomplete(&container);
        Ok(container)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock is caught at the C boundary; the
        // state it protects stays consistent because every mutation is a
        // whole-value replacement, so a poisoned lock is safe to reuse.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn name(&self) -> String {
        self.lock().name.clone()
    }

    pub fn lxcpath(&self) -> String {
        self.lock().lxcpath.clone()
    }

    pub fn config_file(&self) -> PathBuf {
        self.lock().config_file.clone()
    }

    /// Clients may point a handle at another configuration file (LXC's tools
    /// assign `c->configfile`); load and save then use it.
    pub fn set_config_file(&self, path: &Path) {
        self.lock().config_file = path.to_path_buf();
    }

    /// Whether the configuration file exists.
    pub fn is_defined(&self) -> bool {
        self.config_file().exists()
    }

    /// Whether a configuration is loaded (LXC's non-NULL `lxc_conf`).
    pub fn has_config(&self) -> bool {
        self.lock().config.is_some()
    }

    /// The loaded configuration, or else the one on disk. (The state lock
    /// is released before loading: `config_file` takes it again.)
    fn config_or_disk(&self) -> Result<Config> {
        let loaded = self.lock().config.clone();
        if let Some(c) = loaded {
            return Ok(c);
        }
        let mut c = Config::new();
        c.load_file(&self.config_file())?;
        Ok(c)
    }

    /// Loads `alt_file`, or the container's config file, replacing the
    /// in-memory configuration only when the whole load succeeds.
    pub fn load_config(&self, alt_file: Option<&Path>) -> Result<()> {
        let path = alt_file.map_or_else(|| self.config_file(), Path::to_path_buf);
        // As LXC: the file is read on top of what the handle holds; unlike
        // LXC, a failed load leaves that unchanged (LXC keeps the lines it
        // read before the error). Without a configuration, a failed load
        // still leaves an empty one, as LXC's allocated lxc_conf.
        let mut config = self.lock().config.clone().unwrap_or_default();
        let result = config.load_file(&path);
        let mut st = self.lock();
        match result {
            Ok(()) => {
                st.config = Some(config);
                Ok(())
            }
            Err(e) => {
                st.config.get_or_insert_with(Config::new);
                Err(e.into())
            }
        }
    }

    /// Writes the configuration atomically (temporary file, then rename):
    /// a crash or a full disk never leaves a half-written config. With no
    /// configuration loaded, LXC's default config is loaded first.
    /// The container's disk lock (see `disklock`), held by every operation
    /// that changes its files.
    pub(crate) fn disk_lock(&self) -> Result<disklock::DiskLock> {
        let (lxcpath, name) = {
            let st = self.lock();
            (st.lxcpath.clone(), st.name.clone())
        };
        disklock::DiskLock::acquire(&lxcpath, &name)
    }

    pub fn save_config(&self, alt_file: Option<&Path>) -> Result<()> {
        let _lock = self.disk_lock()?;
        if !self.has_config() {
            let config = default_config()?;
            let mut st = self.lock();
            if st.config.is_none() {
                st.config = Some(config);
            }
        }
        // LXC's save_config makes `<lxcpath>/<name>` as create does (and
        // with lxc.idmap gives it to the container's root) whatever file
        // it writes: python3-lxc saves before create, LXD saves only to
        // `<logdir>/lxc.conf` and relies on it to reach the rootfs.
        let (dir, idmaps) = {
            let st = self.lock();
            let idmaps = st
                .config
                .as_ref()
                .map(|c| c.conf().idmaps.clone())
                .unwrap_or_default();
            (Path::new(&st.lxcpath).join(&st.name), idmaps)
        };
        create::make_container_dir(&dir, &idmaps)?;
        let path = match alt_file {
            Some(p) => p.to_path_buf(),
            None => self.config_file(),
        };
        let text = self
            .lock()
            .config
            .as_ref()
            .map(Config::write)
            .unwrap_or_default();
        write_atomically(&path, text.as_bytes(), 0o640)
    }

    pub fn set_config_item(&self, key: &str, value: &str) -> Result<()> {
        let mut st = self.lock();
        let config = st.config.get_or_insert_with(Config::new);
        config.set_item(key, value).map_err(Error::from)
    }

    pub fn get_config_item(&self, key: &str) -> Result<String> {
        let st = self.lock();
        let config = st
            .config
            .as_ref()
            .ok_or_else(|| Error::new(libc::ENOENT, "No configuration loaded"))?;
        config.get_item(key).map_err(Error::from)
    }

    pub fn clear_config_item(&self, key: &str) -> Result<()> {
        let mut st = self.lock();
        let config = st
            .config
            .as_mut()
            .ok_or_else(|| Error::new(libc::ENOENT, "No configuration loaded"))?;
        config.clear_item(key).map_err(Error::from)
    }

    /// LXC lists every supported key for no prefix, configuration or not;
    /// a prefix needs a configuration (LXC returns -1 without: errno 1).
    pub fn get_keys(&self, prefix: Option<&str>) -> Result<Vec<String>> {
        let Some(prefix) = prefix else {
            return Config::new().get_keys(None).map_err(Error::from);
        };
        let st = self.lock();
        let config = st
            .config
            .as_ref()
            .ok_or_else(|| Error::new(1, "No configuration loaded"))?;
        config.get_keys(Some(prefix)).map_err(Error::from)
    }

    /// `lxc.environment` of the loaded configuration (empty without one).
    pub fn config_environment(&self) -> Vec<(String, String)> {
        self.lock()
            .config
            .as_ref()
            .map(|c| c.conf().environment.clone())
            .unwrap_or_default()
    }

    /// Drops the whole in-memory configuration.
    pub fn clear_config(&self) {
        self.lock().config = None;
    }

    pub fn daemonize(&self) -> bool {
        self.lock().daemonize
    }

    pub fn set_daemonize(&self, on: bool) {
        self.lock().daemonize = on;
    }

    pub fn close_all_fds(&self) -> bool {
        self.lock().close_all_fds
    }

    pub fn set_close_all_fds(&self, on: bool) {
        self.lock().close_all_fds = on;
    }

    pub fn rcv_timeout(&self) -> i32 {
        self.lock().rcv_timeout
    }

    /// Bounds command-socket round-trips to `seconds` (> 0), or lifts the
    /// bound (-1, kept as 0); LXC refuses 0 and other negatives.
    pub fn set_rcv_timeout(&self, seconds: i32) -> Result<()> {
        if seconds <= 0 && seconds != -1 {
            return Err(Error::invalid(format!("Invalid timeout {seconds}")));
        }
        self.lock().rcv_timeout = seconds.max(0);
        Ok(())
    }

    /// Points the handle at another lxcpath (its config file moves with it).
    pub fn set_config_path(&self, lxcpath: &str) -> Result<()> {
        names::validate_lxcpath(lxcpath)?;
        let mut st = self.lock();
        st.config_file = config_file_of(lxcpath, &st.name);
        st.lxcpath = lxcpath.to_string();
        Ok(())
    }
}

/// Writes `data` to `path` through a temporary file in the same directory
/// and a rename, so readers see the old or the new file, never a mix.
pub fn write_atomically(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("Invalid file path {}", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(|e| Error::io("Failed to create", &tmp, &e))?;
        // No fsync: the rename already guarantees readers (and a process
        // that dies half way) never see a partial file, and ext4/xfs order
        // the data before a replacing rename; LXC does not sync either, and
        // an fsync would triple the cost of every save.
        f.write_all(data)
            .map_err(|e| Error::io("Failed to write", &tmp, &e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("Failed to replace", path, &e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        crate::test_support::scratch_dir(&format!("core-{tag}"))
    }

    #[test]
    fn new_rejects_bad_names() {
        assert!(Container::new("../etc", Some("/tmp")).is_err());
        assert!(Container::new("", Some("/tmp")).is_err());
        assert!(Container::new("ok", Some("")).is_err());
    }

    #[test]
    fn undefined_container() {
        let d = scratch("undef");
        let c = Container::new("c1", Some(d.to_str().unwrap())).unwrap();
        assert!(!c.is_defined());
        assert!(!c.has_config());
        assert!(c.daemonize());
        assert_eq!(c.config_file(), d.join("c1/config"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn atomic_write_replaces() {
        let d = scratch("atomic");
        let p = d.join("config");
        write_atomically(&p, b"a = 1\n", 0o640).unwrap();
        write_atomically(&p, b"b = 2\n", 0o640).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "b = 2\n");
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "no temp file left"
        );
        let err = write_atomically(&d.join("missing/config"), b"x", 0o640).unwrap_err();
        assert_eq!(err.errno, libc::ENOENT);
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// A config the owner replaced by a FIFO (or a device): the handle is
    /// refused at once, as for any unreadable config, and a FIFO in place
    /// of the `partial` marker is not acted on.
    #[test]
    fn hostile_files_in_the_container_dir_do_not_block_new() {
        let d = scratch("hostile");
        let lxcpath = d.to_str().unwrap();
        let dir = d.join("c1");
        std::fs::create_dir(&dir).unwrap();
        crate::sys::regular_file::mkfifo(&dir.join("config"));
        let e = Container::new("c1", Some(lxcpath)).unwrap_err();
        assert_eq!(e.errno, libc::EINVAL);
        assert!(e.message.contains("c1/config: a FIFO"), "{}", e.message);
        std::fs::remove_file(dir.join("config")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.join("config")).unwrap();
        assert_eq!(
            Container::new("c1", Some(lxcpath)).unwrap_err().errno,
            libc::EINVAL
        );
        std::fs::remove_file(dir.join("config")).unwrap();

        crate::sys::regular_file::mkfifo(&dir.join(create::PARTIAL_FNAME));
        let c = Container::new("c1", Some(lxcpath)).unwrap();
        assert!(!c.is_defined());
        assert!(dir.join(create::PARTIAL_FNAME).exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn set_config_path_moves_config_file() {
        let c = Container::new("c1", Some("/a")).unwrap();
        c.set_config_path("/b").unwrap();
        assert_eq!(c.lxcpath(), "/b");
        assert_eq!(c.config_file(), PathBuf::from("/b/c1/config"));
    }
}
