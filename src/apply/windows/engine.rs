//! Applies a [`WinPlan`] and undoes it, through the journal, for the managed bundle file and
//! registry values (through [`EnvStore`]).
//!
//! Order of a run (the caller holds the [`WinLock`]):
//! 1. recover: complete or forget a killed run's `pending` entries, drop stray temp files;
//! 2. check every action before changing anything: the target still has the planned
//!    digest, a file to replace is trustsync's and unchanged since it wrote it, nothing is
//!    a symlink or junction ([`preflight`] runs these same checks for `--dry-run`);
//! 3. per action: journal entry with `pending` saved, the change (atomic file replace or
//!    one registry write), `pending` cleared and saved;
//! 4. on a failure, this run's changes are put back in reverse order and their entries
//!    restored, and the error says so.
//!
//! `undo` restores each journaled target, newest first, to the state before trustsync first
//! touched it: the exact file bytes or registry value (type and bytes), or its absence. It
//! refuses a target that changed after trustsync wrote it, unless forced.
#![forbid(unsafe_code)]

use super::journal::{write_atomically, Entry, Journal, Prior, Target, TEMP_PREFIX};
use super::plan::{FileNow, WinAction, WinActionKind, WinPlan};
use super::{value_digest, EnvStore, StateDir, WinError, WinLock, ABSENT};
use serde::Serialize;

/// What a run changed (the plan's actions, all applied).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Applied {
    pub actions: Vec<WinAction>,
    /// Whether a registry value changed (then running programs are told to re-read the
    /// environment).
    #[serde(skip)]
    pub env_changed: bool,
}

/// What `undo` did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct UndoReport {
    /// Targets put back to their previous bytes or value.
    pub restored: Vec<String>,
    /// Targets trustsync had created, now gone.
    pub removed: Vec<String>,
    #[serde(skip)]
    pub env_changed: bool,
}

impl WinAction {
    fn journal_target(&self) -> Target {
        match &self.kind {
            WinActionKind::WriteFile { path, .. } => Target::File { path: path.clone() },
            WinActionKind::SetEnvVar { scope, name, .. } => Target::EnvVar {
                scope: *scope,
                name: name.clone(),
            },
        }
    }
}

/// The state of a target now, as a [`Prior`] (what a rollback or undo would restore).
fn read_state(target: &Target, env: &dyn EnvStore) -> Result<(Prior, String), WinError> {
    match target {
        Target::File { path } => Ok(match FileNow::read(path)? {
            FileNow::Absent => (Prior::Absent, ABSENT.to_string()),
            FileNow::File(bytes) => {
                let prior = Prior::File { bytes };
                let digest = prior.digest();
                (prior, digest)
            }
            FileNow::NotAFile => {
                return Err(WinError::UnexpectedLink {
                    target: target.display(),
                })
            }
        }),
        Target::EnvVar { scope, name } => {
            if *scope != env.scope() {
                return Err(WinError::WrongScope {
                    target: target.display(),
                    recorded: scope.key_name(),
                    current: env.scope().key_name(),
                });
            }
            let value = env.get(name)?;
            let digest = value_digest(value.as_ref());
            Ok((
                value.map_or(Prior::Absent, |value| Prior::Value { value }),
                digest,
            ))
        }
    }
}

/// Puts `target` into state `prior`.
fn restore(target: &Target, prior: &Prior, env: &mut dyn EnvStore) -> Result<(), WinError> {
    match (target, prior) {
        (Target::File { path }, Prior::Absent) => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(WinError::io(path, e)),
            _ => Ok(()),
        },
        (Target::File { path }, Prior::File { bytes }) => write_atomically(path, bytes),
        (Target::EnvVar { name, .. }, Prior::Absent) => env.delete(name),
        (Target::EnvVar { name, .. }, Prior::Value { value }) => env.set(name, value),
        (t, p) => Err(WinError::Journal {
            path: std::path::PathBuf::from(t.display()),
            detail: format!("cannot restore a {p:?} there"),
        }),
    }
}

/// Completes or forgets the entries a killed run left `pending`, and removes its temp
/// files. Returns whether the journal changed.
pub fn recover(
    journal: &mut Journal,
    env: &dyn EnvStore,
    state: &StateDir,
) -> Result<bool, WinError> {
    let mut changed = false;
    let mut keep = Vec::new();
    for mut e in std::mem::take(&mut journal.entries) {
        if let Some(pending) = e.pending.take() {
            changed = true;
            let (_, now) = read_state(&e.target, env)?;
            if now == pending {
                e.written = Some(pending);
            } else if e.written.is_none() && now == e.original.digest() {
                // Its first change never happened: nothing of trustsync's is there.
                continue;
            } else if e.written.as_deref() != Some(now.as_str()) {
                // Neither old nor new: someone changed it meanwhile. Keep the record, so
                // `undo` names the target instead of losing its previous state.
                e.written = Some(pending);
            }
        }
        keep.push(e);
    }
    journal.entries = keep;
    // Temp files a killed run staged next to its targets (the bundle lives in the state
    // dir, so this is the only place they can be).
    if let Ok(entries) = std::fs::read_dir(state.path()) {
        for f in entries.flatten() {
            if f.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let _ = std::fs::remove_file(f.path());
            }
        }
    }
    if changed {
        state.save(journal)?;
    }
    Ok(changed)
}

/// The checks a run makes before changing anything, against the journal as it is.
fn check(plan: &WinPlan, journal: &Journal, env: &dyn EnvStore) -> Result<(), WinError> {
    for a in &plan.actions {
        let target = a.journal_target();
        let (_, now) = read_state(&target, env)?;
        if now != a.current_digest {
            return Err(WinError::ChangedSincePlanned {
                target: a.target.clone(),
                planned: a.current_digest.clone(),
                found: now,
            });
        }
        if now != ABSENT && !journal.owns(&target, &now) {
            return Err(match journal.entry(&target) {
                Some(_) => WinError::ChangedAfterWrite {
                    target: a.target.clone(),
                },
                None => WinError::NotOurs {
                    target: a.target.clone(),
                },
            });
        }
    }
    Ok(())
}

/// `--dry-run`: the checks the real run would make first, so it fails where that would.
/// Reads the journal if there is one; writes nothing.
pub fn preflight(plan: &WinPlan, state: &StateDir, env: &dyn EnvStore) -> Result<(), WinError> {
    check(plan, &state.load()?, env)
}

fn perform(a: &WinAction, env: &mut dyn EnvStore) -> Result<(), WinError> {
    match &a.kind {
        WinActionKind::WriteFile { path, contents, .. } => write_atomically(path, contents),
        WinActionKind::SetEnvVar { name, .. } => {
            env.set(name, &a.reg_value().expect("a SetEnvVar has a value"))
        }
    }
}

/// One action done by this run: enough to put it back.
struct Done {
    target: Target,
    before: Prior,
    new_entry: bool,
}

/// Applies `plan`: see the module doc for the order and the guarantees.
pub fn apply_locked(
    plan: &WinPlan,
    env: &mut dyn EnvStore,
    state: &StateDir,
    _lock: &WinLock,
) -> Result<Applied, WinError> {
    let mut journal = state.load()?;
    recover(&mut journal, env, state)?;
    check(plan, &journal, env)?;
    let mut done: Vec<Done> = Vec::new();
    for a in &plan.actions {
        if let Err(failure) = step(a, &mut journal, env, state, &mut done) {
            let (cause, failed) = *failure;
            return Err(roll_back(cause, failed, done, &mut journal, env, state));
        }
    }
    Ok(Applied {
        env_changed: plan
            .actions
            .iter()
            .any(|a| matches!(a.kind, WinActionKind::SetEnvVar { .. })),
        actions: plan.actions.clone(),
    })
}

/// One action: journal entry with `pending`, the change, `pending` cleared. An error
/// carries the action's [`Done`] once its entry is in the journal (its change not made).
fn step(
    a: &WinAction,
    journal: &mut Journal,
    env: &mut dyn EnvStore,
    state: &StateDir,
    done: &mut Vec<Done>,
) -> Result<(), Box<(WinError, Option<Done>)>> {
    let target = a.journal_target();
    let (before, _) = read_state(&target, env).map_err(|e| Box::new((e, None)))?;
    let new_entry = journal.entry(&target).is_none();
    if new_entry {
        journal.entries.push(Entry {
            target: target.clone(),
            original: before.clone(),
            written: None,
            pending: Some(a.result_digest.clone()),
        });
    } else if let Some(e) = journal.entry_mut(&target) {
        e.pending = Some(a.result_digest.clone());
    }
    let this = Done {
        target: target.clone(),
        before,
        new_entry,
    };
    if let Err(e) = state.save(journal).and_then(|()| perform(a, env)) {
        return Err(Box::new((e, Some(this))));
    }
    if let Some(e) = journal.entry_mut(&target) {
        e.pending = None;
        e.written = Some(a.result_digest.clone());
    }
    done.push(this);
    // The change is made: a failure to record it rolls it back with the rest.
    state.save(journal).map_err(|e| Box::new((e, None)))
}

/// Puts back this run's changes (newest first) after `cause`, and the journal with them.
fn roll_back(
    cause: WinError,
    failed: Option<Done>,
    done: Vec<Done>,
    journal: &mut Journal,
    env: &mut dyn EnvStore,
    state: &StateDir,
) -> WinError {
    let undone = done.len();
    let result = (|| {
        // The failed action's change did not happen: only its journal record goes.
        let all = failed
            .into_iter()
            .map(|d| (d, false))
            .chain(done.into_iter().rev().map(|d| (d, true)));
        for (d, changed) in all {
            if changed {
                restore(&d.target, &d.before, env)?;
            }
            if d.new_entry {
                journal.entries.retain(|e| e.target != d.target);
            } else if let Some(e) = journal.entry_mut(&d.target) {
                e.pending = None;
                if changed {
                    e.written = Some(d.before.digest());
                }
            }
        }
        state.save(journal)
    })();
    match result {
        Ok(()) => WinError::RolledBack {
            cause: Box::new(cause),
            undone,
        },
        Err(rollback) => WinError::RollbackFailed {
            cause: Box::new(cause),
            rollback: Box::new(rollback),
        },
    }
}

/// Restores everything the journal records, newest first; see the module doc.
pub fn undo_locked(
    env: &mut dyn EnvStore,
    state: &StateDir,
    force: bool,
    _lock: &WinLock,
) -> Result<UndoReport, WinError> {
    let mut journal = state.load()?;
    recover(&mut journal, env, state)?;
    let mut report = UndoReport::default();
    while let Some(e) = journal.entries.last().cloned() {
        let (_, now) = read_state(&e.target, env)?;
        if now != e.original.digest() {
            if e.written.as_deref() != Some(now.as_str()) && !force {
                return Err(WinError::ChangedAfterWrite {
                    target: e.target.display(),
                });
            }
            restore(&e.target, &e.original, env)?;
            if matches!(e.target, Target::EnvVar { .. }) {
                report.env_changed = true;
            }
            match e.original {
                Prior::Absent => report.removed.push(e.target.display()),
                _ => report.restored.push(e.target.display()),
            }
        }
        journal.entries.pop();
        state.save(&journal)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::{Layout, MemoryEnv, RegValue, Scope, REG_EXPAND_SZ};
    use super::*;
    use crate::commands::fix::windows::{plan, Facts};
    use std::collections::{BTreeMap, HashMap};
    use std::path::Path;
    use std::time::Duration;

    struct Rig {
        _dir: tempfile::TempDir,
        layout: Layout,
        state: StateDir,
        env: MemoryEnv,
    }

    fn rig() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let env_map: HashMap<String, String> =
            [("LOCALAPPDATA".to_string(), dir.path().display().to_string())].into();
        let layout = Layout::new(Scope::User, &env_map).unwrap();
        let state = StateDir::create(&layout.state_dir).unwrap();
        Rig {
            _dir: dir,
            layout,
            state,
            env: MemoryEnv {
                scope: Some(Scope::User),
                ..MemoryEnv::default()
            },
        }
    }

    fn write_action(path: &Path, now: &str, contents: &[u8]) -> WinAction {
        WinAction {
            target: path.display().to_string(),
            kind: WinActionKind::WriteFile {
                path: path.to_path_buf(),
                contents: contents.to_vec(),
                certificates: 1,
            },
            reason: "test".into(),
            reason_msg: None,
            current_digest: now.to_string(),
            result_digest: super::super::bytes_digest(contents),
        }
    }

    fn set_action(name: &str, value: &str) -> WinAction {
        let v = RegValue::string(value);
        WinAction {
            target: format!("{}\\{name}", Scope::User.key_name()),
            kind: WinActionKind::SetEnvVar {
                scope: Scope::User,
                name: name.into(),
                value: value.into(),
            },
            reason: "test".into(),
            reason_msg: None,
            current_digest: ABSENT.into(),
            result_digest: v.digest(),
        }
    }

    fn plan_of(actions: Vec<WinAction>) -> WinPlan {
        WinPlan {
            scope: Scope::User,
            actions,
            advice: Vec::new(),
            runtimes: Vec::new(),
        }
    }

    fn lock(r: &Rig) -> WinLock {
        WinLock::acquire(&r.state, Duration::ZERO).unwrap()
    }

    #[test]
    fn apply_then_undo_restores_exactly_and_keeps_foreign_values() {
        let mut r = rig();
        let user_value = RegValue {
            kind: REG_EXPAND_SZ,
            data: RegValue::string(r"%USERPROFILE%\corp.pem").data,
        };
        r.env
            .values
            .insert("AWS_CA_BUNDLE".into(), user_value.clone());
        let bundle = r.layout.bundle.clone();
        let p = plan_of(vec![
            write_action(&bundle, ABSENT, b"PEM v1"),
            set_action("SSL_CERT_FILE", &bundle.display().to_string()),
        ]);
        let l = lock(&r);
        preflight(&p, &r.state, &r.env).unwrap();
        let applied = apply_locked(&p, &mut r.env, &r.state, &l).unwrap();
        assert!(applied.env_changed);
        assert_eq!(std::fs::read(&bundle).unwrap(), b"PEM v1");
        assert_eq!(
            r.env.values["SSL_CERT_FILE"].text().unwrap(),
            bundle.display().to_string()
        );
        let j = r.state.load().unwrap();
        assert_eq!(j.entries.len(), 2);
        assert!(j
            .entries
            .iter()
            .all(|e| e.pending.is_none() && e.original == Prior::Absent));

        // A second run rewrites only its own bundle (the OS gained a CA).
        let p2 = plan_of(vec![write_action(
            &bundle,
            &super::super::bytes_digest(b"PEM v1"),
            b"PEM v2",
        )]);
        apply_locked(&p2, &mut r.env, &r.state, &l).unwrap();
        assert_eq!(
            r.state.load().unwrap().entries.len(),
            2,
            "one entry per target"
        );

        let report = undo_locked(&mut r.env, &r.state, false, &l).unwrap();
        assert_eq!(report.removed.len(), 2, "{report:?}");
        assert!(report.env_changed);
        assert!(!bundle.exists());
        assert_eq!(r.env.values.len(), 1);
        assert_eq!(
            r.env.values["AWS_CA_BUNDLE"], user_value,
            "untouched, type included"
        );
        assert!(r.state.load().unwrap().entries.is_empty());
        // Nothing left: a second undo does nothing.
        assert_eq!(
            undo_locked(&mut r.env, &r.state, false, &l).unwrap(),
            UndoReport::default()
        );
    }

    #[test]
    fn refuses_files_and_values_that_are_not_trustsyncs() {
        let mut r = rig();
        let bundle = r.layout.bundle.clone();
        std::fs::write(&bundle, b"someone's file").unwrap();
        let now = super::super::bytes_digest(b"someone's file");
        let p = plan_of(vec![write_action(&bundle, &now, b"PEM")]);
        let l = lock(&r);
        assert!(matches!(
            preflight(&p, &r.state, &r.env),
            Err(WinError::NotOurs { .. })
        ));
        assert!(matches!(
            apply_locked(&p, &mut r.env, &r.state, &l),
            Err(WinError::NotOurs { .. })
        ));
        assert_eq!(std::fs::read(&bundle).unwrap(), b"someone's file");

        // A variable set after planning: changed since planned, nothing written.
        std::fs::remove_file(&bundle).unwrap();
        let p = plan_of(vec![
            write_action(&bundle, ABSENT, b"PEM"),
            set_action("PIP_CERT", "x"),
        ]);
        r.env
            .values
            .insert("PIP_CERT".into(), RegValue::string("mine"));
        assert!(matches!(
            apply_locked(&p, &mut r.env, &r.state, &l),
            Err(WinError::ChangedSincePlanned { .. })
        ));
        assert!(!bundle.exists());
        assert!(r.state.load().unwrap().entries.is_empty());
    }

    #[test]
    fn a_failed_registry_write_rolls_back_the_run() {
        let mut r = rig();
        let bundle = r.layout.bundle.clone();
        r.env.fail_on_set = vec!["PIP_CERT".into()];
        let p = plan_of(vec![
            write_action(&bundle, ABSENT, b"PEM"),
            set_action("SSL_CERT_FILE", "b"),
            set_action("PIP_CERT", "b"),
        ]);
        let l = lock(&r);
        let err = apply_locked(&p, &mut r.env, &r.state, &l).unwrap_err();
        assert!(
            matches!(&err, WinError::RolledBack { undone: 2, .. }),
            "{err}"
        );
        assert!(!bundle.exists());
        assert!(r.env.values.is_empty());
        assert!(r.state.load().unwrap().entries.is_empty());
    }

    #[test]
    fn undo_refuses_what_changed_after_trustsync_unless_forced() {
        let mut r = rig();
        let l = lock(&r);
        let p = plan_of(vec![set_action("GIT_SSL_CAINFO", "ours")]);
        apply_locked(&p, &mut r.env, &r.state, &l).unwrap();
        r.env.values.insert(
            "GIT_SSL_CAINFO".into(),
            RegValue::string("edited by the user"),
        );
        assert!(matches!(
            undo_locked(&mut r.env, &r.state, false, &l),
            Err(WinError::ChangedAfterWrite { .. })
        ));
        assert_eq!(
            r.env.values["GIT_SSL_CAINFO"].text().unwrap(),
            "edited by the user"
        );
        let report = undo_locked(&mut r.env, &r.state, true, &l).unwrap();
        assert_eq!(report.removed, vec![p.actions[0].target.clone()]);
        assert!(r.env.values.is_empty());
    }

    #[test]
    fn recovery_completes_or_forgets_a_killed_run() {
        let mut r = rig();
        let bundle = r.layout.bundle.clone();
        let written = RegValue::string("ours");
        // Killed after the registry write but before the journal said so; and killed
        // before the bundle write happened.
        r.env
            .values
            .insert("CURL_CA_BUNDLE".into(), written.clone());
        let journal = Journal {
            entries: vec![
                Entry {
                    target: Target::EnvVar {
                        scope: Scope::User,
                        name: "CURL_CA_BUNDLE".into(),
                    },
                    original: Prior::Absent,
                    written: None,
                    pending: Some(written.digest()),
                },
                Entry {
                    target: Target::File {
                        path: bundle.clone(),
                    },
                    original: Prior::Absent,
                    written: None,
                    pending: Some("deadbeef".into()),
                },
            ],
            ..Journal::default()
        };
        r.state.save(&journal).unwrap();
        std::fs::write(r.state.path().join(format!("{TEMP_PREFIX}x")), b"half").unwrap();
        let mut j = r.state.load().unwrap();
        assert!(recover(&mut j, &r.env, &r.state).unwrap());
        assert_eq!(
            j.entries.len(),
            1,
            "the bundle write never happened: forgotten"
        );
        assert_eq!(
            j.entries[0].written.as_deref(),
            Some(written.digest().as_str())
        );
        assert!(!r.state.path().join(format!("{TEMP_PREFIX}x")).exists());
        // And undo takes the completed change back.
        let l = lock(&r);
        undo_locked(&mut r.env, &r.state, false, &l).unwrap();
        assert!(r.env.values.is_empty());
    }

    #[test]
    fn plan_apply_plan_is_idempotent_through_the_engine() {
        // The plan builder and the engine together: facts read back after applying give
        // an empty second plan.
        let mut r = rig();
        let corp = crate::apply::test_support::ca("Corp Root");
        let status = crate::commands::status::Status {
            os: crate::apply::test_support::os_store("windows", r"CurrentUser\ROOT", &[corp]),
            diagnoses: Vec::new(),
            reference_gap: None,
            looked: Default::default(),
        };
        // The facts `fix` gathers, read back from the rig after each run.
        let facts = |r: &Rig| {
            Facts::gather(
                r.layout.clone(),
                &r.env,
                BTreeMap::new(),
                HashMap::new(),
                &r.state,
            )
            .unwrap()
        };
        // Nothing drifts and nothing is managed yet: nothing to do.
        assert!(plan(&status, &facts(&r)).unwrap().is_empty());
        // Once the bundle is trustsync's, the variables come with it.
        let l = lock(&r);
        let first = plan_of(vec![write_action(&r.layout.bundle, ABSENT, b"old")]);
        apply_locked(&first, &mut r.env, &r.state, &l).unwrap();
        let p = plan(&status, &facts(&r)).unwrap();
        assert_eq!(p.actions.len(), 1 + crate::apply::MANAGED_VARS.len());
        apply_locked(&p, &mut r.env, &r.state, &l).unwrap();
        assert!(plan(&status, &facts(&r)).unwrap().is_empty());
    }
}
