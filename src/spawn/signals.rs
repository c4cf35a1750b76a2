//! Signals of `lxc.signal.*` (parsed from names or numbers by the
//! configuration layer at set time) and the signals forwarded to init.

use crate::error::{Error, Result};

/// Signals passed on to the container: by the monitor to init, by the
/// application-container reaper to its command. SIGKILL/SIGSTOP cannot be
/// caught, synchronous faults are the receiver's own, and SIGPIPE would
/// come from the monitor's own writes.
pub const FORWARDED: [i32; 11] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGPWR,
    libc::SIGALRM,
    libc::SIGCONT,
    libc::SIGWINCH,
    libc::SIGTSTP,
];

/// The signal `lxc.signal.*` configures: the number the configuration
/// parsed at set time (0, LXC's "unset", means `default`). The range is
/// checked here, not at set time, because LXC accepts any number there.
pub fn configured(key: &str, n: i32, default: i32) -> Result<i32> {
    if n == 0 {
        return Ok(default);
    }
    if n < 0 || n > libc::SIGRTMAX() {
        return Err(Error::invalid(format!("{key}: Invalid signal \"{n}\"")));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_signals() {
        let halt = |n| configured("lxc.signal.halt", n, libc::SIGPWR);
        assert_eq!(halt(0).unwrap(), libc::SIGPWR);
        assert_eq!(halt(10).unwrap(), 10);
        assert!(halt(999).is_err());
        assert!(halt(-1).is_err());
    }
}
