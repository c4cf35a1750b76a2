//! What unit tests share.

use std::path::PathBuf;

/// A fresh, empty directory for one test, named by `tag` (unique among
/// tests) and this process.
pub(crate) fn scratch_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lxc-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
