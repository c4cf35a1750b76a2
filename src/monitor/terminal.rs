//! The monitor's side of the container's terminals: the console ring buffer
//! (`lxc.console.buffer.size`), the console log file (`lxc.console.logfile`
//! with `lxc.console.size` / `lxc.console.rotate`), and the bookkeeping of
//! which tty a command-socket client holds (GET_TTY_FD).

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::config::Config;

/// The console output kept in memory for CONSOLE_LOG.
#[derive(Debug)]
pub struct RingBuf {
    data: VecDeque<u8>,
    cap: usize,
}

impl RingBuf {
    pub fn new(cap: usize) -> RingBuf {
        RingBuf {
            data: VecDeque::with_capacity(cap),
            cap,
        }
    }

    /// Appends, dropping the oldest bytes when full (only the newest
    /// `cap` bytes of an oversized write are kept).
    pub fn write(&mut self, bytes: &[u8]) {
        let bytes = &bytes[bytes.len().saturating_sub(self.cap)..];
        let overflow = (self.data.len() + bytes.len()).saturating_sub(self.cap);
        self.data.drain(..overflow);
        self.data.extend(bytes);
    }

    pub fn used(&self) -> usize {
        self.data.len()
    }

    /// The oldest `max` bytes (0: all) without consuming them.
    pub fn peek(&self, max: usize) -> Vec<u8> {
        let n = if max == 0 {
            self.used()
        } else {
            max.min(self.used())
        };
        self.data.iter().take(n).copied().collect()
    }

    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.used());
        self.data.drain(..n);
    }

    pub fn clear(&mut self) {
        self.data.clear();
    }
}

/// `struct lxc_cmd_console_log {bool clear; bool read; uint64_t read_max;
/// bool write_logfile;}` as it travels (24 bytes on x86_64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsoleLogRequest {
    pub clear: bool,
    pub read: bool,
    pub read_max: u64,
    pub write_logfile: bool,
}

pub const CONSOLE_LOG_REQ_LEN: usize = 24;

impl ConsoleLogRequest {
    pub fn encode(&self) -> [u8; CONSOLE_LOG_REQ_LEN] {
        let mut b = [0u8; CONSOLE_LOG_REQ_LEN];
        b[0] = self.clear as u8;
        b[1] = self.read as u8;
        b[8..16].copy_from_slice(&self.read_max.to_ne_bytes());
        b[16] = self.write_logfile as u8;
        b
    }

    pub fn decode(b: &[u8]) -> Option<ConsoleLogRequest> {
        if b.len() != CONSOLE_LOG_REQ_LEN {
            return None;
        }
        Some(ConsoleLogRequest {
            clear: b[0] != 0,
            read: b[1] != 0,
            read_max: u64::from_ne_bytes(b[8..16].try_into().ok()?),
            write_logfile: b[16] != 0,
        })
    }
}

/// Answers a CONSOLE_LOG request as LXC does: Err(errno) or the bytes.
/// EFAULT: no ring buffer; ENODATA: asked to read an empty one. Reading
/// consumes what it returns; `clear` empties the whole buffer.
pub fn console_log(
    ring: Option<&mut RingBuf>,
    req: &ConsoleLogRequest,
) -> std::result::Result<Vec<u8>, i32> {
    let Some(ring) = ring else {
        return Err(libc::EFAULT);
    };
    if req.read && ring.used() == 0 {
        return Err(libc::ENODATA);
    }
    let data = if req.read {
        ring.peek(usize::try_from(req.read_max).unwrap_or(usize::MAX))
    } else {
        Vec::new()
    };
    if req.clear {
        ring.clear();
    } else {
        ring.consume(data.len());
    }
    Ok(data)
}

/// `lxc.console.logfile`, bounded by `lxc.console.size` and rotated to
/// `<path>.1` when `lxc.console.rotate` is set.
#[derive(Debug)]
pub struct LogFile {
    path: String,
    file: Option<File>,
    /// 0: unbounded.
    size: u64,
    rotate: bool,
}

fn open_log(path: &str) -> Option<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| log::warn!("Failed to open console log file {path}: {e}"))
        .ok()
}

impl LogFile {
    pub fn open(path: &str, size: u64, rotate: bool) -> LogFile {
        LogFile {
            path: path.to_string(),
            file: open_log(path),
            size,
            rotate,
        }
    }

    fn restart(&mut self) {
        if self.rotate {
            self.file = None;
            let _ = std::fs::rename(&self.path, format!("{}.1", self.path));
            self.file = open_log(&self.path);
        } else if let Some(f) = &self.file {
            let _ = f.set_len(0);
        }
    }

    pub fn write(&mut self, mut bytes: &[u8]) {
        let Some(f) = &mut self.file else {
            return;
        };
        if self.size == 0 {
            let _ = f.write_all(bytes);
            return;
        }
        let is_file = f.metadata().map(|m| m.is_file()).unwrap_or(false);
        if !is_file {
            // LXC refuses to size-limit or rotate anything but a file.
            return;
        }
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let left = self.size.saturating_sub(len) as usize;
        if left > 0 && bytes.len() > left {
            let _ = f.write_all(&bytes[..left]);
            bytes = &bytes[left..];
        } else if left >= bytes.len() {
            let _ = f.write_all(bytes);
            return;
        }
        self.restart();
        if let Some(f) = &mut self.file {
            let n = bytes.len().min(self.size as usize);
            let _ = f.write_all(&bytes[..n]);
        }
    }
}

/// The console proxy a GET_TTY_FD for tty 0 sets up, as LXC: a fresh pty
/// whose master goes to the client; the monitor copies between its slave
/// and the console master, so logging goes on meanwhile.
#[derive(Debug)]
pub struct Proxy {
    pub conn: OwnedFd,
    /// The proxy pty's slave side (raw, non-blocking).
    pub pty: OwnedFd,
}

/// Who holds which terminal.
#[derive(Debug, Default)]
pub struct Holders {
    /// Per tty (index = ttynum - 1): the client connection holding it.
    pub ttys: Vec<Option<OwnedFd>>,
    pub proxy: Option<Proxy>,
}

impl Holders {
    pub fn new(ttys: usize) -> Holders {
        Holders {
            ttys: (0..ttys).map(|_| None).collect(),
            proxy: None,
        }
    }

    /// LXC's lxc_terminal_allocate for ttys: `req` > 0 asks for that tty,
    /// < 0 for the first free one. None when invalid or busy.
    pub fn pick_tty(&self, req: i32) -> Option<usize> {
        if req > 0 {
            let i = usize::try_from(req - 1).ok()?;
            return (i < self.ttys.len() && self.ttys[i].is_none()).then_some(req as usize);
        }
        self.ttys.iter().position(|h| h.is_none()).map(|i| i + 1)
    }

    /// Releases whatever the connection `fd` held.
    pub fn release(&mut self, fd: RawFd) {
        for h in &mut self.ttys {
            if h.as_ref().is_some_and(|c| c.as_raw_fd() == fd) {
                *h = None;
            }
        }
        if self
            .proxy
            .as_ref()
            .is_some_and(|p| p.conn.as_raw_fd() == fd)
        {
            self.proxy = None;
        }
    }
}

/// The console settings of a configuration: (ring size, log file).
pub fn from_config(config: &Config) -> (Option<RingBuf>, Option<LogFile>) {
    let conf = config.conf();
    let ring =
        (conf.console_buffer_size > 0).then(|| RingBuf::new(conf.console_buffer_size as usize));
    let log = conf
        .console_logfile
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|p| LogFile::open(p, conf.console_size, conf.console_rotate > 0));
    (ring, log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_newest() {
        let mut r = RingBuf::new(8);
        r.write(b"abcdef");
        r.write(b"ghij");
        assert_eq!(r.used(), 8);
        assert_eq!(r.peek(0), b"cdefghij");
        assert_eq!(r.peek(3), b"cde");
        r.consume(3);
        assert_eq!(r.peek(0), b"fghij");
        r.write(b"0123456789abc");
        assert_eq!(r.peek(0), b"56789abc");
        r.clear();
        assert_eq!(r.used(), 0);
    }

    #[test]
    fn console_log_semantics() {
        let req = |clear, read, read_max| ConsoleLogRequest {
            clear,
            read,
            read_max,
            write_logfile: false,
        };
        assert_eq!(console_log(None, &req(false, true, 0)), Err(libc::EFAULT));
        let mut r = RingBuf::new(4096);
        assert_eq!(
            console_log(Some(&mut r), &req(false, true, 0)),
            Err(libc::ENODATA)
        );
        r.write(b"hello world");
        assert_eq!(
            console_log(Some(&mut r), &req(false, true, 5)).unwrap(),
            b"hello"
        );
        assert_eq!(
            console_log(Some(&mut r), &req(false, true, 0)).unwrap(),
            b" world"
        );
        r.write(b"again");
        assert_eq!(
            console_log(Some(&mut r), &req(true, true, 2)).unwrap(),
            b"ag"
        );
        assert_eq!(r.used(), 0);
        r.write(b"x");
        assert_eq!(
            console_log(Some(&mut r), &req(true, false, 0)).unwrap(),
            b""
        );
        assert_eq!(r.used(), 0);
    }

    #[test]
    fn console_log_request_codec() {
        let q = ConsoleLogRequest {
            clear: true,
            read: false,
            read_max: 12345,
            write_logfile: true,
        };
        assert_eq!(ConsoleLogRequest::decode(&q.encode()), Some(q));
        assert_eq!(ConsoleLogRequest::decode(&[0u8; 16]), None);
    }

    #[test]
    fn pick_tty_rules() {
        let mut h = Holders::new(2);
        assert_eq!(h.pick_tty(-1), Some(1));
        assert_eq!(h.pick_tty(2), Some(2));
        assert_eq!(h.pick_tty(3), None);
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let fd = a.as_raw_fd();
        h.ttys[0] = Some(OwnedFd::from(a));
        assert_eq!(h.pick_tty(1), None);
        assert_eq!(h.pick_tty(-1), Some(2));
        h.release(fd);
        assert_eq!(h.pick_tty(1), Some(1));
    }

    #[test]
    fn log_file_rotates() {
        let dir = std::env::temp_dir().join(format!("lxcrs-conlog-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("console.log");
        let p = path.to_str().unwrap();
        let mut l = LogFile::open(p, 8, true);
        l.write(b"12345");
        l.write(b"6789ab");
        assert_eq!(std::fs::read(&path).unwrap(), b"9ab");
        assert_eq!(std::fs::read(format!("{p}.1")).unwrap(), b"12345678");
        let mut t = LogFile::open(&format!("{p}.t"), 4, false);
        t.write(b"abc");
        t.write(b"defgh");
        assert_eq!(std::fs::read(format!("{p}.t")).unwrap(), b"efgh");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
