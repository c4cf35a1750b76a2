//! A monitor's malloc without its per-thread cache. glibc keeps up to seven
//! freed chunks of each small size in a cache that `malloc_trim` never
//! empties; in a monitor, which frees most of what its start allocated
//! and then idles for the container's life, those chunks pin about 16 kB
//! of heap pages per running container. The cache can only be turned off
//! by glibc's tunables, read from the environment when the process
//! starts: the monitor is spawned with `glibc.malloc.tcache_count=0`
//! added, and puts its spawner's environment back first thing, so that
//! nothing it runs (hooks, init's environment is its own) sees the change.

use std::ffi::{CStr, CString};

const TUNABLES: &str = "GLIBC_TUNABLES";
const NO_THREAD_CACHE: &str = "glibc.malloc.tcache_count=0";
/// What the spawner's GLIBC_TUNABLES was: `=<value>`, or `-` for unset.
const SPAWNER_TUNABLES: &str = "LXC_MONITOR_SPAWNER_GLIBC_TUNABLES";

/// A spawner's environment with malloc's thread cache turned off.
pub struct Environment<'a> {
    /// The spawner's entries but its GLIBC_TUNABLES (not copied).
    kept: Vec<&'a CStr>,
    /// GLIBC_TUNABLES and the record of the spawner's own.
    added: [CString; 2],
}

impl Environment<'_> {
    pub fn entries(&self) -> impl Iterator<Item = &CStr> {
        self.kept
            .iter()
            .copied()
            .chain(self.added.iter().map(CString::as_c_str))
    }

    /// The entries as execve takes them, NULL-terminated (alive as long as
    /// `self`).
    pub fn pointers(&self) -> Vec<*mut std::ffi::c_char> {
        self.entries()
            .map(|e| e.as_ptr() as *mut std::ffi::c_char)
            .chain(std::iter::once(std::ptr::null_mut()))
            .collect()
    }
}

/// The environment `spawner_env` (NAME=value entries) with the thread
/// cache turned off and the spawner's own setting recorded.
pub fn environment<'a>(spawner_env: impl Iterator<Item = &'a CStr>) -> Environment<'a> {
    let mut kept = Vec::new();
    let mut spawner_value = None;
    let value_of =
        |entry: &'a [u8], name: &str| entry.strip_prefix(name.as_bytes())?.strip_prefix(b"=");
    for entry in spawner_env {
        let bytes = entry.to_bytes();
        if let Some(value) = value_of(bytes, TUNABLES) {
            spawner_value = Some(value);
        } else if value_of(bytes, SPAWNER_TUNABLES).is_none() {
            kept.push(entry);
        }
    }
    let (tunables, saved) = match spawner_value {
        // Later settings win: ours comes last.
        Some(v) if !v.is_empty() => (
            [v, b":", NO_THREAD_CACHE.as_bytes()].concat(),
            [b"=", v].concat(),
        ),
        Some(_) => (NO_THREAD_CACHE.as_bytes().to_vec(), b"=".to_vec()),
        None => (NO_THREAD_CACHE.as_bytes().to_vec(), b"-".to_vec()),
    };
    // No NUL inside: every part came from C strings or constants.
    let entry = |name: &str, value: Vec<u8>| {
        CString::new([name.as_bytes(), b"=", &value].concat()).unwrap_or_default()
    };
    Environment {
        kept,
        added: [entry(TUNABLES, tunables), entry(SPAWNER_TUNABLES, saved)],
    }
}

/// In a process spawned with `environment`: the spawner's GLIBC_TUNABLES
/// back as it was. Nothing changes in a process spawned otherwise. Called
/// while the process has a single thread.
pub fn restore_spawner_environment() {
    let Some(saved) = std::env::var_os(SPAWNER_TUNABLES) else {
        return;
    };
    std::env::remove_var(SPAWNER_TUNABLES);
    match saved.as_encoded_bytes().strip_prefix(b"=") {
        Some(value) => {
            use std::os::unix::ffi::OsStrExt;
            std::env::set_var(TUNABLES, std::ffi::OsStr::from_bytes(value));
        }
        None => std::env::remove_var(TUNABLES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(entries: &[&str]) -> Vec<String> {
        let owned: Vec<CString> = entries.iter().map(|e| CString::new(*e).unwrap()).collect();
        environment(owned.iter().map(CString::as_c_str))
            .entries()
            .map(|c| c.to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn adds_the_setting_and_records_the_spawner_s() {
        assert_eq!(
            env_of(&["PATH=/bin", "HOME=/root"]),
            [
                "PATH=/bin",
                "HOME=/root",
                "GLIBC_TUNABLES=glibc.malloc.tcache_count=0",
                "LXC_MONITOR_SPAWNER_GLIBC_TUNABLES=-"
            ]
        );
        assert_eq!(
            env_of(&["GLIBC_TUNABLES=glibc.malloc.check=3", "A=1"]),
            [
                "A=1",
                "GLIBC_TUNABLES=glibc.malloc.check=3:glibc.malloc.tcache_count=0",
                "LXC_MONITOR_SPAWNER_GLIBC_TUNABLES==glibc.malloc.check=3"
            ]
        );
        // A stale record from a spawner spawned so is not passed on twice.
        let again = env_of(&[
            "GLIBC_TUNABLES=",
            "LXC_MONITOR_SPAWNER_GLIBC_TUNABLES=-",
            "GLIBC_TUNABLESX=y",
            "LXC_MONITOR_SPAWNER_GLIBC_TUNABLESX=z",
        ]);
        assert_eq!(
            again,
            [
                "GLIBC_TUNABLESX=y",
                "LXC_MONITOR_SPAWNER_GLIBC_TUNABLESX=z",
                "GLIBC_TUNABLES=glibc.malloc.tcache_count=0",
                "LXC_MONITOR_SPAWNER_GLIBC_TUNABLES=="
            ]
        );
    }
}
