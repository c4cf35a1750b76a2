//! The container's console and ttys across a checkpoint: host ptys bound
//! into the container, which CRIU dumps as external (their mounts and
//! the descriptors on them) and restores onto the new ptys the restoring
//! monitor made. The console's id goes to `tty.info` as LXC writes it;
//! the ttys', which LXC does not handle, to `ttys.info`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::cmdline::{self, NewTerminal, Terminal};
use crate::error::{Error, Result};

const CONSOLE_FILE: &str = "tty.info";
const TTYS_FILE: &str = "ttys.info";

fn console_terminal(id: String) -> Terminal {
    Terminal {
        key: "console".into(),
        mountpoint: "/dev/console".into(),
        id,
    }
}

/// The terminals of the running container whose init is `pid`, saved in
/// `dir`: its console unless `lxc.console.path = none`, ttys 1..=tty_max.
pub fn save(dir: &Path, pid: i32, console: bool, tty_max: u32) -> Result<Vec<Terminal>> {
    let id_of = |inside: &str| -> Result<String> {
        let path = format!("/proc/{pid}/root{inside}");
        let st = std::fs::metadata(&path)
            .map_err(|e| Error::io("Failed to stat", Path::new(&path), &e))?;
        Ok(cmdline::tty_id(st.rdev(), st.dev()))
    };
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| Error::io("Failed to write", &path, &e))
    };
    let mut out = Vec::new();
    if console {
        let t = console_terminal(id_of("/dev/console")?);
        write(CONSOLE_FILE, &t.id)?;
        out.push(t);
    }
    let mut lines = String::new();
    for n in 1..=tty_max {
        let mountpoint = format!("/dev/tty{n}");
        let t = Terminal {
            key: format!("tty{n}"),
            id: id_of(&mountpoint)?,
            mountpoint,
        };
        lines.push_str(&format!("{} {} {}\n", t.key, t.mountpoint, t.id));
        out.push(t);
    }
    if tty_max > 0 {
        write(TTYS_FILE, &lines)?;
    }
    Ok(out)
}

/// Parses `ttys.info`.
fn parse_ttys(text: &str) -> Vec<Terminal> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some(Terminal {
                key: w.next()?.into(),
                mountpoint: w.next()?.into(),
                id: w.next()?.into(),
            })
        })
        .collect()
}

/// The dumped terminals of `dir` matched with the new ptys (slave, path):
/// the console with the console, tty N with tty N.
pub fn for_restore(
    dir: &Path,
    console: Option<(&OwnedFd, &str)>,
    ttys: &[(&OwnedFd, &str)],
) -> Result<Vec<NewTerminal>> {
    let read = |name: &str| match std::fs::read_to_string(dir.join(name)) {
        Ok(t) => Ok(Some(t)),
        // A dump of a container without console (or ttys) has none.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("Failed to read", &dir.join(name), &e)),
    };
    let mut out = Vec::new();
    if let Some(id) = read(CONSOLE_FILE)? {
        let Some((fd, path)) = console else {
            return Err(Error::invalid(
                "lxc.console.path configured on source host but not target",
            ));
        };
        out.push(NewTerminal {
            terminal: console_terminal(id.trim().to_string()),
            fd: fd.as_raw_fd(),
            path: path.to_string(),
        });
    }
    let dumped = parse_ttys(&read(TTYS_FILE)?.unwrap_or_default());
    for (i, t) in dumped.into_iter().enumerate() {
        let Some((fd, path)) = ttys.get(i) else {
            return Err(Error::invalid(format!(
                "The checkpoint has {} ttys, lxc.tty.max is {}",
                i + 1,
                ttys.len()
            )));
        };
        out.push(NewTerminal {
            terminal: t,
            fd: fd.as_raw_fd(),
            path: path.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttys_file() {
        let t = parse_ttys("tty1 /dev/tty1 tty[8801:19]\n\ntty2 /dev/tty2 tty[8802:19]\nbad\n");
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].key, "tty2");
        assert_eq!(t[1].mountpoint, "/dev/tty2");
        assert_eq!(t[1].id, "tty[8802:19]");
    }
}
