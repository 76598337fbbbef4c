//! The printer owns the terminal: data goes to stdout, talk (warnings, progress) to stderr,
//! colour only on a TTY and never with `NO_COLOR`. Commands build reports; only this module
//! decides how they look.
//!
//! Every string from outside (subjects, paths, what interpreters and servers said, error
//! messages naming them) is shown through [`term::escape`] at the point where it is printed
//! here, so no report field can drive the terminal or forge a line; `--json` shows the real
//! strings, escaped by serde only.
//!
//! Quiet mode (`--quiet`, for hooks and provisioning scripts that branch on the exit code)
//! is decided here too, so no command has to remember it: nothing reaches stdout, and the
//! only talk left on stderr is the one line saying why a run failed ([`Printer::warn`]).
//!
//! Under `--json` a failed run always prints one document: the command's own, or, when it
//! stopped before having one, the error document ([`finish`]), from the failure line this
//! module saw go to stderr. So it keeps a small ledger of what the process printed.

use crate::cli::report::{FixReport, FixRun, StatusReport};
use crate::diagnose::Verdict;
use crate::term::{self, escape};
use std::io::{IsTerminal, Write};

pub struct Printer {
    color: bool,
    json: bool,
    quiet: bool,
}

/// `--color`: when human output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The run's `--color`, set once by the CLI before any printer exists.
static COLOR: std::sync::OnceLock<ColorChoice> = std::sync::OnceLock::new();

pub fn set_color_choice(choice: ColorChoice) {
    let _ = COLOR.set(choice);
}

/// The run's `-v/--verbose` (global), set once by the CLI.
static VERBOSE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

pub fn set_verbose(verbose: bool) {
    let _ = VERBOSE.set(verbose);
}

/// Whether `-v` was given: detail views (probe's per-trust-set verdicts, status's walks).
pub fn verbose() -> bool {
    VERBOSE.get().copied().unwrap_or(false)
}

/// What this process printed, for [`finish`]: whether a JSON document reached stdout, and
/// the failure that stopped the run (its stable code and its stderr line). Process-wide
/// because commands make their own printers (`add --fix` runs `fix` with another one).
struct Ledger {
    document: bool,
    failure: Option<(&'static str, String)>,
}

static LEDGER: std::sync::Mutex<Ledger> = std::sync::Mutex::new(Ledger {
    document: false,
    failure: None,
});

fn ledger() -> std::sync::MutexGuard<'static, Ledger> {
    // A panic while printing must not hide the error document that reports it.
    LEDGER.lock().unwrap_or_else(|e| e.into_inner())
}

/// Code of a failure line that came without one.
const GENERIC_FAILURE: &str = "failed";

/// Records why the run failed: a coded failure wins over an uncoded line said before it
/// (a hint that followed it does not replace it).
fn record_failure(code: &'static str, line: &str) {
    let mut l = ledger();
    match &l.failure {
        Some((c, _)) if *c != GENERIC_FAILURE || code == GENERIC_FAILURE => {}
        _ => l.failure = Some((code, line.to_string())),
    }
}

/// The end of every command: with `--json`, a run that exits non-zero without having
/// printed its document prints the error document (`crate::commands::failure`) instead,
/// so stdout is never empty for a script parsing it.
pub fn finish(command: &str, json: bool, exit_code: u8) {
    if !json || exit_code == 0 || ledger().document {
        return;
    }
    let (error, message) = ledger().failure.clone().unwrap_or_else(|| {
        (
            GENERIC_FAILURE,
            format!("trustsync {command} failed (exit {exit_code})"),
        )
    });
    Printer::new(true).print_json(&crate::commands::failure::ErrorReport::for_command(
        command,
        error,
        message,
        i32::from(exit_code),
    ));
}

impl Printer {
    pub fn new(json: bool) -> Printer {
        // A terminal that says it cannot show escapes (`TERM=dumb`: Emacs shells, some CI
        // logs) gets none, like `NO_COLOR`; `--color` decides over both.
        let color = !json
            && match COLOR.get().copied().unwrap_or(ColorChoice::Auto) {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                }
            };
        Printer {
            color,
            json,
            quiet: false,
        }
    }

    /// Quiet mode: no data on stdout; only failure lines ([`Printer::warn`]) on stderr.
    pub fn quiet(self, quiet: bool) -> Printer {
        Printer { quiet, ..self }
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// The one line saying why a command failed or refused, on stderr (quiet mode too: a
    /// hook's log must say why it failed). Not for progress or advice: those are data.
    /// The whole line is escaped: it names files and quotes other programs.
    pub fn warn(&self, line: &str) {
        self.say_failure(GENERIC_FAILURE, line, line);
    }

    /// [`Printer::fail`] with a catalogue message: stderr in the run's language, the
    /// error document's `message` in English (`--json` is never translated).
    pub fn fail_msg(&self, code: &'static str, line: &crate::i18n::Msg) {
        self.say_failure(code, &line.en(), &line.text());
    }

    /// [`Printer::warn`] with a catalogue message (see [`Printer::fail_msg`]).
    pub fn warn_msg(&self, line: &crate::i18n::Msg) {
        self.say_failure(GENERIC_FAILURE, &line.en(), &line.text());
    }

    /// [`Printer::warn`] with the stable code the error document carries (`store-unreadable`,
    /// `lock-held`, …) when this failure ends the run.
    pub fn fail(&self, code: &'static str, line: &str) {
        self.say_failure(code, line, line);
    }

    /// Records the failure (`english`, for the error document) and prints `shown`.
    fn say_failure(&self, code: &'static str, english: &str, shown: &str) {
        record_failure(code, english);
        let _ = writeln!(std::io::stderr(), "trustsync: {}", escape(shown));
    }

    /// "Where I looked", for `status -v`: talk, so on stderr.
    pub fn looked(&self, l: &crate::commands::status::Looked) {
        let accounts = if l.accounts.is_empty() {
            t!("looked-this-user")
        } else {
            l.accounts.join(", ")
        };
        self.note(&t!(
            "looked-homes",
            accounts = accounts,
            homes = l.homes.join(", "),
            millis = l.discovery_millis
        ));
        for w in &l.walks {
            self.note(&format!(
                "  {}",
                t!(
                    "looked-walk",
                    path = w.path.display().to_string(),
                    depth = w.depth,
                    entries = w.entries,
                    millis = w.millis,
                    truncated = if w.truncated { "yes" } else { "no" }
                )
            ));
        }
    }

    /// Talk that is not a failure (what else a command did), on stderr; silent in quiet
    /// mode.
    pub fn note(&self, line: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "trustsync: {}", escape(line));
        }
    }

    /// Text for stdout as it is: callers escape what came from outside (each field, not
    /// the whole text, whose newlines and colours are trustsync's).
    pub fn data(&self, text: &str) {
        if self.quiet {
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    pub fn print_json<T: serde::Serialize>(&self, value: &T) {
        let text = serde_json::to_string_pretty(value).expect("report structs serialize");
        ledger().document = true;
        self.data(&(text + "\n"));
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn verdict(&self, v: Verdict) -> String {
        let code = match v {
            Verdict::Ok => "32",
            Verdict::Drift => "33",
            Verdict::Broken => "31;1",
        };
        self.paint(&v.word(), code)
    }

    pub fn status(&self, r: &StatusReport) {
        if self.json {
            return self.print_json(r);
        }
        let mut out = String::new();
        let s = &r.system;
        out.push_str(&t!(
            "status-store",
            flavor = escape(&s.flavor),
            count = s.certificates,
            bundle = match s.bundle.as_deref() {
                Some(b) => escape(b).into_owned(),
                None => t!("status-store-system"),
            }
        ));
        if !s.locally_added.is_empty() {
            let names: Vec<_> = s.locally_added.iter().map(|c| escape(&c.subject)).collect();
            out.push_str(&t!(
                "status-store-local",
                count = s.locally_added.len(),
                names = names.join(", ")
            ));
        }
        if !s.distrusted.is_empty() {
            out.push_str(&t!("status-store-distrusted", count = s.distrusted.len()));
        }
        if !s.expired.is_empty() {
            out.push_str(&t!("status-store-expired", count = s.expired.len()));
        }
        out.push('\n');
        for w in &s.warnings {
            out.push_str(&format!(
                "  {}\n",
                t!("status-warning", warning = escape(&w.text()))
            ));
        }
        if let Some(gap) = &s.behind_reference {
            let names: Vec<_> = gap
                .missing
                .iter()
                .take(3)
                .map(|c| escape(&c.subject))
                .collect();
            out.push_str(&format!(
                "  {}\n",
                t!(
                    "status-store-behind",
                    version = escape(&gap.version),
                    source = escape(&gap.source),
                    count = gap.missing.len(),
                    names = names.join(", "),
                    more = if gap.missing.len() > 3 { "yes" } else { "no" },
                    update = escape(&gap.update)
                )
            ));
        }
        out.push('\n');
        // Columns are as wide as the escaped labels, which are what the terminal shows,
        // in terminal cells: a Chinese directory name takes two a character, and so do
        // the Chinese headings.
        let (kind_h, runtime_h, trusts_h, verdict_h) = (
            t!("status-col-kind"),
            t!("status-col-runtime"),
            t!("status-col-trusts"),
            t!("status-col-verdict"),
        );
        let kind_width = term::width(&kind_h).max(11);
        let trusts_width = term::width(&trusts_h).max(6);
        let label_width = r
            .runtimes
            .iter()
            .map(|x| term::width(&escape(&x.shown_label())))
            .max()
            .unwrap_or(7)
            .clamp(7, 60)
            .max(term::width(&runtime_h));
        out.push_str(&format!(
            "{} {} {}  {}\n",
            term::pad(&kind_h, kind_width),
            term::pad(&runtime_h, label_width),
            term::pad_left(&trusts_h, trusts_width),
            verdict_h
        ));
        let mut run_fix = 0;
        for rt in &r.runtimes {
            let shown = rt.shown_label();
            let label = term::fit(&shown, label_width);
            out.push_str(&format!(
                "{} {} {}  {}\n",
                term::pad(rt.kind, kind_width),
                term::pad(&label, label_width),
                term::pad_left(&rt.trusted.to_string(), trusts_width),
                self.verdict(rt.verdict)
            ));
            if rt.verdict == Verdict::Ok {
                continue;
            }
            // Details only under the rows that need them, in diagnose's order: the why
            // first, then the notes.
            for p in &rt.problems {
                out.push_str(&format!(
                    "    {} {}\n",
                    self.paint(&format!("[{}]", p.code), "2"),
                    escape(&p.text())
                ));
            }
            // "Run fix" is said once, at the end, for every row it serves; a row gets its
            // own line only when fix would not do it (advice, a restart, its owner).
            match fix_hint(rt) {
                Hint::RunFix => run_fix += 1,
                Hint::Other(h) => {
                    out.push_str(&format!("    {}\n", t!("status-row-fix", hint = h)))
                }
            }
        }
        let sm = &r.summary;
        out.push('\n');
        out.push_str(&t!(
            "status-summary",
            ok = sm.ok,
            drift = sm.drift,
            broken = sm.broken
        ));
        out.push('\n');
        if run_fix > 0 {
            out.push_str(&t!(
                "status-fix-line",
                count = run_fix,
                command = FIX_COMMAND
            ));
            out.push('\n');
        }
        self.data(&out);
    }

    #[cfg(unix)]
    /// A fix plan: `--dry-run` output, what is shown before asking, and a real run's report
    /// when there was nothing to do (`dry_run` false; the plan is then empty).
    pub fn fix_plan(&self, plan: &crate::commands::fix::posix::FixPlan, dry_run: bool) {
        if self.json {
            let nothing = nothing_applied();
            let applied = (!dry_run).then_some(&nothing);
            return self.print_fix_json(plan, &plan.runtimes, applied, None);
        }
        let mut out = plan.plan.render_human();
        if dry_run && !plan.plan.is_empty() {
            out.push_str(&t!("fix-dry-run-note", command = "sudo trustsync fix"));
            out.push('\n');
        }
        out.push_str(&render_advice(&plan.advice));
        self.data(&out);
    }

    #[cfg(unix)]
    /// What a real fix did.
    pub fn fix_applied(
        &self,
        applied: &crate::apply::posix::Applied,
        plan: &crate::commands::fix::posix::FixPlan,
    ) {
        let advice = &plan.advice;
        if self.json {
            return self.print_fix_json(plan, &plan.runtimes, Some(applied), None);
        }
        let plan = crate::apply::posix::Plan::new(applied.actions.clone());
        let mut out = plan.render_applied();
        out.push_str(&t!("fix-undo-with", command = "sudo trustsync undo"));
        out.push('\n');
        let sets_variables = plan.actions.iter().any(|a| {
            a.target == std::path::Path::new(crate::commands::fix::posix::PROFILE_SNIPPET)
        });
        if sets_variables {
            use crate::commands::fix::posix as fix;
            let root = std::path::Path::new("/");
            let written = |path: &str| {
                plan.actions
                    .iter()
                    .any(|a| a.target == std::path::Path::new(path))
                    || (path != fix::PAM_ENVIRONMENT
                        && root.join(path.trim_start_matches('/')).exists())
            };
            let (reached, not) = fix::variable_reach(root, &written);
            out.push_str(&t!(
                "fix-variables-reach",
                reached = reached.join(", "),
                snippet = fix::PROFILE_SNIPPET
            ));
            out.push('\n');
            out.push_str(&t!(
                "fix-variables-not-reached",
                count = not.len(),
                not = not.join(", ")
            ));
            out.push('\n');
        }
        out.push_str(&render_advice(advice));
        self.data(&out);
    }

    #[cfg(unix)]
    /// A real fix that failed after planning: the error line on stderr and, with `--json`,
    /// the document with each runtime the plan served marked `failed`.
    pub fn fix_failed(&self, plan: &crate::commands::fix::posix::FixPlan, error: &str) {
        self.warn(error);
        if self.json {
            self.print_fix_json(plan, &plan.runtimes, Some(&nothing_applied()), Some(error));
        }
    }

    #[cfg(unix)]
    pub fn undo(&self, r: &crate::apply::posix::UndoReport) {
        if self.json {
            return self.print_json(r);
        }
        let mut out = String::new();
        let line = |m: crate::i18n::Msg| m.text() + "\n";
        let show = |p: &std::path::Path| term::path(p).into_owned();
        for p in &r.restored {
            out.push_str(&line(msg!("undo-restored", path = show(p))));
        }
        for p in &r.removed {
            out.push_str(&line(msg!("undo-removed", path = show(p))));
        }
        for p in &r.kept_nonempty_dirs {
            out.push_str(&line(msg!("undo-kept", path = show(p))));
        }
        for p in &r.block_already_gone {
            out.push_str(&line(msg!("undo-block-gone", path = show(p))));
        }
        if out.is_empty() {
            out.push_str(&line(msg!("undo-nothing")));
        }
        self.data(&out);
    }

    /// Windows: a fix plan (`--dry-run` output, what is shown before asking, and a real
    /// run's report when there was nothing to do).
    pub fn win_fix_plan(&self, plan: &crate::apply::windows::WinPlan, dry_run: bool) {
        if self.json {
            let nothing = crate::apply::windows::Applied::default();
            let applied = (!dry_run).then_some(&nothing);
            return self.print_fix_json(plan, &plan.runtimes, applied, None);
        }
        let mut out = plan.render_human();
        if dry_run && !plan.is_empty() {
            out.push_str(&t!("fix-dry-run-note", command = "trustsync fix"));
            out.push('\n');
        }
        out.push_str(&render_advice(&plan.advice));
        self.data(&out);
    }

    /// Windows: what a real fix did.
    pub fn win_fix_applied(
        &self,
        applied: &crate::apply::windows::Applied,
        plan: &crate::apply::windows::WinPlan,
    ) {
        let advice = &plan.advice;
        if self.json {
            return self.print_fix_json(plan, &plan.runtimes, Some(applied), None);
        }
        let mut out = crate::apply::windows::plan::render_applied(&applied.actions);
        if applied.env_changed {
            out.push_str(&t!("fix-windows-new-window"));
            out.push('\n');
        }
        out.push_str(&t!("fix-undo-with", command = "trustsync undo"));
        out.push('\n');
        out.push_str(&render_advice(advice));
        self.data(&out);
    }

    /// Windows: a real fix that failed after planning (see [`Printer::fix_failed`]).
    pub fn win_fix_failed(&self, plan: &crate::apply::windows::WinPlan, error: &str) {
        self.warn(error);
        if self.json {
            let nothing = crate::apply::windows::Applied::default();
            self.print_fix_json(plan, &plan.runtimes, Some(&nothing), Some(error));
        }
    }

    /// Windows: what `undo` did.
    pub fn win_undo(&self, r: &crate::apply::windows::UndoReport) {
        if self.json {
            return self.print_json(r);
        }
        let mut out = String::new();
        for p in &r.restored {
            out.push_str(&t!("undo-restored", path = escape(p)));
            out.push('\n');
        }
        for p in &r.removed {
            out.push_str(&t!("undo-removed", path = escape(p)));
            out.push('\n');
        }
        if out.is_empty() {
            out.push_str(&t!("undo-nothing"));
            out.push('\n');
        }
        self.data(&out);
    }

    /// `list`: one line a CA (fingerprint prefix, expiry date, flags, name), then a count.
    pub fn list(&self, r: &crate::cli::report::ListReport) {
        if self.json {
            return self.print_json(r);
        }
        let mut out = String::new();
        if !r.certificates.is_empty() {
            out.push_str(&format!(
                "{} {} {} {}\n",
                term::pad("SHA-256", 16),
                term::pad(&t!("list-col-expires"), 10),
                term::pad(&t!("list-col-flags"), 22),
                t!("list-col-ca")
            ));
        }
        // Each flag word looked up once, not once a line.
        let words = [
            t!("list-flag-local"),
            t!("list-flag-distrusted"),
            t!("list-flag-expired"),
        ];
        for c in &r.certificates {
            let flags: Vec<&str> = [c.locally_added, c.distrusted, c.expired]
                .iter()
                .zip(&words)
                .filter_map(|(on, name)| on.then_some(name.as_str()))
                .collect();
            let flags = if flags.is_empty() {
                "-".to_string()
            } else {
                flags.join(",")
            };
            let painted = if c.distrusted || c.expired {
                self.paint(&term::pad(&flags, 22), "33")
            } else {
                term::pad(&flags, 22)
            };
            out.push_str(&format!(
                "{} {} {painted} {}\n",
                &c.sha256[..16.min(c.sha256.len())],
                crate::model::cert::format_date(c.not_after),
                escape(&c.name)
            ));
        }
        out.push_str(&t!(
            "list-summary",
            shown = r.certificates.len(),
            total = r.total,
            flavor = escape(&r.flavor)
        ));
        out.push('\n');
        self.data(&out);
    }

    /// `add` / `remove`: the report on stdout, a refusal or failure in words on stderr.
    pub fn manage(&self, r: &crate::commands::manage::ManageReport) {
        if self.json {
            return self.print_json(r);
        }
        self.data(&r.render_human());
        if let Some(e) = &r.error {
            let refused = matches!(r.outcome, crate::commands::manage::Outcome::Refused);
            self.warn_msg(&msg!(
                "manage-error",
                command = r.command,
                refused = if refused { "yes" } else { "no" },
                error = &e.message
            ));
        }
    }

    /// `probe` output: the report, or the connection error in words (and, with `--json`,
    /// its error document too).
    pub fn probe(
        &self,
        outcome: &Result<crate::commands::probe::ProbeReport, crate::commands::probe::ProbeError>,
    ) {
        match (outcome, self.json) {
            (Ok(r), true) => self.print_json(r),
            // Grouped by outcome; every trust set's own verdict with `-v`.
            (Ok(r), false) if verbose() => {
                self.data(&crate::commands::probe::render_human(r, self.color))
            }
            (Ok(r), false) => self.data(&crate::commands::probe::render_grouped(r, self.color)),
            (Err(e), json) => {
                self.fail(e.code(), &e.to_string());
                if json {
                    self.print_json(&crate::commands::probe::ErrorReport::new(e));
                }
            }
        }
    }
}

impl Printer {
    /// The `fix --json` document, for either engine: a dry run without `applied`; a real
    /// run with what it applied; a failed run with nothing applied and the `error`.
    fn print_fix_json<P: serde::Serialize, A: AppliedActions>(
        &self,
        plan: &P,
        runtimes: &[crate::apply::RuntimeFix],
        applied: Option<&A>,
        error: Option<&str>,
    ) {
        let run = match (applied, error) {
            (None, _) => FixRun::DryRun,
            (Some(_), None) => FixRun::Applied,
            (Some(_), Some(_)) => FixRun::Failed,
        };
        let count = applied.map_or(0, |a| a.count());
        let mut doc = FixReport::new(plan, runtimes, run, applied, count);
        doc.error = error.map(str::to_string);
        self.print_json(&doc);
    }
}

/// What each engine's record of an applied run says about how much it changed.
trait AppliedActions: serde::Serialize {
    fn count(&self) -> usize;
}

#[cfg(unix)]
impl AppliedActions for crate::apply::posix::Applied {
    fn count(&self) -> usize {
        self.actions.len()
    }
}

impl AppliedActions for crate::apply::windows::Applied {
    fn count(&self) -> usize {
        self.actions.len()
    }
}

/// A real POSIX run that applied nothing (nothing to do, or it failed and rolled back).
#[cfg(unix)]
fn nothing_applied() -> crate::apply::posix::Applied {
    crate::apply::posix::Applied {
        run: None,
        actions: Vec::new(),
    }
}

fn render_advice(advice: &[crate::apply::Advice]) -> String {
    let mut out = String::new();
    if !advice.is_empty() {
        out.push('\n');
        out.push_str(&t!("fix-advice-heading"));
        out.push('\n');
        for a in advice {
            out.push_str(&format!(
                "  {}: {}\n",
                escape(&a.runtime),
                escape(&a.text())
            ));
        }
    }
    out
}

/// The next step for a runtime, in one line.
/// What the line under a row says to do.
enum Hint {
    /// `fix` would change something for it: said once, after the table.
    RunFix,
    Other(String),
}

fn fix_hint(rt: &crate::cli::report::RuntimeReport) -> Hint {
    if rt.problems.iter().any(|p| p.code == "not-executed") {
        return Hint::Other(t!("hint-run-as-owner"));
    }
    if rt.is_variable {
        return Hint::Other(t!(
            "hint-variable",
            variable = escape(&rt.label),
            command = FIX_COMMAND
        ));
    }
    if rt
        .problems
        .iter()
        .any(|p| p.code == "probe-failed" || p.code == "no-ssl-module")
    {
        return Hint::Other(t!("hint-repair"));
    }
    if rt.problems.iter().any(|p| p.code == "fixed-for-new-shells") {
        // fix already did its part: running it again would answer "Nothing to do".
        return Hint::Other(t!("hint-log-in-again"));
    }
    match &rt.fix_outlook {
        Some(o) if !o.changes && !o.advice.is_empty() => {
            Hint::Other(t!("hint-advice", advice = escape(&o.advice.join("; "))))
        }
        Some(o) if !o.changes => Hint::Other(t!("hint-nothing-to-change")),
        _ => Hint::RunFix,
    }
}

/// How `fix` is run with the rights it needs: as root on POSIX; on Windows from an
/// elevated prompt for every user, or as is for this user alone.
const FIX_COMMAND: &str = if cfg!(windows) {
    "trustsync fix"
} else {
    "sudo trustsync fix"
};
