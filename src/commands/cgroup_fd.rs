//! The payloads of the cgroup descriptor commands (GET_CGROUP_CTX,
//! GET_CGROUP_FD, GET_LIMIT_CGROUP_FD), laid out as LXC's `struct
//! cgroup_ctx` and `struct cgroup_fd`. Both travel in each direction: the
//! client sends the struct (the controller it wants), the server sends it
//! back filled in, the descriptors riding as SCM_RIGHTS on the header.

/// `struct cgroup_fd {s32 layout; u32 utilities; s32 type; s32 fd;
/// char controller[64];}` (aligned 8).
pub const CGROUP_FD_LEN: usize = 80;
/// `struct cgroup_ctx {s32 layout; u32 utilities; u32 fd_len; s32
/// fd[20];}` plus 4 bytes of padding to the 8-byte alignment.
pub const CGROUP_CTX_LEN: usize = 96;
/// LXC's CGROUP_CTX_MAX_FD: at most this many hierarchies in one answer.
pub const CTX_MAX_FD: usize = 20;
/// A controller name with its NUL (the kernel's limit).
pub const CONTROLLER_LEN: usize = 64;

/// `type`: the statfs magic of the hierarchy (0 in a request: any).
pub const CGROUP_SUPER_MAGIC: i32 = 0x0027_e0eb;
pub const CGROUP2_SUPER_MAGIC: i32 = 0x6367_7270;

/// `utilities` bits: what the unified hierarchy stands in for on a pure
/// cgroup2 host (a BPF device program, the cgroup.freeze file).
pub const UTIL_DEVICES: u32 = 1 << 0;
pub const UTIL_FREEZER: u32 = 1 << 1;

/// LXC's `cgroup_layout_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Layout {
    Unknown = -1,
    /// v1 hierarchies only.
    Legacy = 0,
    /// v1 hierarchies and a (possibly empty) cgroup2 one.
    Hybrid = 1,
    /// cgroup2 only.
    Unified = 2,
}

impl Layout {
    /// The layout of a set of hierarchies, given whether each is cgroup2.
    pub fn of(unified: impl IntoIterator<Item = bool>) -> Layout {
        let (mut v1, mut v2) = (false, false);
        for u in unified {
            if u {
                v2 = true;
            } else {
                v1 = true;
            }
        }
        match (v1, v2) {
            (true, true) => Layout::Hybrid,
            (true, false) => Layout::Legacy,
            (false, true) => Layout::Unified,
            (false, false) => Layout::Unknown,
        }
    }
}

fn i32_at(b: &[u8], off: usize) -> i32 {
    i32::from_ne_bytes(b[off..off + 4].try_into().unwrap_or_default())
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(b[off..off + 4].try_into().unwrap_or_default())
}

/// The struct a request carries, as LXC's `copy_struct_from_client` reads
/// it: a shorter payload is zero-extended; a longer one is ignored whole
/// (the struct stays zeroed, which the handlers then reject).
fn from_client<const N: usize>(data: &[u8]) -> [u8; N] {
    let mut b = [0u8; N];
    if data.len() <= N {
        b[..data.len()].copy_from_slice(data);
    }
    b
}

/// `struct cgroup_fd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupFd {
    pub layout: i32,
    pub utilities: u32,
    /// Request: the hierarchy type required (0: any). Answer: its type.
    pub kind: i32,
    /// In the answer, the sender's descriptor number (informational: the
    /// receiver takes the one that arrived as SCM_RIGHTS).
    pub fd: i32,
    pub controller: [u8; CONTROLLER_LEN],
}

impl CgroupFd {
    pub fn decode(data: &[u8]) -> CgroupFd {
        let b: [u8; CGROUP_FD_LEN] = from_client(data);
        let mut controller = [0u8; CONTROLLER_LEN];
        controller.copy_from_slice(&b[16..80]);
        CgroupFd {
            layout: i32_at(&b, 0),
            utilities: u32_at(&b, 4),
            kind: i32_at(&b, 8),
            fd: i32_at(&b, 12),
            controller,
        }
    }

    pub fn encode(&self) -> [u8; CGROUP_FD_LEN] {
        let mut b = [0u8; CGROUP_FD_LEN];
        b[0..4].copy_from_slice(&self.layout.to_ne_bytes());
        b[4..8].copy_from_slice(&self.utilities.to_ne_bytes());
        b[8..12].copy_from_slice(&self.kind.to_ne_bytes());
        b[12..16].copy_from_slice(&self.fd.to_ne_bytes());
        b[16..80].copy_from_slice(&self.controller);
        b
    }

    /// The requested controller: the bytes up to the first NUL (all 64
    /// when unterminated).
    pub fn controller(&self) -> &[u8] {
        let end = self
            .controller
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(CONTROLLER_LEN);
        &self.controller[..end]
    }
}

/// `struct cgroup_ctx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CgroupCtx {
    pub layout: i32,
    pub utilities: u32,
    pub fd_len: u32,
    /// The sender's descriptor numbers, `fd_len` of them (informational,
    /// as `CgroupFd::fd`).
    pub fds: [i32; CTX_MAX_FD],
}

impl CgroupCtx {
    pub fn decode(data: &[u8]) -> CgroupCtx {
        let b: [u8; CGROUP_CTX_LEN] = from_client(data);
        let mut fds = [0i32; CTX_MAX_FD];
        for (i, fd) in fds.iter_mut().enumerate() {
            *fd = i32_at(&b, 12 + 4 * i);
        }
        CgroupCtx {
            layout: i32_at(&b, 0),
            utilities: u32_at(&b, 4),
            fd_len: u32_at(&b, 8),
            fds,
        }
    }

    pub fn encode(&self) -> [u8; CGROUP_CTX_LEN] {
        let mut b = [0u8; CGROUP_CTX_LEN];
        b[0..4].copy_from_slice(&self.layout.to_ne_bytes());
        b[4..8].copy_from_slice(&self.utilities.to_ne_bytes());
        b[8..12].copy_from_slice(&self.fd_len.to_ne_bytes());
        for (i, fd) in self.fds.iter().enumerate() {
            b[12 + 4 * i..16 + 4 * i].copy_from_slice(&fd.to_ne_bytes());
        }
        b
    }
}

/// How much of an answer struct goes back: no more than the client sent
/// (LXC's `min(sizeof(struct), req->datalen)`).
pub fn reply_len(struct_len: usize, request_len: usize) -> usize {
    struct_len.min(request_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The C layouts, with their offsets, as the compiler lays them out.
    #[repr(C, align(8))]
    struct CCgroupFd {
        layout: i32,
        utilities: u32,
        kind: i32,
        fd: i32,
        controller: [u8; CONTROLLER_LEN],
    }

    #[repr(C, align(8))]
    struct CCgroupCtx {
        layout: i32,
        utilities: u32,
        fd_len: u32,
        fd: [i32; CTX_MAX_FD],
    }

    #[test]
    fn sizes_and_offsets_match_c() {
        use std::mem::{offset_of, size_of};
        assert_eq!(size_of::<CCgroupFd>(), CGROUP_FD_LEN);
        assert_eq!(offset_of!(CCgroupFd, layout), 0);
        assert_eq!(offset_of!(CCgroupFd, utilities), 4);
        assert_eq!(offset_of!(CCgroupFd, kind), 8);
        assert_eq!(offset_of!(CCgroupFd, fd), 12);
        assert_eq!(offset_of!(CCgroupFd, controller), 16);
        assert_eq!(size_of::<CCgroupCtx>(), CGROUP_CTX_LEN);
        assert_eq!(offset_of!(CCgroupCtx, layout), 0);
        assert_eq!(offset_of!(CCgroupCtx, utilities), 4);
        assert_eq!(offset_of!(CCgroupCtx, fd_len), 8);
        assert_eq!(offset_of!(CCgroupCtx, fd), 12);
    }

    #[test]
    fn cgroup_fd_golden() {
        let mut controller = [0u8; CONTROLLER_LEN];
        controller[..6].copy_from_slice(b"memory");
        let m = CgroupFd {
            layout: Layout::Hybrid as i32,
            utilities: 0,
            kind: CGROUP_SUPER_MAGIC,
            fd: 38,
            controller,
        };
        let b = m.encode();
        assert_eq!(&b[0..4], &1i32.to_ne_bytes());
        assert_eq!(&b[8..12], &0x27e0ebi32.to_ne_bytes());
        assert_eq!(&b[12..16], &38i32.to_ne_bytes());
        assert_eq!(&b[16..22], b"memory");
        assert!(b[22..].iter().all(|&c| c == 0));
        assert_eq!(CgroupFd::decode(&b), m);
        assert_eq!(m.controller(), b"memory");
    }

    #[test]
    fn cgroup_fd_from_client() {
        // Shorter: zero-extended (the controller may be cut short).
        let mut short = vec![0u8; 24];
        short[16..20].copy_from_slice(b"pids");
        assert_eq!(CgroupFd::decode(&short).controller(), b"pids");
        // Longer than the struct: ignored whole, as LXC.
        let mut long = vec![0u8; CGROUP_FD_LEN + 1];
        long[16..20].copy_from_slice(b"pids");
        assert_eq!(CgroupFd::decode(&long).controller(), b"");
        // Unterminated: all 64 bytes.
        let mut full = [b'x'; CGROUP_FD_LEN];
        full[..16].fill(0);
        assert_eq!(CgroupFd::decode(&full).controller().len(), 64);
        assert_eq!(CgroupFd::decode(&[]).controller(), b"");
    }

    #[test]
    fn cgroup_ctx_golden() {
        let mut fds = [0i32; CTX_MAX_FD];
        fds[..3].copy_from_slice(&[7, 8, 9]);
        let c = CgroupCtx {
            layout: Layout::Unified as i32,
            utilities: UTIL_DEVICES | UTIL_FREEZER,
            fd_len: 3,
            fds,
        };
        let b = c.encode();
        assert_eq!(&b[0..4], &2i32.to_ne_bytes());
        assert_eq!(&b[4..8], &3u32.to_ne_bytes());
        assert_eq!(&b[8..12], &3u32.to_ne_bytes());
        assert_eq!(&b[12..16], &7i32.to_ne_bytes());
        assert_eq!(&b[20..24], &9i32.to_ne_bytes());
        assert!(b[24..].iter().all(|&c| c == 0));
        assert_eq!(CgroupCtx::decode(&b), c);
        assert_eq!(CgroupCtx::decode(&[1u8; 97]), CgroupCtx::default());
    }

    #[test]
    fn layouts() {
        assert_eq!(Layout::of([false, true]), Layout::Hybrid);
        assert_eq!(Layout::of([false, false]), Layout::Legacy);
        assert_eq!(Layout::of([true]), Layout::Unified);
        assert_eq!(Layout::of([]), Layout::Unknown);
        assert_eq!(reply_len(CGROUP_CTX_LEN, 12), 12);
        assert_eq!(reply_len(CGROUP_CTX_LEN, 100), 96);
    }
}
