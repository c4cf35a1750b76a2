//! `attach`, `attach_run_wait`: the handle's side (see `crate::attach`).

use super::Container;
use crate::attach::{AttachOptions, Attacher, Payload};
use crate::error::Result;

impl Container {
    fn attacher(&self) -> Attacher<'_> {
        Attacher {
            name: self.name(),
            lxcpath: self.lxcpath(),
            timeout: self.rcv_timeout(),
            cache: &self.attach_cache,
            config_env: self.config_environment(),
        }
    }

    /// Runs `payload` inside the running container; the pid of the
    /// attached process, a child of the caller, to wait for.
    pub fn attach(&self, payload: Payload<'_>, opts: &AttachOptions) -> Result<i32> {
        self.attacher().attach(payload, opts)
    }

    /// Runs `program` with `argv` in the container and waits for it: the
    /// raw wait status.
    pub fn attach_run_wait(
        &self,
        opts: &AttachOptions,
        program: &[u8],
        argv: &[Vec<u8>],
    ) -> Result<i32> {
        self.attacher().attach_run_wait(opts, program, argv)
    }
}
