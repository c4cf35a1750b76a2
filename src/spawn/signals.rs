//! Signal values of `lxc.signal.*` as the configuration reports them (a
//! number, or a name such as "SIGPWR" / "SIGRTMIN+3"), parsed by the
//! configuration layer's own parser so both accept the same spellings.

use crate::error::{Error, Result};

/// Parses a signal name or number.
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

/// The signal `lxc.signal.*` configures: its value as the configuration
/// prints it (LXC prints an unset key as "0"), or `default`.
pub fn configured(key: &str, value: &str, default: i32) -> Result<i32> {
    let v = value.trim();
    if v.is_empty() || v == "0" {
        return Ok(default);
    }
    parse_signal(v).map_err(|e| Error::invalid(format!("{key}: {}", e.message)))
}

/// Parses a signal name or number; 0 (LXC's "unset") and numbers beyond
/// SIGRTMAX are not signals.
pub fn parse_signal(s: &str) -> Result<i32> {
    let n = crate::config::sig_parse(s.trim()).map_err(Error::from)?;
    if n <= 0 || n > libc::SIGRTMAX() {
        return Err(Error::invalid(format!("Invalid signal \"{}\"", s.trim())));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(parse_signal("SIGPWR").unwrap(), libc::SIGPWR);
        // LXC's spelling needs the SIG prefix.
        assert!(parse_signal("usr1").is_err());
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("SIGRTMIN+3").unwrap(), libc::SIGRTMIN() + 3);
        assert!(parse_signal("SIGNOPE").is_err());
        assert!(parse_signal("0").is_err());
        assert!(parse_signal("999").is_err());
        assert_eq!(
            configured("lxc.signal.halt", "0", libc::SIGPWR).unwrap(),
            libc::SIGPWR
        );
        assert_eq!(
            configured("lxc.signal.halt", "", libc::SIGPWR).unwrap(),
            libc::SIGPWR
        );
        assert_eq!(
            configured("lxc.signal.halt", "10", libc::SIGPWR).unwrap(),
            10
        );
    }
}
