//! The options of an attach and the decisions derived from them: which
//! namespaces to enter, the environment, the ids. Pure functions, unit
//! tested; nothing here forks.

/// Move the attached process into the container's cgroups.
pub const MOVE_TO_CGROUP: i32 = 0x0000_0001;
/// Drop the capabilities the container's init does not have.
pub const DROP_CAPABILITIES: i32 = 0x0000_0002;
/// Set the container's personality (lxc.arch).
pub const SET_PERSONALITY: i32 = 0x0000_0004;
/// Apply the LSM label on exec.
pub const LSM_EXEC: i32 = 0x0000_0008;
/// Remount /proc and /sys (only without entering the mount namespace).
pub const REMOUNT_PROC_SYS: i32 = 0x0001_0000;
/// Apply the LSM label now.
pub const LSM_NOW: i32 = 0x0002_0000;
/// Set PR_SET_NO_NEW_PRIVS.
pub const NO_NEW_PRIVS: i32 = 0x0004_0000;
/// Allocate a new terminal for the attached process.
pub const TERMINAL: i32 = 0x0008_0000;
/// Use the given LSM label.
pub const LSM_LABEL: i32 = 0x0010_0000;
/// Set the given supplementary groups.
pub const SETGROUPS: i32 = 0x0020_0000;
/// LXC_ATTACH_DEFAULT: every flag of the low 16 bits.
pub const DEFAULT: i32 = 0x0000_FFFF;
/// Any of the LSM flags.
pub const LSM: i32 = LSM_EXEC | LSM_NOW | LSM_LABEL;

/// LXC_ATTACH_DETECT_PERSONALITY: the container's personality.
pub const DETECT_PERSONALITY: i64 = -1;
/// LXC_ARCH_UNCHANGED: leave the personality alone.
pub const ARCH_UNCHANGED: i64 = 0xffff_ffff;

/// `(uid_t)-1` / `(gid_t)-1`: "not given".
pub const INVALID_ID: u32 = u32::MAX;

pub const CLONE_NEWTIME: i32 = 0x0000_0080;

/// The namespaces in the order LXC enters them: user first, so that the
/// others are entered with the capabilities it grants.
pub const NAMESPACES: [(i32, &str); 8] = [
    (libc::CLONE_NEWUSER, "user"),
    (libc::CLONE_NEWNS, "mnt"),
    (libc::CLONE_NEWPID, "pid"),
    (libc::CLONE_NEWUTS, "uts"),
    (libc::CLONE_NEWIPC, "ipc"),
    (libc::CLONE_NEWNET, "net"),
    (libc::CLONE_NEWCGROUP, "cgroup"),
    (CLONE_NEWTIME, "time"),
];

/// Every namespace flag this library knows.
pub const ALL_NAMESPACES: i32 = libc::CLONE_NEWUSER
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP
    | CLONE_NEWTIME;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvPolicy {
    /// Keep the caller's environment.
    Keep,
    /// Start from an empty environment.
    Clear,
}

/// `lxc_attach_options_t` without C types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachOptions {
    pub flags: i32,
    /// `CLONE_NEW*` flags; -1 for every namespace the container has.
    pub namespaces: i32,
    pub personality: i64,
    /// None: the caller's working directory.
    pub initial_cwd: Option<Vec<u8>>,
    pub uid: u32,
    pub gid: u32,
    pub env_policy: EnvPolicy,
    /// "NAME=value" entries.
    pub extra_env_vars: Vec<Vec<u8>>,
    /// Names kept when the environment is cleared.
    pub extra_keep_env: Vec<Vec<u8>>,
    pub stdin_fd: i32,
    pub stdout_fd: i32,
    pub stderr_fd: i32,
    pub log_fd: i32,
    pub lsm_label: Option<String>,
    pub groups: Vec<u32>,
}

impl Default for AttachOptions {
    /// LXC_ATTACH_OPTIONS_DEFAULT.
    fn default() -> Self {
        AttachOptions {
            flags: DEFAULT,
            namespaces: -1,
            personality: DETECT_PERSONALITY,
            initial_cwd: None,
            uid: INVALID_ID,
            gid: INVALID_ID,
            env_policy: EnvPolicy::Keep,
            extra_env_vars: Vec::new(),
            extra_keep_env: Vec::new(),
            stdin_fd: 0,
            stdout_fd: 1,
            stderr_fd: 2,
            log_fd: -libc::EBADF,
            lsm_label: None,
            groups: Vec::new(),
        }
    }
}

/// The namespaces to attach to, before dropping those we already share.
/// `requested == -1` means the container's clone flags plus every other
/// namespace that differs from ours (the cgroup namespace only when moving
/// into the container's cgroup, as LXC); unknown clone flags fall back to
/// every namespace that differs.
pub fn wanted_namespaces(
    requested: i32,
    clone_flags: Option<i32>,
    differs: impl Fn(i32) -> bool,
    move_to_cgroup: bool,
) -> i32 {
    if requested != -1 {
        return requested & ALL_NAMESPACES;
    }
    let base = clone_flags.filter(|f| *f >= 0).unwrap_or(0) & ALL_NAMESPACES;
    let mut set = base;
    for (flag, _) in NAMESPACES {
        if base & flag != 0 {
            continue;
        }
        if flag == libc::CLONE_NEWCGROUP && !move_to_cgroup {
            continue;
        }
        if differs(flag) {
            set |= flag;
        }
    }
    set
}

/// The key of a "KEY=value" entry (the whole entry when it has no '=').
fn env_key(entry: &[u8]) -> &[u8] {
    entry
        .iter()
        .position(|&b| b == b'=')
        .map_or(entry, |i| &entry[..i])
}

/// An environment as ordered "KEY=value" entries; `set` replaces in place.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Env(pub Vec<Vec<u8>>);

impl Env {
    pub fn set(&mut self, entry: Vec<u8>) {
        let key = env_key(&entry).to_vec();
        match self.0.iter_mut().find(|e| env_key(e) == key.as_slice()) {
            Some(slot) => *slot = entry,
            None => self.0.push(entry),
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|e| env_key(e) == key)
            .map(|e| e.get(key.len() + 1..).unwrap_or(b""))
    }
}

/// LXC's default PATH for a cleared environment.
pub const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The attached process's environment, as `lxc_attach_set_environment`
/// builds it: the caller's (or, when cleared, only the kept names plus a
/// default PATH), then `container=lxc`, then the container's
/// `lxc.environment`, then the extra "KEY=value" entries.
pub fn build_env(
    caller: &[Vec<u8>],
    policy: EnvPolicy,
    extra_keep: &[Vec<u8>],
    config_env: &[(String, String)],
    extra_env: &[Vec<u8>],
) -> Env {
    let caller_env = {
        let mut e = Env::default();
        for entry in caller {
            e.set(entry.clone());
        }
        e
    };
    let mut env = match policy {
        EnvPolicy::Keep => caller_env.clone(),
        EnvPolicy::Clear => {
            let mut e = Env::default();
            for name in extra_keep {
                if let Some(v) = caller_env.get(name) {
                    e.set([name.as_slice(), b"=", v].concat());
                }
            }
            if e.get(b"PATH").is_none() {
                e.set([b"PATH=".as_slice(), DEFAULT_PATH].concat());
            }
            e
        }
    };
    env.set(b"container=lxc".to_vec());
    for (k, v) in config_env {
        env.set(format!("{k}={v}").into_bytes());
    }
    for entry in extra_env {
        env.set(entry.clone());
    }
    env
}

/// Fields of /proc/<pid>/status the attach needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InitStatus {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// CapBnd.
    pub cap_bounding: Option<u64>,
}

pub fn parse_status(text: &str) -> InitStatus {
    let mut st = InitStatus::default();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let first = rest.split_whitespace().next().unwrap_or("");
        match key {
            "Uid" => st.uid = first.parse().ok(),
            "Gid" => st.gid = first.parse().ok(),
            "CapBnd" => st.cap_bounding = u64::from_str_radix(first, 16).ok(),
            _ => {}
        }
    }
    st
}

/// The id to set up with inside a user namespace, from its uid_map or
/// gid_map: 0 when 0 is mapped, else the namespace id of `host_id` (the
/// init's host id), else None.
pub fn setup_id(map: &str, host_id: Option<u32>) -> Option<u32> {
    let mut mapped = None;
    for line in map.lines() {
        let v: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let [ns, host, range] = v[..] else {
            continue;
        };
        if ns == 0 && range > 0 {
            return Some(0);
        }
        if let Some(h) = host_id.map(u64::from) {
            if h >= host && h < host + range {
                mapped = u32::try_from(h - host + ns).ok();
            }
        }
    }
    mapped
}

/// The ids the attached process ends with: the given ones, else the
/// setup ids inside a user namespace, else root.
pub fn target_ids(
    opts: &AttachOptions,
    in_userns: bool,
    setup: (Option<u32>, Option<u32>),
) -> (u32, u32) {
    let pick = |given: u32, setup: Option<u32>| {
        if given != INVALID_ID {
            given
        } else if in_userns {
            setup.unwrap_or(INVALID_ID)
        } else {
            0
        }
    };
    (pick(opts.uid, setup.0), pick(opts.gid, setup.1))
}

/// Capabilities to remove from the bounding set: those the container's
/// init does not have.
pub fn caps_to_drop(init_bounding: u64, last_cap: u32) -> Vec<u32> {
    (0..=last_cap.min(63))
        .filter(|c| init_bounding & (1u64 << c) == 0)
        .collect()
}

/// The personality to set, if any: with SET_PERSONALITY, the given one or
/// (DETECT) the container's `lxc.arch`.
pub fn personality(flags: i32, requested: i64, container: Option<i64>) -> Option<i64> {
    if flags & SET_PERSONALITY == 0 {
        return None;
    }
    let p = if requested == DETECT_PERSONALITY {
        container.unwrap_or(ARCH_UNCHANGED)
    } else {
        requested
    };
    (p != ARCH_UNCHANGED).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn namespaces_all() {
        let clone = libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWUTS;
        // The net namespace differs though not in the clone flags (shared
        // with another container, say): it is entered too.
        let differs = |f| f == libc::CLONE_NEWNET || f == libc::CLONE_NEWCGROUP;
        assert_eq!(
            wanted_namespaces(-1, Some(clone), differs, true),
            clone | libc::CLONE_NEWNET | libc::CLONE_NEWCGROUP
        );
        assert_eq!(
            wanted_namespaces(-1, Some(clone), differs, false),
            clone | libc::CLONE_NEWNET
        );
        assert_eq!(
            wanted_namespaces(-1, None, |f| f == libc::CLONE_NEWUTS, true),
            libc::CLONE_NEWUTS
        );
        assert_eq!(
            wanted_namespaces(libc::CLONE_NEWUTS | 0x1, Some(clone), |_| true, true),
            libc::CLONE_NEWUTS
        );
    }

    #[test]
    fn env_keep() {
        let caller = vec![b("HOME=/root"), b("container=docker"), b("PATH=/x")];
        let env = build_env(
            &caller,
            EnvPolicy::Keep,
            &[],
            &[("A".into(), "1".into())],
            &[b("B=2"), b("HOME=/h")],
        );
        assert_eq!(
            env.0,
            vec![
                b("HOME=/h"),
                b("container=lxc"),
                b("PATH=/x"),
                b("A=1"),
                b("B=2")
            ]
        );
    }

    #[test]
    fn env_clear() {
        let caller = vec![b("HOME=/root"), b("TERM=xterm"), b("PATH=/x")];
        let env = build_env(&caller, EnvPolicy::Clear, &[b("TERM"), b("NOPE")], &[], &[]);
        assert_eq!(
            env.0,
            vec![
                b("TERM=xterm"),
                [b"PATH=".as_slice(), DEFAULT_PATH].concat(),
                b("container=lxc")
            ]
        );
        let env = build_env(&caller, EnvPolicy::Clear, &[b("PATH")], &[], &[b("X=y")]);
        assert_eq!(env.0, vec![b("PATH=/x"), b("container=lxc"), b("X=y")]);
    }

    #[test]
    fn status_and_maps() {
        let st = parse_status("Name:\tinit\nUid:\t100\t100\t100\t100\nGid:\t200\t200\t200\t200\nCapBnd:\t000001ffffffffff\n");
        assert_eq!(st.uid, Some(100));
        assert_eq!(st.gid, Some(200));
        assert_eq!(st.cap_bounding, Some(0x1ff_ffff_ffff));
        assert_eq!(
            setup_id("         0     100000      65536\n", Some(100000)),
            Some(0)
        );
        assert_eq!(setup_id("1000 100000 10\n", Some(100005)), Some(1005));
        assert_eq!(setup_id("1000 100000 10\n", Some(5)), None);
    }

    #[test]
    fn ids() {
        let mut o = AttachOptions::default();
        assert_eq!(target_ids(&o, false, (Some(5), Some(6))), (0, 0));
        assert_eq!(target_ids(&o, true, (Some(5), Some(6))), (5, 6));
        o.uid = 1000;
        assert_eq!(target_ids(&o, true, (Some(5), Some(6))), (1000, 6));
    }

    #[test]
    fn caps_and_personality() {
        assert_eq!(caps_to_drop(!(1u64 << 3), 5), vec![3]);
        assert_eq!(caps_to_drop(u64::MAX, 40), Vec::<u32>::new());
        assert_eq!(personality(DEFAULT, DETECT_PERSONALITY, Some(8)), Some(8));
        assert_eq!(personality(DEFAULT, DETECT_PERSONALITY, None), None);
        assert_eq!(personality(0, 8, Some(8)), None);
        assert_eq!(personality(SET_PERSONALITY, 0, Some(8)), Some(0));
    }
}
