//! AF_UNIX sockets with credentials and fd passing: the command protocol
//! and every other socket of ours (attach, sentinel, id-map helper).

use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};
use crate::sys;

fn abstract_addr(name: &str) -> Result<(libc::sockaddr_un, libc::socklen_t)> {
    // SAFETY: sockaddr_un is plain data.
    let mut addr: libc::sockaddr_un = unsafe { zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = name.as_bytes();
    if bytes.len() + 1 >= addr.sun_path.len() {
        return Err(Error::invalid(format!("Socket name too long: {name}")));
    }
    for (i, b) in bytes.iter().enumerate() {
        addr.sun_path[i + 1] = *b as libc::c_char;
    }
    let len = size_of::<libc::sa_family_t>() + 1 + bytes.len();
    Ok((addr, len as libc::socklen_t))
}

/// A close-on-exec AF_UNIX socket of `kind` (with SOCK_NONBLOCK if asked).
fn unix_socket(kind: libc::c_int) -> Result<OwnedFd> {
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(libc::AF_UNIX, kind | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::last_os("Failed to create a unix socket"));
    }
    // SAFETY: fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Connects `sock` to `addr`; the error names `shown` and keeps the errno.
fn connect_to(
    sock: OwnedFd,
    (addr, len): (libc::sockaddr_un, libc::socklen_t),
    shown: impl std::fmt::Display,
) -> Result<OwnedFd> {
    // SAFETY: addr is a valid sockaddr_un of `len` bytes.
    let r = unsafe {
        libc::connect(
            sock.as_raw_fd(),
            &addr as *const _ as *const libc::sockaddr,
            len,
        )
    };
    if r < 0 {
        return Err(Error::last_os(format_args!("Failed to connect to {shown}")));
    }
    Ok(sock)
}

/// Binds `sock` to `addr` and listens; on failure, the errno and whether
/// it was the bind.
fn bind_and_listen(
    sock: OwnedFd,
    (addr, len): (libc::sockaddr_un, libc::socklen_t),
    backlog: libc::c_int,
) -> std::result::Result<OwnedFd, (i32, bool)> {
    // SAFETY: addr is a valid sockaddr_un of `len` bytes.
    let bound = unsafe {
        libc::bind(
            sock.as_raw_fd(),
            &addr as *const _ as *const libc::sockaddr,
            len,
        )
    };
    if bound < 0 {
        return Err((sys::errno(), true));
    }
    // SAFETY: listen on our own socket.
    if unsafe { libc::listen(sock.as_raw_fd(), backlog) } < 0 {
        return Err((sys::errno(), false));
    }
    Ok(sock)
}

fn os_error(errno: i32) -> std::io::Error {
    std::io::Error::from_raw_os_error(errno)
}

/// Connects to the abstract socket `name`. The error keeps the errno
/// (ECONNREFUSED means nobody listens: the container is stopped).
pub fn connect(name: &str) -> Result<OwnedFd> {
    connect_to(
        unix_socket(libc::SOCK_STREAM)?,
        abstract_addr(name)?,
        format_args!("@{name}"),
    )
}

/// Binds and listens on the abstract socket `name`.
pub fn listen(name: &str) -> Result<OwnedFd> {
    let sock = unix_socket(libc::SOCK_STREAM)?;
    bind_and_listen(sock, abstract_addr(name)?, 100).map_err(|(errno, bind)| {
        let why = match (bind, errno) {
            (true, libc::EADDRINUSE) => "the container appears to be already running".to_string(),
            _ => os_error(errno).to_string(),
        };
        let what = if bind {
            "create command socket"
        } else {
            "listen on"
        };
        Error::new(errno, format!("Failed to {what} @{name}: {why}"))
    })
}

fn path_addr(path: &std::path::Path) -> Result<(libc::sockaddr_un, libc::socklen_t)> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: sockaddr_un is plain data.
    let mut addr: libc::sockaddr_un = unsafe { zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(Error::new(
            libc::ENAMETOOLONG,
            format!("Socket path unusable: {}", path.display()),
        ));
    }
    for (i, b) in bytes.iter().enumerate() {
        addr.sun_path[i] = *b as libc::c_char;
    }
    let len = size_of::<libc::sa_family_t>() + bytes.len() + 1;
    Ok((addr, len as libc::socklen_t))
}

/// Connects a SOCK_SEQPACKET socket to the socket file at `path`.
pub fn connect_seqpacket_path(path: &std::path::Path) -> Result<OwnedFd> {
    connect_to(
        unix_socket(libc::SOCK_SEQPACKET)?,
        path_addr(path)?,
        path.display(),
    )
}

/// Connects a SOCK_SEQPACKET socket to `addr`: a path, or `@name` for an
/// abstract socket; `shown` names it in the error.
pub fn connect_seqpacket(addr: &str, shown: impl std::fmt::Display) -> Result<OwnedFd> {
    let sockaddr = match addr.strip_prefix('@') {
        Some(name) => abstract_addr(name)?,
        None => path_addr(std::path::Path::new(addr))?,
    };
    connect_to(unix_socket(libc::SOCK_SEQPACKET)?, sockaddr, shown)
}

/// A listening SOCK_SEQPACKET socket bound to a new socket file at `path`;
/// non-blocking: `accept` says EAGAIN once no connection waits.
pub fn listen_seqpacket_path(path: &std::path::Path) -> Result<OwnedFd> {
    let sock = unix_socket(libc::SOCK_SEQPACKET | libc::SOCK_NONBLOCK)?;
    bind_and_listen(sock, path_addr(path)?, 128).map_err(|(errno, bind)| {
        let what = if bind { "bind" } else { "listen on" };
        let shown = path.display();
        Error::new(
            errno,
            format!("Failed to {what} {shown}: {}", os_error(errno)),
        )
    })
}

/// The credentials of the peer of a connected socket (SO_PEERCRED).
pub fn peer_credentials(sock: &impl AsRawFd) -> Result<libc::ucred> {
    // SAFETY: ucred is plain data, filled by the kernel.
    let mut cred: libc::ucred = unsafe { zeroed() };
    let mut len = size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt into a local ucred of `len` bytes.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut cred as *mut _ as *mut libc::c_void,
            &mut len,
        )
    };
    if r < 0 {
        return Err(Error::last_os("Failed to read the peer's credentials"));
    }
    Ok(cred)
}

/// Accepts one connection (close-on-exec, non-blocking as asked).
pub fn accept_plain(listener: &OwnedFd, nonblocking: bool) -> Result<OwnedFd> {
    let flags = libc::SOCK_CLOEXEC | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
    // SAFETY: accept4 on our listening socket.
    let fd = unsafe {
        libc::accept4(
            listener.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            flags,
        )
    };
    if fd < 0 {
        return Err(Error::last_os("Failed to accept a connection"));
    }
    // SAFETY: fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Accepts one connection with SO_PASSCRED enabled.
pub fn accept(listener: &OwnedFd) -> Result<OwnedFd> {
    let conn = accept_plain(listener, false).map_err(|e| {
        let err = std::io::Error::from_raw_os_error(e.errno);
        Error::os("Failed to accept a command connection", &err)
    })?;
    set_int_opt(&conn, libc::SO_PASSCRED, 1)?;
    Ok(conn)
}

fn set_int_opt(sock: &OwnedFd, opt: libc::c_int, value: libc::c_int) -> Result<()> {
    // SAFETY: setsockopt with a pointer to a local int.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            &value as *const _ as *const libc::c_void,
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(Error::last_os("Failed to set a socket option"));
    }
    Ok(())
}

/// Bounds every later receive on `sock` (0 = no bound).
pub fn set_recv_timeout(sock: &OwnedFd, seconds: i32) -> Result<()> {
    set_timeout(sock, libc::SO_RCVTIMEO, seconds)
}

/// Bounds every later send on `sock` (0 = no bound).
pub fn set_send_timeout(sock: &OwnedFd, seconds: i32) -> Result<()> {
    set_timeout(sock, libc::SO_SNDTIMEO, seconds)
}

fn set_timeout(sock: &OwnedFd, opt: libc::c_int, seconds: i32) -> Result<()> {
    let tv = libc::timeval {
        tv_sec: seconds.max(0) as libc::time_t,
        tv_usec: 0,
    };
    // SAFETY: setsockopt with a pointer to a local timeval.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            &tv as *const _ as *const libc::c_void,
            size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(Error::last_os("Failed to set a socket timeout"));
    }
    Ok(())
}

/// The most descriptors one message carries here (LXC sends up to 20, for
/// GET_CGROUP_CTX).
pub const MAX_FDS: usize = 24;

/// Sends `data` in one message with SCM_CREDENTIALS (our pid, uid, gid) or
/// with SCM_RIGHTS descriptors (none: no control message), with `flags`
/// besides MSG_NOSIGNAL.
fn send_with_cmsg(
    sock: RawFd,
    data: &[u8],
    cmsg_type: libc::c_int,
    payload: &[u8],
    flags: libc::c_int,
) -> Result<usize> {
    // CMSG_SPACE(4 * MAX_FDS) = 16 + 96 bytes.
    let mut cbuf = [0u64; 14];
    // SAFETY: CMSG_SPACE is arithmetic.
    let space = unsafe { libc::CMSG_SPACE(payload.len() as u32) } as usize;
    if space > std::mem::size_of_val(&cbuf) {
        return Err(Error::invalid("Control message too large"));
    }
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: msghdr/cmsg built over local buffers; the one control
    // message fits `cbuf` (checked above).
    unsafe {
        let mut msg: libc::msghdr = zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if !payload.is_empty() {
            msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = space;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = cmsg_type;
            (*cmsg).cmsg_len = libc::CMSG_LEN(payload.len() as u32) as usize;
            std::ptr::copy_nonoverlapping(payload.as_ptr(), libc::CMSG_DATA(cmsg), payload.len());
        }
        loop {
            let n = libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL | flags);
            if n < 0 && sys::errno() == libc::EINTR {
                continue;
            }
            if n < 0 {
                return Err(Error::last_os("Failed to send on the command socket"));
            }
            return Ok(n as usize);
        }
    }
}

pub fn send_with_credentials(sock: &OwnedFd, data: &[u8]) -> Result<usize> {
    // SAFETY: getpid/getuid/getgid cannot fail.
    let cred = unsafe {
        libc::ucred {
            pid: libc::getpid(),
            uid: libc::getuid(),
            gid: libc::getgid(),
        }
    };
    // SAFETY: ucred is plain data; viewing it as bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts(&cred as *const _ as *const u8, size_of::<libc::ucred>())
    };
    send_with_cmsg(sock.as_raw_fd(), data, libc::SCM_CREDENTIALS, bytes, 0)
}

pub fn send_with_fd(sock: &impl AsRawFd, data: &[u8], fd: RawFd) -> Result<usize> {
    send_with_fds(sock, data, &[fd])
}

/// Sends `data` with up to `MAX_FDS` descriptors in one SCM_RIGHTS message
/// (no allocation: the seccomp listener is sent from init before exec).
pub fn send_with_fds(sock: &impl AsRawFd, data: &[u8], fds: &[RawFd]) -> Result<usize> {
    send_with_fds_flags(sock, data, fds, 0)
}

/// [`send_with_fds`] with `flags` (MSG_DONTWAIT: EAGAIN rather than wait
/// for room).
pub fn send_with_fds_flags(
    sock: &impl AsRawFd,
    data: &[u8],
    fds: &[RawFd],
    flags: libc::c_int,
) -> Result<usize> {
    if fds.len() > MAX_FDS {
        return Err(Error::invalid(format!(
            "Too many descriptors for one message: {}",
            fds.len()
        )));
    }
    let mut bytes = [0u8; 4 * MAX_FDS];
    for (chunk, fd) in bytes.chunks_exact_mut(4).zip(fds) {
        chunk.copy_from_slice(&fd.to_ne_bytes());
    }
    send_with_cmsg(
        sock.as_raw_fd(),
        data,
        libc::SCM_RIGHTS,
        &bytes[..4 * fds.len()],
        flags,
    )
}

/// Whether `sock` has something to read (or its peer left) within
/// `timeout_ms`.
pub fn wait_readable(sock: &impl AsRawFd, timeout_ms: i32) -> bool {
    let mut pfd = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll on one local pollfd.
    unsafe { libc::poll(&mut pfd, 1, timeout_ms) > 0 }
}

/// What one `recvmsg` brought: bytes, the peer's credentials, descriptors.
#[derive(Debug, Default)]
pub struct Received {
    pub len: usize,
    pub cred: Option<libc::ucred>,
    pub fds: Vec<OwnedFd>,
}

/// Receives up to `buf.len()` bytes in one message with any credentials or
/// descriptors attached (extra descriptors are closed by dropping).
pub fn recv_msg(sock: &impl AsRawFd, buf: &mut [u8]) -> Result<Received> {
    recv_msg_flags(sock, buf, 0)
}

/// [`recv_msg`] with `recvmsg` flags (MSG_DONTWAIT).
pub fn recv_msg_flags(sock: &impl AsRawFd, buf: &mut [u8], flags: i32) -> Result<Received> {
    let mut cbuf = [0u64; 64];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: msghdr over local buffers; control messages are walked with
    // the CMSG macros within msg_controllen.
    unsafe {
        let mut msg: libc::msghdr = zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = std::mem::size_of_val(&cbuf);
        let n = loop {
            let n = libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC | flags);
            if n < 0 && sys::errno() == libc::EINTR {
                continue;
            }
            break n;
        };
        if n < 0 {
            let errno = sys::errno();
            return Err(Error::new(
                errno,
                format!(
                    "Failed to receive on the command socket: {}",
                    std::io::Error::from_raw_os_error(errno)
                ),
            ));
        }
        let mut out = Received {
            len: n as usize,
            ..Default::default()
        };
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let data = libc::CMSG_DATA(cmsg);
            let data_len = (*cmsg).cmsg_len - libc::CMSG_LEN(0) as usize;
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_CREDENTIALS
            {
                out.cred = Some(std::ptr::read_unaligned(data as *const libc::ucred));
            } else if (*cmsg).cmsg_level == libc::SOL_SOCKET
                && (*cmsg).cmsg_type == libc::SCM_RIGHTS
            {
                for i in 0..data_len / 4 {
                    let fd = std::ptr::read_unaligned((data as *const i32).add(i));
                    out.fds.push(OwnedFd::from_raw_fd(fd));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
        Ok(out)
    }
}

/// Reads exactly `buf.len()` bytes; Ok(false) on EOF before the first byte.
pub fn read_full(sock: &OwnedFd, buf: &mut [u8]) -> Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: reading into the unfilled tail of our buffer.
        let n = unsafe {
            libc::recv(
                sock.as_raw_fd(),
                buf[got..].as_mut_ptr() as *mut libc::c_void,
                buf.len() - got,
                0,
            )
        };
        if n < 0 {
            if sys::errno() == libc::EINTR {
                continue;
            }
            return Err(Error::last_os("Failed to read from the command socket"));
        }
        if n == 0 {
            if got == 0 {
                return Ok(false);
            }
            return Err(Error::new(libc::EPIPE, "Command socket closed mid-message"));
        }
        got += n as usize;
    }
    Ok(true)
}

pub fn write_full(sock: &OwnedFd, buf: &[u8]) -> Result<()> {
    let mut sent = 0;
    while sent < buf.len() {
        // SAFETY: sending from our buffer.
        let n = unsafe {
            libc::send(
                sock.as_raw_fd(),
                buf[sent..].as_ptr() as *const libc::c_void,
                buf.len() - sent,
                libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            if sys::errno() == libc::EINTR {
                continue;
            }
            return Err(Error::last_os("Failed to write to the command socket"));
        }
        sent += n as usize;
    }
    Ok(())
}
