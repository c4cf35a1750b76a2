//! The status pipe from the monitor to the caller of `start`: one line per
//! event, so `start` can return only once the container runs, or with the
//! real error from inside the monitor.

use std::os::fd::OwnedFd;

/// Descriptor of the status pipe in the monitor.
pub const STATUS_FD: i32 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusLine {
    /// Init runs with this pid (in the caller's pid namespace).
    Running(i32),
    /// Starting failed: errno and message.
    Error(i32, String),
    /// Init exited with this wait status (foreground mode only).
    Exited(i32),
}

impl StatusLine {
    pub fn encode(&self) -> String {
        match self {
            StatusLine::Running(pid) => format!("RUNNING {pid}\n"),
            StatusLine::Error(errno, msg) => format!("ERROR {errno} {}\n", msg.replace('\n', " ")),
            StatusLine::Exited(status) => format!("EXITED {status}\n"),
        }
    }

    pub fn parse(line: &str) -> Option<StatusLine> {
        let (kind, rest) = line.trim_end_matches('\n').split_once(' ')?;
        match kind {
            "RUNNING" => rest.parse().ok().map(StatusLine::Running),
            "EXITED" => rest.parse().ok().map(StatusLine::Exited),
            "ERROR" => {
                let (errno, msg) = rest.split_once(' ').unwrap_or((rest, ""));
                Some(StatusLine::Error(errno.parse().ok()?, msg.to_string()))
            }
            _ => None,
        }
    }
}

/// The monitor's end of the pipe.
pub struct StatusPipe {
    fd: Option<OwnedFd>,
}

impl StatusPipe {
    pub fn open() -> StatusPipe {
        // fd 4 was handed to us by `start` for exactly this.
        StatusPipe {
            fd: crate::sys::inherited_fd(STATUS_FD),
        }
    }

    pub fn send(&mut self, line: &StatusLine) {
        use std::os::fd::AsRawFd;
        if let Some(fd) = &self.fd {
            let text = line.encode();
            // SAFETY: writing our buffer; a vanished reader is not an error
            // for the container (SIGPIPE is ignored by the monitor).
            unsafe {
                libc::write(
                    fd.as_raw_fd(),
                    text.as_ptr() as *const libc::c_void,
                    text.len(),
                )
            };
        }
    }

    /// Closing tells a daemonized `start` that nothing more comes.
    pub fn close(&mut self) {
        self.fd = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_roundtrip() {
        for l in [
            StatusLine::Running(42),
            StatusLine::Error(2, "Rootfs /x does not exist".into()),
            StatusLine::Exited(256),
        ] {
            assert_eq!(StatusLine::parse(&l.encode()), Some(l));
        }
        assert_eq!(
            StatusLine::parse(&StatusLine::Error(5, "a\nb".into()).encode()),
            Some(StatusLine::Error(5, "a b".into()))
        );
        assert_eq!(StatusLine::parse("garbage"), None);
    }
}
