//! User namespaces for `lxc.idmap`: the text of /proc/<pid>/uid_map and
//! gid_map, writing them for a freshly cloned init (directly as root,
//! through newuidmap/newgidmap otherwise), and init's switch to root
//! inside once they are written.

pub mod mapped;

use std::path::Path;
use std::process::Command;

use crate::config::IdMap;
use crate::error::{Error, Result};

/// The lines of one map file ('u' for uid_map, 'g' for gid_map):
/// "<nsid> <hostid> <range>\n" per entry, in configuration order.
pub fn map_text(maps: &[IdMap], kind: char) -> String {
    maps.iter()
        .filter(|m| m.kind == kind)
        .map(|m| format!("{} {} {}\n", m.nsid, m.hostid, m.range))
        .collect()
}

/// The entries of a map file's text (as /proc/<pid>/uid_map shows it),
/// tagged `kind`; malformed lines are skipped.
pub fn parse_text(text: &str, kind: char) -> Vec<IdMap> {
    text.lines()
        .filter_map(|line| {
            let v: Vec<u64> = line
                .split_whitespace()
                .map(|w| w.parse().ok())
                .collect::<Option<_>>()?;
            let [nsid, hostid, range] = v[..] else {
                return None;
            };
            Some(IdMap {
                kind,
                nsid,
                hostid,
                range,
            })
        })
        .collect()
}

/// The host id that `nsid` maps to, if any entry of `kind` covers it.
pub fn host_id(maps: &[IdMap], kind: char, nsid: u64) -> Option<u32> {
    maps.iter()
        .filter(|m| m.kind == kind)
        .find(|m| nsid >= m.nsid && nsid - m.nsid < m.range)
        .and_then(|m| u32::try_from(m.hostid + (nsid - m.nsid)).ok())
}

/// The nsid `hostid` is mapped to by the `kind` maps, if any
/// (LXC's `mapped_hostid`).
pub fn mapped_hostid(maps: &[IdMap], kind: char, hostid: u64) -> Option<u64> {
    maps.iter()
        .filter(|m| m.kind == kind)
        .find(|m| hostid >= m.hostid && hostid - m.hostid < m.range)
        .map(|m| m.nsid + (hostid - m.hostid))
}

/// The lowest nsid no `kind` map covers (LXC's `find_unmapped_nsid`).
pub fn unmapped_nsid(maps: &[IdMap], kind: char) -> u64 {
    let mut free = 0u64;
    'again: loop {
        for m in maps.iter().filter(|m| m.kind == kind) {
            if free >= m.nsid && free - m.nsid < m.range {
                free = m.nsid + m.range;
                continue 'again;
            }
        }
        return free;
    }
}

/// The host uid and gid of the container's root (what its cgroups,
/// console and rootfs belong to). Both must be mapped.
pub fn host_root(maps: &[IdMap]) -> Result<(u32, u32)> {
    match (host_id(maps, 'u', 0), host_id(maps, 'g', 0)) {
        (Some(u), Some(g)) => Ok((u, g)),
        _ => Err(Error::invalid(
            "lxc.idmap must map both uid 0 and gid 0 of the container",
        )),
    }
}

/// The arguments newuidmap/newgidmap take after the pid:
/// "<nsid> <hostid> <range>" triples.
pub fn helper_args(maps: &[IdMap], kind: char) -> Vec<String> {
    maps.iter()
        .filter(|m| m.kind == kind)
        .flat_map(|m| [m.nsid, m.hostid, m.range].map(|n| n.to_string()))
        .collect()
}

fn find_helper(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_else(|| vec!["/usr/bin".into(), "/bin".into()])
        .into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn write_file(pid: i32, file: &str, text: &str) -> Result<()> {
    let path = format!("/proc/{pid}/{file}");
    std::fs::write(&path, text).map_err(|e| {
        Error::io(
            &format!("Failed to write \"{}\" to", text.trim().replace('\n', ", ")),
            Path::new(&path),
            &e,
        )
    })
}

fn run_helper(helper: &str, pid: i32, maps: &[IdMap], kind: char) -> Result<()> {
    let program = find_helper(helper).ok_or_else(|| {
        Error::new(
            libc::ENOENT,
            format!("{helper} is needed to write the id maps as an unprivileged user"),
        )
    })?;
    let args = helper_args(maps, kind);
    let out = Command::new(&program)
        .arg(pid.to_string())
        .args(&args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::io("Failed to run", &program, &e))?;
    if !out.status.success() {
        // newuidmap says which range /etc/subuid does not allow.
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(Error::new(
            libc::EPERM,
            format!(
                "{helper} {pid} {} failed ({}): {}",
                args.join(" "),
                out.status,
                why.trim().replace('\n', "; ")
            ),
        ));
    }
    Ok(())
}

/// Writes init's uid_map and gid_map from the monitor, before init goes
/// on. As root the files are written directly (no /etc/subuid needed);
/// otherwise newuidmap/newgidmap do it.
pub fn write_maps(pid: i32, maps: &[IdMap]) -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        write_file(pid, "uid_map", &map_text(maps, 'u'))?;
        write_file(pid, "gid_map", &map_text(maps, 'g'))
    } else {
        run_helper("newuidmap", pid, maps, 'u')?;
        run_helper("newgidmap", pid, maps, 'g')
    }
}

/// In init, once its maps exist: become root of the user namespace (the
/// ids it was cloned with are unmapped), dropping supplementary groups
/// when the namespace allows setgroups.
pub fn become_root() -> Result<()> {
    let setgroups_allowed = crate::sys::procfs::read("/proc/self/setgroups")
        .map(|s| s.trim() == "allow")
        .unwrap_or(true);
    // SAFETY: plain id syscalls.
    unsafe {
        if libc::setresgid(0, 0, 0) < 0 {
            return Err(Error::last_os(
                "Failed to switch to gid 0 in the user namespace",
            ));
        }
        if libc::setresuid(0, 0, 0) < 0 {
            return Err(Error::last_os(
                "Failed to switch to uid 0 in the user namespace",
            ));
        }
        if setgroups_allowed && libc::setgroups(0, std::ptr::null()) < 0 {
            return Err(Error::last_os(
                "Failed to drop the supplementary groups in the user namespace",
            ));
        }
    }
    Ok(())
}

/// Gives `path` to the container's root on the host (its cgroup
/// directories and files, console and tty ptys).
pub fn chown_path(path: &Path, (uid, gid): (u32, u32)) -> Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| Error::io(&format!("Failed to chown to {uid}:{gid}"), path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_files() {
        let maps = [
            IdMap::new('u', 0, 100000, 65536),
            IdMap::new('g', 0, 100000, 65536),
            IdMap::new('u', 65536, 1000, 1),
        ];
        assert_eq!(map_text(&maps, 'u'), "0 100000 65536\n65536 1000 1\n");
        assert_eq!(map_text(&maps, 'g'), "0 100000 65536\n");
        assert_eq!(map_text(&[], 'u'), "");
        let text = "         0     100000      65536\n     65536       1000          1\nbad\n";
        let parsed = parse_text(text, 'u');
        assert_eq!(parsed.len(), 2);
        assert_eq!(map_text(&parsed, 'u'), "0 100000 65536\n65536 1000 1\n");
        assert_eq!(host_id(&parsed, 'u', 0), Some(100000));
        assert_eq!(
            helper_args(&maps, 'u'),
            ["0", "100000", "65536", "65536", "1000", "1"]
        );
    }

    #[test]
    fn lookups() {
        let maps = [
            IdMap::new('u', 0, 100000, 65536),
            IdMap::new('g', 5, 200005, 1),
            IdMap::new('g', 0, 300000, 5),
        ];
        assert_eq!(host_id(&maps, 'u', 0), Some(100000));
        assert_eq!(host_id(&maps, 'u', 65535), Some(165535));
        assert_eq!(host_id(&maps, 'u', 65536), None);
        assert_eq!(host_id(&maps, 'g', 5), Some(200005));
        assert_eq!(host_id(&maps, 'g', 6), None);
        assert_eq!(host_root(&maps).unwrap(), (100000, 300000));
        assert!(host_root(&maps[..2]).is_err());
    }
}
