//! `start`: hand the in-memory configuration to a freshly exec'd monitor,
//! which creates the container and reports when it is RUNNING.
//!
//! The caller's process only runs `posix_spawn` (no code of ours between
//! fork and exec; for a background start, from an intermediate sharing our
//! memory that runs nothing else), so threaded callers cannot deadlock in
//! the child. The
//! monitor runs from a read-only handle (`sys::sealed_exe`): the container
//! sees its clones (an application container's reaper) as PID 1.

use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::Container;
use crate::error::{Error, Result};
use crate::monitor::{Args, StatusLine, HIERARCHIES_FD, STATUS_FD};
use crate::spawn::StartOptions;
use crate::sys;

/// A memfd holding the configuration text, for the monitor's fd 3.
fn config_memfd(text: &str) -> Result<OwnedFd> {
    // SAFETY: memfd_create with a static name.
    let fd = unsafe { libc::memfd_create(c"lxc-config".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(Error::last_os(
            "Failed to create a memfd for the configuration",
        ));
    }
    // SAFETY: fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut file = std::fs::File::from(fd);
    file.write_all(text.as_bytes())
        .map_err(|e| Error::os("Failed to pass the configuration", &e))?;
    // SAFETY: rewinding our descriptor so the monitor reads from the start.
    unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_SET) };
    Ok(OwnedFd::from(file))
}

extern "C" {
    static environ: *const *const libc::c_char;
}

/// The entries of this process's environment.
///
/// # Safety
/// No other thread may change the environment while they are in use.
unsafe fn process_environment<'a>() -> impl Iterator<Item = &'a std::ffi::CStr> {
    let mut at = environ;
    std::iter::from_fn(move || {
        if at.is_null() || (*at).is_null() {
            return None;
        }
        let entry = std::ffi::CStr::from_ptr(*at);
        at = at.add(1);
        Some(entry)
    })
}

/// Spawns the monitor with the config on fd 3, the status pipe on fd 4,
/// the socket of the cgroup hierarchies on fd 5, nothing else open,
/// default signal dispositions and an empty mask; as our child in the
/// foreground mode, else detached (not our child).
fn spawn_monitor(
    argv: &[String],
    config: &OwnedFd,
    status_w: &OwnedFd,
    hierarchies: &OwnedFd,
    foreground: bool,
) -> Result<MonitorSpawn> {
    let handle = crate::helper_exe::monitor_handle()?;
    let args: Vec<CString> = argv
        .iter()
        .map(|a| sys::cstring(a))
        .collect::<Result<_>>()?;
    let mut arg_ptrs: Vec<*mut libc::c_char> = args
        .iter()
        .map(|a| a.as_ptr() as *mut libc::c_char)
        .collect();
    arg_ptrs.push(std::ptr::null_mut());
    let setup = sys::spawn::SpawnSetup {
        dup2: &[
            (config.as_raw_fd(), crate::monitor::CONFIG_FD),
            (status_w.as_raw_fd(), STATUS_FD),
            (hierarchies.as_raw_fd(), HIERARCHIES_FD),
        ],
        // The monitor closes everything above those first.
        handle_slot: HIERARCHIES_FD + 1,
        block_all_signals: false,
        default_all_signals: true,
        detached: !foreground,
    };
    // SAFETY: the process environment is a NULL-terminated array of C
    // strings.
    let env = sys::lean_malloc::environment(unsafe { process_environment() });
    let env_ptrs = env.pointers();
    // SAFETY: a NULL-terminated environment; what the strings of both
    // arrays are goes into the MonitorSpawn, after the Spawning.
    let spawning = unsafe {
        sys::spawn::start(
            &*handle,
            &arg_ptrs,
            env_ptrs.as_ptr(),
            &setup,
            "the monitor",
        )
    }?;
    Ok(MonitorSpawn {
        spawning,
        _args: args,
        _env: env,
    })
}

/// The monitor on its way to its exec, with the strings it reads until
/// then.
struct MonitorSpawn {
    /// First: dropped (or finished), it waits for the exec, before the
    /// strings go.
    spawning: sys::spawn::Spawning,
    _args: Vec<CString>,
    _env: sys::lean_malloc::Environment<'static>,
}

fn wait_child(pid: libc::pid_t) -> Option<i32> {
    sys::wait_status(pid, 0).ok()
}

impl Container {
    /// Starts the container. In the foreground mode returns the wait
    /// status of the container's init once it stopped (LXC's error_num).
    pub fn start(&self, opts: &StartOptions) -> Result<i32> {
        let (name, lxcpath, config_file, text, cgroup_relative) = {
            let st = self.lock();
            let Some(config) = &st.config else {
                return Err(Error::new(
                    libc::ENOENT,
                    format!(
                        "Cannot start \"{}\": it has no configuration (not defined in {})",
                        st.name, st.lxcpath
                    ),
                ));
            };
            (
                st.name.clone(),
                st.lxcpath.clone(),
                st.config_file.clone(),
                config.replay_text().to_string(),
                config.conf().cgroup_relative,
            )
        };
        if self.is_running() {
            return Err(Error::new(
                libc::EBUSY,
                format!("Cannot start \"{name}\": it is already running"),
            ));
        }
        let args = Args {
            name: name.clone(),
            lxcpath: lxcpath.clone(),
            config_file: config_file.to_string_lossy().into_owned(),
            foreground: !opts.daemonize,
            use_init: opts.use_init,
            init_argv: opts.argv.clone(),
            restore: opts.restore.clone(),
        };
        let mut argv = vec![format!("[lxc monitor] {lxcpath} {name}")];
        argv.extend(args.to_argv());
        let config_fd = config_memfd(&text)?;
        let (status_r, status_w) = sys::pipe("the status pipe")?;
        let (hierarchies, monitor_end) = sys::socketpair_seqpacket()?;
        let monitor = spawn_monitor(&argv, &config_fd, &status_w, &monitor_end, !opts.daemonize)?;
        // While the monitor is being executed. Best effort: a failure here
        // only closes the socket, and the monitor finds them itself.
        if let Err(e) = crate::cgroups::handoff::send(&hierarchies, cgroup_relative) {
            log::debug!(
                "Cgroup hierarchies not handed to the monitor: {}",
                e.message
            );
        }
        drop(hierarchies);
        let pid = monitor.spawning.finish();
        drop((status_w, monitor_end, config_fd));
        let pid = pid?;
        let mut reader = BufReader::new(std::fs::File::from(status_r));
        let first = read_status(&mut reader);
        let init_pid = match first {
            Some(StatusLine::Running(p)) => p,
            Some(StatusLine::Error(errno, msg)) => {
                if !opts.daemonize {
                    wait_child(pid);
                }
                return Err(Error::new(errno, msg));
            }
            _ => {
                let status = if opts.daemonize {
                    None
                } else {
                    wait_child(pid)
                };
                return Err(Error::new(
                    libc::ECHILD,
                    format!("The monitor of \"{name}\" exited without reporting (wait status {status:?})"),
                ));
            }
        };
        if let Some(pidfile) = &opts.pidfile {
            std::fs::write(pidfile, format!("{init_pid}\n"))
                .map_err(|e| Error::io("Failed to write pidfile", Path::new(pidfile), &e))?;
        }
        if opts.daemonize {
            return Ok(0);
        }
        let mut exit = None;
        while let Some(line) = read_status(&mut reader) {
            if let StatusLine::Exited(s) = line {
                exit = Some(s);
            }
        }
        let monitor_status = wait_child(pid);
        Ok(exit.or(monitor_status).unwrap_or(1))
    }
}

fn read_status(reader: &mut impl BufRead) -> Option<StatusLine> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(n) if n > 0 => StatusLine::parse(&line),
        _ => None,
    }
}
