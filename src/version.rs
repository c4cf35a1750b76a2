//! The API extensions of LXC 6.0 that this library implements
//! (docs/api-extensions.md: each with the test backing it, or why not).

/// LXC 6.0's extension names, in its order (29: built with seccomp notify).
pub const LXC_API_EXTENSIONS: [&str; 29] = [
    "lxc_log",
    "lxc_config_item_is_supported",
    "console_log",
    "reboot2",
    "mount_injection",
    "cgroup_relative",
    "mount_injection_file",
    "seccomp_allow_nesting",
    "seccomp_notify",
    "network_veth_routes",
    "network_ipvlan",
    "network_l2proxy",
    "network_gateway_device_route",
    "network_phys_macvlan_mtu",
    "network_veth_router",
    "cgroup2_devices",
    "cgroup2",
    "pidfd",
    "cgroup_advanced_isolation",
    "network_bridge_vlan",
    "time_namespace",
    "seccomp_allow_deny_syntax",
    "devpts_fd",
    "seccomp_notify_fd_active",
    "seccomp_proxy_send_notify_fd",
    "idmapped_mounts",
    "idmapped_mounts_v2",
    "core_scheduling",
    "cgroup2_auto_mounting",
];

/// The extensions LXC 6.0 has and this library does not advertise: their
/// feature does not work end to end here (see docs/api-extensions.md).
/// As LXC, the others are answered by what the library was built with,
/// not by what the running kernel has (ipvlan, VLANs, core scheduling
/// fail at start with the cause where the kernel lacks them).
pub const NOT_ADVERTISED: &[&str] = &["cgroup_advanced_isolation"];

/// `lxc_has_api_extension`: a NULL (None) name asks whether the call itself
/// exists, which it does.
pub fn has_api_extension(name: Option<&str>) -> bool {
    match name {
        None => true,
        Some(n) => LXC_API_EXTENSIONS.contains(&n) && !NOT_ADVERTISED.contains(&n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        assert!(has_api_extension(None));
        assert!(has_api_extension(Some("lxc_log")));
        assert!(has_api_extension(Some("devpts_fd")));
        assert!(has_api_extension(Some("network_ipvlan")));
        assert!(has_api_extension(Some("idmapped_mounts_v2")));
        assert!(!has_api_extension(Some("cgroup_advanced_isolation")));
        // LXC 7.0's and unknown names.
        assert!(!has_api_extension(Some("environment_runtime_hooks")));
        assert!(!has_api_extension(Some("init_pidfd")));
        assert!(!has_api_extension(Some("")));
        // Every name held back is one of LXC's.
        assert!(NOT_ADVERTISED
            .iter()
            .all(|n| LXC_API_EXTENSIONS.contains(n)));
        let advertised = LXC_API_EXTENSIONS
            .iter()
            .filter(|n| has_api_extension(Some(n)))
            .count();
        assert_eq!(advertised, LXC_API_EXTENSIONS.len() - NOT_ADVERTISED.len());
    }
}
