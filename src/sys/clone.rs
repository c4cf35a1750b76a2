//! clone3(2) in its fork-like form (the child returns on a copy of the
//! caller's stack), and the old clone(2) where clone3 is refused.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};

/// `struct clone_args` of clone3(2), up to `cgroup` (CLONE_ARGS_SIZE_VER2).
#[repr(C)]
#[derive(Default)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// The child starts with every handled signal back to its default action
/// (ignored ones stay ignored), as exec leaves them.
pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

impl CloneArgs {
    /// `flags` plus, when given, CLONE_INTO_CGROUP with the v2 cgroup
    /// directory `cgroup`; SIGCHLD on exit (with CLONE_PARENT, clone3
    /// wants none: the child inherits its parent's exit signal).
    pub fn new(flags: i32, cgroup: Option<RawFd>) -> CloneArgs {
        let mut args = CloneArgs {
            flags: flags as u32 as u64,
            exit_signal: if flags & libc::CLONE_PARENT != 0 {
                0
            } else {
                libc::SIGCHLD as u64
            },
            ..Default::default()
        };
        if let Some(fd) = cgroup {
            args.flags |= CLONE_INTO_CGROUP;
            args.cgroup = fd as u64;
        }
        args
    }
}

/// The raw fork-like clone3: 0 in the child, the pid in the parent, -1
/// with errno set on failure. Allocation-free, so usable in a child of a
/// multi-threaded process.
///
/// # Safety
/// As fork(): the child is a copy of the calling thread only.
pub unsafe fn clone3_raw(args: &mut CloneArgs) -> libc::c_long {
    libc::syscall(
        libc::SYS_clone3,
        args as *mut CloneArgs,
        std::mem::size_of::<CloneArgs>(),
    )
}

/// clone3 whose child starts on the stack `args` gives it and runs
/// `entry(arg)`, which never returns (it ends in exec or exit). The
/// child's pid in the parent, or -errno (-ENOSYS where no entry is written
/// for this architecture).
///
/// # Safety
/// `args.stack` and `args.stack_size` describe a stack only the child
/// uses; with CLONE_VM, `entry` shares the caller's memory and must touch
/// nothing but what `arg` points to and its own stack.
pub unsafe fn clone3_with_entry(
    args: &CloneArgs,
    entry: unsafe extern "C" fn(*mut libc::c_void) -> !,
    arg: *mut libc::c_void,
) -> isize {
    #[cfg(target_arch = "x86_64")]
    {
        let ret: isize;
        // SAFETY: clone3 returns twice; the child's stack pointer is the
        // top of its own (page-aligned) stack, and r12/r13 arrive intact:
        // it calls entry(arg), which does not return.
        unsafe {
            std::arch::asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "mov rdi, r13",
                "call r12",
                "ud2",
                "2:",
                inlateout("rax") libc::SYS_clone3 as isize => ret,
                in("rdi") args as *const CloneArgs,
                in("rsi") std::mem::size_of::<CloneArgs>(),
                in("r12") entry as usize,
                in("r13") arg as usize,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        ret
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (args, entry, arg);
        -(libc::ENOSYS as isize)
    }
}

/// The old clone(2), fork-like (no new stack): for kernels before 5.3 and
/// seccomp policies that answer clone3 with ENOSYS, as container runtimes'
/// defaults do. With CLONE_PIDFD the pidfd is stored through `pidfd` (the
/// parent_tid argument). 0 in the child, the pid in the parent, -1 with
/// errno set. Allocation-free.
///
/// # Safety
/// As fork(); `pidfd` is null or writable.
pub unsafe fn clone_old(flags: i32, pidfd: *mut libc::c_int) -> libc::c_long {
    libc::syscall(
        libc::SYS_clone,
        flags as u32 as libc::c_ulong,
        0usize,
        pidfd,
        0usize,
        0usize,
    )
}

/// A fork-like clone3 (no new stack, SIGCHLD on exit) with CLONE_PIDFD and
/// `flags` (CLONE_NEW*), born in the v2 cgroup `cgroup` when given; `what`
/// names the child in the error. Without clone3 and without a cgroup to
/// be born in, the old clone. Returns None in the child, (pid, pidfd) in
/// the parent.
///
/// # Safety
/// The caller must be single-threaded: the child is a copy of it.
pub unsafe fn clone3_fork(
    flags: i32,
    cgroup: Option<RawFd>,
    what: &str,
) -> Result<Option<(i32, OwnedFd)>> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs::new(flags | libc::CLONE_PIDFD, cgroup);
    args.pidfd = &mut pidfd as *mut libc::c_int as u64;
    let mut pid = clone3_raw(&mut args);
    if pid < 0 && super::errno() == libc::ENOSYS && cgroup.is_none() {
        pid = clone_old(flags | libc::CLONE_PIDFD | libc::SIGCHLD, &mut pidfd);
    }
    if pid < 0 {
        let into = if cgroup.is_some() {
            ", into its cgroup"
        } else {
            ""
        };
        return Err(Error::last_os(format_args!(
            "Failed to clone {what} (flags {flags:#x}{into})"
        )));
    }
    if pid == 0 {
        return Ok(None);
    }
    // SAFETY: the kernel stored a fresh pidfd for us.
    Ok(Some((pid as i32, OwnedFd::from_raw_fd(pidfd))))
}
