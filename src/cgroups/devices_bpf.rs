//! Compiles a device rule list into an eBPF program of type
//! BPF_PROG_TYPE_CGROUP_DEVICE: the kernel runs it on every open and mknod
//! of a device node by a process of the cgroup, with a context of three
//! u32 (`struct bpf_cgroup_dev_ctx`): `access_type` = (access << 16) |
//! type, `major`, `minor`; it returns 1 to allow, 0 to deny (EPERM).
//!
//! The program loads the four values into r2..r5, then tests each rule in
//! turn: a rule is a few "jump past me unless it matches" tests followed
//! by "r0 = verdict; exit". After the last rule comes the default. Only
//! rules whose verdict differs from the default are emitted (see
//! `RuleList::effective`), so their order does not matter.
//!
//! Pure: `bpf_sys` loads and attaches what this builds.

use super::device_rules::{RuleList, ACC_ALL};

/// One eBPF instruction (`struct bpf_insn`): 8 bytes, registers packed in
/// one byte (destination in the low nibble on little-endian hosts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

// Opcode parts (linux/bpf_common.h, linux/bpf.h).
const CLASS_LDX: u8 = 0x01;
const CLASS_JMP: u8 = 0x05;
const CLASS_ALU: u8 = 0x04;
const CLASS_ALU64: u8 = 0x07;
const SIZE_W: u8 = 0x00;
const MODE_MEM: u8 = 0x60;
const SRC_K: u8 = 0x00;
const SRC_X: u8 = 0x08;
const OP_AND: u8 = 0x50;
const OP_RSH: u8 = 0x70;
const OP_MOV: u8 = 0xb0;
const OP_JNE: u8 = 0x50;
const OP_EXIT: u8 = 0x90;

/// Offsets in `struct bpf_cgroup_dev_ctx`.
const CTX_ACCESS_TYPE: i16 = 0;
const CTX_MAJOR: i16 = 4;
const CTX_MINOR: i16 = 8;

/// Registers: r1 the context on entry (then scratch), r2 the type, r3 the
/// access, r4 the major, r5 the minor, r0 the result.
const R0: u8 = 0;
const R1: u8 = 1;
const R_TYPE: u8 = 2;
const R_ACCESS: u8 = 3;
const R_MAJOR: u8 = 4;
const R_MINOR: u8 = 5;

impl Insn {
    const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    /// dst = *(u32 *)(src + off)
    pub const fn load_u32(dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(CLASS_LDX | SIZE_W | MODE_MEM, dst, src, off, 0)
    }

    /// dst (32 bit) &= imm
    pub const fn and32(dst: u8, imm: i32) -> Insn {
        Insn::new(CLASS_ALU | OP_AND | SRC_K, dst, 0, 0, imm)
    }

    /// dst (32 bit) >>= imm
    pub const fn rsh32(dst: u8, imm: i32) -> Insn {
        Insn::new(CLASS_ALU | OP_RSH | SRC_K, dst, 0, 0, imm)
    }

    /// dst (32 bit) = src
    pub const fn mov32_reg(dst: u8, src: u8) -> Insn {
        Insn::new(CLASS_ALU | OP_MOV | SRC_X, dst, src, 0, 0)
    }

    /// dst = imm (64 bit)
    pub const fn mov64_imm(dst: u8, imm: i32) -> Insn {
        Insn::new(CLASS_ALU64 | OP_MOV | SRC_K, dst, 0, 0, imm)
    }

    /// if dst != imm: skip `off` instructions
    pub const fn jne_imm(dst: u8, imm: i32, off: i16) -> Insn {
        Insn::new(CLASS_JMP | OP_JNE | SRC_K, dst, 0, off, imm)
    }

    /// if dst != src: skip `off` instructions
    pub const fn jne_reg(dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(CLASS_JMP | OP_JNE | SRC_X, dst, src, off, 0)
    }

    pub const fn exit() -> Insn {
        Insn::new(CLASS_JMP | OP_EXIT, 0, 0, 0, 0)
    }

    /// The 8 bytes the kernel reads.
    pub fn encode(&self) -> [u8; 8] {
        let regs = if cfg!(target_endian = "little") {
            (self.src << 4) | (self.dst & 0x0f)
        } else {
            (self.dst << 4) | (self.src & 0x0f)
        };
        let mut b = [0u8; 8];
        b[0] = self.code;
        b[1] = regs;
        b[2..4].copy_from_slice(&self.off.to_ne_bytes());
        b[4..8].copy_from_slice(&self.imm.to_ne_bytes());
        b
    }

    pub fn decode(b: [u8; 8]) -> Insn {
        let (dst, src) = if cfg!(target_endian = "little") {
            (b[1] & 0x0f, b[1] >> 4)
        } else {
            (b[1] >> 4, b[1] & 0x0f)
        };
        Insn {
            code: b[0],
            dst,
            src,
            off: i16::from_ne_bytes([b[2], b[3]]),
            imm: i32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

/// The program for `list`.
pub fn compile(list: &RuleList) -> Vec<Insn> {
    let mut prog = vec![
        Insn::load_u32(R_TYPE, R1, CTX_ACCESS_TYPE),
        Insn::and32(R_TYPE, 0xffff),
        Insn::load_u32(R_ACCESS, R1, CTX_ACCESS_TYPE),
        Insn::rsh32(R_ACCESS, 16),
        Insn::load_u32(R_MAJOR, R1, CTX_MAJOR),
        Insn::load_u32(R_MINOR, R1, CTX_MINOR),
    ];
    for rule in list.effective() {
        // The jumps' offsets are filled in once the rule's length is known.
        let mut tests: Vec<Insn> = Vec::new();
        if rule.access != ACC_ALL {
            // Match only when the requested access is within the rule's:
            // (access & mask) == access.
            tests.push(Insn::mov32_reg(R1, R_ACCESS));
            tests.push(Insn::and32(R1, rule.access as i32));
            tests.push(Insn::jne_reg(R1, R_ACCESS, 0));
        }
        if let Some(t) = rule.kind.kernel_type() {
            tests.push(Insn::jne_imm(R_TYPE, t as i32, 0));
        }
        if let Some(major) = rule.major {
            tests.push(Insn::jne_imm(R_MAJOR, major as i32, 0));
        }
        if let Some(minor) = rule.minor {
            tests.push(Insn::jne_imm(R_MINOR, minor as i32, 0));
        }
        // A failed test jumps over the rest of the rule: the tests after
        // it and the two verdict instructions.
        let len = tests.len();
        for (i, insn) in tests.iter_mut().enumerate() {
            if insn.code & 0x07 == CLASS_JMP {
                insn.off = (len - i - 1 + 2) as i16;
            }
        }
        prog.extend(tests);
        prog.push(Insn::mov64_imm(R0, i32::from(rule.allow)));
        prog.push(Insn::exit());
    }
    prog.push(Insn::mov64_imm(R0, i32::from(list.default_allow)));
    prog.push(Insn::exit());
    prog
}

/// The program as the bytes of a `struct bpf_insn` array.
pub fn encode(prog: &[Insn]) -> Vec<u8> {
    prog.iter().flat_map(|i| i.encode()).collect()
}

#[cfg(test)]
mod tests {
    use super::super::device_rules::{parse, ACC_MKNOD, ACC_READ, ACC_WRITE, DEV_BLOCK, DEV_CHAR};
    use super::*;

    fn list(rules: &[(&str, &str)]) -> RuleList {
        let mut l = RuleList::for_config();
        for (f, v) in rules {
            l.add(parse(f, v, false).unwrap());
        }
        l
    }

    /// Runs `prog` on a context as the kernel would, for the instructions
    /// `compile` emits (anything else fails the test): 1 allow, 0 deny.
    fn run(prog: &[Insn], dev_type: u32, access: u32, major: u32, minor: u32) -> u64 {
        let ctx = [(access << 16) | dev_type, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        for _ in 0..10_000 {
            let i = prog[pc];
            pc += 1;
            match i.code {
                0x61 => {
                    assert_eq!(i.src, R1, "loads only from the context");
                    r[i.dst as usize] = u64::from(ctx[(i.off / 4) as usize]);
                }
                0x54 => r[i.dst as usize] = (r[i.dst as usize] as u32 & i.imm as u32) as u64,
                0x74 => r[i.dst as usize] = ((r[i.dst as usize] as u32) >> i.imm) as u64,
                0xbc => r[i.dst as usize] = r[i.src as usize] as u32 as u64,
                0xb7 => r[i.dst as usize] = i.imm as i64 as u64,
                0x55 => {
                    if r[i.dst as usize] != i.imm as i64 as u64 {
                        pc += i.off as usize;
                    }
                }
                0x5d => {
                    if r[i.dst as usize] != r[i.src as usize] {
                        pc += i.off as usize;
                    }
                }
                0x95 => return r[0],
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
        panic!("no exit");
    }

    #[test]
    fn opcodes_and_encoding() {
        // The opcodes the kernel documents for these instructions.
        assert_eq!(Insn::load_u32(2, 1, 0).code, 0x61);
        assert_eq!(Insn::and32(2, 0xffff).code, 0x54);
        assert_eq!(Insn::rsh32(3, 16).code, 0x74);
        assert_eq!(Insn::mov32_reg(1, 3).code, 0xbc);
        assert_eq!(Insn::mov64_imm(0, 1).code, 0xb7);
        assert_eq!(Insn::jne_imm(4, 1, 2).code, 0x55);
        assert_eq!(Insn::jne_reg(1, 3, 2).code, 0x5d);
        assert_eq!(Insn::exit().code, 0x95);
        let i = Insn::jne_reg(1, 3, -2);
        let b = i.encode();
        if cfg!(target_endian = "little") {
            assert_eq!(b, [0x5d, 0x31, 0xfe, 0xff, 0, 0, 0, 0]);
        }
        assert_eq!(Insn::decode(b), i);
        let l = Insn::load_u32(5, 1, 8).encode();
        if cfg!(target_endian = "little") {
            assert_eq!(l, [0x61, 0x15, 8, 0, 0, 0, 0, 0]);
        }
        let prog = compile(&list(&[("devices.deny", "a")]));
        let bytes = encode(&prog);
        assert_eq!(bytes.len(), prog.len() * 8);
        let back: Vec<Insn> = bytes
            .chunks(8)
            .map(|c| Insn::decode(c.try_into().unwrap()))
            .collect();
        assert_eq!(back, prog);
    }

    #[test]
    fn program_shape() {
        let prog = compile(&list(&[
            ("devices.deny", "a"),
            ("devices.allow", "c 1:3 rwm"),
            ("devices.allow", "b *:* m"),
            ("devices.allow", "c 136:* rw"),
        ]));
        let expected = vec![
            // prologue
            Insn::load_u32(2, 1, 0),
            Insn::and32(2, 0xffff),
            Insn::load_u32(3, 1, 0),
            Insn::rsh32(3, 16),
            Insn::load_u32(4, 1, 4),
            Insn::load_u32(5, 1, 8),
            // c 1:3 rwm: every access, so no access test
            Insn::jne_imm(2, DEV_CHAR as i32, 4),
            Insn::jne_imm(4, 1, 3),
            Insn::jne_imm(5, 3, 2),
            Insn::mov64_imm(0, 1),
            Insn::exit(),
            // b *:* m
            Insn::mov32_reg(1, 3),
            Insn::and32(1, ACC_MKNOD as i32),
            Insn::jne_reg(1, 3, 3),
            Insn::jne_imm(2, DEV_BLOCK as i32, 2),
            Insn::mov64_imm(0, 1),
            Insn::exit(),
            // c 136:* rw
            Insn::mov32_reg(1, 3),
            Insn::and32(1, (ACC_READ | ACC_WRITE) as i32),
            Insn::jne_reg(1, 3, 4),
            Insn::jne_imm(2, DEV_CHAR as i32, 3),
            Insn::jne_imm(4, 136, 2),
            Insn::mov64_imm(0, 1),
            Insn::exit(),
            // default: deny
            Insn::mov64_imm(0, 0),
            Insn::exit(),
        ];
        assert_eq!(prog, expected);
    }

    #[test]
    fn default_only() {
        let deny_all = compile(&list(&[("devices.deny", "a")]));
        assert_eq!(deny_all.len(), 8);
        assert_eq!(deny_all[6], Insn::mov64_imm(0, 0));
        assert_eq!(run(&deny_all, DEV_CHAR, ACC_READ, 1, 3), 0);
        let allow_all = compile(&list(&[("devices.allow", "a")]));
        assert_eq!(allow_all[6], Insn::mov64_imm(0, 1));
        assert_eq!(run(&allow_all, DEV_BLOCK, ACC_ALL, 8, 0), 1);
        // A list without "a" is an allow-list, as LXC builds it.
        let only_deny = compile(&list(&[("devices.deny", "c 1:5 rwm")]));
        assert_eq!(only_deny.len(), 8);
        assert_eq!(run(&only_deny, DEV_CHAR, ACC_READ, 1, 3), 0);
    }

    #[test]
    fn behaviour() {
        // LXC's common.conf device list.
        let l = list(&[
            ("devices.deny", "a"),
            ("devices.allow", "c *:* m"),
            ("devices.allow", "b *:* m"),
            ("devices.allow", "c 1:3 rwm"),
            ("devices.allow", "c 1:5 rwm"),
            ("devices.allow", "c 5:0 rwm"),
            ("devices.allow", "c 136:* rwm"),
            ("devices.allow", "c 10:229 r"),
        ]);
        let p = compile(&l);
        let rw = ACC_READ | ACC_WRITE;
        assert_eq!(run(&p, DEV_CHAR, rw, 1, 3), 1); // /dev/null
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 1, 5), 1); // /dev/zero
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 1, 1), 0); // /dev/mem
        assert_eq!(run(&p, DEV_CHAR, ACC_MKNOD, 1, 1), 1); // mknod of any char
        assert_eq!(run(&p, DEV_BLOCK, ACC_MKNOD, 8, 0), 1);
        assert_eq!(run(&p, DEV_BLOCK, ACC_READ, 8, 0), 0); // /dev/sda
        assert_eq!(run(&p, DEV_CHAR, rw, 136, 7), 1); // a pty
        assert_eq!(run(&p, DEV_BLOCK, rw, 136, 7), 0); // block 136 is not
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 10, 229), 1);
        assert_eq!(run(&p, DEV_CHAR, rw, 10, 229), 0); // only r allowed
        assert_eq!(run(&p, DEV_CHAR, ACC_READ, 10, 228), 0);

        // A deny-list: deny one device, everything else allowed.
        let d = compile(&list(&[
            ("devices.allow", "a"),
            ("devices.deny", "c 1:5 w"),
            ("devices.allow", "c 1:3 rwm"), // the default: not emitted
        ]));
        assert_eq!(d.len(), 6 + 3 + 3 + 2 + 2);
        assert_eq!(run(&d, DEV_CHAR, ACC_WRITE, 1, 5), 0);
        assert_eq!(run(&d, DEV_CHAR, rw, 1, 5), 1); // rw is not within "w"
        assert_eq!(run(&d, DEV_CHAR, ACC_READ, 1, 5), 1);
        assert_eq!(run(&d, DEV_BLOCK, ACC_WRITE, 1, 5), 1);

        // "a *:* r" matches any type.
        let a = compile(&list(&[("devices.allow", "a *:* r")]));
        assert_eq!(run(&a, DEV_BLOCK, ACC_READ, 8, 1), 1);
        assert_eq!(run(&a, DEV_CHAR, ACC_READ, 4, 1), 1);
        assert_eq!(run(&a, DEV_CHAR, ACC_WRITE, 4, 1), 0);
    }
}
