//! Which containers exist under an lxcpath: defined ones (a directory with
//! a `config` file) and active ones (a listening command socket).

use std::path::Path;

use crate::error::{Error, Result};

/// Names of the containers defined under `lxcpath`, sorted. A missing
/// lxcpath is an error, as LXC's opendir failure is.
pub fn defined_names(lxcpath: &str) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(lxcpath)
        .map_err(|e| Error::io("Failed to open lxcpath", Path::new(lxcpath), &e))?;
    let mut names: Vec<String> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            if name.starts_with('.') {
                return None;
            }
            entry.path().join("config").is_file().then_some(name)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Names of the running containers of `lxcpath`, found from the abstract
/// command sockets that listen ("@<lxcpath>/<name>/command"), sorted and
/// unique. Hashed names ("@lxc/<fnv64>/command", used when the path is
/// too long) are resolved by asking their monitor, as LXC does.
pub fn active_names(lxcpath: &str) -> Result<Vec<String>> {
    let listening = listening_sockets()?;
    let mut names = active_names_in(&listening, lxcpath);
    let want = lxcpath.trim_end_matches('/');
    for sock in hashed_sockets_in(&listening) {
        if let Ok(Some((path, name))) = crate::commands::client::identify(&sock, 5) {
            if path.trim_end_matches('/') == want {
                names.push(name);
            }
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The names of this network namespace's listening unix sockets: from the
/// kernel's socket diagnostics (listening ones only, no text: with 1000
/// containers running, a listing took 0.9 ms here, 3.6-4.4 ms through
/// /proc/net/unix, which LXC reads and which lists every connection too),
/// or from /proc/net/unix where that interface is missing.
fn listening_sockets() -> Result<Vec<String>> {
    if let Ok(names) = crate::sys::unix_diag::listening_names() {
        return Ok(names);
    }
    let table = crate::sys::procfs::read("/proc/net/unix")
        .map_err(|e| Error::io("Failed to read", Path::new("/proc/net/unix"), &e))?;
    Ok(listening_in(&table))
}

/// The paths of the listening sockets of a /proc/net/unix table. A
/// monitor's accepted connections carry its socket's name too, and can
/// outlive the listener for a moment while it says goodbye to its state
/// clients: only the listener (`__SO_ACCEPTCON` in Flags) means the
/// container is active.
fn listening_in(proc_net_unix: &str) -> Vec<String> {
    const SO_ACCEPTCON: u32 = 0x0001_0000;
    proc_net_unix
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let flags = u32::from_str_radix(fields.nth(3)?, 16).ok()?;
            (flags & SO_ACCEPTCON != 0).then_some(())?;
            fields.nth(3).map(str::to_string)
        })
        .collect()
}

/// Hashed command-socket names among listening sockets (without '@').
pub fn hashed_sockets_in(listening: &[String]) -> Vec<String> {
    let mut out: Vec<String> = listening
        .iter()
        .filter_map(|path| {
            let path = path.strip_prefix('@')?;
            let hash = path.strip_prefix("lxc/")?.strip_suffix("/command")?;
            (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| path.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The container names of `lxcpath` among listening sockets.
pub fn active_names_in(listening: &[String], lxcpath: &str) -> Vec<String> {
    let prefix = format!("@{}/", lxcpath.trim_end_matches('/'));
    let mut names: Vec<String> = listening
        .iter()
        .filter_map(|path| {
            let rest = path.strip_prefix(&prefix)?;
            let name = rest.strip_suffix("/command")?;
            (!name.is_empty() && !name.contains('/')).then(|| name.to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Defined and active names merged, sorted, unique.
pub fn all_names(lxcpath: &str) -> Result<Vec<String>> {
    let mut names = defined_names(lxcpath)?;
    names.extend(active_names(lxcpath)?);
    names.sort();
    names.dedup();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_unix() {
        let table = "Num       RefCount Protocol Flags    Type St Inode Path\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 31 @/var/lib/lxc/c2/command\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 32 @/var/lib/lxc/c1/command\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 33 @/var/lib/lxc/c1/command\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 34 @/other/c3/command\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 35 /run/x.sock\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 36\n\
            0000000000000000: 00000003 00000000 00000000 0001 03 37 @/var/lib/lxc/gone/command\n";
        let table = listening_in(table);
        assert_eq!(active_names_in(&table, "/var/lib/lxc"), vec!["c1", "c2"]);
        assert_eq!(active_names_in(&table, "/var/lib/lxc/"), vec!["c1", "c2"]);
        assert!(active_names_in(&table, "/none").is_empty());
        let hashed = "0: 00000002 00000000 00010000 0001 01 37 @lxc/594cf6578e76045e/command\n\
            0: 00000002 00000000 00010000 0001 01 38 @lxc/594cf6578e76045e/command\n\
            0: 00000002 00000000 00010000 0001 01 39 @lxc/xyz/command\n";
        assert_eq!(
            hashed_sockets_in(&listening_in(hashed)),
            vec!["lxc/594cf6578e76045e/command"]
        );
    }

    #[test]
    fn defined() {
        let d = std::env::temp_dir().join(format!("lxc-listing-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for (name, with_config) in [("b", true), ("a", true), ("nocfg", false)] {
            std::fs::create_dir_all(d.join(name)).unwrap();
            if with_config {
                std::fs::write(d.join(name).join("config"), "").unwrap();
            }
        }
        assert_eq!(defined_names(d.to_str().unwrap()).unwrap(), vec!["a", "b"]);
        assert!(defined_names("/nonexistent-lxcpath").is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
