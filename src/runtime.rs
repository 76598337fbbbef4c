//! What a runtime is to trustsync: something that verifies TLS, and where it looks for CAs.
//!
//! Discovery fills these in by asking each runtime itself; the diff then computes the trust
//! set from `cafile` and `capath` exactly as the runtime's TLS library would.

use serde::Serialize;
use std::path::PathBuf;

/// The kinds of runtime trustsync knows; the JSON `kind` field, stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeKind {
    /// A Python interpreter's `ssl` module (`ssl.create_default_context()`, urllib, aiohttp).
    PythonSsl,
    /// certifi's bundle as `requests` uses it (REQUESTS_CA_BUNDLE > CURL_CA_BUNDLE > certifi).
    Requests,
    /// pip, with its own vendored certifi.
    Pip,
    /// An `openssl` build (its OPENSSLDIR's `cert.pem` and `certs/`).
    Openssl,
    /// An environment variable that redirects trust.
    EnvVar,
    /// A CA bundle an application ships inside its package (httplib2, botocore, …).
    Bundled,
}

impl RuntimeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::PythonSsl => "python-ssl",
            RuntimeKind::Requests => "requests",
            RuntimeKind::Pip => "pip",
            RuntimeKind::Openssl => "openssl",
            RuntimeKind::EnvVar => "env-var",
            RuntimeKind::Bundled => "bundled",
        }
    }
}

/// One runtime as discovered: where it looks, not yet what it finds there.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub kind: RuntimeKind,
    /// Interpreter or binary; for an env var, the variable's name.
    pub path: PathBuf,
    /// A short label for the table, e.g. `python3.11 (pyenv 3.11.7)`.
    pub label: String,
    pub version: Option<String>,
    /// The CA file it reads, after environment overrides.
    pub cafile: Option<PathBuf>,
    /// The hashed directories it reads, after environment overrides.
    pub capath: Vec<PathBuf>,
    /// Environment variables in effect that changed `cafile`/`capath`.
    pub overridden_by: Vec<String>,
    /// Whether the runtime reads only `cafile`+`capath` in place of a built-in list (true), or
    /// adds them to one (NODE_EXTRA_CA_CERTS): an additive source need not hold every OS CA.
    pub replaces_defaults: bool,
    /// For certifi-based rows: certifi's version, i.e. the date of its Mozilla snapshot.
    pub bundle_version: Option<String>,
    /// For certifi-based rows: certifi's own file, whatever the variables say.
    pub bundle_path: Option<PathBuf>,
    /// The runtime also trusts the OS store itself (Python on Windows, pip with truststore
    /// there): its trust set is the OS store plus its files.
    pub adds_os_store: bool,
    /// Things discovery itself found wrong or worth saying (probe failed, not executed).
    pub notes: Vec<Note>,
    /// For env-var rows: which runtimes read this variable.
    pub affects: Vec<String>,
    /// The user whose program reported `cafile`/`capath`/`bundle_path` (an interpreter or
    /// `openssl` run as its owner), `None` when trustsync found them itself or asked a
    /// root-owned program. Such paths are that user's word: as root, `fix` never writes
    /// where they point.
    pub reported_by_uid: Option<u32>,
}

/// A finding made during discovery, before any diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub code: &'static str,
    pub message: String,
    /// True when the runtime cannot be judged (probe failed): its verdict is `broken`.
    pub fatal: bool,
}

impl Runtime {
    pub fn new(kind: RuntimeKind, path: PathBuf, label: String) -> Runtime {
        Runtime {
            kind,
            path,
            label,
            version: None,
            cafile: None,
            capath: Vec::new(),
            overridden_by: Vec::new(),
            replaces_defaults: true,
            adds_os_store: false,
            bundle_version: None,
            bundle_path: None,
            notes: Vec::new(),
            affects: Vec::new(),
            reported_by_uid: None,
        }
    }
}

/// A dotted version (`3.11.7`, certifi's `2024.02.02`) as numbers, so that `24.10` sorts
/// after `24.2`. Stops at the first part that is not a number (`3.13.0rc1` gives `[3, 13]`).
pub fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map_while(|p| p.parse().ok()).collect()
}
