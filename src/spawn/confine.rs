//! Per-process confinement of the container's init that is neither
//! mounts nor capabilities: `lxc.prlimit.*` and `lxc.proc.*` (written by
//! the monitor on init's pid before releasing it, as LXC's
//! `setup_resource_limits` / `setup_proc_filesystem`), `lxc.sched.core`
//! (a core-scheduling cookie for init's thread group, from the monitor),
//! `lxc.sysctl.*` (written by init into its own /proc/sys after
//! pivot_root, as LXC's `setup_sysctl_parameters`) and the session
//! keyring (`lxc_setup_keyring`).

use crate::config::Config;
use crate::error::{Error, Result};
use crate::sys;

/// What the confinement keys ask for, derived from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confinement {
    /// (resource name, resource number, soft, hard); u64::MAX = unlimited.
    pub prlimits: Vec<(String, i32, u64, u64)>,
    /// (`/proc/<pid>/` relative path, value).
    pub procs: Vec<(String, String)>,
    /// (`/proc/sys/` relative path, value).
    pub sysctls: Vec<(String, String)>,
    /// Join a fresh session keyring in init.
    pub new_session_keyring: bool,
    /// `lxc.sched.core = 1`.
    pub sched_core: bool,
    /// Signal init gets when the monitor dies (0: none).
    pub pdeath_signal: i32,
}

/// LXC's resource names (`parse_resource`): RLIMIT_<NAME> lowercased,
/// or a number for resources this table does not know.
pub fn parse_resource(name: &str) -> Option<i32> {
    let known: [(&str, i32); 16] = [
        ("as", libc::RLIMIT_AS as i32),
        ("core", libc::RLIMIT_CORE as i32),
        ("cpu", libc::RLIMIT_CPU as i32),
        ("data", libc::RLIMIT_DATA as i32),
        ("fsize", libc::RLIMIT_FSIZE as i32),
        ("locks", libc::RLIMIT_LOCKS as i32),
        ("memlock", libc::RLIMIT_MEMLOCK as i32),
        ("msgqueue", libc::RLIMIT_MSGQUEUE as i32),
        ("nice", libc::RLIMIT_NICE as i32),
        ("nofile", libc::RLIMIT_NOFILE as i32),
        ("nproc", libc::RLIMIT_NPROC as i32),
        ("rss", libc::RLIMIT_RSS as i32),
        ("rtprio", libc::RLIMIT_RTPRIO as i32),
        ("rttime", libc::RLIMIT_RTTIME as i32),
        ("sigpending", libc::RLIMIT_SIGPENDING as i32),
        ("stack", libc::RLIMIT_STACK as i32),
    ];
    known
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, r)| *r)
        .or_else(|| name.parse::<i32>().ok().filter(|r| *r >= 0))
}

/// `net.ipv4.ip_forward` -> `net/ipv4/ip_forward` (LXC replaces every
/// dot; keys naming interfaces with dots cannot be expressed, as in LXC).
pub fn dotted_to_path(key: &str) -> Result<String> {
    let path = key.replace('.', "/");
    if path.is_empty()
        || path.starts_with('/')
        || path.split('/').any(|c| c.is_empty() || c == "..")
    {
        return Err(Error::invalid(format!("Invalid key \"{key}\"")));
    }
    Ok(path)
}

impl Confinement {
    pub fn from_config(config: &Config) -> Result<Confinement> {
        let conf = config.conf();
        let mut prlimits = Vec::new();
        for (name, lim) in conf.prlimits.iter() {
            let res = parse_resource(name).ok_or_else(|| {
                Error::invalid(format!("lxc.prlimit.{name}: unknown resource \"{name}\""))
            })?;
            prlimits.push((name.to_string(), res, lim.soft, lim.hard));
        }
        let procs = conf
            .procs
            .iter()
            .map(|(k, v)| Ok((dotted_to_path(k)?, v.clone())))
            .collect::<Result<_>>()?;
        let sysctls = conf
            .sysctls
            .iter()
            .map(|(k, v)| Ok((dotted_to_path(k)?, v.clone())))
            .collect::<Result<_>>()?;
        Ok(Confinement {
            prlimits,
            procs,
            sysctls,
            // LXC stores lxc.keyring.session in `keyring_disable_session`:
            // 1 keeps the inherited keyring, 0 (the default) makes a new one.
            new_session_keyring: !conf.keyring_session,
            sched_core: conf.sched_core,
            pdeath_signal: conf.monitor_signal_pdeath,
        })
    }

    /// Whether [`Self::apply_from_parent`] has anything to do.
    pub fn acts_from_parent(&self) -> bool {
        self.sched_core || !self.procs.is_empty() || !self.prlimits.is_empty()
    }

    /// In the monitor, once init exists and before it is released:
    /// core scheduling, `lxc.proc.*`, `lxc.prlimit.*`.
    pub fn apply_from_parent(&self, pid: i32, new_pidns: bool) -> Result<()> {
        if self.sched_core {
            sched_core_create(pid, new_pidns)?;
        }
        for (file, value) in &self.procs {
            let path = format!("/proc/{pid}/{file}");
            std::fs::write(&path, value).map_err(|e| {
                Error::os(
                    format_args!("Failed to set lxc.proc.{file}: writing \"{value}\" to {path}"),
                    &e,
                )
            })?;
        }
        for (name, res, soft, hard) in &self.prlimits {
            let lim = libc::rlimit64 {
                rlim_cur: *soft,
                rlim_max: *hard,
            };
            // SAFETY: prlimit on our own child with a limit we own.
            let r = unsafe {
                libc::prlimit64(
                    pid,
                    *res as libc::__rlimit_resource_t,
                    &lim,
                    std::ptr::null_mut(),
                )
            };
            if r != 0 {
                return Err(Error::last_os(format_args!(
                    "Failed to set lxc.prlimit.{name}"
                )));
            }
        }
        Ok(())
    }

    /// In init after pivot_root: `lxc.sysctl.*` into its own /proc/sys.
    pub fn write_sysctls(&self) -> Result<()> {
        for (path, value) in &self.sysctls {
            let file = format!("/proc/sys/{path}");
            std::fs::write(&file, value).map_err(|e| {
                Error::os(
                    format_args!(
                        "Failed to set lxc.sysctl.{}: writing \"{value}\" to {file}",
                        path.replace('/', ".")
                    ),
                    &e,
                )
            })?;
        }
        Ok(())
    }

    /// In init: a new session keyring so nothing of the host's session
    /// keyring is reachable (a kernel without keyrings, or a blocked
    /// keyctl, only gets a log line, as in LXC).
    pub fn join_session_keyring(&self) {
        if !self.new_session_keyring {
            return;
        }
        let r = sys::raw::join_new_session_keyring();
        if r < 0 {
            let e = sys::errno();
            match e {
                libc::ENOSYS | libc::EACCES | libc::EPERM => {
                    log::debug!(
                        "No new session keyring: {}",
                        std::io::Error::from_raw_os_error(e)
                    )
                }
                _ => log::warn!(
                    "Failed to create a session keyring: {}",
                    std::io::Error::from_raw_os_error(e)
                ),
            }
        }
    }

    /// The death signal init gets when the monitor goes away.
    pub fn set_pdeath_signal(&self) {
        // SAFETY: prctl with integer arguments.
        unsafe {
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                self.pdeath_signal as libc::c_ulong,
                0,
                0,
                0,
            )
        };
    }
}

/// `lxc.sched.core = 1`: a new core-scheduling cookie for init's thread
/// group, inherited by everything it starts. A kernel without SMT
/// (ENODEV) needs none; one without core scheduling fails the start.
fn sched_core_create(pid: i32, new_pidns: bool) -> Result<()> {
    if !new_pidns {
        return Err(Error::invalid(
            "lxc.sched.core requires the container to have its own pid namespace",
        ));
    }
    const PR_SCHED_CORE: libc::c_int = 62;
    const PR_SCHED_CORE_CREATE: libc::c_ulong = 1;
    const PIDTYPE_TGID: libc::c_ulong = 1;
    // SAFETY: prctl with integer arguments.
    let r = unsafe {
        libc::prctl(
            PR_SCHED_CORE,
            PR_SCHED_CORE_CREATE,
            pid as libc::c_ulong,
            PIDTYPE_TGID,
            0,
        )
    };
    if r == 0 {
        return Ok(());
    }
    match sys::errno() {
        libc::ENODEV => {
            log::info!("The kernel does not use SMT: no core scheduling domain needed");
            Ok(())
        }
        libc::EINVAL => Err(Error::new(
            libc::EINVAL,
            "lxc.sched.core = 1: the kernel does not support core scheduling",
        )),
        e => Err(Error::new(
            e,
            format!(
                "lxc.sched.core = 1: failed to create a core scheduling domain: {}",
                std::io::Error::from_raw_os_error(e)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources() {
        assert_eq!(parse_resource("nofile"), Some(libc::RLIMIT_NOFILE as i32));
        assert_eq!(parse_resource("rttime"), Some(libc::RLIMIT_RTTIME as i32));
        assert_eq!(parse_resource("7"), Some(7));
        assert_eq!(parse_resource("bogus"), None);
        assert_eq!(parse_resource("-1"), None);
    }

    #[test]
    fn sysctl_paths() {
        assert_eq!(
            dotted_to_path("net.ipv4.ip_forward").unwrap(),
            "net/ipv4/ip_forward"
        );
        assert_eq!(dotted_to_path("oom_score_adj").unwrap(), "oom_score_adj");
        assert!(dotted_to_path("net..x").is_err());
        assert!(dotted_to_path(".net").is_err());
    }

    #[test]
    fn from_config_values() {
        let mut c = Config::new();
        c.set_item("lxc.prlimit.nofile", "1024:2048").unwrap();
        c.set_item("lxc.prlimit.core", "unlimited").unwrap();
        c.set_item("lxc.prlimit.nproc", "100").unwrap();
        c.set_item("lxc.prlimit.stack", "unlimited:8388608")
            .unwrap();
        c.set_item("lxc.sysctl.net.ipv4.ip_forward", "1").unwrap();
        c.set_item("lxc.proc.oom_score_adj", "500").unwrap();
        let k = Confinement::from_config(&c).unwrap();
        let nofile = libc::RLIMIT_NOFILE as i32;
        let core = libc::RLIMIT_CORE as i32;
        let nproc = libc::RLIMIT_NPROC as i32;
        let stack = libc::RLIMIT_STACK as i32;
        assert_eq!(
            k.prlimits,
            vec![
                ("nofile".to_string(), nofile, 1024, 2048),
                ("core".to_string(), core, u64::MAX, u64::MAX),
                ("nproc".to_string(), nproc, 100, 100),
                ("stack".to_string(), stack, u64::MAX, 8388608),
            ]
        );
        assert!(c.set_item("lxc.prlimit.nofile", "1024:x").is_err());
        assert_eq!(
            k.sysctls,
            vec![("net/ipv4/ip_forward".to_string(), "1".to_string())]
        );
        assert_eq!(
            k.procs,
            vec![("oom_score_adj".to_string(), "500".to_string())]
        );
        assert!(k.new_session_keyring);
        assert_eq!(k.pdeath_signal, libc::SIGKILL);
        c.set_item("lxc.keyring.session", "1").unwrap();
        c.set_item("lxc.monitor.signal.pdeath", "SIGTERM").unwrap();
        let k = Confinement::from_config(&c).unwrap();
        assert!(!k.new_session_keyring);
        assert_eq!(k.pdeath_signal, libc::SIGTERM);
        c.set_item("lxc.prlimit.bogus", "1").unwrap();
        assert!(Confinement::from_config(&c).is_err());
    }
}
