//! `create`: run a template (or make an empty rootfs) on a backing store,
//! guarded by the `partial` marker so an unfinished create never looks like
//! a container.
//!
//! The sequence is LXC 6.0's `__lxcapi_create`:
//! 1. the configuration is the handle's (items set before create) or, when
//!    the handle has none, `lxc.default_config`;
//! 2. `<lxcpath>/<name>` is made (mode 0770) and `partial` is created
//!    (O_EXCL, mode 0000) and write-locked (OFD lock) for the whole create;
//! 3. the backing store is made and `lxc.rootfs.path` saved in the config;
//! 4. the template runs: `lxc-<t> --path=<dir> --name=<name> --rootfs=<rootfs> argv...`
//!    (under `lxc-usernsexec` with `--mapped-uid/--mapped-gid` when
//!    `lxc.idmap` is set); it appends to `<dir>/config`;
//! 5. a header naming the template is prepended to the config file and the
//!    configuration is reloaded from it; `partial` is removed.
//!
//! On failure everything create made is removed and the handle keeps the
//! configuration it had before.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{write_atomically, Container};
use crate::config::{Config, IdMap};
use crate::error::{Error, Result, ResultExt};
use crate::idmap::{mapped_hostid, unmapped_nsid};
use crate::storage::{self, Storage};

/// LXC's template directory (`LXCTEMPLATEDIR`).
pub const TEMPLATE_DIR: &str = "/usr/share/lxc/templates";
/// LXC's template config directory (`LXCTEMPLATECONFIG`), named in the header.
pub const TEMPLATE_CONFIG_DIR: &str = "/usr/share/lxc/config";
/// The marker of a create in progress (`LXC_PARTIAL_FNAME`).
pub const PARTIAL_FNAME: &str = "partial";
/// The rootfs directory of the `dir` backend (`LXC_ROOTFS_DNAME`).
pub const ROOTFS_DNAME: &str = "rootfs";

/// How to make the backing store (`struct bdev_specs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BdevSpecs {
    pub fstype: Option<String>,
    pub fssize: u64,
    pub zfs_root: Option<String>,
    pub lvm_vg: Option<String>,
    pub lvm_lv: Option<String>,
    pub lvm_thinpool: Option<String>,
    pub dir: Option<String>,
    pub rbd_name: Option<String>,
    pub rbd_pool: Option<String>,
}

/// Arguments of `create(t, bdevtype, specs, flags, argv)`.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Template name (resolved in LXC's template directory) or path; None
    /// for an empty rootfs.
    pub template: Option<String>,
    /// Backing store type; None for `dir`.
    pub bdevtype: Option<String>,
    pub specs: Option<BdevSpecs>,
    /// `LXC_CREATE_QUIET`: hide the template's output.
    pub quiet: bool,
    /// Extra arguments for the template.
    pub argv: Vec<String>,
}

/// LXC's `get_template_path`: an absolute path is used as is, anything
/// else names `<TEMPLATE_DIR>/lxc-<t>`; either must be executable.
pub fn template_path(t: &str) -> Result<PathBuf> {
    let path = if t.starts_with('/') {
        PathBuf::from(t)
    } else {
        PathBuf::from(format!("{TEMPLATE_DIR}/lxc-{t}"))
    };
    let c = crate::sys::cpath(&path)?;
    // SAFETY: a valid C string.
    if unsafe { libc::access(c.as_ptr(), libc::X_OK) } < 0 {
        let err = std::io::Error::last_os_error();
        return Err(Error::new(
            err.raw_os_error().unwrap_or(libc::ENOENT),
            format!(
                "Template \"{t}\" not found: {} is not an executable file: {err}",
                path.display()
            ),
        ));
    }
    Ok(path)
}

/// The program, its argv[0] and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateCommand {
    pub program: PathBuf,
    pub argv0: String,
    pub args: Vec<String>,
}

/// Builds the template command line as LXC's `create_run_template` does.
pub fn template_command(
    tpath: &Path,
    container_dir: &Path,
    name: &str,
    rootfs: &Path,
    extra: &[String],
    idmaps: &[IdMap],
    (euid, egid): (u32, u32),
) -> TemplateCommand {
    let base = tpath.file_name().map_or_else(
        || tpath.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let mut args = vec![
        format!("--path={}", container_dir.display()),
        format!("--name={name}"),
        format!("--rootfs={}", rootfs.display()),
    ];
    args.extend(extra.iter().cloned());
    if idmaps.is_empty() {
        return TemplateCommand {
            program: tpath.to_path_buf(),
            argv0: base,
            args,
        };
    }
    // Run under lxc-usernsexec with the container's maps, plus a map for
    // our own uid/gid when the container maps none, and tell the template
    // which ids we are inside.
    let mut wrapped = Vec::new();
    for m in idmaps {
        wrapped.push("-m".to_string());
        wrapped.push(format!("{}:{}:{}:{}", m.kind, m.nsid, m.hostid, m.range));
    }
    let uid = mapped_hostid(idmaps, 'u', u64::from(euid)).unwrap_or_else(|| {
        let free = unmapped_nsid(idmaps, 'u');
        wrapped.push("-m".into());
        wrapped.push(format!("u:{free}:{euid}:1"));
        free
    });
    let gid = mapped_hostid(idmaps, 'g', u64::from(egid)).unwrap_or_else(|| {
        let free = unmapped_nsid(idmaps, 'g');
        wrapped.push("-m".into());
        wrapped.push(format!("g:{free}:{egid}:1"));
        free
    });
    wrapped.push("--".into());
    wrapped.push(tpath.display().to_string());
    wrapped.extend(args);
    wrapped.extend([
        "--mapped-uid".into(),
        uid.to_string(),
        "--mapped-gid".into(),
        gid.to_string(),
    ]);
    TemplateCommand {
        program: PathBuf::from("lxc-usernsexec"),
        argv0: "lxc-usernsexec".into(),
        args: wrapped,
    }
}

/// The comment block LXC prepends to the config file after the template
/// ran (LXC built without OpenSSL, as Debian's, writes no checksum line).
pub fn template_header(tpath: &Path, argv: &[String]) -> String {
    let mut h = format!(
        "# Template used to create this container: {}\n",
        tpath.display()
    );
    h.push_str("# Parameters passed to the template:");
    for a in argv {
        h.push(' ');
        h.push_str(a);
    }
    h.push('\n');
    h.push_str("# For additional config options, please look at lxc.container.conf(5)\n");
    h.push_str("\n# Uncomment the following line to support nesting containers:\n");
    h.push_str(&format!(
        "#lxc.include = {TEMPLATE_CONFIG_DIR}/nesting.conf\n"
    ));
    h.push_str("# (Be aware this has security implications)\n\n");
    h
}

fn describe_status(status: std::process::ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => format!("ended with {status}"),
    }
}

/// The `partial` marker, write-locked while the create runs.
#[derive(Debug)]
pub(super) struct Partial {
    file: File,
    path: PathBuf,
}

impl Partial {
    pub(super) fn create(container_dir: &Path) -> Result<Partial> {
        let path = container_dir.join(PARTIAL_FNAME);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o000)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path)
            .map_err(|e| {
                Error::io(
                    "Failed to create the marker of a create in progress",
                    &path,
                    &e,
                )
            })?;
        let partial = Partial { file, path };
        // SAFETY: a zeroed flock is valid; fcntl gets a valid fd and pointer.
        let mut lk: libc::flock = unsafe { std::mem::zeroed() };
        lk.l_type = libc::F_WRLCK as libc::c_short;
        lk.l_whence = libc::SEEK_SET as libc::c_short;
        let fd = partial.file.as_raw_fd();
        // SAFETY: see above.
        let mut rc = unsafe { libc::fcntl(fd, libc::F_OFD_SETLK, &lk) };
        if rc < 0 && crate::sys::errno() == libc::EINVAL {
            // SAFETY: flock on a valid fd.
            rc = unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) };
        }
        if rc < 0 {
            let err = std::io::Error::last_os_error();
            let _ = std::fs::remove_file(&partial.path);
            return Err(Error::io("Failed to lock", &partial.path, &err));
        }
        Ok(partial)
    }

    /// Unlinks the marker, then drops the lock.
    pub(super) fn remove(self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            log::error!("Failed to remove {}: {e}", self.path.display());
        }
    }
}

/// What the `partial` marker of a container says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialState {
    /// No marker: not being created, or created completely.
    None,
    /// A marker locked by a create in progress (in any process).
    Ongoing,
    /// A marker nobody holds: a create died half way.
    Incomplete,
}

/// LXC's `ongoing_create`. Unlike LXC 6.0, which reports any marker it can
/// query as ongoing, an unlocked marker is reported as incomplete, which is
/// what LXC means to detect.
pub fn partial_state(container_dir: &Path) -> Result<PartialState> {
    let path = container_dir.join(PARTIAL_FNAME);
    // The container's owner may have put a FIFO or a device there.
    let file = match crate::sys::open_regular(&path, libc::O_RDWR) {
        Ok(f) => f,
        Err(e) if e.errno == libc::ENOENT => return Ok(PartialState::None),
        Err(e) => return Err(e),
    };
    let fd = file.as_raw_fd();
    // SAFETY: a zeroed flock is valid (l_pid must be 0 for F_OFD_GETLK).
    let mut lk: libc::flock = unsafe { std::mem::zeroed() };
    lk.l_type = libc::F_WRLCK as libc::c_short;
    lk.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: valid fd and pointer.
    if unsafe { libc::fcntl(fd, libc::F_OFD_GETLK, &mut lk) } == 0 {
        return Ok(if lk.l_type == libc::F_UNLCK as libc::c_short {
            PartialState::Incomplete
        } else {
            PartialState::Ongoing
        });
    }
    if crate::sys::errno() != libc::EINVAL {
        return Err(Error::last_io("Failed to query the lock of", &path));
    }
    // SAFETY: flock on a valid fd; the lock goes with `file`.
    if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        Ok(PartialState::Incomplete)
    } else if crate::sys::errno() == libc::EWOULDBLOCK {
        Ok(PartialState::Ongoing)
    } else {
        Err(Error::last_io("Failed to lock", &path))
    }
}

/// At `lxc_container_new`: a container whose create died half way is
/// destroyed, and the handle forgets its configuration (LXC does both).
pub(super) fn recover_incomplete(c: &Container) {
    let dir = Path::new(&c.lxcpath()).join(c.name());
    match partial_state(&dir) {
        Ok(PartialState::Incomplete) => {
            log::error!(
                "Failed to complete container creation for {}: destroying it",
                c.name()
            );
            if c.is_defined() {
                if let Err(e) = c.destroy() {
                    log::error!("Failed to destroy incomplete container: {}", e.message);
                }
            }
            // Killed before its configuration was written (or destroy left
            // it): the directory holds only what the unfinished operation
            // made. Removed without following symlinks or crossing mounts.
            if dir.join(PARTIAL_FNAME).exists() || (dir.exists() && !c.is_defined()) {
                if let Err(e) = crate::storage::rmdir_onedev(&dir) {
                    log::error!(
                        "Failed to remove incomplete container {}: {}",
                        dir.display(),
                        e.message
                    );
                }
            }
            c.clear_config();
        }
        Ok(_) => {}
        // The marker is mode 0000: unprivileged callers cannot check it.
        Err(e) if e.errno == libc::EACCES || e.errno == libc::EPERM => {}
        Err(e) => log::warn!(
            "Failed checking for incomplete container creation: {}",
            e.message
        ),
    }
}

/// What a failed create has to undo.
#[derive(Debug, Default)]
struct Undo {
    /// The container directory, when this create made it.
    made_dir: Option<PathBuf>,
    /// The rootfs, when this create made it.
    made_rootfs: Option<Box<dyn Storage>>,
    /// The config file this create wrote, with what it held before (None:
    /// it did not exist).
    wrote_config: Option<(PathBuf, Option<Vec<u8>>)>,
}

impl Undo {
    fn run(self) {
        if let Some(rootfs) = self.made_rootfs {
            if let Err(e) = rootfs.destroy() {
                log::error!("Failed to remove rootfs after failed create: {}", e.message);
            }
        }
        match self.wrote_config {
            Some((path, Some(old))) => {
                if let Err(e) = write_atomically(&path, &old, 0o640) {
                    log::error!("Failed to restore {}: {}", path.display(), e.message);
                }
            }
            Some((path, None)) => {
                let _ = std::fs::remove_file(path);
            }
            None => {}
        }
        if let Some(dir) = self.made_dir {
            if let Err(e) = storage::rmdir_onedev(&dir) {
                log::error!(
                    "Failed to remove {} after failed create: {}",
                    dir.display(),
                    e.message
                );
            }
        }
    }
}

pub(super) fn mkdir_exact(path: &Path, mode: u32) -> Result<bool> {
    match std::fs::DirBuilder::new().mode(mode).create(path) {
        Ok(()) => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io("Failed to set the mode of", path, &e))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => Ok(false),
        Err(e) => Err(Error::io("Failed to create container directory", path, &e)),
    }
}

/// The container directory `dir` as LXC makes it for create and for
/// save_config (its lxcpath too when missing): mode 0770 and, with
/// lxc.idmap, given to the container's root so it reaches its rootfs
/// (LXC's chown_mapped_root; an unprivileged caller keeps it through its
/// group, which is why the group needs the 0770). True when it was made
/// here; an existing one is chowned again but keeps its mode, as LXC's.
pub(super) fn make_container_dir(dir: &Path, idmaps: &[IdMap]) -> Result<bool> {
    if let Some(parent) = dir.parent() {
        crate::sys::mkdir_p(parent, "lxcpath")?;
    }
    let made = mkdir_exact(dir, 0o770)?;
    if idmaps.is_empty() {
        return Ok(made);
    }
    // Already the container root's (each save_config comes here): no
    // helper process to spawn.
    let root = crate::idmap::host_id(idmaps, 'u', 0);
    if !made && std::fs::metadata(dir).is_ok_and(|m| Some(m.uid()) == root) {
        return Ok(false);
    }
    use crate::idmap::mapped::{self, Who};
    let gid = if mapped::own_ids().0 == 0 {
        Who::Root
    } else {
        Who::Caller
    };
    let chowned = mapped::chown_mapped(idmaps, &[dir.to_path_buf()], (Who::Root, gid), false);
    if let Err(e) = chowned {
        if made {
            let _ = std::fs::remove_dir(dir);
        }
        return Err(e);
    }
    Ok(made)
}

fn save(config: &Config, path: &Path) -> Result<()> {
    write_atomically(path, config.write().as_bytes(), 0o640)
}

impl Container {
    pub fn create(&self, opts: &CreateOptions) -> Result<()> {
        let _lock = self.disk_lock()?;
        let name = self.name();
        let lxcpath = self.lxcpath();
        let context = |e: Error| e.context(format_args!("Failed to create container \"{name}\""));
        // A defined container whose rootfs exists is refused when a
        // template is given (LXC's test). Defined without a rootfs (what
        // python3-lxc makes: it saves the config before create) goes on;
        // without a template, create only saves the configuration.
        let rootfs_of = |c: &Config| {
            storage::from_config(c.conf())
                .ok()
                .flatten()
                .is_some_and(|s| s.host_path().exists())
        };
        // The handle's config may predate a create another process (or
        // handle) finished meanwhile: under the lock, the file on disk
        // decides too.
        let on_disk = {
            let mut c = Config::new();
            c.load_file(&self.config_file()).is_ok() && rootfs_of(&c)
        };
        let has_rootfs = on_disk || self.lock().config.as_ref().is_some_and(rootfs_of);
        if self.is_defined() && has_rootfs && opts.template.is_some() {
            return Err(context(Error::new(
                libc::EEXIST,
                format!("it already exists in \"{lxcpath}\""),
            )));
        }
        let tpath = opts
            .template
            .as_deref()
            .map(template_path)
            .transpose()
            .map_err(context)?;
        let before = self.lock().config.clone();
        let mut undo = Undo::default();
        let result = self.create_steps(opts, tpath.as_deref(), before.clone(), &mut undo);
        match result {
            Ok(config) => {
                self.lock().config = Some(config);
                Ok(())
            }
            Err(e) => {
                undo.run();
                self.lock().config = before;
                Err(context(e))
            }
        }
    }

    fn create_steps(
        &self,
        opts: &CreateOptions,
        tpath: Option<&Path>,
        before: Option<Config>,
        undo: &mut Undo,
    ) -> Result<Config> {
        let name = self.name();
        let lxcpath = self.lxcpath();
        let config_file = self.config_file();
        let dir = Path::new(&lxcpath).join(&name);

        // 1. The starting configuration.
        let mut config = match before {
            Some(c) => c,
            None => super::default_config()?,
        };

        // The backing store: a rootfs set before create is the caller's
        // (never made nor removed here); otherwise a new one.
        let preset_rootfs = storage::from_config(config.conf())?;
        let preset = preset_rootfs.is_some();
        let rootfs: Option<Box<dyn Storage>> = match preset_rootfs {
            Some(s) => {
                if !s.host_path().exists() {
                    return Err(Error::new(
                        libc::ENOENT,
                        format!("The rootfs \"{}\" does not exist", s.host_path().display()),
                    ));
                }
                Some(s)
            }
            None if tpath.is_none() => None,
            None => {
                let dest = opts
                    .specs
                    .as_ref()
                    .and_then(|s| s.dir.as_deref())
                    .map_or_else(|| dir.join(ROOTFS_DNAME), PathBuf::from);
                let specs = opts.specs.clone().unwrap_or_default();
                Some(storage::for_create_with(
                    opts.bdevtype.as_deref(),
                    &dest,
                    specs.fstype.as_deref(),
                    specs.fssize,
                )?)
            }
        };

        // 2. The container directory (the lxcpath is made if missing).
        // A directory holding nothing but a config (python3-lxc saves one
        // before create) is removed on failure, as LXC destroys it; one
        // holding anything else is left alone.
        let only_config = std::fs::read_dir(&dir).is_ok_and(|entries| {
            entries
                .flatten()
                .all(|e| e.file_name() == "config" || e.file_name() == PARTIAL_FNAME)
        });
        if make_container_dir(&dir, &config.conf().idmaps)? || (only_config && tpath.is_some()) {
            undo.made_dir = Some(dir.clone());
        }

        // No template and no rootfs: only the configuration is saved.
        let (Some(rootfs), Some(tpath)) = (rootfs, tpath) else {
            save(&config, &config_file)?;
            return Ok(config);
        };

        // A marker left by a create that died (its container never got a
        // config, so lxc_container_new could not destroy it) is stale.
        if partial_state(&dir)? == PartialState::Incomplete {
            let stale = dir.join(PARTIAL_FNAME);
            std::fs::remove_file(&stale)
                .map_err(|e| Error::io("Failed to remove stale marker", &stale, &e))?;
        }
        let partial = Partial::create(&dir)?;
        let made_rootfs = !preset && !rootfs.host_path().exists();
        let result = (|| {
            // 3. The backing store, recorded in the config.
            if !preset {
                rootfs.create()?;
                config.set_item("lxc.rootfs.path", &rootfs.src())?;
            }
            let old = crate::sys::read_regular_file(&config_file).ok();
            undo.wrote_config = Some((config_file.clone(), old));
            save(&config, &config_file)?;

            // 4. The template.
            self.run_template(tpath, &dir, &name, rootfs.as_ref(), &config, opts)?;

            // 5. Header, then the config as the template left it.
            let text = crate::sys::read_regular_text(&config_file)
                .context("Failed to read the config written by the template")?;
            let mut full = template_header(tpath, &opts.argv);
            full.push_str(&text);
            write_atomically(&config_file, full.as_bytes(), 0o640)?;
            let mut fresh = Config::new();
            fresh
                .load_file(&config_file)
                .context("Failed to load the config written by the template")?;
            Ok(fresh)
        })();
        if made_rootfs {
            undo.made_rootfs = Some(rootfs);
        }
        partial.remove();
        result
    }

    fn run_template(
        &self,
        tpath: &Path,
        dir: &Path,
        name: &str,
        storage: &dyn Storage,
        config: &Config,
        opts: &CreateOptions,
    ) -> Result<()> {
        let rootfs = storage.host_path();
        // A rootfs that must be mounted (loop) is, in the template's own
        // mount namespace.
        let mount = match storage.rootfs_mount() {
            Some(m) => Some(m.for_child(rootfs)?),
            None => None,
        };
        // SAFETY: geteuid/getegid have no preconditions.
        let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let tc = template_command(
            tpath,
            dir,
            name,
            rootfs,
            &opts.argv,
            &config.conf().idmaps,
            (euid, egid),
        );
        let mut cmd = Command::new(&tc.program);
        cmd.arg0(&tc.argv0).args(&tc.args);
        if opts.quiet {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
        }
        // SAFETY: umask is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::umask(0o022);
                Ok(())
            });
        }
        if euid == 0 {
            // Mounts the template makes (and a loop rootfs) stay in its own
            // mount namespace.
            crate::storage::in_private_mounts(
                &mut cmd,
                mount.into_iter().map(std::sync::Arc::new).collect(),
            );
        }
        log::info!(
            "Running template {} {}",
            tc.program.display(),
            tc.args.join(" ")
        );
        let status = cmd.status().map_err(|e| {
            Error::os(
                format_args!("Failed to execute template {}", tc.program.display()),
                &e,
            )
        })?;
        if !status.success() {
            return Err(Error::new(
                libc::EIO,
                format!("Template {} {}", tpath.display(), describe_status(status)),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The container directory as create and save_config make it: 0770,
    /// the mapped root's with lxc.idmap (as root: its gid too), an
    /// existing one keeping its mode. Needs root (chown).
    #[test]
    fn container_dir_for_the_mapped_root() {
        if crate::idmap::mapped::own_ids().0 != 0 {
            return;
        }
        let base = std::env::temp_dir().join(format!("lxc-cdir-{}", std::process::id()));
        let maps = [
            IdMap::new('u', 0, 100000, 65536),
            IdMap::new('g', 0, 100000, 65536),
        ];
        let plain = base.join("lxcpath/plain");
        assert!(make_container_dir(&plain, &[]).unwrap());
        let m = std::fs::metadata(&plain).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid()), (0o770, 0));
        let mapped = base.join("lxcpath/mapped");
        assert!(make_container_dir(&mapped, &maps).unwrap());
        let m = std::fs::metadata(&mapped).unwrap();
        assert_eq!(
            (m.mode() & 0o7777, m.uid(), m.gid()),
            (0o770, 100000, 100000)
        );
        // Existing: not made again, chowned when it is not the root's yet.
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!make_container_dir(&plain, &maps).unwrap());
        let m = std::fs::metadata(&plain).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid()), (0o755, 100000));
        assert!(!make_container_dir(&mapped, &maps).unwrap());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn template_paths() {
        assert_eq!(
            template_path("/bin/true").unwrap(),
            PathBuf::from("/bin/true")
        );
        let e = template_path("no-such-template-xyz").unwrap_err();
        assert_eq!(e.errno, libc::ENOENT);
        assert!(
            e.message
                .contains("/usr/share/lxc/templates/lxc-no-such-template-xyz"),
            "{}",
            e.message
        );
        // Not executable.
        let f = std::env::temp_dir().join(format!("lxc-tpl-{}", std::process::id()));
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            template_path(f.to_str().unwrap()).unwrap_err().errno,
            libc::EACCES
        );
        std::fs::remove_file(&f).unwrap();
    }

    #[test]
    fn plain_command() {
        let tc = template_command(
            Path::new("/usr/share/lxc/templates/lxc-busybox"),
            Path::new("/var/lib/lxc/c1"),
            "c1",
            Path::new("/var/lib/lxc/c1/rootfs"),
            &["-a".into(), "x".into()],
            &[],
            (0, 0),
        );
        assert_eq!(
            tc.program,
            PathBuf::from("/usr/share/lxc/templates/lxc-busybox")
        );
        assert_eq!(tc.argv0, "lxc-busybox");
        assert_eq!(
            tc.args,
            [
                "--path=/var/lib/lxc/c1",
                "--name=c1",
                "--rootfs=/var/lib/lxc/c1/rootfs",
                "-a",
                "x"
            ]
        );
    }

    #[test]
    fn mapped_command() {
        // Our ids (1000) are not mapped: extra maps at the first free nsids.
        let maps = [
            IdMap::new('u', 0, 100000, 65536),
            IdMap::new('g', 0, 100000, 65536),
        ];
        let tc = template_command(
            Path::new("/t/lxc-x"),
            Path::new("/p/c"),
            "c",
            Path::new("/p/c/rootfs"),
            &[],
            &maps,
            (1000, 1000),
        );
        assert_eq!(tc.program, PathBuf::from("lxc-usernsexec"));
        assert_eq!(
            tc.args.join(" "),
            "-m u:0:100000:65536 -m g:0:100000:65536 -m u:65536:1000:1 -m g:65536:1000:1 -- \
             /t/lxc-x --path=/p/c --name=c --rootfs=/p/c/rootfs \
             --mapped-uid 65536 --mapped-gid 65536"
        );
        // Our uid mapped: its nsid is passed, no extra map.
        let maps = [
            IdMap::new('u', 0, 1000, 1),
            IdMap::new('u', 1, 100000, 100),
            IdMap::new('g', 5, 1000, 1),
        ];
        let tc = template_command(
            Path::new("/t/x"),
            Path::new("/p/c"),
            "c",
            Path::new("/r"),
            &[],
            &maps,
            (1000, 1000),
        );
        assert!(tc.args.ends_with(&[
            "--mapped-uid".to_string(),
            "0".into(),
            "--mapped-gid".into(),
            "5".into()
        ]));
        assert_eq!(unmapped_nsid(&maps, 'u'), 101);
        assert_eq!(unmapped_nsid(&maps, 'g'), 0);
        assert_eq!(mapped_hostid(&maps, 'u', 100050), Some(51));
        assert_eq!(mapped_hostid(&maps, 'u', 100100), None);
    }

    #[test]
    fn header() {
        let h = template_header(Path::new("/usr/share/lxc/templates/lxc-busybox"), &[]);
        assert_eq!(
            h,
            "# Template used to create this container: /usr/share/lxc/templates/lxc-busybox\n\
             # Parameters passed to the template:\n\
             # For additional config options, please look at lxc.container.conf(5)\n\
             \n\
             # Uncomment the following line to support nesting containers:\n\
             #lxc.include = /usr/share/lxc/config/nesting.conf\n\
             # (Be aware this has security implications)\n\n"
        );
        let h = template_header(Path::new("/t"), &["-r".into(), "bookworm".into()]);
        assert!(h.contains("# Parameters passed to the template: -r bookworm\n"));
    }

    #[test]
    fn partial_marker_states() {
        let d = std::env::temp_dir().join(format!("lxc-partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        assert_eq!(partial_state(&d).unwrap(), PartialState::None);
        let p = Partial::create(&d).unwrap();
        // Another open file description sees the OFD lock, even in-process.
        assert_eq!(partial_state(&d).unwrap(), PartialState::Ongoing);
        assert!(Partial::create(&d).is_err(), "O_EXCL");
        drop(p); // lock gone, marker left: a create that died
        assert_eq!(partial_state(&d).unwrap(), PartialState::Incomplete);
        let p = Partial {
            file: File::open(d.join(PARTIAL_FNAME)).unwrap(),
            path: d.join(PARTIAL_FNAME),
        };
        p.remove();
        assert_eq!(partial_state(&d).unwrap(), PartialState::None);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
