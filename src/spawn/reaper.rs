//! PID 1 of an application container (`start` with useinit, as
//! lxc-execute): runs the command as its child, forwards signals to it,
//! reaps every orphan, and exits with the command's status.
//!
//! It stays the monitor's clone (no exec), so it needs nothing inside the
//! rootfs. It marks itself non-dumpable so the container cannot reach the
//! host binary through /proc/1/exe.

use std::os::fd::{AsRawFd, RawFd};

use super::Never;
use crate::error::{Error, Result};
use crate::sys;

use super::signals::FORWARDED;

fn signal_set() -> libc::sigset_t {
    // SAFETY: building a sigset in a local.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        for s in FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Exit status of PID 1 for the command's wait status.
pub fn exit_code_for(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}

/// Exit status of a command that could not be executed: LXC's init
/// exits with its child's `exit(-1)`.
const EXEC_FAILED: i32 = 255;

/// Starts the command and becomes its reaper. A command that cannot be
/// executed ends the container, not its start (as LXC's init): the command's
/// process itself reports why (`on_exec_error`, on its copy of `report`),
/// then this PID 1 exits with [`EXEC_FAILED`]. Returns only if the command
/// could not be forked.
///
/// A root inside may look at PID 1 once the command runs: before it is
/// released, PID 1 is non-dumpable (closed to anyone without CAP_SYS_PTRACE
/// over the host) and holds no descriptor of the monitor's at all. The
/// monitor learns that the command runs from `report` closing: in PID 1
/// before the command is released, in the command at its exec.
pub fn run(
    prog: &std::ffi::CStr,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    report: RawFd,
    on_exec_error: impl FnOnce(Error),
) -> Result<Never> {
    // SAFETY: a flag of this process.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    sys::raw::close_all_but(report);
    let set = signal_set();
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    let (go_r, go_w) = sys::pipe("a pipe")?;
    // SAFETY: plain syscalls; the child waits, then execs or reports.
    unsafe {
        // Blocked before the fork so no signal slips between.
        libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old);
        let pid = libc::fork();
        if pid < 0 {
            return Err(Error::last_os("Failed to fork the command"));
        }
        if pid == 0 {
            drop(go_w);
            // Released once PID 1 let go of everything (EOF).
            let mut byte = 0u8;
            libc::read(
                go_r.as_raw_fd(),
                &mut byte as *mut u8 as *mut libc::c_void,
                1,
            );
            libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            libc::execve(prog.as_ptr(), argv.as_ptr(), envp.as_ptr());
            let errno = *libc::__errno_location();
            on_exec_error(Error::new(
                errno,
                std::io::Error::from_raw_os_error(errno).to_string(),
            ));
            libc::_exit(EXEC_FAILED);
        }
        // PID 1 needs no descriptor; the last one closing releases the
        // command.
        sys::raw::close_from(3);
        std::mem::forget((go_r, go_w));
        reap(pid, &set)
    }
}

fn reap(command: libc::pid_t, set: &libc::sigset_t) -> ! {
    loop {
        // SAFETY: waiting for blocked signals, reaping children, exiting.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let sig = libc::sigwaitinfo(set, &mut info);
            if sig < 0 {
                continue;
            }
            if sig != libc::SIGCHLD {
                libc::kill(command, sig);
                continue;
            }
            loop {
                let mut status = 0;
                let pid = libc::waitpid(-1, &mut status, libc::WNOHANG);
                if pid <= 0 {
                    break;
                }
                if pid == command {
                    libc::_exit(exit_code_for(status));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code_for(7 << 8), 7);
        assert_eq!(exit_code_for(libc::SIGTERM), 128 + libc::SIGTERM);
    }
}
