//! Fuzz-style robustness test: thousands of pseudo-random and mutated
//! inputs through the parser and the item API must never panic, and what
//! `write` produces must load back into the same configuration.

use super::*;

/// Small deterministic PRNG (SplitMix64) so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const EXTRA_KEYS: &[&str] = &[
    "lxc.net.0.type",
    "lxc.net.0.link",
    "lxc.net.0.ipv4.address",
    "lxc.net.0.ipv6.address",
    "lxc.net.0.hwaddr",
    "lxc.net.0.flags",
    "lxc.net.0.veth.pair",
    "lxc.net.0.veth.vlan.id",
    "lxc.net.1.type",
    "lxc.net.1.macvlan.mode",
    "lxc.net.1.ipvlan.mode",
    "lxc.net.1.vlan.id",
    "lxc.net.1.ipv4.gateway",
    "lxc.net.2.mtu",
    "lxc.net.0",
    "lxc.net.x.type",
    "lxc.net.1.bogus",
    "lxc.cgroup.devices.allow",
    "lxc.cgroup2.memory.max",
    "lxc.sysctl.net.ipv4.ip_forward",
    "lxc.prlimit.nofile",
    "lxc.proc.oom_score_adj",
    "lxc.namespace.share.net",
    "lxc.hook.start",
    "lxc.utsname",
    "lxc.network.0.type",
    "lxc.bogus",
    "lxc.",
    "lxc.cgroup",
    "lxc.sysctl",
];

const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "2",
    "-1",
    "0x10",
    "010",
    " 1",
    "veth",
    "macvlan",
    "ipvlan",
    "vlan",
    "phys",
    "empty",
    "none",
    "bogus",
    "br0",
    "10.0.3.5/24",
    "10.0.0.1",
    "fe80::1/64",
    "::1.2.3.4",
    "1.2.3.4 1.2.3.255",
    "auto",
    "dev",
    "00:16:3e:xx:xx:xx",
    "SIGTERM",
    "SIGRTMIN+2",
    "TERM",
    "debug",
    "trace",
    "5s",
    "3 m",
    "7x",
    "auto",
    "1MB",
    "10kb",
    "u 0 100000 65536",
    "g 0 100000 65536",
    "u 0 1",
    "sys_admin mknod",
    "12",
    "FOO=bar",
    "PATH",
    "1024:2048",
    "unlimited",
    "10:unlimited",
    "proc:rw sys cgroup:mixed",
    "cgroup2",
    "shmounts:/a:/b",
    "/a b none bind 0 0",
    "dir:/var/lib//lxc/./c1/rootfs/",
    "/tmp/x",
    "unix:/tmp/s",
    "unix:@a",
    "net pid",
    "user",
    "i386",
    "x86_64",
    "private",
    "l3s",
    "bridge",
    "router",
    "4094",
    "70000",
    "1,2,3",
    "daemon",
    "'quoted'",
    "\"dq\"",
    "a=b",
    "/",
    "..",
    "foo/../bar",
];

fn probe_keys() -> Vec<String> {
    let mut keys = keys::all_names();
    for i in 0..3 {
        for sub in net::subkey_names() {
            keys.push(format!("lxc.net.{i}.{sub}"));
        }
    }
    keys.extend(EXTRA_KEYS.iter().map(|s| s.to_string()));
    keys
}

fn snapshot(c: &Config, probes: &[String]) -> Vec<Result<String, i32>> {
    probes
        .iter()
        .map(|k| c.get_item(k).map_err(|e| e.errno))
        .collect()
}

fn random_key(rng: &mut Rng, names: &[String]) -> String {
    if rng.below(3) == 0 {
        rng.pick(EXTRA_KEYS).to_string()
    } else {
        names[rng.below(names.len())].clone()
    }
}

/// Flips, inserts or deletes a few bytes (keeping valid UTF-8).
fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..rng.below(4) {
        let alphabet = [
            ' ', '\t', '=', '#', '"', '\'', '.', '\r', '\n', '\0', 'x', '0', '9', '/', ':', 'é',
        ];
        let c = alphabet[rng.below(alphabet.len())];
        let pos = rng.below(chars.len() + 1);
        match rng.below(3) {
            0 => chars.insert(pos, c),
            1 if pos < chars.len() => {
                chars.remove(pos);
            }
            _ if pos < chars.len() => chars[pos] = c,
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn random_text(rng: &mut Rng, names: &[String]) -> String {
    let mut text = String::new();
    for _ in 0..rng.below(12) {
        let line = match rng.below(6) {
            0 => "# a comment".to_string(),
            1 => "   ".to_string(),
            _ => format!(
                "{}{}={}{}",
                random_key(rng, names),
                if rng.below(2) == 0 { " " } else { "" },
                if rng.below(2) == 0 { " " } else { "" },
                rng.pick(VALUES)
            ),
        };
        let line = if rng.below(4) == 0 {
            mutate(rng, &line)
        } else {
            line
        };
        text.push_str(&line);
        text.push_str(if rng.below(5) == 0 { "\r\n" } else { "\n" });
    }
    text
}

/// Values that survive "key = value" -> parse unchanged.
fn round_trips(v: &str) -> bool {
    let b = v.as_bytes();
    !v.is_empty()
        && v.trim_matches([' ', '\t']) == v
        && !v.contains(['\n', '\r', '\0'])
        && !(b.len() > 1 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0])
}

#[test]
fn fuzz_parse_set_get_write() {
    let names = keys::all_names();
    let probes = probe_keys();
    let mut rng = Rng(0x5eed_1234);
    let start = std::time::Instant::now();
    let mut parsed_ok = 0;
    for round in 0..3000 {
        // Parser: random and mutated text; what loads must reload identically.
        let text = random_text(&mut rng, &names);
        let mut c = Config::new();
        if c.parse_str(&text, "fuzz").is_ok() {
            parsed_ok += 1;
            let mut again = Config::new();
            again
                .parse_str(&c.write(), "rewritten")
                .unwrap_or_else(|e| panic!("round {round}: {}\n{text:?}", e.message));
            assert_eq!(
                snapshot(&c, &probes),
                snapshot(&again, &probes),
                "round {round}: {text:?}"
            );
            // Whitespace-only lines are saved empty and vanish on reload.
            let strip = |t: String| {
                t.lines()
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(strip(c.write()), strip(again.write()));
        }

        // API: random operations never panic; errors change nothing.
        let mut c = Config::new();
        let mut api = Config::new();
        for _ in 0..rng.below(10) {
            let key = random_key(&mut rng, &names);
            let mut value = rng.pick(VALUES).to_string();
            if rng.below(4) == 0 {
                value = mutate(&mut rng, &value);
            }
            match rng.below(4) {
                0 => {
                    let _ = c.clear_item(&key);
                }
                1 => {
                    let _ = c.get_item(&key);
                    let _ = c.get_keys(Some(&key));
                }
                _ => {
                    let before = c.write();
                    if c.set_item(&key, &value).is_err() {
                        assert_eq!(before, c.write(), "failed set of {key} changed the text");
                    } else if round_trips(&value) && key != "lxc.include" {
                        api.set_item(&key, &value).unwrap_or_else(|e| {
                            panic!("set {key}={value:?} failed only on replay: {}", e.message)
                        });
                    }
                }
            }
        }
        let _ = c.write();
        // Successful non-empty sets, saved and reloaded, give the same items.
        let mut reloaded = Config::new();
        reloaded
            .parse_str(&api.write(), "saved")
            .unwrap_or_else(|e| panic!("round {round}: {}\n{}", e.message, api.write()));
        assert_eq!(
            snapshot(&api, &probes),
            snapshot(&reloaded, &probes),
            "{}",
            api.write()
        );
    }
    assert!(
        parsed_ok > 100,
        "the generator should produce loadable configs"
    );
    assert!(start.elapsed().as_secs() < 30);
}
