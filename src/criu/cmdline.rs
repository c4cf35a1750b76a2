//! CRIU's command lines, built as LXC 6.0 builds them (its src/lxc/criu.c)
//! from what the caller gathered: pure, unit-tested.
//!
//! Beyond LXC: the container's ttys are external like its console (LXC
//! only handles the console, so a getty on a tty made its dump fail),
//! external unix sockets are allowed (`--ext-unix-sk`), and the restored
//! init's pid is written to a pidfile rather than guessed from the
//! restoring process's children (our monitor has another child, the
//! sentinel).

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Since this version CRIU skips in-flight TCP connections on request.
pub const IN_FLIGHT_SUPPORT: &str = "2.4";

/// The container's cgroup in one hierarchy (`--cgroup-root`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupRoot {
    /// v1 controllers; empty for cgroup2 (CRIU's default root then).
    pub controllers: Vec<String>,
    /// Relative to the hierarchy's root, with a leading '/'.
    pub path: String,
}

/// A host pty the container holds (its console, a tty): its bind mount
/// and every descriptor open on it are external to the dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminal {
    /// Name of the external mount in the images ("console", "tty1").
    pub key: String,
    /// Where the container sees it ("/dev/console", "/dev/tty1").
    pub mountpoint: String,
    /// CRIU's id of the pty: `tty[<rdev>:<dev>]` in hex.
    pub id: String,
}

/// What every CRIU run of a container gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Common {
    pub criu: PathBuf,
    pub directory: String,
    pub verbose: bool,
    pub action_script: Option<String>,
    pub cgroup_roots: Vec<CgroupRoot>,
    /// `lxc.mount.entry` bind mounts: (target inside the rootfs without
    /// its leading '/', host source).
    pub binds: Vec<(String, String)>,
}

/// `dump` or `pre-dump` of a running container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dump {
    pub pre_dump: bool,
    pub init_pid: i32,
    /// The container's freezer cgroup directory.
    pub freezer: String,
    /// The installed CRIU's version ("4.2").
    pub criu_version: String,
    pub disable_skip_in_flight: bool,
    pub terminals: Vec<Terminal>,
    /// Previous images, relative to the images directory.
    pub predump_dir: Option<String>,
    /// Page server (address, port).
    pub page_server: Option<(String, String)>,
    pub preserves_inodes: bool,
    pub ghost_limit: u64,
    /// `stop` of the final dump: without it the container keeps running.
    pub stop: bool,
}

/// A pty for the restored container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTerminal {
    pub terminal: Terminal,
    /// Descriptor of the new pty's slave in CRIU.
    pub fd: i32,
    /// Its path on the host ("/dev/pts/5").
    pub path: String,
}

/// `restore` into a prepared root, cgroups and ptys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restore {
    /// A mount point holding the rootfs.
    pub root: String,
    pub pidfile: String,
    pub terminals: Vec<NewTerminal>,
    /// `apparmor:<profile>` or `selinux:<context>`.
    pub lsm_profile: Option<String>,
    /// `--external` values of the network devices
    /// (`veth[eth0]:vethXXXXXX@br0`, see [`veth`]).
    pub netdevs: Vec<String>,
}

/// The log CRIU writes for `action` ("dump", "restore"), in the images
/// directory as LXC keeps it.
pub fn log_path(directory: &str, action: &str) -> String {
    format!("{directory}/{action}.log")
}

fn common(action: &str, c: &Common) -> Vec<String> {
    let mut v: Vec<String> = vec![c.criu.to_string_lossy().into_owned(), action.into()];
    v.extend(
        [
            "--tcp-established",
            "--file-locks",
            "--link-remap",
            "--manage-cgroups=full",
            "--ext-mount-map",
            "auto",
            "--enable-external-sharing",
            "--enable-external-masters",
            "--enable-fs",
            "hugetlbfs",
            "--enable-fs",
            "tracefs",
            "--ext-unix-sk",
            "-D",
        ]
        .map(String::from),
    );
    v.push(c.directory.clone());
    v.push("-o".into());
    v.push(log_path(&c.directory, action));
    for root in &c.cgroup_roots {
        v.push("--cgroup-root".into());
        v.push(if root.controllers.is_empty() {
            root.path.clone()
        } else {
            format!("{}:{}", root.controllers.join(","), root.path)
        });
    }
    if c.verbose {
        v.push("-v4".into());
    }
    if let Some(script) = &c.action_script {
        v.push("--action-script".into());
        v.push(script.clone());
    }
    v
}

/// Whether CRIU `version` is at least `wanted` (numeric "x.y.z").
pub fn version_at_least(version: &str, wanted: &str) -> bool {
    let parse = |s: &str| -> Vec<u64> {
        s.split('.')
            .map(|p| {
                p.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .unwrap_or(0)
            })
            .collect()
    };
    let (mut have, mut want) = (parse(version), parse(wanted));
    let n = have.len().max(want.len());
    have.resize(n, 0);
    want.resize(n, 0);
    have >= want
}

/// `criu dump` / `criu pre-dump`.
pub fn dump(c: &Common, d: &Dump) -> Vec<String> {
    let action = if d.pre_dump { "pre-dump" } else { "dump" };
    let mut v = common(action, c);
    for (target, _) in &c.binds {
        v.push("--ext-mount-map".into());
        v.push(format!("/{target}:{target}"));
    }
    v.push("-t".into());
    v.push(d.init_pid.to_string());
    if !d.disable_skip_in_flight && version_at_least(&d.criu_version, IN_FLIGHT_SUPPORT) {
        v.push("--skip-in-flight".into());
    }
    v.push("--freeze-cgroup".into());
    v.push(d.freezer.clone());
    for t in &d.terminals {
        v.push("--ext-mount-map".into());
        v.push(format!("{}:{}", t.mountpoint, t.key));
        v.push("--external".into());
        v.push(t.id.clone());
    }
    if let Some(prev) = &d.predump_dir {
        v.push("--prev-images-dir".into());
        v.push(prev.clone());
        v.push("--track-mem".into());
    }
    if let Some((address, port)) = &d.page_server {
        v.extend(["--page-server".into(), "--address".into(), address.clone()]);
        v.extend(["--port".into(), port.clone()]);
    }
    if !d.preserves_inodes {
        v.push("--force-irmap".into());
    }
    if d.ghost_limit != 0 {
        v.push("--ghost-limit".into());
        v.push(d.ghost_limit.to_string());
    }
    if !d.pre_dump && !d.stop {
        v.push("--leave-running".into());
    }
    v
}

/// `criu restore`: the restored init becomes a child of the caller (a
/// sibling of CRIU, which exits once it is done).
pub fn restore(c: &Common, r: &Restore) -> Vec<String> {
    let mut v = common("restore", c);
    for (target, source) in &c.binds {
        v.push("--ext-mount-map".into());
        v.push(format!("{target}:{source}"));
    }
    v.extend(["--root".into(), r.root.clone()]);
    v.extend(["--restore-detached".into(), "--restore-sibling".into()]);
    v.extend(["--pidfile".into(), r.pidfile.clone()]);
    for t in &r.terminals {
        v.push("--inherit-fd".into());
        v.push(format!("fd[{}]:{}", t.fd, t.terminal.id));
        v.push("--ext-mount-map".into());
        v.push(format!("{}:{}", t.terminal.key, t.path));
    }
    if let Some(lsm) = &r.lsm_profile {
        v.push("--lsm-profile".into());
        v.push(lsm.clone());
    }
    for dev in &r.netdevs {
        v.push("--external".into());
        v.push(dev.clone());
    }
    v
}

/// The `--external` value of a veth: the container end `inner`, the host
/// end `outer`, plugged into `bridge` when there is one.
pub fn veth(inner: &str, outer: &str, bridge: &str) -> String {
    if bridge.is_empty() {
        format!("veth[{inner}]:{outer}")
    } else {
        format!("veth[{inner}]:{outer}@{bridge}")
    }
}

/// Since this version CRIU restores physical devices (`netdev[]`).
pub const EXTERNAL_NETDEV: &str = "3.15";

/// The `--external` values of a restore's network devices: veth host
/// ends named and plugged into their bridges, macvlans on their links,
/// physical devices taken from the host. A device without a name inside
/// gets the kernel's first free `eth<n>`, as it did at start.
pub fn netdevs(ifaces: &[crate::net::IfacePlan], criu_version: &str) -> Result<Vec<String>> {
    use crate::config::NetType;
    let mut kernel_named = 0;
    ifaces
        .iter()
        .map(|i| {
            let inner = if i.name.is_empty() || i.name.contains('%') {
                kernel_named += 1;
                format!("eth{}", kernel_named - 1)
            } else {
                i.name.clone()
            };
            match i.kind {
                NetType::Veth => Ok(veth(&inner, &i.host_name, &i.link)),
                NetType::Macvlan => Ok(format!("macvlan[{inner}]:{}", i.link)),
                NetType::Phys if version_at_least(criu_version, EXTERNAL_NETDEV) => {
                    Ok(format!("netdev[{inner}]:{}", i.link))
                }
                NetType::Phys => Err(Error::new(
                    libc::EOPNOTSUPP,
                    "Restoring physical network devices not supported (CRIU older than 3.15)",
                )),
                other => Err(Error::new(
                    libc::EOPNOTSUPP,
                    format!("Unsupported network type {}", other.name()),
                )),
            }
        })
        .collect()
}

/// CRIU's id of a pty from the stat of its device file.
pub fn tty_id(rdev: u64, dev: u64) -> String {
    format!("tty[{rdev:x}:{dev:x}]")
}

/// CRIU's feature name behind a `FEATURE_*` bit of `migrate_opts`, as
/// LXC checks them (`uffd-noncoop`: lazily restoring processes that
/// fork, what a container needs).
pub fn feature_name(bit: u64) -> Option<&'static str> {
    match bit {
        super::FEATURE_MEM_TRACK => Some("mem_dirty_track"),
        super::FEATURE_LAZY_PAGES => Some("uffd-noncoop"),
        _ => None,
    }
}

/// The version in `criu --version`'s output ("Version: 4.2"), or the
/// git tag of a development build ("GitID: v3.0-42-g..." gives "3.0").
pub fn parse_version(output: &str) -> Option<String> {
    let mut lines = output.lines();
    let version = lines.next()?.strip_prefix("Version: ")?.trim().to_string();
    if version.is_empty() {
        return None;
    }
    if let Some(gitid) = lines.find_map(|l| l.strip_prefix("GitID: v")) {
        if !version_at_least(&version, super::MIN_VERSION) {
            return gitid.split('-').next().map(str::to_string);
        }
    }
    Some(version)
}

/// Errors CRIU logs and then carries on after: never why it failed.
const NON_FATAL: &[&str] = &[
    // Without CAP_SYS_RESOURCE (containers, CI): it keeps the limit it has.
    "Can't setup RLIMIT_NOFILE",
];

/// The line of CRIU's log saying why it failed: its first error (the
/// later ones are consequences, "Dumping FAILED."), else its last line.
/// Only CRIU's own errors count: the tools it runs log theirs there too
/// ("Error: ipv4: Address already assigned." from `ip`, which it
/// tolerates).
pub fn failure_line(log: &str) -> Option<&str> {
    let lines = || log.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .filter(|l| l.contains("Error ("))
        .find(|l| !NON_FATAL.iter().any(|n| l.contains(n)))
        .or_else(|| lines().next_back())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common_args() -> Common {
        Common {
            criu: PathBuf::from("/usr/sbin/criu"),
            directory: "/tmp/ck".into(),
            verbose: false,
            action_script: None,
            cgroup_roots: vec![
                CgroupRoot {
                    controllers: vec!["memory".into()],
                    path: "/lxc.payload.c1".into(),
                },
                CgroupRoot {
                    controllers: vec![],
                    path: "/lxc.payload.c1".into(),
                },
            ],
            binds: vec![("mnt/data".into(), "/srv/data".into())],
        }
    }

    fn after<'a>(v: &'a [String], flag: &str) -> Vec<&'a str> {
        v.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].as_str())
            .collect()
    }

    #[test]
    fn pre_dump_line() {
        let d = Dump {
            pre_dump: true,
            init_pid: 4242,
            freezer: "/sys/fs/cgroup/freezer/lxc.payload.c1".into(),
            criu_version: "4.2".into(),
            predump_dir: Some("../pre".into()),
            page_server: Some(("10.0.0.1".into(), "2222".into())),
            ghost_limit: 1 << 20,
            terminals: vec![Terminal {
                key: "console".into(),
                mountpoint: "/dev/console".into(),
                id: tty_id(0x8803, 0x19),
            }],
            ..Default::default()
        };
        let v = dump(&common_args(), &d);
        assert_eq!(v[0], "/usr/sbin/criu");
        assert_eq!(v[1], "pre-dump");
        assert_eq!(after(&v, "-t"), ["4242"]);
        assert_eq!(after(&v, "-o"), ["/tmp/ck/pre-dump.log"]);
        assert_eq!(after(&v, "-D"), ["/tmp/ck"]);
        assert_eq!(
            after(&v, "--cgroup-root"),
            ["memory:/lxc.payload.c1", "/lxc.payload.c1"]
        );
        assert_eq!(
            after(&v, "--ext-mount-map"),
            ["auto", "/mnt/data:mnt/data", "/dev/console:console"]
        );
        assert_eq!(after(&v, "--external"), ["tty[8803:19]"]);
        assert_eq!(after(&v, "--prev-images-dir"), ["../pre"]);
        assert!(v.contains(&"--track-mem".to_string()));
        assert_eq!(after(&v, "--address"), ["10.0.0.1"]);
        assert_eq!(after(&v, "--port"), ["2222"]);
        assert!(v.contains(&"--page-server".to_string()));
        assert_eq!(after(&v, "--ghost-limit"), ["1048576"]);
        assert_eq!(
            after(&v, "--freeze-cgroup"),
            ["/sys/fs/cgroup/freezer/lxc.payload.c1"]
        );
        for flag in [
            "--skip-in-flight",
            "--force-irmap",
            "--tcp-established",
            "--manage-cgroups=full",
            "--ext-unix-sk",
        ] {
            assert!(v.iter().any(|a| a == flag), "{flag} missing");
        }
        // A pre-dump always leaves the container running.
        assert!(!v.iter().any(|a| a == "--leave-running"));
        assert!(!v.iter().any(|a| a == "-v4"));
    }

    #[test]
    fn dump_line() {
        let mut d = Dump {
            init_pid: 7,
            freezer: "/sys/fs/cgroup/lxc.payload.c1".into(),
            criu_version: "2.3".into(),
            preserves_inodes: true,
            ..Default::default()
        };
        let mut c = common_args();
        c.verbose = true;
        c.action_script = Some("/bin/true".into());
        let v = dump(&c, &d);
        assert_eq!(v[1], "dump");
        assert!(v.iter().any(|a| a == "--leave-running"));
        assert!(v.iter().any(|a| a == "-v4"));
        assert_eq!(after(&v, "--action-script"), ["/bin/true"]);
        // Too old for it, and inodes kept.
        assert!(!v.iter().any(|a| a == "--skip-in-flight"));
        assert!(!v.iter().any(|a| a == "--force-irmap"));
        d.stop = true;
        d.criu_version = "4.2".into();
        d.disable_skip_in_flight = true;
        let v = dump(&c, &d);
        assert!(!v.iter().any(|a| a == "--leave-running"));
        assert!(!v.iter().any(|a| a == "--skip-in-flight"));
    }

    #[test]
    fn restore_line() {
        let r = Restore {
            root: "/var/lib/lxc/c1/rootfs".into(),
            pidfile: "/run/x/pid".into(),
            terminals: vec![NewTerminal {
                terminal: Terminal {
                    key: "tty1".into(),
                    mountpoint: "/dev/tty1".into(),
                    id: "tty[8804:19]".into(),
                },
                fd: 10,
                path: "/dev/pts/9".into(),
            }],
            lsm_profile: Some("apparmor:lxc-container-default".into()),
            netdevs: vec![veth("eth0", "vethAbc123", "br0"), veth("eth1", "vethX", "")],
        };
        let v = restore(&common_args(), &r);
        assert_eq!(v[1], "restore");
        assert_eq!(after(&v, "-o"), ["/tmp/ck/restore.log"]);
        assert_eq!(after(&v, "--root"), ["/var/lib/lxc/c1/rootfs"]);
        assert_eq!(after(&v, "--pidfile"), ["/run/x/pid"]);
        assert_eq!(after(&v, "--inherit-fd"), ["fd[10]:tty[8804:19]"]);
        assert_eq!(
            after(&v, "--ext-mount-map"),
            ["auto", "mnt/data:/srv/data", "tty1:/dev/pts/9"]
        );
        assert_eq!(
            after(&v, "--external"),
            ["veth[eth0]:vethAbc123@br0", "veth[eth1]:vethX"]
        );
        assert_eq!(
            after(&v, "--lsm-profile"),
            ["apparmor:lxc-container-default"]
        );
        assert!(v.iter().any(|a| a == "--restore-detached"));
        assert!(v.iter().any(|a| a == "--restore-sibling"));
        assert!(!v.iter().any(|a| a == "-t" || a == "--leave-running"));
    }

    #[test]
    fn network_devices() {
        let mut c = crate::config::Config::new();
        c.parse_str(
            "lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.veth.pair = vethA\n\
             lxc.net.1.type = veth\nlxc.net.1.veth.mode = router\nlxc.net.1.name = wan\n\
             lxc.net.1.veth.pair = vethB\n\
             lxc.net.2.type = macvlan\nlxc.net.2.link = eno1\n\
             lxc.net.3.type = phys\nlxc.net.3.link = dummy3\n",
            "test",
        )
        .unwrap();
        let plan = crate::net::NetPlan::from_config(&c).unwrap();
        assert_eq!(
            netdevs(&plan.ifaces, "4.2").unwrap(),
            [
                "veth[eth0]:vethA@br0",
                "veth[wan]:vethB",
                "macvlan[eth1]:eno1",
                "netdev[eth2]:dummy3"
            ]
        );
        assert!(netdevs(&plan.ifaces, "3.14").is_err());
    }

    #[test]
    fn versions() {
        assert!(version_at_least("4.2", "2.0"));
        assert!(version_at_least("10.0", "2.4"));
        assert!(version_at_least("2.4", "2.4"));
        assert!(!version_at_least("2.3.9", "2.4"));
        assert!(!version_at_least("1.8", "2.0"));
        assert_eq!(parse_version("Version: 4.2\n").as_deref(), Some("4.2"));
        assert_eq!(
            parse_version("Version: 1.8\nGitID: v2.0-12-gabc\n").as_deref(),
            Some("2.0")
        );
        assert_eq!(parse_version("criu: not found\n"), None);
        assert_eq!(parse_version(""), None);
    }

    #[test]
    fn failure_lines() {
        let log =
            "(00.001) Warn  (criu/kerndat.c:1290): x\nError: ipv4: Address already assigned.\n\
                   (00.1) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self\n\
                   (00.2) Error (criu/cr-dump.c:1): first\n\
                   (00.3) Error (criu/cr-dump.c:2): Dumping FAILED.\n(00.4) Unlock network\n";
        assert_eq!(
            failure_line(log),
            Some("(00.2) Error (criu/cr-dump.c:1): first")
        );
        assert_eq!(failure_line("just this\n\n"), Some("just this"));
        assert_eq!(failure_line(""), None);
        assert_eq!(
            feature_name(super::super::FEATURE_MEM_TRACK),
            Some("mem_dirty_track")
        );
        assert_eq!(
            feature_name(super::super::FEATURE_LAZY_PAGES),
            Some("uffd-noncoop")
        );
        assert_eq!(feature_name(4), None);
        assert_eq!(tty_id(0x8803, 0x19), "tty[8803:19]");
    }
}
