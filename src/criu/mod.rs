//! Checkpoint and restore through CRIU, as LXC 6.0 does it (`migrate`,
//! `checkpoint`, `restore`): the `criu` on PATH dumps the running
//! container from the caller's process; a restore starts a monitor of
//! ours that has CRIU restore the tree as its sibling, so the restored
//! init is the monitor's child (reapable, stoppable, its pidfd polled)
//! and the monitor then serves it as one it started.
//!
//! Files: `cmdline` (CRIU's command lines, pure), `run` (finding CRIU,
//! its version and features, running it), `dump`, `restore` (the
//! monitor's side), `terminals` (the console and ttys across the two).

pub mod cmdline;
pub(crate) mod dump;
pub(crate) mod run;
pub(crate) mod terminals;

pub use dump::{dump, DumpTarget};
pub use run::{check_features, Criu};

use crate::error::{Error, Result};

/// `migrate()` commands (lxccontainer.h).
pub const MIGRATE_PRE_DUMP: u32 = 0;
pub const MIGRATE_DUMP: u32 = 1;
pub const MIGRATE_RESTORE: u32 = 2;
pub const MIGRATE_FEATURE_CHECK: u32 = 3;

/// `features_to_check` bits.
pub const FEATURE_MEM_TRACK: u64 = 1 << 0;
pub const FEATURE_LAZY_PAGES: u64 = 1 << 1;

/// The oldest CRIU LXC accepts.
pub const MIN_VERSION: &str = "2.0";

/// `struct migrate_opts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrateOptions {
    pub directory: Option<String>,
    pub verbose: bool,
    pub stop: bool,
    pub predump_dir: Option<String>,
    pub pageserver_address: Option<String>,
    pub pageserver_port: Option<String>,
    pub preserves_inodes: bool,
    pub action_script: Option<String>,
    pub disable_skip_in_flight: bool,
    pub ghost_limit: u64,
    pub features_to_check: u64,
}

impl MigrateOptions {
    /// The images directory, which every dump and restore needs.
    pub fn images_dir(&self) -> Result<&str> {
        self.directory
            .as_deref()
            .filter(|d| !d.is_empty())
            .ok_or_else(|| Error::invalid("No checkpoint directory given"))
    }
}

pub use crate::spawn::RestoreRequest;

/// LXC's preconditions of every checkpoint and restore: root, and only
/// networks CRIU can bring back.
pub fn check_container(net: &crate::net::NetPlan, what: &str) -> Result<()> {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(Error::new(libc::EPERM, format!("Must be root to {what}")));
    }
    use crate::config::NetType;
    for iface in &net.ifaces {
        if !matches!(
            iface.kind,
            NetType::Veth | NetType::Empty | NetType::Phys | NetType::Macvlan
        ) {
            return Err(Error::new(
                libc::EOPNOTSUPP,
                format!(
                    "Found un-dumpable network: {} (lxc.net.{})",
                    iface.kind.name(),
                    iface.index
                ),
            ));
        }
    }
    Ok(())
}
