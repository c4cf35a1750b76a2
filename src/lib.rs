//! The Rust core of liblxc: a safe API over LXC system containers that knows
//! nothing about C. The `capi/` crate exposes it as LXC 6.0's `liblxc.so.1`.

pub mod attach;
pub mod caps;
pub mod cgroups;
pub mod commands;
pub mod config;
pub mod container;
pub mod criu;
pub mod error;
pub mod globals;
pub mod helper_exe;
pub mod hooks;
pub mod idmap;
pub mod journal;
pub mod listing;
pub mod log;
pub mod lsm;
pub mod monitor;
pub mod names;
pub mod net;
pub mod prelink;
pub mod pty;
pub mod refcount;
pub mod rootfs;
pub mod seccomp;
pub mod sentinel;
pub mod spawn;
pub mod states;
pub mod storage;
pub mod sys;
#[cfg(test)]
mod test_support;
pub mod version;

pub use container::Container;
pub use error::{Error, Result};
