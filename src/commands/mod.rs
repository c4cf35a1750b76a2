//! LXC's command socket: the wire format shared by the monitor (server) and
//! every client, compatible with LXC 5.0 and 6.0 so that Debian's tools and
//! this library can drive each other's containers.
//!
//! A request is `struct lxc_cmd_req {int cmd; int datalen; const void *data;}`
//! sent raw (16 bytes on x86_64) with SCM_CREDENTIALS, followed by `datalen`
//! payload bytes; when `datalen` is 0 the pointer field carries an inline
//! integer. A response is `struct lxc_cmd_rsp {int ret; int datalen; void
//! *data;}` laid out the same way, optionally with descriptors as SCM_RIGHTS
//! (one, or one per cgroup hierarchy for GET_CGROUP_CTX).

pub mod cgroup_fd;
pub mod client;
pub mod server;

use crate::states::STATES;

/// Command numbers (LXC's `lxc_cmd_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Cmd {
    GetTtyFd = 0,
    TerminalWinch = 1,
    Stop = 2,
    GetState = 3,
    GetInitPid = 4,
    GetCloneFlags = 5,
    GetCgroup = 6,
    GetConfigItem = 7,
    GetName = 8,
    GetLxcpath = 9,
    AddStateClient = 10,
    ConsoleLog = 11,
    ServeStateClients = 12,
    SeccompNotifyAddListener = 13,
    AddBpfDeviceCgroup = 14,
    Freeze = 15,
    Unfreeze = 16,
    GetCgroup2Fd = 17,
    GetInitPidfd = 18,
    GetLimitCgroup = 19,
    GetLimitCgroup2Fd = 20,
    GetDevptsFd = 21,
    GetSeccompNotifyFd = 22,
    GetCgroupCtx = 23,
    GetCgroupFd = 24,
    GetLimitCgroupFd = 25,
    GetSystemdScope = 26,
}

/// One past the last command LXC 6.0 knows.
pub const CMD_MAX: i32 = 27;

/// What our monitor answers to FREEZE and UNFREEZE once done (in the
/// pointer field, where LXC's leaves 0): it also served the states, which
/// LXC's monitor leaves to its clients.
pub const FREEZE_STATES_SERVED: i32 = 1;

/// Largest payload accepted in either direction (LXC's 2 * PATH_MAX).
pub const DATA_MAX: usize = 8192;

/// Number of container states; ADD_STATE_CLIENT carries `int states[8]`.
pub const MAX_STATE: usize = STATES.len();

/// Size of `struct lxc_msg` pushed to state clients: type, name[256], value.
pub const STATE_MSG_LEN: usize = 4 + 256 + 4;

/// Request/response header size (`int`, `int`, pointer).
pub const HEADER_LEN: usize = 16;

/// A decoded request or response header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// `cmd` in a request, `ret` (0 or -errno) in a response.
    pub first: i32,
    pub datalen: i32,
    /// The pointer field: an inline value when `datalen` is 0.
    pub inline: u64,
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&self.first.to_ne_bytes());
        b[4..8].copy_from_slice(&self.datalen.to_ne_bytes());
        b[8..16].copy_from_slice(&self.inline.to_ne_bytes());
        b
    }

    pub fn decode(b: &[u8; HEADER_LEN]) -> Header {
        Header {
            first: i32::from_ne_bytes(b[0..4].try_into().unwrap_or_default()),
            datalen: i32::from_ne_bytes(b[4..8].try_into().unwrap_or_default()),
            inline: u64::from_ne_bytes(b[8..16].try_into().unwrap_or_default()),
        }
    }

    /// The inline value as LXC's `PTR_TO_INT` reads it.
    pub fn inline_int(&self) -> i32 {
        self.inline as i32
    }
}

/// The inline value LXC's `INT_TO_PTR` stores for `v` (sign-extended).
pub fn int_to_ptr(v: i32) -> u64 {
    v as i64 as u64
}

/// FNV-1a 64 as LXC uses it to shorten socket names.
pub fn fnv1a_64(data: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The abstract socket name (without the leading NUL) of a container's
/// command socket: "<lxcpath>/<name>/command", or its hashed form when that
/// does not fit the 106 usable bytes of `sun_path`.
pub fn socket_name(lxcpath: &str, name: &str) -> String {
    let plain = format!("{lxcpath}/{name}/command");
    if plain.len() < 106 {
        return plain;
    }
    let hash = fnv1a_64(format!("{lxcpath}/{name}").as_bytes());
    format!("lxc/{hash:016x}/command")
}

/// The `struct lxc_msg` a state client receives.
pub fn encode_state_msg(name: &str, state: i32) -> [u8; STATE_MSG_LEN] {
    let mut b = [0u8; STATE_MSG_LEN];
    let bytes = name.as_bytes();
    let n = bytes.len().min(255);
    b[4..4 + n].copy_from_slice(&bytes[..n]);
    b[260..264].copy_from_slice(&state.to_ne_bytes());
    b
}

pub fn decode_state_msg(b: &[u8; STATE_MSG_LEN]) -> i32 {
    i32::from_ne_bytes(b[260..264].try_into().unwrap_or_default())
}

/// Index of a state name in LXC's order.
pub fn state_index(name: &str) -> Option<usize> {
    STATES.iter().position(|s| *s == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_lxc_vector() {
        assert_eq!(
            format!("{:016x}", fnv1a_64(b"/var/lib/lxc/c1")),
            "594cf6578e76045e"
        );
    }

    #[test]
    fn socket_names() {
        assert_eq!(socket_name("/var/lib/lxc", "c1"), "/var/lib/lxc/c1/command");
        let long = "/".to_string() + &"x".repeat(100);
        let name = socket_name(&long, "c1");
        assert!(name.starts_with("lxc/") && name.ends_with("/command") && name.len() == 4 + 16 + 8);
        // 105 chars still fits, 106 does not.
        let fits = "/".to_string() + &"a".repeat(105 - "/c/command".len() - 1);
        assert_eq!(socket_name(&fits, "c").len(), 105);
        let over = fits.clone() + "a";
        assert!(socket_name(&over, "c").starts_with("lxc/"));
    }

    #[test]
    fn header_roundtrip() {
        let h = Header {
            first: -libc::EPERM,
            datalen: 0,
            inline: int_to_ptr(-1),
        };
        let back = Header::decode(&h.encode());
        assert_eq!(back, h);
        assert_eq!(back.inline_int(), -1);
    }

    #[test]
    fn state_msg_layout() {
        let m = encode_state_msg("c1", 2);
        assert_eq!(&m[4..6], b"c1");
        assert_eq!(decode_state_msg(&m), 2);
    }
}
