//! Behaviour pinned against the real liblxc (Debian's 5.0.2 via a small C
//! client, adjusted for the 6.0 changes listed in docs/differences.md).

use super::*;

fn cfg(pairs: &[(&str, &str)]) -> Config {
    let mut c = Config::new();
    for (k, v) in pairs {
        c.set_item(k, v)
            .unwrap_or_else(|e| panic!("set {k}={v}: {}", e.message));
    }
    c
}

fn get(c: &Config, k: &str) -> String {
    c.get_item(k)
        .unwrap_or_else(|e| panic!("get {k}: {}", e.message))
}

fn errno(c: &Config, k: &str) -> i32 {
    c.get_item(k).err().map_or(0, |e| e.errno)
}

#[test]
fn defaults_of_a_fresh_config() {
    let c = Config::new();
    for (k, v) in [
        ("lxc.uts.name", ""),
        ("lxc.arch", ""),
        ("lxc.log.level", "NOTSET"),
        ("lxc.rootfs.mount", model::DEFAULT_ROOTFS_MOUNT),
        ("lxc.autodev.tmpfs.size", "0"),
        ("lxc.autodev", "1"),
        ("lxc.monitor.signal.pdeath", "9"),
        ("lxc.net", ""),
        ("lxc.cgroup", ""),
        ("lxc.cgroup.devices.allow", ""),
        ("lxc.cgroup2", ""),
        ("lxc.prlimit", ""),
        ("lxc.sysctl", ""),
        ("lxc.proc", ""),
        ("lxc.namespace.share.net", "(null)"),
        ("lxc.cgroup.dir", "(null)"),
        ("lxc.cgroup.dir.monitor", "(null)"),
        ("lxc.hook.start", ""),
        ("lxc.hook.version", "0"),
        ("lxc.start.auto", "0"),
        ("lxc.signal.halt", "0"),
        ("lxc.tty.max", "0"),
        ("lxc.pty.max", "0"),
        ("lxc.time.offset.boot", "0ns"),
        ("lxc.time.offset.monotonic", "0ns"),
        ("lxc.console.size", "0"),
        ("lxc.rootfs.managed", "1"),
        ("lxc.keyring.session", "0"),
        ("lxc.sched.core", "0"),
        ("lxc.seccomp.notify.proxy", ""),
        ("lxc.init.uid", "0"),
        ("lxc.init.groups", ""),
        ("lxc.mount.auto", ""),
    ] {
        assert_eq!(get(&c, k), v, "{k}");
    }
}

#[test]
fn get_errors_match_lxc() {
    let c = Config::new();
    for (k, e) in [
        ("lxc.bogus", libc::EINVAL),
        ("lxc.include", libc::ENOSYS),
        ("lxc.net.0.type", libc::EINVAL),
        ("lxc.net.0", libc::EINVAL),
        ("lxc.net.", libc::EINVAL),
        ("lxc.namespace.share.", libc::EINVAL),
        ("lxc.namespace.share.bogus", libc::EINVAL),
        ("lxc.hook", libc::EINVAL),
        ("lxc.hook.bogus", libc::EINVAL),
        ("lxc.cgroupfoo", libc::EINVAL),
        ("lxc.process", libc::EINVAL),
        ("lxc.utsname", libc::EINVAL),
    ] {
        assert_eq!(errno(&c, k), e, "{k}");
    }
}

#[test]
fn supported_keys_are_exact_table_names() {
    assert!(is_supported_key("lxc.net"));
    assert!(is_supported_key("lxc.net."));
    assert!(is_supported_key("lxc.cgroup"));
    assert!(is_supported_key("lxc.namespace.share."));
    assert!(!is_supported_key("lxc.net.0.type"));
    assert!(!is_supported_key("lxc.cgroup.memory.max"));
    assert_eq!(keys::KEYS.len(), 86);
    assert_eq!(net::subkey_names().count(), 25);
}

#[test]
fn network_formats() {
    let c = cfg(&[
        ("lxc.net.0.type", "veth"),
        ("lxc.net.0.link", "br0"),
        ("lxc.net.0.ipv4.address", "10.0.3.5/24"),
        ("lxc.net.0.ipv4.address", "192.168.1.2 192.168.1.255"),
        ("lxc.net.0.ipv4.address", "10.0.0.1/31"),
        ("lxc.net.0.ipv4.address", "10.0.0.200"),
        ("lxc.net.0.ipv4.address", "10.0.0.130"),
        ("lxc.net.0.ipv4.address", "10.0.0.240"),
        ("lxc.net.0.ipv4.address", "10.0.0.1/0x18"),
        ("lxc.net.0.ipv6.address", "fe80::1/64"),
        ("lxc.net.0.ipv6.address", "2001:db8::1"),
        ("lxc.net.0.ipv6.address", "::1.2.3.4"),
        ("lxc.net.0.ipv6.address", "::ffff:1.2.3.4/200"),
        ("lxc.net.0.ipv6.address", "1:0:0:2::3"),
        ("lxc.net.0.flags", "down"),
        ("lxc.net.2.link", "eth0"),
    ]);
    assert_eq!(
        get(&c, "lxc.net.0.ipv4.address"),
        "10.0.3.5/24\n192.168.1.2/8\n10.0.0.1/31\n10.0.0.200/24\n10.0.0.130/16\n10.0.0.240/0\n10.0.0.1/24"
    );
    assert_eq!(
        get(&c, "lxc.net.0.ipv6.address"),
        "fe80::1/64\n2001:db8::1/64\n::1.2.3.4/64\n::ffff:1.2.3.4/200\n1:0:0:2::3/64"
    );
    assert_eq!(get(&c, "lxc.net.0.flags"), "up");
    assert_eq!(get(&c, "lxc.net.0.veth.mode"), "bridge");
    assert_eq!(get(&c, "lxc.net.0.veth.vlan.id"), "");
    assert_eq!(get(&c, "lxc.net.0.l2proxy"), "0");
    assert_eq!(get(&c, "lxc.net.0.veth.pair"), "");
    assert_eq!(get(&c, "lxc.net.2.type"), "empty");
    assert_eq!(get(&c, "lxc.net"), "veth\nempty\n");
    assert_eq!(errno(&c, "lxc.net.0.macvlan.mode"), libc::EINVAL);
    assert_eq!(errno(&c, "lxc.net.0.bogus"), libc::ENOENT);
    assert_eq!(errno(&c, "lxc.net.1.type"), libc::EINVAL);
    assert_eq!(
        c.get_keys(Some("lxc.net.0")).unwrap().join("\n"),
        "type\nscript.up\nscript.down\nflags\nlink\nname\nhwaddr\nmtu\nipv6.address\nipv6.gateway\nipv4.address\nipv4.gateway\nveth.pair\nveth.ipv4.route\nveth.ipv6.route\nveth.vlan.id"
    );
    assert_eq!(
        c.get_keys(Some("lxc.net.2")).unwrap(),
        ["type", "script.up", "script.down"]
    );
    assert!(c.get_keys(Some("lxc.net.1")).is_err());
    assert!(c.get_keys(Some("lxc.net")).is_err());
}

#[test]
fn network_type_resets_interface_and_quirks() {
    let mut c = cfg(&[
        ("lxc.net.0.link", "br0"),
        ("lxc.net.0.flags", "up"),
        ("lxc.net.0.type", "veth"),
    ]);
    assert_eq!(get(&c, "lxc.net.0.link"), "");
    assert_eq!(get(&c, "lxc.net.0.flags"), "");
    for (k, v) in [
        ("lxc.net.0.veth.vlan.id", "none"),
        ("lxc.net.0.veth.vlan.tagged.id", "5"),
        ("lxc.net.0.veth.vlan.tagged.id", "0x10"),
        ("lxc.net.0.ipv4.gateway", "dev"),
        ("lxc.net.0.ipv4.gateway", "1.2.3.4"),
        ("lxc.net.0.ipv6.gateway", "auto"),
        ("lxc.net.0.name", "averyveryverylongname"),
        ("lxc.net.1.type", "ipvlan"),
        ("lxc.net.2.type", "macvlan"),
        ("lxc.net.3.type", "vlan"),
        ("lxc.net.4.type", "empty"),
    ] {
        c.set_item(k, v).unwrap();
    }
    assert!(c.set_item("lxc.net.0.veth.vlan.id", "4095").is_err());
    assert!(c.set_item("lxc.net.3.vlan.id", "70000").is_err());
    assert_eq!(get(&c, "lxc.net.0.veth.vlan.id"), "-1");
    assert_eq!(get(&c, "lxc.net.0.veth.vlan.tagged.id"), "5\n16");
    assert_eq!(get(&c, "lxc.net.0.ipv4.gateway"), "dev");
    c.clear_item("lxc.net.0.ipv6.gateway").unwrap();
    assert_eq!(get(&c, "lxc.net.0.ipv6.gateway"), "auto");
    assert_eq!(get(&c, "lxc.net.0.name"), "averyveryverylo");
    assert_eq!(get(&c, "lxc.net.1.ipvlan.mode"), "l2");
    assert_eq!(get(&c, "lxc.net.1.ipvlan.isolation"), "bridge");
    assert_eq!(get(&c, "lxc.net.2.macvlan.mode"), "private");
    assert_eq!(get(&c, "lxc.net.3.vlan.id"), "0");
    assert_eq!(get(&c, "lxc.net.4.name"), "lo");
    c.clear_item("lxc.net.0.veth.mode").unwrap();
    assert_eq!(get(&c, "lxc.net.0.veth.mode"), "(invalid)");
    c.clear_item("lxc.net.0.type").unwrap();
    assert_eq!(get(&c, "lxc.net.0.type"), "(null)");
    assert_eq!(
        get(&c, "lxc.net"),
        "(invalid)\nipvlan\nmacvlan\nvlan\nempty\n"
    );
    // Failed sets leave nothing behind (LXC would allocate interface 5).
    assert!(c.set_item("lxc.net.5.veth.pair", "x").is_err());
    assert!(c.set_item("lxc.net.6.type", "bogus").is_err());
    assert!(c.set_item("lxc.net.7", "veth").is_err());
    assert_eq!(c.conf().netdevs.len(), 5);
}

#[test]
fn hwaddr_placeholders_are_completed_consistently() {
    let mut c = Config::new();
    c.set_item("lxc.net.0.hwaddr", "00:16:3e:xx:xx:xx").unwrap();
    let hw = get(&c, "lxc.net.0.hwaddr");
    assert_eq!(hw.len(), 17);
    assert!(hw.starts_with("00:16:3e:") && !hw.contains('x'));
    assert_eq!(c.write(), format!("lxc.net.0.hwaddr = {hw}\n"));
}

#[test]
fn list_formats() {
    let mut c = cfg(&[
        ("lxc.idmap", "u 0 100000 65536"),
        ("lxc.idmap", "g 0 100000 65536"),
        ("lxc.cgroup.devices.allow", "c 1:3 rwm"),
        ("lxc.cgroup.devices.allow", "b 8:* rwm"),
        ("lxc.cgroup.memory.limit_in_bytes", "1G"),
        ("lxc.cgroup2.memory.max", "1G"),
        ("lxc.cgroup.dir", "foo"),
        ("lxc.hook.start", "/bin/a"),
        ("lxc.hook.start", "/bin/b"),
        ("lxc.hook.stop", "/bin/c"),
        ("lxc.cap.drop", "sys_admin mknod"),
        ("lxc.cap.drop", "12"),
        ("lxc.environment", "FOO=bar"),
        ("lxc.prlimit.nofile", "1024:2048"),
        ("lxc.prlimit.nproc", "unlimited"),
        ("lxc.prlimit.as", "10:unlimited"),
        ("lxc.prlimit.nofile", "4096"),
        ("lxc.sysctl.net.ipv4.ip_forward", "1"),
        ("lxc.sysctl.kernel.x", "2"),
        ("lxc.proc.oom_score_adj", "10"),
        ("lxc.mount.auto", "proc:rw sys cgroup:mixed"),
        ("lxc.mount.entry", "/a b none bind 0 0"),
        ("lxc.mount.entry", "/c d none bind 0 0"),
        ("lxc.group", "a b"),
        ("lxc.group", "c"),
        ("lxc.apparmor.raw", "a"),
        ("lxc.apparmor.raw", "b"),
        ("lxc.init.groups", "1,2, 3"),
        ("lxc.init.groups", "4"),
        ("lxc.namespace.clone", "net pid"),
    ]);
    for bad in [
        ("lxc.idmap", "x 0 1 1"),
        ("lxc.idmap", "u 0 1"),
        ("lxc.hook", "x"),
        ("lxc.cap.drop", "sys_bogus"),
        ("lxc.cap.drop", "99"),
        ("lxc.cap.keep", "sys_admin"),
        ("lxc.environment", "LXC_SURELY_NOT_SET_ANYWHERE"),
        ("lxc.mount.auto", "bogus"),
        ("lxc.namespace.keep", "user"),
    ] {
        assert!(c.set_item(bad.0, bad.1).is_err(), "{bad:?}");
    }
    assert_eq!(get(&c, "lxc.idmap"), "u 0 100000 65536\ng 0 100000 65536");
    assert_eq!(
        get(&c, "lxc.cgroup"),
        "lxc.cgroup.devices.allow = c 1:3 rwm\nlxc.cgroup.devices.allow = b 8:* rwm\nlxc.cgroup.memory.limit_in_bytes = 1G\n"
    );
    assert_eq!(
        get(&c, "lxc.cgroup.devices.allow"),
        "c 1:3 rwm\nb 8:* rwm\n"
    );
    assert_eq!(get(&c, "lxc.cgroup2"), "lxc.cgroup2.memory.max = 1G\n");
    assert_eq!(get(&c, "lxc.cgroup2.memory.max"), "1G\n");
    assert_eq!(get(&c, "lxc.cgroup.dir"), "foo");
    assert_eq!(get(&c, "lxc.hook.start"), "/bin/a\n/bin/b\n");
    assert_eq!(get(&c, "lxc.cap.drop"), "sys_admin\nmknod\n12\n");
    assert_eq!(get(&c, "lxc.cap.keep"), "");
    assert_eq!(get(&c, "lxc.environment"), "FOO=bar\n");
    assert_eq!(
        get(&c, "lxc.prlimit"),
        "lxc.prlimit.nofile = 4096\nlxc.prlimit.nproc = unlimited\nlxc.prlimit.as = 10:unlimited\n"
    );
    assert_eq!(get(&c, "lxc.prlimit.nofile"), "4096");
    assert_eq!(
        get(&c, "lxc.sysctl"),
        "lxc.sysctl.net.ipv4.ip_forward = 1\nlxc.sysctl.kernel.x = 2\n"
    );
    assert_eq!(get(&c, "lxc.sysctl.kernel.x"), "2");
    assert_eq!(get(&c, "lxc.proc"), "lxc.proc.oom_score_adj = 10\n");
    assert_eq!(get(&c, "lxc.proc.oom_score_adj"), "10");
    assert_eq!(get(&c, "lxc.mount.auto"), "proc:rw sys:mixed cgroup:mixed");
    c.set_item("lxc.mount.auto", "cgroup2").unwrap();
    assert_eq!(get(&c, "lxc.mount.auto"), "proc:rw sys:mixed");
    assert_eq!(
        get(&c, "lxc.mount.entry"),
        "/a b none bind 0 0\n/c d none bind 0 0\n"
    );
    assert_eq!(get(&c, "lxc.group"), "a\nb\nc\n");
    assert_eq!(get(&c, "lxc.apparmor.raw"), "a\nb\n");
    assert_eq!(get(&c, "lxc.init.groups"), "1,2,3,4");
    assert_eq!(get(&c, "lxc.namespace.clone"), "pid\nnet\n");
    std::env::set_var("LXC_CONFIG_TEST_VAR", "/root");
    c.set_item("lxc.environment", "LXC_CONFIG_TEST_VAR")
        .unwrap();
    assert_eq!(
        get(&c, "lxc.environment"),
        "FOO=bar\nLXC_CONFIG_TEST_VAR=/root\n"
    );
    let keep = cfg(&[("lxc.cap.keep", "sys_admin")]);
    assert_eq!(get(&keep, "lxc.cap.keep"), "sys_admin\n");
    assert_eq!(get(&keep, "lxc.cap.drop"), "");
}

#[test]
fn scalar_formats() {
    let mut c = Config::new();
    let ok = [
        ("lxc.signal.halt", "SIGTERM", "15"),
        ("lxc.signal.halt", "sigrtmin+3", "37"),
        ("lxc.signal.halt", "SIGRTMAX-1", "63"),
        ("lxc.signal.stop", "99", "99"),
        ("lxc.signal.reboot", "0x10", "16"),
        ("lxc.log.level", "3", "NOTICE"),
        ("lxc.log.level", "debug", "DEBUG"),
        ("lxc.time.offset.boot", "5 m", "300s"),
        ("lxc.time.offset.boot", "-2h", "-7200s"),
        ("lxc.time.offset.monotonic", "3ms", "3000000ns"),
        ("lxc.console.size", "5000", "8192"),
        ("lxc.console.size", "1MB", "1048576"),
        ("lxc.console.size", "auto", "131072"),
        ("lxc.console.buffer.size", "10kb", "16384"),
        ("lxc.start.order", "-5", "-5"),
        ("lxc.start.delay", "010", "8"),
        ("lxc.ephemeral", " 1", "1"),
        ("lxc.arch", "i386", "i686"),
        ("lxc.arch", "amd64", "x86_64"),
        (
            "lxc.rootfs.path",
            "dir:/var/lib//lxc/./c1/rootfs/",
            "/var/lib/lxc/c1/rootfs",
        ),
        ("lxc.tty.dir", "lxc", "lxc"),
        ("lxc.autodev.tmpfs.size", "abc", "500000"),
        (
            "lxc.namespace.share.net",
            "/proc/1/ns/net",
            "/proc/1/ns/net",
        ),
        ("lxc.keyring.session", "1", "1"),
        ("lxc.monitor.signal.pdeath", "SIGTERM", "15"),
        (
            "lxc.seccomp.notify.proxy",
            "unix:/tmp/x.sock",
            "/tmp/x.sock",
        ),
        ("lxc.seccomp.notify.proxy", "unix:@abs", "abs"),
        ("lxc.log.syslog", "daemon", "daemon"),
        ("lxc.init.uid", "4294967295", "-1"),
        ("lxc.net.0.type", "veth", "veth"),
        ("lxc.net.0.mtu", "abc", "abc"),
    ];
    for (k, v, want) in ok {
        c.set_item(k, v)
            .unwrap_or_else(|e| panic!("set {k}={v}: {}", e.message));
        assert_eq!(get(&c, k), want, "{k}={v}");
    }
    assert_eq!(c.conf().rootfs_bdev_type.as_deref(), Some("dir"));
    let bad = [
        ("lxc.signal.halt", "TERM"),
        ("lxc.log.level", "foo"),
        ("lxc.log.level", "12"),
        ("lxc.time.offset.boot", "7x"),
        ("lxc.time.offset.boot", "5"),
        ("lxc.time.offset.boot", "5 ms"),
        ("lxc.start.auto", "2"),
        ("lxc.arch", "bogus"),
        ("lxc.arch", ""),
        ("lxc.uts.name", &"x".repeat(65)),
        ("lxc.namespace.share.bogus", "x"),
        ("lxc.keyring.session", "2"),
        ("lxc.log.syslog", "bogus"),
        ("lxc.mount.fstab", ""),
        ("lxc.net", "x"),
        ("lxc.include", "/nonexistent"),
        ("lxc.bogus", ""),
        ("lxc.net.x.type", "veth"),
        ("lxc.net.99999999999.type", "veth"),
    ];
    for (k, v) in bad {
        let before = (
            c.write(),
            get(&c, "lxc.log.level"),
            get(&c, "lxc.start.auto"),
        );
        assert!(c.set_item(k, v).is_err(), "{k}={v} should fail");
        let after = (
            c.write(),
            get(&c, "lxc.log.level"),
            get(&c, "lxc.start.auto"),
        );
        assert_eq!(before, after, "{k}={v} changed the config");
    }
    // Error atomicity even where LXC is not: the old level stays.
    assert_eq!(get(&c, "lxc.log.level"), "DEBUG");
    c.set_item("lxc.tty.max", "4").unwrap();
    c.clear_item("lxc.tty.max").unwrap();
    assert_eq!(
        get(&c, "lxc.tty.max"),
        "4",
        "LXC's clearer resets another field"
    );
    assert!(!c.write().contains("lxc.tty.max"));
}

#[test]
fn empty_values_and_clears() {
    let mut c = cfg(&[("lxc.uts.name", "x")]);
    assert!(c.clear_item("lxc.bogus").is_err());
    c.clear_item("lxc.include").unwrap();
    c.clear_item("lxc.hook").unwrap();
    assert!(c.clear_item("lxc.hook.bogus").is_err());
    assert!(c.clear_item("lxc.net.0.ipv4.address").is_err());
    c.clear_item("lxc.net.5").unwrap();
    assert!(c.clear_item("lxc.net.x").is_err());
    c.clear_item("lxc.sysctl").unwrap();
    c.clear_item("lxc.cgroup.dir").unwrap();
    assert!(c.clear_item("lxc.namespace.share.bogus").is_err());
    c.clear_item("lxc.prlimit.foo").unwrap();
    c.set_item("lxc.net.0.type", "veth").unwrap();
    c.set_item("lxc.net.0", "").unwrap();
    assert_eq!(get(&c, "lxc.net"), "");
    for (k, v) in [
        ("lxc.net", ""),
        ("lxc.hook", ""),
        ("lxc.include", ""),
        ("lxc.include", "/nonexistent/"),
        ("lxc.net.00.type", "veth"),
    ] {
        c.set_item(k, v)
            .unwrap_or_else(|e| panic!("{k}: {}", e.message));
    }
    assert!(c.set_item("lxc.net.1.type", "").is_err());
    assert_eq!(get(&c, "lxc.net.0.type"), "veth");
}

#[test]
fn get_keys_lists() {
    let c = Config::new();
    let all = c.get_keys(None).unwrap();
    assert_eq!(all.len(), 84);
    assert_eq!(all[0], "lxc.arch");
    assert_eq!(all[83], "lxc.proc");
    assert!(!all.iter().any(|k| k.ends_with('.')));
    assert_eq!(
        c.get_keys(Some("lxc.apparmor")).unwrap(),
        ["allow_incomplete", "allow_nesting", "profile", "raw"]
    );
    assert_eq!(c.get_keys(Some("lxc.hook")).unwrap().len(), 11);
    assert_eq!(
        c.get_keys(Some("lxc.bogus")).unwrap_err().errno,
        libc::EINVAL
    );
}

const SAMPLE: &str = "# comment\n\n   \nlxc.uts.name=foo\r\n  lxc.tty.max   =   \"3\"  \nlxc.environment = 'A=b c'\nfoo.bar = baz\nlxc.include = INC1\nlxc.include = INCD\n\t# indented comment\nlxc.mount.entry = \"quoted\nlxc.net.0.type = veth\nlxc.cgroup.devices.allow = a\nlxc.cgroup.devices.deny = b\nlxc.apparmor.raw = \"x\" \nlxc.start.auto=1\nlxc.start.auto = \nlxc.uts.name = bar\n";

fn sample_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lxc-config-test-{}", std::process::id()));
    let incd = dir.join("inc.d");
    std::fs::create_dir_all(&incd).unwrap();
    std::fs::write(incd.join("a.conf"), "lxc.cap.drop = mknod\n").unwrap();
    std::fs::write(
        incd.join("b.conf"),
        "lxc.mount.entry = /x y none bind 0 0\n",
    )
    .unwrap();
    std::fs::write(incd.join("c.txt"), "junk\n").unwrap();
    std::fs::write(dir.join("inc1.conf"), "lxc.hook.start = /inc\n").unwrap();
    dir
}

#[test]
fn parse_and_write_like_lxc() {
    let dir = sample_dir();
    let text = SAMPLE
        .replace("INC1", &dir.join("inc1.conf").display().to_string())
        .replace("INCD", &dir.join("inc.d").display().to_string());
    let path = dir.join("config");
    std::fs::write(&path, &text).unwrap();
    let mut c = Config::new();
    c.load_file(&path).unwrap();
    assert_eq!(get(&c, "lxc.uts.name"), "bar");
    assert_eq!(get(&c, "lxc.tty.max"), "3");
    assert_eq!(get(&c, "lxc.environment"), "A=b c\n");
    assert_eq!(get(&c, "lxc.hook.start"), "/inc\n");
    assert_eq!(get(&c, "lxc.cap.drop"), "mknod\n");
    assert_eq!(get(&c, "lxc.mount.entry"), "/x y none bind 0 0\n\"quoted\n");
    assert_eq!(get(&c, "lxc.apparmor.raw"), "x\n");
    assert_eq!(get(&c, "lxc.start.auto"), "0");
    // Blank lines vanish, whitespace-only lines become empty ones, CR is a
    // line break, included content is not expanded.
    let expect = text.replace("\n\n   \n", "\n\n").replace("\r\n", "\n");
    assert_eq!(c.write(), expect);

    let mut c2 = Config::new();
    c2.load_file(&path).unwrap();
    c2.clear_item("lxc.cgroup").unwrap();
    c2.clear_item("lxc.uts.name").unwrap();
    c2.clear_item("lxc.net.0").unwrap();
    c2.set_item("lxc.tty.max", "").unwrap();
    let w = c2.write();
    assert!(!w.contains("lxc.cgroup") && !w.contains("lxc.uts.name") && !w.contains("lxc.net.0"));
    // Only lines starting exactly with the key go away.
    assert!(w.contains("  lxc.tty.max   =   \"3\"  \n"));
    assert!(w.contains("lxc.start.auto=1\nlxc.start.auto = \n"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn parse_errors_name_file_line_and_key() {
    let mut c = Config::new();
    let e = c
        .parse_str("lxc.uts.name = a\n\nlxc.foo = 1\n", "/x/config")
        .unwrap_err();
    assert_eq!(e.errno, libc::EINVAL);
    assert!(
        e.message.contains("/x/config")
            && e.message.contains("line 3")
            && e.message.contains("lxc.foo"),
        "{}",
        e.message
    );
    assert_eq!(get(&c, "lxc.uts.name"), "", "failed load changes nothing");
    let e = c.parse_str("lxc.uts.name\n", "f").unwrap_err();
    assert!(e.message.contains("Invalid configuration line"));
    let e = c.parse_str("lxc.utsname = x\n", "f").unwrap_err();
    assert!(e.message.contains("lxc.uts.name"), "{}", e.message);
    let e = c
        .parse_str("lxc.network.0.ipv4 = 1.2.3.4\n", "f")
        .unwrap_err();
    assert!(
        e.message.contains("lxc.net.0.ipv4.address"),
        "{}",
        e.message
    );
    // Text after a NUL byte is ignored, like LXC's C-string reader.
    c.parse_str("lxc.uts.name = a\0\nlxc.foo = 1\n", "f")
        .unwrap();
    assert_eq!(get(&c, "lxc.uts.name"), "a");
}

#[test]
fn include_loops_are_bounded() {
    let dir = std::env::temp_dir().join(format!("lxc-config-loop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.conf");
    std::fs::write(&a, format!("lxc.include = {}\n", a.display())).unwrap();
    let mut c = Config::new();
    let e = c.load_file(&a).unwrap_err();
    assert_eq!(e.errno, libc::ELOOP);
    // Fan-out: each file includes the next twice; bounded by the file budget.
    for i in 0..40 {
        let next = dir.join(format!("f{}.conf", i + 1));
        let body = format!("lxc.include = {0}\nlxc.include = {0}\n", next.display());
        std::fs::write(dir.join(format!("f{i}.conf")), body).unwrap();
    }
    std::fs::write(dir.join("f40.conf"), "lxc.tty.max = 1\n").unwrap();
    let t = std::time::Instant::now();
    assert!(c.load_file(&dir.join("f0.conf")).is_err());
    assert!(t.elapsed().as_secs() < 5);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn robustness_large_inputs() {
    let mut c = Config::new();
    let big = "a".repeat(10 << 20);
    c.set_item("lxc.mount.entry", &big).unwrap();
    assert_eq!(get(&c, "lxc.mount.entry").len(), big.len() + 1);
    let mut text = String::new();
    for i in 0..100_000 {
        text.push_str(&format!("lxc.sysctl.k{i} = {i}\n"));
    }
    let t = std::time::Instant::now();
    let mut c = Config::new();
    c.parse_str(&text, "big").unwrap();
    assert_eq!(get(&c, "lxc.sysctl.k99999"), "99999");
    assert!(t.elapsed().as_secs() < 5);
}

/// `:force` is a modifier of cgroup tokens only, as in LXC's token list.
#[test]
fn mount_auto_force_suffix() {
    use model::automount as am;
    let mut c = Config::new();
    c.set_item("lxc.mount.auto", "cgroup-full:ro:force")
        .unwrap();
    let cg = c.conf().auto_mounts & am::CGROUP_MASK;
    assert_eq!(cg, am::CGROUP_FULL_RO | am::CGROUP_FORCE);
    c.set_item("lxc.mount.auto", "cgroup2:force").unwrap();
    let cg = c.conf().auto_mounts & am::CGROUP_MASK;
    assert_eq!(cg, am::CGROUP2_RW | am::CGROUP_FORCE);
    for bad in ["proc:force", "sys:ro:force", "cgroup:force:force", "force"] {
        assert!(c.set_item("lxc.mount.auto", bad).is_err(), "{bad}");
    }
}

/// Found by tests/confdiff: LXC's token table has a "shmounts:" entry that
/// is matched exactly before the "shmounts:<host>" prefix, so the bare token
/// is accepted (flag set, paths kept) and saved.
#[test]
fn mount_auto_bare_shmounts_token() {
    let mut c = cfg(&[("lxc.mount.auto", "proc:mixed shmounts:/a:/b")]);
    c.set_item("lxc.mount.auto", "shmounts:").unwrap();
    assert_ne!(c.conf().auto_mounts & model::automount::SHMOUNTS, 0);
    assert_eq!(c.conf().shmount_host.as_deref(), Some("/a"));
    assert_eq!(c.conf().shmount_container.as_deref(), Some("/b"));
    assert_eq!(get(&c, "lxc.mount.auto"), "proc:mixed");
    assert!(c.write().ends_with("lxc.mount.auto = shmounts:\n"));
    let mut fresh = Config::new();
    fresh.set_item("lxc.mount.auto", "shmounts:").unwrap();
    assert_eq!(fresh.conf().shmount_host, None);
}

#[test]
fn replay_rebuilds_cleared_prefixes_and_sets_after_them() {
    let mut c = Config::new();
    c.parse_str(
        "lxc.prlimit.nofile = 10\nlxc.uts.name = a\nlxc.mount.entry = /a a none bind 0 0\n",
        "t",
    )
    .unwrap();
    c.clear_item("lxc.prlimit").unwrap();
    c.set_item("lxc.prlimit.nproc", "20").unwrap();
    c.set_item("lxc.mount.entry", "").unwrap();
    c.set_item("lxc.uts.name", "b").unwrap();
    // The saved text keeps the cleared sub-line, as LXC's does...
    assert!(c.write().contains("lxc.prlimit.nofile = 10"));
    // ...but the replay rebuilds the configuration held in memory.
    let r = Config::from_replay(c.replay_text(), "t").unwrap();
    for key in [
        "lxc.prlimit",
        "lxc.prlimit.nofile",
        "lxc.prlimit.nproc",
        "lxc.mount.entry",
        "lxc.uts.name",
    ] {
        assert_eq!(r.get_item(key).ok(), c.get_item(key).ok(), "{key}");
    }
}

#[test]
fn items_outlive_the_texts() {
    let mut c = Config::new();
    c.parse_str("lxc.uts.name = a\nlxc.environment = X=1\n", "t")
        .unwrap();
    c.keep_items_only();
    assert_eq!(c.write(), "");
    assert_eq!(c.replay_text(), "");
    assert_eq!(c.get_item("lxc.uts.name").unwrap(), "a");
    assert_eq!(c.get_item("lxc.environment").unwrap(), "X=1\n");
    c.set_item("lxc.uts.name", "b").unwrap();
    assert_eq!(c.get_item("lxc.uts.name").unwrap(), "b");
}
