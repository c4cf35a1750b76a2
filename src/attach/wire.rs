//! The attach plan as the helper receives it: plain bytes plus the
//! descriptors it refers to (by their index in the list sent alongside).

use std::ffi::{CStr, CString};
use std::os::fd::RawFd;

use libc::c_char;

use super::child::{Exec, Plan};
use super::command::CommandPlan;
use crate::error::{Error, Result};

/// A plan in bytes, and the descriptors its fields index.
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub fds: Vec<RawFd>,
}

const NO_FD: u32 = u32::MAX;

impl Encoded {
    fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_ne_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_ne_bytes());
    }
    fn flag(&mut self, v: bool) {
        self.u32(v as u32);
    }
    fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.bytes.extend_from_slice(v);
    }
    fn fd(&mut self, fd: RawFd) {
        if fd < 0 {
            self.u32(NO_FD);
        } else {
            self.u32(self.fds.len() as u32);
            self.fds.push(fd);
        }
    }
    fn opt<T>(&mut self, v: Option<T>, mut put: impl FnMut(&mut Self, T)) {
        self.flag(v.is_some());
        if let Some(v) = v {
            put(self, v);
        }
    }
    fn list<T>(&mut self, v: impl ExactSizeIterator<Item = T>, mut put: impl FnMut(&mut Self, T)) {
        self.u32(v.len() as u32);
        for item in v {
            put(self, item);
        }
    }
}

/// Reads what [`encode`] wrote; every error is EPROTO.
struct Decoder<'a> {
    bytes: &'a [u8],
    fds: &'a [RawFd],
}

fn truncated() -> Error {
    Error::new(libc::EPROTO, "The attach plan is truncated")
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.bytes.len() < n {
            return Err(truncated());
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_ne_bytes(
            self.take(4)?.try_into().map_err(|_| truncated())?,
        ))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_ne_bytes(
            self.take(8)?.try_into().map_err(|_| truncated())?,
        ))
    }
    fn flag(&mut self) -> Result<bool> {
        Ok(self.u32()? != 0)
    }
    fn bytes(&mut self) -> Result<Vec<u8>> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    fn cstring(&mut self) -> Result<CString> {
        CString::new(self.bytes()?).map_err(|_| Error::new(libc::EPROTO, "A NUL in the plan"))
    }
    fn fd(&mut self) -> Result<RawFd> {
        match self.u32()? {
            NO_FD => Ok(-1),
            i => self
                .fds
                .get(i as usize)
                .copied()
                .ok_or_else(|| Error::new(libc::EPROTO, "The plan names a missing descriptor")),
        }
    }
    fn opt<T>(&mut self, mut get: impl FnMut(&mut Self) -> Result<T>) -> Result<Option<T>> {
        Ok(if self.flag()? { Some(get(self)?) } else { None })
    }
    fn list<T>(&mut self, mut get: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        let n = self.u32()? as usize;
        // Bounded by what is left: every item takes at least 4 bytes.
        if n > self.bytes.len() / 4 + 1 {
            return Err(truncated());
        }
        (0..n).map(|_| get(self)).collect()
    }
}

/// The NULL-terminated `envp` of a plan, as strings.
///
/// # Safety
/// `envp` is NULL-terminated and its strings live.
unsafe fn env_strings<'a>(envp: *const *const c_char) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut p = envp;
    while !p.is_null() && !(*p).is_null() {
        out.push(CStr::from_ptr(*p).to_bytes());
        p = p.add(1);
    }
    out
}

/// `plan` (which runs a program) in bytes; the signal mask the program
/// gets and whether SIGPIPE is ignored go with it.
///
/// # Safety
/// The plan's pointers (envp, the command) are live.
pub unsafe fn encode(plan: &Plan, sigpipe_ignored: bool) -> Result<Encoded> {
    let Exec::Command(cmd) = plan.exec else {
        return Err(Error::invalid(
            "Only a program runs through the attach helper",
        ));
    };
    let mut e = Encoded {
        bytes: Vec::with_capacity(4096),
        fds: Vec::new(),
    };
    e.list(plan.cgroup_v1.iter(), |e, fd| e.fd(*fd));
    e.fd(plan.cgroup_v2);
    e.flag(plan.v2_optional);
    e.list(plan.ns_fds.iter(), |e, (fd, flag, index)| {
        e.fd(*fd);
        e.u32(*flag as u32);
        e.u32(*index as u32);
    });
    e.opt(plan.cwd.as_ref(), |e, c| e.bytes(c.as_bytes()));
    e.flag(plan.remount_proc_sys);
    e.opt(plan.personality, |e, p| e.u64(p));
    e.list(plan.drop_caps.iter(), |e, c| e.u32(*c));
    e.list(env_strings(plan.envp).into_iter(), |e, s| e.bytes(s));
    e.flag(plan.make_ctty);
    e.opt(plan.groups.as_ref(), |e, g| {
        e.list(g.iter(), |e, id| e.u32(*id))
    });
    e.opt(plan.setup_ids, |e, (u, g)| {
        e.u32(u);
        e.u32(g);
    });
    e.flag(plan.no_new_privs);
    for fd in plan.stdio {
        e.fd(fd);
    }
    e.fd(plan.terminal);
    e.u32(plan.target_uid);
    e.u32(plan.target_gid);
    e.opt(plan.seccomp.as_ref(), |e, f| {
        e.bytes(&f.bpf);
        e.flag(f.notify);
    });
    let (candidates, argv) = (*cmd).parts();
    e.list(candidates.iter(), |e, c| e.bytes(c.as_bytes()));
    e.list(argv.iter(), |e, a| e.bytes(a.as_bytes()));
    e.opt(plan.sigmask.as_ref(), |e, m| e.u64(sigmask_word(m)));
    e.flag(sigpipe_ignored);
    Ok(e)
}

/// The kernel's 64-signal mask: the first word of glibc's sigset_t.
fn sigmask_word(mask: &libc::sigset_t) -> u64 {
    // SAFETY: sigset_t is at least 8 bytes of plain data.
    unsafe { std::ptr::read_unaligned(mask as *const libc::sigset_t as *const u64) }
}

fn sigmask_of(word: u64) -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is the empty set; its first word is
    // the kernel's mask.
    unsafe {
        let mut mask: libc::sigset_t = std::mem::zeroed();
        std::ptr::write_unaligned(&mut mask as *mut libc::sigset_t as *mut u64, word);
        mask
    }
}

/// A decoded plan and everything its pointers point into.
pub struct Decoded {
    pub plan: Plan,
    pub sigpipe_ignored: bool,
    _env: Vec<CString>,
    _envp: Vec<*const c_char>,
    _command: Box<CommandPlan>,
}

/// The plan [`encode`] wrote, with `fds` as received; `sock` is the
/// helper's end of the attach socket.
pub fn decode(bytes: &[u8], fds: &[RawFd], sock: RawFd) -> Result<Decoded> {
    let mut d = Decoder { bytes, fds };
    let cgroup_v1 = d.list(|d| d.fd())?;
    let cgroup_v2 = d.fd()?;
    let v2_optional = d.flag()?;
    let ns_fds = d.list(|d| Ok((d.fd()?, d.u32()? as i32, d.u32()? as i32)))?;
    let cwd = d.opt(|d| d.cstring())?;
    let remount_proc_sys = d.flag()?;
    let personality = d.opt(|d| d.u64())?;
    let drop_caps = d.list(|d| d.u32())?;
    let env = d.list(|d| d.cstring())?;
    let make_ctty = d.flag()?;
    let groups = d.opt(|d| d.list(|d| d.u32()))?;
    let setup_ids = d.opt(|d| Ok((d.u32()?, d.u32()?)))?;
    let no_new_privs = d.flag()?;
    let stdio = [d.fd()?, d.fd()?, d.fd()?];
    let terminal = d.fd()?;
    let target_uid = d.u32()?;
    let target_gid = d.u32()?;
    let seccomp = d.opt(|d| {
        Ok(crate::seccomp::Filter {
            bpf: d.bytes()?,
            notify: d.flag()?,
        })
    })?;
    let candidates = d.list(|d| d.cstring())?;
    let argv = d.list(|d| d.cstring())?;
    let sigmask = d.opt(|d| d.u64())?.map(sigmask_of);
    let sigpipe_ignored = d.flag()?;
    if !d.bytes.is_empty() {
        return Err(Error::new(
            libc::EPROTO,
            "Trailing bytes in the attach plan",
        ));
    }
    let command = Box::new(CommandPlan::from_parts(candidates, argv));
    let mut envp: Vec<*const c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    let plan = Plan {
        sock,
        parent_sock: -1,
        cgroup_v1,
        cgroup_v2,
        v2_optional,
        ns_fds,
        close_fds: Vec::new(),
        cwd,
        remount_proc_sys,
        personality: personality.map(|p| p as libc::c_ulong),
        drop_caps,
        envp: envp.as_ptr(),
        make_ctty,
        groups,
        setup_ids,
        no_new_privs,
        stdio,
        terminal,
        target_uid,
        target_gid,
        seccomp,
        exec: Exec::Command(&*command),
        sigmask,
    };
    Ok(Decoded {
        plan,
        sigpipe_ignored,
        _env: env,
        _envp: envp,
        _command: command,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_survives_the_wire() {
        let command =
            CommandPlan::new(b"sh", &[b"sh".to_vec(), b"-c".to_vec()], Some(b"/bin")).unwrap();
        let env = [c"A=1".as_ptr(), c"PATH=/bin".as_ptr(), std::ptr::null()];
        let plan = Plan {
            sock: 9,
            parent_sock: 8,
            cgroup_v1: vec![20, 21],
            cgroup_v2: 22,
            v2_optional: true,
            ns_fds: vec![(23, libc::CLONE_NEWNS, 3)],
            close_fds: vec![30],
            cwd: Some(c"/root".into()),
            remount_proc_sys: true,
            personality: Some(8),
            drop_caps: vec![1, 38],
            envp: env.as_ptr(),
            make_ctty: false,
            groups: Some(vec![4, 5]),
            setup_ids: Some((0, 0)),
            no_new_privs: true,
            stdio: [24, -1, 24],
            terminal: -1,
            target_uid: 1000,
            target_gid: u32::MAX,
            seccomp: Some(crate::seccomp::Filter {
                bpf: vec![1; 16],
                notify: false,
            }),
            exec: Exec::Command(&command),
            sigmask: Some(sigmask_of(0x4000_0001)),
        };
        // SAFETY: the plan's pointers are the locals above.
        let e = unsafe { encode(&plan, true) }.unwrap();
        assert_eq!(e.fds, [20, 21, 22, 23, 24, 24]);
        // The helper receives the descriptors under other numbers.
        let received: Vec<RawFd> = (100..106).collect();
        let d = decode(&e.bytes, &received, 3).unwrap();
        let p = &d.plan;
        assert_eq!((p.sock, p.parent_sock), (3, -1));
        assert_eq!((p.cgroup_v1.clone(), p.cgroup_v2), (vec![100, 101], 102));
        assert_eq!(p.ns_fds, [(103, libc::CLONE_NEWNS, 3)]);
        assert!(p.close_fds.is_empty() && p.v2_optional && p.remount_proc_sys);
        assert_eq!(p.cwd.as_deref(), Some(c"/root"));
        assert_eq!((p.personality, p.drop_caps.clone()), (Some(8), vec![1, 38]));
        // SAFETY: the decoded plan owns its environment.
        let env = unsafe { env_strings(p.envp) };
        assert_eq!(env, [b"A=1".as_slice(), b"PATH=/bin"]);
        assert_eq!(p.groups, Some(vec![4, 5]));
        assert_eq!((p.setup_ids, p.no_new_privs), (Some((0, 0)), true));
        assert_eq!((p.stdio, p.terminal), ([104, -1, 105], -1));
        assert_eq!((p.target_uid, p.target_gid), (1000, u32::MAX));
        assert_eq!(p.seccomp.as_ref().map(|f| f.bpf.len()), Some(16));
        let Exec::Command(cmd) = p.exec else {
            panic!("a program")
        };
        // SAFETY: owned by the decoded plan.
        let (candidates, argv) = unsafe { (*cmd).parts() };
        assert_eq!(candidates, [c"/bin/sh".to_owned()]);
        assert_eq!(argv, [c"sh".to_owned(), c"-c".to_owned()]);
        assert_eq!(p.sigmask.as_ref().map(sigmask_word), Some(0x4000_0001));
        assert!(d.sigpipe_ignored);
        // Anything cut short or naming a missing descriptor is refused.
        for cut in [0, 4, e.bytes.len() - 1] {
            assert_eq!(
                decode(&e.bytes[..cut], &received, 3).err().map(|e| e.errno),
                Some(libc::EPROTO)
            );
        }
        assert!(decode(&e.bytes, &received[..3], 3).is_err());
    }
}
