//! `create`: run a template (or make an empty rootfs) on a backing store,
//! guarded by the `partial` marker so an unfinished create never looks like
//! a container.

use super::Container;
use crate::error::{Error, Result};

/// How to make the backing store (`struct bdev_specs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BdevSpecs {
    pub fstype: Option<String>,
    pub fssize: u64,
    pub zfs_root: Option<String>,
    pub lvm_vg: Option<String>,
    pub lvm_lv: Option<String>,
    pub lvm_thinpool: Option<String>,
    pub dir: Option<String>,
    pub rbd_name: Option<String>,
    pub rbd_pool: Option<String>,
}

/// Arguments of `create(t, bdevtype, specs, flags, argv)`.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Template name (resolved in LXC's template directory) or path; None
    /// for an empty rootfs.
    pub template: Option<String>,
    /// Backing store type; None for `dir`.
    pub bdevtype: Option<String>,
    pub specs: Option<BdevSpecs>,
    /// `LXC_CREATE_QUIET`: hide the template's output.
    pub quiet: bool,
    /// Extra arguments for the template.
    pub argv: Vec<String>,
}

impl Container {
    pub fn create(&self, opts: &CreateOptions) -> Result<()> {
        let _ = opts;
        Err(Error::not_implemented("create"))
    }
}
