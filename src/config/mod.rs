//! Container configuration: the LXC 6.0 key table, the parser, the writer.
//! Pure: no syscalls beyond reading included files.
//!
//! The layout mirrors LXC's: a typed model (`model::LxcConf`, LXC's
//! `struct lxc_conf`) that the key table (`keys.rs`) reads and writes, and
//! the "unexpanded" text that `save_config` writes back: the loaded lines
//! verbatim (includes not expanded) plus "key = value" lines for items set
//! through the API, minus the lines of cleared items.

mod include;
mod items;
mod keys;
mod legacy;
mod lists;
pub mod model;
pub mod net;
mod parse;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_hostile;

use std::path::Path;

pub use keys::copies_whole;
pub use model::{IdMap, LxcConf, Personality, Rlimit, HOOK_NAMES};
pub use net::{NetDev, NetType};
pub use validate::{sig_parse, CAPS, NAMESPACES};

pub use crate::error::ConfigError;

/// A container's in-memory configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    conf: LxcConf,
    /// The text `write` returns; every line ends with '\n'.
    unexpanded: String,
    /// Every change in order (loaded text, set lines, clear markers): what
    /// `start` hands the monitor so it rebuilds exactly this configuration.
    /// The saved text alone is not enough: LXC's save keeps lines a clear
    /// removed from memory (`lxc.prlimit.*` after clearing `lxc.prlimit`,
    /// entries from an included file).
    replay: String,
}

/// Starts a clear marker line in the replay text. Loaded text never holds
/// one (see `Config::parse_str`).
const REPLAY_CLEAR: &str = "\u{1}clear ";

/// The key a replay line clears, when it is a clear marker.
fn replay_clear_key(line: &str) -> Option<&str> {
    line.strip_prefix(REPLAY_CLEAR)
}

fn push_line(text: &mut String, line: &str) {
    text.push_str(line);
    if !line.ends_with('\n') {
        text.push('\n');
    }
}

/// C strings end at the first NUL; keys and values behave the same here.
fn c_str(s: &str) -> &str {
    s.find('\0').map_or(s, |i| &s[..i])
}

/// A key is one dotted word: with a blank, a control character or '=' the
/// saved "key = value" line would read back as another key, or as more
/// lines (the parser splits at '\n' and '\r'). EINVAL (LXC accepts them
/// for prefix keys such as `lxc.cgroup.*`; see docs/differences.md).
fn check_key_text(key: &str) -> Result<(), ConfigError> {
    if key
        .chars()
        .any(|ch| ch.is_whitespace() || ch.is_control() || ch == '=')
    {
        return Err(ConfigError::new(
            libc::EINVAL,
            format!("Invalid configuration key {key:?}: blanks, control characters and '=' are not allowed"),
        ));
    }
    Ok(())
}

/// `save_config` writes each item as one line and the parser splits lines
/// at '\n' and '\r': a value holding either would come back as extra
/// lines (say, a hook). EINVAL (LXC accepts them; see docs/differences.md).
fn check_value_text(key: &str, value: &str) -> Result<(), ConfigError> {
    if value.contains(['\n', '\r']) {
        return Err(ConfigError::new(
            libc::EINVAL,
            format!("Invalid value {value:?} for \"{key}\": a value must fit on one line (no '\\n' or '\\r')"),
        ));
    }
    Ok(())
}

/// Keys whose clearing removes every saved line starting with the key
/// (LXC's `do_clear_unexp_config_line`).
fn clears_subkeys(key: &str) -> bool {
    matches!(key, "lxc.cgroup" | "lxc.network" | "lxc.net" | "lxc.hook")
        || key
            .strip_prefix("lxc.net.")
            .is_some_and(|idx| validate::safe_uint(idx).is_ok())
}

impl Config {
    pub fn new() -> Self {
        Self::default()
    }

    /// `set_config_item`. On error the configuration is unchanged.
    pub fn set_item(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let key = c_str(key);
        let value = c_str(value);
        check_key_text(key)?;
        check_value_text(key, value)?;
        let def = keys::lookup(key)?;
        // Complete "xx" placeholders once, so the model and the saved line agree.
        let completed;
        let value = if parse::is_hwaddr_key(key) {
            completed = validate::complete_hwaddr(value);
            completed.as_str()
        } else {
            value
        };
        let mut ctx = keys::SetCtx::default();
        if key == "lxc.include" {
            // An include applies many lines; apply them to a copy.
            let mut copy = self.conf.clone();
            (def.set)(&mut copy, key, value, &mut ctx)?;
            self.conf = copy;
        } else {
            (def.set)(&mut self.conf, key, value, &mut ctx)?;
        }
        push_line(&mut self.replay, &format!("{key} = {value}"));
        if value.is_empty() {
            self.clear_unexpanded(key);
        } else {
            self.unexpanded.push_str(key);
            self.unexpanded.push_str(" = ");
            self.unexpanded.push_str(value);
            self.unexpanded.push('\n');
        }
        Ok(())
    }

    /// `get_config_item`: exactly the text LXC writes into its buffer.
    pub fn get_item(&self, key: &str) -> Result<String, ConfigError> {
        let key = c_str(key);
        (keys::lookup(key)?.get)(&self.conf, key)
    }

    /// `clear_config_item`: resets the item and drops its saved lines.
    pub fn clear_item(&mut self, key: &str) -> Result<(), ConfigError> {
        let key = c_str(key);
        check_key_text(key)?;
        (keys::lookup(key)?.clr)(&mut self.conf, key)?;
        self.clear_unexpanded(key);
        push_line(&mut self.replay, &format!("{REPLAY_CLEAR}{key}"));
        Ok(())
    }

    /// The replay text: loads, sets and clears in order.
    pub fn replay_text(&self) -> &str {
        &self.replay
    }

    /// Rebuilds a configuration from `replay_text` (in the monitor).
    pub fn from_replay(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let mut config = Config::new();
        let mut chunk = String::new();
        for line in text.split_inclusive('\n') {
            match replay_clear_key(line) {
                Some(key) => {
                    config.parse_str(&std::mem::take(&mut chunk), origin)?;
                    config.clear_item(key.trim_end_matches('\n'))?;
                }
                None => chunk.push_str(line),
            }
        }
        config.parse_str(&chunk, origin)?;
        Ok(config)
    }

    /// `get_keys`. `None` lists every top-level key; "lxc.net.<i>" the
    /// keys valid for that interface's type; a few namespaces ("lxc.cap",
    /// "lxc.hook", ...) their fixed subkey lists. LXC writes each entry
    /// followed by '\n' (the last one too).
    pub fn get_keys(&self, prefix: Option<&str>) -> Result<Vec<String>, ConfigError> {
        let prefix = match prefix {
            None => return Ok(keys::all_names()),
            Some(p) => c_str(p),
        };
        if prefix.starts_with("lxc.net.") {
            return net::list_keys(&self.conf, prefix);
        }
        keys::subkeys(prefix)
            .map(|l| l.iter().map(|s| s.to_string()).collect())
            .ok_or_else(|| ConfigError::new(libc::EINVAL, format!("No subkeys for \"{prefix}\"")))
    }

    /// Loads a configuration file on top of this configuration (LXC's
    /// `load_config` does not reset either). On error nothing changes.
    pub fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = include::read_text(path)?;
        self.parse_str(&text, &path.display().to_string())
    }

    /// Parses configuration text as if read from the file `origin`.
    /// On error nothing changes.
    pub fn parse_str(&mut self, text: &str, origin: &str) -> Result<(), ConfigError> {
        let text = c_str(text);
        let mut conf = self.conf.clone();
        let mut unexpanded = self.unexpanded.clone();
        let mut ctx = keys::SetCtx::default();
        parse::parse_lines(&mut conf, Some(&mut unexpanded), text, origin, &mut ctx)?;
        self.conf = conf;
        self.unexpanded = unexpanded;
        // A line of the file that reads as a clear marker would clear, in
        // the monitor, what the caller set before; the parser ignored it
        // (it does not start with "lxc."), so the replay drops it too.
        let replayed: String = text
            .split_inclusive('\n')
            .filter(|line| replay_clear_key(line).is_none())
            .collect();
        if !replayed.is_empty() {
            push_line(&mut self.replay, &replayed);
        }
        Ok(())
    }

    /// Lets go of the texts (`write`, `replay_text`) for a holder that only
    /// reads and sets items from now on (the monitor of a running
    /// container keeps its configuration for its whole life).
    pub fn keep_items_only(&mut self) {
        self.unexpanded = String::new();
        self.replay = String::new();
    }

    /// The text `save_config` writes.
    pub fn write(&self) -> String {
        self.unexpanded.clone()
    }

    /// Forgets everything (a fresh configuration with LXC's defaults).
    pub fn clear(&mut self) {
        *self = Config::default();
    }

    /// `clear_unexp_config_line`: drops saved lines that start with `key`
    /// followed by a blank or '=' (or anything, for subkey-clearing keys).
    fn clear_unexpanded(&mut self, key: &str) {
        if key.is_empty() || !self.unexpanded.contains(key) {
            return;
        }
        let subkeys = clears_subkeys(key);
        let mut kept = String::with_capacity(self.unexpanded.len());
        for line in self.unexpanded.split_inclusive('\n') {
            let drop = line.strip_prefix(key).is_some_and(|rest| {
                subkeys
                    || rest
                        .bytes()
                        .next()
                        .is_some_and(|b| validate::is_c_space(b) || b == b'=')
            });
            if !drop {
                kept.push_str(line);
            }
        }
        self.unexpanded = kept;
    }

    /// The typed model, for the lifecycle code.
    pub fn conf(&self) -> &LxcConf {
        &self.conf
    }

    pub fn uts_name(&self) -> Option<&str> {
        self.conf.uts_name.as_deref()
    }

    pub fn rootfs_path(&self) -> Option<&str> {
        self.conf.rootfs_path.as_deref()
    }

    pub fn log_file(&self) -> Option<&str> {
        self.conf.log_file.as_deref()
    }

    /// 0 (TRACE) ..= 8 (FATAL), `None` when not configured.
    pub fn log_level(&self) -> Option<i32> {
        (self.conf.log_level != model::LOG_LEVEL_NOTSET).then_some(self.conf.log_level)
    }

    pub fn init_cmd(&self) -> Option<&str> {
        self.conf.init_cmd.as_deref()
    }

    /// Network interfaces in index order.
    pub fn networks(&self) -> impl Iterator<Item = (u32, &NetDev)> {
        self.conf.netdevs.iter().map(|(i, d)| (*i, &**d))
    }
}

/// `lxc_config_item_is_supported`: an exact match on one of the 86 table
/// names ("lxc.net" and "lxc.net." yes, "lxc.net.0.type" no).
pub fn is_supported_key(key: &str) -> bool {
    keys::is_table_name(key)
}
