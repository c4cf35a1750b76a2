//! Queries and control of a running container through its monitor's
//! command socket: state, init pid, stop, freeze, wait, shutdown, reboot.

use super::{Container, STATES};
use crate::error::{Error, Result};

impl Container {
    /// The container's state name (STOPPED when no monitor answers).
    pub fn state(&self) -> &'static str {
        STATES[0]
    }

    pub fn is_running(&self) -> bool {
        self.state() != STATES[0]
    }

    /// PID of init in the caller's pid namespace, or -1 when not running.
    pub fn init_pid(&self) -> i32 {
        -1
    }

    pub fn stop(&self) -> Result<()> {
        Err(Error::not_implemented("stop"))
    }

    pub fn freeze(&self) -> Result<()> {
        Err(Error::not_implemented("freeze"))
    }

    pub fn unfreeze(&self) -> Result<()> {
        Err(Error::not_implemented("unfreeze"))
    }

    /// Waits up to `timeout` seconds (-1: forever, 0: just check) for
    /// `state`; Ok(false) on timeout.
    pub fn wait(&self, state: &str, timeout: i32) -> Result<bool> {
        let _ = (state, timeout);
        Err(Error::not_implemented("wait"))
    }

    /// Sends lxc.signal.halt and waits up to `timeout` seconds for STOPPED.
    pub fn shutdown(&self, timeout: i32) -> Result<bool> {
        let _ = timeout;
        Err(Error::not_implemented("shutdown"))
    }

    pub fn reboot(&self) -> Result<()> {
        Err(Error::not_implemented("reboot"))
    }

    pub fn reboot2(&self, timeout: i32) -> Result<bool> {
        let _ = timeout;
        Err(Error::not_implemented("reboot2"))
    }

    pub fn init_pidfd(&self) -> Result<std::os::fd::OwnedFd> {
        Err(Error::not_implemented("init_pidfd"))
    }

    pub fn get_running_config_item(&self, key: &str) -> Result<String> {
        let _ = key;
        Err(Error::not_implemented("get_running_config_item"))
    }

    /// Whether the caller may control the container (its monitor accepts
    /// our credentials); true for a stopped container.
    pub fn may_control(&self) -> bool {
        true
    }
}
