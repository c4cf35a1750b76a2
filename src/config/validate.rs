//! Value parsers that reproduce the C library routines LXC validates with
//! (`strtoul`/`strtol` with base 0, `lxc_safe_uint`, `sig_parse`, ...).
//! Matching them exactly matters: "0x10", " 1" and "010" are valid numbers
//! to LXC, "TERM" is not a signal name but "SIGTERM" is.

use super::ConfigError;

/// C `isspace` in the "C" locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Result of a `strtoul`-like scan: the value, whether it overflowed, and
/// how many bytes were consumed (0 when no digits were found, like C which
/// then leaves `endptr` at the start).
struct Scan {
    value: u64,
    negative: bool,
    overflow: bool,
    consumed: usize,
}

/// Scans like `strtoul`/`strtoull`: leading whitespace, optional sign,
/// base prefix when `base` is 0 (`0x` hex, `0` octal).
fn scan_unsigned(s: &[u8], base: u32) -> Scan {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let mut radix = base;
    if (radix == 0 || radix == 16)
        && i + 1 < s.len()
        && s[i] == b'0'
        && (s[i + 1] | 0x20) == b'x'
        && s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit())
    {
        i += 2;
        radix = 16;
    } else if radix == 0 {
        radix = if s.get(i) == Some(&b'0') { 8 } else { 10 };
    }
    let start = i;
    let mut value: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match (s[i] as char).to_digit(radix) {
            Some(d) => d,
            None => break,
        };
        match value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return Scan {
            value: 0,
            negative: false,
            overflow: false,
            consumed: 0,
        };
    }
    Scan {
        value,
        negative,
        overflow,
        consumed: i,
    }
}

fn err(errno: i32, msg: impl Into<String>) -> ConfigError {
    ConfigError::new(errno, msg)
}

/// `lxc_safe_ulong`: unsigned, base 0, no sign, no trailing garbage.
pub fn safe_ulong(s: &str) -> Result<u64, ConfigError> {
    let b = s.as_bytes();
    let lead = b.iter().take_while(|c| is_c_space(**c)).count();
    if b.get(lead) == Some(&b'-') {
        return Err(err(libc::EINVAL, format!("Invalid number \"{s}\"")));
    }
    let scan = scan_unsigned(b, 0);
    if scan.overflow {
        return Err(err(libc::ERANGE, format!("Number out of range \"{s}\"")));
    }
    if scan.consumed == 0 || scan.consumed != b.len() {
        return Err(err(libc::EINVAL, format!("Invalid number \"{s}\"")));
    }
    Ok(if scan.negative {
        scan.value.wrapping_neg()
    } else {
        scan.value
    })
}

/// `lxc_safe_uint`: like [`safe_ulong`] but bounded to `u32`.
pub fn safe_uint(s: &str) -> Result<u32, ConfigError> {
    let v = safe_ulong(s)?;
    u32::try_from(v).map_err(|_| err(libc::ERANGE, format!("Number out of range \"{s}\"")))
}

/// Signed `strtoll`-like scan with base 0 or 10. Returns the value clamped
/// like C, the bytes used, and whether it overflowed (`ERANGE`).
fn scan_signed(s: &[u8], base: u32) -> (i64, usize, bool) {
    let scan = scan_unsigned(s, base);
    if scan.consumed == 0 {
        return (0, 0, false);
    }
    let limit = if scan.negative {
        i64::MAX as u64 + 1
    } else {
        i64::MAX as u64
    };
    if scan.overflow || scan.value > limit {
        let clamped = if scan.negative { i64::MIN } else { i64::MAX };
        return (clamped, scan.consumed, true);
    }
    let v = if scan.negative {
        (scan.value as i64).wrapping_neg()
    } else {
        scan.value as i64
    };
    (v, scan.consumed, false)
}

fn out_of_range(s: &str) -> ConfigError {
    err(libc::ERANGE, format!("Number out of range \"{s}\""))
}

fn invalid_number(s: &str) -> ConfigError {
    err(libc::EINVAL, format!("Invalid number \"{s}\""))
}

/// `lxc_safe_int`: signed, base 0, no trailing garbage, bounded to `i32`.
pub fn safe_int(s: &str) -> Result<i32, ConfigError> {
    let v = safe_long_long(s)?;
    i32::try_from(v).map_err(|_| out_of_range(s))
}

/// `lxc_safe_long_long`: signed 64-bit, base 0, no trailing garbage.
pub fn safe_long_long(s: &str) -> Result<i64, ConfigError> {
    let b = s.as_bytes();
    let (v, used, overflow) = scan_signed(b, 0);
    if overflow {
        return Err(out_of_range(s));
    }
    if used == 0 || used != b.len() {
        return Err(invalid_number(s));
    }
    Ok(v)
}

/// `lxc_safe_int64_residual` with base 10: a number followed by fewer than
/// `residual_max` bytes of residue, which is returned. Like LXC, only the
/// positive overflow is an error; a negative one clamps to `i64::MIN`.
pub fn safe_int64_residual(s: &str, residual_max: usize) -> Result<(i64, &str), ConfigError> {
    let (v, used, overflow) = scan_signed(s.as_bytes(), 10);
    if overflow && v == i64::MAX {
        return Err(out_of_range(s));
    }
    if used == 0 {
        return Err(invalid_number(s));
    }
    let rest = s.get(used..).unwrap_or("");
    if rest.len() >= residual_max {
        return Err(err(libc::EINVAL, format!("Invalid suffix in \"{s}\"")));
    }
    Ok((v, rest))
}

/// `strtoull(s, &end, 10)` as used by the prlimit parser: the value (with
/// C's wrap-around for a leading '-') and the number of bytes consumed.
pub fn strtoull10(s: &str) -> Result<(u64, usize), ConfigError> {
    let scan = scan_unsigned(s.as_bytes(), 10);
    if scan.overflow {
        return Err(err(libc::ERANGE, format!("Number out of range \"{s}\"")));
    }
    let v = if scan.negative {
        scan.value.wrapping_neg()
    } else {
        scan.value
    };
    Ok((v, scan.consumed))
}

/// iproute2's `get_u16` with base 0.
pub fn get_u16(s: &str) -> Result<u16, ConfigError> {
    let bad = || err(libc::ERANGE, format!("Invalid 16 bit number \"{s}\""));
    if s.is_empty() {
        return Err(err(libc::EINVAL, "Empty number"));
    }
    let scan = scan_unsigned(s.as_bytes(), 0);
    if scan.consumed == 0 || scan.consumed != s.len() || scan.overflow || scan.negative {
        return Err(bad());
    }
    u16::try_from(scan.value).map_err(|_| bad())
}

/// `parse_byte_size_string`: "<n>", "<n>B" or "<n>{KB,MB,GB}" (binary units).
pub fn parse_byte_size(s: &str) -> Result<i64, ConfigError> {
    let bad = || err(libc::EINVAL, format!("Invalid size \"{s}\""));
    // LXC copies into a 22 byte buffer (room for a 64-bit integer).
    if s.is_empty() || s.len() > 21 {
        return Err(bad());
    }
    let b = s.as_bytes();
    let last = b[b.len() - 1];
    let suffix_len = if last.is_ascii_digit() {
        0
    } else if last.is_ascii_alphabetic() {
        if b.len() == 1 {
            return Err(bad());
        }
        if b.len() == 2 {
            if b[0].is_ascii_alphabetic() {
                return Err(bad());
            }
            1
        } else if b[b.len() - 2].is_ascii_alphabetic() {
            2
        } else {
            1
        }
    } else {
        return Err(bad());
    };
    let (num, suffix) = s.split_at(s.len() - suffix_len);
    let num = num.trim_end_matches([' ', '\t', '\n']);
    let conv = safe_long_long(num)?;
    if suffix_len != 2 {
        return Ok(conv);
    }
    let mult: i64 = match suffix.to_ascii_uppercase().as_str() {
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        _ => return Err(bad()),
    };
    conv.checked_mul(mult)
        .ok_or_else(|| err(libc::ERANGE, format!("Size out of range \"{s}\"")))
}

/// `lxc_path_simplify`: collapses "//" and "/./", drops a trailing slash,
/// keeps ".." untouched.
pub fn path_simplify(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let absolute = path.starts_with('/');
    let b = path.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut slash = false;
    let mut ignore_slash = false;
    let is_dot_component = |j: usize| b[j] == b'.' && (j + 1 == b.len() || b[j + 1] == b'/');
    if is_dot_component(0) {
        ignore_slash = true;
        i = 1;
    }
    while i < b.len() {
        let c = b[i];
        if c == b'/' {
            slash = true;
            i += 1;
            continue;
        }
        if slash {
            if is_dot_component(i) {
                i += 1;
                continue;
            }
            slash = false;
            if ignore_slash {
                ignore_slash = false;
            } else {
                out.push(b'/');
            }
        }
        out.push(c);
        i += 1;
    }
    if out.is_empty() {
        out.push(if absolute { b'/' } else { b'.' });
    }
    // Only ASCII bytes were removed, so the result stays valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// Signal names LXC accepts after a "SIG" prefix (case-insensitive).
const SIGNALS: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("ABRT", libc::SIGABRT),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("SEGV", libc::SIGSEGV),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("TRAP", libc::SIGTRAP),
    ("IOT", libc::SIGIOT),
    ("BUS", libc::SIGBUS),
    ("STKFLT", libc::SIGSTKFLT),
    ("CLD", libc::SIGCHLD),
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

/// glibc reserves two real-time signals for itself.
fn sigrtmin() -> i32 {
    libc::SIGRTMIN()
}

fn sigrtmax() -> i32 {
    libc::SIGRTMAX()
}

/// `sig_parse`: a number (any `unsigned int` fitting an `int`), "SIG<NAME>",
/// "SIGRTMIN+n" or "SIGRTMAX-n". Bare names such as "TERM" are rejected.
pub fn sig_parse(value: &str) -> Result<i32, ConfigError> {
    let bad = || err(libc::EINVAL, format!("Invalid signal \"{value}\""));
    if value.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        let n = safe_uint(value)?;
        return i32::try_from(n).map_err(|_| bad());
    }
    let upper = value.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").ok_or_else(bad)?;
    if let Some(rt) = name.strip_prefix("RT") {
        let (is_max, num) = if let Some(n) = rt.strip_prefix("MAX-") {
            (true, n)
        } else if let Some(n) = rt.strip_prefix("MIN+") {
            (false, n)
        } else {
            return Err(bad());
        };
        if !num.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return Err(bad());
        }
        let n = i64::from(safe_uint(num)?);
        let span = i64::from(sigrtmax() - sigrtmin());
        if n > span {
            return Err(bad());
        }
        let sig = if is_max {
            i64::from(sigrtmax()) - n
        } else {
            i64::from(sigrtmin()) + n
        };
        return i32::try_from(sig).map_err(|_| bad());
    }
    SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .ok_or_else(bad)
}

/// Capability names LXC knows (libcap builds), in kernel order.
pub const CAPS: &[&str] = &[
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// The running kernel's highest capability, as LXC reads it.
fn last_cap() -> u32 {
    crate::sys::procfs::cap_last_cap((CAPS.len() - 1) as u32)
}

/// `parse_cap`: a known name or a number not above the kernel's last cap.
pub fn parse_cap(name: &str) -> Result<u32, ConfigError> {
    if let Some(i) = CAPS.iter().position(|c| *c == name) {
        return Ok(i as u32);
    }
    let bad = || {
        err(
            libc::EINVAL,
            format!("Invalid capability specified: {name}"),
        )
    };
    let n = safe_uint(name).map_err(|_| bad())?;
    if n > last_cap() {
        return Err(bad());
    }
    Ok(n)
}

/// Personality for `lxc.arch` values (`lxc_config_parse_arch`).
pub fn parse_arch(arch: &str) -> Option<super::model::Personality> {
    use super::model::Personality::{Linux, Linux32};
    const TABLE: &[(&str, super::model::Personality)] = &[
        ("arm", Linux32),
        ("armel", Linux32),
        ("armhf", Linux32),
        ("armv7l", Linux32),
        ("athlon", Linux32),
        ("i386", Linux32),
        ("i486", Linux32),
        ("i586", Linux32),
        ("i686", Linux32),
        ("linux32", Linux32),
        ("mips", Linux32),
        ("mipsel", Linux32),
        ("ppc", Linux32),
        ("powerpc", Linux32),
        ("x32", Linux32),
        ("x86", Linux32),
        ("aarch64", Linux),
        ("amd64", Linux),
        ("arm64", Linux),
        ("linux64", Linux),
        ("loongarch64", Linux),
        ("loong64", Linux),
        ("mips64", Linux),
        ("mips64el", Linux),
        ("ppc64", Linux),
        ("ppc64el", Linux),
        ("ppc64le", Linux),
        ("powerpc64", Linux),
        ("riscv64", Linux),
        ("s390x", Linux),
        ("x86_64", Linux),
    ];
    TABLE.iter().find(|(n, _)| *n == arch).map(|(_, p)| *p)
}

/// Log priority names, indexed by LXC's level number (TRACE=0 .. FATAL=8).
pub const LOG_LEVELS: &[&str] = &[
    "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRIT", "ALERT", "FATAL",
];

/// Syslog facilities `lxc.log.syslog` accepts (case-insensitive).
pub const SYSLOG_FACILITIES: &[&str] = &[
    "daemon", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];

/// Namespace names in LXC's `ns_info` order with their clone flags.
pub const NAMESPACES: &[(&str, i32)] = &[
    ("user", libc::CLONE_NEWUSER),
    ("mnt", libc::CLONE_NEWNS),
    ("pid", libc::CLONE_NEWPID),
    ("uts", libc::CLONE_NEWUTS),
    ("ipc", libc::CLONE_NEWIPC),
    ("net", libc::CLONE_NEWNET),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("time", 0x80),
];

/// Random lowercase hex digit source for hwaddr completion.
pub fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: buf is a valid writable 8-byte buffer.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n == 8 {
        return u64::from_ne_bytes(buf);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32)
}

/// `rand_complete_hwaddr`: replaces every 'x'/'X' with a random hex digit;
/// the second character is kept even so the address stays unicast.
pub fn complete_hwaddr(value: &str) -> String {
    if !value.contains(['x', 'X']) {
        return value.to_string();
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut seed = random_u64();
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.char_indices() {
        if c == '\n' {
            out.push_str(&value[i..]);
            return out;
        }
        if c == 'x' || c == 'X' {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (seed >> 33) as usize;
            let mask = if i == 1 { 0x0e } else { 0x0f };
            out.push(HEX[r & mask] as char);
        } else {
            out.push(c);
        }
    }
    out
}
