//! Capability names, and the bounding-set drop applied to the container's
//! init (`lxc.cap.drop`/`lxc.cap.keep`, parsed by the configuration).

use crate::error::{Error, Result};

/// Linux capability names, index = capability number (the configuration
/// layer's table, so both accept the same names).
pub use crate::config::CAPS as CAP_NAMES;

/// The highest capability the running kernel knows.
pub fn last_cap() -> u32 {
    crate::sys::procfs::cap_last_cap(40)
}

/// Which capabilities to remove from the bounding set: `listed` (numbers
/// the configuration parsed from `lxc.cap.drop`), or, for a keep list
/// (`lxc.cap.keep`, empty for "none"), everything else.
pub fn caps_to_drop(listed: &[u32], keep: bool, last: u32) -> Vec<u32> {
    if keep {
        return (0..=last).filter(|c| !listed.contains(c)).collect();
    }
    let mut caps: Vec<u32> = listed.iter().copied().filter(|c| *c <= last).collect();
    caps.sort_unstable();
    caps.dedup();
    caps
}

/// Drops `caps` from the bounding set of the calling process.
pub fn drop_bounding(caps: &[u32]) -> Result<()> {
    for &cap in caps {
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) } < 0 {
            return Err(Error::last_os(format_args!(
                "Failed to drop capability {}",
                CAP_NAMES.get(cap as usize).unwrap_or(&"?")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_and_keep() {
        assert_eq!(caps_to_drop(&[25, 16, 25], false, 40), vec![16, 25]);
        let all_but = caps_to_drop(&[0], true, 40);
        assert_eq!(all_but.len(), 40);
        assert!(!all_but.contains(&0));
        // lxc.cap.keep = none.
        assert_eq!(caps_to_drop(&[], true, 40).len(), 41);
    }
}
