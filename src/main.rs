//! The `trustsync` command: a thin clap layer over the library. Every decision lives in the
//! library; this file only turns flags into options and results into exit codes.
//! Exit codes: 0 all in sync, 1 some runtime drifts or is broken (probe: fails somewhere),
//! 2 usage or internal error (probe: could not connect).

use clap::{Args, CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};
use trustsync::printer::Printer;

#[derive(Parser)]
#[command(
    name = "trustsync",
    version,
    about = "Make every runtime on this machine trust what the OS trusts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How runtimes are found: shared by every command that looks at them.
#[derive(Args, Clone)]
struct DiscoveryArgs {
    /// Also check this interpreter, venv or openssl binary (repeatable).
    #[arg(long = "runtime", value_name = "PATH")]
    runtimes: Vec<PathBuf>,
    /// Check only the runtimes named with --runtime (and the trust variables), not the
    /// usual places.
    #[arg(long)]
    only: bool,
    /// Ask every interpreter again instead of reusing remembered answers.
    #[arg(long)]
    fresh: bool,
    /// Seconds each runtime gets to say where it looks.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    runtime_timeout: f64,
    /// Read the OS store from this filesystem tree instead of `/`.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
}

impl DiscoveryArgs {
    fn options(&self) -> trustsync::discover::Options {
        let mut opts = trustsync::discover::Options::from_process();
        opts.runtimes = self.runtimes.clone();
        opts.timeout = Duration::from_secs_f64(self.runtime_timeout.max(0.1));
        if self.fresh {
            opts.cache_dir = None;
        }
        if self.only {
            opts.scan_common_dirs = false;
            opts.env.remove("PATH");
        }
        opts
    }

    fn status(&self, printer: &Printer) -> Result<trustsync::status::Status, u8> {
        trustsync::status::run(&self.root, &self.options()).map_err(|e| {
            printer.warn(&format!("cannot read the OS trust store: {e}"));
            2
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Show the OS trust store and, per runtime, whether it sees the OS's CAs.
    Status {
        /// Machine-readable output (schema in README.md).
        #[arg(long)]
        json: bool,
        /// Print nothing; the exit code says it all (0 in sync, 1 drift, 2 store unreadable).
        #[arg(long, short = 'q', conflicts_with = "json")]
        quiet: bool,
        #[command(flatten)]
        discovery: DiscoveryArgs,
    },
    /// Make every runtime that `status` flags trust the OS store's CAs (shows the plan and
    /// asks first on a terminal; `--yes` for scripts; `--dry-run` to only show it).
    Fix(FixArgs),
    /// Restore every file trustsync changed to its exact previous bytes, mode and owner,
    /// and remove what it created.
    Undo {
        #[arg(long)]
        json: bool,
        /// Also restore files that changed after trustsync wrote them.
        #[arg(long)]
        force: bool,
        /// Undo in this filesystem tree instead of `/`.
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
    },
    /// Explain a failing TLS connection: does HOST's chain verify in the OS store and in
    /// each runtime, and if not, why.
    Probe {
        /// HOST[:PORT] (default port 443); omit with --chain.
        #[arg(required_unless_present = "chain")]
        target: Option<String>,
        /// Name to send as SNI and to verify (default: HOST).
        #[arg(long)]
        servername: Option<String>,
        /// Seconds for connecting and for the handshake.
        #[arg(long, default_value_t = 10.0, value_name = "SECS")]
        timeout: f64,
        /// HTTP CONNECT proxy, http://[user:pass@]host:port (default: $HTTPS_PROXY).
        #[arg(long, value_name = "URL")]
        proxy: Option<String>,
        /// Analyse a saved chain (PEM, leaf first) instead of connecting.
        #[arg(
            long,
            value_name = "FILE",
            requires = "name",
            conflicts_with = "target"
        )]
        chain: Option<PathBuf>,
        /// With --chain: the host name the chain is for.
        #[arg(long, value_name = "HOST")]
        name: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        discovery: DiscoveryArgs,
    },
    /// Put a CA certificate into the OS trust store the OS's own way (Linux: the distro's
    /// anchors directory and its update command; Windows: the ROOT store; macOS: System
    /// keychain trusted for TLS), then say how to bring the runtimes along.
    Add {
        /// PEM or DER file holding the CA (several CAs in one file are all added).
        file: PathBuf,
        /// Also add a certificate that is not a CA, expired or not yet valid.
        #[arg(long)]
        force: bool,
        /// Then run `trustsync fix --yes`.
        #[arg(long, conflicts_with = "json")]
        fix: bool,
        #[arg(long)]
        json: bool,
    },
    /// Keep runtimes in sync after updates: install, remove, inspect or run the hooks.
    Hook {
        #[command(subcommand)]
        action: HookAction,
    },
    /// Print the completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (trustsync.1 and one per subcommand) into DIR.
    #[command(hide = true)]
    Man {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Take out a CA that `trustsync add` put in, by SHA-256 fingerprint (refuses any other).
    Remove {
        /// SHA-256 fingerprint, hex (colons allowed), as `add` printed it.
        fingerprint: String,
        /// Then run `trustsync fix --yes`.
        #[arg(long, conflicts_with = "json")]
        fix: bool,
        #[arg(long)]
        json: bool,
    },
}

/// `trustsync fix`'s flags, one set for every OS (each OS says which it cannot honour).
#[derive(Args)]
struct FixArgs {
    /// Print the plan `fix` would apply, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Apply without asking.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Machine-readable report, per runtime (schema in README.md).
    #[arg(long)]
    json: bool,
    /// Print nothing but the error line on failure (for hooks: `fix --yes --quiet`).
    #[arg(long, short = 'q', conflicts_with = "json")]
    quiet: bool,
    /// How runtimes with a bundle of their own are fixed.
    #[arg(long, value_enum, default_value = "env")]
    strategy: StrategyArg,
    /// Copy certificates into hashed directories instead of linking them.
    #[arg(long)]
    copy: bool,
    /// As root, also write into directories a non-root user owns or can write (a user's
    /// venv). Off by default: run `trustsync fix` as that user instead.
    #[arg(long)]
    allow_user_dirs: bool,
    #[command(flatten)]
    discovery: DiscoveryArgs,
}

impl FixArgs {
    /// What `add --fix` / `remove --fix` run: `fix --yes` on this machine, defaults
    /// otherwise.
    #[cfg(any(unix, windows))]
    fn after_manage() -> FixArgs {
        // Parsed like the command line, so every default is the one `fix` documents.
        let Command::Fix(args) = Cli::parse_from(["trustsync", "fix", "--yes"]).command else {
            unreachable!("`trustsync fix --yes` parses as fix")
        };
        args
    }
}

/// `trustsync hook …`: the hooks that keep the sync true after updates.
#[derive(Subcommand)]
enum HookAction {
    /// Install the hooks this machine needs (idempotent).
    ///
    /// Debian/Ubuntu: an update-ca-certificates hook; elsewhere a systemd path unit on the
    /// OS bundle. For bundles `fix --strategy patch-bundle` patched: a systemd path unit
    /// (or an apt post-invoke hook) that puts the block back after an upgrade replaced
    /// the file.
    Install {
        /// The strategy the store hook re-runs `fix` with (default: the installed hooks'
        /// strategy, else env).
        #[arg(long, value_enum)]
        strategy: Option<StrategyArg>,
        /// The trustsync binary the hooks call (default: this one).
        #[arg(long, value_name = "PATH")]
        binary: Option<PathBuf>,
        /// Install systemd units although systemd is not running (an image that boots with
        /// systemd later). Remembered: a later `hook install` keeps the units.
        #[arg(long)]
        systemd: bool,
        #[command(flatten)]
        output: HookOutput,
    },
    /// Take out every hook trustsync installed (and nothing else).
    Remove {
        #[command(flatten)]
        output: HookOutput,
    },
    /// Which hooks are in place, and whether each ran since what it watches changed
    /// (exit 0 all good, 1 something to do).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// What the installed hooks call.
    ///
    /// `store` re-syncs every runtime (`fix --yes` with the installed strategy); `bundles`
    /// puts trustsync's block back into bundles it patched, and nothing else.
    Run {
        #[arg(value_enum)]
        trigger: TriggerArg,
        /// Strategy for `store`.
        #[arg(long, value_enum, default_value = "env")]
        strategy: StrategyArg,
        #[arg(long, conflicts_with = "quiet")]
        json: bool,
        #[arg(long, short = 'q')]
        quiet: bool,
    },
}

/// How `hook install` / `hook remove` run and report.
#[derive(Args)]
struct HookOutput {
    /// Show what would be written, change nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long, conflicts_with = "quiet")]
    json: bool,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TriggerArg {
    /// The OS store changed: re-sync every runtime.
    Store,
    /// A patched bundle may have been replaced: put trustsync's block back.
    Bundles,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StrategyArg {
    /// A managed bundle plus the variables runtimes read (profile.d, environment.d).
    Env,
    /// Append the missing OS CAs to each runtime's bundle in a marked, reversible block.
    PatchBundle,
}

#[cfg(unix)]
fn context(root: &std::path::Path) -> trustsync::apply::Context {
    if root == std::path::Path::new("/") {
        trustsync::apply::Context::system()
    } else {
        trustsync::apply::Context::with_root(root)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Status {
            json,
            quiet,
            discovery,
        } => {
            let printer = Printer::new(json).quiet(quiet);
            match discovery.status(&printer) {
                Ok(status) => {
                    printer.status(&trustsync::report::StatusReport::new(&status));
                    status.exit_code() as u8
                }
                Err(code) => code,
            }
        }
        Command::Fix(args) => fix(&args),
        #[cfg(unix)]
        Command::Undo { json, force, root } => {
            let printer = Printer::new(json);
            let mut ctx = context(&root);
            ctx.force = force;
            match trustsync::apply::undo(&ctx) {
                Ok(report) => {
                    printer.undo(&report);
                    // Hook units undone: a running systemd must forget them.
                    let mut notes = Vec::new();
                    trustsync::hooks::after_undo(&ctx, &report, &mut notes);
                    for note in notes {
                        printer.warn(&format!("undo: {note}"));
                    }
                    // An undone `add` leaves the OS bundle stale until the distro's update
                    // command runs again.
                    #[cfg(not(target_os = "macos"))]
                    {
                        let touched: Vec<PathBuf> = report
                            .restored
                            .iter()
                            .chain(&report.removed)
                            .cloned()
                            .collect();
                        if let Some(Err(e)) =
                            trustsync::manage::refresh_store_after_undo(&root, &touched)
                        {
                            printer.warn(&format!("undo: the OS store was not rebuilt: {e}"));
                            return ExitCode::from(1);
                        }
                    }
                    0
                }
                Err(e) => {
                    printer.warn(&format!("undo: {e}"));
                    1
                }
            }
        }
        #[cfg(windows)]
        Command::Undo { json, force, root } => {
            let printer = Printer::new(json);
            if root != std::path::Path::new("/") {
                printer.warn("undo: --root is not available on Windows");
                2
            } else {
                windows_undo(&printer, force)
            }
        }
        #[cfg(not(any(unix, windows)))]
        Command::Undo { .. } => {
            Printer::new(false).warn("undo is not available on this OS yet");
            2
        }
        Command::Probe {
            target,
            servername,
            timeout,
            proxy,
            chain,
            name,
            json,
            discovery,
        } => {
            let printer = Printer::new(json);
            probe(
                &printer, target, servername, timeout, proxy, chain, name, &discovery,
            )
        }
        #[cfg(unix)]
        Command::Hook { action } => hook(action),
        #[cfg(not(unix))]
        Command::Hook { .. } => {
            Printer::new(false).warn("hooks are for Linux and macOS package managers; on Windows, schedule `trustsync fix --yes`");
            2
        }
        Command::Completions { shell } => {
            // Rendered into memory first: clap_complete panics on a write error, and a
            // closed pipe (`| head`) is not a reason to panic.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "trustsync", &mut script);
            use std::io::Write;
            match std::io::stdout().lock().write_all(&script) {
                Ok(()) => 0,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
                Err(e) => {
                    Printer::new(false).warn(&format!("completions: {e}"));
                    2
                }
            }
        }
        Command::Man { dir } => {
            let printer = Printer::new(false);
            match std::fs::create_dir_all(&dir)
                .and_then(|()| clap_mangen::generate_to(Cli::command(), &dir))
            {
                Ok(()) => 0,
                Err(e) => {
                    printer.warn(&format!("{}: {e}", dir.display()));
                    2
                }
            }
        }
        Command::Add {
            file,
            force,
            fix,
            json,
        } => {
            let mut backend = trustsync::manage::system_backend();
            let opts = trustsync::manage::Options::from_process(force);
            let report = trustsync::manage::add(&file, backend.as_mut(), &opts);
            after_manage(&Printer::new(json), &report, fix)
        }
        Command::Remove {
            fingerprint,
            fix,
            json,
        } => {
            let mut backend = trustsync::manage::system_backend();
            let opts = trustsync::manage::Options::from_process(false);
            let report = trustsync::manage::remove(&fingerprint, backend.as_mut(), &opts);
            after_manage(&Printer::new(json), &report, fix)
        }
    };
    ExitCode::from(code)
}

/// `trustsync fix`: the flags to the OS's engine.
fn fix(args: &FixArgs) -> u8 {
    let printer = Printer::new(args.json).quiet(args.quiet);
    #[cfg(unix)]
    {
        let mut ctx = context(&args.discovery.root);
        ctx.allow_user_dirs = args.allow_user_dirs;
        let opts = trustsync::fix::FixOptions {
            strategy: strategy_of(args.strategy),
            copy: args.copy,
            env: args.discovery.options().env,
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
                printer.warn(&format!("fix: {flag} is not available on Windows (there, fix writes a managed bundle and sets the variables runtimes read)"));
                2
            }
            None => windows_fix(&printer, args.dry_run, args.yes, &args.discovery),
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        printer.warn("fix is not available on this OS yet");
        2
    }
}

#[cfg(unix)]
/// Plan, show, confirm, apply: one plan value from start to end, so the dry run shows
/// exactly what the real run does.
fn posix_fix(
    printer: &Printer,
    ctx: &trustsync::apply::Context,
    opts: &trustsync::fix::FixOptions,
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
    if !dry_run && !trustsync::apply::safe_fs::running_as_root() {
        if let Ok(p) = trustsync::fix::plan(&status, ctx, opts) {
            if let Err(e @ trustsync::apply::ApplyError::NeedsRoot { .. }) =
                trustsync::apply::preflight(&p.plan, ctx)
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
    let plan = match trustsync::fix::plan(&status, ctx, opts) {
        Ok(p) => p,
        Err(e) => {
            printer.warn(&format!("fix: {e}"));
            return 1;
        }
    };
    let Some(lock) = lock.filter(|_| !plan.plan.is_empty()) else {
        printer.fix_plan(&plan, dry_run);
        // A dry run makes every check the real run makes, so it fails where that would.
        if let Err(e) = trustsync::apply::preflight(&plan.plan, ctx) {
            printer.warn(&format!("fix would fail: {e}"));
            return 1;
        }
        return 0;
    };
    if !yes && !confirm(printer, plan.plan.len(), || printer.fix_plan(&plan, true)) {
        return 1;
    }
    match trustsync::apply::apply_locked(&plan.plan, ctx, &lock) {
        Ok(applied) => {
            printer.fix_applied(&applied, &plan);
            // Installed hooks follow what this fix did: a bundle patched just now gets
            // watched, one no longer patched is not.
            match trustsync::hooks::refresh_installed(ctx, &lock) {
                Ok(0) => {}
                Ok(n) => printer.note(&format!(
                    "hooks brought up to date ({n} file(s)); see `trustsync hook status`"
                )),
                Err(e) => printer.warn(&format!(
                    "fix: the hooks were not brought up to date: {e}; run `sudo trustsync hook install`"
                )),
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
fn lock_unless_dry_run(
    printer: &Printer,
    ctx: &trustsync::apply::Context,
    dry_run: bool,
    what: &str,
) -> Result<Option<trustsync::apply::StateLock>, u8> {
    if dry_run {
        return Ok(None);
    }
    trustsync::apply::StateLock::acquire(ctx)
        .map(Some)
        .map_err(|e| {
            printer.warn(&format!("{what}: {e}"));
            1
        })
}

/// Without `--yes`: shows the plan and asks on a terminal; without one, says to pass
/// `--yes`. True when the user said yes.
#[cfg(any(unix, windows))]
fn confirm(printer: &Printer, changes: usize, show_plan: impl Fn()) -> bool {
    use std::io::{BufRead, IsTerminal};
    show_plan();
    if !std::io::stdin().is_terminal() {
        printer.warn("not applied: pass --yes to apply without a terminal to confirm on");
        return false;
    }
    eprint!("Apply these {changes} changes? [y/N] ");
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        printer.warn("nothing changed");
        return false;
    }
    true
}

#[cfg(windows)]
/// Whose environment fix and undo work in: the machine's when this process may write it
/// (an elevated administrator), else the user's.
fn windows_scope() -> trustsync::apply_windows::Scope {
    if trustsync::windows_env::machine_writable() {
        trustsync::apply_windows::Scope::Machine
    } else {
        trustsync::apply_windows::Scope::User
    }
}

#[cfg(windows)]
/// Windows: plan, show, confirm, apply, like the POSIX `fix`, with the Windows engine
/// (`trustsync::apply_windows`): a managed bundle and persistent variables in the machine
/// environment when this process may write it (an elevated administrator), else the user's.
fn windows_fix(printer: &Printer, dry_run: bool, yes: bool, discovery: &DiscoveryArgs) -> u8 {
    use trustsync::apply_windows::{self as win, engine, Facts, StateDir, WinLock};
    use trustsync::windows_env::{self, RegistryEnv};
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
        let other = windows_env::read_values(scope.other(), trustsync::fix_common::MANAGED_VARS);
        let facts = Facts::gather(layout, &store, other, env.clone(), &state)?;
        let plan = win::plan(&status, &facts)?;
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
fn windows_undo(printer: &Printer, force: bool) -> u8 {
    use trustsync::apply_windows::{self as win, StateDir, WinLock};
    use trustsync::windows_env::{self, RegistryEnv};
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
                printer.warn("undo: trustsync fix ran as administrator here; run `trustsync undo` from an elevated prompt");
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
fn after_manage(printer: &Printer, report: &trustsync::manage::ManageReport, then_fix: bool) -> u8 {
    printer.manage(report);
    if report.exit_code != 0 || !then_fix {
        return report.exit_code;
    }
    fix_after_manage(printer)
}

#[cfg(any(unix, windows))]
fn fix_after_manage(_printer: &Printer) -> u8 {
    fix(&FixArgs::after_manage())
}

#[cfg(not(any(unix, windows)))]
fn fix_after_manage(printer: &Printer) -> u8 {
    printer.warn("--fix: fix is not available on this OS yet");
    1
}

#[allow(clippy::too_many_arguments)]
fn probe(
    printer: &Printer,
    target: Option<String>,
    servername: Option<String>,
    timeout: f64,
    proxy: Option<String>,
    chain: Option<PathBuf>,
    name: Option<String>,
    discovery: &DiscoveryArgs,
) -> u8 {
    use trustsync::probe::{self, ProxySetting};
    let status = match discovery.status(printer) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let sets = trustsync::probe_sets::trust_sets(&status);
    let outcome = match (chain, target) {
        (Some(file), _) => probe::load_chain_file(&file).map(|certs| {
            let hint = probe::proxy_env_hint(|k| std::env::var(k).ok());
            probe::analyse(
                &certs,
                name.as_deref().unwrap_or_default(),
                &sets,
                SystemTime::now(),
                hint,
            )
        }),
        (None, Some(t)) => probe::Target::parse(&t).and_then(|mut target| {
            target.servername = servername;
            target.timeout = Duration::from_secs_f64(timeout.max(0.1));
            if let Some(p) = proxy {
                target.proxy = ProxySetting::Url(p.parse()?);
            }
            probe::run(&target, &sets, SystemTime::now())
        }),
        (None, None) => unreachable!("clap requires a target or --chain"),
    };
    printer.probe(&outcome);
    probe::exit_code(&outcome) as u8
}

#[cfg(unix)]
fn strategy_of(arg: StrategyArg) -> trustsync::fix::Strategy {
    match arg {
        StrategyArg::Env => trustsync::fix::Strategy::Env,
        StrategyArg::PatchBundle => trustsync::fix::Strategy::PatchBundle,
    }
}

#[cfg(unix)]
/// `trustsync hook …`: every decision is in `trustsync::hooks`; this maps flags and
/// outcomes to output and exit codes.
fn hook(action: HookAction) -> u8 {
    use trustsync::hooks;
    // Hooks are the machine's, whoever asks: always the system journal (a user's own
    // journal would make every hook look foreign).
    let ctx = trustsync::apply::Context::new(
        PathBuf::from("/"),
        PathBuf::from(trustsync::apply::SYSTEM_STATE_DIR),
    );
    let needs_root = |printer: &Printer, what: &str| {
        let root = trustsync::apply::safe_fs::running_as_root();
        if !root {
            printer.warn(&format!(
                "hook {what} writes system files and needs root: sudo trustsync hook {what}"
            ));
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
                    printer.warn(&format!("hook status: {e}"));
                    if !trustsync::apply::safe_fs::running_as_root() {
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
                    printer.warn(&format!(
                        "hook install: cannot tell where trustsync is: {e}"
                    ));
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
                        .map_or(trustsync::fix::Strategy::Env, |i| i.strategy)
                }),
                binary,
                force_systemd: systemd || installed.is_some_and(|i| i.force_systemd),
            };
            let plan = |ctx: &trustsync::apply::Context| hooks::plan_install(ctx, &opts);
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
                discovery: trustsync::discover::Options::from_process(),
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
    ctx: &trustsync::apply::Context,
    plan: impl Fn(
        &trustsync::apply::Context,
    ) -> Result<trustsync::hooks::HookPlan, trustsync::apply::ApplyError>,
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
            printer.warn(&format!("hook {what}: {e}"));
            return 1;
        }
    };
    let result = match &lock {
        Some(lock) => trustsync::hooks::apply_hook_plan(ctx, lock, &mut plan).map(|_| ()),
        None => trustsync::apply::preflight(&plan.plan, ctx),
    };
    if let Err(e) = result {
        printer.warn(&format!("hook {what}: {e}"));
        return 1;
    }
    if printer.json() {
        printer.print_json(&plan);
    } else if !quiet {
        printer.data(&plan.render_human(dry_run));
    }
    0
}
