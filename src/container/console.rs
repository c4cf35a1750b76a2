//! The container's terminals from the caller's side: `console_getfd`
//! (a tty master plus the connection that keeps it reserved), the
//! interactive `console` proxy with LXC's escape sequence, and
//! `console_log` (the monitor's console ring buffer).

use std::os::fd::{AsRawFd, RawFd};

use super::Container;
use crate::commands::client::{Target, TtyFd};
use crate::error::{Error, Result};
use crate::pty::relay::{write_fd, Relay};
use crate::sys::tty::{copy_winsize, set_raw};

/// What one typed byte does under LXC's escape handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Pass this byte to the container.
    Send(u8),
    /// The escape byte: wait for the next one.
    Hold,
    /// `<escape> q`: leave the console.
    Quit,
}

/// LXC's escape state: `escape` is the control character (1 = Ctrl-a);
/// `<escape> q` quits, `<escape> <escape>` sends one escape, `<escape> x`
/// sends x. Below 1, every byte passes.
#[derive(Debug, Clone, Copy)]
pub struct Escape {
    escape: i32,
    saw: bool,
}

impl Escape {
    pub fn new(escape: i32) -> Escape {
        Escape { escape, saw: false }
    }

    pub fn feed(&mut self, c: u8) -> Key {
        if self.escape < 1 {
            return Key::Send(c);
        }
        if i32::from(c) == self.escape && !self.saw {
            self.saw = true;
            return Key::Hold;
        }
        if c == b'q' && self.saw {
            return Key::Quit;
        }
        self.saw = false;
        Key::Send(c)
    }
}

/// Copies between the caller's descriptors and a tty master until the
/// escape sequence, end of input or the tty going away.
fn proxy(master: RawFd, stdin: RawFd, stdout: RawFd, escape: i32, istty: bool) -> Result<()> {
    let mut esc = Escape::new(escape);
    let mut filter = |typed: &[u8], out: &mut Vec<u8>| {
        for &c in typed {
            match esc.feed(c) {
                Key::Send(b) => out.push(b),
                Key::Hold => {}
                Key::Quit => return false,
            }
        }
        true
    };
    Relay {
        master,
        input: stdin,
        output: stdout,
        log: -1,
        size_from: if istty { stdin } else { -1 },
        filter: Some(&mut filter),
    }
    .run(-1)
    .map(|_| ())
}

impl Container {
    fn console_target<T>(&self, f: impl FnOnce(&Target<'_>) -> Result<T>) -> Result<T> {
        let (lxcpath, name) = {
            let st = self.lock();
            (st.lxcpath.clone(), st.name.clone())
        };
        f(&Target {
            lxcpath: &lxcpath,
            name: &name,
            timeout: 0,
        })
    }

    /// Reserves tty `ttynum` (-1: the first free one, 0: the console) and
    /// returns its master; the tty stays reserved until `conn` is closed.
    pub fn console_getfd(&self, ttynum: i32) -> Result<TtyFd> {
        let name = self.name();
        self.console_target(|t| t.get_tty_fd(ttynum))?
            .ok_or_else(|| {
                Error::new(
                    libc::ENOTCONN,
                    format!("Container \"{name}\" is not running"),
                )
            })
    }

    /// LXC's `lxc_console`: attaches the caller's descriptors to tty
    /// `ttynum` until `<Ctrl+escape q>` (escape 1 = Ctrl-a; below 1: no
    /// escape), the end of input or the container's end. A terminal on
    /// `stdinfd` is put in raw mode meanwhile and its size passed on.
    pub fn console(
        &self,
        ttynum: i32,
        stdinfd: RawFd,
        stdoutfd: RawFd,
        stderrfd: RawFd,
        escape: i32,
    ) -> Result<()> {
        let tty = self.console_getfd(ttynum)?;
        let master = tty.master.as_raw_fd();
        // SAFETY: isatty has no memory-safety preconditions.
        let istty = unsafe { libc::isatty(stdinfd) } == 1;
        if istty {
            copy_winsize(stdinfd, master);
        }
        if escape >= 1 {
            let letter = char::from(b'a' + (escape - 1).clamp(0, 25) as u8);
            let banner = format!(
                "\nConnected to tty {}\nType <Ctrl+{letter} q> to exit the console, \
                 <Ctrl+{letter} Ctrl+{letter}> to enter Ctrl+{letter} itself\n",
                tty.ttynum
            );
            write_fd(stderrfd, banner.as_bytes());
        }
        let old = if istty { Some(set_raw(stdinfd)?) } else { None };
        let result = proxy(master, stdinfd, stdoutfd, escape, istty);
        if let Some(old) = old {
            // SAFETY: restoring the settings read before.
            unsafe { libc::tcsetattr(stdinfd, libc::TCSAFLUSH, &old) };
        }
        drop(tty);
        result
    }

    /// The container's devpts mount (a directory descriptor: `openat(fd,
    /// "ptmx")` allocates a pty inside the container).
    pub fn devpts_fd(&self) -> Result<std::os::fd::OwnedFd> {
        let name = self.name();
        self.console_target(|t| t.get_devpts_fd())?.ok_or_else(|| {
            Error::new(
                libc::ENOTCONN,
                format!("Container \"{name}\" is not running"),
            )
        })
    }

    /// CONSOLE_LOG: reads (consuming) up to `read_max` bytes (0: all) of
    /// the console ring buffer and/or clears it. Errors carry LXC's
    /// errnos: ENODATA (empty), EFAULT (no buffer configured).
    pub fn console_log(&self, clear: bool, read: bool, read_max: u64) -> Result<Vec<u8>> {
        self.console_target(|t| t.console_log(clear, read, read_max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(escape: i32, input: &[u8]) -> (Vec<u8>, bool) {
        let mut e = Escape::new(escape);
        let mut out = Vec::new();
        for &c in input {
            match e.feed(c) {
                Key::Send(b) => out.push(b),
                Key::Hold => {}
                Key::Quit => return (out, true),
            }
        }
        (out, false)
    }

    #[test]
    fn escape_sequences() {
        assert_eq!(run(1, b"ls\n"), (b"ls\n".to_vec(), false));
        assert_eq!(run(1, b"ab\x01qcd"), (b"ab".to_vec(), true));
        assert_eq!(run(1, b"\x01\x01q"), (b"\x01q".to_vec(), false));
        assert_eq!(run(1, b"\x01xq"), (b"xq".to_vec(), false));
        assert_eq!(run(1, b"q\x01"), (b"q".to_vec(), false));
        // Ctrl-b as escape leaves Ctrl-a alone.
        assert_eq!(run(2, b"\x01q\x02q"), (b"\x01q".to_vec(), true));
        // No escape at all.
        assert_eq!(run(0, b"\x01q"), (b"\x01q".to_vec(), false));
        assert_eq!(run(-1, b"\x01q"), (b"\x01q".to_vec(), false));
    }
}
