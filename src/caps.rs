//! Capability names as `lxc.cap.drop`/`lxc.cap.keep` spell them, and the
//! bounding-set drop applied to the container's init.

use crate::error::{Error, Result};

/// Linux capability names, index = capability number (the configuration
/// layer's table, so both accept the same names).
pub use crate::config::CAPS as CAP_NAMES;

/// A capability by name ("sys_admin", "CAP_SYS_ADMIN", any case) or number.
pub fn parse_cap(name: &str) -> Result<u32> {
    let lower = name.to_ascii_lowercase();
    let bare = lower.strip_prefix("cap_").unwrap_or(&lower);
    if let Some(i) = CAP_NAMES.iter().position(|c| *c == bare) {
        return Ok(i as u32);
    }
    bare.parse::<u32>()
        .ok()
        .filter(|n| (*n as usize) < 64)
        .ok_or_else(|| Error::invalid(format!("Unknown capability \"{name}\"")))
}

/// The highest capability the running kernel knows.
pub fn last_cap() -> u32 {
    // The kernel's, fixed while it runs.
    static LAST: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *LAST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(40)
    })
}

/// Which capabilities to remove from the bounding set: `drop` as listed, or
/// everything but `keep` when a keep list is given ("none" keeps nothing).
pub fn caps_to_drop(drop: &[String], keep: &[String], last: u32) -> Result<Vec<u32>> {
    if !keep.is_empty() {
        let kept: Vec<u32> = keep
            .iter()
            .filter(|k| k.as_str() != "none")
            .map(|k| parse_cap(k))
            .collect::<Result<_>>()?;
        return Ok((0..=last).filter(|c| !kept.contains(c)).collect());
    }
    let mut caps: Vec<u32> = drop.iter().map(|d| parse_cap(d)).collect::<Result<_>>()?;
    caps.retain(|c| *c <= last);
    caps.sort_unstable();
    caps.dedup();
    Ok(caps)
}

/// Drops `caps` from the bounding set of the calling process.
pub fn drop_bounding(caps: &[u32]) -> Result<()> {
    for &cap in caps {
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) } < 0 {
            return Err(Error::new(
                crate::sys::errno(),
                format!(
                    "Failed to drop capability {}",
                    CAP_NAMES.get(cap as usize).unwrap_or(&"?")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_cap("sys_admin").unwrap(), 21);
        assert_eq!(parse_cap("CAP_SYS_MODULE").unwrap(), 16);
        assert_eq!(parse_cap("12").unwrap(), 12);
        assert!(parse_cap("bogus").is_err());
    }

    #[test]
    fn drop_and_keep() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            caps_to_drop(&s(&["sys_time", "sys_module"]), &[], 40).unwrap(),
            vec![16, 25]
        );
        let all_but = caps_to_drop(&[], &s(&["chown"]), 40).unwrap();
        assert_eq!(all_but.len(), 40);
        assert!(!all_but.contains(&0));
        assert_eq!(caps_to_drop(&[], &s(&["none"]), 40).unwrap().len(), 41);
    }
}
