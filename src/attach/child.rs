//! What runs after fork: the intermediate process (joins the container's
//! cgroups, enters its namespaces, creates the attached process with
//! CLONE_PARENT so that it is the caller's child) and the attached process
//! (drops privileges, sets up stdio, runs the payload).
//!
//! The caller may be multi-threaded, so everything here is async-signal
//! safe: raw syscalls on data prepared before the fork, no allocation, no
//! locks, no formatting, no panics. Failures are reported to the caller
//! as (step, errno) messages on the socket.
//!
//! Two ways to create the intermediate (see `helper.rs`): running a
//! program, it is a fresh exec of our helper, which receives this plan; an
//! exec function needs a copy of the caller, so the intermediate is a
//! fork() of it (glibc's fork handlers run, so the function may use
//! malloc). Either way the attached process is a fork-like clone3 of the
//! intermediate, never sharing memory with anything on the host, and
//! non-dumpable until it executes its program (see `docs/security.md`).

use std::os::fd::RawFd;

use libc::{c_char, c_int, c_void};

use super::command::CommandPlan;
use crate::sys::clone::{self as sysclone, CloneArgs};
use crate::sys::{errno, raw};

/// Messages on the attach socket: `[tag, a, b]` as native i32.
pub const MSG_LEN: usize = 12;
/// Intermediate: the attached process's pid in `a`.
pub const MSG_PID: i32 = 1;
/// Intermediate failed at step `a` with errno `b`.
pub const MSG_INTERMEDIATE_FAILED: i32 = 2;
/// The attached process is about to run the payload.
pub const MSG_READY: i32 = 3;
/// The attached process failed at step `a` with errno `b`.
pub const MSG_ATTACHED_FAILED: i32 = 4;
/// The attached process's seccomp listener, as SCM_RIGHTS (before READY).
pub const MSG_LISTENER: i32 = 5;

pub const STEP_WAIT: i32 = 1;
pub const STEP_CLONE: i32 = 2;
pub const STEP_REMOUNT: i32 = 3;
pub const STEP_PERSONALITY: i32 = 4;
pub const STEP_CAPS: i32 = 5;
pub const STEP_CTTY: i32 = 6;
pub const STEP_SETGROUPS: i32 = 7;
pub const STEP_SETUP_IDS: i32 = 8;
pub const STEP_NO_NEW_PRIVS: i32 = 9;
pub const STEP_STDIO: i32 = 10;
pub const STEP_SETGID: i32 = 11;
pub const STEP_SETUID: i32 = 12;
pub const STEP_SECCOMP: i32 = 13;
pub const STEP_TERMINAL: i32 = 14;
pub const STEP_CGROUP: i32 = 15;
pub const STEP_PLAN: i32 = 16;
/// Entering namespace `NAMESPACES[step - STEP_SETNS]`.
pub const STEP_SETNS: i32 = 100;

/// Human words for a step number.
pub fn step_name(step: i32) -> String {
    if step >= STEP_SETNS {
        let name = super::options::NAMESPACES
            .get((step - STEP_SETNS) as usize)
            .map_or("?", |n| n.1);
        return format!("entering the {name} namespace");
    }
    match step {
        STEP_WAIT => "waiting for the cgroup setup",
        STEP_CLONE => "creating the attached process",
        STEP_REMOUNT => "remounting /proc and /sys",
        STEP_PERSONALITY => "setting the personality",
        STEP_CAPS => "dropping capabilities",
        STEP_CTTY => "making stdin the controlling terminal",
        STEP_SETGROUPS => "setting supplementary groups",
        STEP_SETUP_IDS => "switching to the user namespace's root",
        STEP_NO_NEW_PRIVS => "setting no_new_privs",
        STEP_STDIO => "setting up stdin/stdout/stderr",
        STEP_SETGID => "switching gid",
        STEP_SETUID => "switching uid",
        STEP_SECCOMP => "loading the container's seccomp policy",
        STEP_TERMINAL => "making the new pty the controlling terminal",
        STEP_CGROUP => "joining the container's cgroups",
        STEP_PLAN => "receiving the attach plan",
        _ => "an unknown step",
    }
    .to_string()
}

pub type ExecFn = unsafe extern "C" fn(*mut c_void) -> c_int;

/// What the attached process runs once set up.
pub enum Exec {
    /// attach()'s exec_function with its payload.
    Function(ExecFn, *mut c_void),
    /// A program (attach_run_wait, lxc_attach_run_command).
    Command(*const CommandPlan),
}

/// Everything the children need, prepared before the fork.
pub struct Plan {
    /// The child's end of the socket pair.
    pub sock: RawFd,
    /// The caller's end (closed first thing).
    pub parent_sock: RawFd,
    /// The container's v1 cgroup directories (O_PATH), joined by the
    /// intermediate itself: a thread writing "0" to `tasks` is the one
    /// migration the kernel makes without write-locking its global
    /// cgroup_threadgroup_rwsem, whose first writer after a quiet spell
    /// waits out an RCU grace period (~15 ms here).
    pub cgroup_v1: Vec<RawFd>,
    /// The container's v2 cgroup (-1: none, or not moving), where the
    /// attached process is born (CLONE_INTO_CGROUP, no lock either).
    pub cgroup_v2: RawFd,
    /// Whether a v2 cgroup refusing the process is tolerated (hybrid).
    pub v2_optional: bool,
    /// (fd, CLONE_NEW* flag, index in NAMESPACES), in entering order.
    pub ns_fds: Vec<(RawFd, c_int, i32)>,
    /// Further descriptors to close before creating the attached process.
    pub close_fds: Vec<RawFd>,
    pub cwd: Option<std::ffi::CString>,
    pub remount_proc_sys: bool,
    pub personality: Option<libc::c_ulong>,
    pub drop_caps: Vec<u32>,
    /// NULL-terminated, pointing into strings kept alive by the caller.
    pub envp: *const *const c_char,
    pub make_ctty: bool,
    /// Some: set these groups; None: drop all (EPERM tolerated).
    pub groups: Option<Vec<libc::gid_t>>,
    /// (uid, gid) to switch to right after entering a user namespace.
    pub setup_ids: Option<(u32, u32)>,
    pub no_new_privs: bool,
    pub stdio: [c_int; 3],
    /// LXC_ATTACH_TERMINAL: the new pty's slave; -1 without.
    pub terminal: RawFd,
    /// Final ids; u32::MAX = leave alone.
    pub target_uid: u32,
    pub target_gid: u32,
    /// The container's seccomp filter (LXC_ATTACH_LSM), compiled.
    pub seccomp: Option<crate::seccomp::Filter>,
    pub exec: Exec,
    /// The mask the payload runs with (None: the one inherited).
    pub sigmask: Option<libc::sigset_t>,
}

extern "C" {
    static mut environ: *const *const c_char;
}

fn send(sock: RawFd, tag: i32, a: i32, b: i32) {
    let mut buf = [0u8; MSG_LEN];
    let words = [tag, a, b];
    let mut i = 0;
    while i < 3 {
        let bytes = words[i].to_ne_bytes();
        let mut j = 0;
        while j < 4 {
            buf[i * 4 + j] = bytes[j];
            j += 1;
        }
        i += 1;
    }
    // SAFETY: a write of our stack buffer; failures leave the caller to
    // notice our exit.
    unsafe {
        libc::send(
            sock,
            buf.as_ptr() as *const c_void,
            MSG_LEN,
            libc::MSG_NOSIGNAL,
        )
    };
}

/// A message carrying `fd` (no allocation on success: runs after fork).
fn send_fd(sock: RawFd, tag: i32, fd: RawFd) {
    let mut buf = [0u8; MSG_LEN];
    buf[..4].copy_from_slice(&tag.to_ne_bytes());
    // A failure leaves the caller without the listener: the notified
    // syscalls then fail with ENOSYS, as with no proxy.
    let _ = crate::sys::socket::send_with_fd(&sock, &buf, fd);
}

fn fail(sock: RawFd, tag: i32, step: i32) -> ! {
    send(sock, tag, step, errno());
    // SAFETY: leaving the child without running atexit handlers.
    unsafe { libc::_exit(1) }
}

/// Reports that the intermediate failed at `step` with `errno`.
pub fn report_failure(sock: RawFd, step: i32, errno: i32) {
    send(sock, MSG_INTERMEDIATE_FAILED, step, errno);
}

/// Writes "0" (the caller itself) into `file` below the cgroup directory
/// `dir`: `tasks` of a v1 hierarchy (see `Plan::cgroup_v1`), or
/// `cgroup.procs` of the v2 one when the process could not be born there.
unsafe fn join_cgroup(dir: RawFd, file: &std::ffi::CStr) -> bool {
    let fd = libc::openat(
        dir,
        file.as_ptr(),
        libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
    );
    if fd < 0 {
        return false;
    }
    let ok = libc::write(fd, b"0".as_ptr() as *const c_void, 1) == 1;
    libc::close(fd);
    ok
}

/// Creates the attached process (in the container's v2 cgroup when there
/// is one): its pid, 0 in the child, -1 on failure;
/// and whether the child must still join the v2 cgroup itself (a kernel
/// or seccomp policy without clone3: the old clone cannot place it).
unsafe fn create_attached(plan: &Plan) -> (i64, bool) {
    let flags = libc::CLONE_PARENT;
    let create = |cgroup: Option<RawFd>| sysclone::clone3_raw(&mut CloneArgs::new(flags, cgroup));
    let v2 = (plan.cgroup_v2 >= 0).then_some(plan.cgroup_v2);
    let pid = create(v2);
    if pid >= 0 {
        return (pid, false);
    }
    if errno() == libc::ENOSYS {
        let pid = sysclone::clone_old(flags, std::ptr::null_mut());
        return (pid, v2.is_some());
    }
    if v2.is_some() && plan.v2_optional {
        // The nearly empty v2 tree of a hybrid host may refuse it.
        return (create(None), false);
    }
    (pid, false)
}

/// The intermediate process: runs right after fork() and never returns.
///
/// # Safety
/// Called only in the freshly forked child or the helper; `plan` was
/// built by the parent.
pub unsafe fn intermediate(plan: &Plan) -> ! {
    let sock = plan.sock;
    libc::close(plan.parent_sock);
    // Inherited by the attached process until it executes its program:
    // a root inside without CAP_SYS_PTRACE over the host then cannot open
    // its /proc/<pid>/exe, mem or fd.
    libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    // Joined before the namespaces, with the host's view and privileges.
    for &dir in &plan.cgroup_v1 {
        if !join_cgroup(dir, c"tasks") {
            fail(sock, MSG_INTERMEDIATE_FAILED, STEP_CGROUP);
        }
        libc::close(dir);
    }
    for &(fd, flag, index) in &plan.ns_fds {
        if libc::setns(fd, flag) < 0 {
            fail(sock, MSG_INTERMEDIATE_FAILED, STEP_SETNS + index);
        }
        libc::close(fd);
    }
    for &fd in &plan.close_fds {
        libc::close(fd);
    }
    if let Some(cwd) = &plan.cwd {
        // As LXC: a missing directory is not an error.
        libc::chdir(cwd.as_ptr());
    }
    // The attached process becomes the caller's child, and is created in
    // the container's pid namespace (setns(CLONE_NEWPID) only affects
    // children).
    let (pid, join_v2) = create_attached(plan);
    if pid < 0 {
        fail(sock, MSG_INTERMEDIATE_FAILED, STEP_CLONE);
    }
    if pid == 0 {
        if join_v2 && !join_cgroup(plan.cgroup_v2, c"cgroup.procs") && !plan.v2_optional {
            fail(sock, MSG_ATTACHED_FAILED, STEP_CGROUP);
        }
        attached(plan);
    }
    send(sock, MSG_PID, pid as i32, 0);
    libc::_exit(0);
}

unsafe fn remount_proc_sys() -> bool {
    // Keep our remounts from propagating back to the host.
    if crate::sys::unshare_rslave().is_err() {
        return false;
    }
    if libc::umount2(c"/proc".as_ptr(), libc::MNT_DETACH) < 0 {
        return false;
    }
    if libc::mount(
        c"none".as_ptr(),
        c"/proc".as_ptr(),
        c"proc".as_ptr(),
        0,
        std::ptr::null(),
    ) < 0
    {
        return false;
    }
    if libc::umount2(c"/sys".as_ptr(), libc::MNT_DETACH) < 0 {
        // Not a mount point: nothing to redo.
        return errno() == libc::EINVAL;
    }
    libc::mount(
        c"none".as_ptr(),
        c"/sys".as_ptr(),
        c"sysfs".as_ptr(),
        0,
        std::ptr::null(),
    ) == 0
}

/// LXC_ATTACH_TERMINAL in the attached process, as LXC: a new session
/// whose controlling terminal is the pty, which replaces every standard
/// descriptor that is a terminal (pipes and files given by the caller
/// stay); the pty then belongs to the final user, mode 0600 (LXC 6.0).
unsafe fn take_terminal(pty: RawFd, uid: u32) -> bool {
    // Fails only when already a session leader, which a fresh clone is not.
    libc::setsid();
    if libc::ioctl(pty, libc::TIOCSCTTY, 0) < 0 {
        return false;
    }
    for fd in 0..3 {
        if libc::isatty(fd) == 1 && libc::dup2(pty, fd) < 0 {
            return false;
        }
    }
    // As LXC, failing to adjust the owner or mode is not an error.
    libc::fchown(pty, uid, u32::MAX);
    libc::fchmod(pty, 0o600);
    if pty > 2 {
        libc::close(pty);
    }
    true
}

/// The attached process: sets itself up and runs the payload.
unsafe fn attached(plan: &Plan) -> ! {
    let sock = plan.sock;
    let bad = |step| -> ! { fail(sock, MSG_ATTACHED_FAILED, step) };
    if plan.cgroup_v2 >= 0 {
        libc::close(plan.cgroup_v2);
    }
    if plan.remount_proc_sys && !remount_proc_sys() {
        bad(STEP_REMOUNT);
    }
    if let Some(p) = plan.personality {
        if libc::personality(p) < 0 {
            bad(STEP_PERSONALITY);
        }
    }
    for &cap in &plan.drop_caps {
        if libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) < 0 {
            bad(STEP_CAPS);
        }
    }
    // Exec functions expect `environ` set.
    environ = plan.envp;
    if plan.make_ctty {
        libc::setsid();
        if libc::ioctl(plan.stdio[0], libc::TIOCSCTTY, 0) < 0 {
            bad(STEP_CTTY);
        }
    }
    match &plan.groups {
        Some(list) => {
            if !raw::setgroups(list) {
                bad(STEP_SETGROUPS);
            }
        }
        None => {
            if !raw::setgroups(&[]) && errno() != libc::EPERM {
                bad(STEP_SETGROUPS);
            }
        }
    }
    if let Some((uid, gid)) = plan.setup_ids {
        if !raw::setresgid(gid) || !raw::setresuid(uid) {
            bad(STEP_SETUP_IDS);
        }
    }
    if plan.no_new_privs && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 {
        bad(STEP_NO_NEW_PRIVS);
    }
    for (target, &fd) in plan.stdio.iter().enumerate() {
        let target = target as c_int;
        if fd >= 0 && fd != target && libc::dup2(fd, target) < 0 {
            bad(STEP_STDIO);
        }
    }
    for (target, &fd) in plan.stdio.iter().enumerate() {
        // Close the originals, unless one is also another stream's target.
        if fd > 2 && !plan.stdio[..target].contains(&fd) {
            libc::close(fd);
        }
    }
    if let Exec::Command(_) = plan.exec {
        // A program gets its standard descriptors only (docs/security.md).
        crate::sys::cloexec_from(3);
    }
    for fd in 0..3 {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 && flags & libc::FD_CLOEXEC != 0 {
            libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
        }
    }
    if plan.terminal >= 0 && !take_terminal(plan.terminal, plan.target_uid) {
        bad(STEP_TERMINAL);
    }
    if let Some(filter) = &plan.seccomp {
        let r = filter.install_raw();
        if r < -1 {
            *libc::__errno_location() = -r;
            bad(STEP_SECCOMP);
        }
        if r >= 0 {
            // The caller hands the listener to the monitor, which serves
            // it as init's (LXC); while it is in flight a notified syscall
            // waits rather than failing with ENOSYS.
            send_fd(sock, MSG_LISTENER, r);
            libc::close(r);
        }
    }
    if plan.target_gid != u32::MAX && !raw::setresgid(plan.target_gid) {
        bad(STEP_SETGID);
    }
    if plan.target_uid != u32::MAX && !raw::setresuid(plan.target_uid) {
        bad(STEP_SETUID);
    }
    if let Some(mask) = &plan.sigmask {
        raw::set_sigmask(mask);
    }
    send(sock, MSG_READY, 0, 0);
    libc::close(sock);
    let status = match plan.exec {
        Exec::Function(f, payload) => f(payload),
        Exec::Command(cmd) => (*cmd).exec(plan.envp),
    };
    libc::_exit(status);
}
