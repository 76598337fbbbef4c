//! trustsync: make every TLS runtime on a machine trust what the OS trust store trusts.
//!
//! The library holds every decision; `main.rs` is a thin clap layer over it.
// No unsafe code anywhere but the Windows FFI files (`windows_env`, `windows_acl`), which
// allow it for themselves.
#![cfg_attr(not(windows), forbid(unsafe_code))]
#![cfg_attr(windows, deny(unsafe_code))]

// The POSIX fix engine writes with POSIX semantics (openat, O_NOFOLLOW, fsync of
// directories, flock); Windows has its own small engine (`apply_windows`, compiled and
// unit-tested everywhere, its registry calls in `windows_env`).
#[cfg(unix)]
pub mod apply;
pub mod apply_windows;
pub mod cert;
pub mod diagnose;
pub mod discover;
#[cfg(unix)]
pub mod fix;
pub mod fix_common;
#[cfg(unix)]
pub mod hooks;
pub mod load;
pub mod manage;
pub mod name_hash;
pub mod printer;
pub mod probe;
pub mod probe_sets;
pub mod reference;
pub mod report;
pub mod runtime;
pub mod status;
pub mod system;
pub mod term;
#[cfg(windows)]
pub mod windows_acl;
#[cfg(windows)]
pub mod windows_env;
