//! `start`: hand the in-memory configuration to a freshly exec'd monitor,
//! which creates the container and reports when it is RUNNING.

use super::Container;
use crate::error::{Error, Result};

/// Arguments of `start(useinit, argv)` plus the handle's start settings.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Run our init as PID 1 for an application container (lxc-execute).
    pub use_init: bool,
    /// Overrides lxc.init.cmd when not empty.
    pub argv: Vec<String>,
    /// Run in the background (the default) or block until the container exits.
    pub daemonize: bool,
    pub close_all_fds: bool,
    pub pidfile: Option<String>,
}

impl Container {
    /// Starts the container. In the foreground mode returns the exit status
    /// of the container's init once it stopped.
    pub fn start(&self, opts: &StartOptions) -> Result<i32> {
        let _ = opts;
        Err(Error::not_implemented("start"))
    }
}
