//! The Windows plan as data: the changes `fix` makes (write trustsync's bundle, set a
//! persistent variable in the registry) and how they are shown. Which changes a machine
//! needs is decided in `commands::fix::windows`; they are applied by [`super::engine`].

use super::{bytes_digest, RegValue, Scope, WinError, ABSENT};
use crate::apply::{printable, Advice, RuntimeFix};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What is at the managed bundle's path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileNow {
    Absent,
    File(Vec<u8>),
    /// A directory, symlink, junction or device: never written through or replaced.
    NotAFile,
}

/// Digest of something that is neither absent nor a regular file.
pub const OTHER: &str = "other";

impl FileNow {
    /// Reads `path` without following a final symlink or junction.
    pub fn read(path: &Path) -> Result<FileNow, WinError> {
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileNow::Absent),
            Err(e) => Err(WinError::io(path, e)),
            Ok(m) if m.file_type().is_file() => std::fs::read(path)
                .map(FileNow::File)
                .map_err(|e| WinError::io(path, e)),
            Ok(_) => Ok(FileNow::NotAFile),
        }
    }

    pub fn digest(&self) -> String {
        match self {
            FileNow::Absent => ABSENT.to_string(),
            FileNow::File(bytes) => bytes_digest(bytes),
            FileNow::NotAFile => OTHER.to_string(),
        }
    }
}

/// One change: write the managed bundle, or set one variable in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WinAction {
    /// The file path, or `KEY\NAME` for a registry value.
    pub target: String,
    #[serde(flatten)]
    pub kind: WinActionKind,
    /// Why, in plain words (English: the JSON's).
    pub reason: String,
    /// The same reason as a catalogue message, shown in the run's language.
    #[serde(skip)]
    pub reason_msg: Option<crate::i18n::Msg>,
    /// Digest of what is there when planned (`absent`, a file's SHA-256, `reg:…`).
    pub current_digest: String,
    /// Digest it has once applied.
    pub result_digest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum WinActionKind {
    /// Create or replace trustsync's own bundle.
    WriteFile {
        #[serde(skip)]
        path: PathBuf,
        #[serde(skip)]
        contents: Vec<u8>,
        certificates: usize,
    },
    /// Create a persistent environment variable (`REG_SZ`) in `scope`'s key.
    SetEnvVar {
        scope: Scope,
        name: String,
        value: String,
    },
}

impl WinAction {
    /// The value a `SetEnvVar` writes.
    pub fn reg_value(&self) -> Option<RegValue> {
        match &self.kind {
            WinActionKind::SetEnvVar { value, .. } => Some(RegValue::string(value)),
            WinActionKind::WriteFile { .. } => None,
        }
    }
}

/// The plan `fix --dry-run` shows and `fix` applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WinPlan {
    pub scope: Scope,
    pub actions: Vec<WinAction>,
    pub advice: Vec<Advice>,
    /// One entry per runtime `status` looked at, in its order: what this plan does for it.
    #[serde(skip)]
    pub runtimes: Vec<RuntimeFix>,
}

impl WinPlan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The plan for a person, numbered like the POSIX plan.
    pub fn render_human(&self) -> String {
        render_actions(&self.actions)
    }
}

/// One numbered line per action, then its reason; control characters escaped so a path
/// cannot forge a line.
pub fn render_actions(actions: &[WinAction]) -> String {
    render_as(actions, |n| msg!("plan-changes", count = n))
}

/// What a real run did: the list under "Applied. N change(s) made:".
pub fn render_applied(actions: &[WinAction]) -> String {
    render_as(actions, |n| msg!("plan-changes-made", count = n))
}

fn render_as(actions: &[WinAction], heading: fn(usize) -> crate::i18n::Msg) -> String {
    if actions.is_empty() {
        return t!("plan-nothing-to-do") + "\n";
    }
    let mut out = heading(actions.len()).text() + "\n";
    for (i, a) in actions.iter().enumerate() {
        let what = match &a.kind {
            WinActionKind::WriteFile {
                contents,
                certificates,
                ..
            } => t!(
                "plan-win-write-file",
                replace = if a.current_digest == ABSENT {
                    "no"
                } else {
                    "yes"
                },
                target = printable(&a.target),
                bytes = contents.len(),
                certs = *certificates
            ),
            WinActionKind::SetEnvVar { value, .. } => t!(
                "plan-win-set-var",
                variable = printable(&a.target),
                value = printable(value)
            ),
        };
        out.push_str(&format!(
            "{:>3}. {what}\n     {}\n",
            i + 1,
            t!(
                "plan-why",
                reason = printable(
                    &a.reason_msg
                        .as_ref()
                        .map_or_else(|| a.reason.clone(), |m| m.text())
                )
            )
        ));
    }
    out
}

/// Looks a variable up the way Windows does: names are case-insensitive.
pub fn env_get<'a>(env: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    env.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}
