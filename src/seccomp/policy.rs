//! LXC's seccomp policy language, versions 1 and 2 (`lxc.seccomp.profile`).
//!
//! Version 1: `1`, a line containing `allowlist`, then one native syscall
//! number per line; everything else is killed.
//!
//! Version 2: `2`, then `denylist` / `allowlist` (or the old `blacklist` /
//! `whitelist`) with an optional default action, then rules, optionally
//! grouped in architecture sections (`[all]`, `[x86_64]`, `[x86]`,
//! `[arm64]`...). A rule is `syscall [action] [arg comparisons]`, with
//! comparisons written `[index,value,op]` or `[index,value,op,mask]`.
//! A denylist allows what no rule names and kills what a rule names without
//! an action; an allowlist the other way round.

use std::fmt;

/// What happens to a syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Kill,
    Errno(i32),
    Trap,
    Allow,
    Notify,
    Log,
}

/// An argument comparison operator (`SCMP_CMP_*` or its symbol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    MaskedEq,
}

/// `[index,value,op(,mask)]`: argument `index` compared with `value`
/// (for `MaskedEq`: `arg & mask == value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgCmp {
    pub index: u32,
    pub op: CmpOp,
    pub value: u64,
    pub mask: u64,
}

/// What a rule is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A syscall by name (resolved per architecture when building).
    Name(String),
    /// A native syscall number (version 1).
    Number(i32),
    /// `reject_force_umount`: umount2 with MNT_FORCE fails with EACCES.
    RejectForceUmount,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// 1-based line in the policy file.
    pub line: usize,
    pub target: Target,
    pub action: Action,
    pub args: Vec<ArgCmp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub version: u32,
    /// The action for syscalls no rule matches.
    pub default_action: Action,
    /// Rules of the sections that apply to this host, in file order.
    pub rules: Vec<Rule>,
}

impl Policy {
    /// Whether some rule hands syscalls to a supervisor.
    pub fn wants_notify(&self) -> bool {
        self.default_action == Action::Notify
            || self.rules.iter().any(|r| r.action == Action::Notify)
    }
}

/// A parse failure: the 1-based line and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The host's architecture families, as LXC tells them apart (`uname -m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostArch {
    I386,
    Amd64,
    Arm,
    Arm64,
    Ppc64le,
    Ppc64,
    Ppc,
    Mips64,
    Mips,
    Mipsel64,
    Mipsel,
    S390x,
    S390,
    Loongarch64,
    Unknown,
}

impl HostArch {
    /// From a `uname -m` machine string.
    pub fn from_machine(m: &str) -> HostArch {
        let starts = |p: &str| m.starts_with(p);
        match m {
            "i686" | "i586" | "i486" | "i386" => HostArch::I386,
            "x86_64" => HostArch::Amd64,
            _ if starts("armv7") => HostArch::Arm,
            _ if starts("aarch64") => HostArch::Arm64,
            _ if starts("ppc64le") => HostArch::Ppc64le,
            _ if starts("ppc64") => HostArch::Ppc64,
            _ if starts("ppc") => HostArch::Ppc,
            // LXC cannot tell mips from mipsel by the machine string.
            _ if starts("mips64") => HostArch::Mips64,
            _ if starts("mips") => HostArch::Mips,
            _ if starts("s390x") => HostArch::S390x,
            _ if starts("s390") => HostArch::S390,
            _ if starts("loongarch64") => HostArch::Loongarch64,
            _ => HostArch::Unknown,
        }
    }

    /// This machine's.
    pub fn current() -> HostArch {
        // SAFETY: uname fills the struct we own.
        let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
        if unsafe { libc::uname(&mut uts) } < 0 {
            return HostArch::Unknown;
        }
        // SAFETY: the kernel NUL-terminates the field.
        let machine = unsafe { std::ffi::CStr::from_ptr(uts.machine.as_ptr()) };
        HostArch::from_machine(&machine.to_string_lossy())
    }
}

/// Whether the rules of section `[name]` apply on `host`: Some(true) yes,
/// Some(false) a known architecture that is not this host's, None an
/// unknown section. Lower- or upper-case names, as LXC; `i386` and `amd64`
/// are accepted as aliases of `x86` and `x86_64`.
fn section_applies(name: &str, host: HostArch) -> Option<bool> {
    use HostArch::*;
    let lower = name.to_ascii_lowercase();
    if name != lower && name != name.to_ascii_uppercase() {
        return None;
    }
    let hosts: &[HostArch] = match lower.as_str() {
        "all" => return Some(true),
        "x86" | "i386" => &[I386, Amd64],
        "x32" | "x86_64" | "amd64" => &[Amd64],
        "arm" => &[Arm, Arm64],
        "arm64" => &[Arm64],
        "ppc64le" => &[Ppc64le],
        "ppc64" => &[Ppc64],
        "ppc" => &[Ppc, Ppc64],
        "mips64" | "mips64n32" => &[Mips64],
        "mips" => &[Mips, Mips64],
        "mipsel64" | "mipsel64n32" => &[Mipsel64],
        "mipsel" => &[Mipsel, Mipsel64],
        "s390x" => &[S390x],
        "s390" => &[S390],
        "loongarch64" => &[Loongarch64],
        _ => return None,
    };
    Some(hosts.contains(&host))
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Parses an action word (and errno's number) at the start of `s`.
/// Ok(None): `s` is empty.
fn parse_action(s: &str, line: usize) -> Result<Option<Action>, ParseError> {
    let s = s.trim_start();
    let mut words = s.split_whitespace();
    let Some(word) = words.next() else {
        return Ok(None);
    };
    let action = match word {
        "kill" => Action::Kill,
        "trap" => Action::Trap,
        "allow" => Action::Allow,
        "notify" => Action::Notify,
        "log" => Action::Log,
        "errno" => {
            let n = words
                .next()
                .and_then(|n| n.parse::<i32>().ok())
                .filter(|n| (0..=4095).contains(n))
                .ok_or_else(|| err(line, format!("errno needs a number 0-4095: \"{s}\"")))?;
            Action::Errno(n)
        }
        _ => return Err(err(line, format!("unknown seccomp action \"{word}\""))),
    };
    Ok(Some(action))
}

fn parse_op(s: &str) -> Option<CmpOp> {
    Some(match s {
        "SCMP_CMP_NE" | "!=" => CmpOp::Ne,
        "SCMP_CMP_LT" | "<" => CmpOp::Lt,
        "SCMP_CMP_LE" | "<=" => CmpOp::Le,
        "SCMP_CMP_EQ" | "==" => CmpOp::Eq,
        "SCMP_CMP_GE" | ">=" => CmpOp::Ge,
        "SCMP_CMP_GT" | ">" => CmpOp::Gt,
        "SCMP_CMP_MASKED_EQ" | "&=" => CmpOp::MaskedEq,
        _ => return None,
    })
}

/// An unsigned number in C's notation: decimal, 0x hex or 0 octal.
fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// `index,value,op` or `index,value,op,mask` (the text between brackets).
fn parse_arg(s: &str, line: usize) -> Result<ArgCmp, ParseError> {
    let bad = |what: &str| err(line, format!("{what} in argument comparison \"[{s}]\""));
    let fields: Vec<&str> = s.split(',').map(str::trim).collect();
    if fields.len() != 3 && fields.len() != 4 {
        return Err(bad("expected [index,value,op] or [index,value,op,mask]"));
    }
    let index = parse_u64(fields[0])
        .filter(|&i| i < 6)
        .ok_or_else(|| bad("bad argument index (0-5)"))? as u32;
    let value = parse_u64(fields[1]).ok_or_else(|| bad("bad value"))?;
    let op = parse_op(fields[2]).ok_or_else(|| bad("unknown operator"))?;
    let mask = match fields.get(3) {
        Some(m) => parse_u64(m).ok_or_else(|| bad("bad mask"))?,
        None => 0,
    };
    Ok(ArgCmp {
        index,
        op,
        value,
        mask,
    })
}

/// One v2 rule line (comment already removed).
fn parse_rule(text: &str, line: usize, default_rule: Action) -> Result<Rule, ParseError> {
    let (name, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let (action_text, args_text) = match rest.find('[') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let action = parse_action(action_text, line)?.unwrap_or(default_rule);
    if !args_text.is_empty() && action_text.trim().is_empty() {
        return Err(err(
            line,
            "argument comparisons need an explicit action before them",
        ));
    }
    let mut args = Vec::new();
    let mut rest = args_text.trim();
    while !rest.is_empty() {
        let body = rest
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .ok_or_else(|| err(line, format!("malformed argument comparison \"{rest}\"")))?;
        args.push(parse_arg(body.0, line)?);
        rest = body.1.trim_start();
    }
    if args.len() > 6 {
        return Err(err(line, "at most 6 argument comparisons"));
    }
    let target = if name == "reject_force_umount" {
        Target::RejectForceUmount
    } else {
        Target::Name(name.to_string())
    };
    Ok(Rule {
        line,
        target,
        action,
        args,
    })
}

/// Parses a whole policy for `host`; rules of other architectures'
/// sections are left out.
pub fn parse(text: &str, host: HostArch) -> Result<Policy, ParseError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (_, first) = lines.next().ok_or_else(|| err(1, "empty policy"))?;
    let version = match first.trim() {
        "1" => 1,
        "2" => 2,
        v => {
            return Err(err(
                1,
                format!("unsupported policy version \"{v}\" (1 or 2)"),
            ))
        }
    };
    let (_, header) = lines
        .next()
        .ok_or_else(|| err(2, "missing allowlist/denylist line"))?;
    if header.contains("debug") {
        return Err(err(2, "\"debug\" is not supported"));
    }
    if version == 1 {
        if !header.contains("allowlist") && !header.contains("whitelist") {
            return Err(err(2, "version 1 policies must be allowlists"));
        }
        let mut rules = Vec::new();
        for (n, l) in lines {
            let nr = l
                .split_whitespace()
                .next()
                .and_then(|w| w.parse::<i32>().ok())
                .ok_or_else(|| err(n, format!("expected a syscall number, got \"{l}\"")))?;
            rules.push(Rule {
                line: n,
                target: Target::Number(nr),
                action: Action::Allow,
                args: Vec::new(),
            });
        }
        return Ok(Policy {
            version,
            default_action: Action::Kill,
            rules,
        });
    }
    let header = header.trim_start();
    let (denylist, rest) = if let Some(r) = header
        .strip_prefix("denylist")
        .or_else(|| header.strip_prefix("blacklist"))
    {
        (true, r)
    } else if let Some(r) = header
        .strip_prefix("allowlist")
        .or_else(|| header.strip_prefix("whitelist"))
    {
        (false, r)
    } else {
        return Err(err(
            2,
            format!("bad policy style \"{header}\" (denylist or allowlist)"),
        ));
    };
    let rest = rest.split('#').next().unwrap_or("");
    let explicit = parse_action(rest, 2)?;
    let (default_action, default_rule) = if denylist {
        (explicit.unwrap_or(Action::Allow), Action::Kill)
    } else {
        (explicit.unwrap_or(Action::Kill), Action::Allow)
    };
    let mut applies = true;
    let mut rules = Vec::new();
    for (n, l) in lines {
        let text = l.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        if let Some(section) = text.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            applies = section_applies(section, host)
                .ok_or_else(|| err(n, format!("unsupported architecture \"{text}\"")))?;
            continue;
        }
        // LXC parses (and rejects malformed) rules only where they apply.
        if applies {
            rules.push(parse_rule(text, n, default_rule)?);
        }
    }
    Ok(Policy {
        version,
        default_action,
        rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Policy {
        parse(text, HostArch::Amd64).unwrap()
    }

    fn e(text: &str) -> ParseError {
        parse(text, HostArch::Amd64).unwrap_err()
    }

    fn name(rule: &Rule) -> &str {
        match &rule.target {
            Target::Name(n) => n,
            other => panic!("not a name: {other:?}"),
        }
    }

    #[test]
    fn version_1() {
        let pol = p("1\nallowlist\n0\n1\n 60 \n");
        assert_eq!(pol.version, 1);
        assert_eq!(pol.default_action, Action::Kill);
        let nrs: Vec<_> = pol.rules.iter().map(|r| r.target.clone()).collect();
        assert_eq!(
            nrs,
            vec![Target::Number(0), Target::Number(1), Target::Number(60)]
        );
        assert!(pol.rules.iter().all(|r| r.action == Action::Allow));
        assert_eq!(e("1\ndenylist\n").line, 2);
        let bad = e("1\nallowlist\n0\nread\n");
        assert_eq!(bad.line, 4);
        assert!(bad.message.contains("read"), "{bad}");
    }

    #[test]
    fn headers() {
        assert_eq!(e("").line, 1);
        assert_eq!(e("3\ndenylist\n").line, 1);
        assert_eq!(e("2\n").line, 2);
        assert_eq!(e("2\ngreylist\n").line, 2);
        assert_eq!(e("2\ndenylist debug\n").line, 2);
        for (h, def) in [
            ("denylist", Action::Allow),
            ("blacklist", Action::Allow),
            ("allowlist", Action::Kill),
            ("whitelist", Action::Kill),
            ("denylist errno 38", Action::Errno(38)),
            ("allowlist trap", Action::Trap),
            ("allowlist errno 1 # why", Action::Errno(1)),
            ("denylist notify", Action::Notify),
            ("denylist log", Action::Log),
            ("allowlist allow", Action::Allow),
            ("denylist kill", Action::Kill),
        ] {
            let pol = p(&format!("2\n{h}\n"));
            assert_eq!(pol.default_action, def, "{h}");
            assert!(pol.rules.is_empty());
        }
        assert_eq!(e("2\ndenylist errno\n").line, 2);
        assert_eq!(e("2\ndenylist errno x\n").line, 2);
        assert_eq!(e("2\ndenylist frobnicate\n").line, 2);
    }

    #[test]
    fn rule_actions_and_defaults() {
        let pol = p("2\ndenylist\nmount\numount2 errno 1\nsethostname trap\n\
                     kexec_load kill\nptrace notify\nchmod log\nread allow\n");
        let got: Vec<_> = pol.rules.iter().map(|r| (name(r), r.action)).collect();
        assert_eq!(
            got,
            vec![
                ("mount", Action::Kill),
                ("umount2", Action::Errno(1)),
                ("sethostname", Action::Trap),
                ("kexec_load", Action::Kill),
                ("ptrace", Action::Notify),
                ("chmod", Action::Log),
                ("read", Action::Allow),
            ]
        );
        assert!(pol.wants_notify());
        let pol = p("2\nallowlist\nread\nwrite errno 5\n");
        assert_eq!(pol.rules[0].action, Action::Allow);
        assert_eq!(pol.rules[1].action, Action::Errno(5));
        assert!(!pol.wants_notify());
        let bad = e("2\ndenylist\nread\nwrite bogus\n");
        assert_eq!(bad.line, 4);
        assert!(bad.message.contains("bogus"), "{bad}");
    }

    #[test]
    fn comments_blank_lines_and_reject_force_umount() {
        let pol = p(
            "2\ndenylist\n# a comment\n\nreject_force_umount  # comment this\n\
                     [all]\n  kexec_load errno 1   # trailing\n",
        );
        assert_eq!(pol.rules.len(), 2);
        assert_eq!(pol.rules[0].target, Target::RejectForceUmount);
        assert_eq!(pol.rules[0].line, 5);
        assert_eq!(name(&pol.rules[1]), "kexec_load");
        assert_eq!(pol.rules[1].action, Action::Errno(1));
        assert_eq!(pol.rules[1].line, 7);
    }

    #[test]
    fn argument_comparisons() {
        let pol = p("2\ndenylist\n\
             a errno 1 [0,1,SCMP_CMP_EQ]\n\
             b errno 1 [1,0x10,SCMP_CMP_MASKED_EQ,0x10]\n\
             c errno 1 [2,5,!=][3,6,<][4,7,<=]\n\
             d errno 1 [5,8,>=] [0,9,>] [1,010,==]\n\
             e errno 1 [0,3,&=,0xff]\n\
             f errno 1 [0,1,SCMP_CMP_NE][1,1,SCMP_CMP_LT][2,1,SCMP_CMP_LE][3,1,SCMP_CMP_GE][4,1,SCMP_CMP_GT]\n");
        let a = &pol.rules[0].args;
        assert_eq!(
            a,
            &vec![ArgCmp {
                index: 0,
                op: CmpOp::Eq,
                value: 1,
                mask: 0
            }]
        );
        assert_eq!(
            pol.rules[1].args[0],
            ArgCmp {
                index: 1,
                op: CmpOp::MaskedEq,
                value: 16,
                mask: 16
            }
        );
        let ops = |rule: usize| -> Vec<_> {
            pol.rules[rule]
                .args
                .iter()
                .map(|a| (a.index, a.op, a.value))
                .collect()
        };
        assert_eq!(
            ops(2),
            vec![(2, CmpOp::Ne, 5), (3, CmpOp::Lt, 6), (4, CmpOp::Le, 7)]
        );
        assert_eq!(
            ops(3),
            vec![(5, CmpOp::Ge, 8), (0, CmpOp::Gt, 9), (1, CmpOp::Eq, 8)]
        );
        assert_eq!(pol.rules[4].args[0].op, CmpOp::MaskedEq);
        assert_eq!(pol.rules[4].args[0].mask, 0xff);
        let ops: Vec<_> = pol.rules[5].args.iter().map(|a| a.op).collect();
        assert_eq!(
            ops,
            vec![CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Ge, CmpOp::Gt]
        );
        for bad in [
            "x errno 1 [6,1,==]",
            "x errno 1 [0,1]",
            "x errno 1 [0,1,~=]",
            "x errno 1 [0,abc,==]",
            "x errno 1 [0,1,==,zz]",
            "x errno 1 [0,1,==",
            "x [0,1,==]",
            "x errno 1 [0,1,==][0,1,==][0,1,==][0,1,==][0,1,==][0,1,==][0,1,==]",
        ] {
            let got = e(&format!("2\ndenylist\n{bad}\n"));
            assert_eq!(got.line, 3, "{bad}: {got}");
        }
    }

    #[test]
    fn sections() {
        let text = "2\ndenylist\nall1\n[x86_64]\nsixtyfour\n[x86]\nthirtytwo\n[X32]\nx32\n\
                    [arm64]\narmonly [9,9,bogus]\n[ALL]\nall2\n[amd64]\nalias\n";
        let names: Vec<_> = p(text).rules.iter().map(|r| name(r).to_string()).collect();
        assert_eq!(
            names,
            ["all1", "sixtyfour", "thirtytwo", "x32", "all2", "alias"]
        );
        let arm = parse(text.replace("[9,9,bogus]", "").as_str(), HostArch::Arm64).unwrap();
        let names: Vec<_> = arm.rules.iter().map(|r| name(r).to_string()).collect();
        assert_eq!(names, ["all1", "armonly", "all2"]);
        let i386 = parse(text, HostArch::I386).unwrap();
        let names: Vec<_> = i386.rules.iter().map(|r| name(r).to_string()).collect();
        assert_eq!(names, ["all1", "thirtytwo", "all2"]);
        let bad = e("2\ndenylist\n[vax]\nfoo\n");
        assert_eq!(bad.line, 3);
        assert!(bad.message.contains("vax"));
        assert_eq!(e("2\ndenylist\n[X86_64]\n[All]\n").line, 4);
    }

    #[test]
    fn host_arch_names() {
        assert_eq!(HostArch::from_machine("x86_64"), HostArch::Amd64);
        assert_eq!(HostArch::from_machine("i686"), HostArch::I386);
        assert_eq!(HostArch::from_machine("aarch64"), HostArch::Arm64);
        assert_eq!(HostArch::from_machine("armv7l"), HostArch::Arm);
        assert_eq!(HostArch::from_machine("ppc64le"), HostArch::Ppc64le);
        assert_eq!(HostArch::from_machine("riscv64"), HostArch::Unknown);
    }

    #[test]
    fn debian_common_policy() {
        let pol = p("2\ndenylist\nreject_force_umount  # comment this to allow umount -f;  not recommended\n\
                     [all]\nkexec_load errno 1\nopen_by_handle_at errno 1\ninit_module errno 1\n\
                     finit_module errno 1\ndelete_module errno 1\n");
        assert_eq!(pol.rules.len(), 6);
        assert_eq!(pol.default_action, Action::Allow);
    }
}
