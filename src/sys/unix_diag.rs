//! The listening unix sockets of this network namespace, from the kernel's
//! socket-diagnostics netlink interface (what `ss -xl` uses). Unlike
//! /proc/net/unix, which prints every unix socket as text (connections,
//! socket pairs: several per running container), the kernel filters by
//! state and sends names only.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `<linux/sock_diag.h>`, `<linux/unix_diag.h>`.
const NETLINK_SOCK_DIAG: i32 = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const UDIAG_SHOW_NAME: u32 = 0x1;
const UNIX_DIAG_NAME: u16 = 0;
/// A unix socket's state when it listens (the TCP numbering).
const TCP_LISTEN: u32 = 10;

const NLMSG_HDR: usize = 16;
/// `struct unix_diag_msg`.
const DIAG_MSG: usize = 16;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The names of the listening unix sockets as /proc/net/unix shows them:
/// an abstract one with '@' for its leading NUL; unnamed ones left out.
pub fn listening_names() -> std::io::Result<Vec<String>> {
    // SAFETY: socket(2) returns a fresh descriptor or -1.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh and ours.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    send_request(&sock)?;
    let mut names = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: receiving into our buffer.
        let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 || parse_batch(&buf[..n as usize], &mut names)? {
            return Ok(names);
        }
    }
}

fn send_request(sock: &OwnedFd) -> std::io::Result<()> {
    let len = NLMSG_HDR + 24;
    let mut req = Vec::with_capacity(len);
    req.extend_from_slice(&(len as u32).to_ne_bytes());
    req.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req.extend_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16).to_ne_bytes());
    // Sequence number and port id.
    req.extend_from_slice(&[0u8; 8]);
    // struct unix_diag_req: family, protocol, padding; the states wanted;
    // any inode; what to show; no cookie.
    req.extend_from_slice(&[libc::AF_UNIX as u8, 0, 0, 0]);
    req.extend_from_slice(&(1u32 << TCP_LISTEN).to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes());
    req.extend_from_slice(&UDIAG_SHOW_NAME.to_ne_bytes());
    req.extend_from_slice(&[0u8; 8]);
    // SAFETY: sending our buffer to the kernel (a netlink socket's default
    // destination).
    let sent = unsafe { libc::send(sock.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
    if sent < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads one datagram of netlink messages into `names`; whether the dump
/// is over.
fn parse_batch(mut b: &[u8], names: &mut Vec<String>) -> std::io::Result<bool> {
    while b.len() >= NLMSG_HDR {
        let len = u32_at(b, 0) as usize;
        let kind = u16_at(b, 4);
        if len < NLMSG_HDR || len > b.len() {
            return Err(std::io::Error::from_raw_os_error(libc::EBADMSG));
        }
        match kind as i32 {
            libc::NLMSG_DONE => return Ok(true),
            libc::NLMSG_ERROR => {
                let errno = b
                    .get(NLMSG_HDR..NLMSG_HDR + 4)
                    .map_or(libc::EIO, |e| -i32::from_ne_bytes([e[0], e[1], e[2], e[3]]));
                return Err(std::io::Error::from_raw_os_error(errno));
            }
            _ if kind == SOCK_DIAG_BY_FAMILY && len >= NLMSG_HDR + DIAG_MSG => {
                if let Some(name) = name_of(&b[NLMSG_HDR + DIAG_MSG..len]) {
                    names.push(name);
                }
            }
            _ => {}
        }
        b = &b[align4(len).min(b.len())..];
    }
    Ok(false)
}

/// The UNIX_DIAG_NAME attribute among `attrs`, shown as /proc/net/unix does.
fn name_of(mut attrs: &[u8]) -> Option<String> {
    while attrs.len() >= 4 {
        let len = u16_at(attrs, 0) as usize;
        if len < 4 || len > attrs.len() {
            return None;
        }
        if u16_at(attrs, 2) == UNIX_DIAG_NAME {
            let raw = &attrs[4..len];
            return Some(match raw.split_first() {
                Some((0, rest)) => format!("@{}", String::from_utf8_lossy(rest)),
                _ => String::from_utf8_lossy(raw).into_owned(),
            });
        }
        attrs = &attrs[align4(len).min(attrs.len())..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_listening_abstract_socket_and_not_a_connected_one() {
        let name = format!("lxc-test-diag/{}/command", std::process::id());
        let listener = crate::sys::socket::listen(&name).unwrap();
        let (_a, _b) = crate::sys::socketpair_seqpacket().unwrap();
        let names = listening_names().unwrap();
        assert!(names.contains(&format!("@{name}")), "{names:?}");
        drop(listener);
        // Another test's child may hold a copy between its fork and exec.
        let gone = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            !listening_names().unwrap().contains(&format!("@{name}"))
        });
        assert!(gone);
    }
}
