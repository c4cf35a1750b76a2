//! The hierarchies of a start, found by the caller while its monitor is
//! being executed and handed to the monitor with their mountpoints opened.
//! Finding them (mountinfo, the base cgroup, each mountpoint opened through
//! sysfs, what may be written there) took the monitor 0.2 ms before it
//! could start its network namespace's thread, on the path of every start,
//! while the caller only waits for it with a CPU to spare. The monitor
//! trusts them as it trusts the configuration (both come from the process
//! that executed it, from the same thread, so with the same mounts, cgroups
//! and credentials) and finds them itself when none come: a caller that
//! failed or went away, or one stopped or starved for `WAIT_MS` (the
//! monitor must not depend on its caller going on), costs it only the old
//! way's time.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;

use super::files::MountDir;
use super::Hierarchy;
use crate::error::{Error, Result};
use crate::sys::socket;

/// A hierarchy and whether this process may create cgroups below its
/// base cgroup ([`Hierarchy::delegated`]).
pub type Found = (Hierarchy, bool);

/// Fields of one hierarchy in a message, each NUL-terminated.
const FIELDS: usize = 6;

/// The most hierarchies one message carries (the kernel has 14 v1
/// controllers and one cgroup2; named hierarchies come on top).
const MAX_HIERARCHIES: usize = socket::MAX_FDS;

/// How long the monitor waits for them: the caller sends them about 0.3
/// ms after the spawn, and the monitor asks about 0.5 ms after its exec.
const WAIT_MS: i32 = 20;

/// The hierarchies of a start (`relative`: `lxc.cgroup.relative`), as
/// the caller sends them and as the monitor finds them when none came.
pub fn find(relative: bool) -> Result<Vec<Found>> {
    Ok(super::detect_base(relative)?
        .into_iter()
        .map(|h| {
            let delegated = h.delegated();
            (h, delegated)
        })
        .collect())
}

/// Finds the hierarchies of a start and sends them on `sock`, one message.
pub fn send(sock: &OwnedFd, relative: bool) -> Result<()> {
    let found = find(relative)?;
    let (bytes, fds) = encode(&found)?;
    let fds: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    socket::send_with_fds(sock, &bytes, &fds).map(drop)
}

/// What the caller sent on `sock`; None (the monitor then finds them
/// itself) when it sent nothing usable or went away.
pub fn receive(sock: &OwnedFd) -> Option<Vec<Found>> {
    if !socket::wait_readable(sock, WAIT_MS) {
        return None;
    }
    let mut buf = vec![0u8; 64 * 1024];
    let got = socket::recv_msg_flags(sock, &mut buf, libc::MSG_DONTWAIT).ok()?;
    decode(&buf[..got.len], got.fds)
}

/// The message of `found`; its descriptors borrow from `found`, so they
/// cannot be sent after it is dropped (which closes them).
fn encode(found: &[Found]) -> Result<(Vec<u8>, Vec<BorrowedFd<'_>>)> {
    if found.len() > MAX_HIERARCHIES {
        return Err(Error::invalid("Too many cgroup hierarchies to hand over"));
    }
    let mut bytes = Vec::new();
    let mut fds = Vec::new();
    for (h, delegated) in found {
        let fd = h
            .mount
            .fd()
            .ok_or_else(|| Error::invalid("A cgroup hierarchy without its mountpoint opened"))?;
        let order = h.order.to_string();
        let controllers = h.controllers.join(",");
        let fields: [&[u8]; FIELDS] = [
            order.as_bytes(),
            if h.unified { b"2" } else { b"1" },
            if *delegated { b"y" } else { b"n" },
            controllers.as_bytes(),
            h.current.as_bytes(),
            h.mountpoint.as_os_str().as_bytes(),
        ];
        for field in fields {
            if field.contains(&0) {
                return Err(Error::invalid("A cgroup path with a NUL byte"));
            }
            bytes.extend_from_slice(field);
            bytes.push(0);
        }
        fds.push(fd);
    }
    Ok((bytes, fds))
}

fn decode(bytes: &[u8], fds: Vec<OwnedFd>) -> Option<Vec<Found>> {
    let fields: Vec<&[u8]> = bytes.strip_suffix(&[0])?.split(|b| *b == 0).collect();
    if !fields.len().is_multiple_of(FIELDS) || fields.len() / FIELDS != fds.len() {
        return None;
    }
    let text = |f: &[u8]| std::str::from_utf8(f).ok().map(str::to_string);
    fields
        .chunks(FIELDS)
        .zip(fds)
        .map(|(f, fd)| {
            let hierarchy = Hierarchy {
                order: text(f[0])?.parse().ok()?,
                unified: match f[1] {
                    b"2" => true,
                    b"1" => false,
                    _ => return None,
                },
                controllers: text(f[3])?
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                current: text(f[4])?,
                mountpoint: PathBuf::from(OsStr::from_bytes(f[5])),
                mount: MountDir::opened(Arc::new(fd)),
            };
            let delegated = match f[2] {
                b"y" => true,
                b"n" => false,
                _ => return None,
            };
            Some((hierarchy, delegated))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hierarchy(mountpoint: &str, controllers: &[&str], unified: bool, order: usize) -> Hierarchy {
        let fd = crate::sys::at::openat(None, std::path::Path::new("/"), libc::O_PATH).unwrap();
        Hierarchy {
            mountpoint: mountpoint.into(),
            controllers: controllers.iter().map(|c| c.to_string()).collect(),
            unified,
            current: "/a b/c".into(),
            order,
            mount: MountDir::opened(Arc::new(fd)),
        }
    }

    /// What the caller found arrives whole, descriptors included; what is
    /// malformed or missing gives None, never a partial list.
    #[test]
    fn hierarchies_travel_whole_or_not_at_all() {
        let found = vec![
            (
                hierarchy("/sys/fs/cgroup/cpu,cpuacct", &["cpu", "cpuacct"], false, 3),
                true,
            ),
            (hierarchy("/sys/fs/cgroup/unified", &[], true, 0), false),
        ];
        let (a, b) = crate::sys::socketpair_seqpacket().unwrap();
        let (bytes, fds) = encode(&found).unwrap();
        let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
        socket::send_with_fds(&a, &bytes, &raw).unwrap();
        let got = receive(&b).unwrap();
        assert_eq!(got.len(), 2);
        for ((want, wd), (have, hd)) in found.iter().zip(&got) {
            assert_eq!((want, wd), (have, hd));
            assert!(have.mount.fd().is_some());
        }

        let (bytes, _) = encode(&found).unwrap();
        let root =
            || crate::sys::at::openat(None, std::path::Path::new("/"), libc::O_PATH).unwrap();
        assert!(
            decode(&bytes, vec![root()]).is_none(),
            "a descriptor missing"
        );
        assert!(decode(&bytes[..bytes.len() - 1], vec![root(), root()]).is_none());
        let mut bad = bytes.clone();
        let kind = bad.iter().position(|b| *b == 0).unwrap() + 1;
        bad[kind] = b'x';
        assert!(
            decode(&bad, vec![root(), root()]).is_none(),
            "neither v1 nor v2"
        );
        assert_eq!(
            decode(&bytes, vec![root(), root()]).map(|v| v.len()),
            Some(2)
        );
        drop(a);
        assert!(receive(&b).is_none(), "the caller went away");

        // A caller that sends nothing is not waited for beyond WAIT_MS.
        let (_quiet, end) = crate::sys::socketpair_seqpacket().unwrap();
        let asked = std::time::Instant::now();
        assert!(receive(&end).is_none());
        let waited = asked.elapsed();
        assert!(waited >= std::time::Duration::from_millis(WAIT_MS as u64 / 2));
        assert!(waited < std::time::Duration::from_secs(2));
    }

    /// What `send` finds on this host arrives (a send whose descriptors
    /// were closed before the message went failed every start unnoticed:
    /// the monitor fell back to finding them itself).
    #[test]
    fn the_caller_s_send_arrives() {
        let Ok(here) = find(false) else { return };
        let (a, b) = crate::sys::socketpair_seqpacket().unwrap();
        send(&a, false).unwrap();
        let got = receive(&b).expect("the hierarchies sent");
        assert_eq!(got.len(), here.len());
        assert!(got.iter().all(|(h, _)| h.mount.fd().is_some()));
    }
}
