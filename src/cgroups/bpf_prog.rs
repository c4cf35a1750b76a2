//! The bpf(2) calls behind cgroup2 device rules: load a device program,
//! attach it to the container's cgroup, replace it, list what is attached.
//!
//! A program attached with BPF_PROG_ATTACH belongs to the cgroup: it stays
//! attached when our descriptors close and goes when the cgroup is
//! removed, so the monitor never detaches it at stop (a cgroup that cannot
//! be removed keeps its processes confined). BPF_F_ALLOW_MULTI, as LXC
//! uses it, lets a nested container (or systemd) attach its own programs
//! below; the kernel then requires every program on the path to allow.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::devices_bpf::{self, Insn};
use crate::error::{Error, Result};

// linux/bpf.h
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;
const BPF_F_REPLACE: u32 = 4;

/// A zeroed `union bpf_attr`, larger than the kernel's (which accepts a
/// longer one whose tail is zero, and writes query results back into it),
/// filled field by field at the offsets linux/bpf.h gives.
#[repr(C, align(8))]
struct Attr([u8; 256]);

impl Attr {
    fn new() -> Attr {
        Attr([0; 256])
    }

    fn u32_at(&mut self, off: usize, v: u32) -> &mut Attr {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }

    fn u64_at(&mut self, off: usize, v: u64) -> &mut Attr {
        self.0[off..off + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }

    fn get_u32(&self, off: usize) -> u32 {
        u32::from_ne_bytes([
            self.0[off],
            self.0[off + 1],
            self.0[off + 2],
            self.0[off + 3],
        ])
    }

    fn call(&mut self, cmd: libc::c_long) -> std::result::Result<libc::c_long, std::io::Error> {
        // SAFETY: bpf(2) with a zero-initialised attr buffer of the size we
        // pass; pointers inside it point at buffers alive for the call.
        let r = unsafe { crate::sys::raw::bpf(cmd, &mut self.0) };
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }
}

fn load_attr(insns: &[u8], license: &std::ffi::CStr, log: Option<&mut [u8]>) -> Attr {
    let mut a = Attr::new();
    a.u32_at(0, BPF_PROG_TYPE_CGROUP_DEVICE)
        .u32_at(4, (insns.len() / 8) as u32)
        .u64_at(8, insns.as_ptr() as u64)
        .u64_at(16, license.as_ptr() as u64);
    if let Some(buf) = log {
        a.u32_at(24, 1)
            .u32_at(28, buf.len() as u32)
            .u64_at(32, buf.as_mut_ptr() as u64);
    }
    // prog_name, shown by bpftool.
    let name = b"lxc_devices";
    a.0[48..48 + name.len()].copy_from_slice(name);
    a
}

/// Loads `prog`; the error says why the kernel refused, with the
/// verifier's log when it has one.
fn load(prog: &[Insn]) -> Result<OwnedFd> {
    let bytes = devices_bpf::encode(prog);
    let license = c"GPL";
    let first = load_attr(&bytes, license, None).call(BPF_PROG_LOAD);
    let err = match first {
        // SAFETY: the kernel returned a fresh descriptor.
        Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) }),
        Err(e) => e,
    };
    let errno = err.raw_os_error().unwrap_or(libc::EIO);
    let message = match errno {
        libc::ENOSYS => "The kernel has no bpf(2) (CONFIG_BPF_SYSCALL is off): \
                         cgroup2 device rules cannot be enforced"
            .to_string(),
        libc::EPERM => "Loading a BPF device cgroup program needs CAP_SYS_ADMIN (CAP_BPF): \
                        cgroup2 device rules cannot be enforced"
            .to_string(),
        _ => {
            // Again with the verifier's log, to say what it disliked.
            let mut log = vec![0u8; 64 * 1024];
            let _ = load_attr(&bytes, license, Some(&mut log)).call(BPF_PROG_LOAD);
            let end = log.iter().position(|&b| b == 0).unwrap_or(0);
            let text = String::from_utf8_lossy(&log[..end]).trim().to_string();
            if text.is_empty() && errno == libc::EINVAL {
                "The kernel does not load BPF device cgroup programs \
                 (CONFIG_CGROUP_BPF off?): cgroup2 device rules cannot be enforced"
                    .to_string()
            } else {
                format!("The kernel refused the BPF device cgroup program: {err}: {text}")
            }
        }
    };
    Err(Error::new(errno, message))
}

fn open_cgroup(dir: &Path) -> Result<OwnedFd> {
    std::fs::File::open(dir)
        .map(OwnedFd::from)
        .map_err(|e| Error::io("Failed to open cgroup", dir, &e))
}

fn attach_raw(cgroup: &OwnedFd, prog: &OwnedFd, replace: Option<&OwnedFd>) -> std::io::Result<()> {
    let mut a = Attr::new();
    a.u32_at(0, cgroup.as_raw_fd() as u32)
        .u32_at(4, prog.as_raw_fd() as u32)
        .u32_at(8, BPF_CGROUP_DEVICE)
        .u32_at(12, BPF_F_ALLOW_MULTI);
    if let Some(old) = replace {
        a.u32_at(12, BPF_F_ALLOW_MULTI | BPF_F_REPLACE)
            .u32_at(16, old.as_raw_fd() as u32);
    }
    a.call(BPF_PROG_ATTACH).map(drop)
}

fn detach_raw(cgroup: &OwnedFd, prog: &OwnedFd) -> std::io::Result<()> {
    let mut a = Attr::new();
    a.u32_at(0, cgroup.as_raw_fd() as u32)
        .u32_at(4, prog.as_raw_fd() as u32)
        .u32_at(8, BPF_CGROUP_DEVICE);
    a.call(BPF_PROG_DETACH).map(drop)
}

/// The ids of the device programs attached to the cgroup `dir` itself.
pub fn attached_ids(dir: &Path) -> Result<Vec<u32>> {
    let cgroup = open_cgroup(dir)?;
    let mut ids = vec![0u32; 64];
    let mut a = Attr::new();
    a.u32_at(0, cgroup.as_raw_fd() as u32)
        .u32_at(4, BPF_CGROUP_DEVICE)
        .u64_at(16, ids.as_mut_ptr() as u64)
        .u32_at(24, ids.len() as u32);
    a.call(BPF_PROG_QUERY)
        .map_err(|e| Error::io("Failed to query the BPF programs of", dir, &e))?;
    ids.truncate(a.get_u32(24) as usize);
    Ok(ids)
}

/// Whether the kernel loads cgroup device programs (LXC's
/// `bpf_devices_cgroup_supported`): tried once per process with an
/// allow-everything program, which is dropped again.
pub fn devices_supported() -> bool {
    static SUPPORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        let list = super::device_rules::RuleList::allow_all();
        load(&devices_bpf::compile(&list)).is_ok()
    })
}

/// A loaded device program, attached to one cgroup or not yet.
#[derive(Debug)]
pub struct DeviceProgram {
    prog: OwnedFd,
    cgroup: Option<(OwnedFd, PathBuf)>,
}

impl DeviceProgram {
    pub fn load(prog: &[Insn]) -> Result<DeviceProgram> {
        Ok(DeviceProgram {
            prog: load(prog)?,
            cgroup: None,
        })
    }

    pub fn is_attached(&self) -> bool {
        self.cgroup.is_some()
    }

    /// Attaches to the cgroup `dir` (once).
    pub fn attach(&mut self, dir: &Path) -> Result<()> {
        if self.cgroup.is_some() {
            return Err(Error::new(
                libc::EBUSY,
                "The device program is already attached",
            ));
        }
        let cgroup = open_cgroup(dir)?;
        attach_raw(&cgroup, &self.prog, None)
            .map_err(|e| Error::io("Failed to attach the BPF device program to", dir, &e))?;
        self.cgroup = Some((cgroup, dir.to_path_buf()));
        Ok(())
    }

    /// Puts `next` in this program's place, on the same cgroup when this
    /// one is attached; on failure nothing changed.
    pub fn replace(&mut self, mut next: DeviceProgram) -> Result<()> {
        let Some((cgroup, dir)) = self.cgroup.take() else {
            *self = next;
            return Ok(());
        };
        // One atomic swap (BPF_F_REPLACE, Linux 5.6); older kernels get
        // the new program first, then lose the old one, so no moment
        // allows more than either list.
        let swapped = match attach_raw(&cgroup, &next.prog, Some(&self.prog)) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                attach_raw(&cgroup, &next.prog, None).and_then(|()| {
                    detach_raw(&cgroup, &self.prog).inspect_err(|_| {
                        let _ = detach_raw(&cgroup, &next.prog);
                    })
                })
            }
            Err(e) => Err(e),
        };
        if let Err(e) = swapped {
            let err = Error::io("Failed to replace the BPF device program of", &dir, &e);
            self.cgroup = Some((cgroup, dir));
            return Err(err);
        }
        next.cgroup = Some((cgroup, dir));
        *self = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_layout() {
        let insns = [0u8; 16];
        let a = load_attr(&insns, c"GPL", None);
        assert_eq!(a.get_u32(0), BPF_PROG_TYPE_CGROUP_DEVICE);
        assert_eq!(a.get_u32(4), 2);
        assert_eq!(&a.0[48..59], b"lxc_devices");
        assert_eq!(a.get_u32(24), 0, "no log unless asked");
        assert!(a.0[64..].iter().all(|&b| b == 0));
    }

    /// The kernel's verifier accepts what `compile` emits (root only: the
    /// load needs CAP_SYS_ADMIN).
    #[test]
    fn verifier_accepts() {
        use super::super::device_rules::{parse, RuleList};
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("verifier_accepts: skipped (not root)");
            return;
        }
        let mut lists = vec![RuleList::for_config(), RuleList::allow_all()];
        let mut l = RuleList::for_config();
        for v in [
            "c *:* m",
            "b *:* m",
            "c 1:3 rwm",
            "c 136:* rw",
            "a *:* r",
            "b 8:0 w",
        ] {
            l.add(parse("devices.allow", v, false).unwrap());
        }
        lists.push(l);
        let mut d = RuleList::allow_all();
        d.add(parse("devices.deny", "c 1:5 rwm", false).unwrap());
        lists.push(d);
        for list in &lists {
            let prog = devices_bpf::compile(list);
            if let Err(e) = DeviceProgram::load(&prog) {
                panic!("{list:?}: {}", e.message);
            }
        }
        // A program the verifier must refuse (r0 never set) reports why.
        let bad = [Insn::exit()];
        let e = load(&bad).unwrap_err();
        assert!(e.message.contains("R0"), "{}", e.message);
    }
}
