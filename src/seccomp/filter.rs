//! Compiling a policy into a BPF program with libseccomp, and loading it.
//!
//! The program is compiled once, before any fork or clone, so a bad rule
//! fails the start with its line; the process that installs it only does
//! the `seccomp(2)` syscall (async-signal safe, usable after the attach fork).

use std::io::{Read, Seek};
use std::os::fd::{FromRawFd, OwnedFd};

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};

use super::policy::{Action, ArgCmp, CmpOp, HostArch, Policy, Target};
use crate::error::{Error, Result};

/// A compiled filter: the classic BPF program, as `struct sock_filter`s.
#[derive(Clone, PartialEq, Eq)]
pub struct Filter {
    /// The program's bytes (8 per instruction).
    pub bpf: Vec<u8>,
    /// Installed with a listener (some rule has the `notify` action).
    pub notify: bool,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("instructions", &(self.bpf.len() / 8))
            .field("notify", &self.notify)
            .finish()
    }
}

fn scmp_action(a: Action) -> ScmpAction {
    match a {
        // SCMP_ACT_KILL, as LXC: the thread.
        Action::Kill => ScmpAction::KillThread,
        Action::Errno(n) => ScmpAction::Errno(n),
        Action::Trap => ScmpAction::Trap,
        Action::Allow => ScmpAction::Allow,
        Action::Notify => ScmpAction::Notify,
        Action::Log => ScmpAction::Log,
    }
}

fn scmp_cmp(a: &ArgCmp) -> ScmpArgCompare {
    let op = match a.op {
        CmpOp::Ne => ScmpCompareOp::NotEqual,
        CmpOp::Lt => ScmpCompareOp::Less,
        CmpOp::Le => ScmpCompareOp::LessOrEqual,
        CmpOp::Eq => ScmpCompareOp::Equal,
        CmpOp::Ge => ScmpCompareOp::GreaterEqual,
        CmpOp::Gt => ScmpCompareOp::Greater,
        CmpOp::MaskedEq => ScmpCompareOp::MaskedEqual(a.mask),
    };
    ScmpArgCompare::new(a.index, op, a.value)
}

/// The compat architectures filtered alongside the native one, as LXC
/// (a 64-bit host runs 32-bit and x32 binaries through other syscall
/// tables, which a native-only filter would not see).
fn compat_arches(host: HostArch) -> &'static [ScmpArch] {
    match host {
        HostArch::Amd64 => &[ScmpArch::X86, ScmpArch::X32],
        HostArch::Arm64 => &[ScmpArch::Arm],
        HostArch::Ppc64 => &[ScmpArch::Ppc],
        HostArch::Mips64 => &[ScmpArch::Mips, ScmpArch::Mips64N32],
        HostArch::Mipsel64 => &[ScmpArch::Mipsel, ScmpArch::Mipsel64N32],
        _ => &[],
    }
}

fn lib_err(what: String, e: libseccomp::error::SeccompError) -> Error {
    let errno = e.errno().map_or(libc::EINVAL, |n| n as i32);
    Error::new(errno, format!("{what}: {e}"))
}

/// Compiles `policy` for `host`. Version 1 policies filter the native
/// architecture only (LXC's v1 context has no compat ones); every other
/// architecture is then killed. Errors name the rule's line.
pub fn compile(policy: &Policy, host: HostArch) -> Result<Filter> {
    let default = scmp_action(policy.default_action);
    let mut ctx = ScmpFilterContext::new(default)
        .map_err(|e| lib_err("Failed to initialize the seccomp filter".into(), e))?;
    // LXC loads without no_new_privs (init keeps its setuid binaries).
    ctx.set_ctl_nnp(false)
        .map_err(|e| lib_err("Failed to turn off no_new_privs".into(), e))?;
    if policy.version == 2 {
        for &arch in compat_arches(host) {
            if !ctx.is_arch_present(arch).unwrap_or(false) {
                ctx.add_arch(arch)
                    .map_err(|e| lib_err(format!("Failed to add architecture {arch:?}"), e))?;
            }
        }
    }
    for rule in &policy.rules {
        let line = rule.line;
        let action = scmp_action(rule.action);
        // libseccomp refuses rules that repeat the default; they are no-ops.
        if action == default {
            continue;
        }
        let added = match &rule.target {
            Target::Number(nr) => ctx.add_rule(action, ScmpSyscall::from(*nr)),
            Target::RejectForceUmount => ctx.add_rule_conditional(
                ScmpAction::Errno(libc::EACCES),
                ScmpSyscall::from_name("umount2")
                    .map_err(|e| lib_err(format!("line {line}: umount2 is unknown"), e))?,
                &[ScmpArgCompare::new(
                    1,
                    ScmpCompareOp::MaskedEqual(libc::MNT_FORCE as u64),
                    libc::MNT_FORCE as u64,
                )],
            ),
            Target::Name(name) => {
                // As LXC: a syscall this host does not know is skipped.
                let Ok(sys) = ScmpSyscall::from_name(name) else {
                    log::info!("seccomp: line {line}: syscall \"{name}\" is unknown here, skipped");
                    continue;
                };
                let args: Vec<ScmpArgCompare> = rule.args.iter().map(scmp_cmp).collect();
                ctx.add_rule_conditional(action, sys, &args)
            }
        };
        added.map_err(|e| lib_err(format!("line {line}: failed to add the rule"), e))?;
    }
    let bpf = export(&ctx)?;
    Ok(Filter {
        bpf,
        notify: policy.wants_notify(),
    })
}

/// The program as bytes (through a memfd: libseccomp 2.5 exports to a
/// descriptor only).
fn export(ctx: &ScmpFilterContext) -> Result<Vec<u8>> {
    // SAFETY: memfd_create with a static name.
    let fd = unsafe { libc::memfd_create(c"seccomp-bpf".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(Error::last_os(
            "Failed to create a memfd for the seccomp program",
        ));
    }
    // SAFETY: a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    ctx.export_bpf(&fd)
        .map_err(|e| lib_err("Failed to export the seccomp program".into(), e))?;
    let mut file = std::fs::File::from(fd);
    let mut bpf = Vec::new();
    file.rewind()
        .and_then(|_| file.read_to_end(&mut bpf))
        .map_err(|e| Error::os("Failed to read the seccomp program back", &e))?;
    if bpf.is_empty() || bpf.len() % 8 != 0 || bpf.len() / 8 > u16::MAX as usize {
        return Err(Error::new(
            libc::EINVAL,
            format!("libseccomp produced a bad program ({} bytes)", bpf.len()),
        ));
    }
    Ok(bpf)
}

/// LXC's `use_seccomp` without `allow_nesting`: false when the kernel has
/// no seccomp (no `Seccomp:` line in /proc/self/status) or when this
/// process already runs under a filter; true otherwise (also when the
/// status cannot be read).
pub fn may_load() -> bool {
    let Ok(status) = crate::sys::procfs::read("/proc/self/status") else {
        return true;
    };
    match status.lines().find_map(|l| l.strip_prefix("Seccomp:")) {
        None => {
            log::info!("Seccomp is not enabled in the kernel");
            false
        }
        Some(mode) if mode.trim() != "0" => {
            log::info!("Already seccomp-confined, not loading a new policy");
            false
        }
        Some(_) => true,
    }
}

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
const SECCOMP_FILTER_FLAG_NEW_LISTENER: libc::c_ulong = 1 << 3;

impl Filter {
    /// Installs the filter on the calling thread. Returns the listener
    /// descriptor for notify filters (close-on-exec), else -1; on failure
    /// -errno. Async-signal safe: one syscall on memory prepared earlier.
    ///
    /// Without no_new_privs this needs CAP_SYS_ADMIN, as LXC's load.
    pub fn install_raw(&self) -> libc::c_int {
        #[repr(C)]
        struct SockFprog {
            len: libc::c_ushort,
            filter: *const u8,
        }
        let prog = SockFprog {
            len: (self.bpf.len() / 8) as libc::c_ushort,
            filter: self.bpf.as_ptr(),
        };
        let flags = if self.notify {
            SECCOMP_FILTER_FLAG_NEW_LISTENER
        } else {
            0
        };
        // SAFETY: the program outlives the call; the kernel copies it.
        let r = unsafe {
            crate::sys::raw::seccomp(
                SECCOMP_SET_MODE_FILTER as libc::c_ulong,
                flags as libc::c_ulong,
                &prog as *const SockFprog as *mut libc::c_void,
            )
        };
        if r < 0 {
            // SAFETY: reading errno.
            return -unsafe { *libc::__errno_location() };
        }
        if self.notify {
            r as libc::c_int
        } else {
            -1
        }
    }

    /// [`Filter::install_raw`] with an error naming the policy file.
    pub fn install(&self, path: &str) -> Result<Option<OwnedFd>> {
        let r = self.install_raw();
        if r < -1 {
            return Err(Error::new(
                -r,
                format!(
                    "Failed to load the seccomp policy {path}: {}",
                    std::io::Error::from_raw_os_error(-r)
                ),
            ));
        }
        // SAFETY: a listener the kernel just created for us.
        Ok((r >= 0).then(|| unsafe { OwnedFd::from_raw_fd(r) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::policy::parse;

    fn compiled(text: &str) -> Filter {
        compile(
            &parse(text, HostArch::current()).unwrap(),
            HostArch::current(),
        )
        .unwrap()
    }

    /// Runs `f` in a forked child with `filter` installed; returns its
    /// wait status. The child only makes raw syscalls.
    fn in_child(filter: &Filter, f: fn(&Filter) -> i32) -> i32 {
        // SAFETY: the child makes async-signal-safe calls only, then _exits.
        unsafe {
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                if libc::geteuid() != 0 {
                    libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                }
                let r = filter.install_raw();
                if r < -1 {
                    libc::_exit(100);
                }
                libc::_exit(f(filter));
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            status
        }
    }

    fn exit_code(status: i32) -> i32 {
        assert!(libc::WIFEXITED(status), "status {status:#x}");
        libc::WEXITSTATUS(status)
    }

    fn uname_errno(_: &Filter) -> i32 {
        // SAFETY: uname into a local buffer.
        unsafe {
            let mut uts: libc::utsname = std::mem::zeroed();
            if libc::uname(&mut uts) == 0 {
                0
            } else {
                *libc::__errno_location()
            }
        }
    }

    #[test]
    fn denylist_errno_is_returned() {
        let f = compiled("2\ndenylist\n[all]\nuname errno 38\n");
        assert!(!f.notify);
        assert_eq!(exit_code(in_child(&f, uname_errno)), 38);
        let f = compiled("2\ndenylist\nuname errno 1\n");
        assert_eq!(exit_code(in_child(&f, uname_errno)), 1);
        // Unknown syscalls are skipped, as LXC.
        let f = compiled("2\ndenylist\nno_such_syscall errno 1\n");
        assert_eq!(exit_code(in_child(&f, uname_errno)), 0);
    }

    #[test]
    fn default_actions_and_kill() {
        // A denylist whose default is errno: everything fails but the
        // syscalls the child needs to report.
        let f = compiled("2\ndenylist errno 7\nexit_group allow\nexit allow\n");
        assert_eq!(exit_code(in_child(&f, uname_errno)), 7);
        // A rule without action in a denylist kills.
        let f = compiled("2\ndenylist\nuname\n");
        let status = in_child(&f, uname_errno);
        assert!(libc::WIFSIGNALED(status), "status {status:#x}");
        assert_eq!(libc::WTERMSIG(status), libc::SIGSYS);
        // trap sends SIGSYS too.
        let f = compiled("2\ndenylist\nuname trap\n");
        let status = in_child(&f, uname_errno);
        assert!(libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS);
        // log and allow let it through.
        let f = compiled("2\ndenylist\nuname log\n");
        assert_eq!(exit_code(in_child(&f, uname_errno)), 0);
    }

    fn umask_probe(_: &Filter) -> i32 {
        // SAFETY: plain syscalls.
        unsafe {
            let a = crate::sys::raw::umask(0o22);
            let ea = *libc::__errno_location();
            let b = crate::sys::raw::umask(0o77);
            // 1: 022 denied, 2: 077 allowed
            ((a < 0 && ea == 9) as i32) | (((b >= 0) as i32) << 1)
        }
    }

    #[test]
    fn argument_comparisons_select_calls() {
        let f = compiled(
            "2\ndenylist\numask errno 9 [0,0o22,==]\n"
                .replace("0o22", "022")
                .as_str(),
        );
        assert_eq!(exit_code(in_child(&f, umask_probe)), 3);
        let f = compiled("2\ndenylist\numask errno 9 [0,0x12,SCMP_CMP_MASKED_EQ,0x3f]\n");
        assert_eq!(exit_code(in_child(&f, umask_probe)), 3);
        let f = compiled(
            "2\ndenylist\numask errno 9 [0,0o30,<]\n"
                .replace("0o30", "030")
                .as_str(),
        );
        assert_eq!(exit_code(in_child(&f, umask_probe)), 3);
        let f = compiled("2\ndenylist\numask errno 9 [0,63,!=]\n");
        assert_eq!(exit_code(in_child(&f, umask_probe)), 3);
    }

    #[test]
    fn allowlist_v1_by_number() {
        let nrs = [libc::SYS_exit_group, libc::SYS_exit, libc::SYS_uname];
        let mut text = "1\nallowlist\n".to_string();
        for n in nrs {
            text.push_str(&format!("{n}\n"));
        }
        let f = compiled(&text);
        assert_eq!(exit_code(in_child(&f, uname_errno)), 0);
        let f = compiled("1\nallowlist\n60\n231\n");
        let status = in_child(&f, uname_errno);
        assert!(libc::WIFSIGNALED(status));
    }

    #[test]
    fn notify_filters_give_a_listener() {
        let f = compiled("2\ndenylist\nsethostname notify\n");
        assert!(f.notify);
        // SAFETY: fork; the child installs and reports whether it got a fd.
        unsafe {
            let pid = libc::fork();
            if pid == 0 {
                if libc::geteuid() != 0 {
                    libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                }
                let fd = f.install_raw();
                libc::_exit(if fd >= 0 { 0 } else { 1 });
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            assert_eq!(exit_code(status), 0);
        }
    }

    #[test]
    fn reject_force_umount_and_debian_policy() {
        let text =
            std::fs::read_to_string("/usr/share/lxc/config/common.seccomp").unwrap_or_else(|_| {
                "2\ndenylist\nreject_force_umount\n[all]\nkexec_load errno 1\n".into()
            });
        let f = compiled(&text);
        fn force_umount(_: &Filter) -> i32 {
            // SAFETY: umount2 of a path that is not mounted.
            unsafe {
                let r = libc::umount2(c"/nonexistent-lxc-rs".as_ptr(), libc::MNT_FORCE);
                let e = *libc::__errno_location();
                let r2 = libc::umount2(c"/nonexistent-lxc-rs".as_ptr(), 0);
                let e2 = *libc::__errno_location();
                if r < 0 && e == libc::EACCES && r2 < 0 && e2 != libc::EACCES {
                    0
                } else {
                    1
                }
            }
        }
        assert_eq!(exit_code(in_child(&f, force_umount)), 0);
        assert_eq!(exit_code(in_child(&f, uname_errno)), 0);
    }

    /// getppid through the i386 syscall table (int 0x80 from a 64-bit
    /// process): -errno or the pid.
    #[cfg(target_arch = "x86_64")]
    fn getppid_i386() -> i64 {
        let mut ret: i64 = 64; // __NR_getppid on i386
                               // SAFETY: int 0x80 with a syscall that takes no arguments.
        unsafe {
            std::arch::asm!("int 0x80", inout("rax") ret, out("r8") _, out("r9") _,
                out("r10") _, out("r11") _);
        }
        ret
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn compat_syscalls_are_filtered() {
        fn probe(_: &Filter) -> i32 {
            // SAFETY: plain syscalls.
            let native = crate::sys::raw::getppid();
            let ne = unsafe { *libc::__errno_location() };
            let compat = getppid_i386();
            ((native < 0 && ne == 42) as i32) | (((compat == -42) as i32) << 1)
        }
        // Without IA32 emulation the compat table does not exist.
        if getppid_i386() < 0 {
            eprintln!("no IA32 emulation, skipped");
            return;
        }
        let f = compiled("2\ndenylist\n[all]\ngetppid errno 42\n");
        assert_eq!(exit_code(in_child(&f, probe)), 3);
        // An [x86] section applies to the compat table too.
        let f = compiled("2\ndenylist\n[x86]\ngetppid errno 42\n");
        assert_eq!(exit_code(in_child(&f, probe)) & 2, 2);
    }
}

#[cfg(test)]
mod compat_names {
    use super::*;
    use crate::seccomp::policy::parse;

    #[test]
    fn syscalls_of_one_arch_only_compile() {
        // _llseek, socketcall, ipc exist on i386 only; arch_prctl and
        // accept4 resolve differently per arch; args on multiplexed calls.
        let text = "2\ndenylist\n[all]\n_llseek errno 1\nsocketcall errno 1\nipc errno 1\n\
                    arch_prctl errno 1\naccept4 errno 1\nsocket errno 97 [0,10,SCMP_CMP_EQ]\n\
                    [x86]\nwaitpid errno 1\n[x32]\nkexec_load errno 1\n";
        let host = HostArch::current();
        let f = compile(&parse(text, host).unwrap(), host).unwrap();
        assert!(f.bpf.len() > 8);
    }
}
