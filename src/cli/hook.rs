//! `trustsync hook`: install, remove, show and run the hooks that keep the sync true after
//! package updates.

use super::fix::{lock_unless_dry_run, strategy_of};
use super::printer::Printer;
use super::{HookAction, HookOutput, TriggerArg};
use std::path::PathBuf;

#[cfg(unix)]
/// `trustsync hook …`: every decision is in `crate::commands::hooks`; this maps flags and
/// outcomes to output and exit codes.
pub(super) fn hook(action: HookAction) -> u8 {
    use crate::commands::hooks;
    // Hooks are the machine's, whoever asks: always the system journal (a user's own
    // journal would make every hook look foreign).
    let ctx = crate::apply::posix::Context::new(
        PathBuf::from("/"),
        PathBuf::from(crate::apply::posix::SYSTEM_STATE_DIR),
    );
    let needs_root = |printer: &Printer, what: &str| {
        let root = crate::apply::posix::safe_fs::running_as_root();
        if !root {
            printer.fail_msg("needs-root", &msg!("error-hook-needs-root", what = what));
        }
        root
    };
    match action {
        HookAction::Status { json } => {
            let printer = Printer::new(json);
            let binary = std::env::current_exe().unwrap_or_default();
            match hooks::status(&ctx, &binary) {
                Ok(st) => {
                    if json {
                        printer.print_json(&st);
                    } else {
                        printer.data(&st.render_human());
                    }
                    st.exit_code as u8
                }
                Err(e) => {
                    printer.fail("state-unreadable", &format!("hook status: {e}"));
                    if !crate::apply::posix::safe_fs::running_as_root() {
                        printer
                            .warn("hook status reads root's journal: sudo trustsync hook status");
                    }
                    2
                }
            }
        }
        HookAction::Install {
            strategy,
            binary,
            systemd,
            output,
        } => {
            let printer = Printer::new(output.json);
            let binary = match binary.map(Ok).unwrap_or_else(std::env::current_exe) {
                Ok(b) => b,
                Err(e) => {
                    printer.fail_msg(
                        "binary-unknown",
                        &msg!("error-hook-binary-unknown", error = e.to_string()),
                    );
                    return 2;
                }
            };
            // A package upgrade re-runs `hook install` without flags: keep what the
            // administrator chose before.
            let installed = hooks::installed_options(&ctx);
            let opts = hooks::InstallOptions {
                strategy: strategy.map(strategy_of).unwrap_or_else(|| {
                    installed
                        .as_ref()
                        .map_or(crate::commands::fix::posix::Strategy::Auto, |i| i.strategy)
                }),
                binary,
                force_systemd: systemd || installed.is_some_and(|i| i.force_systemd),
            };
            let plan = |ctx: &crate::apply::posix::Context| hooks::plan_install(ctx, &opts);
            hook_apply(&printer, &ctx, plan, &output, "install", &needs_root)
        }
        HookAction::Remove { output } => {
            let printer = Printer::new(output.json);
            hook_apply(
                &printer,
                &ctx,
                hooks::plan_remove,
                &output,
                "remove",
                &needs_root,
            )
        }
        HookAction::Run {
            trigger,
            strategy,
            json,
            quiet,
        } => {
            let printer = Printer::new(json);
            if !needs_root(&printer, "run") {
                return 1;
            }
            let trigger = match trigger {
                TriggerArg::Store => hooks::layout::Trigger::Store,
                TriggerArg::Bundles => hooks::layout::Trigger::Bundles,
            };
            let opts = hooks::run::RunOptions {
                strategy: strategy_of(strategy),
                discovery: crate::discover::Options::from_process(),
            };
            let record = hooks::run::run(&ctx, trigger, &opts);
            if json {
                printer.print_json(&record);
            } else if record.failed() || !quiet {
                printer.warn(&format!(
                    "trustsync hook run {}: {}: {}",
                    record.trigger, record.outcome, record.message
                ));
            }
            u8::from(record.failed())
        }
    }
}

#[cfg(unix)]
/// Plan, show, apply for `hook install` / `hook remove` (no question asked: installing a
/// hook changes no runtime; the hook itself runs `fix` later).
fn hook_apply(
    printer: &Printer,
    ctx: &crate::apply::posix::Context,
    plan: impl Fn(
        &crate::apply::posix::Context,
    ) -> Result<crate::commands::hooks::HookPlan, crate::apply::posix::ApplyError>,
    output: &HookOutput,
    what: &str,
    needs_root: &dyn Fn(&Printer, &str) -> bool,
) -> u8 {
    let HookOutput { dry_run, quiet, .. } = *output;
    if !dry_run && !needs_root(printer, what) {
        return 1;
    }
    let lock = match lock_unless_dry_run(printer, ctx, dry_run, &format!("hook {what}")) {
        Ok(lock) => lock,
        Err(code) => return code,
    };
    let mut plan = match plan(ctx) {
        Ok(p) => p,
        Err(e) => {
            printer.fail(
                super::fix::apply_error_code(&e),
                &format!("hook {what}: {e}"),
            );
            return 1;
        }
    };
    let result = match &lock {
        Some(lock) => crate::commands::hooks::apply_hook_plan(ctx, lock, &mut plan).map(|_| ()),
        None => crate::apply::posix::preflight(&plan.plan, ctx),
    };
    if let Err(e) = result {
        printer.fail(
            super::fix::apply_error_code(&e),
            &format!("hook {what}: {e}"),
        );
        return 1;
    }
    if printer.json() {
        printer.print_json(&plan);
    } else if !quiet {
        printer.data(&plan.render_human(dry_run));
    }
    0
}
