//! The `#[repr(C)]` definitions that cbindgen turns into the public headers.
#![allow(non_camel_case_types)]

pub mod attach_options;
pub mod lxccontainer;
/// Constants of `<lxc/version.h>`: a 6.0-series release, so clients that
/// compare versions numerically (go-lxc's `VersionAtLeast`) see LXC 6.0.
pub mod version;
