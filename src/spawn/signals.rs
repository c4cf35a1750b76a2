//! Signal names as lxc.signal.* spell them ("SIGPWR", "PWR", "30", "SIGRTMIN+3").

use crate::error::{Error, Result};

const NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGIOT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGPOLL),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// Parses a signal name or number.
pub fn parse_signal(s: &str) -> Result<i32> {
    let s = s.trim();
    let bad = || Error::invalid(format!("Invalid signal \"{s}\""));
    if let Ok(n) = s.parse::<i32>() {
        return (1..=libc::SIGRTMAX())
            .contains(&n)
            .then_some(n)
            .ok_or_else(bad);
    }
    let upper = s.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(off) = bare.strip_prefix("RTMIN") {
        let n = if off.is_empty() {
            0
        } else {
            off.strip_prefix('+')
                .ok_or_else(bad)?
                .parse()
                .map_err(|_| bad())?
        };
        let sig = libc::SIGRTMIN() + n;
        return (sig <= libc::SIGRTMAX()).then_some(sig).ok_or_else(bad);
    }
    if let Some(off) = bare.strip_prefix("RTMAX") {
        let n: i32 = if off.is_empty() {
            0
        } else {
            off.strip_prefix('-')
                .ok_or_else(bad)?
                .parse()
                .map_err(|_| bad())?
        };
        let sig = libc::SIGRTMAX() - n;
        return (sig >= libc::SIGRTMIN()).then_some(sig).ok_or_else(bad);
    }
    NAMES
        .iter()
        .find(|(n, _)| *n == bare)
        .map(|(_, v)| *v)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(parse_signal("SIGPWR").unwrap(), libc::SIGPWR);
        assert_eq!(parse_signal("usr1").unwrap(), libc::SIGUSR1);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("SIGRTMIN+3").unwrap(), libc::SIGRTMIN() + 3);
        assert!(parse_signal("SIGNOPE").is_err());
        assert!(parse_signal("0").is_err());
        assert!(parse_signal("999").is_err());
    }
}
