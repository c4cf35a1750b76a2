//! Netlink sockets and the message format they carry (`<linux/netlink.h>`):
//! a request built in place, replies read as borrowed slices. Only what the
//! callers send and read is encoded or decoded; a generic parser of every
//! attribute the kernel may send costs each long-lived process a private
//! copy of its relocated tables.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `struct nlmsghdr`.
pub const HEADER_LEN: usize = 16;
/// Set on an attribute holding attributes.
const NLA_F_NESTED: u16 = 1 << 15;
const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | (1 << 14));

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The netlink address of `port` (0: the kernel's, or, bound, one the
/// kernel picks).
fn address(port: u32) -> libc::sockaddr_nl {
    // SAFETY: all zeroes is a valid sockaddr_nl.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    addr.nl_pid = port;
    addr
}

/// A netlink socket of `protocol`, bound to a port the kernel picks,
/// listening to multicast `groups` (none: only answers to its requests).
pub fn open(protocol: i32, groups: &[u32], nonblocking: bool) -> std::io::Result<OwnedFd> {
    let kind =
        libc::SOCK_RAW | libc::SOCK_CLOEXEC | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
    // SAFETY: socket(2) returns a fresh descriptor or -1.
    let fd = unsafe { libc::socket(libc::AF_NETLINK, kind, protocol) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh and ours.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let addr = address(0);
    // SAFETY: `addr` is a sockaddr_nl of the size given.
    let bound = unsafe {
        libc::bind(
            fd,
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if bound < 0 {
        return Err(std::io::Error::last_os_error());
    }
    for group in groups {
        // SAFETY: NETLINK_ADD_MEMBERSHIP reads one int from `group`.
        let joined = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_NETLINK,
                libc::NETLINK_ADD_MEMBERSHIP,
                (group as *const u32).cast(),
                std::mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if joined < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(sock)
}

/// Sends one datagram to the kernel.
pub fn send(sock: &impl AsRawFd, datagram: &[u8]) -> std::io::Result<()> {
    send_to(sock, datagram, 0)
}

/// Sends one datagram to netlink port `port`.
pub fn send_to(sock: &impl AsRawFd, datagram: &[u8], port: u32) -> std::io::Result<()> {
    let to = address(port);
    loop {
        // SAFETY: sending our buffer to the address given, of the size given.
        let sent = unsafe {
            libc::sendto(
                sock.as_raw_fd(),
                datagram.as_ptr().cast(),
                datagram.len(),
                0,
                (&to as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if sent >= 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Receives one datagram from the kernel into `buf`; its length. What
/// another process sent to this socket's port is dropped unread: a socket
/// in a container's network namespace can be sent replies forged by a
/// root inside (with CAP_NET_ADMIN there), which must never pass for the
/// kernel's answer (a port of 0 is the kernel's alone).
pub fn recv(sock: &impl AsRawFd, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        let mut from = address(0);
        let mut from_len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: receiving into our buffer and address, of their lengths.
        let n = unsafe {
            libc::recvfrom(
                sock.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&mut from as *mut libc::sockaddr_nl).cast(),
                &mut from_len,
            )
        };
        if n >= 0 {
            if from.nl_pid == 0 {
                return Ok(n as usize);
            }
            continue;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// A request being built: its header, a fixed family header, then
/// attributes, possibly nested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    buf: Vec<u8>,
    open_nests: Vec<usize>,
}

impl Request {
    /// A message of `kind` with `flags` and a fixed header `family_header`
    /// (`struct ifinfomsg` and the like).
    pub fn new(kind: u16, flags: u16, family_header: &[u8]) -> Request {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        // Sequence number (set by `datagram`) and port (the kernel's: 0).
        buf.extend_from_slice(&[0; 8]);
        let mut req = Request {
            buf,
            open_nests: Vec::new(),
        };
        req.put(family_header);
        req
    }

    fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.buf.resize(align4(self.buf.len()), 0);
    }

    /// An attribute of `kind` holding `value`.
    pub fn attr(&mut self, kind: u16, value: &[u8]) -> &mut Request {
        let len = 4 + value.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.put(value);
        self
    }

    pub fn attr_u16(&mut self, kind: u16, value: u16) -> &mut Request {
        self.attr(kind, &value.to_ne_bytes())
    }

    pub fn attr_u32(&mut self, kind: u16, value: u32) -> &mut Request {
        self.attr(kind, &value.to_ne_bytes())
    }

    /// A NUL-terminated string attribute.
    pub fn attr_str(&mut self, kind: u16, value: &str) -> &mut Request {
        let mut bytes = Vec::with_capacity(value.len() + 1);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
        self.attr(kind, &bytes)
    }

    /// Opens an attribute of `kind` holding what follows until `end_nest`
    /// (without NLA_F_NESTED: the link attributes predate it and are
    /// parsed without it).
    pub fn begin_nest(&mut self, kind: u16) -> &mut Request {
        self.open_nests.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self
    }

    /// Raw bytes inside the open nest (a nested `struct ifinfomsg`).
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Request {
        self.put(bytes);
        self
    }

    pub fn end_nest(&mut self) -> &mut Request {
        if let Some(at) = self.open_nests.pop() {
            let len = (self.buf.len() - at) as u16;
            self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    /// What follows the netlink header.
    pub fn body(&self) -> &[u8] {
        &self.buf[HEADER_LEN..]
    }

    pub fn kind(&self) -> u16 {
        u16::from_ne_bytes([self.buf[4], self.buf[5]])
    }

    /// The message as sent, numbered `seq`, with `extra_flags` added.
    pub fn datagram(&mut self, seq: u32, extra_flags: u16) -> &[u8] {
        while !self.open_nests.is_empty() {
            self.end_nest();
        }
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        let flags = u16::from_ne_bytes([self.buf[6], self.buf[7]]) | extra_flags;
        self.buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        &self.buf
    }
}

/// One message of a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub kind: u16,
    pub seq: u32,
    /// What follows the netlink header.
    pub payload: &'a [u8],
}

/// What a message says about its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// An answer (a dump's entry, a get's reply, a notification).
    Data(&'a [u8]),
    /// The request's end: its ACK or a dump's end.
    Done,
    /// The request failed with this errno.
    Failed(i32),
}

impl<'a> Message<'a> {
    pub fn outcome(&self) -> Outcome<'a> {
        let code = || {
            self.payload
                .get(..4)
                .map_or(0, |c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        };
        match i32::from(self.kind) {
            libc::NLMSG_ERROR => match code() {
                0 => Outcome::Done,
                c => Outcome::Failed(-c),
            },
            // A dump's end may carry the error that cut it short.
            libc::NLMSG_DONE => match code() {
                c if c < 0 => Outcome::Failed(-c),
                _ => Outcome::Done,
            },
            _ => Outcome::Data(self.payload),
        }
    }
}

/// The messages of one received datagram; an error (EBADMSG) for one whose
/// length does not fit.
pub fn messages(mut datagram: &[u8]) -> impl Iterator<Item = std::io::Result<Message<'_>>> {
    std::iter::from_fn(move || {
        if datagram.len() < HEADER_LEN {
            return None;
        }
        let len = u32_at(datagram, 0) as usize;
        if len < HEADER_LEN || len > datagram.len() {
            datagram = &[];
            return Some(Err(std::io::Error::from_raw_os_error(libc::EBADMSG)));
        }
        let msg = Message {
            kind: u16_at(datagram, 4),
            seq: u32_at(datagram, 8),
            payload: &datagram[HEADER_LEN..len],
        };
        datagram = &datagram[align4(len).min(datagram.len())..];
        Some(Ok(msg))
    })
}

/// The attributes in `bytes` (not descending into nests): (kind without
/// its flags, value). Stops at the first malformed one.
pub fn attrs(mut bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if bytes.len() < 4 {
            return None;
        }
        let len = u16_at(bytes, 0) as usize;
        if len < 4 || len > bytes.len() {
            bytes = &[];
            return None;
        }
        let item = (u16_at(bytes, 2) & NLA_TYPE_MASK, &bytes[4..len]);
        bytes = &bytes[align4(len).min(bytes.len())..];
        Some(item)
    })
}

/// The value of the first attribute of `kind` in `bytes`.
pub fn find_attr(bytes: &[u8], kind: u16) -> Option<&[u8]> {
    attrs(bytes).find(|(k, _)| *k == kind).map(|(_, v)| v)
}

/// A string attribute's value without its terminating NUL.
pub fn attr_str(value: &[u8]) -> &[u8] {
    value.split(|&b| b == 0).next().unwrap_or(value)
}

pub fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_nested_attributes_with_their_lengths_and_padding() {
        let mut req = Request::new(16, libc::NLM_F_REQUEST as u16, &[1, 2, 3]);
        req.attr_str(3, "ab").begin_nest(18);
        req.attr_u16(1, 7).end_nest();
        let dgram = req.datagram(9, libc::NLM_F_ACK as u16).to_vec();
        let body: &[u8] = &dgram[HEADER_LEN..];
        assert_eq!(u32_at(&dgram, 0) as usize, dgram.len());
        assert_eq!(
            u16_at(&dgram, 6),
            (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16
        );
        assert_eq!(u32_at(&dgram, 8), 9);
        // family header padded to 4, "ab\0" padded to 4, nest of one u16
        assert_eq!(&body[..4], &[1, 2, 3, 0]);
        assert_eq!(&body[4..12], &[7, 0, 3, 0, b'a', b'b', 0, 0]);
        assert_eq!(&body[12..16], &[12, 0, 18, 0]);
        assert_eq!(&body[16..24], &[6, 0, 1, 0, 7, 0, 0, 0]);
        let found: Vec<_> = attrs(&body[4..]).collect();
        assert_eq!(found.len(), 2);
        assert_eq!(attr_str(found[0].1), b"ab");
        assert_eq!(find_attr(found[1].1, 1), Some(&[7u8, 0][..]));
    }

    #[test]
    fn reads_acks_errors_and_a_dump_end() {
        let mut d = Vec::new();
        for (kind, code) in [(2u16, 0i32), (2, -libc::ENODEV), (3, 0), (3, -libc::EINTR)] {
            d.extend_from_slice(&20u32.to_ne_bytes());
            d.extend_from_slice(&kind.to_ne_bytes());
            d.extend_from_slice(&[0; 2]);
            d.extend_from_slice(&5u32.to_ne_bytes());
            d.extend_from_slice(&[0; 4]);
            d.extend_from_slice(&code.to_ne_bytes());
        }
        let got: Vec<_> = messages(&d).map(|m| m.unwrap().outcome()).collect();
        assert_eq!(
            got,
            [
                Outcome::Done,
                Outcome::Failed(libc::ENODEV),
                Outcome::Done,
                Outcome::Failed(libc::EINTR)
            ]
        );
        // A length past the datagram is an error, then the end.
        {
            let mut short = messages(&d[..30]);
            assert!(short.next().unwrap().is_ok());
            assert!(short.next().is_none());
        }
        d[0] = 200;
        let mut bad = messages(&d);
        assert_eq!(
            bad.next().unwrap().unwrap_err().raw_os_error(),
            Some(libc::EBADMSG)
        );
        assert!(bad.next().is_none());
    }
}
