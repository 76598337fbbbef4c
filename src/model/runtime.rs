//! What a runtime is to trustsync: something that verifies TLS, and where it looks for CAs.
//!
//! Discovery fills these in by asking each runtime itself; the diff then computes the trust
//! set from `cafile` and `capath` exactly as the runtime's TLS library would.

use serde::Serialize;
use std::path::PathBuf;

/// What kind of runtime a row is: its stable JSON `kind` name and how a fix reaches it.
/// Each family declares its kinds (`runtimes::python::REQUESTS`, `runtimes::openssl::KIND`,
/// …); code below the families (diagnosis, the fix planners, the printer) treats rows by
/// these properties, never by name, so a new family needs no change there.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeKind {
    /// The JSON `kind` field (`python-ssl`, `requests`, …): stable, part of the schema.
    pub name: &'static str,
    /// How `fix` reaches a runtime of this kind.
    pub repair: Repair,
    /// The variable the env strategy points it at, if its kind has one (a row may refine
    /// it: an application bundle's variable depends on the package). Must be one of
    /// `apply::MANAGED_VARS`, the variables the env strategy sets (a test checks it).
    pub variable: Option<&'static str>,
    /// How it loads its CA file. `true`: with `load_verify_locations` (requests, pip and
    /// application bundles through urllib3 or httplib2), where a file OpenSSL cannot load
    /// whole raises, so every connection fails. `false`: through OpenSSL's default paths
    /// (`ssl` defaults, `openssl`), where the error is ignored and the file adds nothing.
    pub cafile_strict: bool,
}

impl RuntimeKind {
    pub fn as_str(self) -> &'static str {
        self.name
    }

    /// True for a row that is a trust variable itself (not a runtime that reads one).
    pub fn is_variable(self) -> bool {
        self.repair == Repair::Variable
    }
}

impl PartialEq for RuntimeKind {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for RuntimeKind {}
impl std::hash::Hash for RuntimeKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}
impl Serialize for RuntimeKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

/// How `fix` reaches a runtime: the plan a family proposes for its rows, carried out by
/// the POSIX and the Windows planners alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// It reads an OpenSSL-style CA file and hashed directory (`ssl`, `openssl`): give the
    /// directory a `HASH.N` entry per OS CA and link a missing CA file to the OS bundle.
    /// Writes where the runtime says it looks.
    HashedDir,
    /// It reads one bundle file of its own (certifi, an application's `cacert.pem`): point
    /// its variable at the managed bundle, or with `--strategy patch-bundle` append the
    /// missing OS CAs to that file in a marked block.
    Bundle,
    /// The row is a trust variable: trustsync changes it only where it set it itself,
    /// otherwise it says where it is set.
    Variable,
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
    /// Whether a `cafile` that cannot be loaded stops every connection: the kind's rule
    /// ([`RuntimeKind::cafile_strict`]), unless the family knows this row reads its file
    /// through OpenSSL's default paths (pip 24.2+ through truststore).
    pub cafile_strict: bool,
    /// CA files loaded with `load_verify_locations` on top of `cafile` and `capath` (pip
    /// 24.2+: its certifi, then `cert` or `REQUESTS_CA_BUNDLE`): each adds, and one that
    /// is missing or cannot be loaded raises, so every connection fails.
    pub extra_cafiles: Vec<PathBuf>,
    /// The hashed directories it reads, after environment overrides.
    pub capath: Vec<PathBuf>,
    /// `capath` was set by OpenSSL 3's `X509_STORE_set_default_paths`, which searches each
    /// directory a second way (the store lookup, see `model::load::load_hashed_dir`); a
    /// path given to `load_verify_locations` and OpenSSL 1.1 or LibreSSL use `by_dir` only.
    pub capath_store_lookup: bool,
    /// It verifies with `X509_V_FLAG_X509_STRICT` (Python 3.13's `create_default_context`,
    /// urllib3 2.3+ on 3.13): CAs without keyUsage, with a non-critical or no
    /// basicConstraints, or X.509 v1, are refused.
    pub x509_strict: bool,
    /// A configuration file's setting (not a variable) that decides where it looks, e.g.
    /// "`cert` in /etc/pip.conf": the user's or admin's choice, which `fix` only advises on.
    pub configured_by: Option<String>,
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
    /// CAs compiled into the runtime (Node's bundled Mozilla list, as the binary itself
    /// reported it): trusted on top of its files, and no file can change them.
    pub builtin: Vec<crate::model::cert::Certificate>,
    /// Where `builtin` comes from, in words ("its compiled-in list", "its truststore …").
    pub builtin_from: String,
    /// Things discovery itself found wrong or worth saying (probe failed, not executed).
    pub notes: Vec<Note>,
    /// For env-var rows: which runtimes read this variable.
    pub affects: Vec<String>,
    /// The variable the env strategy points this runtime at (its kind's, refined per row).
    pub managed_var: Option<&'static str>,
    /// The account owning the runtime's directory (its `bin`), when discovery knows it: as
    /// root, rows of several users' homes are listed together.
    pub owner: Option<String>,
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
    /// In English (`--json`).
    pub message: String,
    /// The catalogue message it was rendered from, for human output (`None`: in words).
    pub msg: Option<crate::i18n::Msg>,
    /// True when the runtime cannot be judged (probe failed): its verdict is `broken`.
    pub fatal: bool,
}

impl Note {
    /// A note said with a catalogue message (English in `message`, for `--json`).
    pub fn said(code: &'static str, msg: crate::i18n::Msg, fatal: bool) -> Note {
        Note {
            code,
            message: msg.en(),
            msg: Some(msg),
            fatal,
        }
    }
}

impl Runtime {
    pub fn new(kind: RuntimeKind, path: PathBuf, label: String) -> Runtime {
        Runtime {
            kind,
            path,
            label,
            version: None,
            cafile: None,
            cafile_strict: kind.cafile_strict,
            extra_cafiles: Vec::new(),
            capath: Vec::new(),
            capath_store_lookup: false,
            x509_strict: false,
            configured_by: None,
            overridden_by: Vec::new(),
            replaces_defaults: true,
            adds_os_store: false,
            builtin: Vec::new(),
            builtin_from: "its compiled-in list".into(),
            bundle_version: None,
            bundle_path: None,
            notes: Vec::new(),
            affects: Vec::new(),
            reported_by_uid: None,
            owner: None,
            managed_var: kind.variable,
        }
    }
}

/// A dotted version (`3.11.7`, certifi's `2024.02.02`) as numbers, so that `24.10` sorts
/// after `24.2`. Stops at the first part that is not a number (`3.13.0rc1` gives `[3, 13]`).
pub fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map_while(|p| p.parse().ok()).collect()
}
