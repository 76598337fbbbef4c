//! trustsync: make every TLS runtime on a machine trust what the OS trust store trusts.
//!
//! The library holds every decision; `main.rs` is a thin clap layer over it.
#![forbid(unsafe_code)]

// The fix engine writes with POSIX semantics (openat, O_NOFOLLOW, fsync of directories,
// flock); on Windows `fix`/`undo` are not available yet.
#[cfg(unix)]
pub mod apply;
pub mod cert;
pub mod diagnose;
pub mod discover;
#[cfg(unix)]
pub mod fix;
pub mod fix_common;
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
