//! Syscalls glibc does not wrap (or wraps with process-wide work a freshly
//! forked child must avoid). Each is async-signal safe: usable between
//! fork and exec. They return the raw result (-1 with errno set).

/// close_range(2) of `first..=last` (`flags`: 0 or CLOSE_RANGE_CLOEXEC).
pub fn close_range(first: u32, last: u32, flags: u32) -> i64 {
    // SAFETY: only closes (or flags) descriptors of this process.
    unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) }
}

/// Closes every descriptor from `first` up.
pub fn close_from(first: i32) {
    close_range(first as u32, u32::MAX, 0);
}

/// Closes every descriptor from 3 up but `keep`.
pub fn close_all_but(keep: i32) {
    if keep > 3 {
        close_range(3, (keep - 1) as u32, 0);
    }
    close_from(keep.max(2) + 1);
}

/// Sets the calling thread's signal mask (the kernel's 64 signals).
pub fn set_sigmask(mask: &libc::sigset_t) {
    // SAFETY: the kernel reads 8 bytes of the mask.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            mask as *const libc::sigset_t,
            std::ptr::null_mut::<libc::sigset_t>(),
            8usize,
        );
    }
}

/// setresgid(2) of one id for this thread only (glibc's wrapper signals
/// every thread, which a forked child must not wait for).
pub fn setresgid(gid: u32) -> bool {
    // SAFETY: changes this thread's credentials only.
    unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) == 0 }
}

/// setresuid(2), as [`setresgid`].
pub fn setresuid(uid: u32) -> bool {
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) == 0 }
}

/// setgroups(2), as [`setresgid`].
pub fn setgroups(groups: &[libc::gid_t]) -> bool {
    // SAFETY: the kernel reads `groups.len()` ids.
    unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) == 0 }
}

/// seccomp(2) of `op` with `flags` and `arg`.
///
/// # Safety
/// `arg` points to what `op` expects.
pub unsafe fn seccomp(op: libc::c_ulong, flags: libc::c_ulong, arg: *mut libc::c_void) -> i64 {
    libc::syscall(libc::SYS_seccomp, op, flags, arg)
}

/// bpf(2) of `cmd` with the attribute buffer `attr`.
///
/// # Safety
/// Pointers inside `attr` point to buffers alive for the call.
pub unsafe fn bpf(cmd: libc::c_long, attr: &mut [u8]) -> i64 {
    libc::syscall(
        libc::SYS_bpf,
        cmd,
        attr.as_mut_ptr(),
        attr.len() as libc::c_uint,
    )
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL): a new anonymous session
/// keyring.
pub fn join_new_session_keyring() -> i64 {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: a NULL name asks for a new anonymous keyring.
    unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0usize) }
}

/// umask(2) as the kernel answers it (a seccomp errno shows as -1): for
/// the seccomp tests.
#[cfg(test)]
pub(crate) fn umask(mask: libc::mode_t) -> i64 {
    // SAFETY: no pointer.
    unsafe { libc::syscall(libc::SYS_umask, mask) }
}

/// getppid(2) as the kernel answers it (a seccomp errno shows as -1): for
/// the seccomp tests.
#[cfg(test)]
pub(crate) fn getppid() -> i64 {
    // SAFETY: no pointer.
    unsafe { libc::syscall(libc::SYS_getppid) }
}

/// A system call made in place, without glibc's `syscall`: for code that
/// may just have dropped libc's pages (`resident`), and for a child that
/// shares its parent's memory and thread pointer while the parent goes on
/// (`spawn::start`), which must not write the parent's errno. The kernel's
/// raw result (-errno on failure; elsewhere than x86-64 and arm64 through
/// libc, where no child runs beside its parent: `clone3_with_entry` has no
/// entry there).
///
/// # Safety
/// The arguments must be valid for system call `nr`.
#[inline(always)]
pub unsafe fn inline_syscall(nr: usize, args: [usize; 5]) -> isize {
    let ret: isize;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the x86-64 system call convention; rcx and r11 are clobbered.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: the arm64 system call convention.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") nr,
            inlateout("x0") args[0] as isize => ret,
            in("x1") args[1],
            in("x2") args[2],
            in("x3") args[3],
            in("x4") args[4],
            options(nostack),
        );
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        // SAFETY: as promised by the caller.
        let r = unsafe {
            libc::syscall(
                nr as libc::c_long,
                args[0],
                args[1],
                args[2],
                args[3],
                args[4],
            )
        };
        ret = if r < 0 {
            -(super::errno() as isize)
        } else {
            r as isize
        };
    }
    ret
}
