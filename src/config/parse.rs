//! The configuration file syntax, as LXC reads it: lines split at '\n' or
//! '\r' (empty lines vanish), '#' comments after leading blanks, lines not
//! starting with "lxc." ignored, "key = value" with optional blanks and one
//! pair of matching quotes around the value.

use super::keys::{self, SetCtx};
use super::model::LxcConf;
use super::validate::complete_hwaddr;
use super::ConfigError;
use crate::error::Error;

/// Whether LXC treats the line as blank (kept as an empty line when saved).
fn is_blank(line: &str) -> bool {
    line.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c | 0))
}

/// `lxc_config_net_is_hwaddr`: "lxc.net[work].<n>.hwaddr..." style lines.
pub fn is_hwaddr_key(line: &str) -> bool {
    if line.starts_with("lxc.net.hwaddr") || line.starts_with("lxc.network.hwaddr") {
        return true;
    }
    let rest = match line
        .strip_prefix("lxc.net.")
        .or_else(|| line.strip_prefix("lxc.network."))
    {
        Some(r) => r,
        None => return false,
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(".hwaddr")
}

/// LXC completes "xx" placeholders of a hwaddr in the saved text too, so
/// the generated address survives a save/load cycle.
fn complete_hwaddr_line(line: &str) -> Option<String> {
    let trimmed = line.trim_start_matches([' ', '\t']);
    if trimmed.starts_with('#') || !is_hwaddr_key(trimmed) {
        return None;
    }
    let eq = line.find('=')?;
    let after = &line[eq + 1..];
    let blanks = after.len() - after.trim_start_matches([' ', '\t']).len();
    let start = eq + 1 + blanks;
    if start >= line.len() {
        return None;
    }
    Some(format!(
        "{}{}",
        &line[..start],
        complete_hwaddr(&line[start..])
    ))
}

/// Splits "key = value" like `parse_line`; `None` for lines LXC skips.
pub fn split_line(line: &str) -> Result<Option<(&str, &str)>, ConfigError> {
    let l = line.trim_start_matches([' ', '\t']);
    if l.starts_with('#') || !l.starts_with("lxc.") {
        return Ok(None);
    }
    let (k, v) = l.split_once('=').ok_or_else(|| {
        ConfigError::new(libc::EINVAL, format!("Invalid configuration line: {l}"))
    })?;
    let key = k.trim_end_matches([' ', '\t', '\n', '\0']);
    let mut value = v
        .trim_start_matches([' ', '\t'])
        .trim_end_matches([' ', '\t', '\n', '\0']);
    let b = value.as_bytes();
    if b.len() > 1 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        value = &value[1..value.len() - 1];
    }
    Ok(Some((key, value)))
}

fn located(e: ConfigError, origin: &str, lineno: usize, key: &str) -> ConfigError {
    let what = if key.is_empty() {
        String::new()
    } else {
        format!(" (key \"{key}\")")
    };
    Error::from(e)
        .context(format_args!(
            "Failed to parse config file \"{origin}\" at line {lineno}{what}"
        ))
        .into()
}

/// Applies every line of `text`. With `unexpanded`, the raw lines are also
/// recorded for saving (top-level files only, never included ones).
pub fn parse_lines(
    conf: &mut LxcConf,
    mut unexpanded: Option<&mut String>,
    text: &str,
    origin: &str,
    ctx: &mut SetCtx,
) -> Result<(), ConfigError> {
    for (i, physical) in text.split('\n').enumerate() {
        for piece in physical.split('\r').filter(|p| !p.is_empty()) {
            let completed;
            let mut line = piece;
            if let Some(buf) = unexpanded.as_deref_mut() {
                if is_blank(line) {
                    buf.push('\n');
                    continue;
                }
                if let Some(l) = complete_hwaddr_line(line) {
                    completed = l;
                    line = &completed;
                }
                buf.push_str(line);
                buf.push('\n');
            }
            let (key, value) = match split_line(line) {
                Ok(Some(kv)) => kv,
                Ok(None) => continue,
                Err(e) => return Err(located(e, origin, i + 1, "")),
            };
            let def = keys::lookup(key).map_err(|e| located(e, origin, i + 1, key))?;
            (def.set)(conf, key, value, ctx).map_err(|e| located(e, origin, i + 1, key))?;
        }
    }
    Ok(())
}
