//! Copies between a pty master and the caller's descriptors: what the
//! other side of the pty writes goes to `output` (and to `log`), what
//! arrives on `input` goes to the pty, and the pty follows the window size
//! of a terminal. Used by `console` and by attach's terminal.

use std::os::fd::RawFd;

use crate::error::{Error, Result};
use crate::sys;
use crate::sys::tty::copy_winsize;

/// Why [`Relay::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The pty's other side is gone: every descriptor of it is closed.
    Hangup,
    /// End of `input`, or `output` cannot be written any more.
    CallerGone,
    /// The input filter asked to stop.
    Quit,
    /// The descriptor to watch became readable.
    Watch,
}

/// Turns typed bytes into the bytes for the pty; false: stop after these.
pub type Filter<'a> = &'a mut dyn FnMut(&[u8], &mut Vec<u8>) -> bool;

pub struct Relay<'a> {
    pub master: RawFd,
    /// What to send to the pty; -1: nothing.
    pub input: RawFd,
    /// Where the pty's output goes; -1: nowhere.
    pub output: RawFd,
    /// A copy of the pty's output; -1: none. Failures to write it are
    /// ignored, as LXC does for its terminal log.
    pub log: RawFd,
    /// A terminal whose window size the pty follows; -1: none.
    pub size_from: RawFd,
    pub filter: Option<Filter<'a>>,
}

pub fn read_fd(fd: RawFd, buf: &mut [u8]) -> isize {
    loop {
        // SAFETY: reading into a live buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n < 0 && sys::errno() == libc::EINTR {
            continue;
        }
        return n;
    }
}

pub fn write_fd(fd: RawFd, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        // SAFETY: writing from a live slice.
        let n = unsafe { libc::write(fd, bytes.as_ptr() as *const libc::c_void, bytes.len()) };
        if n < 0 && sys::errno() == libc::EINTR {
            continue;
        }
        if n <= 0 {
            return false;
        }
        bytes = &bytes[n as usize..];
    }
    true
}

fn winsize(fd: RawFd) -> Option<(u16, u16)> {
    if fd < 0 {
        return None;
    }
    // SAFETY: TIOCGWINSZ into a struct on our stack.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        (libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) == 0).then_some((ws.ws_row, ws.ws_col))
    }
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

impl Relay<'_> {
    /// Copies until the pty hangs up, the caller's side ends, the filter
    /// quits or `watch` (-1: none) becomes readable. The pty's output is
    /// drained before input and `watch` are looked at.
    pub fn run(&mut self, watch: RawFd) -> Result<Stop> {
        let mut size = winsize(self.size_from);
        let mut buf = [0u8; 4096];
        let mut typed = Vec::new();
        loop {
            let mut fds = [pollfd(self.input), pollfd(self.master), pollfd(watch)];
            // A library must not take SIGWINCH from its host program: the
            // window size is checked on every wakeup and at least 4 times/s.
            let timeout = if self.size_from >= 0 { 250 } else { -1 };
            // SAFETY: polling three entries (a negative fd is ignored).
            let n = unsafe { libc::poll(fds.as_mut_ptr(), 3, timeout) };
            if n < 0 {
                if sys::errno() == libc::EINTR {
                    continue;
                }
                return Err(Error::last_os("poll failed"));
            }
            if self.size_from >= 0 {
                let now = winsize(self.size_from);
                if now != size {
                    size = now;
                    copy_winsize(self.size_from, self.master);
                }
            }
            if fds[1].revents != 0 {
                let n = read_fd(self.master, &mut buf);
                if n <= 0 {
                    return Ok(Stop::Hangup);
                }
                let out = &buf[..n as usize];
                if self.log >= 0 {
                    write_fd(self.log, out);
                }
                if self.output >= 0 && !write_fd(self.output, out) {
                    return Ok(Stop::CallerGone);
                }
                continue;
            }
            if fds[0].revents != 0 {
                let n = read_fd(self.input, &mut buf);
                if n <= 0 {
                    return Ok(Stop::CallerGone);
                }
                let got = &buf[..n as usize];
                typed.clear();
                let go_on = match &mut self.filter {
                    Some(f) => f(got, &mut typed),
                    None => {
                        typed.extend_from_slice(got);
                        true
                    }
                };
                if !write_fd(self.master, &typed) {
                    return Ok(Stop::Hangup);
                }
                if !go_on {
                    return Ok(Stop::Quit);
                }
                continue;
            }
            if fds[2].revents != 0 {
                return Ok(Stop::Watch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn pipe() -> (std::fs::File, std::fs::File) {
        let mut fds = [0; 2];
        // SAFETY: room for two descriptors, which become ours.
        unsafe {
            assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
            use std::os::fd::FromRawFd;
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        }
    }

    #[test]
    fn copies_both_ways_until_hangup() {
        let Ok(pty) = crate::pty::allocate(None) else {
            return; // no ptys here
        };
        let (in_r, in_w) = pipe();
        let (out_r, out_w) = pipe();
        let (log_r, log_w) = pipe();
        let slave = pty.slave;
        let t = std::thread::spawn(move || {
            use std::io::{Read, Write};
            // The far side: echo one line back, then hang up.
            let mut f = std::fs::File::from(slave);
            let mut line = [0u8; 3];
            f.read_exact(&mut line).unwrap();
            f.write_all(&line).unwrap();
        });
        assert!(write_fd(in_w.as_raw_fd(), b"hi\n"));
        drop(in_w);
        let mut quit = |b: &[u8], out: &mut Vec<u8>| {
            out.extend_from_slice(b);
            true
        };
        let mut r = Relay {
            master: pty.master.as_raw_fd(),
            input: in_r.as_raw_fd(),
            output: out_w.as_raw_fd(),
            log: log_w.as_raw_fd(),
            size_from: -1,
            filter: Some(&mut quit),
        };
        // End of input comes first or the hangup: both end the relay.
        let stop = r.run(-1).unwrap();
        assert!(stop == Stop::CallerGone || stop == Stop::Hangup);
        t.join().unwrap();
        // Input gone: keep relaying the pty alone until it hangs up.
        r.input = -1;
        if stop == Stop::CallerGone {
            assert_eq!(r.run(-1).unwrap(), Stop::Hangup);
        }
        drop(out_w);
        drop(log_w);
        let read_all = |f: std::fs::File| {
            use std::io::Read;
            let mut s = String::new();
            let mut f = f;
            f.read_to_string(&mut s).unwrap();
            s
        };
        // The pty echoes the input and then the far side writes it back
        // (cooked mode turns \n into \r\n).
        let out = read_all(out_r);
        assert!(out.contains("hi"), "{out:?}");
        assert_eq!(read_all(log_r), out);
    }
}
