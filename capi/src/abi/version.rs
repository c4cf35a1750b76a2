// Constants of `<lxc/version.h>`. Parsed by cbindgen.
//
// We implement the LXC 6.0 API, so clients that compare versions numerically
// (go-lxc's `VersionAtLeast`) see a 6.0-series release.

/// 1 for development snapshots; go-lxc then assumes every feature.
pub const LXC_DEVEL: i32 = 0;
/// Major version of the implemented API.
pub const LXC_VERSION_MAJOR: i32 = 6;
/// Minor version of the implemented API.
pub const LXC_VERSION_MINOR: i32 = 0;
/// Micro version of the implemented API.
pub const LXC_VERSION_MICRO: i32 = 6;
/// The implemented LXC release, as `lxc_get_version()` returns it.
pub const LXC_VERSION: &str = "6.0.6";
/// The liblxc file version of that release.
pub const LXC_VERSION_ABI: &str = "1.8.0";
