//! The journal's messages: one SOCK_SEQPACKET message each, fields
//! separated by NUL (no path, name or address contains one).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::{Item, Msg, PhysDevice, Reply};

pub(crate) fn encode(msg: &Msg) -> Vec<u8> {
    let mut fields: Vec<Vec<u8>> = Vec::new();
    let mut text = |s: &str| fields.push(s.as_bytes().to_vec());
    match msg {
        Msg::Init => text("init"),
        Msg::Netns => text("netns"),
        Msg::NoNetns => text("nonetns"),
        Msg::Clean => text("clean"),
        Msg::Container { name, lxcpath } => {
            text("container");
            text(name);
            text(lxcpath);
        }
        Msg::Log { file, level } => {
            text("log");
            text(file);
            text(&level.to_string());
        }
        Msg::Add(item) | Msg::Drop(item) => {
            text(if matches!(msg, Msg::Add(_)) { "+" } else { "-" });
            item_fields(item, &mut fields);
        }
    }
    fields.join(&0u8)
}

fn item_fields(item: &Item, out: &mut Vec<Vec<u8>>) {
    let mut text = |s: &str| out.push(s.as_bytes().to_vec());
    match item {
        Item::Cgroup(p) => {
            text("cg");
            out.push(p.as_os_str().as_bytes().to_vec());
        }
        Item::CgroupParent(p) => {
            text("cgp");
            out.push(p.as_os_str().as_bytes().to_vec());
        }
        Item::Proxy { ip, dev, ifindex } => {
            for f in ["proxy", &ip.to_string(), dev, &ifindex.to_string()] {
                text(f);
            }
        }
        Item::LoRoute { ip, prefix } => {
            for f in ["lo", &ip.to_string(), &prefix.to_string()] {
                text(f);
            }
        }
        Item::HostLink(name) => {
            text("link");
            text(name);
        }
        Item::Phys(dev) => {
            let mtu = dev.mtu.map(|m| m.to_string()).unwrap_or_default();
            let index = dev.net_index.to_string();
            for f in ["phys", &index, &dev.inside, &dev.host_name, &mtu] {
                text(f);
            }
        }
    }
}

pub(crate) fn decode(bytes: &[u8]) -> Option<Msg> {
    let fields: Vec<&[u8]> = bytes.split(|b| *b == 0).collect();
    let text = |i: usize| fields.get(i).and_then(|f| std::str::from_utf8(f).ok());
    let msg = match text(0)? {
        "init" => Msg::Init,
        "netns" => Msg::Netns,
        "nonetns" => Msg::NoNetns,
        "clean" => Msg::Clean,
        "container" => Msg::Container {
            name: text(1)?.to_string(),
            lxcpath: text(2)?.to_string(),
        },
        "log" => Msg::Log {
            file: text(1)?.to_string(),
            level: text(2)?.parse().ok()?,
        },
        op @ ("+" | "-") => {
            let path = || PathBuf::from(OsStr::from_bytes(fields.get(2).copied().unwrap_or(b"")));
            let item = match text(1)? {
                "cg" => Item::Cgroup(path()),
                "cgp" => Item::CgroupParent(path()),
                "proxy" => Item::Proxy {
                    ip: text(2)?.parse().ok()?,
                    dev: text(3)?.to_string(),
                    ifindex: text(4)?.parse().ok()?,
                },
                "lo" => Item::LoRoute {
                    ip: text(2)?.parse().ok()?,
                    prefix: text(3)?.parse().ok()?,
                },
                "link" => Item::HostLink(text(2)?.to_string()),
                "phys" => Item::Phys(PhysDevice {
                    net_index: text(2)?.parse().ok()?,
                    inside: text(3)?.to_string(),
                    host_name: text(4)?.to_string(),
                    mtu: match text(5)? {
                        "" => None,
                        m => Some(m.parse().ok()?),
                    },
                }),
                _ => return None,
            };
            if op == "+" {
                Msg::Add(item)
            } else {
                Msg::Drop(item)
            }
        }
        _ => return None,
    };
    Some(msg)
}

pub(crate) fn encode_reply(reply: &Reply) -> Vec<u8> {
    match reply {
        Reply::Hello { pid } => format!("hello\0{pid}"),
        Reply::Bye { last } => format!("bye\0{}", u8::from(*last)),
    }
    .into_bytes()
}

pub(crate) fn decode_reply(bytes: &[u8]) -> Option<Reply> {
    let text = std::str::from_utf8(bytes).ok()?;
    match text.split_once('\0')? {
        ("hello", pid) => Some(Reply::Hello {
            pid: pid.parse().ok()?,
        }),
        ("bye", "0") => Some(Reply::Bye { last: false }),
        ("bye", "1") => Some(Reply::Bye { last: true }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_survives_the_wire() {
        let items = vec![
            Item::Cgroup("/sys/fs/cgroup/cpu/lxc.payload.c 1".into()),
            Item::CgroupParent("/sys/fs/cgroup/unified/a/b".into()),
            Item::Proxy {
                ip: "10.1.0.5".parse().unwrap(),
                dev: "br-x".into(),
                ifindex: 42,
            },
            Item::Proxy {
                ip: "fd00::5".parse().unwrap(),
                dev: "p0".into(),
                ifindex: 7,
            },
            Item::LoRoute {
                ip: "fd00::7".parse().unwrap(),
                prefix: 128,
            },
            Item::HostLink("vethAbC123".into()),
            Item::Phys(PhysDevice {
                net_index: 1,
                inside: "eth1".into(),
                host_name: "tphys0".into(),
                mtu: Some(1400),
            }),
            Item::Phys(PhysDevice {
                net_index: 0,
                inside: "tphys0".into(),
                host_name: "tphys0".into(),
                mtu: None,
            }),
        ];
        let mut msgs = vec![
            Msg::Init,
            Msg::Netns,
            Msg::NoNetns,
            Msg::Clean,
            Msg::Container {
                name: "c 1".into(),
                lxcpath: "/var/lib/lxc".into(),
            },
            Msg::Log {
                file: "/var/log/lxc/c.log".into(),
                level: 3,
            },
            Msg::Log {
                file: "none".into(),
                level: -1,
            },
        ];
        for i in items {
            msgs.push(Msg::Add(i.clone()));
            msgs.push(Msg::Drop(i));
        }
        for m in msgs {
            let bytes = encode(&m);
            assert!(!bytes.is_empty(), "an empty message would read as EOF");
            assert_eq!(decode(&bytes), Some(m));
        }
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(decode(b""), None);
        assert_eq!(decode(b"+\0nope\0x"), None);
        assert_eq!(decode(b"+\0proxy\0not-an-ip\0p0\x001"), None);
        assert_eq!(decode(b"+\0lo\0fd00::1"), None);
        assert_eq!(decode(b"bogus"), None);
        assert_eq!(decode(b"container\0only-a-name"), None);
        assert_eq!(decode_reply(b"hello\0x"), None);
        assert_eq!(decode_reply(b"bye\x002"), None);
    }

    #[test]
    fn every_reply_survives_the_wire() {
        for r in [
            Reply::Hello { pid: 4242 },
            Reply::Bye { last: false },
            Reply::Bye { last: true },
        ] {
            assert_eq!(decode_reply(&encode_reply(&r)), Some(r));
        }
    }
}
