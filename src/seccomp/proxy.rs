//! The seccomp notify proxy (`lxc.seccomp.notify.proxy`,
//! `lxc.seccomp.notify.cookie`): the monitor receives init's intercepted
//! syscalls and forwards each to a SOCK_SEQPACKET peer (LXD/Incus,
//! pve-lxc-syscalld) in LXC's format, then passes its answer to the kernel.
//!
//! One message each way. To the proxy: a 32-byte header
//! (`struct seccomp_notify_proxy_msg`: u64 reserved, monitor pid, init pid,
//! the kernel's `struct seccomp_notif_sizes` (3 × u16), padding, u64
//! cookie length), the `seccomp_notif`, a `seccomp_notif_resp` with only
//! the id set, the cookie; with three descriptors: `/proc/<pid>`,
//! `/proc/<pid>/mem` (read-write) and the listener. Back: the same header,
//! notification and response (no cookie); the response goes to the kernel.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::error::{Error, Result};
use crate::sys::socket;

/// `struct seccomp_notif_sizes`, as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NotifSizes {
    pub notif: u16,
    pub resp: u16,
    pub data: u16,
}

/// `sizeof(struct seccomp_notify_proxy_msg)`.
pub const HEADER_LEN: usize = 32;

/// The header of a message to the proxy.
pub fn encode_header(
    monitor_pid: i32,
    init_pid: i32,
    sizes: NotifSizes,
    cookie_len: u64,
) -> [u8; 32] {
    let mut h = [0u8; HEADER_LEN];
    h[8..12].copy_from_slice(&monitor_pid.to_ne_bytes());
    h[12..16].copy_from_slice(&init_pid.to_ne_bytes());
    h[16..18].copy_from_slice(&sizes.notif.to_ne_bytes());
    h[18..20].copy_from_slice(&sizes.resp.to_ne_bytes());
    h[20..22].copy_from_slice(&sizes.data.to_ne_bytes());
    h[24..32].copy_from_slice(&cookie_len.to_ne_bytes());
    h
}

/// A whole message to the proxy: header, notification (`sizes.notif`
/// bytes), response (`sizes.resp` bytes, id set), cookie.
pub fn encode_request(
    monitor_pid: i32,
    init_pid: i32,
    sizes: NotifSizes,
    notif: &[u8],
    cookie: Option<&str>,
) -> Vec<u8> {
    let cookie = cookie.unwrap_or("").as_bytes();
    let mut msg = encode_header(monitor_pid, init_pid, sizes, cookie.len() as u64).to_vec();
    let mut n = notif.to_vec();
    n.resize(sizes.notif as usize, 0);
    msg.extend_from_slice(&n);
    let mut resp = vec![0u8; sizes.resp as usize];
    resp[..8].copy_from_slice(&n[..8]);
    msg.extend_from_slice(&resp);
    msg.extend_from_slice(cookie);
    msg
}

/// The response out of the proxy's answer (which must be header,
/// notification and response exactly), its id forced to `id`.
pub fn decode_reply(reply: &[u8], sizes: NotifSizes, id: u64) -> Option<Vec<u8>> {
    let (n, r) = (sizes.notif as usize, sizes.resp as usize);
    if reply.len() != HEADER_LEN + n + r || r < 24 {
        return None;
    }
    let mut resp = reply[HEADER_LEN + n..].to_vec();
    let got = u64::from_ne_bytes(resp[..8].try_into().ok()?);
    if got != id {
        log::warn!("seccomp proxy answered id {got} for notification {id}");
        resp[..8].copy_from_slice(&id.to_ne_bytes());
    }
    Some(resp)
}

/// A default answer to the kernel: the syscall fails with `errno`.
pub fn error_response(sizes: NotifSizes, id: u64, errno: i32) -> Vec<u8> {
    let mut resp = vec![0u8; (sizes.resp as usize).max(24)];
    resp[..8].copy_from_slice(&id.to_ne_bytes());
    resp[16..20].copy_from_slice(&(-errno).to_ne_bytes());
    resp
}

// Linux's seccomp user-notification ioctls (type '!').
const NOTIF_RECV: libc::c_ulong = 0xc050_2100;
const NOTIF_SEND: libc::c_ulong = 0xc018_2101;
const NOTIF_ID_VALID: libc::c_ulong = 0x4008_2102;
const SECCOMP_GET_NOTIF_SIZES: libc::c_ulong = 3;

/// The kernel's structure sizes.
pub fn kernel_sizes() -> Result<NotifSizes> {
    let mut s = [0u16; 3];
    // SAFETY: the kernel fills three u16s.
    let r = unsafe {
        crate::sys::raw::seccomp(
            SECCOMP_GET_NOTIF_SIZES,
            0,
            s.as_mut_ptr() as *mut libc::c_void,
        )
    };
    if r < 0 {
        return Err(Error::last_os(
            "Failed to query the seccomp notification sizes",
        ));
    }
    Ok(NotifSizes {
        notif: s[0],
        resp: s[1],
        data: s[2],
    })
}

/// Connects a SOCK_SEQPACKET socket to `addr` (a path, or `@name` for an
/// abstract one) with LXC's 30 s timeouts.
fn connect(addr: &str) -> Result<OwnedFd> {
    let fd = socket::connect_seqpacket(addr, format_args!("the seccomp notify proxy {addr}"))?;
    socket::set_recv_timeout(&fd, 30)?;
    socket::set_send_timeout(&fd, 30)?;
    Ok(fd)
}

/// Whether `fd` is a seccomp notify listener (what an attach hands the
/// monitor comes from a process inside the container).
pub fn is_listener(fd: &impl AsRawFd) -> bool {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .is_ok_and(|t| t.as_os_str() == "anon_inode:seccomp notify")
}

/// The monitor's side of the proxy.
#[derive(Debug)]
pub struct NotifyProxy {
    addr: String,
    cookie: Option<String>,
    conn: Option<OwnedFd>,
    sizes: NotifSizes,
}

impl NotifyProxy {
    /// The proxy of a container whose init has a notify listener and whose
    /// `lxc.seccomp.notify.proxy` is set; None otherwise.
    pub fn for_container(
        listener: Option<&OwnedFd>,
        addr: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<Option<NotifyProxy>> {
        match (listener, addr.filter(|a| !a.is_empty())) {
            (Some(_), Some(addr)) => NotifyProxy::connect(addr, cookie).map(Some),
            _ => Ok(None),
        }
    }

    /// Connects to the proxy at `addr` (LXC fails the start when it cannot).
    pub fn connect(addr: &str, cookie: Option<&str>) -> Result<NotifyProxy> {
        let sizes = kernel_sizes()?;
        let conn = connect(addr)?;
        Ok(NotifyProxy {
            addr: addr.to_string(),
            cookie: cookie.map(str::to_string),
            conn: Some(conn),
            sizes,
        })
    }

    fn respond(&self, listener: &OwnedFd, resp: &[u8]) {
        // SAFETY: the response buffer is at least the kernel's size.
        let r = unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_SEND, resp.as_ptr()) };
        if r < 0 {
            log::warn!(
                "Failed to answer a seccomp notification: {}",
                std::io::Error::last_os_error()
            );
        }
    }

    fn default_answer(&self, listener: &OwnedFd, id: u64) {
        self.respond(listener, &error_response(self.sizes, id, libc::ENOSYS));
    }

    /// Serves one notification pending on `listener`: forwards it to the
    /// proxy and gives its answer to the kernel; on any failure the
    /// syscall fails with ENOSYS, as LXC.
    pub fn handle(&mut self, listener: &OwnedFd, monitor_pid: i32, init_pid: i32) {
        let mut notif = vec![0u8; (self.sizes.notif as usize).max(80)];
        // SAFETY: the buffer is at least the kernel's seccomp_notif size.
        if unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_RECV, notif.as_mut_ptr()) } < 0 {
            // ENOENT: the syscall was aborted meanwhile.
            return;
        }
        let id = u64::from_ne_bytes(notif[..8].try_into().unwrap_or_default());
        let pid = u32::from_ne_bytes(notif[8..12].try_into().unwrap_or_default());
        let open = |path: String, flags: i32| {
            let c = std::ffi::CString::new(path).ok()?;
            // SAFETY: open of a path we built.
            let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
            // SAFETY: a fresh descriptor.
            (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
        };
        let (Some(proc_dir), Some(mem)) = (
            open(format!("/proc/{pid}"), libc::O_RDONLY | libc::O_DIRECTORY),
            open(format!("/proc/{pid}/mem"), libc::O_RDWR),
        ) else {
            log::warn!("Failed to open /proc/{pid} for seccomp notification {id}");
            return self.default_answer(listener, id);
        };
        // The descriptors must still be the notifying process's.
        // SAFETY: the ioctl reads a u64 we own.
        if unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_ID_VALID, &id) } < 0 {
            return self.default_answer(listener, id);
        }
        let msg = encode_request(
            monitor_pid,
            init_pid,
            self.sizes,
            &notif,
            self.cookie.as_deref(),
        );
        let fds = [proc_dir.as_raw_fd(), mem.as_raw_fd(), listener.as_raw_fd()];
        let mut sent = false;
        for attempt in 0..2 {
            if attempt == 1 || self.conn.is_none() {
                self.conn = match connect(&self.addr) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        log::error!("{}", e.message);
                        None
                    }
                };
            }
            if let Some(conn) = &self.conn {
                if crate::sys::socket::send_with_fds(conn, &msg, &fds).is_ok_and(|n| n == msg.len())
                {
                    sent = true;
                    break;
                }
            }
        }
        drop(mem);
        drop(proc_dir);
        let Some(conn) = self.conn.as_ref().filter(|_| sent) else {
            log::error!(
                "Failed to forward seccomp notification {id} to {}",
                self.addr
            );
            return self.default_answer(listener, id);
        };
        let want = HEADER_LEN + self.sizes.notif as usize + self.sizes.resp as usize;
        let mut reply = vec![0u8; want + 1];
        // SAFETY: reading one message into a local buffer.
        let n = loop {
            let n = unsafe {
                libc::recv(
                    conn.as_raw_fd(),
                    reply.as_mut_ptr() as *mut libc::c_void,
                    reply.len(),
                    libc::MSG_TRUNC,
                )
            };
            if n < 0 && crate::sys::errno() == libc::EINTR {
                continue;
            }
            break n;
        };
        if n != want as isize {
            log::error!(
                "Bad answer from the seccomp proxy ({n} bytes, want {want}): {}",
                std::io::Error::last_os_error()
            );
            self.conn = None;
            return self.default_answer(listener, id);
        }
        match decode_reply(&reply[..want], self.sizes, id) {
            Some(resp) => self.respond(listener, &resp),
            None => self.default_answer(listener, id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: NotifSizes = NotifSizes {
        notif: 80,
        resp: 24,
        data: 64,
    };

    #[test]
    fn header_layout() {
        let h = encode_header(100, 200, SIZES, 6);
        assert_eq!(h.len(), 32);
        assert_eq!(&h[..8], &[0; 8]);
        assert_eq!(i32::from_ne_bytes(h[8..12].try_into().unwrap()), 100);
        assert_eq!(i32::from_ne_bytes(h[12..16].try_into().unwrap()), 200);
        assert_eq!(u16::from_ne_bytes(h[16..18].try_into().unwrap()), 80);
        assert_eq!(u16::from_ne_bytes(h[18..20].try_into().unwrap()), 24);
        assert_eq!(u16::from_ne_bytes(h[20..22].try_into().unwrap()), 64);
        assert_eq!(&h[22..24], &[0, 0]);
        assert_eq!(u64::from_ne_bytes(h[24..32].try_into().unwrap()), 6);
    }

    #[test]
    fn request_and_reply() {
        let mut notif = vec![0u8; 80];
        notif[..8].copy_from_slice(&42u64.to_ne_bytes());
        notif[8..12].copy_from_slice(&1234u32.to_ne_bytes());
        notif[16..20].copy_from_slice(&170i32.to_ne_bytes()); // data.nr
        let msg = encode_request(1, 2, SIZES, &notif, Some("cookie"));
        assert_eq!(msg.len(), 32 + 80 + 24 + 6);
        assert_eq!(&msg[32..112], &notif[..]);
        // The response carries the id only.
        assert_eq!(u64::from_ne_bytes(msg[112..120].try_into().unwrap()), 42);
        assert_eq!(&msg[120..136], &[0; 16]);
        assert_eq!(&msg[136..], b"cookie");
        let no_cookie = encode_request(1, 2, SIZES, &notif, None);
        assert_eq!(no_cookie.len(), 136);
        assert_eq!(u64::from_ne_bytes(no_cookie[24..32].try_into().unwrap()), 0);

        // The proxy answers header + notif + resp with its verdict.
        let mut reply = no_cookie.clone();
        reply[128..132].copy_from_slice(&(-libc::EPERM).to_ne_bytes());
        let resp = decode_reply(&reply, SIZES, 42).unwrap();
        assert_eq!(resp.len(), 24);
        assert_eq!(
            i32::from_ne_bytes(resp[16..20].try_into().unwrap()),
            -libc::EPERM
        );
        // A wrong id is corrected, a wrong length refused.
        reply[112..120].copy_from_slice(&7u64.to_ne_bytes());
        let resp = decode_reply(&reply, SIZES, 42).unwrap();
        assert_eq!(u64::from_ne_bytes(resp[..8].try_into().unwrap()), 42);
        assert!(decode_reply(&reply[..100], SIZES, 42).is_none());
        assert!(decode_reply(&msg, SIZES, 42).is_none());
    }

    #[test]
    fn default_answer_is_an_error() {
        let r = error_response(SIZES, 9, libc::ENOSYS);
        assert_eq!(u64::from_ne_bytes(r[..8].try_into().unwrap()), 9);
        assert_eq!(i64::from_ne_bytes(r[8..16].try_into().unwrap()), 0);
        assert_eq!(
            i32::from_ne_bytes(r[16..20].try_into().unwrap()),
            -libc::ENOSYS
        );
        assert_eq!(u32::from_ne_bytes(r[20..24].try_into().unwrap()), 0);
    }

    #[test]
    fn kernel_reports_sizes() {
        let s = kernel_sizes().unwrap();
        assert!(s.notif >= 80 && s.resp >= 24 && s.data >= 64, "{s:?}");
    }
}
