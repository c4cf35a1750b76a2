//! posix_spawn(3) of a helper program: the one way this library starts
//! its own executables (the monitor, the attach helper). glibc creates the
//! child sharing our memory until its exec (no page table copy) and resets
//! the caller's signal handlers in it, so multi-threaded callers are safe.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};

/// How the child's descriptors and signals are arranged before its exec.
pub struct SpawnSetup<'a> {
    /// `(from, to)`: descriptor `from` becomes `to` (close-on-exec cleared),
    /// whatever their numbers.
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
    if argv.last().is_none_or(|p| !p.is_null()) {
        return Err(Error::invalid("argv must end with NULL"));
    }
    // The child's dup2s run in order: a source numbered like an earlier
    // target would be overwritten first. Sources copied above every
    // target cannot be.
    let slot = setup.handle_slot;
    let above = |fd: RawFd| -> Result<OwnedFd> {
        // SAFETY: F_DUPFD_CLOEXEC returns a fresh descriptor or -1.
        let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, slot + 1) };
        if copy < 0 {
            return Err(Error::last_os(format_args!("Failed to prepare {what}")));
        }
        // SAFETY: fresh and ours.
        Ok(unsafe { OwnedFd::from_raw_fd(copy) })
    };
    let handle = above(handle.as_raw_fd())?;
    let sources = setup
        .dup2
        .iter()
        .map(|&(from, to)| Ok((above(from)?, to)))
        .collect::<Result<Vec<_>>>()?;
    // SAFETY: the attribute and file-action objects live on this stack
    // frame and are destroyed before returning; argv is NULL-terminated
    // (its last element), envp as the caller promised.
    unsafe {
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        libc::posix_spawn_file_actions_init(&mut actions);
        libc::posix_spawnattr_init(&mut attr);
        for (from, to) in &sources {
            libc::posix_spawn_file_actions_adddup2(&mut actions, from.as_raw_fd(), *to);
        }
        // Exec runs the handle through its path, after the file actions.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A source may sit on another's target, the handle included (a
    /// process with only fds 0-2 open gets its first descriptors at 3, 4).
    #[test]
    fn descriptors_numbered_like_targets_arrive_intact() {
        let handle = crate::sys::sealed_exe::sealed_copy(std::path::Path::new("/bin/sh")).unwrap();
        let (r, w) = crate::sys::pipe("a test pipe").unwrap();
        // The pipe goes where the handle is: taken in order, the handle
        // would be overwritten before it reaches its slot.
        let target = handle.as_raw_fd();
        let script = std::ffi::CString::new(format!("echo through >&{target}")).unwrap();
        let argv = [
            c"sh".as_ptr() as *mut libc::c_char,
            c"-c".as_ptr() as *mut libc::c_char,
            script.as_ptr() as *mut libc::c_char,
            std::ptr::null_mut(),
        ];
        let envp = [std::ptr::null_mut::<libc::c_char>()];
        let setup = SpawnSetup {
            dup2: &[(w.as_raw_fd(), target)],
            handle_slot: target.max(w.as_raw_fd()) + 1,
            block_all_signals: false,
            default_all_signals: true,
        };
        // SAFETY: an empty environment.
        let pid = unsafe { spawn(&handle, &argv, envp.as_ptr(), &setup, "sh") }.unwrap();
        drop(w);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut std::fs::File::from(r), &mut out).unwrap();
        let mut status = 0;
        // SAFETY: our child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(out, "through\n");
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    }
}
