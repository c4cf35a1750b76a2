//! Running a program in the attached process: looked up as execvp(3)
//! does, but in the attached process's own environment and without
//! touching `environ` (the process may share the caller's memory), and
//! LXC's exported `lxc_attach_run_command`.

use std::ffi::CString;

use libc::{c_char, c_int, c_void};

use crate::error::{Error, Result};
use crate::sys::errno;

/// A program to execute, searched for as execvp(3) does, but in the
/// attached process's environment: prepared before the fork.
pub struct CommandPlan {
    /// Paths to try in order (the program itself when it has a slash,
    /// else each PATH entry joined with it).
    candidates: Vec<CString>,
    /// Owns the strings `argv_ptrs` and `sh_argv` point to.
    argv: Vec<CString>,
    argv_ptrs: Vec<*const c_char>,
    /// `/bin/sh <candidate> argv[1..]`, for a file the kernel does not
    /// know how to execute (execvp's fallback); slot 1 is set then.
    sh_argv: Vec<*const c_char>,
}

/// execvp's PATH when the environment has none (glibc's default).
const EXECVP_DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

impl CommandPlan {
    /// `program` run with `argv` (argv[0] included; empty: the program
    /// alone), looked up in `path` (the PATH the process will have).
    pub fn new(program: &[u8], argv: &[Vec<u8>], path: Option<&[u8]>) -> Result<CommandPlan> {
        let nul = |_| Error::invalid("An argument contains a NUL byte");
        let argv: Vec<CString> = if argv.is_empty() {
            vec![CString::new(program).map_err(nul)?]
        } else {
            argv.iter()
                .map(|a| CString::new(a.clone()).map_err(nul))
                .collect::<Result<_>>()?
        };
        let candidates = if program.is_empty() {
            Vec::new()
        } else if program.contains(&b'/') {
            vec![CString::new(program).map_err(nul)?]
        } else {
            path.unwrap_or(EXECVP_DEFAULT_PATH)
                .split(|&b| b == b':')
                .map(|dir| match dir {
                    b"" => CString::new(program),
                    _ => CString::new([dir, b"/", program].concat()),
                })
                .collect::<std::result::Result<_, _>>()
                .map_err(nul)?
        };
        Ok(CommandPlan::from_parts(candidates, argv))
    }

    /// The plan of paths to try and argv (argv[0] included), as
    /// [`CommandPlan::parts`] gave them.
    pub fn from_parts(candidates: Vec<CString>, argv: Vec<CString>) -> CommandPlan {
        let mut argv_ptrs: Vec<*const c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let mut sh_argv = vec![c"/bin/sh".as_ptr(), std::ptr::null()];
        sh_argv.extend(argv.iter().skip(1).map(|a| a.as_ptr()));
        sh_argv.push(std::ptr::null());
        CommandPlan {
            candidates,
            argv,
            argv_ptrs,
            sh_argv,
        }
    }

    /// The paths to try and argv.
    pub fn parts(&self) -> (&[CString], &[CString]) {
        (&self.candidates, &self.argv)
    }

    /// Runs the program with `envp`; returns only on failure: 126 when it
    /// cannot be executed, 127 when it does not exist, -1 otherwise (as
    /// LXC's `lxc_attach_run_command`).
    ///
    /// # Safety
    /// In the attached process; `envp` is NULL-terminated. Writes slot 1
    /// of its own `sh_argv` (private to this attach).
    pub(super) unsafe fn exec(&self, envp: *const *const c_char) -> c_int {
        let mut denied = false;
        *libc::__errno_location() = libc::ENOENT;
        for candidate in &self.candidates {
            libc::execve(candidate.as_ptr(), self.argv_ptrs.as_ptr(), envp);
            if errno() == libc::ENOEXEC {
                let slot = self.sh_argv.as_ptr().add(1) as *mut *const c_char;
                *slot = candidate.as_ptr();
                libc::execve(self.sh_argv[0], self.sh_argv.as_ptr(), envp);
            }
            match errno() {
                libc::EACCES => denied = true,
                libc::ENOENT | libc::ESTALE | libc::ENOTDIR | libc::ENODEV | libc::ETIMEDOUT => {}
                other => return exec_failure_status(other),
            }
        }
        if denied {
            *libc::__errno_location() = libc::EACCES;
        }
        exec_failure_status(errno())
    }
}

/// The exit status of a failed program lookup, as LXC's.
fn exec_failure_status(err: i32) -> c_int {
    match err {
        libc::ENOEXEC | libc::EACCES => 126,
        libc::ENOENT => 127,
        _ => -1,
    }
}

/// `lxc_attach_command_t`: program and argv, as C callers fill it.
#[repr(C)]
pub struct Command {
    pub program: *const c_char,
    pub argv: *const *const c_char,
}

/// LXC's `lxc_attach_run_command`: execvp of a [`Command`] in the current
/// environment, with only the standard descriptors (see `docs/security.md`);
/// returns (only on failure) 126 when the program cannot be
/// executed, 127 when it does not exist, as LXC.
///
/// # Safety
/// `payload` points to a live [`Command`] (NULL fails with -1).
pub unsafe extern "C" fn run_command(payload: *mut c_void) -> c_int {
    let cmd = payload as *const Command;
    if cmd.is_null() || (*cmd).program.is_null() {
        return -1;
    }
    crate::sys::cloexec_from(3);
    libc::execvp((*cmd).program, (*cmd).argv);
    exec_failure_status(errno())
}

/// LXC's `lxc_attach_run_shell`: exec the login shell of the current user
/// (from the password database), falling back to /bin/sh, with only the
/// standard descriptors. Returns only on failure (-1).
///
/// # Safety
/// In the attached process; `payload` is unused.
pub unsafe extern "C" fn run_shell(payload: *mut c_void) -> c_int {
    let _ = payload;
    let mut pwd: libc::passwd = std::mem::zeroed();
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let mut buf = [0 as c_char; 4096];
    let found = libc::getpwuid_r(
        libc::getuid(),
        &mut pwd,
        buf.as_mut_ptr(),
        buf.len(),
        &mut result,
    ) == 0
        && !result.is_null()
        && !pwd.pw_shell.is_null()
        && *pwd.pw_shell != 0;
    crate::sys::cloexec_from(3);
    if found {
        let argv = [pwd.pw_shell as *const c_char, std::ptr::null()];
        libc::execvp(pwd.pw_shell, argv.as_ptr());
    }
    let sh = c"/bin/sh".as_ptr();
    let argv = [sh, std::ptr::null()];
    libc::execvp(sh, argv.as_ptr());
    -1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(program: &str, path: Option<&str>) -> Vec<String> {
        CommandPlan::new(program.as_bytes(), &[], path.map(str::as_bytes))
            .unwrap()
            .candidates
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn program_lookup_follows_execvp() {
        // A slash: the path itself, PATH unused.
        assert_eq!(candidates("/bin/true", Some("/x")), ["/bin/true"]);
        assert_eq!(candidates("./run", None), ["./run"]);
        // A bare name: each PATH entry in order; an empty entry is the
        // current directory.
        assert_eq!(
            candidates("ls", Some("/usr/bin::/bin")),
            ["/usr/bin/ls", "ls", "/bin/ls"]
        );
        // No PATH: glibc's default.
        assert_eq!(candidates("ls", None), ["/bin/ls", "/usr/bin/ls"]);
        // Nothing to run: ENOENT (127).
        assert!(candidates("", Some("/bin")).is_empty());
    }

    #[test]
    fn argv_defaults_to_the_program_and_sh_fallback_keeps_arguments() {
        let plan = CommandPlan::new(b"prog", &[], None).unwrap();
        assert_eq!(plan.argv[0].as_bytes(), b"prog");
        assert_eq!(plan.argv_ptrs.len(), 2);
        let args = [b"prog".to_vec(), b"a".to_vec(), b"b".to_vec()];
        let plan = CommandPlan::new(b"prog", &args, None).unwrap();
        // /bin/sh, <slot>, a, b, NULL
        assert_eq!(plan.sh_argv.len(), 5);
        assert!(plan.sh_argv[1].is_null() && plan.sh_argv[4].is_null());
        assert!(CommandPlan::new(b"p\0", &[], None).is_err());
    }

    #[test]
    fn failure_statuses_are_lxcs() {
        assert_eq!(exec_failure_status(libc::ENOENT), 127);
        assert_eq!(exec_failure_status(libc::EACCES), 126);
        assert_eq!(exec_failure_status(libc::ENOEXEC), 126);
        assert_eq!(exec_failure_status(libc::E2BIG), -1);
    }
}
