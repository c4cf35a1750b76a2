//! Seccomp: LXC's policy files (`lxc.seccomp.profile`), compiled with
//! libseccomp for the native and compat architectures, installed into init
//! right before its exec (and into attached processes); `notify` rules hand
//! their listener to the monitor (`seccomp_notify_fd`, the notify proxy).

pub mod filter;
pub mod policy;
pub mod proxy;

pub use filter::Filter;
pub use policy::{HostArch, Policy};

use std::os::fd::{AsRawFd, OwnedFd};

use crate::error::{Error, Result, ResultExt};

/// What init sends the monitor, with the listener descriptor attached,
/// once a notify filter is installed.
pub const NOTIFY_SYNC: &[u8] = b"seccomp-notify";

/// A compiled `lxc.seccomp.profile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub path: String,
    pub filter: Filter,
}

/// Reads, parses and compiles the policy file at `path` for this host.
/// Errors name the file and the line.
pub fn compile_file(path: &str) -> Result<Profile> {
    let text = crate::sys::read_regular_text(path.as_ref())
        .context("Failed to read the seccomp policy")?;
    compile_text(path, &text)
}

/// [`compile_file`] on text already read.
pub fn compile_text(path: &str, text: &str) -> Result<Profile> {
    let host = HostArch::current();
    let policy = policy::parse(text, host)
        .map_err(|e| Error::invalid(format!("Invalid seccomp policy {path}: {e}")))?;
    let filter =
        filter::compile(&policy, host).context(format_args!("Invalid seccomp policy {path}"))?;
    Ok(Profile {
        path: path.to_string(),
        filter,
    })
}

/// The profile to install for a container: None when no
/// `lxc.seccomp.profile` is set, or, unless `lxc.seccomp.allow_nesting`,
/// when this process is already confined or the kernel has no seccomp
/// (LXC then loads nothing).
pub fn for_container(profile: Option<&str>, allow_nesting: bool) -> Result<Option<Profile>> {
    match profile_to_load(profile, allow_nesting, filter::may_load) {
        Some(path) => compile_file(path).map(Some),
        None => Ok(None),
    }
}

/// LXC's `use_seccomp`: the policy path to load, if any.
fn profile_to_load(
    profile: Option<&str>,
    allow_nesting: bool,
    may_load: impl FnOnce() -> bool,
) -> Option<&str> {
    let path = profile.filter(|p| !p.is_empty())?;
    if !allow_nesting && !may_load() {
        log::info!("Not loading the seccomp policy {path}");
        return None;
    }
    Some(path)
}

/// In init, right before its exec (as LXC: after no_new_privs, before the
/// switch to `lxc.init.uid`, while CAP_SYS_ADMIN allows loading without
/// no_new_privs): installs the filter and hands a notify listener to the
/// monitor over the spawn socket.
pub fn install_in_init(profile: &Profile, sock: &OwnedFd) -> Result<()> {
    if let Some(listener) = profile.filter.install(&profile.path)? {
        crate::sys::socket::send_with_fd(sock, NOTIFY_SYNC, listener.as_raw_fd())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_decides_under_an_existing_filter() {
        assert_eq!(profile_to_load(None, false, || true), None);
        assert_eq!(profile_to_load(Some(""), true, || true), None);
        assert_eq!(profile_to_load(Some("/p"), false, || true), Some("/p"));
        // Already confined: loaded only with lxc.seccomp.allow_nesting.
        assert_eq!(profile_to_load(Some("/p"), false, || false), None);
        assert_eq!(profile_to_load(Some("/p"), true, || false), Some("/p"));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e = compile_text("/etc/x.seccomp", "2\ndenylist\nread\nwrite sometimes\n").unwrap_err();
        assert_eq!(e.errno, libc::EINVAL);
        assert!(
            e.message.contains("/etc/x.seccomp") && e.message.contains("line 4"),
            "{}",
            e.message
        );
        let e = compile_file("/nonexistent/x.seccomp").unwrap_err();
        assert!(
            e.message.contains("/nonexistent/x.seccomp"),
            "{}",
            e.message
        );
    }

    /// `lxc.seccomp.profile` is the owner's choice: a FIFO or a device is
    /// refused, never read.
    #[test]
    fn only_regular_policy_files_are_read() {
        let e = compile_file("/dev/zero").unwrap_err();
        assert_eq!(e.errno, libc::EINVAL);
        assert!(e.message.contains("/dev/zero"), "{}", e.message);
        let fifo = std::env::temp_dir().join(format!("lxc-seccomp-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&fifo);
        crate::sys::regular_file::mkfifo(&fifo);
        let e = compile_file(fifo.to_str().unwrap()).unwrap_err();
        std::fs::remove_file(&fifo).unwrap();
        assert_eq!(e.errno, libc::EINVAL);
    }
}
