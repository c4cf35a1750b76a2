//! `migrate`, `checkpoint` and `restore`: LXC 6.0's argument checks and
//! return values around `crate::criu`.

use super::{Container, StartOptions};
use crate::criu::{self, MigrateOptions, RestoreRequest};
use crate::error::{Error, Result};
use crate::spawn::StartSpec;

/// A failed `migrate`: what LXC returns (-1 for a container in the wrong
/// state, 1 for a failed CRIU run or missing features, -errno for bad
/// arguments) and why.
#[derive(Debug)]
pub struct MigrateFailure {
    pub ret: i32,
    pub error: Error,
}

/// A final dump that stopped the container waits this long for its
/// monitor to have cleaned up, so a restore may follow at once.
const STOPPED_WAIT_SECS: i32 = 30;

impl Container {
    pub fn migrate(
        &self,
        cmd: u32,
        opts: &mut MigrateOptions,
    ) -> std::result::Result<(), MigrateFailure> {
        let fail = |ret: i32, error: Error| Err(MigrateFailure { ret, error });
        let failed = |error: Error| MigrateFailure { ret: 1, error };
        match cmd {
            criu::MIGRATE_PRE_DUMP | criu::MIGRATE_DUMP => {
                if !self.is_running() {
                    return fail(-1, Error::new(libc::ESRCH, "container is not running"));
                }
                self.dump(opts, cmd == criu::MIGRATE_PRE_DUMP)
                    .map_err(failed)
            }
            criu::MIGRATE_RESTORE => {
                if self.is_running() {
                    return fail(-1, Error::new(libc::EBUSY, "container is already running"));
                }
                self.restore_from(opts).map_err(failed)
            }
            criu::MIGRATE_FEATURE_CHECK => {
                let asked = opts.features_to_check;
                if criu::check_features(&mut opts.features_to_check) {
                    return Ok(());
                }
                fail(
                    1,
                    Error::new(
                        libc::EOPNOTSUPP,
                        format!(
                            "CRIU features missing: asked {asked:#x}, available {:#x}",
                            opts.features_to_check
                        ),
                    ),
                )
            }
            _ => fail(
                -libc::EINVAL,
                Error::invalid(format!("invalid migrate command {cmd}")),
            ),
        }
    }

    /// `checkpoint(directory, stop, verbose)`: a final dump.
    pub fn checkpoint(&self, directory: &str, stop: bool, verbose: bool) -> Result<()> {
        let mut opts = MigrateOptions {
            directory: Some(directory.to_string()),
            stop,
            verbose,
            ..Default::default()
        };
        self.migrate(criu::MIGRATE_DUMP, &mut opts)
            .map_err(|f| f.error)
    }

    /// `restore(directory, verbose)`.
    pub fn restore(&self, directory: &str, verbose: bool) -> Result<()> {
        let mut opts = MigrateOptions {
            directory: Some(directory.to_string()),
            verbose,
            ..Default::default()
        };
        self.migrate(criu::MIGRATE_RESTORE, &mut opts)
            .map_err(|f| f.error)
    }

    /// The start-time view of the configuration (network, mounts, ttys).
    fn criu_spec(&self) -> Result<(StartSpec, crate::config::Config)> {
        let config = self.config_or_disk()?;
        let (name, lxcpath, file) = {
            let st = self.lock();
            (st.name.clone(), st.lxcpath.clone(), st.config_file.clone())
        };
        let spec = StartSpec::from_config(&name, &lxcpath, file, &config, &Default::default())?;
        Ok((spec, config))
    }

    fn dump(&self, opts: &MigrateOptions, pre_dump: bool) -> Result<()> {
        let (spec, config) = self.criu_spec()?;
        let init_pid = self.running_init_pid()?;
        let addr = self.addr();
        let limit_cgroup = |c: Option<&str>| addr.target().get_limit_cgroup(c);
        let console = !config.conf().console_disabled();
        let target = criu::DumpTarget {
            init_pid,
            spec: &spec,
            console,
            limit_cgroup: &limit_cgroup,
        };
        criu::dump(&target, opts, pre_dump)?;
        if !pre_dump && opts.stop && !self.wait("STOPPED", STOPPED_WAIT_SECS)? {
            log::warn!(
                "\"{}\" was dumped and killed, but its monitor has not finished",
                self.name()
            );
        }
        Ok(())
    }

    fn restore_from(&self, opts: &MigrateOptions) -> Result<()> {
        let dir = opts.images_dir()?;
        let (spec, _) = self.criu_spec()?;
        criu::check_container(&spec.net, "restore")?;
        let criu = criu::Criu::find()?;
        // The monitor works from "/".
        let directory = std::path::absolute(dir)
            .map_err(|e| Error::io("Bad checkpoint directory", std::path::Path::new(dir), &e))?;
        let request = RestoreRequest {
            directory: directory.to_string_lossy().into_owned(),
            criu: criu.path.to_string_lossy().into_owned(),
            criu_version: criu.version,
            verbose: opts.verbose,
            action_script: opts.action_script.clone(),
        };
        let start = StartOptions {
            daemonize: true,
            restore: Some(request),
            ..Default::default()
        };
        self.start(&start).map(drop)
    }
}
