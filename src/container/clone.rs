//! `clone`: a new container from a stopped one (LXC 6.0's `do_lxcapi_clone`
//! and `storage_copy`).
//!
//! 1. The source must be defined and stopped (unless
//!    `LXC_CLONE_ALLOW_RUNNING`); `<lxcpath>/<newname>/config` must not exist.
//! 2. `<lxcpath>/<newname>` is made with a locked `partial` marker (a clone
//!    that dies half way is cleaned up by the next `lxc_container_new`, as
//!    an interrupted create).
//! 3. The storage: a `dir` rootfs is copied (`copy_tree`: ownership, modes,
//!    xattrs, hard links, devices, holes); with `LXC_CLONE_SNAPSHOT` a `dir`
//!    rootfs becomes the lower layer of an `overlay` rootfs whose upper
//!    layer is `<newdir>/overlay/delta`; an overlay source's delta is copied.
//! 4. The config: new `lxc.rootfs.path`, `lxc.uts.name` (unless KEEPNAME),
//!    hooks and fstab inside the old directory copied and repointed, new
//!    hardware addresses (unless KEEPMACADDR). `lxc_rdepends` is written
//!    and the sources' `lxc_snapshots` record the new dependent.
//! 5. `lxc.hook.clone` runs (LXC's environment, `hookargs` appended), then
//!    `/etc/hostname` of the rootfs gets the new name (unless KEEPNAME).
//!
//! Any failure removes what the clone made.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::clone_mapped::CloneIds;
use super::create::{make_container_dir, mkdir_exact, Partial, ROOTFS_DNAME};
use super::deps;
use super::rewrite::{new_hwaddrs, random_u32, rewrite_config_text, Rewrite};
use super::{config_file_of, write_atomically, Container};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::hooks::{HookMount, Hooks};
use crate::names;
use crate::rootfs::Opened;
use crate::storage::{self, OverlayStorage, Storage};

pub const CLONE_KEEPNAME: i32 = 1 << 0;
pub const CLONE_KEEPMACADDR: i32 = 1 << 1;
pub const CLONE_SNAPSHOT: i32 = 1 << 2;
pub const CLONE_KEEPBDEVTYPE: i32 = 1 << 3;
pub const CLONE_MAYBE_SNAPSHOT: i32 = 1 << 4;
pub const CLONE_ALLOW_RUNNING: i32 = 1 << 6;

/// Arguments of `clone(newname, lxcpath, flags, bdevtype, bdevdata, newsize, hookargs)`.
#[derive(Debug, Clone, Default)]
pub struct CloneOptions {
    /// None: the source's name (then `lxcpath` must differ).
    pub newname: Option<String>,
    /// None: the source's lxcpath.
    pub lxcpath: Option<String>,
    pub flags: i32,
    pub bdevtype: Option<String>,
    pub bdevdata: Option<String>,
    pub newsize: u64,
    pub hookargs: Vec<String>,
}

/// The storage a clone gets (LXC's choice in `storage_copy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoragePlan {
    pub kind: String,
    pub snapshot: bool,
    /// The clone depends on the source's rootfs (overlay).
    pub needs_rdep: bool,
}

fn can_snapshot(kind: &str) -> bool {
    matches!(
        kind,
        "overlay" | "overlayfs" | "btrfs" | "zfs" | "lvm" | "rbd"
    )
}

fn is_overlay(kind: &str) -> bool {
    kind == "overlay" || kind == "overlayfs"
}

/// LXC's decision: a snapshot of `dir` is an overlay; without a type a
/// copy into another lxcpath is a `dir`; KEEPBDEVTYPE + MAYBE_SNAPSHOT
/// copies what cannot be snapshotted.
pub fn plan_storage(
    orig: &str,
    flags: i32,
    bdevtype: Option<&str>,
    same_lxcpath: bool,
) -> StoragePlan {
    let mut snapshot = flags & CLONE_SNAPSHOT != 0;
    let maybe = flags & CLONE_MAYBE_SNAPSHOT != 0;
    let keep = flags & CLONE_KEEPBDEVTYPE != 0;
    if maybe && keep && bdevtype.is_none() && !can_snapshot(orig) {
        snapshot = false;
    }
    let bdevtype = match bdevtype {
        None if !keep && snapshot && orig == "dir" => Some("overlay"),
        other => other,
    };
    let kind = match bdevtype {
        Some(t) => t,
        None if !snapshot && !same_lxcpath => "dir",
        None => orig,
    };
    let kind = if is_overlay(kind) { "overlay" } else { kind };
    StoragePlan {
        kind: kind.to_string(),
        snapshot,
        needs_rdep: kind == "overlay",
    }
}

/// Whether one of the two containers is a snapshot (in `<lxcpath>/<name>/snaps`)
/// of the other: then an overlay clone records no dependency (LXC).
pub fn is_snapshot_pair(
    old_lxcpath: &str,
    oldname: &str,
    new_lxcpath: &str,
    newname: &str,
) -> bool {
    let clean = |p: &str| PathBuf::from(p).components().collect::<PathBuf>();
    let (o, n) = (clean(old_lxcpath), clean(new_lxcpath));
    o == n.join(newname).join("snaps") || n == o.join(oldname).join("snaps")
}

/// Copies a file the source's configuration names (its fstab, a hook
/// script, its lxc_rdepends) with its mode. The source's owner chose the
/// path: only a regular file is copied, never a FIFO (would block) or a
/// device (/dev/zero would fill the disk). The destination may be in the
/// owner's directory too (a restore in place): it is rewritten only as a
/// regular file, never through a symlink.
fn copy_file_to(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        crate::sys::mkdir_p(parent, "directory")?;
    }
    let mut src = crate::sys::open_regular(from, libc::O_RDONLY)?;
    let mode = src
        .metadata()
        .map_err(|e| Error::io("Failed to stat", from, &e))?
        .mode()
        & 0o7777;
    let mut dst = crate::sys::rewrite_regular(to, mode)?;
    std::io::copy(&mut src, &mut dst).map_err(|e| Error::io("Failed to copy to", to, &e))?;
    // The umask applied at creation; the copy keeps the source's mode.
    dst.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("Failed to set the mode of", to, &e))
}

/// Writes the new name into `/etc/hostname` of the tree at `root` (a
/// rootfs, or an overlay's upper layer) when it is a regular file there.
/// The tree is the container's: it is looked up as the container sees it
/// (`etc -> /etc` stays inside the tree) and the file is never opened
/// through a symlink of its own. LXC writes through whatever
/// `<rootfs>/etc/hostname` leads to on the host.
fn set_hostname_file(root: &Path, newname: &str) {
    if let Err(e) = Opened::root(root).and_then(|root| write_hostname(&root, newname)) {
        log::warn!(
            "Failed to update /etc/hostname of {}: {}",
            root.display(),
            e.message
        );
    }
}

fn write_hostname(root: &Opened, newname: &str) -> Result<()> {
    match root.try_resolve("etc")? {
        Some(etc) => write_hostname_in(&etc, newname),
        None => Ok(()),
    }
}

/// `hostname` in the tree's `etc` (already looked up in the tree).
fn write_hostname_in(etc: &Opened, newname: &str) -> Result<()> {
    if etc.file_type()? != libc::S_IFDIR {
        return Ok(());
    }
    let Some(mut file) = etc.open_regular_in("hostname")? else {
        return Ok(());
    };
    let shown = etc.shown().join("hostname");
    file.set_len(0)
        .and_then(|()| std::io::Write::write_all(&mut file, newname.as_bytes()))
        .map_err(|e| Error::io("Failed to write", &shown, &e))
}

/// The hostname of an overlay clone: written to the upper layer as the
/// overlay would copy it up (`etc` made with the lower one's mode and
/// owner), both layers looked up as in `set_hostname_file`.
fn set_overlay_hostname(ovl: &OverlayStorage, newname: &str) {
    if let Err(e) = copy_up_hostname(ovl, newname) {
        log::warn!(
            "Failed to update /etc/hostname in {}: {}",
            ovl.upper().display(),
            e.message
        );
    }
}

fn copy_up_hostname(ovl: &OverlayStorage, newname: &str) -> Result<()> {
    let up = Opened::root(ovl.upper())?;
    let up_etc = up.try_resolve("etc")?;
    if let Some(etc) = &up_etc {
        if etc.link_stat("hostname")?.is_some() {
            return write_hostname_in(etc, newname);
        }
    }
    let lower = Opened::root(Path::new(ovl.lower().split(':').next().unwrap_or("")))?;
    let Some(low_etc) = lower.try_resolve("etc")? else {
        return Ok(());
    };
    let is = |st: &libc::stat, kind| st.st_mode & libc::S_IFMT == kind;
    let etc_st = low_etc.stat()?;
    let Some(file_st) = low_etc.link_stat("hostname")? else {
        return Ok(());
    };
    if !is(&etc_st, libc::S_IFDIR) || !is(&file_st, libc::S_IFREG) {
        return Ok(());
    }
    let up_etc = match up_etc {
        Some(etc) => etc,
        None => {
            let etc = up.make_dirs("etc")?;
            take_owner_and_mode(&crate::sys::at::proc_fd_path(etc.fd()), &etc_st)?;
            etc
        }
    };
    let Some(made) = up_etc.new_file_in("hostname")? else {
        // Made meanwhile: written as it is.
        return write_hostname_in(&up_etc, newname);
    };
    let mut file = made.reopen(libc::O_WRONLY)?;
    std::io::Write::write_all(&mut file, newname.as_bytes())
        .and_then(|()| std::os::unix::fs::fchown(&file, Some(file_st.st_uid), Some(file_st.st_gid)))
        .and_then(|()| {
            file.set_permissions(std::fs::Permissions::from_mode(file_st.st_mode & 0o7777))
        })
        .map_err(|e| Error::io("Failed to write", made.shown(), &e))
}

/// Gives what `path` (a /proc magic link to a directory we made) names
/// the owner and mode of `like`.
fn take_owner_and_mode(path: &Path, like: &libc::stat) -> Result<()> {
    std::os::unix::fs::chown(path, Some(like.st_uid), Some(like.st_gid))
        .and_then(|()| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(like.st_mode & 0o7777))
        })
        .map_err(|e| Error::io("Failed to set the owner and mode of", path, &e))
}

/// The new name into the rootfs's `/etc/hostname` (rename and clone).
pub(super) fn set_rootfs_hostname(rootfs: &dyn Storage, newname: &str) {
    if let Some(m @ storage::RootfsMount::Loop(_)) = rootfs.rootfs_mount() {
        if let Err(e) = set_mounted_hostname(&m, rootfs.host_path(), newname) {
            log::warn!(
                "Failed to update /etc/hostname of {}: {}",
                rootfs.src(),
                e.message
            );
        }
        return;
    }
    if rootfs.kind() == "overlay" {
        if let Ok(o) = OverlayStorage::parse(&rootfs.src()["overlay:".len()..]) {
            set_overlay_hostname(&o, newname);
        }
    } else {
        set_hostname_file(rootfs.host_path(), newname);
    }
}

/// `/etc/hostname` of a rootfs that must be mounted: a shell in a child
/// with its own mount namespace writes it (a regular file only).
fn set_mounted_hostname(m: &storage::RootfsMount, mount_point: &Path, newname: &str) -> Result<()> {
    let cm = m.for_child(mount_point)?;
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c")
        // Never through a symlink: the tree is the container's.
        .arg("cd \"$1\" && if [ -d etc ] && [ ! -L etc ] && [ -f etc/hostname ] && [ ! -L etc/hostname ]; then printf %s \"$2\" > etc/hostname; fi")
        .arg("sh")
        .arg(mount_point)
        .arg(newname)
        .stdin(std::process::Stdio::null());
    crate::storage::in_private_mounts(&mut cmd, vec![std::sync::Arc::new(cm)]);
    let st = cmd
        .status()
        .map_err(|e| Error::new(e.raw_os_error().unwrap_or(libc::EIO), e.to_string()))?;
    if !st.success() {
        return Err(Error::new(libc::EIO, format!("the shell {st}")));
    }
    Ok(())
}

/// What a failed clone has to undo.
#[derive(Debug, Default)]
struct Undo {
    made_dir: Option<PathBuf>,
    /// A btrfs subvolume made for the rootfs (deleted before the directory).
    made_subvolume: Option<PathBuf>,
    /// Files and trees made inside a directory that existed before.
    made: Vec<PathBuf>,
    /// (dir, lxcpath, name) registered as a dependent of its sources.
    registered: Option<(PathBuf, String, String)>,
    /// The container's maps: an unprivileged caller removes files of its
    /// ids as their mapped root.
    idmaps: Vec<crate::config::IdMap>,
}

impl Undo {
    fn run(self) {
        if let Some((dir, lxcpath, name)) = &self.registered {
            deps::mod_all_rdeps(dir, lxcpath, name, false);
        }
        if let Some(sv) = &self.made_subvolume {
            let s = storage::BtrfsStorage::new(sv.clone());
            if let Err(e) = s.destroy() {
                log::error!(
                    "Failed to delete {} after failed clone: {}",
                    sv.display(),
                    e.message
                );
            }
        }
        for p in self.made.iter().rev() {
            if let Err(e) = super::destroy::remove_mapped(p, None, &self.idmaps) {
                log::error!(
                    "Failed to remove {} after failed clone: {}",
                    p.display(),
                    e.message
                );
            }
        }
        if let Some(dir) = &self.made_dir {
            if let Err(e) = super::destroy::remove_mapped(dir, None, &self.idmaps) {
                log::error!(
                    "Failed to remove {} after failed clone: {}",
                    dir.display(),
                    e.message
                );
            }
        }
    }
}

impl Container {
    /// `clone`: see the module documentation.
    pub fn clone_to(&self, opts: &CloneOptions) -> Result<Container> {
        let _lock = self.disk_lock()?;
        self.clone_steps(opts, false)
    }

    /// `restore` is LXC's `LXC_STORAGE_INTERNAL_OVERLAY_RESTORE`: the
    /// target directory (and an overlay's delta) already exists.
    pub(super) fn clone_steps(&self, opts: &CloneOptions, restore: bool) -> Result<Container> {
        let name = self.name();
        let lxcpath = self.lxcpath();
        let newname = opts.newname.clone().unwrap_or_else(|| name.clone());
        let new_lxcpath = opts.lxcpath.clone().unwrap_or_else(|| lxcpath.clone());
        let context = |e: Error| {
            e.context(format_args!(
                "Failed to clone \"{name}\" to \"{newname}\" in \"{new_lxcpath}\""
            ))
        };
        names::validate_name(&newname).map_err(context)?;
        names::validate_lxcpath(&new_lxcpath).map_err(context)?;
        if !self.is_defined() {
            return Err(context(Error::new(
                libc::ENOENT,
                format!("\"{name}\" is not defined in \"{lxcpath}\""),
            )));
        }
        if opts.flags & CLONE_ALLOW_RUNNING == 0 && self.state() != "STOPPED" {
            return Err(context(Error::new(
                libc::EBUSY,
                format!("the original container \"{name}\" is running (LXC_CLONE_ALLOW_RUNNING not given)"),
            )));
        }
        let new_config_file = config_file_of(&new_lxcpath, &newname);
        if new_config_file.symlink_metadata().is_ok() {
            return Err(context(Error::new(
                libc::EEXIST,
                format!("{} exists", new_config_file.display()),
            )));
        }
        let config = self.config_or_disk().map_err(context)?;
        let orig = storage::from_config(config.conf())
            .map_err(context)?
            .ok_or_else(|| context(Error::invalid("it has no rootfs (lxc.rootfs.path)")))?;
        // LXC's should_default_to_snapshot: a btrfs subvolume cloned onto
        // the same btrfs filesystem is always snapshotted.
        let mut flags = opts.flags;
        if orig.kind() == "btrfs"
            && Path::new(&new_lxcpath).exists()
            && storage::btrfs_ops::is_subvolume(orig.host_path())
            && storage::btrfs_ops::same_fs(orig.host_path(), Path::new(&new_lxcpath))
        {
            flags |= CLONE_SNAPSHOT;
        }
        let plan = plan_storage(
            orig.kind(),
            flags,
            opts.bdevtype.as_deref(),
            Path::new(&lxcpath) == Path::new(&new_lxcpath),
        );

        let new_dir = Path::new(&new_lxcpath).join(&newname);
        let mut undo = Undo {
            idmaps: config.conf().idmaps.clone(),
            ..Undo::default()
        };
        // As create's (LXC's create_container_dir): the container's root
        // must reach its rootfs.
        if make_container_dir(&new_dir, &config.conf().idmaps).map_err(context)? {
            undo.made_dir = Some(new_dir.clone());
        } else if !restore {
            // An existing directory without a config: only what we make goes.
            undo.made.push(new_config_file.clone());
        }
        let partial = match Partial::create(&new_dir) {
            Ok(p) => p,
            Err(e) => {
                undo.run();
                return Err(context(e));
            }
        };
        let old_dir = Path::new(&lxcpath).join(&name);
        let result = self.clone_into(
            &config,
            orig.as_ref(),
            &plan,
            opts,
            (&old_dir, &new_dir, &new_lxcpath, &newname),
            restore,
            &mut undo,
        );
        partial.remove();
        match result {
            Ok(()) => Container::new(&newname, Some(&new_lxcpath)).map_err(context),
            Err(e) => {
                undo.run();
                Err(context(e))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn clone_into(
        &self,
        config: &Config,
        orig: &dyn Storage,
        plan: &StoragePlan,
        opts: &CloneOptions,
        (old_dir, new_dir, new_lxcpath, newname): (&Path, &Path, &str, &str),
        restore: bool,
        undo: &mut Undo,
    ) -> Result<()> {
        let name = self.name();
        let lxcpath = self.lxcpath();
        let made_dir = undo.made_dir.is_some();
        let track = |undo: &mut Undo, p: PathBuf| {
            if !made_dir {
                undo.made.push(p);
            }
        };

        // 3. Storage.
        let ids = CloneIds::new(&config.conf().idmaps);
        let rootfs_dir = new_dir.join(ROOTFS_DNAME);
        let mut needs_rdep = plan.needs_rdep;
        let new_storage: Box<dyn Storage> = match (orig.kind(), plan.kind.as_str(), plan.snapshot) {
            ("dir" | "btrfs", "dir", false) => {
                if rootfs_dir.symlink_metadata().is_ok() {
                    return Err(Error::new(
                        libc::EEXIST,
                        format!("{} exists", rootfs_dir.display()),
                    ));
                }
                track(undo, rootfs_dir.clone());
                ids.copy_tree(orig.host_path(), &rootfs_dir)?;
                Box::new(storage::DirStorage::new(rootfs_dir.clone()))
            }
            (from, "btrfs", snap) if from == "dir" || from == "btrfs" => {
                if from == "dir" && snap {
                    return Err(Error::invalid(
                        "a btrfs snapshot of a dir rootfs is not possible",
                    ));
                }
                if rootfs_dir.symlink_metadata().is_ok() {
                    return Err(Error::new(
                        libc::EEXIST,
                        format!("{} exists", rootfs_dir.display()),
                    ));
                }
                let new = storage::BtrfsStorage::new(rootfs_dir.clone());
                if from == "btrfs"
                    && (snap || storage::btrfs_ops::same_fs(orig.host_path(), new_dir))
                {
                    storage::btrfs_ops::snapshot(orig.host_path(), &rootfs_dir)?;
                    undo.made_subvolume = Some(rootfs_dir.clone());
                } else {
                    storage::btrfs_ops::subvolume_create(&rootfs_dir)?;
                    undo.made_subvolume = Some(rootfs_dir.clone());
                    storage::copy_tree_into(orig.host_path(), &rootfs_dir)?;
                }
                Box::new(new)
            }
            // Copies through mounts: into a loop image, or out of a loop
            // image or an overlay (its merged view) into a directory.
            (from, "loop", false) | (from @ ("loop" | "overlay"), "dir", false)
                if matches!(from, "dir" | "btrfs" | "loop" | "overlay") =>
            {
                let new: Box<dyn Storage> = if plan.kind == "loop" {
                    let image = new_dir.join("rootdev");
                    let (size, fstype) = match orig.rootfs_mount() {
                        Some(storage::RootfsMount::Loop(l)) => (
                            std::fs::metadata(l.image())
                                .map(|m| m.len().saturating_sub(1))
                                .unwrap_or(0),
                            storage::loop_fstype(l.image()),
                        ),
                        _ => (0, None),
                    };
                    let size = if opts.newsize > 0 { opts.newsize } else { size };
                    if !rootfs_dir.exists() {
                        mkdir_exact(&rootfs_dir, 0o755)?;
                        track(undo, rootfs_dir.clone());
                    }
                    track(undo, image.clone());
                    let l =
                        storage::LoopStorage::for_create(image, rootfs_dir.clone(), fstype, size);
                    l.create()?;
                    Box::new(l)
                } else {
                    if rootfs_dir.symlink_metadata().is_ok() {
                        return Err(Error::new(
                            libc::EEXIST,
                            format!("{} exists", rootfs_dir.display()),
                        ));
                    }
                    mkdir_exact(&rootfs_dir, 0o755)?;
                    track(undo, rootfs_dir.clone());
                    ids.give(std::slice::from_ref(&rootfs_dir))?;
                    Box::new(storage::DirStorage::new(rootfs_dir.clone()))
                };
                let src_point = match orig.rootfs_mount() {
                    Some(_) => old_dir.join(ROOTFS_DNAME),
                    None => orig.host_path().to_path_buf(),
                };
                match (orig.rootfs_mount(), new.rootfs_mount()) {
                    // Loop devices need root either way: attaching one
                    // fails with the cause.
                    (Some(storage::RootfsMount::Overlay(o)), None) if ids.unprivileged() => {
                        ids.copy_overlay_into(&o, &src_point, &rootfs_dir)?
                    }
                    (src_mount, dst_mount) => storage::copy_mounted(
                        &src_point,
                        src_mount.as_ref(),
                        &rootfs_dir,
                        dst_mount.as_ref(),
                    )?,
                }
                new
            }
            ("dir", "dir", true) => {
                return Err(Error::invalid("directories cannot be snapshotted"));
            }
            (_, "overlay", false) => {
                return Err(Error::invalid(
                    "the overlay storage driver can only be used for snapshots (LXC_CLONE_SNAPSHOT)",
                ));
            }
            (kind, "overlay", true) if kind == "dir" || kind == "overlay" => {
                let delta = new_dir.join(storage::OVERLAY_DELTA_PATH);
                let lower = if kind == "dir" {
                    orig.host_path().display().to_string()
                } else {
                    let src = OverlayStorage::parse(&orig.src()["overlay:".len()..])?;
                    src.lower().to_string()
                };
                if !restore || !rootfs_dir.exists() {
                    mkdir_exact(&rootfs_dir, 0o755)?;
                    track(undo, rootfs_dir.clone());
                }
                let private = new_dir.join(storage::OVERLAY_PRIVATE_DIR);
                if !private.exists() {
                    track(undo, private.clone());
                }
                let ovl = OverlayStorage::new(Path::new(&lower), &delta);
                if kind == "dir" {
                    ovl.prepare()?;
                    ids.give(&[rootfs_dir.clone(), private, delta, ovl.workdir()])?;
                } else {
                    // The delta is copied (rsync -aHXS --delete in LXC),
                    // into directories the container's root owns.
                    if delta.symlink_metadata().is_ok() {
                        super::destroy::remove_mapped(&delta, None, &config.conf().idmaps)?;
                    }
                    let work = ovl.workdir();
                    for d in [&private, &work] {
                        std::fs::create_dir_all(d)
                            .map_err(|e| Error::io("Failed to create directory", d, &e))?;
                    }
                    ids.give(&[rootfs_dir.clone(), private, work])?;
                    ids.copy_tree(orig.host_path(), &delta)?;
                    ovl.prepare()?;
                    if is_snapshot_pair(&lxcpath, &name, new_lxcpath, newname) {
                        needs_rdep = false;
                    }
                }
                Box::new(ovl)
            }
            (from, to, _) => {
                return Err(Error::new(
                    libc::ENOTSUP,
                    format!(
                        "cloning a \"{from}\" rootfs to \"{to}\" is not supported by this liblxc"
                    ),
                ));
            }
        };
        let new_src = new_storage.src();

        // 4. Config.
        let old_s = old_dir.display().to_string();
        let new_s = new_dir.display().to_string();
        let conf = config.conf();
        let fstab = match &conf.mount_fstab {
            Some(old) => {
                let base = Path::new(old)
                    .file_name()
                    .ok_or_else(|| Error::invalid(format!("Bad lxc.mount.fstab \"{old}\"")))?;
                let newpath = new_dir.join(base);
                if newpath.symlink_metadata().is_ok() {
                    return Err(Error::new(
                        libc::EEXIST,
                        format!("fstab file {} exists", newpath.display()),
                    ));
                }
                track(undo, newpath.clone());
                copy_file_to(Path::new(old), &newpath)?;
                Some(newpath.display().to_string())
            }
            None => None,
        };
        // Hook scripts inside the old directory are copied next to the config.
        for script in conf.hooks.iter().flatten() {
            let path = script.split_whitespace().next().unwrap_or("");
            let Some(rel) = Path::new(path).strip_prefix(old_dir).ok() else {
                continue;
            };
            let to = new_dir.join(rel);
            if to.exists() {
                continue;
            }
            track(undo, to.clone());
            copy_file_to(Path::new(path), &to)?;
        }
        let keepname = opts.flags & CLONE_KEEPNAME != 0;
        let mut text = rewrite_config_text(
            &config.write(),
            &Rewrite {
                old_dir: &old_s,
                new_dir: &new_s,
                uts_name: (!keepname).then_some(newname),
                rootfs: Some(&new_src),
                fstab: fstab.as_deref(),
            },
        );
        if opts.flags & CLONE_KEEPMACADDR == 0 {
            text = new_hwaddrs(&text, random_u32);
        }
        let new_config_file = new_dir.join("config");
        let mut fresh = Config::new();
        fresh.parse_str(&text, &new_config_file.display().to_string())?;
        write_atomically(&new_config_file, text.as_bytes(), 0o640)?;
        track(undo, new_config_file.clone());

        // Dependencies.
        if opts.flags & CLONE_SNAPSHOT != 0 {
            let from = old_dir.join(deps::RDEPENDS_FNAME);
            if from.exists() {
                let to = new_dir.join(deps::RDEPENDS_FNAME);
                track(undo, to.clone());
                copy_file_to(&from, &to)?;
            }
        }
        if needs_rdep {
            track(undo, new_dir.join(deps::RDEPENDS_FNAME));
            deps::add_rdepend(new_dir, &lxcpath, &name)?;
        }
        deps::mod_all_rdeps(new_dir, new_lxcpath, newname, true);
        undo.registered = Some((
            new_dir.to_path_buf(),
            new_lxcpath.to_string(),
            newname.to_string(),
        ));

        // 5. Clone hooks, then the hostname.
        let fconf = fresh.conf();
        if fconf.has_hook("clone") {
            let mount_point = if new_storage.rootfs_mount().is_some() {
                rootfs_dir.clone()
            } else {
                new_storage.host_path().to_path_buf()
            };
            let env = vec![
                ("LXC_SRC_NAME".to_string(), name.clone()),
                ("LXC_NAME".to_string(), newname.to_string()),
                (
                    "LXC_CONFIG_FILE".to_string(),
                    new_config_file.display().to_string(),
                ),
                (
                    "LXC_ROOTFS_MOUNT".to_string(),
                    mount_point.display().to_string(),
                ),
                ("LXC_ROOTFS_PATH".to_string(), new_src.clone()),
            ];
            let mount: Option<HookMount> = match new_storage.rootfs_mount() {
                Some(m) => Some(std::sync::Arc::new(m.for_child(&rootfs_dir)?)),
                None => None,
            };
            Hooks::plain(newname, &new_config_file, &fresh).run_with_mount(
                "clone",
                &env,
                &opts.hookargs,
                mount.as_ref(),
            )?;
        }
        if !keepname {
            set_rootfs_hostname(new_storage.as_ref(), newname);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_choice() {
        let p = |orig, flags, t, same| plan_storage(orig, flags, t, same);
        assert_eq!(p("dir", 0, None, true).kind, "dir");
        assert_eq!(p("dir", 0, None, false).kind, "dir");
        let s = p("dir", CLONE_SNAPSHOT, None, true);
        assert_eq!(
            (s.kind.as_str(), s.snapshot, s.needs_rdep),
            ("overlay", true, true)
        );
        assert_eq!(
            p("dir", CLONE_SNAPSHOT, Some("overlayfs"), true).kind,
            "overlay"
        );
        // snapshot() of a dir container: copy.
        let snapflags = CLONE_SNAPSHOT
            | CLONE_KEEPMACADDR
            | CLONE_KEEPNAME
            | CLONE_KEEPBDEVTYPE
            | CLONE_MAYBE_SNAPSHOT;
        let s = p("dir", snapflags & !CLONE_SNAPSHOT, None, false);
        assert_eq!((s.kind.as_str(), s.snapshot), ("dir", false));
        // snapshot() of an overlay container: overlay snapshot.
        let s = p("overlay", snapflags, None, false);
        assert_eq!((s.kind.as_str(), s.snapshot), ("overlay", true));
        // An overlay copied without -s into another lxcpath becomes dir
        // (a copy of its merged view).
        assert_eq!(p("overlay", 0, None, false).kind, "dir");
        // KEEPBDEVTYPE + MAYBE on dir: copy into dir.
        let s = p(
            "dir",
            CLONE_SNAPSHOT | CLONE_KEEPBDEVTYPE | CLONE_MAYBE_SNAPSHOT,
            None,
            true,
        );
        assert_eq!((s.kind.as_str(), s.snapshot), ("dir", false));
    }

    /// A rootfs or an overlay's upper layer is the container's: an `etc`
    /// or `hostname` symlinked to the host's files never gets the new name
    /// written there.
    #[test]
    fn hostname_written_only_inside_the_tree() {
        let d = std::env::temp_dir().join(format!("lxc-rs-hostname-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let host = d.join("host");
        std::fs::create_dir_all(&host).unwrap();
        std::fs::write(host.join("hostname"), "host").unwrap();
        let tree = |name: &str| {
            let root = d.join(name);
            std::fs::create_dir_all(&root).unwrap();
            root
        };
        // A plain one.
        let plain = tree("plain");
        std::fs::create_dir(plain.join("etc")).unwrap();
        std::fs::write(plain.join("etc/hostname"), "old").unwrap();
        set_hostname_file(&plain, "new");
        assert_eq!(
            std::fs::read_to_string(plain.join("etc/hostname")).unwrap(),
            "new"
        );
        // `etc` pointing at the host's directory (absolute: inside the tree
        // it names a path that is not there), `hostname` at the host's file.
        let etc_link = tree("etc-link");
        std::os::unix::fs::symlink(&host, etc_link.join("etc")).unwrap();
        set_hostname_file(&etc_link, "evil");
        let file_link = tree("file-link");
        std::fs::create_dir(file_link.join("etc")).unwrap();
        std::os::unix::fs::symlink(host.join("hostname"), file_link.join("etc/hostname")).unwrap();
        set_hostname_file(&file_link, "evil");
        // An overlay: copied up with the lower one's mode; an upper whose
        // `etc` points at the host's directory.
        let lower = tree("lower");
        std::fs::create_dir(lower.join("etc")).unwrap();
        std::fs::write(lower.join("etc/hostname"), "base").unwrap();
        std::fs::set_permissions(
            lower.join("etc/hostname"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        let upper = tree("upper");
        set_overlay_hostname(&OverlayStorage::new(&lower, &upper), "ovl");
        assert_eq!(
            std::fs::read_to_string(upper.join("etc/hostname")).unwrap(),
            "ovl"
        );
        let mode = std::fs::metadata(upper.join("etc/hostname"))
            .unwrap()
            .mode();
        assert_eq!(mode & 0o7777, 0o640);
        assert_eq!(
            std::fs::read_to_string(lower.join("etc/hostname")).unwrap(),
            "base"
        );
        let bad_upper = tree("bad-upper");
        std::os::unix::fs::symlink(&host, bad_upper.join("etc")).unwrap();
        set_overlay_hostname(&OverlayStorage::new(&lower, &bad_upper), "evil");
        assert_eq!(
            std::fs::read_to_string(host.join("hostname")).unwrap(),
            "host"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn snapshot_pairs() {
        assert!(is_snapshot_pair("/l/c1/snaps", "snap0", "/l", "c1"));
        assert!(is_snapshot_pair("/l/", "c1", "/l/c1/snaps/", "snap0"));
        assert!(!is_snapshot_pair("/l", "c1", "/l", "c2"));
        assert!(!is_snapshot_pair("/l/c1/snaps", "snap0", "/l", "c2"));
    }
}
