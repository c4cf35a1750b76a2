//! Container configuration: the LXC 6.0 key table, the parser, the writer.
//! Pure: no syscalls beyond reading included files.

use std::path::Path;

/// A configuration error: an errno-style code and a message naming the key
/// (and, for parse errors, the file and the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub errno: i32,
    pub message: String,
}

/// A container's in-memory configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    lines: Vec<(String, String)>,
}

impl Config {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_item(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        self.lines.push((key.to_string(), value.to_string()));
        Ok(())
    }

    pub fn get_item(&self, key: &str) -> Result<String, ConfigError> {
        Ok(self
            .lines
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default())
    }

    pub fn clear_item(&mut self, key: &str) -> Result<(), ConfigError> {
        self.lines.retain(|(k, _)| k != key);
        Ok(())
    }

    pub fn get_keys(&self, _prefix: Option<&str>) -> Result<Vec<String>, ConfigError> {
        Ok(Vec::new())
    }

    pub fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            errno: e.raw_os_error().unwrap_or(libc::EIO),
            message: format!("Failed to read {}: {e}", path.display()),
        })?;
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                self.set_item(k.trim(), v.trim())?;
            }
        }
        Ok(())
    }

    pub fn write(&self) -> String {
        self.lines
            .iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect()
    }

    pub fn clear(&mut self) {
        self.lines.clear();
    }
}

/// Whether `key` is exactly one of LXC 6.0's top-level configuration keys.
pub fn is_supported_key(_key: &str) -> bool {
    false
}
