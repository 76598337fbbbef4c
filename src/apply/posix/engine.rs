//! Applying a [`Plan`] (undoing what the journal records is `undo.rs`, next to it).
//!
//! Why one place: the order of steps is the safety argument. `apply` checks *every* action
//! (planned digest still there, no unexpected symlink, directory not user-controlled, write
//! permission, "ours" per the journal, bundle guards) before writing anything, so a refusal
//! or a missing `sudo` leaves the system untouched; then it writes the write-ahead journal,
//! then performs each change atomically, re-checking the digest immediately before it; on
//! any error it restores this run's changes. `undo` checks every path first too, then
//! restores newest first. The journal module doc explains crash recovery.
#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::journal::{Entry, EntryState, Journal, Previous};
use super::lock::StateLock;
use super::marked_block;
use super::plan::{path_serde, Action, ActionKind, Plan};
use super::safe_fs::{self, DirSync, Placement, SymlinkPolicy, TargetState, Walk, WriteOptions};
pub(super) use super::undo::restore;
use super::{ApplyError, Context, ProgressEvent, Result};

/// What a run did: the same actions as the plan it was given (so `--dry-run` output and the
/// real run's report are the same list), and the journal run number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// Journal run number; `None` when there was nothing to do.
    pub run: Option<u64>,
    pub actions: Vec<Action>,
}

/// What `undo` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UndoReport {
    /// Paths put back to their previous bytes/link (and mode and owner).
    #[serde(serialize_with = "paths")]
    pub restored: Vec<PathBuf>,
    /// Paths trustsync had created and removed now.
    #[serde(serialize_with = "paths")]
    pub removed: Vec<PathBuf>,
    /// Directories trustsync created that are not empty now (someone put files in them):
    /// left in place.
    #[serde(serialize_with = "paths")]
    pub kept_nonempty_dirs: Vec<PathBuf>,
    /// Patch-mode files whose trustsync block was already gone (e.g. a package upgrade).
    #[serde(serialize_with = "paths")]
    pub block_already_gone: Vec<PathBuf>,
}

fn paths<S: serde::Serializer>(v: &[PathBuf], s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    struct One<'a>(&'a Path);
    impl Serialize for One<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            path_serde::serialize(self.0, s)
        }
    }
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for p in v {
        seq.serialize_element(&One(p))?;
    }
    seq.end()
}

/// Takes the lock, then [`apply_locked`]. Prefer taking the lock before planning.
pub fn apply(plan: &Plan, ctx: &Context) -> Result<Applied> {
    let lock = StateLock::acquire(ctx)?;
    apply_locked(plan, ctx, &lock)
}

/// Every check `apply` makes before writing (digests, symlinks, directory ownership and
/// permissions, "ours", bundle guards), without writing anything or creating the state
/// directory. `--dry-run` calls it so that it reports the same refusal the real run would.
pub fn preflight(plan: &Plan, ctx: &Context) -> Result<()> {
    let journal = super::journal::read_journal(ctx)?;
    let mut dirs = Dirs::new(ctx)?;
    prepare(plan, ctx, &mut dirs, &journal).map(|_| ())
}

/// Opened parent directories by logical path, so a plan of many links in one directory walks
/// it once.
pub(super) struct Dirs<'c> {
    ctx: &'c Context,
    root: OwnedFd,
    open: HashMap<PathBuf, OwnedFd>,
    /// Directories changed with [`DirSync::Deferred`], fsynced by [`Dirs::sync_touched`].
    touched: HashSet<PathBuf>,
    /// Directories found missing (a plan creating a directory and 150 links in it walks the
    /// path once, not 150 times); cleared whenever the engine creates a directory.
    missing: HashSet<PathBuf>,
}

impl<'c> Dirs<'c> {
    pub(super) fn new(ctx: &'c Context) -> Result<Self> {
        Ok(Dirs {
            ctx,
            root: safe_fs::open_root(ctx)?,
            open: HashMap::new(),
            touched: HashSet::new(),
            missing: HashSet::new(),
        })
    }

    /// A directory was created: forget cached "missing" answers.
    pub(super) fn created(&mut self) {
        self.missing.clear();
    }

    pub(super) fn touch(&mut self, dir: &Path) {
        self.touched.insert(dir.to_path_buf());
    }

    /// Fsyncs every touched directory once (those removed meanwhile need nothing).
    pub(super) fn sync_touched(&mut self) -> Result<()> {
        let mut touched: Vec<PathBuf> = self.touched.drain().collect();
        touched.sort();
        for dir in touched {
            let host = self.ctx.host_path(&dir);
            if let Some(fd) = self.get(&dir)? {
                match rustix::fs::fsync(fd) {
                    Ok(()) | Err(rustix::io::Errno::NOENT) => {}
                    Err(e) => return Err(ApplyError::io(host, e)),
                }
            }
        }
        Ok(())
    }

    /// The directory, or `None` if (a component of) it does not exist.
    pub(super) fn get(&mut self, dir: &Path) -> Result<Option<&OwnedFd>> {
        if self.missing.contains(dir) {
            return Ok(None);
        }
        if !self.open.contains_key(dir) {
            match safe_fs::walk_dir(self.ctx, &self.root, dir, SymlinkPolicy::Strict)? {
                Walk::Found(fd) => {
                    self.open.insert(dir.to_path_buf(), fd);
                }
                Walk::Missing { .. } => {
                    self.missing.insert(dir.to_path_buf());
                    return Ok(None);
                }
            }
        }
        Ok(self.open.get(dir))
    }

    pub(super) fn must_get(&mut self, dir: &Path) -> Result<&OwnedFd> {
        let host = self.ctx.host_path(dir);
        self.get(dir)?
            .ok_or_else(|| ApplyError::io(host, std::io::Error::from(std::io::ErrorKind::NotFound)))
    }
}

/// An action that passed every check, with what it needs to run and to be undone.
struct Prepared<'p> {
    index: usize,
    action: &'p Action,
    parent: PathBuf,
    name: OsString,
    previous: Previous,
    previous_bytes: Option<Vec<u8>>,
    /// New file bytes for patch-mode edits (WriteFile uses the action's own contents).
    edited: Option<Vec<u8>>,
    /// Mode and owner to keep for patch-mode edits.
    keep: Option<(u32, u32, u32)>,
}

pub(super) fn inspect_at(
    ctx: &Context,
    dir: &OwnedFd,
    name: &OsString,
    target: &Path,
) -> Result<(TargetState, Option<Vec<u8>>)> {
    safe_fs::inspect(dir, name).map_err(|e| ApplyError::io(ctx.host_path(target), e))
}

/// Checks every action; returns only those with something to do. Writes nothing.
fn prepare<'p>(
    plan: &'p Plan,
    ctx: &Context,
    dirs: &mut Dirs<'_>,
    journal: &Journal,
) -> Result<Vec<Prepared<'p>>> {
    let euid = rustix::process::geteuid().as_raw();
    let mut seen = HashSet::new();
    let mut dirs_created_here: HashSet<PathBuf> = HashSet::new();
    let mut checked_dirs: HashSet<PathBuf> = HashSet::new();
    let mut out = Vec::new();
    for (index, action) in plan.actions.iter().enumerate() {
        let target = &action.target;
        let host = ctx.host_path(target);
        let (parent, name) = safe_fs::split_target(target)?;
        if !seen.insert(target.clone()) {
            return Err(ApplyError::InvalidAction {
                path: host,
                what: "appears twice in one plan".to_string(),
            });
        }
        let (state, bytes) = match dirs.get(&parent)? {
            Some(dir) => {
                if checked_dirs.insert(parent.clone()) {
                    safe_fs::check_dir_writable(ctx, dir, &ctx.host_path(&parent))?;
                }
                inspect_at(ctx, dir, &name, target)?
            }
            None => {
                // Only fine when earlier actions of this plan create every missing level;
                // those actions' own checks covered the existing ancestor.
                let mut missing = parent.clone();
                loop {
                    if !dirs_created_here.contains(&missing) {
                        return Err(ApplyError::InvalidAction {
                            path: host,
                            what: format!(
                                "parent directory {} does not exist and the plan does not create it",
                                ctx.host_path(&parent).display()
                            ),
                        });
                    }
                    match missing.parent() {
                        Some(up) if dirs.get(up)?.is_none() => missing = up.to_path_buf(),
                        _ => break,
                    }
                }
                (TargetState::Absent, None)
            }
        };
        let found = state.digest();
        if found != action.current_digest {
            return Err(ApplyError::ChangedSincePlanned {
                path: host,
                planned: action.current_digest.clone(),
                found,
            });
        }
        if action.is_satisfied() {
            continue;
        }
        // The plan shown to the user names each result by digest; refuse an action whose
        // payload does not match it (blocks are checked below, once their bytes exist).
        let expected = match &action.kind {
            ActionKind::CreateDir { .. } => Some(safe_fs::DIR.to_string()),
            ActionKind::WriteFile { contents, .. } => Some(safe_fs::sha256_hex(contents)),
            ActionKind::Symlink { link_target } => Some(safe_fs::symlink_digest(link_target)),
            ActionKind::Remove => Some(safe_fs::ABSENT.to_string()),
            ActionKind::AppendMarkedBlock { .. } | ActionKind::RemoveMarkedBlock { .. } => None,
        };
        if expected.is_some_and(|d| d != action.result_digest) {
            return Err(ApplyError::InvalidAction {
                path: host,
                what: "result digest does not match the action's contents".to_string(),
            });
        }
        let ours = journal.manages(target, &found);
        let mut edited = None;
        let mut keep = None;
        match &action.kind {
            ActionKind::CreateDir { .. } => {
                if state != TargetState::Absent {
                    return Err(ApplyError::NotOurs { path: host });
                }
                dirs_created_here.insert(target.clone());
            }
            ActionKind::WriteFile {
                contents, bundle, ..
            } => {
                match &state {
                    TargetState::Absent => {}
                    TargetState::Symlink { .. } if !ours => {
                        return Err(ApplyError::UnexpectedSymlink { path: host })
                    }
                    TargetState::File { .. } | TargetState::Symlink { .. } if ours => {}
                    _ => return Err(ApplyError::NotOurs { path: host }),
                }
                let new_count = safe_fs::count_certificates(contents);
                if *bundle && new_count == 0 {
                    return Err(ApplyError::EmptyBundle { path: host });
                }
                if let Some(old) = &bytes {
                    let old_count = safe_fs::count_certificates(old);
                    if old_count > 0 && new_count * 2 < old_count {
                        return Err(ApplyError::BundleShrinks {
                            path: host,
                            old: old_count,
                            new: new_count,
                        });
                    }
                }
            }
            ActionKind::Symlink { .. } => match &state {
                TargetState::Absent => {}
                TargetState::File { .. } | TargetState::Symlink { .. } if ours => {}
                _ => return Err(ApplyError::NotOurs { path: host }),
            },
            ActionKind::AppendMarkedBlock { block_id, contents } => {
                let (TargetState::File { mode, uid, gid, .. }, Some(old)) = (&state, &bytes) else {
                    return Err(ApplyError::InvalidAction {
                        path: host,
                        what: "patch mode needs an existing regular file".to_string(),
                    });
                };
                let new = marked_block::upsert_block(&host, old, block_id, contents)?;
                check_block_edit(ctx, action, &parent, &new, (*uid, euid))?;
                edited = Some(new);
                keep = Some((*mode, *uid, *gid));
            }
            ActionKind::RemoveMarkedBlock { block_id } => {
                let (TargetState::File { mode, uid, gid, .. }, Some(old)) = (&state, &bytes) else {
                    continue; // nothing there, nothing to remove (digest already matched)
                };
                let Some(new) = marked_block::remove_block(&host, old, block_id)? else {
                    continue;
                };
                check_block_edit(ctx, action, &parent, &new, (*uid, euid))?;
                edited = Some(new);
                keep = Some((*mode, *uid, *gid));
            }
            ActionKind::Remove => {
                if !ours {
                    return Err(ApplyError::NotOurs { path: host });
                }
            }
        }
        let previous = Previous::from_state(&state).ok_or(ApplyError::NotOurs { path: host })?;
        out.push(Prepared {
            index,
            action,
            parent,
            name,
            previous,
            previous_bytes: bytes,
            edited,
            keep,
        });
    }
    Ok(out)
}

/// A patch-mode edit (block added or removed) must give the file the plan showed, and,
/// unless running as root, the file must be the runner's own (it keeps its owner).
fn check_block_edit(
    ctx: &Context,
    action: &Action,
    parent: &Path,
    new: &[u8],
    (file_uid, euid): (u32, u32),
) -> Result<()> {
    if safe_fs::sha256_hex(new) != action.result_digest {
        return Err(ApplyError::InvalidAction {
            path: ctx.host_path(&action.target),
            what: format!(
                "result digest does not match the file after {}",
                action.verb()
            ),
        });
    }
    if euid != 0 && file_uid != euid {
        return Err(ApplyError::NeedsRoot {
            dir: ctx.host_path(parent),
        });
    }
    Ok(())
}

/// Applies `plan` while holding `lock`. See the module doc for the order of steps.
pub fn apply_locked(plan: &Plan, ctx: &Context, lock: &StateLock) -> Result<Applied> {
    let state = &lock.state;
    let mut journal = state.load()?;
    let mut dirs = Dirs::new(ctx)?;
    let prepared = prepare(plan, ctx, &mut dirs, &journal)?;
    if prepared.is_empty() {
        return Ok(Applied {
            run: None,
            actions: plan.actions.clone(),
        });
    }

    // Write-ahead: previous bytes, then the pending record, before any target changes.
    for p in &prepared {
        if let (Previous::File { .. }, Some(bytes)) = (&p.previous, &p.previous_bytes) {
            state.save_blob(bytes)?;
        }
    }
    let run = journal.next_run;
    journal.next_run += 1;
    let first_new = journal.entries.len();
    for p in &prepared {
        journal.entries.push(Entry {
            run,
            op: p.action.verb().to_string(),
            path: p.action.target.clone(),
            previous: p.previous.clone(),
            written: p.action.result_digest.clone(),
            block_id: match &p.action.kind {
                ActionKind::AppendMarkedBlock { block_id, .. }
                | ActionKind::RemoveMarkedBlock { block_id } => Some(block_id.clone()),
                _ => None,
            },
            user_dirs_allowed: ctx.allow_user_dirs,
            state: EntryState::Pending,
        });
    }
    state.save(&journal)?;
    ctx.report(ProgressEvent::JournalWritten {
        run,
        actions: prepared.len(),
    });

    let mut done = 0;
    let mut failure = None;
    for p in &prepared {
        match perform(ctx, &mut dirs, p) {
            Ok(()) => done += 1,
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }

    if failure.is_none() {
        // Make every rename durable before the journal calls the run complete.
        if let Err(e) = dirs.sync_touched() {
            failure = Some(e);
        }
    }

    if let Some(cause) = failure {
        // Restore this run's changes newest first, then drop its entries.
        let entries: Vec<Entry> = journal.entries[first_new..first_new + done].to_vec();
        for entry in entries.iter().rev() {
            if let Err(rollback) = restore(
                ctx,
                &mut dirs,
                state,
                entry,
                true,
                &mut UndoReport::default(),
            ) {
                return Err(ApplyError::RollbackFailed {
                    cause: Box::new(cause),
                    rollback: Box::new(rollback),
                });
            }
        }
        journal.entries.truncate(first_new);
        if let Err(rollback) = dirs.sync_touched().and_then(|()| state.save(&journal)) {
            // Targets are back to their previous state; the pending entries left on disk
            // will be dropped by the next run's recovery.
            return Err(ApplyError::RollbackFailed {
                cause: Box::new(cause),
                rollback: Box::new(rollback),
            });
        }
        return Err(ApplyError::RolledBack {
            cause: Box::new(cause),
            undone: done,
        });
    }

    for e in &mut journal.entries[first_new..] {
        e.state = EntryState::Done;
    }
    // If this write fails the changes stay and the pending record is completed by the next
    // run's recovery: nothing is lost either way.
    state.save(&journal)?;
    ctx.report(ProgressEvent::Committed { run });
    Ok(Applied {
        run: Some(run),
        actions: plan.actions.clone(),
    })
}

/// Performs one prepared action atomically, re-checking the target's digest immediately
/// before (the narrowest window the kernel allows without a compare-and-swap rename).
fn perform(ctx: &Context, dirs: &mut Dirs<'_>, p: &Prepared<'_>) -> Result<()> {
    let a = p.action;
    let host = ctx.host_path(&a.target);
    let dir = dirs.must_get(&p.parent)?;
    // A target planned as absent is created no-clobber (the kernel refuses if anything
    // appeared), which is a stronger check than looking first; anything else is looked at
    // again right before it is replaced.
    let now = if a.current_digest == safe_fs::ABSENT {
        TargetState::Absent
    } else {
        inspect_at(ctx, dir, &p.name, &a.target)?.0
    };
    if now.digest() != a.current_digest {
        return Err(ApplyError::ChangedSincePlanned {
            path: host,
            planned: a.current_digest.clone(),
            found: now.digest(),
        });
    }
    let placement = if now == TargetState::Absent {
        Placement::CreateNew
    } else {
        Placement::Replace
    };
    let mut staged = || {
        ctx.report(ProgressEvent::Staged {
            index: p.index,
            target: &a.target,
        })
    };
    let io = match &a.kind {
        ActionKind::CreateDir { mode } => safe_fs::make_dir(dir, &p.name, *mode, DirSync::Deferred),
        ActionKind::WriteFile { contents, mode, .. } => safe_fs::write_atomic(
            dir,
            &p.name,
            contents,
            *mode,
            WriteOptions {
                owner: None,
                placement,
                sync: DirSync::Deferred,
            },
            &mut staged,
        ),
        ActionKind::Symlink { link_target } => safe_fs::symlink_atomic(
            dir,
            &p.name,
            link_target,
            WriteOptions {
                owner: None,
                placement,
                sync: DirSync::Deferred,
            },
            &mut staged,
        ),
        ActionKind::AppendMarkedBlock { .. } | ActionKind::RemoveMarkedBlock { .. } => {
            let (mode, uid, gid) = p.keep.unwrap_or((0o644, 0, 0));
            let bytes = p.edited.as_deref().unwrap_or_default();
            safe_fs::write_atomic(
                dir,
                &p.name,
                bytes,
                mode,
                WriteOptions {
                    owner: Some((uid, gid)),
                    placement,
                    sync: DirSync::Deferred,
                },
                &mut staged,
            )
        }
        ActionKind::Remove => safe_fs::remove_entry(
            dir,
            &p.name,
            matches!(now, TargetState::Dir { .. }),
            DirSync::Deferred,
        ),
    };
    dirs.touch(&p.parent);
    if matches!(a.kind, ActionKind::CreateDir { .. }) {
        dirs.created();
    }
    io.map_err(|e| {
        if placement == Placement::CreateNew && e.kind() == std::io::ErrorKind::AlreadyExists {
            // Something appeared at the target after the last check.
            ApplyError::ChangedSincePlanned {
                path: host.clone(),
                planned: a.current_digest.clone(),
                found: "present".to_string(),
            }
        } else {
            ApplyError::io(&host, e)
        }
    })?;
    ctx.report(ProgressEvent::Done {
        index: p.index,
        target: &a.target,
    });
    Ok(())
}
