//! The process's names as `ps`, `top` and `/proc/<pid>/{cmdline,comm}`
//! show them.

/// Sets the process's name (comm, 15 bytes kept). Ours run from a handle
/// (`/proc/self/fd/N`), which an exec names after the descriptor's number.
pub fn set_comm(name: &std::ffi::CStr) {
    // SAFETY: prctl with a NUL-terminated name (the kernel truncates).
    unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr(), 0, 0, 0) };
}

/// Rewrites the argv area in place, as setproctitle does: `title`, a NUL,
/// and a non-NUL last byte (the kernel then reads the command line up to
/// the first NUL, so it is exactly `title`). Truncated to the area; a
/// failure to find the area leaves the command line as it was.
pub fn set_cmdline(title: &str) {
    let Ok(stat) = super::procfs::read("/proc/self/stat") else {
        return;
    };
    // Fields after the command name: arg_start and arg_end are 48 and 49.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<usize>().ok());
    let (Some(start), Some(end)) = (field(48), field(49)) else {
        return;
    };
    let len = end.saturating_sub(start);
    if len < 2 {
        return;
    }
    let bytes = title.as_bytes();
    let n = bytes.len().min(len - 2);
    // SAFETY: [start, end) is this process's own argv area on its stack,
    // writable; callers read argv (std::env::args) before, never after.
    unsafe {
        let area = std::slice::from_raw_parts_mut(start as *mut u8, len);
        area.fill(0);
        area[..n].copy_from_slice(&bytes[..n]);
        area[len - 1] = b' ';
    }
}
