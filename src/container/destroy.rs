//! `destroy`: remove a stopped container's rootfs and directory.
//!
//! As LXC 6.0's `container_destroy`: refuse a running container or one
//! with snapshots, run the `lxc.hook.destroy` hooks, remove the rootfs
//! through its backing store (unless `lxc.rootfs.managed = 0`, in which
//! case LXC leaves everything on disk), then `<lxcpath>/<name>`. The
//! handle keeps its in-memory configuration, as LXC's does.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::Container;
use crate::config::{Config, HOOK_NAMES};
use crate::error::{Error, Result};
use crate::storage;

/// The shell command line of one hook, as LXC's `run_script_argv`:
/// version 0 hooks get "<name> lxc <hook type>" as arguments, version 1
/// hooks get them through LXC_HOOK_TYPE and LXC_HOOK_SECTION. Extra
/// arguments (the clone hook's `hookargs`) follow, unquoted, as LXC's.
pub fn hook_command_line(
    script: &str,
    name: &str,
    hook_type: &str,
    version: u32,
    args: &[String],
) -> String {
    let mut line = if version == 0 {
        format!("exec {script} '{name}' 'lxc' '{hook_type}'")
    } else {
        format!("exec {script}")
    };
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    line
}

/// A rootfs (overlay, loop) each hook gets mounted in its own mount namespace.
pub type HookMount = std::sync::Arc<crate::storage::ChildMount>;

/// The environment LXC exports to destroy hooks.
pub fn hook_env(name: &str, config_file: &Path, config: &Config) -> Vec<(String, String)> {
    let conf = config.conf();
    let mut env = vec![
        ("LXC_NAME".to_string(), name.to_string()),
        (
            "LXC_CONFIG_FILE".to_string(),
            config_file.display().to_string(),
        ),
    ];
    let optional = [
        ("LXC_ROOTFS_MOUNT", &conf.rootfs_mount),
        ("LXC_ROOTFS_PATH", &conf.rootfs_path),
        ("LXC_CONSOLE", &conf.console_path),
        ("LXC_CONSOLE_LOGPATH", &conf.console_logfile),
    ];
    for (k, v) in optional {
        if let Some(v) = v {
            env.push((k.to_string(), v.clone()));
        }
    }
    env
}

/// Runs each hook of `hook_type` in order through `sh -c`; the first one
/// that fails stops the run. Its standard output goes to the log, as LXC's.
pub fn run_hooks(
    name: &str,
    hook_type: &str,
    config: &Config,
    env: &[(String, String)],
) -> Result<()> {
    run_hooks_with(name, hook_type, config, env, &[], None)
}

/// `run_hooks` with extra arguments and, optionally, an overlay rootfs
/// mounted for the hooks in their own mount namespace.
pub fn run_hooks_with(
    name: &str,
    hook_type: &str,
    config: &Config,
    env: &[(String, String)],
    args: &[String],
    overlay: Option<&HookMount>,
) -> Result<()> {
    let Some(which) = HOOK_NAMES.iter().position(|h| *h == hook_type) else {
        return Err(Error::invalid(format!("Unknown hook type \"{hook_type}\"")));
    };
    let conf = config.conf();
    for script in &conf.hooks[which] {
        let line = hook_command_line(script, name, hook_type, conf.hooks_version, args);
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(&line)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        if let Some(m) = overlay {
            let m = m.clone();
            // SAFETY: only raw syscalls between fork and exec.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                    if libc::unshare(libc::CLONE_NEWNS) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::mount(
                        std::ptr::null(),
                        c"/".as_ptr(),
                        std::ptr::null(),
                        libc::MS_SLAVE | libc::MS_REC,
                        std::ptr::null(),
                    );
                    if !m.mount() {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        if conf.hooks_version != 0 {
            cmd.env("LXC_HOOK_TYPE", hook_type)
                .env("LXC_HOOK_SECTION", "lxc");
        }
        let out = cmd.output().map_err(|e| {
            Error::new(
                e.raw_os_error().unwrap_or(libc::EIO),
                format!("Failed to run {hook_type} hook \"{script}\": {e}"),
            )
        })?;
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            log::info!("Script {script} with output: {l}");
        }
        if !out.status.success() {
            return Err(Error::new(
                libc::ECANCELED,
                format!(
                    "The {hook_type} hook \"{script}\" for container \"{name}\" failed ({})",
                    out.status
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `<dir>/snaps` holds snapshots.
fn has_snapshots(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("snaps"))
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
}

impl Container {
    /// `<lxcpath>/<name>`.
    pub(super) fn container_dir(&self) -> PathBuf {
        Path::new(&self.lxcpath()).join(self.name())
    }

    /// Refusals shared by destroy and rename.
    pub(super) fn check_stopped_and_defined(&self, op: &str) -> Result<()> {
        let name = self.name();
        if !self.is_defined() {
            return Err(Error::new(
                libc::ENOENT,
                format!(
                    "Cannot {op} container \"{name}\": it is not defined in \"{}\" ({} does not exist)",
                    self.lxcpath(),
                    self.config_file().display()
                ),
            ));
        }
        if self.is_running() {
            return Err(Error::new(
                libc::EBUSY,
                format!("Cannot {op} container \"{name}\": it is not stopped"),
            ));
        }
        if has_snapshots(&self.container_dir()) {
            return Err(Error::new(
                libc::EBUSY,
                format!("Cannot {op} container \"{name}\": it has snapshots"),
            ));
        }
        if super::deps::has_fs_snapshots(&self.container_dir()) {
            return Err(Error::new(
                libc::EBUSY,
                format!(
                    "Cannot {op} container \"{name}\": overlay clones depend on its rootfs (see {})",
                    self.container_dir().join(super::deps::SNAPSHOTS_FNAME).display()
                ),
            ));
        }
        Ok(())
    }

    pub fn destroy(&self) -> Result<()> {
        self.check_stopped_and_defined("destroy")?;
        self.destroy_steps(false)
    }

    /// LXC's `container_destroy`. For a restore in place (`restore`), the
    /// `snaps` directory stays and an overlay container keeps its storage
    /// (only its config goes), as LXC's `LXC_STORAGE_INTERNAL_OVERLAY_RESTORE`.
    pub(super) fn destroy_steps(&self, restore: bool) -> Result<()> {
        let name = self.name();
        let config_file = self.config_file();
        // The handle's configuration; a handle without one (cleared)
        // reads the file so that an external rootfs is still found.
        let config = match self.lock().config.clone() {
            Some(c) => c,
            None => {
                let mut c = Config::new();
                if let Err(e) = c.load_file(&config_file) {
                    log::warn!("Destroying {name} without its configuration: {}", e.message);
                }
                c
            }
        };

        let env = hook_env(&name, &config_file, &config);
        run_hooks(&name, "destroy", &config, &env)?;

        let conf = config.conf();
        if !conf.rootfs_managed {
            log::info!("lxc.rootfs.managed = 0: leaving the storage of {name} in place");
            return Ok(());
        }
        let rootfs = storage::from_config(conf).map_err(|e| {
            Error::new(
                e.errno,
                format!("Failed to destroy the rootfs of \"{name}\": {}", e.message),
            )
        })?;
        let dir = self.container_dir();
        let overlay = rootfs.as_ref().is_some_and(|r| r.kind() == "overlay");
        if restore && overlay {
            super::deps::mod_all_rdeps(&dir, &self.lxcpath(), &name, false);
            return std::fs::remove_file(&config_file)
                .map_err(|e| Error::io("Failed to remove", &config_file, &e));
        }
        if let (Some(rootfs), Some(_)) = (rootfs, &conf.rootfs_mount) {
            rootfs.destroy().map_err(|e| {
                Error::new(
                    e.errno,
                    format!("Failed to destroy the rootfs of \"{name}\": {}", e.message),
                )
            })?;
        }
        super::deps::mod_all_rdeps(&dir, &self.lxcpath(), &name, false);
        let removed = if restore {
            storage::rmdir_onedev_except(&dir, "snaps")
        } else {
            storage::rmdir_onedev(&dir)
        };
        removed.map_err(|e| {
            Error::new(
                e.errno,
                format!(
                    "Failed to remove the directory {} of \"{name}\": {}",
                    dir.display(),
                    e.message
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_lines() {
        assert_eq!(
            hook_command_line("/h/x.sh arg", "c1", "destroy", 0, &[]),
            "exec /h/x.sh arg 'c1' 'lxc' 'destroy'"
        );
        assert_eq!(
            hook_command_line("/h/x.sh", "c1", "destroy", 1, &[]),
            "exec /h/x.sh"
        );
        assert_eq!(
            hook_command_line("/h/x.sh", "c2", "clone", 0, &["a".into(), "b c".into()]),
            "exec /h/x.sh 'c2' 'lxc' 'clone' a b c"
        );
    }

    #[test]
    fn hooks_env_and_failure() {
        let d = std::env::temp_dir().join(format!("lxc-hooks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let out = d.join("out");
        let mut c = Config::new();
        c.set_item("lxc.rootfs.path", "dir:/x/rootfs").unwrap();
        c.set_item(
            "lxc.hook.destroy",
            &format!(
                "/bin/sh -c 'echo \"$0 $1 $2 $LXC_NAME $LXC_ROOTFS_PATH $LXC_CONFIG_FILE\" > {}'",
                out.display()
            ),
        )
        .unwrap();
        let env = hook_env("c1", Path::new("/x/config"), &c);
        run_hooks("c1", "destroy", &c, &env).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "c1 lxc destroy c1 /x/rootfs /x/config\n"
        );
        c.set_item("lxc.hook.destroy", "/bin/false").unwrap();
        let e = run_hooks("c1", "destroy", &c, &env).unwrap_err();
        assert!(e.message.contains("/bin/false"), "{}", e.message);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
