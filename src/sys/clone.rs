//! clone3(2): a fork-like form (the child returns on a copy of the
//! caller's stack) and, on x86_64, a vfork-like form (the child shares the
//! caller's memory and runs a function on a stack of its own).

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

/// The function a [`clone3_vm`] child runs; it must never return.
pub type VmChildFn = unsafe extern "C" fn(*mut libc::c_void) -> !;

/// Whether [`clone3_vm`] exists on this architecture.
pub const HAS_CLONE3_VM: bool = cfg!(target_arch = "x86_64");

/// clone3 with `args.flags` (which should hold CLONE_VM|CLONE_VFORK) and
/// the stack `args.stack`/`args.stack_size`: the child runs `child(arg)`
/// on that stack, in the caller's memory; returns the pid or -1 (errno).
///
/// The child shares the caller's memory: it must only make raw syscalls
/// on data prepared before, with every signal blocked (a handler would run
/// on the caller's memory), and end with `_exit` or `execve`. With
/// CLONE_VFORK the caller resumes only then, which is what makes it cheap:
/// no page table is copied.
///
/// # Safety
/// `args.stack` points to a writable region of `args.stack_size` bytes
/// whose end is 16-byte aligned, used by nothing else until the child is
/// gone; `child` and `arg` follow the rules above.
#[cfg(target_arch = "x86_64")]
pub unsafe fn clone3_vm(args: &mut CloneArgs, child: VmChildFn, arg: *mut libc::c_void) -> i64 {
    let ret: i64;
    // The kernel starts the child at the instruction after `syscall` with
    // rsp at the top of its stack and every register but rax, rcx and r11
    // as the caller's: r12/r13 carry the function and its argument.
    std::arch::asm!(
        "syscall",
        "test rax, rax",
        "jnz 2f",
        "xor ebp, ebp",
        "mov rdi, r13",
        "call r12",
        "ud2",
        "2:",
        inlateout("rax") libc::SYS_clone3 => ret,
        in("rdi") args as *mut CloneArgs,
        in("rsi") std::mem::size_of::<CloneArgs>(),
        in("r12") child,
        in("r13") arg,
        lateout("rcx") _,
        lateout("r11") _,
    );
    if ret < 0 {
        *libc::__errno_location() = (-ret) as i32;
        return -1;
    }
    ret
}

/// Architectures without the assembly: always ENOSYS (callers check
/// [`HAS_CLONE3_VM`] and take their fork-like path).
///
/// # Safety
/// None needed; present for the signature.
#[cfg(not(target_arch = "x86_64"))]
pub unsafe fn clone3_vm(_args: &mut CloneArgs, _child: VmChildFn, _arg: *mut libc::c_void) -> i64 {
    *libc::__errno_location() = libc::ENOSYS;
    -1
}

/// Stacks for [`clone3_vm`] children: one anonymous mapping cut into
/// `count` stacks, each with an inaccessible guard page below it. Pages
/// are only backed once touched, so the size costs nothing.
pub struct VmStacks {
    base: *mut libc::c_void,
    len: usize,
    each: usize,
}

impl VmStacks {
    pub fn new(count: usize, each: usize) -> Result<VmStacks> {
        let page = 4096;
        let len = count * (each + page);
        // SAFETY: a fresh private anonymous mapping.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(Error::last_os(
                "Failed to map stacks for the attach processes",
            ));
        }
        let stacks = VmStacks { base, len, each };
        for i in 0..count {
            // SAFETY: a page inside our mapping.
            let guard = unsafe { (base as *mut u8).add(i * (each + page)) };
            // SAFETY: as above.
            if unsafe { libc::mprotect(guard as *mut libc::c_void, page, libc::PROT_NONE) } < 0 {
                return Err(Error::last_os("Failed to protect a stack guard page"));
            }
        }
        Ok(stacks)
    }

    /// Sets `args.stack`/`stack_size` to stack number `i`.
    pub fn assign(&self, i: usize, args: &mut CloneArgs) {
        let page = 4096;
        let start = self.base as usize + i * (self.each + page) + page;
        args.stack = start as u64;
        args.stack_size = self.each as u64;
    }
}

impl Drop for VmStacks {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used by any child.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" fn child_exit(arg: *mut libc::c_void) -> ! {
        // The caller's memory is shared: this store is seen by the test.
        *(arg as *mut i32) = 42;
        libc::_exit(7)
    }

    #[test]
    fn vm_child_shares_memory_and_exits() {
        if !HAS_CLONE3_VM {
            return;
        }
        let stacks = VmStacks::new(1, 64 * 1024).unwrap();
        let mut args = CloneArgs::new(libc::CLONE_VM | libc::CLONE_VFORK, None);
        stacks.assign(0, &mut args);
        let mut seen = 0i32;
        // SAFETY: the child only stores and exits.
        let pid = unsafe {
            clone3_vm(
                &mut args,
                child_exit,
                &mut seen as *mut i32 as *mut libc::c_void,
            )
        };
        assert!(pid > 0, "clone3_vm: {}", std::io::Error::last_os_error());
        let mut status = 0;
        // SAFETY: our child.
        assert_eq!(
            unsafe { libc::waitpid(pid as i32, &mut status, 0) },
            pid as i32
        );
        assert_eq!(seen, 42);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 7);
    }
}
