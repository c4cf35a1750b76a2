//! `lxc.include`: a file, or every "*.conf" in a directory. Included lines
//! change the configuration but are not part of the saved text, which
//! keeps the `lxc.include` line itself.

use std::path::Path;

use super::keys::SetCtx;
use super::model::LxcConf;
use super::parse;
use super::ConfigError;
use crate::error::Error;

/// Include nesting LXC would follow until its stack ran out; a loop is
/// reported instead.
pub const MAX_DEPTH: u32 = 32;
/// Files read per load, so that a fan-out of includes cannot go exponential.
pub const MAX_FILES: u32 = 4096;

/// Reads a configuration file's text the way LXC does: the content stops
/// at the first NUL byte; invalid UTF-8 is replaced, never fatal. Unlike
/// LXC, only a regular file of at most `sys::MAX_READ_SIZE` bytes is read
/// (a FIFO or a device would hang or exhaust the caller).
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    let mut bytes = crate::sys::read_regular_file(path)?;
    if let Some(nul) = bytes.iter().position(|b| *b == 0) {
        bytes.truncate(nul);
    }
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Applies one included file (its lines are not recorded for saving).
pub fn include_file(conf: &mut LxcConf, path: &str, ctx: &mut SetCtx) -> Result<(), ConfigError> {
    if ctx.depth >= MAX_DEPTH {
        return Err(ConfigError::new(
            libc::ELOOP,
            format!("Too many nested includes at \"{path}\""),
        ));
    }
    if ctx.files_left == 0 {
        return Err(ConfigError::new(
            libc::E2BIG,
            format!("Too many included files at \"{path}\""),
        ));
    }
    ctx.files_left -= 1;
    let text = read_text(Path::new(path))?;
    ctx.depth += 1;
    let r = parse::parse_lines(conf, None, &text, path, ctx);
    ctx.depth -= 1;
    r
}

/// `do_includedir`: "*.conf" entries (name longer than ".conf"), in name
/// order; a missing directory is not an error.
fn include_dir(conf: &mut LxcConf, dir: &str, ctx: &mut SetCtx) -> Result<(), ConfigError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("Failed to open directory", Path::new(dir), &e).into()),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() >= 6 && n.ends_with(".conf"))
        .collect();
    names.sort();
    for name in names {
        include_file(conf, &format!("{dir}/{name}"), ctx)?;
    }
    Ok(())
}

/// The `lxc.include` setter.
pub fn include(conf: &mut LxcConf, value: &str, ctx: &mut SetCtx) -> Result<(), ConfigError> {
    if value.is_empty() {
        return Ok(());
    }
    if value.ends_with('/') || Path::new(value).is_dir() {
        return include_dir(conf, value, ctx);
    }
    include_file(conf, value, ctx)
}
