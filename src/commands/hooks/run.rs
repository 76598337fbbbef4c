//! `trustsync hook run store|bundles`: what an installed hook calls when it fires, and the
//! record of that run which `trustsync hook status` reads.
//!
//! `store` is `fix --yes` with the strategy chosen at `hook install`, then a refresh of
//! the installed hooks (a store change under the patch strategy can patch a new bundle,
//! which the bundle watch must then cover). `bundles` puts trustsync's marked block back
//! into bundles it patched before (a certifi upgrade replaced the file) and does nothing
//! else: no other runtime is touched by a package upgrade's hook.
//!
//! A hook runs unattended, so every run leaves a record (`/var/lib/trustsync/hook-*.json`):
//! when, what it changed, or the one-line error. `TRUSTSYNC_HOOK=off` in
//! `/etc/default/trustsync` makes every hook a no-op (recorded as `disabled`).
#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use super::layout::{self, Trigger};
use crate::apply::posix::{self as apply, ActionKind, ApplyError, Context, Plan, StateLock};
use crate::commands::fix::posix::{FixOptions, Strategy};

/// What one hook run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub trigger: String,
    /// Seconds since the epoch (fractional: a bundle replaced within the same second as
    /// the run must still count as "after").
    pub started: f64,
    pub finished: f64,
    /// `started` and `finished` as RFC 3339 UTC (seconds): what every JSON document gives
    /// beside epoch seconds. Records written before these existed read back without them
    /// and get them on reading ([`last_run`]).
    #[serde(default)]
    pub started_rfc3339: String,
    #[serde(default)]
    pub finished_rfc3339: String,
    /// `applied`, `nothing-to-do`, `disabled` or `failed`.
    pub outcome: String,
    /// Actions applied.
    pub changes: usize,
    pub message: String,
}

impl RunRecord {
    pub fn failed(&self) -> bool {
        self.outcome == "failed"
    }

    /// Sets the RFC 3339 fields from the epoch ones.
    fn stamp(&mut self) {
        self.started_rfc3339 = super::rfc3339(self.started);
        self.finished_rfc3339 = super::rfc3339(self.finished);
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn record_name(trigger: Trigger) -> String {
    format!("hook-{}.json", trigger.name())
}

/// The newest record of `trigger`'s hook (none when it never ran or cannot be read).
pub fn last_run(ctx: &Context, trigger: Trigger) -> Option<RunRecord> {
    let bytes = std::fs::read(ctx.state_dir.join(record_name(trigger))).ok()?;
    let mut record: RunRecord = serde_json::from_slice(&bytes).ok()?;
    record.stamp();
    Some(record)
}

pub struct RunOptions {
    /// Strategy for `store` runs (from the installed hook's own arguments).
    pub strategy: Strategy,
    /// How runtimes are discovered (the environment they are judged in).
    pub discovery: crate::discover::Options,
}

/// Runs the hook's re-sync and records the outcome. Never panics on a machine problem:
/// every error ends up in the record's message.
pub fn run(ctx: &Context, trigger: Trigger, opts: &RunOptions) -> RunRecord {
    let mut record = run_unstamped(ctx, trigger, opts);
    record.stamp();
    record
}

fn run_unstamped(ctx: &Context, trigger: Trigger, opts: &RunOptions) -> RunRecord {
    // Hooks are started from wherever their caller was (apt runs Post-Invoke from /tmp):
    // nothing of that directory may matter, so work from `/`.
    let _ = std::env::set_current_dir("/");
    let started = now();
    let mut record = RunRecord {
        trigger: trigger.name().to_string(),
        started,
        finished: started,
        started_rfc3339: String::new(),
        finished_rfc3339: String::new(),
        outcome: String::new(),
        changes: 0,
        message: String::new(),
    };
    let settings = std::fs::read_to_string(ctx.host_path(Path::new(layout::SETTINGS_FILE)))
        .unwrap_or_default();
    if layout::hooks_disabled(&settings) {
        record.outcome = "disabled".into();
        record.message = format!("TRUSTSYNC_HOOK=off in {}", layout::SETTINGS_FILE);
        if let Ok(state) = apply::journal::StateDir::open(ctx) {
            save(&state, trigger, &mut record);
        }
        return record;
    }
    let lock = match StateLock::acquire(ctx) {
        Ok(lock) => lock,
        Err(e) => {
            record.outcome = "failed".into();
            record.message = e.to_string();
            record.finished = now();
            return record;
        }
    };
    match resync(ctx, &lock, trigger, opts) {
        Ok((0, advice)) => {
            record.outcome = "nothing-to-do".into();
            record.message = format!("every runtime it covers already trusts the OS store{advice}");
        }
        Ok((n, advice)) => {
            record.outcome = "applied".into();
            record.changes = n;
            record.message = format!("{n} change(s) made (undo: sudo trustsync undo){advice}");
        }
        Err(e) => {
            record.outcome = "failed".into();
            record.message = e.to_string();
        }
    }
    save(&lock.state, trigger, &mut record);
    record
}

fn save(state: &apply::journal::StateDir, trigger: Trigger, record: &mut RunRecord) {
    record.finished = now();
    record.stamp();
    if let Ok(mut bytes) = serde_json::to_vec(record) {
        bytes.push(b'\n');
        if let Err(e) = state.save_record(&record_name(trigger), &bytes) {
            record
                .message
                .push_str(&format!(" (record not saved: {e})"));
        }
    }
}

/// The re-sync itself: number of actions applied, and a note when some runtimes need a
/// person (advice the hook cannot act on).
fn resync(
    ctx: &Context,
    lock: &StateLock,
    trigger: Trigger,
    opts: &RunOptions,
) -> Result<(usize, String), ApplyError> {
    let status = crate::commands::status::run(&ctx.root, &opts.discovery).map_err(|e| {
        ApplyError::InvalidAction {
            path: ctx.root.clone(),
            what: format!("cannot read the OS trust store: {e}"),
        }
    })?;
    let strategy = match trigger {
        Trigger::Store => opts.strategy,
        Trigger::Bundles => Strategy::PatchBundle,
    };
    let fix_opts = FixOptions {
        strategy,
        copy: false,
        env: opts.discovery.env.clone(),
        // A block an earlier `fix --etc-environment` made is kept current regardless.
        etc_environment: false,
    };
    let fix_plan = crate::commands::fix::posix::plan(&status, ctx, &fix_opts)?;
    let plan = match trigger {
        Trigger::Store => fix_plan.plan,
        Trigger::Bundles => {
            let patched = super::patched_bundles(&lock.state.load()?);
            Plan::new(
                fix_plan
                    .plan
                    .actions
                    .into_iter()
                    .filter(|a| {
                        matches!(a.kind, ActionKind::AppendMarkedBlock { .. })
                            && patched.contains(&a.target)
                    })
                    .collect(),
            )
        }
    };
    let mut changes = 0;
    if !plan.is_empty() {
        changes += apply::apply_locked(&plan, ctx, lock)?.actions.len();
    }
    if trigger == Trigger::Store {
        changes += super::refresh_installed(ctx, lock)?;
    }
    let advice = if fix_plan.advice.is_empty() || trigger == Trigger::Bundles {
        String::new()
    } else {
        format!(
            "; {} runtime note(s) need a person: `trustsync fix --dry-run` shows them",
            fix_plan.advice.len()
        )
    };
    Ok((changes, advice))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record written before the RFC 3339 fields existed reads back with them, from its
    /// epoch seconds (to the second).
    #[test]
    fn an_old_record_reads_back_with_rfc3339_times() {
        let t = tempfile::tempdir().unwrap();
        let ctx = Context::with_root(t.path());
        std::fs::create_dir_all(&ctx.state_dir).unwrap();
        std::fs::write(
            ctx.state_dir.join(record_name(Trigger::Store)),
            br#"{"trigger":"store","started":1700000000.75,"finished":1700000002.5,"outcome":"applied","changes":1,"message":"m"}"#,
        )
        .unwrap();
        let r = last_run(&ctx, Trigger::Store).unwrap();
        assert_eq!(r.started_rfc3339, "2023-11-14T22:13:20Z");
        assert_eq!(r.finished_rfc3339, "2023-11-14T22:13:22Z");
        let doc = serde_json::to_value(&r).unwrap();
        assert_eq!(doc["started"], 1700000000.75, "the epoch field stays");
        assert_eq!(doc["finished_rfc3339"], "2023-11-14T22:13:22Z");
    }
}
