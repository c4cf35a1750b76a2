//! The listening unix sockets of this network namespace, from the kernel's
//! socket-diagnostics netlink interface (what `ss -xl` uses). Unlike
//! /proc/net/unix, which prints every unix socket as text (connections,
//! socket pairs: several per running container), the kernel filters by
//! state and sends names only.

use super::netlink::{self as nl, Outcome, Request};

/// `<linux/sock_diag.h>`, `<linux/unix_diag.h>`.
const NETLINK_SOCK_DIAG: i32 = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const UDIAG_SHOW_NAME: u32 = 0x1;
const UNIX_DIAG_NAME: u16 = 0;
/// A unix socket's state when it listens (the TCP numbering).
const TCP_LISTEN: u32 = 10;
/// `struct unix_diag_msg`.
const DIAG_MSG: usize = 16;

/// The names of the listening unix sockets as /proc/net/unix shows them:
/// an abstract one with '@' for its leading NUL; unnamed ones left out.
pub fn listening_names() -> std::io::Result<Vec<String>> {
    let sock = nl::open(NETLINK_SOCK_DIAG, &[], false)?;
    // struct unix_diag_req: family, protocol, padding; the states wanted;
    // any inode; what to show; no cookie.
    let mut req_body = Vec::with_capacity(24);
    req_body.extend_from_slice(&[libc::AF_UNIX as u8, 0, 0, 0]);
    req_body.extend_from_slice(&(1u32 << TCP_LISTEN).to_ne_bytes());
    req_body.extend_from_slice(&0u32.to_ne_bytes());
    req_body.extend_from_slice(&UDIAG_SHOW_NAME.to_ne_bytes());
    req_body.extend_from_slice(&[0u8; 8]);
    let mut req = Request::new(SOCK_DIAG_BY_FAMILY, 0, &req_body);
    nl::send(
        &sock,
        req.datagram(0, (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16),
    )?;
    let mut names = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = nl::recv(&sock, &mut buf)?;
        if n == 0 || parse_batch(&buf[..n], &mut names)? {
            return Ok(names);
        }
    }
}

/// Reads one datagram of netlink messages into `names`; whether the dump
/// is over.
fn parse_batch(datagram: &[u8], names: &mut Vec<String>) -> std::io::Result<bool> {
    for msg in nl::messages(datagram) {
        let msg = msg?;
        match msg.outcome() {
            Outcome::Done => return Ok(true),
            Outcome::Failed(errno) => return Err(std::io::Error::from_raw_os_error(errno)),
            Outcome::Data(diag) if msg.kind == SOCK_DIAG_BY_FAMILY && diag.len() >= DIAG_MSG => {
                if let Some(name) = nl::find_attr(&diag[DIAG_MSG..], UNIX_DIAG_NAME) {
                    names.push(match name.split_first() {
                        Some((0, rest)) => format!("@{}", String::from_utf8_lossy(rest)),
                        _ => String::from_utf8_lossy(name).into_owned(),
                    });
                }
            }
            Outcome::Data(_) => {}
        }
    }
    Ok(false)
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
