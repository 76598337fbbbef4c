//! Shared helpers for the integration tests (each `tests/*.rs` declares `mod support;`).
pub mod tls;
