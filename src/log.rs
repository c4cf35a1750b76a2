//! LXC's log: its line format, its nine priorities, a log file and an
//! optional copy of errors on stderr, behind the `log` facade.
//!
//! The logger is this library's own (the `log` crate's statics live inside
//! liblxc.so), so installing it does not touch a Rust host's logger.
//!
//! File line:   `<prefix> <name> <YYYYmmddHHMMSS.mmm> <PRIO>    <category> - <file>:<func>:<line> - <msg>`
//! stderr line: `<prefix>: <name>: <file>: <func>: <line> <msg>`

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, Result};

/// LXC's priorities, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Trace = 0,
    Debug,
    Info,
    Notice,
    Warn,
    Error,
    Crit,
    Alert,
    Fatal,
}

const PRIORITY_NAMES: [&str; 9] = [
    "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRIT", "ALERT", "FATAL",
];

impl Priority {
    const ALL: [Priority; 9] = [
        Priority::Trace,
        Priority::Debug,
        Priority::Info,
        Priority::Notice,
        Priority::Warn,
        Priority::Error,
        Priority::Crit,
        Priority::Alert,
        Priority::Fatal,
    ];

    pub fn name(self) -> &'static str {
        PRIORITY_NAMES[self as usize]
    }

    /// The level `lxc.log.level` holds, as the configuration parsed it
    /// (0 TRACE ..= 8 FATAL; anything else is LXC's "not set").
    pub fn from_level(level: i32) -> Option<Priority> {
        usize::try_from(level)
            .ok()
            .and_then(|i| Priority::ALL.get(i))
            .copied()
    }

    /// `lxc_log_init`'s level: a name or number, else EINVAL.
    pub fn parse_level(s: &str) -> Result<Priority> {
        Priority::parse(s).ok_or_else(|| Error::invalid(format!("Invalid log priority \"{s}\"")))
    }

    /// Parses a priority name (any case, as LXC accepts) or its number 0-8.
    pub fn parse(s: &str) -> Option<Priority> {
        if let Ok(n) = s.parse::<usize>() {
            return Priority::ALL.get(n).copied();
        }
        PRIORITY_NAMES
            .iter()
            .position(|name| name.eq_ignore_ascii_case(s))
            .map(|i| Priority::ALL[i])
    }

    fn from_record(level: log::Level) -> Priority {
        match level {
            log::Level::Trace => Priority::Trace,
            log::Level::Debug => Priority::Debug,
            log::Level::Info => Priority::Info,
            log::Level::Warn => Priority::Warn,
            log::Level::Error => Priority::Error,
        }
    }

    /// The most verbose facade level that can still pass this threshold.
    fn facade_filter(self) -> log::LevelFilter {
        match self {
            Priority::Trace => log::LevelFilter::Trace,
            Priority::Debug => log::LevelFilter::Debug,
            Priority::Info => log::LevelFilter::Info,
            Priority::Notice | Priority::Warn => log::LevelFilter::Warn,
            _ => log::LevelFilter::Error,
        }
    }
}

/// What `lxc_log_init` asks for.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub name: Option<String>,
    pub lxcpath: Option<String>,
    pub file: Option<String>,
    /// None: ERROR (LXC's default).
    pub level: Option<Priority>,
    pub prefix: Option<String>,
    pub quiet: bool,
}

/// The directory LXC uses for logs when no lxcpath applies.
pub const LOGPATH: &str = "/var/log/lxc";
const DEFAULT_LXCPATH: &str = "/var/lib/lxc";

struct Settings {
    file: Option<File>,
    path: Option<PathBuf>,
    threshold: Priority,
    prefix: String,
    name: Option<String>,
    to_stderr: bool,
    initialized: bool,
}

struct LxcLogger {
    settings: Mutex<Settings>,
}

fn logger() -> &'static LxcLogger {
    static LOGGER: OnceLock<LxcLogger> = OnceLock::new();
    LOGGER.get_or_init(|| LxcLogger {
        settings: Mutex::new(Settings {
            file: None,
            path: None,
            threshold: Priority::Error,
            prefix: "lxc".into(),
            name: None,
            to_stderr: false,
            initialized: false,
        }),
    })
}

/// Installs our logger in the facade (once). Until `init` nothing is written.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if log::set_logger(logger()).is_ok() {
            log::set_max_level(Priority::Error.facade_filter());
        }
    });
}

/// Where the log goes when the caller gives a name but no file: LXC tries
/// LOGPATH/<name>.log for root's default lxcpath, then
/// <lxcpath>/<name>/<name>.log, then LOGPATH/<name>.log.
pub fn default_log_candidates(name: &str, lxcpath: Option<&str>, euid: u32) -> Vec<PathBuf> {
    let lxcpath = lxcpath.unwrap_or(LOGPATH);
    let in_logpath = Path::new(LOGPATH).join(format!("{name}.log"));
    let in_lxcpath = Path::new(lxcpath).join(name).join(format!("{name}.log"));
    let mut out = Vec::new();
    if euid == 0 && lxcpath == DEFAULT_LXCPATH {
        out.push(in_logpath.clone());
    }
    out.push(in_lxcpath);
    out.push(in_logpath);
    out.dedup();
    out
}

fn open_log(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOCTTY)
        .open(path)
}

/// `lxc_log_init`. A second call is refused (LXC warns and returns 0: the
/// C layer keeps that return value; here it is `Ok(false)`).
pub fn init(opts: &LogOptions) -> Result<bool> {
    install();
    let threshold = opts.level.unwrap_or(Priority::Error);
    let mut s = logger()
        .settings
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if s.initialized {
        drop(s);
        log::warn!(target: "log", "Log already initialized");
        return Ok(false);
    }
    let (file, path) = match opts.file.as_deref() {
        Some("none") => (None, None),
        Some(f) => {
            let p = PathBuf::from(f);
            let file = open_log(&p).map_err(|e| Error::io("Failed to open log file", &p, &e))?;
            (Some(file), Some(p))
        }
        None => match &opts.name {
            None => (None, None),
            Some(name) => {
                // SAFETY: geteuid has no preconditions.
                let euid = unsafe { libc::geteuid() };
                default_log_candidates(name, opts.lxcpath.as_deref(), euid)
                    .into_iter()
                    .find_map(|p| open_log(&p).ok().map(|f| (Some(f), Some(p))))
                    .unwrap_or((None, None))
            }
        },
    };
    s.file = file;
    s.path = path;
    s.threshold = threshold;
    if let Some(p) = &opts.prefix {
        s.prefix = p.clone();
    }
    s.name = opts.name.clone();
    s.to_stderr = !opts.quiet;
    s.initialized = true;
    log::set_max_level(threshold.facade_filter());
    Ok(true)
}

/// `lxc_log_close`: closes the file; a later `init` may open another.
pub fn close() {
    let mut s = logger()
        .settings
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    s.file = None;
    s.path = None;
    s.initialized = false;
    s.to_stderr = false;
    s.threshold = Priority::Error;
    log::set_max_level(Priority::Error.facade_filter());
}

/// The path of the current log file, if any.
pub fn current_file() -> Option<PathBuf> {
    logger().settings.lock().ok()?.path.clone()
}

/// UTC "YYYYmmddHHMMSS.mmm" as LXC stamps its lines.
fn timestamp() -> String {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    let secs = ts.tv_sec;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}.{:03}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ts.tv_nsec / 1_000_000
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The category of a record: the last segment of its target
/// ("lxc_core::config::parse" -> "parse"; explicit targets such as
/// "confile" are kept).
fn category(target: &str) -> &str {
    target.rsplit("::").next().unwrap_or(target)
}

fn format_file_line(s: &Settings, prio: Priority, record: &log::Record) -> String {
    let name = s
        .name
        .as_deref()
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let file = record.file().unwrap_or("?");
    let func = category(record.module_path().unwrap_or("?"));
    format!(
        "{}{} {} {:<8} {} - {}:{}:{} - {}\n",
        s.prefix,
        name,
        timestamp(),
        prio.name(),
        category(record.target()),
        file,
        func,
        record.line().unwrap_or(0),
        record.args()
    )
}

impl log::Log for LxcLogger {
    fn enabled(&self, _metadata: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        let prio = Priority::from_record(record.level());
        let Ok(mut s) = self.settings.lock() else {
            return;
        };
        if prio < s.threshold {
            return;
        }
        let line = format_file_line(&s, prio, record);
        if let Some(f) = s.file.as_mut() {
            // A failing log write must never fail the operation being logged.
            let _ = f.write_all(line.as_bytes());
        }
        if s.to_stderr && prio >= Priority::Error {
            let name = s
                .name
                .as_deref()
                .map(|n| format!("{n}: "))
                .unwrap_or_default();
            let _ = writeln!(
                std::io::stderr(),
                "{}: {}{}: {}: {} {}",
                s.prefix,
                name,
                record.file().unwrap_or("?"),
                category(record.module_path().unwrap_or("?")),
                record.line().unwrap_or(0),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities() {
        assert_eq!(Priority::parse("trace"), Some(Priority::Trace));
        assert_eq!(Priority::parse("NOTICE"), Some(Priority::Notice));
        assert_eq!(Priority::parse("8"), Some(Priority::Fatal));
        assert_eq!(Priority::parse("9"), None);
        assert_eq!(Priority::parse("loud"), None);
        // The configuration's numbers; 9 is its "not set".
        assert_eq!(Priority::from_level(0), Some(Priority::Trace));
        assert_eq!(Priority::from_level(8), Some(Priority::Fatal));
        assert_eq!(Priority::from_level(9), None);
        assert_eq!(Priority::from_level(-1), None);
        assert_eq!(Priority::Warn.name(), "WARN");
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(timestamp().len(), "20261122184227.928".len());
    }

    #[test]
    fn default_files() {
        let c = default_log_candidates("c1", Some("/var/lib/lxc"), 0);
        assert_eq!(c[0], PathBuf::from("/var/log/lxc/c1.log"));
        assert_eq!(c[1], PathBuf::from("/var/lib/lxc/c1/c1.log"));
        let c = default_log_candidates("c1", Some("/tmp/p"), 1000);
        assert_eq!(
            c,
            vec![
                PathBuf::from("/tmp/p/c1/c1.log"),
                PathBuf::from("/var/log/lxc/c1.log")
            ]
        );
    }

    #[test]
    fn categories() {
        assert_eq!(category("lxc_core::config::parse"), "parse");
        assert_eq!(category("confile"), "confile");
    }
}
