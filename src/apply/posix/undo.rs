//! `undo` and crash recovery: put back what the journal records, newest first, after
//! checking every path; and finish or roll back a run that was killed half-way.
#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::engine::{inspect_at, Dirs, UndoReport};
use super::journal::{Entry, EntryState, Previous, StateDir};
use super::lock::StateLock;
use super::marked_block;
use super::safe_fs::{self, DirSync, Placement, TargetState, WriteOptions};
use super::{ApplyError, Context, ProgressEvent, Result};

/// Takes the lock, then [`undo_locked`].
pub fn undo(ctx: &Context) -> Result<UndoReport> {
    let lock = StateLock::acquire(ctx)?;
    undo_locked(ctx, &lock)
}

/// Puts `entry.path` back to `entry.previous`. Without `force`, only when the path still
/// has what trustsync wrote (patch-mode blocks are removed from an otherwise changed file).
pub(super) fn restore(
    ctx: &Context,
    dirs: &mut Dirs<'_>,
    state: &StateDir,
    entry: &Entry,
    force: bool,
    report: &mut UndoReport,
) -> Result<()> {
    let host = ctx.host_path(&entry.path);
    let (parent, name) = safe_fs::split_target(&entry.path)?;
    let Some(dir) = dirs.get(&parent)? else {
        // The whole parent is gone; nothing of ours can be there.
        if entry.previous != Previous::Absent {
            return Err(ApplyError::io(
                host,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
        return Ok(());
    };
    let (now, bytes) = inspect_at(ctx, dir, &name, &entry.path)?;
    let now_digest = now.digest();
    if now_digest == entry.previous.digest() {
        return Ok(());
    }
    if now_digest != entry.written && !force {
        if let (Some(block_id), Some(text), TargetState::File { mode, uid, gid, .. }) =
            (&entry.block_id, &bytes, &now)
        {
            // Patch mode, file changed around our block: remove exactly our block, if any.
            match marked_block::remove_block(&host, text, block_id)? {
                Some(new) => {
                    safe_fs::write_atomic(
                        dir,
                        &name,
                        &new,
                        *mode,
                        WriteOptions {
                            owner: Some((*uid, *gid)),
                            placement: Placement::Replace,
                            sync: DirSync::Deferred,
                        },
                        &mut || {},
                    )
                    .map_err(|e| ApplyError::io(&host, e))?;
                    dirs.touch(&parent);
                    report.restored.push(host);
                }
                None => report.block_already_gone.push(host),
            }
            return Ok(());
        }
        return Err(ApplyError::ChangedAfterWrite { path: host });
    }
    let placement = if now == TargetState::Absent {
        Placement::CreateNew
    } else {
        Placement::Replace
    };
    let io = match &entry.previous {
        Previous::Absent => match now {
            TargetState::Absent => Ok(()),
            TargetState::Dir { .. } => {
                match safe_fs::remove_entry(dir, &name, true, DirSync::Deferred) {
                    Err(e)
                        if e.raw_os_error() == Some(rustix::io::Errno::NOTEMPTY.raw_os_error()) =>
                    {
                        report.kept_nonempty_dirs.push(host.clone());
                        return Ok(());
                    }
                    other => other,
                }
            }
            _ => safe_fs::remove_entry(dir, &name, false, DirSync::Deferred),
        }
        .map(|()| report.removed.push(host.clone())),
        Previous::File {
            sha256,
            mode,
            uid,
            gid,
        } => {
            let bytes = state.load_blob(sha256)?;
            safe_fs::write_atomic(
                dir,
                &name,
                &bytes,
                *mode,
                WriteOptions {
                    owner: Some((*uid, *gid)),
                    placement,
                    sync: DirSync::Deferred,
                },
                &mut || {},
            )
            .map(|()| report.restored.push(host.clone()))
        }
        Previous::Symlink { target, uid, gid } => safe_fs::symlink_atomic(
            dir,
            &name,
            target,
            WriteOptions {
                owner: Some((*uid, *gid)),
                placement,
                sync: DirSync::Deferred,
            },
            &mut || {},
        )
        .map(|()| report.restored.push(host.clone())),
        Previous::Dir { mode, uid, gid } => safe_fs::make_dir(dir, &name, *mode, DirSync::Deferred)
            .and_then(|()| {
                rustix::fs::chownat(
                    dir,
                    name.as_os_str(),
                    Some(rustix::fs::Uid::from_raw(*uid)),
                    Some(rustix::fs::Gid::from_raw(*gid)),
                    rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(std::io::Error::from)
            })
            .map(|()| report.restored.push(host.clone())),
    };
    dirs.touch(&parent);
    if matches!(entry.previous, Previous::Dir { .. }) {
        dirs.created();
    }
    io.map_err(|e| ApplyError::io(&host, e))
}

/// Undoes every journaled change while holding `lock`, newest first. Refuses (changing
/// nothing) when a file changed after trustsync wrote it, unless `ctx.force`.
pub fn undo_locked(ctx: &Context, lock: &StateLock) -> Result<UndoReport> {
    let state = &lock.state;
    let mut journal = state.load()?;
    let mut dirs = Dirs::new(ctx)?;
    let mut report = UndoReport::default();

    // One restore per path, straight to the state before trustsync first touched it (never
    // through intermediate versions, so a killed undo leaves each path whole-current or
    // whole-original). Paths go newest first, so files leave a directory before it is removed.
    let mut by_path: HashMap<&Path, Vec<usize>> = HashMap::new();
    for (i, e) in journal.entries.iter().enumerate() {
        by_path.entry(e.path.as_path()).or_default().push(i);
    }
    let mut todo: Vec<(usize, Entry)> = Vec::new();
    let mut changed: Vec<PathBuf> = Vec::new();
    let mut checked_dirs = HashSet::new();
    for (path, idxs) in &by_path {
        let (parent, name) = safe_fs::split_target(path)?;
        let current = match dirs.get(&parent)? {
            Some(dir) => {
                let found = inspect_at(ctx, dir, &name, path)?.0.digest();
                if checked_dirs.insert(parent.clone()) {
                    // A directory a `--allow-user-dirs` run wrote into may be entered again
                    // to put back what it changed there.
                    let allowed = ctx.allow_user_dirs
                        || idxs.iter().all(|i| journal.entries[*i].user_dirs_allowed);
                    safe_fs::check_dir_writable_with(ctx, dir, &ctx.host_path(&parent), allowed)?;
                }
                found
            }
            None => safe_fs::ABSENT.to_string(),
        };
        let oldest = &journal.entries[idxs[0]];
        let newest = &journal.entries[idxs[idxs.len() - 1]];
        if current == oldest.previous.digest() {
            continue; // never changed, or already restored by a killed undo
        }
        if current != newest.written && newest.block_id.is_none() && !ctx.force {
            changed.push(ctx.host_path(path));
        }
        let mut combined = newest.clone();
        combined.previous = oldest.previous.clone();
        todo.push((idxs[idxs.len() - 1], combined));
    }
    changed.sort();
    if let Some(first) = changed.first().cloned() {
        return Err(if changed.len() == 1 {
            ApplyError::ChangedAfterWrite { path: first }
        } else {
            ApplyError::InvalidAction {
                path: first,
                what: format!(
                    "and {} other file(s) changed after trustsync wrote them; refusing to undo (use --force to restore them anyway)",
                    changed.len() - 1
                ),
            }
        });
    }
    todo.sort_unstable_by_key(|(newest, _)| std::cmp::Reverse(*newest));
    for (_, entry) in &todo {
        restore(ctx, &mut dirs, state, entry, ctx.force, &mut report)?;
        ctx.report(ProgressEvent::Undone {
            target: &entry.path,
        });
    }
    dirs.sync_touched()?;
    journal.entries.clear();
    state.save(&journal)?;
    state.collect_garbage(&journal)?;
    Ok(report)
}

/// Crash recovery, run by [`StateLock::acquire`]: completes or drops `pending` entries left
/// by a killed run and removes its temp files (see the journal module doc).
pub(crate) fn recover(ctx: &Context, lock: &StateLock) -> Result<()> {
    let state = &lock.state;
    let mut journal = state.load()?;
    if !journal.has_pending() {
        return Ok(());
    }
    let mut dirs = Dirs::new(ctx)?;
    let mut cleaned = HashSet::new();
    let mut keep = Vec::with_capacity(journal.entries.len());
    for mut entry in journal.entries.drain(..) {
        if entry.state == EntryState::Done {
            keep.push(entry);
            continue;
        }
        let (parent, name) = safe_fs::split_target(&entry.path)?;
        let current = match dirs.get(&parent)? {
            Some(dir) => {
                if cleaned.insert(parent.clone()) {
                    safe_fs::remove_stale_temps(dir)
                        .map_err(|e| ApplyError::io(ctx.host_path(&parent), e))?;
                }
                inspect_at(ctx, dir, &name, &entry.path)?.0.digest()
            }
            None => safe_fs::ABSENT.to_string(),
        };
        if current == entry.previous.digest() && current != entry.written {
            continue; // never happened: drop
        }
        entry.state = EntryState::Done; // happened (or changed since): complete the record
        keep.push(entry);
    }
    journal.entries = keep;
    state.save(&journal)?;
    state.collect_garbage(&journal)?;
    Ok(())
}
