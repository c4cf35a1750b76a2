//! `dump` and `pre-dump` of a running container, from the caller's
//! process (as LXC): CRIU freezes the container's cgroup, dumps the tree
//! from init down and, for a final dump without `--leave-running`, kills
//! it (the container's monitor then cleans up as after any stop).

use std::path::Path;

use super::cmdline::{self, CgroupRoot, Common, Dump};
use super::{Criu, MigrateOptions};
use crate::error::{Error, Result};
use crate::spawn::StartSpec;

/// What is known of the running container.
pub struct DumpTarget<'a> {
    pub init_pid: i32,
    pub spec: &'a StartSpec,
    /// Whether it has a console (`lxc.console.path` is not `none`).
    pub console: bool,
    /// Its limit cgroup in each hierarchy, relative to the hierarchy's
    /// root ("a/lxc.payload.c1"), as its monitor answers GET_LIMIT_CGROUP
    /// for a controller (None: the cgroup2 one).
    pub limit_cgroup: &'a dyn Fn(Option<&str>) -> Result<Option<String>>,
}

/// The container's cgroup roots and its freezer directory.
fn cgroups(t: &DumpTarget<'_>) -> Result<(Vec<CgroupRoot>, String)> {
    let mut roots = Vec::new();
    let mut freezer = None;
    let mut unified = None;
    for h in crate::cgroups::detect()?.iter().filter(|h| h.delegated()) {
        let controller = h.controllers.first().map(String::as_str);
        let Some(rel) = (t.limit_cgroup)(controller)? else {
            continue;
        };
        let rel = rel.trim_start_matches('/');
        let dir = h.mountpoint.join(rel).to_string_lossy().into_owned();
        if h.controllers.iter().any(|c| c == "freezer") {
            freezer = Some(dir.clone());
        }
        if h.unified {
            unified = Some(dir);
        }
        roots.push(CgroupRoot {
            controllers: h.controllers.clone(),
            path: format!("/{rel}"),
        });
    }
    let freezer = freezer.or(unified).ok_or_else(|| {
        Error::new(
            libc::ENOENT,
            "Failed getting freezer path: the container has no freezer cgroup",
        )
    })?;
    Ok((roots, freezer))
}

/// `lxc.mount.entry` bind mounts: (target in the rootfs, host source).
pub(crate) fn binds(spec: &StartSpec) -> Vec<(String, String)> {
    spec.mount_entries
        .iter()
        .filter(|e| e.flags & libc::MS_BIND != 0)
        .map(|e| {
            (
                e.target.trim_start_matches('/').to_string(),
                e.source.clone(),
            )
        })
        .collect()
}

/// Dumps (or pre-dumps) the container into `opts.directory`.
pub fn dump(t: &DumpTarget<'_>, opts: &MigrateOptions, pre_dump: bool) -> Result<()> {
    super::check_container(&t.spec.net, "checkpoint")?;
    let criu = Criu::find()?;
    let dir = opts.images_dir()?;
    if !pre_dump && Path::new(dir).join("inventory.img").exists() {
        return Err(Error::new(
            libc::EEXIST,
            format!("please use a fresh directory for the dump directory ({dir} holds a dump)"),
        ));
    }
    if pre_dump || opts.predump_dir.is_some() {
        criu.need_memory_tracking()?;
    }
    let created = !Path::new(dir).exists();
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(dir)
        .map_err(|e| {
            Error::io(
                "Failed to create the checkpoint directory",
                Path::new(dir),
                &e,
            )
        })?;
    let result = (|| {
        let (cgroup_roots, freezer) = cgroups(t)?;
        let terminals =
            super::terminals::save(Path::new(dir), t.init_pid, t.console, t.spec.tty_max)?;
        let common = Common {
            criu: criu.path.clone(),
            directory: dir.to_string(),
            verbose: opts.verbose,
            action_script: opts.action_script.clone(),
            cgroup_roots,
            binds: binds(t.spec),
        };
        let d = Dump {
            pre_dump,
            init_pid: t.init_pid,
            freezer,
            criu_version: criu.version.clone(),
            disable_skip_in_flight: opts.disable_skip_in_flight,
            terminals,
            predump_dir: opts.predump_dir.clone(),
            page_server: opts
                .pageserver_address
                .clone()
                .zip(opts.pageserver_port.clone()),
            preserves_inodes: opts.preserves_inodes,
            ghost_limit: opts.ghost_limit,
            stop: opts.stop,
        };
        let argv = cmdline::dump(&common, &d);
        let action = if pre_dump { "pre-dump" } else { "dump" };
        super::run::run(&mut super::run::command(&argv), &argv, action, dir)
    })();
    if result.is_err() && created {
        // As LXC: a directory this call made goes if it stayed empty.
        let _ = std::fs::remove_dir(dir);
    }
    result
}
