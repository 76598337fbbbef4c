//! trustsync: make every TLS runtime on a machine trust what the OS trust store trusts.
//!
//! The library holds every decision; `main.rs` only calls [`cli::main`]. Layers point
//! down only (README "Architecture"):
//! - [`cli`]: clap arguments, the printer (stdout data, stderr talk), the JSON documents;
//! - [`commands`]: `status`, `fix`, `undo`, `add`/`remove`, `probe`, `hook`, composed from
//!   the layers below;
//! - [`runtimes`]: one folder per runtime family (discovery, trust rules, the repair it
//!   proposes), reached only through the [`runtimes::Registry`];
//! - [`diagnose`] (trust set against the OS store), [`apply`] (plans and their executors,
//!   per OS), [`discover`] (what families' discovery shares), [`model`] (certificates,
//!   trust sets, the OS store, runtime rows), [`term`] (terminal-safe text), [`i18n`] (the
//!   message catalogue every human sentence comes from);
//! - the `trustsync_platform` crate: every OS call, as thin files turning API results into
//!   plain data.
#![forbid(unsafe_code)]

// First, so every module below can use its `msg!` and `t!`.
#[macro_use]
pub mod i18n;
pub mod apply;
pub mod cli;
pub mod commands;
pub mod diagnose;
pub mod discover;
pub mod model;
pub mod runtimes;
pub mod term;
