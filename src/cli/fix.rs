//! `fix`, `undo` and the fix that follows `add`/`remove`: the lock, the plan, the prompt and
//! the run, on POSIX and on Windows.

use super::printer::Printer;
use super::StrategyArg;
use super::{DiscoveryArgs, FixArgs};

#[cfg(unix)]
pub(super) fn context(root: &std::path::Path) -> crate::apply::posix::Context {
    if root == std::path::Path::new("/") {
        crate::apply::posix::Context::system()
    } else {
        crate::apply::posix::Context::with_root(root)
    }
}

/// `trustsync fix`: the flags to the OS's engine.
pub(super) fn fix(args: &FixArgs) -> u8 {
    let printer = Printer::new(args.json).quiet(args.quiet);
    #[cfg(unix)]
    {
        let mut ctx = context(&args.discovery.root);
        ctx.allow_user_dirs = args.allow_user_dirs;
        let opts = crate::commands::fix::posix::FixOptions {
            strategy: strategy_of(args.strategy),
            copy: args.copy,
            env: args.discovery.options().env,
            etc_environment: args.etc_environment,
        };
        posix_fix(
            &printer,
            &ctx,
            &opts,
            args.dry_run,
            args.yes,
            &args.discovery,
        )
    }
    #[cfg(windows)]
    {
        let unsupported = [
            (
                matches!(args.strategy, StrategyArg::PatchBundle),
                "--strategy patch-bundle",
            ),
            (args.copy, "--copy"),
            (args.allow_user_dirs, "--allow-user-dirs"),
            (args.discovery.root != std::path::Path::new("/"), "--root"),
        ];
        match unsupported.iter().find(|(given, _)| *given) {
            Some((_, flag)) => {
                printer.fail_msg(
                    "unsupported-option",
                    &msg!("error-fix-option-windows", flag = *flag),
                );
                2
            }
            None => windows_fix(&printer, args.dry_run, args.yes, &args.discovery),
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        printer.warn_msg(&msg!("error-fix-unavailable"));
        2
    }
}

#[cfg(unix)]
/// Plan, show, confirm, apply: one plan value from start to end, so the dry run shows
/// exactly what the real run does.
pub(super) fn posix_fix(
    printer: &Printer,
    ctx: &crate::apply::posix::Context,
    opts: &crate::commands::fix::posix::FixOptions,
    dry_run: bool,
    yes: bool,
    discovery: &DiscoveryArgs,
) -> u8 {
    let status = match discovery.status(printer) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // Not root and the plan needs root: say so before even the lock file is made, so a
    // user's `fix` on system files writes nothing at all.
    if !dry_run && !crate::apply::posix::safe_fs::running_as_root() {
        if let Ok(p) = crate::commands::fix::posix::plan(&status, ctx, opts) {
            if let Err(e @ crate::apply::posix::ApplyError::NeedsRoot { .. }) =
                crate::apply::posix::preflight(&p.plan, ctx)
            {
                printer.fix_plan(&p, true);
                printer.warn(&format!("fix: {e}"));
                return 1;
            }
        }
    }
    let lock = match lock_unless_dry_run(printer, ctx, dry_run, "fix") {
        Ok(lock) => lock,
        Err(code) => return code,
    };
    let plan = match crate::commands::fix::posix::plan(&status, ctx, opts) {
        Ok(p) => p,
        Err(e) => {
            printer.fail("plan-failed", &format!("fix: {e}"));
            return 1;
        }
    };
    let Some(lock) = lock.filter(|_| !plan.plan.is_empty()) else {
        printer.fix_plan(&plan, dry_run);
        // A dry run makes every check the real run makes, so it fails where that would.
        if let Err(e) = crate::apply::posix::preflight(&plan.plan, ctx) {
            printer.warn(&format!("fix would fail: {e}"));
            return 1;
        }
        return 0;
    };
    if !yes && !confirm(printer, plan.plan.len(), || printer.fix_plan(&plan, true)) {
        return 1;
    }
    match crate::apply::posix::apply_locked(&plan.plan, ctx, &lock) {
        Ok(applied) => {
            printer.fix_applied(&applied, &plan);
            // Installed hooks follow what this fix did: a bundle patched just now gets
            // watched, one no longer patched is not.
            match crate::commands::hooks::refresh_installed(ctx, &lock) {
                Ok(0) => {}
                Ok(n) => printer.note(&t!("fix-hooks-refreshed", count = n)),
                Err(e) => printer.warn_msg(&msg!("fix-hooks-not-refreshed", error = e.to_string())),
            }
            0
        }
        Err(e) => {
            printer.fix_failed(&plan, &format!("fix: {e}"));
            1
        }
    }
}

#[cfg(unix)]
/// The state lock for a real run, held from planning to applying so nothing moves in
/// between; none for a dry run, which writes nothing, not even the lock file.
pub(super) fn lock_unless_dry_run(
    printer: &Printer,
    ctx: &crate::apply::posix::Context,
    dry_run: bool,
    what: &str,
) -> Result<Option<crate::apply::posix::StateLock>, u8> {
    if dry_run {
        return Ok(None);
    }
    crate::apply::posix::StateLock::acquire(ctx)
        .map(Some)
        .map_err(|e| {
            printer.fail(apply_error_code(&e), &format!("{what}: {e}"));
            1
        })
}

#[cfg(unix)]
/// The error document's code for an engine error that ends a run before it has a
/// document (the lock, the journal, the rights it needs).
pub(super) fn apply_error_code(e: &crate::apply::posix::ApplyError) -> &'static str {
    use crate::apply::posix::ApplyError as E;
    match e {
        E::Locked { .. } => "lock-held",
        E::NeedsRoot { .. } => "needs-root",
        E::ReadOnly { .. } => "read-only",
        E::Journal { .. } => "journal-unreadable",
        E::Io { .. } => "io-error",
        _ => "refused",
    }
}

/// Without `--yes`: shows the plan and asks on a terminal; without one, says to pass
/// `--yes`. True when the user said yes.
#[cfg(any(unix, windows))]
pub(super) fn confirm(printer: &Printer, changes: usize, show_plan: impl Fn()) -> bool {
    use std::io::{BufRead, IsTerminal};
    show_plan();
    if !std::io::stdin().is_terminal() {
        printer.warn_msg(&msg!("fix-not-applied-no-terminal"));
        return false;
    }
    eprint!("{} ", t!("fix-prompt", count = changes));
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    // The answer keys stay y/yes in every language (the prompt shows them as [y/N]).
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        printer.warn_msg(&msg!("fix-nothing-changed"));
        return false;
    }
    true
}

#[cfg(windows)]
/// Whose environment fix and undo work in: the machine's when this process may write it
/// (an elevated administrator), else the user's.
fn windows_scope() -> crate::apply::windows::Scope {
    if crate::apply::windows::registry::machine_writable() {
        crate::apply::windows::Scope::Machine
    } else {
        crate::apply::windows::Scope::User
    }
}

#[cfg(windows)]
/// Windows: plan, show, confirm, apply, like the POSIX `fix`, with the Windows engine
/// (`crate::apply::windows`): a managed bundle and persistent variables in the machine
/// environment when this process may write it (an elevated administrator), else the user's.
pub(super) fn windows_fix(
    printer: &Printer,
    dry_run: bool,
    yes: bool,
    discovery: &DiscoveryArgs,
) -> u8 {
    use crate::apply::windows::registry::{self as windows_env, RegistryEnv};
    use crate::apply::windows::{self as win, engine, StateDir, WinLock};
    use crate::commands::fix::windows::Facts;
    use std::time::Duration;
    let status = match discovery.status(printer) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // The environment the runtimes were judged in decides what is trustsync's to set.
    let env = discovery.options().env;
    let scope = windows_scope();
    let run = || -> Result<u8, win::WinError> {
        let layout = win::Layout::new(scope, &env)?;
        if scope == win::Scope::Machine {
            win::secure_machine_dir(&layout.state_dir, !dry_run)?;
        }
        let mut store = RegistryEnv::open(scope)?;
        // Hold the lock from planning to applying, and recover a killed run first (a dry
        // run writes nothing, not even the state dir).
        let (state, lock) = if dry_run {
            (StateDir::at(&layout.state_dir), None)
        } else {
            let state = StateDir::create(&layout.state_dir)?;
            let lock = WinLock::acquire(&state, Duration::from_secs(10))?;
            engine::recover(&mut state.load()?, &store, &state)?;
            (state, Some(lock))
        };
        let other = windows_env::read_values(scope.other(), crate::apply::MANAGED_VARS);
        let facts = Facts::gather(layout, &store, other, env.clone(), &state)?;
        let plan = crate::commands::fix::windows::plan(&status, &facts)?;
        let Some(lock) = lock.filter(|_| !plan.is_empty()) else {
            printer.win_fix_plan(&plan, dry_run);
            // A dry run makes the checks the real run makes, so it fails where that would.
            if let Err(e) = win::preflight(&plan, &state, &store) {
                printer.warn(&format!("fix would fail: {e}"));
                return Ok(1);
            }
            return Ok(0);
        };
        if !yes
            && !confirm(printer, plan.actions.len(), || {
                printer.win_fix_plan(&plan, true)
            })
        {
            return Ok(1);
        }
        let applied = match win::apply_locked(&plan, &mut store, &state, &lock) {
            Ok(applied) => applied,
            Err(e) => {
                printer.win_fix_failed(&plan, &format!("fix: {e}"));
                return Ok(1);
            }
        };
        if applied.env_changed {
            windows_env::broadcast_environment_change();
        }
        printer.win_fix_applied(&applied, &plan);
        Ok(0)
    };
    run().unwrap_or_else(|e| {
        printer.warn(&format!("fix: {e}"));
        1
    })
}

#[cfg(windows)]
/// Windows: restore every registry value and file the journal of this scope records.
pub(super) fn windows_undo(printer: &Printer, force: bool) -> u8 {
    use crate::apply::windows::registry::{self as windows_env, RegistryEnv};
    use crate::apply::windows::{self as win, StateDir, WinLock};
    use std::time::Duration;
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let scope = windows_scope();
    let run = || -> Result<u8, win::WinError> {
        let layout = win::Layout::new(scope, &env)?;
        if !StateDir::at(&layout.state_dir).journal_path().exists() {
            // Nothing recorded here; a machine-wide fix needs an administrator to undo.
            let machine = win::Layout::new(win::Scope::Machine, &env).ok();
            if scope == win::Scope::User
                && machine.is_some_and(|m| StateDir::at(&m.state_dir).journal_path().exists())
            {
                printer.warn_msg(&msg!("error-undo-needs-admin"));
                return Ok(1);
            }
            printer.win_undo(&win::UndoReport::default());
            return Ok(0);
        }
        if scope == win::Scope::Machine {
            win::secure_machine_dir(&layout.state_dir, false)?;
        }
        let state = StateDir::create(&layout.state_dir)?;
        let lock = WinLock::acquire(&state, Duration::from_secs(10))?;
        let mut store = RegistryEnv::open(scope)?;
        let report = win::undo_locked(&mut store, &state, force, &lock)?;
        if report.env_changed {
            windows_env::broadcast_environment_change();
        }
        printer.win_undo(&report);
        Ok(0)
    };
    run().unwrap_or_else(|e| {
        printer.warn(&format!("undo: {e}"));
        1
    })
}

/// Shows what `add`/`remove` did; with `--fix`, then runs the same flow as `fix --yes`.
pub(super) fn after_manage(
    printer: &Printer,
    report: &crate::commands::manage::ManageReport,
    then_fix: bool,
) -> u8 {
    printer.manage(report);
    if report.exit_code != 0 || !then_fix {
        return report.exit_code;
    }
    fix_after_manage(printer)
}

#[cfg(any(unix, windows))]
pub(super) fn fix_after_manage(_printer: &Printer) -> u8 {
    fix(&FixArgs::after_manage())
}

#[cfg(not(any(unix, windows)))]
pub(super) fn fix_after_manage(printer: &Printer) -> u8 {
    printer.warn("--fix: fix is not available on this OS yet");
    1
}

#[cfg(unix)]
pub(super) fn strategy_of(arg: StrategyArg) -> crate::commands::fix::posix::Strategy {
    match arg {
        StrategyArg::Auto => crate::commands::fix::posix::Strategy::Auto,
        StrategyArg::Env => crate::commands::fix::posix::Strategy::Env,
        StrategyArg::PatchBundle => crate::commands::fix::posix::Strategy::PatchBundle,
    }
}

#[cfg(unix)]
/// Plans the default `fix` for what `status` found (reading only) and records, per row,
/// whether it would change anything and what it would leave to the user, for the hint
/// under each row. A plan that cannot be made leaves the rows without an outlook (the
/// generic hint).
pub(super) fn annotate_fix_outlook(
    report: &mut crate::cli::report::StatusReport,
    status: &crate::commands::status::Status,
    discovery: &DiscoveryArgs,
) {
    use crate::commands::fix::posix as fix;
    let ctx = context(&discovery.root);
    let opts = fix::FixOptions {
        strategy: fix::Strategy::Auto,
        copy: false,
        env: discovery.options().env,
        etc_environment: false,
    };
    let Ok(plan) = fix::plan(status, &ctx, &opts) else {
        return;
    };
    for (row, planned) in report.runtimes.iter_mut().zip(&plan.runtimes) {
        if row.path != planned.path || row.kind != planned.kind {
            return; // not the same order: say nothing rather than the wrong thing
        }
        let who = format!("{} {}", planned.kind, planned.label);
        row.fix_outlook = Some(crate::cli::report::FixOutlook {
            changes: !planned.targets.is_empty(),
            advice: plan
                .advice
                .iter()
                .filter(|a| a.runtime == who && planned.advice.contains(&a.code))
                .map(crate::apply::Advice::text)
                .collect(),
        });
    }
}
