//! The per-container monitor process (see `lxc_core::monitor`), the attach
//! helper (`lxc_core::attach::helper`) and the id-map helper
//! (`lxc_core::idmap::mapped`): one binary, so that one read-only handle
//! serves all three; its first argument says which it is.
//!
//! Its own C `main`: every start and attach execs it, and std's runtime
//! set-up (the main thread's stack guard read from /proc/self/maps, a
//! signal stack and handlers, about 15 syscalls and their page faults)
//! cost 70 µs of each exec here. Of that set-up it keeps what the code
//! relies on: SIGPIPE ignored, and descriptors 0-2 open.

#![no_main]

#[no_mangle]
pub extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    lxc_core::sys::runtime_init();
    // std reads the arguments from what glibc hands its init functions.
    let argv: Vec<String> = std::env::args().collect();
    let code = std::panic::catch_unwind(|| match argv.get(1).map(String::as_str) {
        Some(lxc_core::attach::helper::FLAG) => lxc_core::attach::helper::main(),
        Some(lxc_core::idmap::mapped::HELPER_FLAG) => lxc_core::idmap::mapped::helper_main(&argv),
        Some(lxc_core::prelink::CHECK_FLAG) => lxc_core::prelink::check_main(),
        _ => lxc_core::monitor::main(argv.clone(), destroy),
    })
    // A panic was printed by the hook; exit as std's runtime would.
    .unwrap_or(101);
    std::process::exit(code);
}

/// `lxc.ephemeral`'s end: the handle's destroy.
fn destroy(name: &str, lxcpath: &str) -> lxc_core::error::Result<()> {
    lxc_core::Container::new(name, Some(lxcpath))?.destroy()
}
