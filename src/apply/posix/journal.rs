//! The journal: what trustsync changed, with enough of the previous state (exact bytes, mode,
//! owner, or link text) to put every path back, and the record of what trustsync created
//! (the engine only ever replaces or removes paths whose newest entry it wrote).
//!
//! Layout of the state directory (`/var/lib/trustsync` as root, an XDG state dir otherwise,
//! `DIR/var/lib/trustsync` with `--root DIR`): `journal.json` (this file's [`Journal`]),
//! `saved/<sha256>` (previous file contents, content-addressed), `lock` (see
//! [`super::lock`]). Every file here is written with the same atomic rules as targets.
//!
//! Crash safety (write-ahead, one record per run):
//! 1. Before a run changes anything it saves the previous bytes of every file it will
//!    replace into `saved/`, then writes the journal with one `pending` entry per action
//!    (previous state + the digest the target will have). Only then does it touch targets.
//! 2. Each change is a single atomic rename, mkdir, symlink rename or unlink, so at any
//!    instant a target is either exactly its previous state or exactly the written state.
//! 3. When the run finishes, all its entries are marked `done` in one atomic journal write.
//!    If the run fails, it restores its changed targets, then drops its entries.
//!
//! Recovery: when a later run (fix or undo) takes the lock and finds `pending` entries, a
//! previous run was killed. For each such entry it looks at the target: if it has the
//! written digest, the change happened and the entry becomes `done` (the record is
//! completed); if it still has the previous digest, the change never happened and the entry
//! is dropped; if it has neither, someone changed it afterwards, and the entry becomes
//! `done` so `undo` will name that file instead of silently losing its previous bytes. Temp
//! files the killed run left next to its targets are removed. Recovery only writes the
//! journal and removes temp files, so it can itself be killed and simply runs again.
//!
//! Undo restores each path once, straight to the previous state of its *oldest* entry (the
//! state before trustsync first touched it), paths ordered by their newest entry, newest
//! first. A path already in that state (an undo killed half way) counts as undone, so undo
//! is safe to re-run, and a kill leaves each path whole-current or whole-original.
#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, Mode, OFlags};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};

use super::plan::path_serde;
use super::safe_fs::{self, SymlinkPolicy, TargetState, Walk};
use super::{ApplyError, Context, Result};

const JOURNAL_FILE: &str = "journal.json";
const SAVED_DIR: &str = "saved";
const JOURNAL_VERSION: u32 = 1;

/// What was at a path before trustsync changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Previous {
    Absent,
    /// Bytes are in `saved/<sha256>`.
    File {
        sha256: String,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    Symlink {
        #[serde(with = "path_serde")]
        target: PathBuf,
        uid: u32,
        gid: u32,
    },
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
    },
}

impl Previous {
    /// Digest of this state, in the plan's digest format.
    pub fn digest(&self) -> String {
        match self {
            Previous::Absent => safe_fs::ABSENT.to_string(),
            Previous::File { sha256, .. } => sha256.clone(),
            Previous::Symlink { target, .. } => safe_fs::symlink_digest(target),
            Previous::Dir { .. } => safe_fs::DIR.to_string(),
        }
    }

    /// The record for a target state; `None` for devices/fifos (never touched).
    pub fn from_state(state: &TargetState) -> Option<Previous> {
        Some(match state {
            TargetState::Absent => Previous::Absent,
            TargetState::File {
                mode,
                uid,
                gid,
                digest,
            } => Previous::File {
                sha256: digest.clone(),
                mode: *mode,
                uid: *uid,
                gid: *gid,
            },
            TargetState::Symlink { target, uid, gid } => Previous::Symlink {
                target: target.clone(),
                uid: *uid,
                gid: *gid,
            },
            TargetState::Dir { mode, uid, gid } => Previous::Dir {
                mode: *mode,
                uid: *uid,
                gid: *gid,
            },
            TargetState::Other => return None,
        })
    }
}

/// Whether the change an entry describes is known to be complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    Pending,
    Done,
}

/// One change to one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub run: u64,
    /// The action verb (`write_file`, `symlink`, …).
    pub op: String,
    /// Logical path (inside the root).
    #[serde(with = "path_serde")]
    pub path: PathBuf,
    pub previous: Previous,
    /// Digest of the target right after trustsync's change.
    pub written: String,
    /// Patch mode: the block id, so undo can remove just that block if the rest of the file
    /// changed since (e.g. a package upgrade rewrote it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_id: Option<String>,
    /// The run was allowed into directories other users control (`--allow-user-dirs`), so
    /// `undo` may go back into them for this entry: undo must always be able to undo.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub user_dirs_allowed: bool,
    pub state: EntryState,
}

/// Everything trustsync has changed and not yet undone, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    pub next_run: u64,
    pub entries: Vec<Entry>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            version: JOURNAL_VERSION,
            next_run: 1,
            entries: Vec::new(),
        }
    }
}

impl Journal {
    /// The newest entry for `path`.
    pub fn latest_for(&self, path: &Path) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.path == path)
    }

    /// True when trustsync made what is at `path` now: its newest entry wrote exactly
    /// `current_digest`. This is the rule behind "never modify a file trustsync did not
    /// create" — a file we wrote but someone edited since is not ours any more either.
    pub fn manages(&self, path: &Path, current_digest: &str) -> bool {
        self.latest_for(path)
            .is_some_and(|e| e.written == current_digest)
    }

    pub fn has_pending(&self) -> bool {
        self.entries.iter().any(|e| e.state == EntryState::Pending)
    }
}

/// Reads the journal without creating the state directory (planning, `--dry-run`): an
/// absent state directory means an empty journal.
pub fn read_journal(ctx: &Context) -> Result<Journal> {
    match open_state_fd(ctx, false)? {
        Some(fd) => load_from(&fd, &ctx.state_dir.join(JOURNAL_FILE)),
        None => Ok(Journal::default()),
    }
}

/// Opens (with `create`, first makes) the state directory. Inside a `--root` tree it is
/// walked like every target, so a symlinked `var` or `var/lib` in the tree resolves inside
/// the tree and never puts the journal on the host; on the live system it is the configured
/// path, its last component never a symlink. `None`: absent and not created.
fn open_state_fd(ctx: &Context, create: bool) -> Result<Option<OwnedFd>> {
    let path = &ctx.state_dir;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if ctx.root != Path::new("/") && path.starts_with(&ctx.root) {
        let logical = ctx.logical_path(path);
        let root_fd = safe_fs::open_root(ctx)?;
        let walk = |dir: &Path| safe_fs::walk_dir(ctx, &root_fd, dir, SymlinkPolicy::Strict);
        // Makes `dir` (and what is missing above it, mode 0755) with `mode`.
        let make = |dir: &Path, mode: u32| -> Result<()> {
            loop {
                let first_missing = match walk(dir)? {
                    Walk::Found(_) => return Ok(()),
                    Walk::Missing { first_missing } => first_missing,
                };
                let (parent, name) = safe_fs::split_target(&first_missing)?;
                let host = ctx.host_path(&first_missing);
                let Walk::Found(parent_fd) = walk(&parent)? else {
                    return Err(ApplyError::io(host, Errno::NOENT));
                };
                // Once everything above `dir` exists, what is missing is `dir` itself: only
                // it gets `mode` (its name may differ from `first_missing`'s path, which is
                // spelled through the links it resolved).
                let is_last = matches!(
                    walk(dir.parent().unwrap_or(Path::new("/")))?,
                    Walk::Found(_)
                );
                let mode = if is_last { mode } else { 0o755 };
                match safe_fs::make_dir(&parent_fd, &name, mode, safe_fs::DirSync::Now) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(ApplyError::io(host, e)),
                }
            }
        };
        return match walk(&logical)? {
            Walk::Found(fd) => Ok(Some(fd)),
            Walk::Missing { .. } if !create => Ok(None),
            Walk::Missing { .. } => {
                make(&logical, 0o700)?;
                match walk(&logical)? {
                    Walk::Found(fd) => Ok(Some(fd)),
                    Walk::Missing { first_missing } => {
                        Err(ApplyError::io(ctx.host_path(&first_missing), Errno::NOENT))
                    }
                }
            }
        };
    }
    if create {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|e| ApplyError::io(path, e))?;
    }
    match rfs::open(path, flags, Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::NOENT) if !create => Ok(None),
        Err(Errno::LOOP | Errno::NOTDIR) => {
            Err(ApplyError::UnexpectedSymlink { path: path.clone() })
        }
        Err(e) => Err(ApplyError::io(path, e)),
    }
}

fn load_from(dir: &OwnedFd, path: &Path) -> Result<Journal> {
    let (state, bytes) =
        safe_fs::inspect(dir, OsStr::new(JOURNAL_FILE)).map_err(|e| ApplyError::io(path, e))?;
    match (state, bytes) {
        (TargetState::Absent, _) => Ok(Journal::default()),
        (TargetState::File { .. }, Some(bytes)) => {
            let journal: Journal =
                serde_json::from_slice(&bytes).map_err(|e| ApplyError::Journal {
                    path: path.to_path_buf(),
                    detail: format!("cannot be read ({e}); it was not written by this trustsync"),
                })?;
            if journal.version != JOURNAL_VERSION {
                return Err(ApplyError::Journal {
                    path: path.to_path_buf(),
                    detail: format!("unknown version {}", journal.version),
                });
            }
            Ok(journal)
        }
        _ => Err(ApplyError::Journal {
            path: path.to_path_buf(),
            detail: "is not a regular file".to_string(),
        }),
    }
}

/// The opened state directory (checked, then used only through its descriptor).
pub struct StateDir {
    path: PathBuf,
    fd: OwnedFd,
    saved: OwnedFd,
}

impl StateDir {
    /// Creates (mode 0700) and opens the state directory. Refuses one that is a symlink, is
    /// owned by someone other than the running user, or that group/others can write: the
    /// journal decides what root may later delete.
    pub fn open(ctx: &Context) -> Result<StateDir> {
        let path = ctx.state_dir.clone();
        let fd = open_state_fd(ctx, true)?.ok_or_else(|| ApplyError::io(&path, Errno::NOENT))?;
        // Checked on the descriptor that is used, not on a path that could be swapped.
        let meta = rfs::fstat(&fd).map_err(|e| ApplyError::io(&path, e))?;
        let euid = rustix::process::geteuid().as_raw();
        if meta.st_uid != euid || meta.st_mode & 0o022 != 0 {
            return Err(ApplyError::Journal {
                path,
                detail: format!(
                    "state directory must be owned by uid {euid} and not writable by group or others (found uid {}, mode {:04o})",
                    meta.st_uid,
                    meta.st_mode & 0o7777
                ),
            });
        }
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let saved_path = path.join(SAVED_DIR);
        match rfs::mkdirat(&fd, SAVED_DIR, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(ApplyError::io(&saved_path, e)),
        }
        let saved = rfs::openat(&fd, SAVED_DIR, flags, Mode::empty())
            .map_err(|e| ApplyError::io(&saved_path, e))?;
        Ok(StateDir { path, fd, saved })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    fn journal_path(&self) -> PathBuf {
        self.path.join(JOURNAL_FILE)
    }

    /// Reads the journal (empty when there is none yet).
    pub fn load(&self) -> Result<Journal> {
        load_from(&self.fd, &self.journal_path())
    }

    /// Writes the journal atomically (temp file, fsync, rename, fsync directory).
    pub fn save(&self, journal: &Journal) -> Result<()> {
        let path = self.journal_path();
        let mut bytes = serde_json::to_vec(journal).map_err(|e| ApplyError::Journal {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        bytes.push(b'\n');
        write_private(&self.fd, OsStr::new(JOURNAL_FILE), &bytes)
            .map_err(|e| ApplyError::io(path, e))
    }

    /// Writes a small state record of trustsync's own (e.g. when a hook last ran) next to
    /// the journal, atomically and private to root. `name` is a fixed file name.
    pub fn save_record(&self, name: &str, bytes: &[u8]) -> Result<()> {
        write_private(&self.fd, OsStr::new(name), bytes)
            .map_err(|e| ApplyError::io(self.path.join(name), e))
    }

    /// Saves previous file contents under their SHA-256 (skipped when already saved).
    pub fn save_blob(&self, bytes: &[u8]) -> Result<String> {
        let digest = safe_fs::sha256_hex(bytes);
        let name = OsStr::new(&digest);
        match rfs::statat(&self.saved, name, rfs::AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => return Ok(digest),
            Err(Errno::NOENT) => {}
            Err(e) => return Err(ApplyError::io(self.path.join(SAVED_DIR).join(&digest), e)),
        }
        write_private(&self.saved, name, bytes)
            .map_err(|e| ApplyError::io(self.path.join(SAVED_DIR).join(&digest), e))?;
        Ok(digest)
    }

    /// Reads saved contents back, verifying their digest.
    pub fn load_blob(&self, sha256: &str) -> Result<Vec<u8>> {
        let path = self.path.join(SAVED_DIR).join(sha256);
        let fd = rfs::openat(
            &self.saved,
            sha256,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ApplyError::io(&path, e))?;
        let mut bytes = Vec::new();
        std::fs::File::from(fd)
            .read_to_end(&mut bytes)
            .map_err(|e| ApplyError::io(&path, e))?;
        if safe_fs::sha256_hex(&bytes) != sha256 {
            return Err(ApplyError::Journal {
                path,
                detail: "saved contents do not match their digest".to_string(),
            });
        }
        Ok(bytes)
    }

    /// Removes saved contents no entry refers to any more, and temp files a killed run left.
    pub fn collect_garbage(&self, journal: &Journal) -> Result<()> {
        let saved_path = self.path.join(SAVED_DIR);
        let wanted: HashSet<String> = journal
            .entries
            .iter()
            .filter_map(|e| match &e.previous {
                Previous::File { sha256, .. } => Some(sha256.clone()),
                _ => None,
            })
            .collect();
        let names = safe_fs::list_dir(&self.saved).map_err(|e| ApplyError::io(&saved_path, e))?;
        for name in names {
            let keep = name.to_str().is_some_and(|n| wanted.contains(n));
            if !keep {
                match rfs::unlinkat(&self.saved, name.as_os_str(), rfs::AtFlags::empty()) {
                    Ok(()) | Err(Errno::NOENT) => {}
                    Err(e) => return Err(ApplyError::io(saved_path.join(&name), e)),
                }
            }
        }
        safe_fs::remove_stale_temps(&self.fd).map_err(|e| ApplyError::io(&self.path, e))?;
        Ok(())
    }
}

/// The journal's own files (the record, saved previous contents): mode 0600, replaced
/// atomically, the directory synced before returning, since a change may follow at once.
fn write_private(dir: &OwnedFd, name: &OsStr, bytes: &[u8]) -> std::io::Result<()> {
    safe_fs::write_atomic(
        dir,
        name,
        bytes,
        0o600,
        safe_fs::WriteOptions {
            owner: None,
            placement: safe_fs::Placement::Replace,
            sync: safe_fs::DirSync::Now,
        },
        &mut || {},
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An image whose `var` is an absolute symlink: the journal goes where that link points
    /// *inside the image*, never to the same path on the host.
    #[test]
    fn the_state_dir_of_a_tree_stays_inside_the_tree() {
        let tree = tempfile::tempdir().unwrap();
        let host = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(host.path(), tree.path().join("var")).unwrap();
        let ctx = Context::with_root(tree.path());
        assert!(read_journal(&ctx).unwrap().entries.is_empty());
        let state = StateDir::open(&ctx).unwrap();
        state.save(&Journal::default()).unwrap();
        let inside = tree
            .path()
            .join(host.path().strip_prefix("/").unwrap())
            .join("lib/trustsync/journal.json");
        assert!(inside.is_file(), "{inside:?}");
        assert!(
            !host.path().join("lib").exists(),
            "nothing was written on the host"
        );
        let mode = std::fs::metadata(inside.parent().unwrap()).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o700
        );
    }
}
