//! The per-container monitor process (see `lxc_core::monitor`), and the
//! attach helper (see `lxc_core::attach::helper`): one binary, so that one
//! read-only handle serves both.

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let code = if argv.get(1).map(String::as_str) == Some(lxc_core::attach::helper::FLAG) {
        lxc_core::attach::helper::main()
    } else {
        lxc_core::monitor::main(argv, destroy)
    };
    std::process::exit(code);
}

/// `lxc.ephemeral`'s end: the handle's destroy.
fn destroy(name: &str, lxcpath: &str) -> lxc_core::error::Result<()> {
    lxc_core::Container::new(name, Some(lxcpath))?.destroy()
}
