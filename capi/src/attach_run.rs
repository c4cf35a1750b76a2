//! The two exported payload runners for `attach()` (declared in
//! `<lxc/attach_options.h>`). They run in the attached process, so they
//! only exec. Parsed by cbindgen.

use libc::{c_char, c_int, c_void};

use crate::abi::attach_options::lxc_attach_command_t;

/// Exec `payload` (an `lxc_attach_command_t`). Returns only on failure:
/// 126 when the program cannot be executed, 127 when it does not exist
/// (the shell's conventions, as LXC uses them), -1 otherwise.
#[no_mangle]
pub unsafe extern "C" fn lxc_attach_run_command(payload: *mut c_void) -> c_int {
    lxc_core::attach::command::run_command(payload)
}

/// The program `exec_function`/`payload` stand for when `attach()` is
/// given [`lxc_attach_run_command`]: the core then runs it itself (without
/// copying the caller's memory). None for any other function.
pub unsafe fn attach_command_of<'a>(
    exec_function: unsafe extern "C" fn(*mut c_void) -> c_int,
    payload: *mut c_void,
) -> Option<(&'a [u8], *const *const c_char)> {
    let cmd = payload as *const lxc_attach_command_t;
    if exec_function as *const () != lxc_attach_run_command as *const ()
        || cmd.is_null()
        || (*cmd).program.is_null()
    {
        return None;
    }
    Some((
        std::ffi::CStr::from_ptr((*cmd).program).to_bytes(),
        (*cmd).argv as *const *const c_char,
    ))
}

/// Exec the login shell of the current user (from the password database),
/// falling back to /bin/sh. Returns only on failure (-1).
#[no_mangle]
pub unsafe extern "C" fn lxc_attach_run_shell(payload: *mut c_void) -> c_int {
    lxc_core::attach::command::run_shell(payload)
}
