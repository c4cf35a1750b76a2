//! Validation of container names and lxcpaths supplied by callers.

use crate::error::{Error, Result};

/// Longest container name: one path component.
pub const NAME_MAX: usize = 255;
/// Longest lxcpath we accept (PATH_MAX less room for "/<name>/config").
pub const LXCPATH_MAX: usize = 4096 - NAME_MAX - 16;

/// A container name becomes a directory under the lxcpath, so it must be a
/// single, non-special path component.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid("Invalid container name: empty"));
    }
    if name.len() > NAME_MAX {
        return Err(Error::new(
            libc::ENAMETOOLONG,
            format!("Invalid container name: longer than {NAME_MAX} bytes"),
        ));
    }
    if name == "." || name == ".." || name.contains('/') {
        return Err(Error::invalid(format!(
            "Invalid container name \"{name}\": must not be \".\", \"..\" or contain '/'"
        )));
    }
    if name.chars().any(|ch| ch.is_control()) {
        return Err(Error::invalid(format!(
            "Invalid container name {name:?}: control characters are not allowed"
        )));
    }
    Ok(())
}

/// An lxcpath is any directory path; only its length and emptiness are checked.
pub fn validate_lxcpath(path: &str) -> Result<()> {
    if path.is_empty() {
        return Err(Error::invalid("Invalid lxcpath: empty"));
    }
    if path.len() > LXCPATH_MAX {
        return Err(Error::new(
            libc::ENAMETOOLONG,
            format!("Invalid lxcpath: longer than {LXCPATH_MAX} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("c1").is_ok());
        assert!(validate_name("a.b-c_d").is_ok());
        for bad in ["", ".", "..", "../x", "a/b", "x\ny"] {
            assert_eq!(
                validate_name(bad).unwrap_err().errno,
                libc::EINVAL,
                "{bad:?}"
            );
        }
        assert_eq!(
            validate_name(&"x".repeat(256)).unwrap_err().errno,
            libc::ENAMETOOLONG
        );
    }

    #[test]
    fn lxcpaths() {
        assert!(validate_lxcpath("/var/lib/lxc").is_ok());
        assert!(validate_lxcpath("").is_err());
        assert!(validate_lxcpath(&"/a".repeat(3000)).is_err());
    }
}
