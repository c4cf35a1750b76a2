//! The `loop` backing store (LXC's `loop.c`): the rootfs is a filesystem
//! image, `<lxcpath>/<name>/rootdev`, `lxc.rootfs.path = loop:<image>`.
//! It is attached to a free loop device (autoclear: the device goes with
//! its last mount) and mounted on `<dir>/rootfs` inside the mount
//! namespace that needs it: the template's, the container's, a copy's.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::Storage;
use crate::error::{Error, Result, ResultExt};
use crate::sys::cpath;

/// LXC's DEFAULT_FS_SIZE and DEFAULT_FSTYPE.
pub const DEFAULT_FS_SIZE: u64 = 1 << 30;
pub const DEFAULT_FSTYPE: &str = "ext4";

const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LO_FLAGS_AUTOCLEAR: u32 = 4;

/// `struct loop_info64`.
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

/// `struct loop_config`.
#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopStorage {
    image: PathBuf,
    /// Where it is mounted: `<image's dir>/rootfs`.
    mount_point: PathBuf,
    /// For create: the filesystem to make and the image size.
    fstype: String,
    size: u64,
}

/// An attached loop device; detached when its last user (this descriptor
/// or a mount) goes.
#[derive(Debug)]
pub struct LoopDevice {
    pub path: PathBuf,
    _fd: OwnedFd,
}

/// Attaches `image` to a free loop device with autoclear. The image is
/// the container owner's choice: a regular file only (a FIFO would block).
pub fn attach(image: &Path) -> Result<LoopDevice> {
    let file =
        crate::sys::open_regular(image, libc::O_RDWR).context("Failed to open loop image")?;
    let ctl = Path::new("/dev/loop-control");
    for _ in 0..16 {
        let c = cpath(ctl)?;
        // SAFETY: a valid C string.
        let cfd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if cfd < 0 {
            let mut e = Error::last_io("Failed to open", ctl);
            if e.errno == libc::EACCES || e.errno == libc::EPERM {
                // Unprivileged callers (LXC fails the same way).
                e.message.push_str(": attaching a loop device needs root");
            }
            return Err(e);
        }
        // SAFETY: a fresh descriptor we own.
        let cfd = unsafe { OwnedFd::from_raw_fd(cfd) };
        // SAFETY: LOOP_CTL_GET_FREE takes no argument.
        let n = unsafe { libc::ioctl(cfd.as_raw_fd(), LOOP_CTL_GET_FREE as _) };
        if n < 0 {
            return Err(Error::last_io(
                "Failed to find a free loop device through",
                ctl,
            ));
        }
        let path = PathBuf::from(format!("/dev/loop{n}"));
        let cp = cpath(&path)?;
        // SAFETY: a valid C string.
        let dfd = unsafe { libc::open(cp.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if dfd < 0 {
            return Err(Error::last_io("Failed to open", &path));
        }
        // SAFETY: a fresh descriptor we own.
        let dfd = unsafe { OwnedFd::from_raw_fd(dfd) };
        // SAFETY: zeroed plain-data structs are valid.
        let mut cfg: LoopConfig = unsafe { std::mem::zeroed() };
        cfg.fd = file.as_raw_fd() as u32;
        cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
        // SAFETY: valid fd and pointer to a loop_config.
        if unsafe { libc::ioctl(dfd.as_raw_fd(), LOOP_CONFIGURE as _, &cfg) } == 0 {
            return Ok(LoopDevice { path, _fd: dfd });
        }
        if crate::sys::errno() != libc::EBUSY {
            return Err(Error::last_io("Failed to attach the image to", &path));
        }
        // Someone took it between GET_FREE and CONFIGURE: try another.
    }
    Err(Error::new(libc::EBUSY, "No free loop device"))
}

/// The filesystem type of an image from its superblock, if known.
pub fn detect_fstype(image: &Path) -> Option<&'static str> {
    use std::os::unix::fs::FileExt;
    let f = crate::sys::open_regular(image, libc::O_RDONLY).ok()?;
    let mut b = [0u8; 8];
    if f.read_exact_at(&mut b[..2], 1080).is_ok() && b[..2] == [0x53, 0xEF] {
        // ext2/3/4 share the magic; ext4 mounts all three.
        return Some("ext4");
    }
    if f.read_exact_at(&mut b[..4], 0).is_ok() && &b[..4] == b"XFSB" {
        return Some("xfs");
    }
    if f.read_exact_at(&mut b, 0x10040).is_ok() && &b == b"_BHRfS_M" {
        return Some("btrfs");
    }
    None
}

/// Filesystem types to try: the detected one, else every block filesystem
/// the kernel knows (LXC's `mount_unknown_fs`).
pub fn fstypes_for(image: &Path) -> Vec<String> {
    if let Some(t) = detect_fstype(image) {
        return vec![t.to_string()];
    }
    crate::sys::procfs::read("/proc/filesystems")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with("nodev"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

impl LoopStorage {
    /// From the path of an existing image (`loop:<image>`).
    pub fn new(image: PathBuf) -> Self {
        let mount_point = image.parent().unwrap_or(Path::new("/")).join("rootfs");
        LoopStorage {
            image,
            mount_point,
            fstype: DEFAULT_FSTYPE.to_string(),
            size: DEFAULT_FS_SIZE,
        }
    }

    /// A new image at `image` mounted on `mount_point`.
    pub fn for_create(
        image: PathBuf,
        mount_point: PathBuf,
        fstype: Option<&str>,
        size: u64,
    ) -> Self {
        LoopStorage {
            image,
            mount_point,
            fstype: fstype.unwrap_or(DEFAULT_FSTYPE).to_string(),
            size: if size == 0 { DEFAULT_FS_SIZE } else { size },
        }
    }

    pub fn image(&self) -> &Path {
        &self.image
    }

    /// Attaches the image and mounts it on `target` in the caller's mount
    /// namespace (the loop device goes away with the mount).
    pub fn mount(&self, target: &Path) -> Result<()> {
        let dev = attach(&self.image)?;
        let mut last = None;
        for t in fstypes_for(&self.image) {
            match crate::sys::mount(Some(&dev.path.to_string_lossy()), target, Some(&t), 0, None) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::invalid("No filesystem type to try")))
    }
}

/// A rootfs mount prepared in the parent for a forked child, which mounts
/// it with raw syscalls only (between fork and exec).
#[derive(Debug)]
pub struct ChildMount {
    pub source: CString,
    pub target: CString,
    pub fstypes: Vec<CString>,
    pub data: Option<CString>,
    /// MS_* flags (MS_BIND for a bind of `source`).
    pub flags: libc::c_ulong,
    /// Keeps an attached loop device alive until the child has mounted it.
    pub _guard: Option<LoopDevice>,
}

impl ChildMount {
    /// In the child: mount it (first working filesystem type). Returns
    /// false on failure with errno set.
    ///
    /// # Safety
    /// Only raw syscalls: safe between fork and exec.
    pub unsafe fn mount(&self) -> bool {
        for t in &self.fstypes {
            let data = self.data.as_ref().map_or(std::ptr::null(), |d| d.as_ptr());
            if libc::mount(
                self.source.as_ptr(),
                self.target.as_ptr(),
                t.as_ptr(),
                self.flags,
                data.cast(),
            ) == 0
            {
                return true;
            }
        }
        false
    }
}

impl Storage for LoopStorage {
    fn kind(&self) -> &'static str {
        "loop"
    }

    fn src(&self) -> String {
        format!("loop:{}", self.image.display())
    }

    /// The mount point (the filesystem shows there only once mounted).
    fn host_path(&self) -> &Path {
        &self.mount_point
    }

    /// A sparse image of the size, `mkfs.<fstype>` on it, the mount point.
    fn create(&self) -> Result<()> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&self.image)
            .map_err(|e| Error::io("Failed to create loop image", &self.image, &e))?;
        f.set_len(self.size + 1)
            .map_err(|e| Error::io("Failed to size loop image", &self.image, &e))?;
        drop(f);
        let mkfs = format!("mkfs.{}", self.fstype);
        let out = std::process::Command::new(&mkfs)
            .arg(&self.image)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| Error::os(format_args!("Failed to run {mkfs}"), &e));
        let failed = match out {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(Error::new(
                libc::EIO,
                format!(
                    "{mkfs} {} failed: {}",
                    self.image.display(),
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
            )),
            Err(e) => Some(e),
        };
        if let Some(e) = failed {
            let _ = std::fs::remove_file(&self.image);
            return Err(e);
        }
        match std::fs::create_dir(&self.mount_point) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(Error::io(
                "Failed to create directory",
                &self.mount_point,
                &e,
            )),
        }
    }

    fn rootfs_mount(&self) -> Option<super::RootfsMount> {
        Some(super::RootfsMount::Loop(self.clone()))
    }

    /// Removes the image (LXC's `loop_destroy`).
    fn destroy(&self) -> Result<()> {
        match std::fs::remove_file(&self.image) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("Failed to remove", &self.image, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_paths() {
        assert_eq!(std::mem::size_of::<LoopInfo64>(), 232);
        assert_eq!(std::mem::size_of::<LoopConfig>(), 304);
        let s = LoopStorage::new(PathBuf::from("/l/c1/rootdev"));
        assert_eq!(s.src(), "loop:/l/c1/rootdev");
        assert_eq!(s.host_path(), Path::new("/l/c1/rootfs"));
        let s = LoopStorage::for_create("/l/c/rootdev".into(), "/l/c/rootfs".into(), None, 0);
        assert_eq!((s.fstype.as_str(), s.size), ("ext4", 1 << 30));
        assert_eq!(detect_fstype(Path::new("/nonexistent")), None);
    }
}
