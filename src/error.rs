//! The one error type of the core: an errno and a message that says what
//! failed and why (which step, which path), ready for `error_string`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// A positive errno value (`EINVAL`, `ENOENT`, ...).
    pub errno: i32,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An empty message becomes the errno's description: an error never
    /// reaches `error_string` without words.
    pub fn new(errno: i32, message: impl Into<String>) -> Self {
        let mut message = message.into();
        if message.trim().is_empty() {
            message = format!(
                "{} (no further detail)",
                std::io::Error::from_raw_os_error(errno)
            );
        }
        Error { errno, message }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(libc::EINVAL, message)
    }

    /// An operation of the API that this library does not implement yet.
    pub fn not_implemented(operation: &str) -> Self {
        Self::new(
            libc::ENOSYS,
            format!("{operation}: not implemented yet by this liblxc"),
        )
    }

    /// `what` failed with the calling thread's errno. Read first, before
    /// `what` is formatted: pass `format_args!`, not `format!`, so that no
    /// allocation runs between the failing syscall and the read.
    pub fn last_os(what: impl fmt::Display) -> Self {
        Self::os(what, &std::io::Error::last_os_error())
    }

    /// `what: err`, with err's errno (EIO when it has none).
    pub fn os(what: impl fmt::Display, err: &std::io::Error) -> Self {
        Self::new(
            err.raw_os_error().unwrap_or(libc::EIO),
            format!("{what}: {err}"),
        )
    }

    /// [`Error::io`] with the calling thread's errno.
    pub fn last_io(what: &str, path: &std::path::Path) -> Self {
        Self::io(what, path, &std::io::Error::last_os_error())
    }

    /// `what: message`, errno kept: callers add what they were doing as
    /// the error bubbles up, instead of re-formatting the whole message.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Self::new(self.errno, format!("{what}: {}", self.message))
    }

    /// An I/O failure on `path` while doing `what`.
    pub fn io(what: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        Self::new(
            err.raw_os_error().unwrap_or(libc::EIO),
            format!("{what} {}: {err}", path.display()),
        )
    }
}

/// [`Error::context`] on the error of a result. `what` is only formatted
/// on failure: pass `format_args!` so that success allocates nothing.
pub trait ResultExt<T> {
    fn context(self, what: impl fmt::Display) -> Result<T>;
}

/// Any error convertible to [`Error`] (a [`ConfigError`] too): the context
/// is added where the caller's result becomes an [`Error`] anyway.
impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().context(what))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::new(e.errno, e.message)
    }
}

impl From<Error> for ConfigError {
    fn from(e: Error) -> Self {
        ConfigError::new(e.errno, e.message)
    }
}

/// A configuration error: an errno-style code and a message naming the key
/// (and, for parse errors, the file and the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Positive errno (`EINVAL`, `ENOENT`, `ENOSYS`, ...). For
    /// `get_item`, LXC's `get_config_item` returns `-errno`.
    pub errno: i32,
    pub message: String,
}

impl ConfigError {
    pub fn new(errno: i32, message: impl Into<String>) -> Self {
        ConfigError {
            errno,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_prefixes_and_keeps_errno() {
        let e = Error::os("open /x", &std::io::Error::from_raw_os_error(libc::ENOENT));
        let e = e.context("Failed to load config");
        assert_eq!(e.errno, libc::ENOENT);
        assert_eq!(
            e.message,
            format!(
                "Failed to load config: open /x: {}",
                std::io::Error::from_raw_os_error(libc::ENOENT)
            )
        );
    }

    #[test]
    fn result_context_converts_config_errors() {
        let r: std::result::Result<(), ConfigError> =
            Err(ConfigError::new(libc::EINVAL, "bad key"));
        let e = r.context(format_args!("line {}", 3)).unwrap_err();
        assert_eq!(e, Error::new(libc::EINVAL, "line 3: bad key"));
        assert_eq!(Ok::<_, Error>(1).context("unused"), Ok(1));
    }
}
