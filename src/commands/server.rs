//! Server side of the command socket, used by the monitor: listen, read a
//! request with its sender's credentials, answer.

use std::os::fd::{OwnedFd, RawFd};

use super::{Cmd, Header, DATA_MAX, HEADER_LEN};
use crate::error::{Error, Result};
use crate::sys::socket;

pub use socket::accept;

/// Listens on the command socket of `name` in `lxcpath`.
pub fn listen(lxcpath: &str, name: &str) -> Result<OwnedFd> {
    socket::listen(&super::socket_name(lxcpath, name))
}

/// A request as received.
#[derive(Debug)]
pub struct Request {
    pub cmd: i32,
    pub header: Header,
    pub data: Vec<u8>,
    /// Whether the sender may control this container (LXC's rule: root, or
    /// the monitor's own uid and gid).
    pub permitted: bool,
}

impl Request {
    pub fn is(&self, cmd: Cmd) -> bool {
        self.cmd == cmd as i32
    }

    /// The payload as a NUL-terminated string request (LXC 6.0 rejects
    /// payloads without their NUL).
    pub fn string(&self) -> Option<String> {
        let (last, body) = self.data.split_last()?;
        if *last != 0 || body.contains(&0) {
            return None;
        }
        String::from_utf8(body.to_vec()).ok()
    }
}

fn permitted(cred: Option<libc::ucred>) -> bool {
    let Some(cred) = cred else { return false };
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    cred.uid == 0 || (cred.uid == uid && cred.gid == gid)
}

/// Reads one request; Ok(None) when the peer closed or sent garbage.
pub fn read_request(conn: &OwnedFd) -> Result<Option<Request>> {
    let mut hbuf = [0u8; HEADER_LEN];
    let first = socket::recv_msg(conn, &mut hbuf)?;
    if first.len == 0 {
        return Ok(None);
    }
    if first.len < HEADER_LEN && !socket::read_full(conn, &mut hbuf[first.len..])? {
        return Ok(None);
    }
    let header = Header::decode(&hbuf);
    let len = usize::try_from(header.datalen).unwrap_or(0);
    if len > DATA_MAX && header.first != Cmd::ConsoleLog as i32 {
        return Err(Error::new(
            libc::E2BIG,
            format!("Command data too large: {len} bytes"),
        ));
    }
    let mut data = vec![0u8; len];
    if len > 0 && !socket::read_full(conn, &mut data)? {
        return Ok(None);
    }
    Ok(Some(Request {
        cmd: header.first,
        header,
        data,
        permitted: permitted(first.cred),
    }))
}

/// A response to send.
#[derive(Debug, Default)]
pub struct Response<'a> {
    /// 0 or -errno.
    pub ret: i32,
    /// The pointer field: an inline value.
    pub inline: u64,
    pub data: &'a [u8],
    /// Descriptors passed with the header (SCM_RIGHTS).
    pub fds: &'a [RawFd],
}

impl Response<'_> {
    pub fn error(errno: i32) -> Response<'static> {
        Response {
            ret: -errno,
            ..Default::default()
        }
    }

    pub fn inline(value: i32) -> Response<'static> {
        Response {
            inline: super::int_to_ptr(value),
            ..Default::default()
        }
    }
}

/// A string response carries its NUL, as LXC sends it.
pub fn with_nul(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

pub fn respond(conn: &OwnedFd, rsp: &Response<'_>) -> Result<()> {
    let header = Header {
        first: rsp.ret,
        datalen: rsp.data.len() as i32,
        inline: rsp.inline,
    };
    let bytes = header.encode();
    let sent = if rsp.fds.is_empty() {
        0
    } else {
        socket::send_with_fds(conn, &bytes, rsp.fds)?
    };
    socket::write_full(conn, &bytes[sent..])?;
    if !rsp.data.is_empty() {
        socket::write_full(conn, rsp.data)?;
    }
    Ok(())
}

/// Sends a state message to a waiting state client.
pub fn push_state(conn: &OwnedFd, name: &str, state: usize) -> Result<()> {
    socket::write_full(conn, &super::encode_state_msg(name, state as i32))
}

/// Bounds how long a slow client can hold the single-threaded monitor.
pub fn set_client_timeout(conn: &OwnedFd) -> Result<()> {
    socket::set_recv_timeout(conn, 2)
}
