//! `struct migrate_opts` across the boundary, versioned by the caller's
//! `size` as LXC reads it.

use std::mem::{offset_of, size_of};

use libc::c_uint;
use lxc_core::criu::MigrateOptions;
use lxc_core::{Error, Result};

use crate::abi::lxccontainer::migrate_opts;
use crate::cstr::opt_str;

/// The options of a caller's struct of `size` bytes: a bigger (newer)
/// struct must be zero past ours (LXC: -E2BIG), a smaller (older) one
/// reads as if the members it lacks were zero.
///
/// # Safety
/// `opts` is NULL or points to `size` readable bytes.
pub unsafe fn read_opts(opts: *const migrate_opts, size: c_uint) -> Result<MigrateOptions> {
    if opts.is_null() {
        return Err(Error::invalid("migrate: opts is NULL"));
    }
    let ours = size_of::<migrate_opts>();
    let size = size as usize;
    let bytes = opts as *const u8;
    if size > ours && (ours..size).any(|i| *bytes.add(i) != 0) {
        return Err(Error::new(
            libc::E2BIG,
            format!("migrate: struct migrate_opts of {size} bytes sets members past our {ours}"),
        ));
    }
    let mut o: migrate_opts = std::mem::zeroed();
    std::ptr::copy_nonoverlapping(
        bytes,
        &mut o as *mut migrate_opts as *mut u8,
        size.min(ours),
    );
    let s = |p, what| opt_str(p, what).map(|v| v.map(str::to_string));
    Ok(MigrateOptions {
        directory: s(o.directory, "directory")?,
        verbose: o.verbose,
        stop: o.stop,
        predump_dir: s(o.predump_dir, "predump_dir")?,
        pageserver_address: s(o.pageserver_address, "pageserver_address")?,
        pageserver_port: s(o.pageserver_port, "pageserver_port")?,
        preserves_inodes: o.preserves_inodes,
        action_script: s(o.action_script, "action_script")?,
        disable_skip_in_flight: o.disable_skip_in_flight,
        ghost_limit: o.ghost_limit,
        features_to_check: o.features_to_check,
    })
}

/// Gives FEATURE_CHECK's answer back in the caller's struct, when it has
/// the member.
///
/// # Safety
/// As for [`read_opts`], writable.
pub unsafe fn write_features(opts: *mut migrate_opts, size: c_uint, features: u64) {
    let at = offset_of!(migrate_opts, features_to_check);
    if !opts.is_null() && size as usize >= at + size_of::<u64>() {
        std::ptr::write_unaligned((opts as *mut u8).add(at) as *mut u64, features);
    }
}
