//! Device rules of a cgroup2 container (`lxc.cgroup2.devices.allow/deny`,
//! and `set_cgroup_item("devices.*")` on a pure cgroup2 host), with LXC's
//! list semantics:
//!
//! * the value "a" (alone) sets the default and empties the list:
//!   `deny = a` makes an allow-list (everything not allowed is denied),
//!   `allow = a` a deny-list;
//! * a list built from the configuration starts as an allow-list, so any
//!   rule without a preceding "a" still denies what it does not allow;
//! * a rule equal to a listed one (type, numbers, access) flips its verdict
//!   instead of being added twice;
//! * rules whose verdict is the default change nothing and are left out of
//!   the program.
//!
//! Pure: parsing and the list; `devices_bpf` turns a list into a program.

use crate::error::{Error, Result};

/// Access bits as the kernel's `bpf_cgroup_dev_ctx` carries them.
pub const ACC_MKNOD: u32 = 1;
pub const ACC_READ: u32 = 2;
pub const ACC_WRITE: u32 = 4;
pub const ACC_ALL: u32 = ACC_MKNOD | ACC_READ | ACC_WRITE;

/// Device types as the kernel's `bpf_cgroup_dev_ctx` carries them.
pub const DEV_BLOCK: u32 = 1;
pub const DEV_CHAR: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 'a': any type.
    All,
    Block,
    Char,
}

impl Kind {
    fn letter(self) -> u8 {
        match self {
            Kind::All => b'a',
            Kind::Block => b'b',
            Kind::Char => b'c',
        }
    }

    fn from_letter(c: u8) -> Option<Kind> {
        match c {
            b'a' => Some(Kind::All),
            b'b' => Some(Kind::Block),
            b'c' => Some(Kind::Char),
            _ => None,
        }
    }

    /// The kernel's type value, None for "any".
    pub fn kernel_type(self) -> Option<u32> {
        match self {
            Kind::All => None,
            Kind::Block => Some(DEV_BLOCK),
            Kind::Char => Some(DEV_CHAR),
        }
    }
}

/// One rule: "c 1:3 rwm" allowed or denied; None numbers are '*'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRule {
    pub kind: Kind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// `ACC_*` bits; 0 only for the global rule (or an empty access list,
    /// which LXC accepts and which matches nothing).
    pub access: u32,
    pub allow: bool,
}

impl DeviceRule {
    /// The bare "a": sets the list's default.
    pub fn is_global(&self) -> bool {
        self.kind == Kind::All && self.major.is_none() && self.minor.is_none() && self.access == 0
    }

    fn same_target(&self, other: &DeviceRule) -> bool {
        self.kind == other.kind
            && self.major == other.major
            && self.minor == other.minor
            && self.access == other.access
    }
}

impl std::fmt::Display for DeviceRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.allow { "allow" } else { "deny" };
        if self.is_global() {
            return write!(f, "{verb} a");
        }
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        let mut acc = String::new();
        for (bit, c) in [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')] {
            if self.access & bit != 0 {
                acc.push(c);
            }
        }
        write!(
            f,
            "{verb} {} {}:{} {acc}",
            self.kind.letter() as char,
            num(self.major),
            num(self.minor)
        )
    }
}

/// Whether `file` ("devices.allow"/"devices.deny") allows.
fn verdict_of(file: &str) -> Result<bool> {
    match file {
        "devices.allow" => Ok(true),
        "devices.deny" => Ok(false),
        _ => Err(Error::invalid(format!(
            "\"{file}\" is not a cgroup2 device rule (devices.allow or devices.deny)"
        ))),
    }
}

/// Parses the value of `devices.allow`/`devices.deny` ("a", "c 1:3 rwm",
/// "b *:* m"); with `paths`, an allow rule may name a device node
/// ("/dev/null rwm"), as the configuration permits.
pub fn parse(file: &str, value: &str, paths: bool) -> Result<DeviceRule> {
    let allow = verdict_of(file)?;
    let bad =
        |why: &str| Error::invalid(format!("Invalid device rule {file} = \"{value}\": {why}"));
    if value == "a" {
        return Ok(DeviceRule {
            kind: Kind::All,
            major: None,
            minor: None,
            access: 0,
            allow,
        });
    }
    if value.starts_with('/') {
        if !(paths && allow) {
            return Err(bad(
                "a device path is only accepted in lxc.cgroup2.devices.allow",
            ));
        }
        let converted = super::limits::convert_devpath(value)?;
        return parse(file, &converted, false);
    }
    let b = value.as_bytes();
    let kind = b
        .first()
        .copied()
        .and_then(Kind::from_letter)
        .ok_or_else(|| bad("the type must be a, b or c"))?;
    if !b.get(1).is_some_and(u8::is_ascii_whitespace) {
        return Err(bad("the type must be followed by a space"));
    }
    let rest = &value[2..];
    let (numbers, access) = rest
        .split_once(|c: char| c.is_ascii_whitespace())
        .ok_or_else(|| bad("expected \"major:minor access\""))?;
    let (major, minor) = numbers
        .split_once(':')
        .ok_or_else(|| bad("expected \"major:minor\""))?;
    let number = |s: &str| -> Result<Option<u32>> {
        if s == "*" {
            return Ok(None);
        }
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("a device number must be digits or '*'"));
        }
        s.parse::<i32>()
            .ok()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| bad("a device number is out of range"))
    };
    let mut bits = 0;
    // As the kernel's v1 parser: up to three of r, w, m; a newline ends.
    let access = access.trim_end_matches('\n');
    if access.len() > 3 {
        return Err(bad("the access is at most three of r, w, m"));
    }
    for c in access.chars() {
        bits |= match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            'm' => ACC_MKNOD,
            _ => return Err(bad("the access may only contain r, w and m")),
        };
    }
    Ok(DeviceRule {
        kind,
        major: number(major)?,
        minor: number(minor)?,
        access: bits,
        allow,
    })
}

/// The rules of one container and what is allowed by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleList {
    /// true: a deny-list (everything not denied is allowed).
    pub default_allow: bool,
    pub rules: Vec<DeviceRule>,
}

impl RuleList {
    /// The list the configuration starts from (LXC: an allow-list).
    pub fn for_config() -> RuleList {
        RuleList {
            default_allow: false,
            rules: Vec::new(),
        }
    }

    /// The list a running container without device rules starts from when
    /// a rule is added: it allows everything, as no program does.
    pub fn allow_all() -> RuleList {
        RuleList {
            default_allow: true,
            rules: Vec::new(),
        }
    }

    /// Adds one rule; false when the list did not change.
    pub fn add(&mut self, rule: DeviceRule) -> bool {
        if rule.is_global() {
            self.default_allow = rule.allow;
            self.rules.clear();
            return true;
        }
        let default_allow = self.default_allow;
        if let Some(existing) = self
            .rules
            .iter_mut()
            .find(|r| r.allow != default_allow && r.same_target(&rule))
        {
            if existing.allow == rule.allow {
                return false;
            }
            existing.allow = rule.allow;
            return true;
        }
        self.rules.push(rule);
        true
    }

    /// The rules the program must test: those whose verdict differs from
    /// the default (the others change nothing).
    pub fn effective(&self) -> impl Iterator<Item = &DeviceRule> {
        self.rules.iter().filter(|r| r.allow != self.default_allow)
    }
}

/// Size of LXC's `struct device_item` on 64-bit hosts, the payload of
/// ADD_BPF_DEVICE_CGROUP: type (char), major, minor (int), access
/// (char[4]), allow (int), then a `struct list_head` (two pointers, whose
/// values mean nothing to the receiver).
pub const WIRE_LEN: usize = 40;

/// A rule as LXC's client sends it.
pub fn to_wire(rule: &DeviceRule) -> [u8; WIRE_LEN] {
    let mut b = [0u8; WIRE_LEN];
    b[0] = rule.kind.letter();
    let num = |n: Option<u32>| n.map_or(-1i32, |n| n as i32);
    b[4..8].copy_from_slice(&num(rule.major).to_ne_bytes());
    b[8..12].copy_from_slice(&num(rule.minor).to_ne_bytes());
    let mut i = 12;
    for (bit, c) in [(ACC_READ, b'r'), (ACC_WRITE, b'w'), (ACC_MKNOD, b'm')] {
        if rule.access & bit != 0 {
            b[i] = c;
            i += 1;
        }
    }
    b[16..20].copy_from_slice(&i32::from(rule.allow).to_ne_bytes());
    b
}

/// Decodes (and checks) a rule sent by a client, ours or LXC's.
pub fn from_wire(b: &[u8]) -> Result<DeviceRule> {
    let bad = |why: &str| Error::invalid(format!("Invalid device rule from a client: {why}"));
    if b.len() != WIRE_LEN {
        return Err(bad("wrong size"));
    }
    let kind = Kind::from_letter(b[0]).ok_or_else(|| bad("unknown type"))?;
    let int = |o: usize| i32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let num = |v: i32| -> Result<Option<u32>> {
        match v {
            v if v >= 0 => Ok(Some(v as u32)),
            -1 => Ok(None),
            _ => Err(bad("negative device number")),
        }
    };
    let mut access = 0;
    for &c in b[12..16].iter().take_while(|&&c| c != 0) {
        access |= match c {
            b'r' => ACC_READ,
            b'w' => ACC_WRITE,
            b'm' => ACC_MKNOD,
            _ => return Err(bad("unknown access letter")),
        };
    }
    Ok(DeviceRule {
        kind,
        major: num(int(4))?,
        minor: num(int(8))?,
        access,
        allow: int(16) != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(file: &str, value: &str) -> DeviceRule {
        parse(file, value, false).unwrap()
    }

    #[test]
    fn parsing() {
        let r = rule("devices.allow", "c 1:3 rwm");
        assert_eq!(
            r,
            DeviceRule {
                kind: Kind::Char,
                major: Some(1),
                minor: Some(3),
                access: ACC_ALL,
                allow: true
            }
        );
        assert_eq!(r.to_string(), "allow c 1:3 rwm");
        let r = rule("devices.deny", "b *:* m");
        assert_eq!(
            (r.kind, r.major, r.minor, r.access),
            (Kind::Block, None, None, ACC_MKNOD)
        );
        assert!(!r.allow);
        assert!(rule("devices.deny", "a").is_global());
        // "a *:* rwm" is an ordinary rule matching every device.
        assert!(!rule("devices.allow", "a *:* rwm").is_global());
        assert_eq!(rule("devices.allow", "c 136:* rw").minor, None);
        assert_eq!(rule("devices.allow", "c 10:229 r\n").access, ACC_READ);
        for bad in [
            "",
            "x 1:3 rwm",
            "c1:3 rwm",
            "c 1:3",
            "c 1 rwm",
            "c -1:3 rwm",
            "c 1:3 rwx",
            "c 1:3 rwmr",
            "c 99999999999:1 r",
            "c a:1 r",
            "/dev/null rwm",
        ] {
            assert!(parse("devices.allow", bad, false).is_err(), "{bad:?}");
        }
        assert!(parse("devices.list", "a", false).is_err());
        assert_eq!(
            parse("devices.allow", "/dev/null rw", true).unwrap(),
            rule("devices.allow", "c 1:3 rw")
        );
        assert!(parse("devices.deny", "/dev/null rw", true).is_err());
    }

    #[test]
    fn list_semantics() {
        let mut l = RuleList::for_config();
        assert!(l.add(rule("devices.allow", "c 1:3 rwm")));
        // The same rule again changes nothing; its opposite flips it.
        assert!(!l.add(rule("devices.allow", "c 1:3 rwm")));
        assert!(l.add(rule("devices.deny", "c 1:3 rwm")));
        assert_eq!(l.rules.len(), 1);
        assert_eq!(l.effective().count(), 0);
        // A deny in an allow-list is kept but not tested.
        assert!(l.add(rule("devices.deny", "c 1:5 rwm")));
        assert_eq!(l.effective().count(), 0);
        // "a" resets the list.
        assert!(l.add(rule("devices.allow", "a")));
        assert!(l.default_allow && l.rules.is_empty());
        assert!(l.add(rule("devices.deny", "c 1:5 r")));
        assert_eq!(l.effective().count(), 1);
        // A different access is a different rule.
        assert!(l.add(rule("devices.deny", "c 1:5 rw")));
        assert_eq!(l.effective().count(), 2);
        assert!(!RuleList::for_config().default_allow);
        assert!(RuleList::allow_all().default_allow);
    }

    #[test]
    fn wire() {
        for (file, value) in [
            ("devices.allow", "c 1:3 rwm"),
            ("devices.deny", "b *:7 m"),
            ("devices.deny", "a"),
            ("devices.allow", "a *:* r"),
        ] {
            let r = rule(file, value);
            let w = to_wire(&r);
            assert_eq!(from_wire(&w).unwrap(), r, "{value}");
        }
        let w = to_wire(&rule("devices.allow", "c 1:3 rwm"));
        assert_eq!(w[0], b'c');
        assert_eq!(&w[12..16], b"rwm\0");
        assert_eq!(i32::from_ne_bytes(w[16..20].try_into().unwrap()), 1);
        let star = to_wire(&rule("devices.deny", "b *:7 m"));
        assert_eq!(i32::from_ne_bytes(star[4..8].try_into().unwrap()), -1);
        let mut junk = w;
        junk[0] = b'x';
        assert!(from_wire(&junk).is_err());
        let mut junk = w;
        junk[13] = b'x';
        assert!(from_wire(&junk).is_err());
        assert!(from_wire(&w[..20]).is_err());
    }
}
