//! Types of `<lxc/attach_options.h>`: the options of `attach()` and friends.
//!
//! This file is parsed by cbindgen (see the top-level build.rs); keep it to
//! `#[repr(C)]` items and constants. Layout must equal LXC 6.0 on x86_64
//! (`lxc_attach_options_t` is 96 bytes); tests-c/abi_layout.c checks it.

use libc::{c_char, c_int, c_long, c_void, gid_t, size_t, uid_t};

/// Whether the attached process keeps the caller's environment.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum lxc_attach_env_policy_t {
    /// Keep the caller's environment.
    LXC_ATTACH_KEEP_ENV = 0,
    /// Start from an empty environment.
    LXC_ATTACH_CLEAR_ENV = 1,
}

/// Entry point run inside the container by `attach()`.
pub type lxc_attach_exec_t = Option<unsafe extern "C" fn(payload: *mut c_void) -> c_int>;

/// Supplementary groups for the attached process.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lxc_groups_t {
    /// Number of entries in `list`.
    pub size: size_t,
    /// The group ids.
    pub list: *mut gid_t,
}

/// How `attach()` enters the container. Start from `LXC_ATTACH_OPTIONS_DEFAULT`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lxc_attach_options_t {
    /// Any combination of the `LXC_ATTACH_*` flags.
    pub attach_flags: c_int,
    /// `CLONE_NEW*` flags of the namespaces to enter; -1 for all the container has.
    pub namespaces: c_int,
    /// Personality of the process; `LXC_ATTACH_DETECT_PERSONALITY` to use the container's.
    pub personality: c_long,
    /// Initial working directory; NULL to keep the caller's.
    pub initial_cwd: *mut c_char,
    /// User id to run as; (uid_t)-1 for the container's init user.
    pub uid: uid_t,
    /// Group id to run as; (gid_t)-1 for the container's init group.
    pub gid: gid_t,
    /// Environment policy.
    pub env_policy: lxc_attach_env_policy_t,
    /// NULL-terminated "NAME=value" strings to set in the environment.
    pub extra_env_vars: *mut *mut c_char,
    /// NULL-terminated names of variables kept when the environment is cleared.
    pub extra_keep_env: *mut *mut c_char,
    /// Standard input of the attached process.
    pub stdin_fd: c_int,
    /// Standard output of the attached process.
    pub stdout_fd: c_int,
    /// Standard error of the attached process.
    pub stderr_fd: c_int,
    /// Descriptor the attach machinery logs to.
    pub log_fd: c_int,
    /// LSM label to run under (with `LXC_ATTACH_LSM_LABEL`).
    pub lsm_label: *mut c_char,
    /// Supplementary groups (with `LXC_ATTACH_SETGROUPS`).
    pub groups: lxc_groups_t,
}

/// Payload for `lxc_attach_run_command`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lxc_attach_command_t {
    /// Program to run (looked up through PATH).
    pub program: *mut c_char,
    /// Its argv, argv[0] included, NULL-terminated.
    pub argv: *mut *mut c_char,
}
