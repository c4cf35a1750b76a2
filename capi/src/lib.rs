//! liblxc.so.1: LXC 6.0's C API over the Rust core (`lxc-core`).
//!
//! Thunks only: check pointers, convert strings, call the core, turn its
//! `Result` into the C convention and `error_string`/`error_num`, and keep
//! panics from crossing into C. No container logic lives here.

// Every `unsafe extern "C"` entry here has the contract its C declaration
// states (valid pointers or NULL where allowed); cbindgen copies doc
// comments into the public headers, so the contract is written there once.
#![allow(clippy::missing_safety_doc)]

pub mod abi;
pub mod attach_run;
mod cstr;
pub mod exports;
mod handle;
mod migrate;
mod vtable;
