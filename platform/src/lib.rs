//! OS trust store readers for trustsync.
//!
//! This crate exists so that the code touching each operating system's trust store API
//! stays thin and separate: every reader turns what the OS says into [`SystemStore`], plain
//! data, and every decision about what that data means (distrust, precedence, which files
//! form a distro's store) lives in modules that compile on every OS and are unit-tested on
//! Linux. The FFI files (`windows.rs`, `windows_env.rs`, `windows_acl.rs`, `macos.rs`, `unix_fds.rs`)
//! only call APIs and copy results out.
// `deny`, not `forbid`: the one Unix FFI file (`unix_fds`) allows it for itself.
#![cfg_attr(not(any(windows, target_os = "macos")), deny(unsafe_code))]

pub mod bundle;
pub mod der;
pub mod linux;
pub mod linux_anchors;
#[cfg(target_os = "macos")]
pub mod macos;
pub mod macos_paths;
pub mod macos_trust;
pub mod read;
pub mod spawn;
#[cfg(unix)]
mod unix_fds;
#[cfg(windows)]
pub mod windows;
#[cfg(windows)]
pub mod windows_acl;
#[cfg(windows)]
pub mod windows_env;
pub mod windows_store;

use std::path::{Path, PathBuf};

/// One certificate as the OS store holds it, before trustsync parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreCertificate {
    /// The certificate's DER encoding, exactly as stored.
    pub der: Vec<u8>,
    /// Where it came from: a file path, or a store name such as `LocalMachine\ROOT`.
    pub origin: String,
    /// True for CAs an administrator added on this machine (the company or proxy roots
    /// that runtimes' own bundles miss most), false for the distro's or vendor's roots.
    pub locally_added: bool,
}

/// What the OS trusts for TLS server authentication, as plain data.
#[derive(Debug, Clone, Default)]
pub struct SystemStore {
    /// Which OS family produced this (`debian`, `fedora`, `windows`, `macos`, …).
    pub flavor: String,
    /// Certificates the OS trusts as TLS roots.
    pub trusted: Vec<StoreCertificate>,
    /// Certificates the OS explicitly distrusts; trust in them anywhere is a problem.
    pub distrusted: Vec<StoreCertificate>,
    /// Human-readable names of everything read (files, directories, stores).
    pub sources: Vec<String>,
    /// The OS's single-file PEM bundle, where it has one (what runtimes should read).
    pub bundle: Option<PathBuf>,
    /// The OS's hashed certificate directory, where it has one.
    pub directory: Option<PathBuf>,
    /// The command that regenerates the OS store from its sources, where there is one.
    pub update_command: Option<Vec<String>>,
    /// Non-fatal problems, one line each, naming the file or store.
    pub warnings: Vec<String>,
}

/// Errors that stop a store from being read at all.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no system CA bundle found under {root} (looked for {looked_for})")]
    NotFound { root: PathBuf, looked_for: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Api(String),
}

/// Reads this machine's trust store. `root` re-roots every path (for `--root DIR` and for
/// tests); only the Linux reader uses it, since Windows and macOS stores are not files.
pub fn read_system_store(root: &Path) -> Result<SystemStore, StoreError> {
    #[cfg(windows)]
    {
        let _ = root;
        windows::read_system_store()
    }
    #[cfg(target_os = "macos")]
    {
        let _ = root;
        macos::read_system_store()
    }
    #[cfg(not(any(windows, target_os = "macos")))]
    {
        linux::read_system_store(root)
    }
}
