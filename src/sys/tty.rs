//! Terminal settings: raw mode, non-blocking, window sizes.

use std::os::fd::RawFd;

use crate::error::{Error, Result};

/// The terminal settings LXC puts a proxy pty and the caller's terminal
/// into (what ssh uses). Returns the previous settings.
pub fn set_raw(fd: RawFd) -> Result<libc::termios> {
    // SAFETY: tcgetattr/tcsetattr on a caller-provided descriptor with
    // termios structs on our stack.
    unsafe {
        let mut old: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut old) < 0 {
            return Err(Error::last_os("Failed to get terminal settings"));
        }
        let mut t = old;
        t.c_iflag |= libc::IGNPAR;
        t.c_iflag &= !(libc::ISTRIP
            | libc::INLCR
            | libc::IGNCR
            | libc::ICRNL
            | libc::IXON
            | libc::IXANY
            | libc::IXOFF
            | libc::IUCLC);
        t.c_lflag &= !(libc::TOSTOP
            | libc::ISIG
            | libc::ICANON
            | libc::ECHO
            | libc::ECHOE
            | libc::ECHOK
            | libc::ECHONL
            | libc::IEXTEN);
        t.c_oflag |= libc::ONLCR | libc::OPOST;
        t.c_cc[libc::VMIN] = 1;
        t.c_cc[libc::VTIME] = 0;
        if libc::tcsetattr(fd, libc::TCSAFLUSH, &t) < 0 {
            return Err(Error::last_os("Failed to set terminal settings"));
        }
        Ok(old)
    }
}

/// Copies the window size of `from` to `to` (both terminals).
pub fn copy_winsize(from: RawFd, to: RawFd) {
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ with a winsize on our stack.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to, libc::TIOCSWINSZ, &ws);
        }
    }
}
