//! Time namespaces (`lxc.time.offset.boot`, `lxc.time.offset.monotonic`).
//!
//! The kernel accepts offsets in `/proc/<pid>/timens_offsets` only while
//! no task has entered the time namespace they belong to. So init, once
//! it is root of its user namespace (when it has one: the namespace is
//! then owned by it, as LXC's), unshares a time namespace (which only
//! becomes its `time_for_children`), writes the offsets, and enters it
//! with setns, which a single-threaded task may do. Everything init runs
//! afterwards, hooks and its exec'd payload included, sees the shifted
//! clocks. Done in init and not in the monitor so the monitor's own later
//! children (hooks, a reboot's new init) never inherit it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::config::Config;
use crate::error::{Error, Result};

/// A clock offset as the kernel takes it: whole seconds (any sign) and
/// nanoseconds in [0, 1e9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offset {
    pub sec: i64,
    pub nsec: i64,
}

impl Offset {
    /// From the configuration's pair (LXC keeps seconds and nanoseconds
    /// apart: "1h" sets one, "5ms" the other); an overflow saturates
    /// into a value the kernel refuses with ERANGE.
    fn from_parts(s: i64, ns: i64) -> Offset {
        let total = i128::from(s) * 1_000_000_000 + i128::from(ns);
        let sec = total.div_euclid(1_000_000_000);
        Offset {
            sec: i64::try_from(sec).unwrap_or(if sec < 0 { i64::MIN } else { i64::MAX }),
            nsec: total.rem_euclid(1_000_000_000) as i64,
        }
    }

    fn is_zero(&self) -> bool {
        self.sec == 0 && self.nsec == 0
    }
}

/// The offsets of the container's clocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeOffsets {
    pub boot: Offset,
    pub monotonic: Offset,
}

impl TimeOffsets {
    pub fn from_config(config: &Config) -> TimeOffsets {
        let c = config.conf();
        TimeOffsets {
            boot: Offset::from_parts(c.time_offset_boot_s, c.time_offset_boot_ns),
            monotonic: Offset::from_parts(c.time_offset_monotonic_s, c.time_offset_monotonic_ns),
        }
    }

    /// Whether any offset is set (LXC then gives the container a time
    /// namespace by default).
    pub fn any(&self) -> bool {
        !self.boot.is_zero() || !self.monotonic.is_zero()
    }

    /// The text written to `timens_offsets`: one "<clock> <sec> <nsec>"
    /// line per non-zero offset.
    fn proc_text(&self) -> String {
        [("monotonic", self.monotonic), ("boottime", self.boot)]
            .iter()
            .filter(|(_, o)| !o.is_zero())
            .map(|(clock, o)| format!("{clock} {} {}\n", o.sec, o.nsec))
            .collect()
    }
}

const OFFSETS_FILE: &str = "/proc/self/timens_offsets";

/// In init, before it changes its ids: `timens_offsets`, opened now
/// because a task whose credentials changed is not dumpable, and the
/// /proc/self files of such a task belong to the host's root, which a
/// user namespace's root may not open. Writes through it reach whatever
/// namespace is init's `time_for_children` then.
pub fn open_offsets() -> Result<File> {
    OpenOptions::new()
        .write(true)
        .open(OFFSETS_FILE)
        .map_err(|e| Error::io("Failed to open", Path::new(OFFSETS_FILE), &e))
}

/// In init: a new time namespace with `offsets` (written through
/// `offsets_file`, from `open_offsets`), entered by init itself.
pub fn enter_new(offsets: &TimeOffsets, mut offsets_file: File) -> Result<()> {
    // SAFETY: unshare with a flag.
    if unsafe { libc::unshare(libc::CLONE_NEWTIME) } < 0 {
        return Err(Error::last_os("Failed to create the time namespace"));
    }
    let text = offsets.proc_text();
    if !text.is_empty() {
        offsets_file.write_all(text.as_bytes()).map_err(|e| {
            Error::io(
                &format!("Failed to write the time offsets \"{}\" to", text.trim()),
                Path::new(OFFSETS_FILE),
                &e,
            )
        })?;
    }
    let path = Path::new("/proc/self/ns/time_for_children");
    let ns = File::open(path)
        .map_err(|e| Error::io("Failed to open the new time namespace", path, &e))?;
    // SAFETY: setns on a namespace descriptor we own.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWTIME) } < 0 {
        return Err(Error::last_os("Failed to enter the new time namespace"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_normalized_for_the_kernel() {
        assert_eq!(Offset::from_parts(10, 5), Offset { sec: 10, nsec: 5 });
        assert_eq!(
            Offset::from_parts(0, -1),
            Offset {
                sec: -1,
                nsec: 999_999_999
            }
        );
        assert_eq!(
            Offset::from_parts(0, 2_500_000_000),
            Offset {
                sec: 2,
                nsec: 500_000_000
            }
        );
        assert_eq!(Offset::from_parts(i64::MAX, 1_000_000_000).sec, i64::MAX);
    }

    #[test]
    fn config_to_proc_text() {
        let mut c = Config::new();
        assert!(!TimeOffsets::from_config(&c).any());
        c.set_item("lxc.time.offset.boot", "2h").unwrap();
        c.set_item("lxc.time.offset.monotonic", "-500ms").unwrap();
        let t = TimeOffsets::from_config(&c);
        assert!(t.any());
        assert_eq!(t.proc_text(), "monotonic -1 500000000\nboottime 7200 0\n");
        c.set_item("lxc.time.offset.monotonic", "").unwrap();
        assert_eq!(
            TimeOffsets::from_config(&c).proc_text(),
            "boottime 7200 0\n"
        );
    }
}
