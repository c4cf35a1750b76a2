//! The per-container monitor process (see `lxc_core::monitor`), the attach
//! helper (`lxc_core::attach::helper`) and the id-map helper
//! (`lxc_core::idmap::mapped`): one binary, so that one read-only handle
//! serves all three; its first argument says which it is.

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let code = match argv.get(1).map(String::as_str) {
        Some(lxc_core::attach::helper::FLAG) => lxc_core::attach::helper::main(),
        Some(lxc_core::idmap::mapped::HELPER_FLAG) => lxc_core::idmap::mapped::helper_main(&argv),
        _ => lxc_core::monitor::main(argv, destroy),
    };
    std::process::exit(code);
}

/// `lxc.ephemeral`'s end: the handle's destroy.
fn destroy(name: &str, lxcpath: &str) -> lxc_core::error::Result<()> {
    lxc_core::Container::new(name, Some(lxcpath))?.destroy()
}
