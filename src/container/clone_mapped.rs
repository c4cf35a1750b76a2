//! What a clone does differently for an unprivileged caller cloning a
//! container with `lxc.idmap` (LXC's `am_guest_unpriv()` paths of
//! `storage_copy` and `ovl_clonepaths`): the new storage directories go to
//! the container's root (the caller keeps them through its group), and
//! copies run as root of a user namespace holding the container's maps and
//! the caller's ids, so files of the container's ids are read and made
//! again with their owners (LXC's rsync in `userns_exec_full`). Root, and
//! containers without maps, copy in process.

use std::path::{Path, PathBuf};

use crate::config::IdMap;
use crate::error::Result;
use crate::idmap::mapped::{self, Op, Who};
use crate::storage::{self, OverlayStorage};

pub(super) struct CloneIds<'a> {
    idmaps: &'a [IdMap],
    unprivileged: bool,
}

impl<'a> CloneIds<'a> {
    pub(super) fn new(idmaps: &'a [IdMap]) -> CloneIds<'a> {
        CloneIds {
            idmaps,
            unprivileged: mapped::own_ids().0 != 0 && !idmaps.is_empty(),
        }
    }

    /// Gives `paths` (just made by the caller) to the container's root.
    pub(super) fn give(&self, paths: &[PathBuf]) -> Result<()> {
        if !self.unprivileged {
            return Ok(());
        }
        mapped::chown_mapped(self.idmaps, paths, (Who::Root, Who::Caller), false)
    }

    /// `storage::copy_tree(src, dst)`, as the mapped root when needed.
    pub(super) fn copy_tree(&self, src: &Path, dst: &Path) -> Result<()> {
        if !self.unprivileged {
            return storage::copy_tree(src, dst);
        }
        self.run(Op::Copy {
            src: src.to_path_buf(),
            dst: dst.to_path_buf(),
            overlay: None,
        })
    }

    /// Whether copies through an overlay's merged view go through
    /// [`CloneIds::copy_overlay_into`] (root mounts it for `cp` instead).
    pub(super) fn unprivileged(&self) -> bool {
        self.unprivileged
    }

    /// The merged view of `overlay`, mounted on `mount_point` in a private
    /// mount namespace of the mapped root, copied into `dst`.
    pub(super) fn copy_overlay_into(
        &self,
        overlay: &OverlayStorage,
        mount_point: &Path,
        dst: &Path,
    ) -> Result<()> {
        self.run(Op::Copy {
            src: mount_point.to_path_buf(),
            dst: dst.to_path_buf(),
            overlay: Some(overlay.mount_data()),
        })
    }

    fn run(&self, op: Op) -> Result<()> {
        let maps = mapped::container_and_self(self.idmaps, mapped::own_ids());
        mapped::run_helper(&maps, &op)
    }
}
