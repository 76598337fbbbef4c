//! The command-line layer: clap arguments, the printer and the JSON documents, and the
//! glue that turns flags into options and results into exit codes. Every decision lives in
//! the layers below; nothing under this module is used by them.
//! Exit codes: 0 all in sync, 1 some runtime drifts or is broken (probe: fails somewhere),
//! 2 usage or internal error (probe: could not connect).

mod fix;
#[cfg(unix)]
mod hook;
pub mod printer;
pub mod report;

use clap::{Args, CommandFactory, Parser, Subcommand};
use printer::Printer;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

#[derive(Parser)]
#[command(
    name = "trustsync",
    version,
    about = "Make every runtime on this machine trust what the OS trusts"
)]
struct Cli {
    /// When to colour human output: `auto` (a terminal that is not `TERM=dumb`, and no
    /// `NO_COLOR`), `always`, `never`. JSON is never coloured.
    #[arg(long, value_enum, default_value = "auto", global = true)]
    color: printer::ColorChoice,
    /// More detail, on every command: `probe` each trust set's own verdict, `status`
    /// where discovery looked (on stderr).
    #[arg(long, short = 'v', global = true)]
    verbose: bool,
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
    /// As root: search every account's home, not only the invoking user's (`SUDO_USER`,
    /// `PKEXEC_UID`, `DOAS_USER`) and root's. The default when nobody invoked root (a
    /// hook, cron).
    #[arg(long)]
    all_users: bool,
    /// Ask every interpreter again instead of reusing remembered answers.
    #[arg(long)]
    fresh: bool,
    /// Seconds each runtime gets to say where it looks.
    #[arg(long, default_value_t = 10.0, value_name = "SECS", value_parser = parse_seconds)]
    runtime_timeout: f64,
    /// Read the OS store from this filesystem tree instead of `/`.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
}

/// Some row is the `--runtime` path: the same file (a venv's `python3` or the interpreter
/// it links to, once resolved), or a runtime inside that directory.
fn names_a_row(given: &Path, status: &crate::commands::status::Status) -> bool {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let want = canonical(given);
    // A yarn or pnpm with no setting of its own has no row (its node's says it all).
    let host = trustsync_platform::read::Reader::host();
    if crate::runtimes::node::clients::package_of(given, |p| host.read_to_string(p).ok()).is_some()
    {
        return true;
    }
    status.diagnoses.iter().any(|d| {
        let at = &d.runtime.path;
        at == given
            || at.starts_with(given)
            || canonical(at) == want
            || d.runtime.cafile.as_deref() == Some(given)
    })
}

/// A duration in seconds, bounded: `inf` once panicked in `Duration::from_secs_f64`, and
/// `nan` or a negative number meant nothing. clap turns the error into exit 2.
fn parse_seconds(s: &str) -> Result<f64, String> {
    const MAX: f64 = 3600.0;
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !secs.is_finite() || !(0.1..=MAX).contains(&secs) {
        return Err(format!("{s:?}: give between 0.1 and {MAX} seconds"));
    }
    Ok(secs)
}

impl DiscoveryArgs {
    fn options(&self) -> crate::discover::Options {
        let mut opts = crate::discover::Options::from_process();
        opts.cover_accounts(self.all_users, crate::runtimes::exec::lookup_account);
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

    fn status(&self, printer: &Printer) -> Result<crate::commands::status::Status, u8> {
        let live = self.root == Path::new("/");
        if live {
            // A typo in --runtime must not pass as "0 ok".
            if let Some(r) = self
                .runtimes
                .iter()
                .find(|r| std::fs::symlink_metadata(r).is_err())
            {
                printer.fail_msg(
                    "runtime-not-found",
                    &msg!("error-runtime-not-found", path = r.display().to_string()),
                );
                return Err(2);
            }
        }
        let status = crate::commands::status::run(&self.root, &self.options()).map_err(|e| {
            store_unreadable(printer, &e);
            2u8
        })?;
        if live {
            if let Some(r) = self.runtimes.iter().find(|r| !names_a_row(r, &status)) {
                printer.fail_msg(
                    "not-a-runtime",
                    &msg!("error-not-a-runtime", path = r.display().to_string()),
                );
                return Err(2);
            }
        }
        Ok(status)
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
        /// (`-v` says where discovery looked, on stderr; not with this.)
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
        #[arg(long, default_value_t = 10.0, value_name = "SECS", value_parser = parse_seconds)]
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
    /// List the OS trust store's CAs: SHA-256 prefix, expiry, flags (local: added on this
    /// machine; distrusted; expired) and name. Exit 0 something listed, 1 nothing matched,
    /// 2 the store could not be read.
    List {
        /// Only CAs whose subject contains PATTERN (any case) or whose SHA-256 starts with
        /// it (hex, colons allowed).
        pattern: Option<String>,
        /// Only CAs added locally (an administrator's, not the distro's bundle).
        #[arg(long)]
        local: bool,
        /// Only CAs the OS distrusts.
        #[arg(long)]
        distrusted: bool,
        /// Only CAs past their end date.
        #[arg(long)]
        expired: bool,
        #[arg(long)]
        json: bool,
        /// Read the OS store from this filesystem tree instead of `/`.
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
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
    #[arg(long, value_enum, default_value = "auto")]
    strategy: StrategyArg,
    /// Copy certificates into hashed directories instead of linking them.
    #[arg(long)]
    copy: bool,
    /// Also put the trust variables in the OS's `/etc/environment` (a marked block), which
    /// pam_env reads for su, login, ssh and, where their PAM stacks have it, sudo and cron.
    #[arg(long)]
    etc_environment: bool,
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
        /// strategy, else auto).
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
        #[arg(long, value_enum, default_value = "auto")]
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
    /// patch-bundle for every bundle only root can change, env for the rest (default).
    Auto,
    /// The variables runtimes read, set where login shells, PAM, systemd and sudo read them.
    Env,
    /// Append the missing OS CAs to each runtime's bundle in a marked, reversible block.
    PatchBundle,
}

impl Command {
    /// The subcommand's name, as the error document's `command` says it.
    fn name(&self) -> &'static str {
        match self {
            Command::Status { .. } => "status",
            Command::Fix(_) => "fix",
            Command::Undo { .. } => "undo",
            Command::Probe { .. } => "probe",
            Command::Add { .. } => "add",
            Command::Remove { .. } => "remove",
            Command::List { .. } => "list",
            Command::Completions { .. } => "completions",
            Command::Man { .. } => "man",
            Command::Hook { action } => match action {
                HookAction::Install { .. } => "hook install",
                HookAction::Remove { .. } => "hook remove",
                HookAction::Status { .. } => "hook status",
                HookAction::Run { .. } => "hook run",
            },
        }
    }

    /// `--json` was given: a failure prints the error document (printer::finish).
    fn json(&self) -> bool {
        match self {
            Command::Status { json, .. }
            | Command::Undo { json, .. }
            | Command::Probe { json, .. }
            | Command::Add { json, .. }
            | Command::Remove { json, .. }
            | Command::List { json, .. } => *json,
            Command::Fix(args) => args.json,
            Command::Hook { action } => match action {
                HookAction::Install { output, .. } | HookAction::Remove { output } => output.json,
                HookAction::Status { json } | HookAction::Run { json, .. } => *json,
            },
            Command::Completions { .. } | Command::Man { .. } => false,
        }
    }
}

/// A clap usage error (exit 2 before parsing completed): clap's own message on stderr
/// and, when `--json` is among the arguments, the error document on stdout too, since a
/// script that asked for JSON parses stdout whatever happened (unless `--quiet` is there
/// too). Help and version are not failures and print as clap prints them.
fn usage_error(e: clap::Error, args: &[std::ffi::OsString]) -> ExitCode {
    let code = e.exit_code();
    if code == 0 {
        e.exit();
    }
    // Options before a `--` only: after it `--json` would be an operand.
    let given: Vec<&str> = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .take_while(|a| *a != "--")
        .collect();
    let _ = e.print();
    // `--quiet` promises an empty stdout, and keeps it when refused alongside `--json`.
    let quiet = given.iter().any(|a| {
        *a == "--quiet" || (a.starts_with('-') && !a.starts_with("--") && a.contains('q'))
    });
    if given.contains(&"--json") && !quiet {
        let command = usage_command(&given);
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default();
        let message = first.strip_prefix("error: ").unwrap_or(first).to_string();
        printer::set_color_choice(printer::ColorChoice::Never);
        Printer::new(true).print_json(&crate::commands::failure::ErrorReport::for_command(
            &command, "usage", message, code,
        ));
    }
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}

/// The subcommand a command line names (`hook status` with its action), for the error
/// document of a line clap refused; empty when it names none.
fn usage_command(given: &[&str]) -> String {
    let cli = Cli::command();
    let Some((at, sub)) = given
        .iter()
        .enumerate()
        .find_map(|(i, a)| cli.find_subcommand(a).map(|c| (i, c)))
    else {
        return String::new();
    };
    let action = given[at + 1..]
        .iter()
        .find_map(|a| sub.find_subcommand(a).map(|c| c.get_name().to_string()));
    match action {
        Some(action) => format!("{} {action}", sub.get_name()),
        None => sub.get_name().to_string(),
    }
}

/// The `trustsync` command (`src/main.rs` only calls this).
pub fn main() -> ExitCode {
    // The language, once, before anything is said (clap's own usage errors and --help
    // stay English): human output follows LC_ALL/LC_MESSAGES/LANG; --json never does.
    crate::i18n::set_lang(crate::i18n::Lang::from_env(|v| {
        std::env::var_os(v).map(|s| s.to_string_lossy().into_owned())
    }));
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, &args),
    };
    printer::set_color_choice(cli.color);
    printer::set_verbose(cli.verbose);
    if cli.verbose && matches!(cli.command, Command::Status { quiet: true, .. }) {
        let e = Cli::command().error(
            clap::error::ErrorKind::ArgumentConflict,
            "the argument '--quiet' cannot be used with '--verbose'",
        );
        return usage_error(e, &args);
    }
    let (name, json) = (cli.command.name(), cli.command.json());
    // A panic is an internal error: exit 2 as documented, with the error document under
    // `--json` (the panic message itself goes to stderr through the default hook).
    let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli.command)))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Printer::new(json).fail_msg("internal-error", &msg!("error-internal", what = what));
            2
        });
    printer::finish(name, json, code);
    ExitCode::from(code)
}

/// Runs one parsed command and gives its exit code.
fn run(command: Command) -> u8 {
    match command {
        Command::Status {
            json,
            quiet,
            discovery,
        } => {
            let printer = Printer::new(json).quiet(quiet);
            match discovery.status(&printer) {
                Ok(status) => {
                    if printer::verbose() {
                        printer.looked(&status.looked);
                    }
                    #[cfg_attr(not(unix), allow(unused_mut))]
                    let mut report = crate::cli::report::StatusReport::new(&status);
                    #[cfg(unix)]
                    if !json {
                        fix::annotate_fix_outlook(&mut report, &status, &discovery);
                    }
                    printer.status(&report);
                    status.exit_code() as u8
                }
                Err(code) => code,
            }
        }
        Command::Fix(args) => fix::fix(&args),
        Command::List {
            pattern,
            local,
            distrusted,
            expired,
            json,
            root,
        } => {
            let filter = crate::commands::list::Filter {
                local,
                distrusted,
                expired,
                pattern,
            };
            list(&Printer::new(json), &root, &filter)
        }
        #[cfg(unix)]
        Command::Undo { json, force, root } => {
            let printer = Printer::new(json);
            let mut ctx = fix::context(&root);
            ctx.force = force;
            match crate::apply::posix::undo(&ctx) {
                Ok(report) => {
                    printer.undo(&report);
                    // Hook units undone: a running systemd must forget them.
                    let mut notes = Vec::new();
                    crate::commands::hooks::after_undo(&ctx, &report, &mut notes);
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
                            crate::commands::manage::refresh_store_after_undo(&root, &touched)
                        {
                            printer.warn_msg(&msg!(
                                "error-undo-store-not-rebuilt",
                                error = e.to_string()
                            ));
                            return 1;
                        }
                    }
                    0
                }
                Err(e) => {
                    printer.fail(fix::apply_error_code(&e), &format!("undo: {e}"));
                    1
                }
            }
        }
        #[cfg(windows)]
        Command::Undo { json, force, root } => {
            let printer = Printer::new(json);
            if root != std::path::Path::new("/") {
                printer.fail_msg("unsupported-option", &msg!("error-undo-root-windows"));
                2
            } else {
                fix::windows_undo(&printer, force)
            }
        }
        #[cfg(not(any(unix, windows)))]
        Command::Undo { .. } => {
            Printer::new(false).warn_msg(&msg!("error-undo-unavailable"));
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
        Command::Hook { action } => hook::hook(action),
        #[cfg(not(unix))]
        Command::Hook { .. } => {
            Printer::new(false).warn_msg(&msg!("error-hooks-windows"));
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
            let mut backend = crate::commands::manage::system_backend();
            let opts = crate::commands::manage::Options::from_process(force);
            let report = crate::commands::manage::add(&file, backend.as_mut(), &opts);
            fix::after_manage(&Printer::new(json), &report, fix)
        }
        Command::Remove {
            fingerprint,
            fix,
            json,
        } => {
            let mut backend = crate::commands::manage::system_backend();
            let opts = crate::commands::manage::Options::from_process(false);
            let report = crate::commands::manage::remove(&fingerprint, backend.as_mut(), &opts);
            fix::after_manage(&Printer::new(json), &report, fix)
        }
    }
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
    use crate::commands::probe::{self, ProxySetting};
    let status = match discovery.status(printer) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let sets = crate::commands::probe::sets::trust_sets(&status);
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

/// The failure line of a run that could not read the OS store.
fn store_unreadable(printer: &Printer, e: &dyn std::fmt::Display) {
    printer.fail_msg(
        "store-unreadable",
        &msg!("error-store-unreadable", error = e.to_string()),
    );
}

/// `trustsync list`: the store, filtered, printed; the exit code by what matched.
fn list(printer: &Printer, root: &Path, filter: &crate::commands::list::Filter) -> u8 {
    let os = match crate::model::system::OsStore::read(root) {
        Ok(os) => os,
        Err(e) => {
            store_unreadable(printer, &e);
            return 2;
        }
    };
    let listed = crate::commands::list::select(&os, filter, crate::model::cert::unix_now());
    let report = crate::cli::report::ListReport::new(&os, &listed);
    printer.list(&report);
    report.exit_code as u8
}
