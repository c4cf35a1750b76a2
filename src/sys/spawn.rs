//! Spawning a helper program: the one way this library starts its own
//! executables (the monitor, the attach helper). The child shares our
//! memory until its exec (no page table copy, whatever the caller's size)
//! and starts with the caller's signal handlers reset, so multi-threaded
//! callers are safe: made by clone3 with `CLONE_CLEAR_SIGHAND` where the
//! kernel has it, else by posix_spawn(3), whose child resets them one
//! system call at a time. A daemon (the monitor) is spawned detached:
//! from an intermediate that also shares our memory and exits at once.
//! A program can be started without waiting for its exec ([`start`]): the
//! caller goes on beside it, and the child, which then runs on our memory
//! while our thread does, writes nothing of ours until the exec but the
//! word telling why it failed (its system calls are made in place).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use super::anon_pages::AnonPages;
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
    /// Not our child (a daemon): spawned by an intermediate that exits at
    /// once (see `spawn_detached`).
    pub detached: bool,
}

/// Runs the executable `handle` (see `sealed_exe`) with `argv` and `envp`
/// (both NULL-terminated); the pid once it is executed. `what` names the
/// program in the error.
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
    // SAFETY: as the caller promised.
    unsafe { start_as(handle, argv, envp, setup, what, Beside::No) }?.finish()
}

/// As [`spawn`], without waiting for the exec: the caller goes on while
/// the program is executed (made by clone3 without `CLONE_VFORK`, the
/// kernel clearing a word of the launch at its exec; where clone3 is
/// refused, the exec is waited for here). The program is moved off
/// the caller's CPU, its affinity left as it was: a new task starts on its
/// parent's CPU, and a scheduler that keeps it there while another CPU
/// idles (this VM's does; its wake-ups land on the waker's CPU too) would
/// have the child's start-up wait for the caller's work, or, with the
/// caller waiting for the exec, the caller for the child's start-up: an
/// attach's helper and its caller ran one after the other, not side by
/// side.
///
/// # Safety
/// `envp` is a NULL-terminated array of C strings; the strings of `argv`
/// and `envp` stay live until the [`Spawning`] is finished or dropped.
pub unsafe fn start(
    handle: &impl AsRawFd,
    argv: &[*mut libc::c_char],
    envp: *const *mut libc::c_char,
    setup: &SpawnSetup<'_>,
    what: &str,
) -> Result<Spawning> {
    // SAFETY: as the caller promised.
    unsafe { start_as(handle, argv, envp, setup, what, Beside::Yes) }
}

/// Whether [`start_as`] may return before the exec.
#[derive(PartialEq, Clone, Copy)]
enum Beside {
    Yes,
    No,
}

/// # Safety
/// As [`start`].
unsafe fn start_as(
    handle: &impl AsRawFd,
    argv: &[*mut libc::c_char],
    envp: *const *mut libc::c_char,
    setup: &SpawnSetup<'_>,
    what: &str,
    beside: Beside,
) -> Result<Spawning> {
    // SAFETY: envp as the caller promised.
    let launch = Box::new(Launch {
        plan: unsafe { Plan::new(handle, argv, envp, setup, what) }?,
        running: AtomicU32::new(0),
        errno: AtomicI32::new(0),
    });
    // SAFETY: no argument.
    let caller_cpu = unsafe { libc::sched_getcpu() };
    // SAFETY: the launch stays where it is (boxed) and alive until the
    // Spawning has seen the exec; envp as above.
    let begun = unsafe {
        if setup.detached {
            spawn_detached(&launch, beside, caller_cpu)
        } else {
            launch.begin(beside, caller_cpu)
        }
    };
    let (pid, stack) = begun.map_err(|r| spawn_error(what, r))?;
    Ok(Spawning {
        launch,
        pid,
        stack,
        ours: !setup.detached,
        what: what.to_string(),
    })
}

/// A program [`start`] made that may not have reached its exec yet: until
/// then it runs on our memory (the launch, its stack), which this keeps
/// until [`Spawning::finish`] or the drop has seen the exec happen or
/// fail.
pub struct Spawning {
    launch: Box<Launch>,
    pid: libc::pid_t,
    /// The child's stack while it may be on it.
    stack: Option<AnonPages>,
    /// Our child (a detached one is its intermediate's: reaped by whoever
    /// adopts it).
    ours: bool,
    what: String,
}

impl Spawning {
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Waits for the exec: the pid, or why it failed (the child reaped
    /// if ours).
    pub fn finish(mut self) -> Result<libc::pid_t> {
        match self.stack.take() {
            Some(stack) => self
                .launch
                .exec_outcome(self.pid, stack, self.ours)
                .map_err(|e| spawn_error(&self.what, e)),
            None => Ok(self.pid),
        }
    }
}

impl Drop for Spawning {
    fn drop(&mut self) {
        if let Some(stack) = self.stack.take() {
            let _ = self.launch.exec_outcome(self.pid, stack, self.ours);
        }
    }
}

/// Moves the child `pid` off `cpu`, the caller's (see [`start`]): its
/// affinity narrowed to the others, then set back (the calling thread's,
/// which it inherited), which leaves it where the first moved it. Best
/// effort: a thread allowed one CPU only, or a policy refusing the calls,
/// leaves it where it is. No allocation: usable in the intermediate of
/// [`spawn_detached`].
fn move_off(pid: libc::pid_t, cpu: libc::c_int) {
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: affinity calls on our own child with local sets.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if cpu < 0
            || cpu as usize >= 8 * size
            || libc::sched_getaffinity(0, size, &mut allowed) != 0
        {
            return;
        }
        let mut elsewhere = allowed;
        libc::CPU_CLR(cpu as usize, &mut elsewhere);
        if libc::CPU_COUNT(&elsewhere) > 0 && libc::sched_setaffinity(pid, size, &elsewhere) == 0 {
            // A superset of what was just accepted: refused only if the
            // cpuset shrank meanwhile, which narrows the child anyway.
            libc::sched_setaffinity(pid, size, &allowed);
        }
    }
}

/// Runs `launch` so that the program is not our child: an intermediate
/// that shares our memory (no page table copy) spawns it and exits at
/// once, so it is reparented to the nearest subreaper (or init) at birth,
/// as a double fork leaves a daemon, without the daemon forking again
/// after its exec (and faulting its pages in a second time). Beside: the
/// intermediate does not wait for the program's exec either (see
/// [`start`]); the program's pid, and the stack it runs on until its exec.
///
/// # Safety
/// As [`Launch::run`]; beside, as [`Launch::clone_cleared`].
unsafe fn spawn_detached(
    launch: &Launch,
    beside: Beside,
    caller_cpu: libc::c_int,
) -> std::result::Result<(libc::pid_t, Option<AnonPages>), libc::c_int> {
    let mut shared = Detached {
        launch,
        beside,
        caller_cpu,
        spawned: Err(libc::ECHILD),
    };
    let stack =
        AnonPages::map(CHILD_STACK, true).map_err(|e| e.raw_os_error().unwrap_or(libc::ENOMEM))?;
    // Our signal handlers must never run in the intermediate, which runs
    // on our memory and our thread's TLS: it starts with every signal
    // blocked (posix_spawn sets the program's own mask and dispositions).
    let old_mask = block_all_signals();
    let saved_errno = super::errno();
    // SAFETY: CLONE_VM|CLONE_VFORK: this thread sleeps until the
    // intermediate has exited; it runs `spawn_from_intermediate` on its own
    // stack, which touches nothing but `shared`.
    let pid = unsafe {
        libc::clone(
            spawn_from_intermediate,
            stack.end(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &mut shared as *mut Detached<'_> as *mut libc::c_void,
        )
    };
    let clone_errno = super::errno();
    // SAFETY: restoring this thread's mask and errno as they were.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, &old_mask, std::ptr::null_mut());
        *libc::__errno_location() = saved_errno;
    }
    if pid < 0 {
        return Err(clone_errno);
    }
    // Reaping the intermediate, which has exited (a caller that ignores
    // SIGCHLD has it reaped already: ECHILD).
    let _ = super::wait_status(pid, libc::__WALL);
    shared.spawned
}

/// The stack of the intermediate (what posix_spawn needs: it maps the
/// program's own) and of the child of `clone_cleared`.
const CHILD_STACK: usize = 64 * 1024;

/// What the intermediate of [`spawn_detached`] reads and answers.
struct Detached<'a> {
    launch: &'a Launch,
    beside: Beside,
    /// The CPU the caller ran on: the program is moved off it.
    caller_cpu: libc::c_int,
    /// The program's pid (and its stack while beside), or the error number.
    spawned: std::result::Result<(libc::pid_t, Option<AnonPages>), libc::c_int>,
}

/// The intermediate: spawns the program and returns (glibc's clone then
/// ends it). No allocation, no lock: it shares the caller's memory while
/// the caller's other threads run.
extern "C" fn spawn_from_intermediate(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `Detached` of `spawn_detached`, alive until we
    // exit (its thread sleeps until then).
    let shared = unsafe { &mut *(arg as *mut Detached<'_>) };
    // SAFETY: as `spawn_detached`'s caller promised.
    shared.spawned = unsafe { shared.launch.begin(shared.beside, shared.caller_cpu) };
    0
}

fn spawn_error(what: &str, errno: libc::c_int) -> Error {
    Error::new(
        errno,
        format!(
            "Failed to run {what}: {}",
            std::io::Error::from_raw_os_error(errno)
        ),
    )
}

/// A posix_spawn made ready: the descriptors copied above every target,
/// the file actions and attributes, the arguments. Running it allocates
/// nothing.
struct Plan {
    actions: libc::posix_spawn_file_actions_t,
    attr: libc::posix_spawnattr_t,
    program: std::ffi::CString,
    /// Copies of the NULL-terminated pointer arrays given.
    argv: Vec<*mut libc::c_char>,
    envp: Vec<*mut libc::c_char>,
    /// The copies the file actions name, open until the spawn is over.
    handle: OwnedFd,
    sources: Vec<OwnedFd>,
    /// What the file actions and attributes say, for the child made
    /// without posix_spawn (see `clone_cleared`).
    targets: Vec<RawFd>,
    slot: RawFd,
    mask: libc::sigset_t,
    default_all_signals: bool,
}

impl Plan {
    /// # Safety
    /// `envp` is a NULL-terminated array.
    unsafe fn new(
        handle: &impl AsRawFd,
        argv: &[*mut libc::c_char],
        envp: *const *mut libc::c_char,
        setup: &SpawnSetup<'_>,
        what: &str,
    ) -> Result<Plan> {
        if argv.last().is_none_or(|p| !p.is_null()) {
            return Err(Error::invalid("argv must end with NULL"));
        }
        let mut env = Vec::new();
        // SAFETY: as the caller promised, up to and with its NULL.
        unsafe {
            let mut at = envp;
            while !(*at).is_null() {
                env.push(*at);
                at = at.add(1);
            }
        }
        env.push(std::ptr::null_mut());
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
            .map(|&(from, _)| above(from))
            .collect::<Result<Vec<_>>>()?;
        // SAFETY: the objects are initialized here and destroyed on drop.
        unsafe {
            let mut plan = Plan {
                actions: std::mem::zeroed(),
                attr: std::mem::zeroed(),
                program: super::sealed_exe::exec_path(&slot),
                argv: argv.to_vec(),
                envp: env,
                handle,
                sources,
                targets: setup.dup2.iter().map(|&(_, to)| to).collect(),
                slot,
                mask: std::mem::zeroed(),
                default_all_signals: setup.default_all_signals,
            };
            libc::posix_spawn_file_actions_init(&mut plan.actions);
            libc::posix_spawnattr_init(&mut plan.attr);
            for (from, &(_, to)) in plan.sources.iter().zip(setup.dup2) {
                libc::posix_spawn_file_actions_adddup2(&mut plan.actions, from.as_raw_fd(), to);
            }
            // Exec runs the handle through its path, after the file actions.
            libc::posix_spawn_file_actions_adddup2(
                &mut plan.actions,
                plan.handle.as_raw_fd(),
                slot,
            );
            libc::posix_spawn_file_actions_addclosefrom_np(&mut plan.actions, slot + 1);
            let mut mask: libc::sigset_t = std::mem::zeroed();
            if setup.block_all_signals {
                libc::sigfillset(&mut mask);
            } else {
                libc::sigemptyset(&mut mask);
            }
            libc::posix_spawnattr_setsigmask(&mut plan.attr, &mask);
            plan.mask = mask;
            let mut flags = libc::POSIX_SPAWN_SETSIGMASK;
            if setup.default_all_signals {
                let mut all: libc::sigset_t = std::mem::zeroed();
                libc::sigfillset(&mut all);
                libc::posix_spawnattr_setsigdefault(&mut plan.attr, &all);
                flags |= libc::POSIX_SPAWN_SETSIGDEF;
            }
            libc::posix_spawnattr_setflags(&mut plan.attr, flags as libc::c_short);
            Ok(plan)
        }
    }

    /// The child's side of `Launch::clone_cleared`: posix_spawn's file
    /// actions and mask, then the exec; the errno of what failed. It runs
    /// on our memory while the caller may go on, so it writes nothing of
    /// the caller's (errno included: raw system calls only).
    fn exec_in_child(&self) -> libc::c_int {
        // SAFETY: system calls on the child's own descriptors, mask and
        // image; the pointers are the plan's, alive while it runs.
        let call = |nr: libc::c_long, args: [usize; 4]| unsafe {
            super::raw::inline_syscall(nr as usize, [args[0], args[1], args[2], args[3], 0])
        };
        for (from, &to) in self.sources.iter().zip(&self.targets) {
            // The sources are copies numbered above every target, so never
            // equal to one.
            let r = call(
                libc::SYS_dup3,
                [from.as_raw_fd() as usize, to as usize, 0, 0],
            );
            if r < 0 {
                return -r as libc::c_int;
            }
        }
        let r = call(
            libc::SYS_dup3,
            [self.handle.as_raw_fd() as usize, self.slot as usize, 0, 0],
        );
        if r < 0 {
            return -r as libc::c_int;
        }
        call(
            libc::SYS_close_range,
            [self.slot as usize + 1, u32::MAX as usize, 0, 0],
        );
        if self.default_all_signals {
            // What posix_spawn's POSIX_SPAWN_SETSIGDEF does: the ignored
            // ones too (`CLONE_CLEAR_SIGHAND` reset the handled ones).
            let default = KernelSigaction::default();
            for signal in 1..=64 {
                if signal != libc::SIGKILL && signal != libc::SIGSTOP {
                    call(
                        libc::SYS_rt_sigaction,
                        [
                            signal as usize,
                            &default as *const KernelSigaction as usize,
                            0,
                            8,
                        ],
                    );
                }
            }
        }
        call(
            libc::SYS_rt_sigprocmask,
            [
                libc::SIG_SETMASK as usize,
                &self.mask as *const libc::sigset_t as usize,
                0,
                8,
            ],
        );
        let r = call(
            libc::SYS_execve,
            [
                self.program.as_ptr() as usize,
                self.argv.as_ptr() as usize,
                self.envp.as_ptr() as usize,
                0,
            ],
        );
        (-r as libc::c_int).max(1)
    }
}

/// The kernel's `struct sigaction` (handler, flags, restorer, mask);
/// zeroed, SIG_DFL.
#[repr(C)]
#[derive(Default)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// A plan and what its child made without posix_spawn answers through
/// our shared memory.
struct Launch {
    plan: Plan,
    /// Nonzero until the child's exec or exit, when the kernel clears it
    /// and wakes its futex (`CLONE_CHILD_CLEARTID`, as for a thread's end).
    running: AtomicU32,
    /// Why the exec did not happen; 0 while it has not failed.
    errno: AtomicI32,
}

impl Launch {
    /// The spawn. Beside: not waited for, the child moved off `caller_cpu`
    /// (the pid, and the stack it runs on until its exec); else (or where
    /// clone3 is refused) waited for until the exec (the pid).
    ///
    /// # Safety
    /// As [`Launch::clone_cleared`].
    unsafe fn begin(
        &self,
        beside: Beside,
        caller_cpu: libc::c_int,
    ) -> std::result::Result<(libc::pid_t, Option<AnonPages>), libc::c_int> {
        if beside == Beside::Yes {
            // SAFETY: as our caller promised.
            if let Some(started) = unsafe { self.clone_cleared() } {
                let (pid, stack) = started?;
                move_off(pid, caller_cpu);
                return Ok((pid, Some(stack)));
            }
        }
        // SAFETY: as our caller promised.
        unsafe { self.run() }.map(|pid| (pid, None))
    }

    /// The spawn, waited for until the exec.
    ///
    /// # Safety
    /// The strings of the plan's argv and envp are live.
    unsafe fn run(&self) -> std::result::Result<libc::pid_t, libc::c_int> {
        // SAFETY: as promised by our caller; waited for before return.
        if let Some(started) = unsafe { self.clone_cleared() } {
            let (pid, stack) = started?;
            return self.exec_outcome(pid, stack, true);
        }
        let mut pid: libc::pid_t = 0;
        // SAFETY: initialized objects of ours; argv and envp as promised.
        let r = unsafe {
            libc::posix_spawn(
                &mut pid,
                self.plan.program.as_ptr(),
                &self.plan.actions,
                &self.plan.attr,
                self.plan.argv.as_ptr(),
                self.plan.envp.as_ptr(),
            )
        };
        if r == 0 {
            Ok(pid)
        } else {
            Err(r)
        }
    }

    /// The spawn without posix_spawn, whose child resets the caller's
    /// signal handlers one system call at a time (a query for every signal
    /// and a reset for each handled one: 120 calls from a caller that
    /// handles them all, as Go's runtime does): a `CLONE_VM` child created
    /// with `CLONE_CLEAR_SIGHAND` has them reset by the kernel, and ignored
    /// signals stay ignored, as posix_spawn leaves them. Not waited for
    /// (no `CLONE_VFORK`): the pid and the stack the child runs on until
    /// its exec, which [`Launch::exec_outcome`] waits for. None where
    /// clone3 refuses (old kernels, seccomp policies): posix_spawn then.
    ///
    /// # Safety
    /// As [`Launch::run`]; `self` stays where it is, alive, until
    /// `exec_outcome` returned.
    unsafe fn clone_cleared(
        &self,
    ) -> Option<std::result::Result<(libc::pid_t, AnonPages), libc::c_int>> {
        // Refused once (an older kernel, a seccomp policy), refused for good.
        static REFUSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if REFUSED.load(Ordering::Relaxed) {
            return None;
        }
        let stack = AnonPages::map(CHILD_STACK, true).ok()?;
        self.running.store(1, Ordering::Relaxed);
        self.errno.store(0, Ordering::Relaxed);
        let args = super::clone::CloneArgs {
            flags: (libc::CLONE_VM | libc::CLONE_CHILD_CLEARTID) as u64
                | super::clone::CLONE_CLEAR_SIGHAND,
            child_tid: self.running.as_ptr() as u64,
            exit_signal: libc::SIGCHLD as u64,
            stack: stack.base() as u64,
            stack_size: stack.size() as u64,
            ..Default::default()
        };
        // Our handlers must never run in the child, which runs on our
        // memory and our thread's TLS: it starts with every signal blocked
        // and sets the program's mask just before the exec.
        let old_mask = block_all_signals();
        let saved_errno = super::errno();
        // SAFETY: the child runs `exec_launch` on its own stack, touching
        // nothing but `self` (alive and in place until its exec or exit,
        // as our caller promised).
        let pid = unsafe {
            super::clone::clone3_with_entry(
                &args,
                exec_launch,
                self as *const Launch as *mut libc::c_void,
            )
        };
        // SAFETY: restoring this thread's mask and errno as they were.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &old_mask, std::ptr::null_mut());
            *libc::__errno_location() = saved_errno;
        }
        if pid < 0 {
            let errno = -pid as libc::c_int;
            if matches!(errno, libc::ENOSYS | libc::EINVAL | libc::EPERM) {
                REFUSED.store(true, Ordering::Relaxed);
                return None;
            }
            return Some(Err(errno));
        }
        Some(Ok((pid as libc::pid_t, stack)))
    }

    /// Waits until the child of `clone_cleared` has executed its program
    /// or exited, then frees its stack: the pid, or the exec's errno (the
    /// child reaped if `ours`: a detached one is not, and its pid may be
    /// another's by now).
    fn exec_outcome(
        &self,
        pid: libc::pid_t,
        stack: AnonPages,
        ours: bool,
    ) -> std::result::Result<libc::pid_t, libc::c_int> {
        while self.running.load(Ordering::Acquire) != 0 {
            // A shared futex: the kernel's wake at the child's exec or exit
            // is not a private one.
            // SAFETY: waiting on our own word while it still holds 1.
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    self.running.as_ptr(),
                    libc::FUTEX_WAIT,
                    1u32,
                    std::ptr::null::<libc::timespec>(),
                )
            };
        }
        drop(stack);
        let failed = self.errno.load(Ordering::Acquire);
        if failed != 0 {
            if ours {
                // Reaping the child that could not exec.
                let _ = super::wait_status(pid, libc::__WALL);
            }
            return Err(failed);
        }
        Ok(pid)
    }
}

/// The child of `clone_cleared`: execs, or records why not and exits.
/// No allocation, no lock, no errno: it shares the caller's memory and
/// thread pointer while the caller goes on.
unsafe extern "C" fn exec_launch(arg: *mut libc::c_void) -> ! {
    // SAFETY: `arg` is the parent's `Launch`, alive until we are gone.
    let launch = unsafe { &*(arg as *const Launch) };
    let errno = launch.plan.exec_in_child();
    launch.errno.store(errno, Ordering::Release);
    loop {
        // SAFETY: ending this child only (it is not a thread of ours); the
        // kernel then clears `running` and wakes the parent.
        unsafe { super::raw::inline_syscall(libc::SYS_exit as usize, [127, 0, 0, 0, 0]) };
    }
}

/// Blocks every signal of this thread; the mask it had.
fn block_all_signals() -> libc::sigset_t {
    // SAFETY: plain signal-mask calls on this thread with local sets.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    }
}

impl Drop for Plan {
    fn drop(&mut self) {
        // SAFETY: initialized in `new`, destroyed once.
        unsafe {
            libc::posix_spawn_file_actions_destroy(&mut self.actions);
            libc::posix_spawnattr_destroy(&mut self.attr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The argv and envp of `sh -c script` with a PATH.
    fn sh_c(script: &'static std::ffi::CStr) -> ([*mut libc::c_char; 4], [*mut libc::c_char; 2]) {
        let argv = [
            c"sh".as_ptr() as *mut libc::c_char,
            c"-c".as_ptr() as *mut libc::c_char,
            script.as_ptr() as *mut libc::c_char,
            std::ptr::null_mut(),
        ];
        let envp = [
            c"PATH=/usr/bin:/bin".as_ptr() as *mut libc::c_char,
            std::ptr::null_mut(),
        ];
        (argv, envp)
    }

    /// A detached program is not our child, runs with what the setup
    /// gave it (every signal back to its default, ignored ones included,
    /// as posix_spawn's SETSIGDEF leaves them), and an exec failure is
    /// reported, whether the spawn waited for the exec or not.
    #[test]
    fn detached_programs_are_not_our_children() {
        for beside in [Beside::No, Beside::Yes] {
            detached_program_is_not_our_child(beside);
        }
    }

    fn detached_program_is_not_our_child(beside: Beside) {
        let handle = crate::sys::sealed_exe::sealed_copy(std::path::Path::new("/bin/sh")).unwrap();
        let (r, w) = crate::sys::pipe("a test pipe").unwrap();
        // Its own status, read by what it execs (a shell waiting for a
        // child blocks every signal meanwhile).
        let script = c"sleep 0.2; exec grep -E '^(PPid|SigBlk|SigIgn)' /proc/self/status >&5";
        let (argv, envp) = sh_c(script);
        let setup = SpawnSetup {
            dup2: &[(w.as_raw_fd(), 5)],
            handle_slot: 6,
            block_all_signals: false,
            default_all_signals: true,
            detached: true,
        };
        let ignored = libc::SIGRTMIN() + 7;
        // SAFETY: the disposition of a real-time signal no test uses.
        let before = unsafe { libc::signal(ignored, libc::SIG_IGN) };
        // SAFETY: static strings, a NULL-terminated environment.
        let started = unsafe { start_as(&handle, &argv, envp.as_ptr(), &setup, "sh", beside) };
        let started = started.unwrap();
        // Made by clone3 (not posix_spawn) and not waited for, or waited for.
        assert_eq!(started.stack.is_some(), beside == Beside::Yes);
        let pid = started.finish().unwrap();
        // SAFETY: as above.
        unsafe { libc::signal(ignored, before) };
        drop(w);
        // SAFETY: asking about a pid that must not be our child.
        let r_wait = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
        assert_eq!((r_wait, crate::sys::errno()), (-1, libc::ECHILD));
        let mut out = String::new();
        std::io::Read::read_to_string(&mut std::fs::File::from(r), &mut out).unwrap();
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        assert!(out.contains("SigBlk:\t0000000000000000"), "{out}");
        let ignoring = out
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:\t"))
            .unwrap();
        let ignoring = u64::from_str_radix(ignoring.trim(), 16).unwrap();
        assert_eq!(ignoring & (1 << (ignored - 1)), 0, "{out}");
        let ppid = out.lines().find_map(|l| l.strip_prefix("PPid:\t")).unwrap();
        assert_ne!(ppid.trim().parse::<i32>().unwrap(), me, "{out}");
        // A handle that cannot be executed: the exec's error comes back.
        let text =
            crate::sys::sealed_exe::sealed_copy(std::path::Path::new("/etc/passwd")).unwrap();
        let setup = SpawnSetup { dup2: &[], ..setup };
        // SAFETY: as above.
        let failed =
            unsafe { start_as(&text, &argv, envp.as_ptr(), &setup, "a text file", beside) }
                .and_then(Spawning::finish);
        assert_eq!(failed.unwrap_err().errno, libc::ENOEXEC);
    }

    /// A source may sit on another's target, the handle included (a
    /// process with only fds 0-2 open gets its first descriptors at 3, 4).
    #[test]
    fn descriptors_numbered_like_targets_arrive_intact() {
        let handle = crate::sys::sealed_exe::sealed_copy(std::path::Path::new("/bin/sh")).unwrap();
        let (r, w) = crate::sys::pipe("a test pipe").unwrap();
        // The pipe goes where the handle is: taken in order, the handle
        // would be overwritten before it reaches its slot.
        let target = handle.as_raw_fd();
        // Through /proc: dash's `>&N` takes one digit, and tests running
        // alongside may hold descriptors up to 10 and beyond.
        let script =
            std::ffi::CString::new(format!("echo through >/proc/self/fd/{target}")).unwrap();
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
            detached: false,
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

    /// The child made without posix_spawn (its handlers cleared by the
    /// kernel, the caller going on beside it) gets what posix_spawn gives:
    /// the descriptors, an empty mask, the signals we ignore still ignored,
    /// our CPUs (moved off ours, its affinity is set back); an exec failure
    /// comes back with its errno when the start is finished.
    #[test]
    fn a_child_started_beside_us_gets_what_posix_spawn_gives() {
        extern "C" fn nothing(_: libc::c_int) {}
        let handle = crate::sys::sealed_exe::sealed_copy(std::path::Path::new("/bin/sh")).unwrap();
        let (r, w) = crate::sys::pipe("a test pipe").unwrap();
        let script = c"exec grep -E '^(SigBlk|SigIgn|Cpus_allowed)' /proc/self/status >&5";
        let (argv, envp) = sh_c(script);
        let setup = SpawnSetup {
            dup2: &[(w.as_raw_fd(), 5)],
            handle_slot: 6,
            block_all_signals: false,
            default_all_signals: false,
            detached: false,
        };
        let (ignored, handled) = (libc::SIGRTMIN() + 6, libc::SIGRTMIN() + 5);
        // SAFETY: dispositions of two real-time signals no test uses.
        let before = unsafe {
            (
                libc::signal(ignored, libc::SIG_IGN),
                libc::signal(handled, nothing as *const () as libc::sighandler_t),
            )
        };
        // SAFETY: static strings, a NULL-terminated environment.
        let started = unsafe { start(&handle, &argv, envp.as_ptr(), &setup, "sh") }.unwrap();
        assert!(started.stack.is_some(), "made by clone3, not posix_spawn");
        let pid = started.finish().unwrap();
        // SAFETY: as above.
        unsafe {
            libc::signal(ignored, before.0);
            libc::signal(handled, before.1);
        }
        drop(w);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut std::fs::File::from(r), &mut out).unwrap();
        let mut status = 0;
        // SAFETY: our child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{out}"
        );
        assert!(out.contains("SigBlk:\t0000000000000000"), "{out}");
        let ignoring = out
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:\t"))
            .unwrap();
        let ignoring = u64::from_str_radix(ignoring.trim(), 16).unwrap();
        assert_ne!(ignoring & (1 << (ignored - 1)), 0, "{out}");
        let ours = crate::sys::procfs::read("/proc/thread-self/status").unwrap();
        let cpus = |s: &str| {
            s.lines()
                .find(|l| l.starts_with("Cpus_allowed_list:"))
                .map(str::to_string)
        };
        assert_eq!(cpus(&out), cpus(&ours), "{out}");

        let text =
            crate::sys::sealed_exe::sealed_copy(std::path::Path::new("/etc/passwd")).unwrap();
        let setup = SpawnSetup { dup2: &[], ..setup };
        // SAFETY: as above.
        let started = unsafe { start(&text, &argv, envp.as_ptr(), &setup, "a text file") };
        assert_eq!(started.unwrap().finish().unwrap_err().errno, libc::ENOEXEC);
        // Dropped unfinished: waited for all the same (and reaped).
        // SAFETY: as above.
        drop(unsafe { start(&text, &argv, envp.as_ptr(), &setup, "a text file") }.unwrap());
    }
}
