//! The Windows fix's journal: for every file and registry value trustsync changed, what was
//! there before it first touched it (exact bytes, or the exact value with its type, or
//! nothing) and the digest of what it last wrote.
//!
//! Why: `undo` must put back exactly the previous state and must never remove or overwrite
//! what someone else changed since; both need this record. It is written ahead of every
//! change (the entry is saved with `pending` = the digest about to be written, then the
//! change is made, then `pending` is cleared), so a run killed between the two is completed
//! or forgotten by [`super::engine`]'s recovery on the next run.
//!
//! Layout of the state dir (`%ProgramData%\trustsync` or `%LOCALAPPDATA%\trustsync`):
//! `journal.json` (this [`Journal`]), `lock` ([`super::lock`]) and the managed bundle.
//! Previous file contents are kept inline (base64): the only file this engine writes is its
//! own bundle, so there is at most one, usually none.
#![forbid(unsafe_code)]

use super::{base64_bytes, bytes_digest, value_digest, RegValue, Scope, WinError, ABSENT};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

const JOURNAL_FILE: &str = "journal.json";
const JOURNAL_VERSION: u32 = 1;
/// Prefix of the temp files atomic writes stage next to their target.
pub const TEMP_PREFIX: &str = ".trustsync-tmp-";

/// What an entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    File { path: PathBuf },
    EnvVar { scope: Scope, name: String },
}

impl Target {
    /// As plans and reports show it: the path, or `KEY\NAME`.
    pub fn display(&self) -> String {
        match self {
            Target::File { path } => path.display().to_string(),
            Target::EnvVar { scope, name } => format!("{}\\{name}", scope.key_name()),
        }
    }
}

/// The state before trustsync's first change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Prior {
    Absent,
    File {
        #[serde(with = "base64_bytes")]
        bytes: Vec<u8>,
    },
    Value {
        value: RegValue,
    },
}

impl Prior {
    pub fn digest(&self) -> String {
        match self {
            Prior::Absent => ABSENT.to_string(),
            Prior::File { bytes } => bytes_digest(bytes),
            Prior::Value { value } => value_digest(Some(value)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub target: Target,
    /// What was there before trustsync first changed it; `undo` restores this.
    pub original: Prior,
    /// Digest of what trustsync last wrote; `None` until its first change completed.
    pub written: Option<String>,
    /// Digest being written right now (write-ahead); `None` when no change is under way.
    pub pending: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    /// In the order trustsync first touched each target; `undo` goes newest first.
    pub entries: Vec<Entry>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            version: JOURNAL_VERSION,
            entries: Vec::new(),
        }
    }
}

impl Journal {
    pub fn entry(&self, target: &Target) -> Option<&Entry> {
        self.entries.iter().find(|e| &e.target == target)
    }

    pub fn entry_mut(&mut self, target: &Target) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| &e.target == target)
    }

    /// Whether trustsync wrote `target` and it still has the digest trustsync left there.
    pub fn owns(&self, target: &Target, current_digest: &str) -> bool {
        self.entry(target)
            .is_some_and(|e| e.written.as_deref() == Some(current_digest))
    }
}

/// The state directory; created by [`StateDir::create`] (under the lock), only read by
/// [`StateDir::at`] (a dry run writes nothing, not even the directory).
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    pub fn at(dir: impl Into<PathBuf>) -> StateDir {
        StateDir { dir: dir.into() }
    }

    /// Creates the directory if needed; refuses one that is a symlink or junction.
    pub fn create(dir: impl Into<PathBuf>) -> Result<StateDir, WinError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| WinError::io(&dir, e))?;
        let meta = std::fs::symlink_metadata(&dir).map_err(|e| WinError::io(&dir, e))?;
        if !meta.file_type().is_dir() {
            return Err(WinError::UnexpectedLink {
                target: dir.display().to_string(),
            });
        }
        Ok(StateDir { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(JOURNAL_FILE)
    }

    /// The journal; an empty one when there is none yet.
    pub fn load(&self) -> Result<Journal, WinError> {
        let path = self.journal_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Journal::default()),
            Err(e) => return Err(WinError::io(path, e)),
        };
        let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| WinError::Journal {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        if journal.version != JOURNAL_VERSION {
            return Err(WinError::Journal {
                path,
                detail: format!(
                    "version {} is not one this trustsync reads",
                    journal.version
                ),
            });
        }
        Ok(journal)
    }

    pub fn save(&self, journal: &Journal) -> Result<(), WinError> {
        let text = serde_json::to_vec_pretty(journal).expect("journal serializes");
        write_atomically(&self.journal_path(), &text)
    }
}

/// Writes `bytes` to `path` so that at every instant `path` is whole-old or whole-new: a
/// temp file in the same directory, flushed and synced, then renamed over the target
/// (`MoveFileExW` with `MOVEFILE_REPLACE_EXISTING` on Windows, `rename` elsewhere; both by
/// `tempfile`'s `persist`). Refuses to replace a symlink or junction.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WinError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
        return Err(WinError::UnexpectedLink {
            target: path.display().to_string(),
        });
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| WinError::io(dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| WinError::io(tmp.path(), e))?;
    tmp.flush().map_err(|e| WinError::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| WinError::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| WinError::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_round_trips_and_atomic_write_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::create(dir.path().join("trustsync")).unwrap();
        assert_eq!(state.load().unwrap(), Journal::default());
        let mut j = Journal::default();
        j.entries.push(Entry {
            target: Target::EnvVar {
                scope: Scope::User,
                name: "SSL_CERT_FILE".into(),
            },
            original: Prior::Value {
                value: RegValue {
                    kind: super::super::REG_EXPAND_SZ,
                    data: vec![0x25, 0, 0, 0],
                },
            },
            written: Some("reg:00".into()),
            pending: None,
        });
        j.entries.push(Entry {
            target: Target::File {
                path: dir.path().join("b.pem"),
            },
            original: Prior::File {
                bytes: b"old\x00\xff".to_vec(),
            },
            written: None,
            pending: Some("abc".into()),
        });
        state.save(&j).unwrap();
        state.save(&j).unwrap();
        assert_eq!(state.load().unwrap(), j);
        let names: Vec<_> = std::fs::read_dir(state.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["journal.json"], "no temp file left behind");
        std::fs::write(state.journal_path(), b"{not json").unwrap();
        assert!(matches!(state.load(), Err(WinError::Journal { .. })));
    }
}
