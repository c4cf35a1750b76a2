//! The API extensions of LXC 6.0 that this library implements.

/// API extension names (LXC 6.0's list) that this library really supports.
/// An extension is added here only when its feature works end to end.
pub const API_EXTENSIONS: &[&str] = &["lxc_log", "lxc_config_item_is_supported", "time_namespace"];

/// `lxc_has_api_extension`: a NULL (None) name asks whether the call itself
/// exists, which it does.
pub fn has_api_extension(name: Option<&str>) -> bool {
    match name {
        None => true,
        Some(n) => API_EXTENSIONS.contains(&n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        assert!(has_api_extension(None));
        assert!(has_api_extension(Some("lxc_log")));
        assert!(!has_api_extension(Some("cgroup2")));
        assert!(!has_api_extension(Some("")));
    }
}
