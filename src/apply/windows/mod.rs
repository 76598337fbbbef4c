//! `trustsync fix` / `undo` on Windows: a managed bundle file plus persistent environment
//! variables in the registry, planned as data, applied atomically and journaled so `undo`
//! puts back exactly what was there.
//!
//! Why a separate engine rather than the POSIX one ([`crate::apply::posix`]): on Windows, Python's
//! `ssl` already reads the Windows stores, so the only thing to repair is what bundle-reading
//! runtimes (requests/certifi, old pip, botocore, httplib2, …) see. The repair touches one
//! file trustsync owns (`%ProgramData%\trustsync\ca-bundle.pem`, or under `%LOCALAPPDATA%`
//! when not an administrator) and registry values (`HKLM\…\Session Manager\Environment` or
//! `HKCU\Environment`). The POSIX engine is built around what Windows does not have (dir
//! fds, `O_NOFOLLOW` walks, modes and owners, hashed directories, symlinks, flock) and does
//! not know registry values at all; bending it would make both harder to trust. The rules
//! are the same: plan as data (`--dry-run` shows the value `fix` applies), a write-ahead
//! journal holding the previous file bytes and the previous registry value (or its
//! absence) before each change, one run at a time, atomic file writes, and never a change to
//! a file or variable trustsync did not create.
//!
//! Everything here except the registry calls compiles and is unit-tested on every OS:
//! [`plan`] decides from plain data ([`plan::Facts`]), [`engine`] applies and undoes through
//! the [`EnvStore`] trait (an in-memory store in the tests, the registry on Windows:
//! [`trustsync_platform::windows_env`]), [`journal`] is the record and [`lock`] the one-run-at-a-time
//! rule.

pub mod acl;
pub mod engine;
pub mod journal;
pub mod lock;
pub mod plan;
#[cfg(windows)]
pub mod registry;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;

pub use engine::{apply_locked, preflight, undo_locked, Applied, UndoReport};
pub use journal::StateDir;
pub use lock::WinLock;
pub use plan::{FileNow, WinAction, WinActionKind, WinPlan};

/// Where the variables are set, and so who sees them and where trustsync keeps its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`: every user
    /// (needs an administrator); files under `%ProgramData%\trustsync`.
    Machine,
    /// `HKCU\Environment`: this user; files under `%LOCALAPPDATA%\trustsync`.
    User,
}

impl Scope {
    /// The registry key below its hive.
    pub fn subkey(self) -> &'static str {
        match self {
            Scope::Machine => r"SYSTEM\CurrentControlSet\Control\Session Manager\Environment",
            Scope::User => "Environment",
        }
    }

    /// The key as `reg.exe` and people write it.
    pub fn key_name(self) -> String {
        match self {
            Scope::Machine => format!(r"HKLM\{}", self.subkey()),
            Scope::User => format!(r"HKCU\{}", self.subkey()),
        }
    }

    pub fn other(self) -> Scope {
        match self {
            Scope::Machine => Scope::User,
            Scope::User => Scope::Machine,
        }
    }

    /// The variable naming the folder trustsync's files live under, for this scope.
    fn base_var(self) -> &'static str {
        match self {
            Scope::Machine => "ProgramData",
            Scope::User => "LOCALAPPDATA",
        }
    }

    /// `%ProgramData%\trustsync` or `%LOCALAPPDATA%\trustsync`: the managed bundle, the
    /// journal and the lock. `None` when the variable is not set (then nothing is written).
    pub fn state_dir(self, env: &HashMap<String, String>) -> Option<PathBuf> {
        plan::env_get(env, self.base_var()).map(|v| PathBuf::from(v).join("trustsync"))
    }
}

/// Where one run works: the scope and the managed bundle's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub scope: Scope,
    pub state_dir: PathBuf,
    pub bundle: PathBuf,
}

/// The managed bundle's file name in the state dir.
pub const BUNDLE_FILE: &str = "ca-bundle.pem";

impl Layout {
    pub fn new(scope: Scope, env: &HashMap<String, String>) -> Result<Layout, WinError> {
        let state_dir = scope.state_dir(env).ok_or(WinError::NoStateDir {
            var: scope.base_var(),
        })?;
        Ok(Layout {
            scope,
            bundle: state_dir.join(BUNDLE_FILE),
            state_dir,
        })
    }
}

/// `REG_SZ`, as winnt.h numbers it.
pub const REG_SZ: u32 = 1;
/// `REG_EXPAND_SZ`: a string whose `%VAR%` references are expanded when read.
pub const REG_EXPAND_SZ: u32 = 2;

/// A registry value exactly as stored: its type and raw bytes, so a restored value is
/// byte-identical (type included) to what was there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegValue {
    pub kind: u32,
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
}

impl RegValue {
    /// A `REG_SZ` holding `text` (UTF-16LE with its terminating NUL, as Windows writes it).
    pub fn string(text: &str) -> RegValue {
        let mut data: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        data.extend_from_slice(&[0, 0]);
        RegValue { kind: REG_SZ, data }
    }

    /// The text of a string value (trailing NULs dropped); `None` for other types.
    pub fn text(&self) -> Option<String> {
        if self.kind != REG_SZ && self.kind != REG_EXPAND_SZ {
            return None;
        }
        let units: Vec<u16> = self
            .data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let end = units.iter().rposition(|u| *u != 0).map_or(0, |i| i + 1);
        Some(String::from_utf16_lossy(&units[..end]))
    }

    /// The digest a plan and the journal use for this value: `reg:` + SHA-256 of the type
    /// (4 bytes, little-endian) followed by the data.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.kind.to_le_bytes());
        h.update(&self.data);
        format!("reg:{}", hex::encode(h.finalize()))
    }
}

/// The digest of "nothing there", for files and values alike (as in the POSIX plan).
pub const ABSENT: &str = "absent";

/// Digest of an optional value.
pub fn value_digest(v: Option<&RegValue>) -> String {
    v.map_or_else(|| ABSENT.to_string(), RegValue::digest)
}

/// Digest of file bytes: lower-case hex SHA-256, as in the POSIX plan.
pub fn bytes_digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One environment block in the registry (a scope's key). The engine only reads and
/// writes values through this, so it is tested with an in-memory map on any OS.
pub trait EnvStore {
    fn scope(&self) -> Scope;
    fn get(&self, name: &str) -> Result<Option<RegValue>, WinError>;
    fn set(&mut self, name: &str, value: &RegValue) -> Result<(), WinError>;
    /// Deleting a value that is not there is not an error.
    fn delete(&mut self, name: &str) -> Result<(), WinError>;
}

/// An [`EnvStore`] in memory: the engine's tests, and a stand-in anywhere a registry is not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryEnv {
    pub scope: Option<Scope>,
    pub values: std::collections::BTreeMap<String, RegValue>,
    /// Names whose `set` fails (to test rollback).
    pub fail_on_set: Vec<String>,
}

impl EnvStore for MemoryEnv {
    fn scope(&self) -> Scope {
        self.scope.unwrap_or(Scope::User)
    }
    fn get(&self, name: &str) -> Result<Option<RegValue>, WinError> {
        Ok(self.values.get(name).cloned())
    }
    fn set(&mut self, name: &str, value: &RegValue) -> Result<(), WinError> {
        if self.fail_on_set.iter().any(|n| n == name) {
            return Err(WinError::Registry {
                key: self.scope().key_name(),
                name: name.to_string(),
                what: "set",
                source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            });
        }
        self.values.insert(name.to_string(), value.clone());
        Ok(())
    }
    fn delete(&mut self, name: &str) -> Result<(), WinError> {
        self.values.remove(name);
        Ok(())
    }
}

/// Everything that can stop a Windows plan, apply or undo; each names the file or value.
#[derive(Debug, thiserror::Error)]
pub enum WinError {
    #[error("%{var}% is not set; cannot tell where trustsync's files go")]
    NoStateDir { var: &'static str },
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{key}\\{name}: {what}: {source}")]
    Registry {
        key: String,
        name: String,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{target} changed since planned (planned {planned}, found {found}); run the fix again to re-plan")]
    ChangedSincePlanned {
        target: String,
        planned: String,
        found: String,
    },
    #[error("{target} was not created by trustsync; refusing to modify or remove it")]
    NotOurs { target: String },
    #[error("{target} changed after trustsync wrote it; refusing to overwrite it (use --force to restore it anyway)")]
    ChangedAfterWrite { target: String },
    #[error("{target} is a symlink or junction; refusing to write through it")]
    UnexpectedLink { target: String },
    #[error("refusing to write {target}: the OS store gave no certificate")]
    EmptyBundle { target: String },
    #[error("{target} is recorded for {recorded}, but this run works on {current}; run `trustsync undo` the way `fix` was run (as administrator or not)")]
    WrongScope {
        target: String,
        recorded: String,
        current: String,
    },
    #[error("refusing to use {}: {why}; remove it (or give it to Administrators only), then run `trustsync fix` again", .dir.display())]
    UnsafeStateDir { dir: PathBuf, why: String },
    #[error("another trustsync run holds the lock {}", .lock.display())]
    Locked { lock: PathBuf },
    #[error("journal {}: {detail}", .path.display())]
    Journal { path: PathBuf, detail: String },
    #[error("{cause}; rolled back this run's {undone} change(s)")]
    RolledBack { cause: Box<WinError>, undone: usize },
    #[error("{cause}; rollback also failed ({rollback}); run `trustsync undo`")]
    RollbackFailed {
        cause: Box<WinError>,
        rollback: Box<WinError>,
    },
}

impl WinError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> WinError {
        WinError::Io {
            path: path.into(),
            source,
        }
    }
}

/// The machine state dir (`%ProgramData%\trustsync`): with `create`, made if missing with
/// [`acl::MACHINE_DIR_SDDL`]; then, if it exists, refused unless only SYSTEM,
/// Administrators or this user can change it (see [`acl`]).
#[cfg(windows)]
pub fn secure_machine_dir(dir: &std::path::Path, create: bool) -> Result<(), WinError> {
    use trustsync_platform::windows_acl;
    if create {
        windows_acl::create_dir_with_sddl(dir, acl::MACHINE_DIR_SDDL)
            .map_err(|e| WinError::io(dir, e))?;
    } else if !dir.exists() {
        return Ok(());
    }
    let sddl = windows_acl::owner_and_dacl_sddl(dir).map_err(|e| WinError::io(dir, e))?;
    let me = windows_acl::current_user_sid().map_err(|e| WinError::io(dir, e))?;
    match acl::unsafe_reason(&sddl, &me) {
        Some(why) => Err(WinError::UnsafeStateDir {
            dir: dir.to_path_buf(),
            why,
        }),
        None => Ok(()),
    }
}

/// After `fix`, a process started before it still lacks the variables: under each drifting
/// runtime whose variable `scope`'s key already points at that scope's managed bundle, say
/// so (the POSIX `fixed-for-new-shells` note), instead of leaving a bare `drift`.
pub fn note_pending_env(
    diagnoses: &mut [crate::diagnose::Diagnosis],
    scope: Scope,
    registry: &std::collections::BTreeMap<String, RegValue>,
    bundle: &std::path::Path,
    env: &HashMap<String, String>,
) {
    let bundle = bundle.display().to_string();
    for d in diagnoses
        .iter_mut()
        .filter(|d| d.verdict == crate::diagnose::Verdict::Drift && !d.missing.is_empty())
    {
        let Some(var) = crate::apply::managed_var_for(d) else {
            continue;
        };
        let ours = registry
            .get(var)
            .and_then(RegValue::text)
            .is_some_and(|v| v.eq_ignore_ascii_case(&bundle));
        if !ours || plan::env_get(env, var).is_some() {
            continue;
        }
        d.problems.push(crate::diagnose::Problem::said(
            "fixed-for-new-shells",
            crate::diagnose::Severity::Info,
            msg!(
                "problem-fixed-for-new-windows",
                key = scope.key_name(),
                variable = var,
                bundle = &bundle
            ),
        ));
    }
}

/// Bytes as base64 in JSON (registry data and saved file contents in the journal).
pub(crate) mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_sz_round_trip_and_digest() {
        let v = RegValue::string(r"C:\ProgramData\trustsync\ca-bundle.pem");
        assert_eq!(v.kind, REG_SZ);
        assert_eq!(&v.data[v.data.len() - 2..], &[0, 0], "NUL-terminated");
        assert_eq!(
            v.text().as_deref(),
            Some(r"C:\ProgramData\trustsync\ca-bundle.pem")
        );
        // Same text, other type: a different value (restoring must keep the type).
        let expand = RegValue {
            kind: REG_EXPAND_SZ,
            data: v.data.clone(),
        };
        assert_ne!(v.digest(), expand.digest());
        assert_eq!(value_digest(None), ABSENT);
        assert_eq!(
            RegValue {
                kind: 4,
                data: vec![1, 0, 0, 0]
            }
            .text(),
            None
        );
    }

    #[test]
    fn layout_per_scope() {
        let env: HashMap<String, String> = [
            ("PROGRAMDATA", r"C:\ProgramData"),
            ("LOCALAPPDATA", r"C:\Users\u\AppData\Local"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let m = Layout::new(Scope::Machine, &env).unwrap();
        assert_eq!(
            m.state_dir,
            PathBuf::from(r"C:\ProgramData").join("trustsync")
        );
        assert!(m.bundle.ends_with(BUNDLE_FILE));
        let u = Layout::new(Scope::User, &env).unwrap();
        assert!(u.state_dir.starts_with(r"C:\Users\u\AppData\Local"));
        assert!(matches!(
            Layout::new(Scope::Machine, &HashMap::new()),
            Err(WinError::NoStateDir { var: "ProgramData" })
        ));
        assert_eq!(Scope::User.key_name(), r"HKCU\Environment");
        assert!(Scope::Machine.key_name().starts_with(r"HKLM\SYSTEM\"));
    }
}
