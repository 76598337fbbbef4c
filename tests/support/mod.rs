//! Helpers shared by the integration tests (each `tests/*.rs` file is its own crate and
//! pulls these in with `mod support;`). Every test crate uses only part of them, hence the
//! crate-wide `dead_code` allowance.
#![allow(dead_code)]

/// Generated certificates and running the binary with a clean environment.
pub mod certs;

/// The `--root` tree the fix tests start from (a locally added CA certifi lacks).
pub mod trees;

/// Private mount-namespace + overlayfs views of the machine (Linux, root).
#[cfg(target_os = "linux")]
pub mod sandbox;

/// The real requests/certifi/urllib3 venvs scripts/setup.sh caches, planted in sandboxes.
#[cfg(target_os = "linux")]
pub mod pyvenv;

/// Checking a dry run's actions against what is on disk after the real run.
#[cfg(unix)]
pub mod ondisk;

/// Showing command output in assertions; loud skips.
pub mod report;

/// What the oracle tests share: the real `ssl` client, reading one row's verdict.
pub mod oracle;

/// Loopback TLS servers, rcgen chains and an HTTP CONNECT proxy.
pub mod tls;
