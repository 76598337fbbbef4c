//! trustsync: make every TLS runtime on a machine trust what the OS trust store trusts.
//!
//! The library holds every decision; `main.rs` is a thin clap layer over it.
#![forbid(unsafe_code)]

// The fix engine works on file descriptors (rustix, openat, renameat): Unix only for now.
#[cfg(unix)]
pub mod apply;
pub mod cert;
pub mod diagnose;
pub mod discover;
#[cfg(unix)]
pub mod fix;
pub mod load;
pub mod manage;
pub mod name_hash;
pub mod printer;
pub mod probe;
pub mod probe_sets;
pub mod report;
pub mod runtime;
pub mod status;
pub mod system;
