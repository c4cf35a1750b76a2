//! posix_spawn(3) of a helper program: the one way this library starts
//! its own executables (the monitor, the attach helper). glibc creates the
//! child sharing our memory until its exec (no page table copy) and resets
//! the caller's signal handlers in it, so multi-threaded callers are safe.

use std::os::fd::{AsRawFd, RawFd};

use crate::error::{Error, Result};

/// How the child's descriptors and signals are arranged before its exec.
pub struct SpawnSetup<'a> {
    /// `(from, to)`: descriptor `from` becomes `to` (close-on-exec cleared).
    pub dup2: &'a [(RawFd, RawFd)],
    /// The executable's handle takes this descriptor (the child must close
    /// it), and every one above it is closed.
    pub handle_slot: RawFd,
    /// The child's signal mask: true blocks every signal, false none.
    pub block_all_signals: bool,
    /// Every signal back to its default action (false: only those with a
    /// handler, as exec does; ignored signals stay ignored).
    pub default_all_signals: bool,
}

/// Runs the executable `handle` (see `sealed_exe`) with `argv` and `envp`
/// (both NULL-terminated); the pid. `what` names the program in the error.
///
/// # Safety
/// `envp` is a live NULL-terminated array of C strings.
pub unsafe fn spawn(
    handle: &impl AsRawFd,
    argv: &[*mut libc::c_char],
    envp: *const *mut libc::c_char,
    setup: &SpawnSetup<'_>,
    what: &str,
) -> Result<libc::pid_t> {
    // SAFETY: the attribute and file-action objects live on this stack
    // frame and are destroyed before returning; argv is NULL-terminated
    // (its last element), envp as the caller promised.
    if argv.last().is_none_or(|p| !p.is_null()) {
        return Err(Error::invalid("argv must end with NULL"));
    }
    unsafe {
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&mut actions);
        libc::posix_spawnattr_init(&mut attr);
        for &(from, to) in setup.dup2 {
            libc::posix_spawn_file_actions_adddup2(&mut actions, from, to);
        }
        // Exec runs the handle through its path, after the file actions.
        let slot = setup.handle_slot;
        libc::posix_spawn_file_actions_adddup2(&mut actions, handle.as_raw_fd(), slot);
        libc::posix_spawn_file_actions_addclosefrom_np(&mut actions, slot + 1);
        let program = super::sealed_exe::exec_path(&slot);
        let mut mask: libc::sigset_t = std::mem::zeroed();
        if setup.block_all_signals {
            libc::sigfillset(&mut mask);
        } else {
            libc::sigemptyset(&mut mask);
        }
        libc::posix_spawnattr_setsigmask(&mut attr, &mask);
        let mut flags = libc::POSIX_SPAWN_SETSIGMASK;
        if setup.default_all_signals {
            let mut all: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::posix_spawnattr_setsigdefault(&mut attr, &all);
            flags |= libc::POSIX_SPAWN_SETSIGDEF;
        }
        libc::posix_spawnattr_setflags(&mut attr, flags as libc::c_short);
        let mut pid: libc::pid_t = 0;
        let r = libc::posix_spawn(
            &mut pid,
            program.as_ptr(),
            &actions,
            &attr,
            argv.as_ptr(),
            envp,
        );
        libc::posix_spawn_file_actions_destroy(&mut actions);
        libc::posix_spawnattr_destroy(&mut attr);
        if r != 0 {
            return Err(Error::new(
                r,
                format!(
                    "Failed to run {what}: {}",
                    std::io::Error::from_raw_os_error(r)
                ),
            ));
        }
        Ok(pid)
    }
}
