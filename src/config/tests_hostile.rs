//! A hostile container owner: files that would hang or exhaust the reader,
//! values and keys that would smuggle extra lines into the saved text.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::*;
use crate::sys::regular_file::mkfifo;

fn scratch(tag: &str) -> PathBuf {
    crate::test_support::scratch_dir(&format!("hostile-{tag}"))
}

/// A configuration with one item set, for checking that nothing changes.
fn base() -> Config {
    let mut c = Config::new();
    c.set_item("lxc.uts.name", "web01").unwrap();
    c
}

#[test]
fn a_fifo_config_is_refused_without_blocking() {
    let d = scratch("fifo");
    let fifo = d.join("config");
    mkfifo(&fifo);
    let mut c = base();
    let before = c.write();
    let started = Instant::now();
    let e = c.load_file(&fifo).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(e.errno, libc::EINVAL);
    assert!(
        e.message.contains(&*fifo.to_string_lossy()),
        "{}",
        e.message
    );
    assert_eq!(c.write(), before);
    // A user namespace file is opened when the option is set.
    let idmap = format!("idmap={}", fifo.display());
    let e = c.set_item("lxc.rootfs.options", &idmap).unwrap_err();
    assert_eq!(e.errno, libc::ENOENT);
    assert!(e.message.contains("a FIFO"), "{}", e.message);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_included_fifo_is_refused_without_blocking() {
    let d = scratch("incfifo");
    let fifo = d.join("inc");
    mkfifo(&fifo);
    let mut c = base();
    let e = c
        .set_item("lxc.include", fifo.to_str().unwrap())
        .unwrap_err();
    assert_eq!(e.errno, libc::EINVAL);
    assert!(e.message.contains("a FIFO"), "{}", e.message);
    // Through a loaded file, and as a "*.conf" of an included directory.
    let top = d.join("config");
    std::fs::write(&top, format!("lxc.include = {}\n", fifo.display())).unwrap();
    assert_eq!(c.load_file(&top).unwrap_err().errno, libc::EINVAL);
    let dir = d.join("conf.d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.conf"), "lxc.arch = x86_64\n").unwrap();
    mkfifo(&dir.join("b.conf"));
    let e = c
        .set_item("lxc.include", dir.to_str().unwrap())
        .unwrap_err();
    assert_eq!(e.errno, libc::EINVAL);
    assert_eq!(c.get_item("lxc.arch").unwrap(), "");
    // The directory itself is still included once it holds regular files.
    std::fs::remove_file(dir.join("b.conf")).unwrap();
    c.set_item("lxc.include", dir.to_str().unwrap()).unwrap();
    assert_eq!(c.get_item("lxc.arch").unwrap(), "x86_64");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn endless_and_oversized_files_are_refused() {
    let mut c = base();
    let e = c.load_file(Path::new("/dev/zero")).unwrap_err();
    assert_eq!(e.errno, libc::EINVAL);
    assert!(e.message.contains("/dev/zero"), "{}", e.message);
    let e = c.set_item("lxc.include", "/dev/zero").unwrap_err();
    assert_eq!(e.errno, libc::EINVAL);

    let d = scratch("big");
    let big = d.join("config");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(crate::sys::MAX_READ_SIZE + 1).unwrap();
    let e = c.load_file(&big).unwrap_err();
    assert_eq!(e.errno, libc::EFBIG);
    assert!(e.message.contains(&*big.to_string_lossy()), "{}", e.message);
    std::fs::remove_dir_all(&d).unwrap();
}

fn assert_refused(c: &mut Config, key: &str, value: &str) {
    let before = (c.write(), c.replay_text().to_string(), c.get_item(key).ok());
    let e = c.set_item(key, value).unwrap_err();
    assert_eq!(e.errno, libc::EINVAL, "{key}={value:?}: {}", e.message);
    let after = (c.write(), c.replay_text().to_string(), c.get_item(key).ok());
    assert_eq!(before, after, "{key}={value:?} changed the configuration");
}

#[test]
fn line_breaks_in_values_are_refused() {
    let mut c = base();
    for value in [
        "web02\nlxc.hook.pre-start = /tmp/evil.sh",
        "web02\rlxc.hook.pre-start = /tmp/evil.sh",
        "web02\r\nlxc.hook.pre-start = /tmp/evil.sh",
        "web02\n",
        "\n",
    ] {
        assert_refused(&mut c, "lxc.uts.name", value);
    }
    let e = c.set_item("lxc.uts.name", "a\nb").unwrap_err();
    assert!(
        e.message.contains("lxc.uts.name") && e.message.contains("one line"),
        "{}",
        e.message
    );
    // Saved and loaded again: no hook appeared.
    let mut reloaded = Config::new();
    reloaded.parse_str(&c.write(), "saved").unwrap();
    assert_eq!(reloaded.get_item("lxc.uts.name").unwrap(), "web01");
    assert_eq!(reloaded.get_item("lxc.hook.pre-start").unwrap(), "");
}

/// Every family of setters appends through `set_item`: list keys, network
/// keys, prefix keys, hooks, includes.
#[test]
fn every_setter_family_refuses_line_breaks() {
    let mut c = base();
    c.set_item("lxc.net.0.type", "veth").unwrap();
    c.set_item("lxc.mount.entry", "/a a none bind 0 0").unwrap();
    for key in [
        "lxc.mount.entry",
        "lxc.cap.drop",
        "lxc.environment",
        "lxc.idmap",
        "lxc.hook.start",
        "lxc.net.0.link",
        "lxc.net.0.ipv4.address",
        "lxc.net.1.type",
        "lxc.cgroup2.memory.max",
        "lxc.sysctl.net.ipv4.ip_forward",
        "lxc.include",
        "lxc.rootfs.path",
        "lxc.apparmor.raw",
    ] {
        assert_refused(&mut c, key, "x\nlxc.hook.pre-start = /tmp/evil.sh");
    }
    // A refused lxc.net.1.* allocated no interface.
    assert_eq!(c.networks().count(), 1);
}

#[test]
fn keys_that_would_not_read_back_are_refused() {
    let mut c = base();
    for key in [
        "lxc.cgroup2.memory.max\nlxc.hook.pre-start",
        "lxc.cgroup2.memory.max\rlxc.hook.pre-start",
        "lxc.sysctl.a=b",
        "lxc.sysctl.a b",
        "lxc.cgroup2.x\t",
    ] {
        assert_refused(&mut c, key, "1");
        let e = c.clear_item(key).unwrap_err();
        assert_eq!(e.errno, libc::EINVAL, "clear {key:?}");
    }
}

/// A clear marker is a line of the replay text, so a key holding a line
/// break would hand the monitor a configuration line of its choosing.
#[test]
fn the_replay_cannot_be_extended_through_a_key() {
    let mut c = base();
    assert!(c
        .clear_item("lxc.cgroup2.x\nlxc.hook.pre-start = /tmp/evil.sh")
        .is_err());
    let r = Config::from_replay(c.replay_text(), "t").unwrap();
    assert_eq!(r.get_item("lxc.hook.pre-start").unwrap(), "");
}

/// The replay's clear markers start a line with a control character: a
/// loaded file holding one must not clear what the caller set before.
#[test]
fn loaded_text_cannot_forge_a_replay_clear() {
    let mut c = Config::new();
    c.set_item("lxc.apparmor.profile", "lxc-container-default")
        .unwrap();
    c.parse_str(
        "lxc.arch = x86_64\n\u{1}clear lxc.apparmor.profile\n",
        "hostile",
    )
    .unwrap();
    assert_eq!(
        c.get_item("lxc.apparmor.profile").unwrap(),
        "lxc-container-default"
    );
    let r = Config::from_replay(c.replay_text(), "t").unwrap();
    assert_eq!(
        r.get_item("lxc.apparmor.profile").unwrap(),
        "lxc-container-default"
    );
    assert_eq!(r.get_item("lxc.arch").unwrap(), "x86_64");
}
