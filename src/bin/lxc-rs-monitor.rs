//! The per-container monitor process (see `lxc_core::monitor`).

fn main() {
    let code = lxc_core::monitor::main(std::env::args().collect());
    std::process::exit(code);
}
