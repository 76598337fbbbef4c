//! `trustsync hook install | remove | status | run`: keep runtimes in sync after the OS
//! store or a patched bundle changes, with nobody typing a command.
//!
//! Which hook a machine gets and the text of each file is decided in [`layout`] (pure,
//! unit-tested for every distribution); what a hook does when it fires is [`run`]. This
//! module gathers the machine's facts and writes or removes hook files through the fix
//! engine ([`crate::apply::posix`]), so every hook file is written atomically, journaled (`trustsync
//! undo` takes hooks out too), and a file of the same name trustsync did not create is never
//! overwritten or removed.
//!
//! systemd path units are enabled by writing the same `paths.target.wants/` link
//! `systemctl enable` would, through the engine; where systemd runs, trustsync then asks it
//! to reload and start (or stop) the unit, with fixed arguments.
#![forbid(unsafe_code)]

pub mod layout;
pub mod run;

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::apply::posix::journal::Journal;
use crate::apply::posix::safe_fs::ABSENT;
use crate::apply::posix::{self as apply, ApplyError, Context, Plan, Planner, StateLock};
use crate::commands::fix::posix::{Strategy, JAVA_BLOCK_ID, PATCH_BLOCK_ID};
use layout::{Facts, Hook, HookKind};

/// `/run/systemd/system` exists exactly when systemd is PID 1 (what `sd_booted()` checks).
pub const SYSTEMD_RUNTIME_DIR: &str = "/run/systemd/system";

#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The strategy the store hook re-runs `fix` with.
    pub strategy: Strategy,
    /// The trustsync binary the hooks call (default: this one).
    pub binary: PathBuf,
    /// Install systemd units even though systemd is not running (an image that boots
    /// with systemd later).
    pub force_systemd: bool,
}

/// What `hook install` / `hook remove` will do (or did): the engine plan plus the hooks.
#[derive(Debug, Clone, Serialize)]
pub struct HookPlan {
    #[serde(flatten)]
    pub plan: Plan,
    /// Hooks in place once the plan is applied.
    pub hooks: Vec<HookKind>,
    /// What no hook can cover on this machine, in plain words.
    pub notes: Vec<String>,
    /// systemd path units to start after writing / stop before removing (systemd running).
    #[serde(skip)]
    pub start_units: Vec<&'static str>,
    #[serde(skip)]
    pub stop_units: Vec<&'static str>,
}

/// Bundles trustsync patched and has not unpatched since (its journal): the newest
/// entry for each path added its marked block.
pub fn patched_bundles(journal: &Journal) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for entry in &journal.entries {
        // A JDK's store with trustsync's entries is a patched bundle too: an upgrade of
        // the JDK replaces it the same way pip replaces certifi.
        let patched = matches!(
            entry.block_id.as_deref(),
            Some(PATCH_BLOCK_ID | JAVA_BLOCK_ID)
        );
        if !patched || out.contains(&entry.path) {
            continue;
        }
        if journal
            .latest_for(&entry.path)
            .is_some_and(|e| e.op == "append_marked_block")
        {
            out.push(entry.path.clone());
        }
    }
    out
}

fn is_dir(ctx: &Context, logical: &str) -> bool {
    ctx.host_path(Path::new(logical)).is_dir()
}

pub fn systemd_running(ctx: &Context) -> bool {
    is_dir(ctx, SYSTEMD_RUNTIME_DIR)
}

/// The machine's facts: hook directories, systemd, the OS bundle, patched bundles.
pub fn facts(ctx: &Context, journal: &Journal, force_systemd: bool) -> Facts {
    let os = crate::model::system::OsStore::read(&ctx.root);
    // Only Debian's update-ca-certificates runs `update.d/NAME` as is (SUSE's runs
    // `*.run` files there): elsewhere the systemd unit watches the store instead.
    let debian = os.as_ref().is_ok_and(|os| os.flavor == "debian");
    let store_files = match os {
        Ok(os) => os
            .bundle
            .or(os.directory)
            // The store reader reports host paths; units see the machine's own.
            .map(|p| ctx.logical_path(&p))
            .into_iter()
            .collect(),
        Err(_) => Vec::new(),
    };
    Facts {
        update_d: debian && is_dir(ctx, layout::UPDATE_D_DIR),
        systemd: force_systemd || systemd_running(ctx),
        apt: is_dir(ctx, layout::APT_CONF_DIR),
        store_files,
        patched_bundles: patched_bundles(journal),
    }
}

fn plan_hook(planner: &Planner<'_>, hook: &Hook, actions: &mut Plan) -> Result<(), ApplyError> {
    let why = crate::msg!("reason-hook-file", hook = hook.kind.name());
    // Hook directories of a tool (update.d, apt.conf.d) must exist: they are how that tool
    // runs hooks. systemd's directories may be missing in an image built before systemd
    // was installed, and are created (journaled, so undo takes them out again).
    if hook.enable_link.is_some() {
        for dir in planner.missing_dirs(Path::new(layout::PATHS_WANTS_DIR))? {
            // Both unit hooks need them: the first one plans them.
            if !actions.actions.iter().any(|a| a.target == dir) {
                let dir_why = crate::msg!("reason-hook-unit-dir");
                actions.push(
                    planner
                        .create_dir(&dir, 0o755, &dir_why.en())?
                        .said(dir_why),
                );
            }
        }
    }
    for file in &hook.files {
        actions.push(
            planner
                .write_file(
                    &file.path,
                    file.contents.clone().into_bytes(),
                    file.mode,
                    &why.en(),
                )?
                .said(why.clone()),
        );
    }
    if let Some((link, target)) = &hook.enable_link {
        let enable = crate::msg!("reason-hook-enable", hook = hook.kind.name());
        actions.push(planner.symlink(link, target, &enable.en())?.said(enable));
    }
    Ok(())
}

/// Removes the files of hooks not wanted any more, when they are ours; the rest is left
/// in place with a note.
fn plan_removal(
    planner: &Planner<'_>,
    kind: HookKind,
    actions: &mut Plan,
    notes: &mut Vec<String>,
) -> Result<bool, ApplyError> {
    let mut any = false;
    // Links and units first, so nothing enabled points at a missing file mid-way.
    let mut paths = kind.paths();
    paths.reverse();
    for path in paths {
        let digest = planner.current_digest(&path)?;
        if digest == ABSENT {
            continue;
        }
        if planner.manages(&path, &digest)? {
            let why = crate::msg!("reason-hook-remove", hook = kind.name());
            actions.push(planner.remove(&path, &why.en())?.said(why));
            any = true;
        } else {
            notes.push(format!(
                "{}: not written by trustsync (or changed since): left in place",
                path.display()
            ));
        }
    }
    Ok(any)
}

/// Hooks run the binary as root, on events anyone may cause: if another user could
/// replace it (or a directory above it), installing a hook would hand them root. The same
/// rule as the engine's for directories it writes into (root-owned, not group/other
/// writable), applied to the binary and each ancestor, both as given and with every
/// symlink resolved: a link in `/usr/local/bin` to a file in a user's directory hands that
/// user the hook as surely as the file itself would. Only checked when running as root on
/// the live machine; `--allow-user-dirs` does not lift it.
fn check_binary_owner(ctx: &Context, binary: &Path) -> Result<(), ApplyError> {
    if !crate::apply::posix::safe_fs::running_as_root() || ctx.root != Path::new("/") {
        return Ok(());
    }
    let resolved = std::fs::canonicalize(binary).map_err(|e| ApplyError::io(binary, e))?;
    check_owned_by_root(binary, binary)?;
    check_owned_by_root(binary, &resolved)
}

/// `path` and each of its ancestors are root-owned and not writable by group or others
/// (sticky directories excepted); `binary` names the hook binary in the refusal.
fn check_owned_by_root(binary: &Path, path: &Path) -> Result<(), ApplyError> {
    use std::os::unix::fs::MetadataExt;
    let mut path = Some(path);
    while let Some(p) = path {
        let meta = std::fs::metadata(p).map_err(|e| ApplyError::io(p, e))?;
        // The sticky bit makes /tmp-like directories safe against replacing others' files.
        let writable = meta.mode() & 0o022 != 0 && !(meta.is_dir() && meta.mode() & 0o1000 != 0);
        if meta.uid() != 0 || writable {
            return Err(ApplyError::InvalidAction {
                path: binary.to_path_buf(),
                what: format!(
                    "hooks run it as root, but {} is owned by uid {} with mode {:04o}: install trustsync in a root-owned directory (e.g. /usr/local/bin) first",
                    p.display(),
                    meta.uid(),
                    meta.mode() & 0o7777
                ),
            });
        }
        path = p.parent();
    }
    Ok(())
}

/// The plan for `hook install`: write the hooks this machine gets; take out (only) our own
/// hooks it no longer needs, e.g. the bundle watch once nothing is patched any more.
pub fn plan_install(ctx: &Context, opts: &InstallOptions) -> Result<HookPlan, ApplyError> {
    let binary =
        layout::check_binary_path(&opts.binary).map_err(|detail| ApplyError::InvalidAction {
            path: opts.binary.clone(),
            what: detail,
        })?;
    check_binary_owner(ctx, &opts.binary)?;
    let planner = Planner::new(ctx)?;
    let facts = facts(ctx, planner.journal()?, opts.force_systemd);
    let (hooks, mut notes) = layout::choose(&facts, &binary, opts.strategy);
    let mut plan = Plan::default();
    for hook in &hooks {
        plan_hook(&planner, hook, &mut plan)?;
    }
    let wanted: Vec<HookKind> = hooks.iter().map(|h| h.kind).collect();
    let mut stop_units = Vec::new();
    for kind in HookKind::ALL.into_iter().filter(|k| !wanted.contains(k)) {
        if plan_removal(&planner, kind, &mut plan, &mut notes)? {
            stop_units.extend(kind.path_unit());
        }
    }
    let plan = plan.without_satisfied();
    let start_units = hooks
        .iter()
        .filter(|h| {
            h.files
                .iter()
                .any(|f| plan.actions.iter().any(|a| a.target == f.path))
        })
        .filter_map(|h| h.kind.path_unit())
        .collect();
    Ok(HookPlan {
        plan,
        hooks: wanted,
        notes,
        start_units,
        stop_units,
    })
}

/// The plan for `hook remove`: every hook file trustsync wrote, and nothing else.
pub fn plan_remove(ctx: &Context) -> Result<HookPlan, ApplyError> {
    let planner = Planner::new(ctx)?;
    let mut plan = Plan::default();
    let mut notes = Vec::new();
    let mut stop_units = Vec::new();
    for kind in HookKind::ALL {
        if plan_removal(&planner, kind, &mut plan, &mut notes)? {
            stop_units.extend(kind.path_unit());
        }
    }
    Ok(HookPlan {
        plan: plan.without_satisfied(),
        hooks: Vec::new(),
        notes,
        start_units: Vec::new(),
        stop_units,
    })
}

/// Runs `systemctl` with fixed arguments (unit names are constants), from the fixed system
/// directories only (never root's `PATH`), hermetically. Failures become notes: the files
/// are in place either way, and systemd picks them up at its next start.
fn systemctl(args: &[&str], notes: &mut Vec<String>) {
    use trustsync_platform::spawn;
    let run = spawn::resolve_system(Path::new("/"), "systemctl").and_then(|path| {
        spawn::Program::new(path)
            .args(args)
            .timeout(std::time::Duration::from_secs(60))
            .run()
    });
    match run {
        Ok(o) if o.status.success() => {}
        Ok(o) => notes.push(format!(
            "systemctl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => notes.push(format!("systemctl {}: {e}", args.join(" "))),
    }
}

/// Applies a hook plan under `lock`, telling a running systemd before and after.
pub fn apply_hook_plan(
    ctx: &Context,
    lock: &StateLock,
    plan: &mut HookPlan,
) -> Result<apply::Applied, ApplyError> {
    let live = systemd_running(ctx) && ctx.root == Path::new("/");
    if live {
        for unit in &plan.stop_units {
            systemctl(&["stop", unit], &mut plan.notes);
        }
    }
    let applied = apply::apply_locked(&plan.plan, ctx, lock)?;
    if live && !plan.plan.is_empty() {
        systemctl(&["daemon-reload"], &mut plan.notes);
        for unit in &plan.start_units {
            systemctl(&["restart", unit], &mut plan.notes);
        }
    }
    Ok(applied)
}

/// After a fix (by hand or by a hook): when hooks are installed, bring them up to date
/// with what the fix did (a newly patched bundle needs the bundle watch; one unpatched
/// leaves it). Keeps the strategy, binary and `--systemd` chosen at `hook install`.
/// Returns the number of hook files written or removed.
pub fn refresh_installed(ctx: &Context, lock: &StateLock) -> Result<usize, ApplyError> {
    let Some(install) = installed_options(ctx) else {
        return Ok(0);
    };
    let mut hooks = plan_install(ctx, &install)?;
    if hooks.plan.is_empty() {
        return Ok(0);
    }
    Ok(apply_hook_plan(ctx, lock, &mut hooks)?.actions.len())
}

/// After `undo` took hook units out (they are journaled like every file trustsync
/// writes), a running systemd is told, so it stops watching with units that are gone.
pub fn after_undo(ctx: &Context, report: &apply::UndoReport, notes: &mut Vec<String>) {
    let units_touched = report
        .removed
        .iter()
        .chain(&report.restored)
        .any(|p| p.starts_with(layout::SYSTEMD_DIR));
    if !units_touched || !systemd_running(ctx) || ctx.root != Path::new("/") {
        return;
    }
    // Path units stay active after their file is gone until stopped.
    for kind in HookKind::ALL {
        if let Some(unit) = kind.path_unit() {
            if report
                .removed
                .contains(&Path::new(layout::SYSTEMD_DIR).join(unit))
            {
                systemctl(&["stop", unit], notes);
            }
        }
    }
    systemctl(&["daemon-reload"], notes);
}

/// One hook's state, for `hook status`.
#[derive(Debug, Clone, Serialize)]
pub struct HookState {
    pub kind: HookKind,
    /// `installed`, `missing` (this machine should have it), `not-needed`, `foreign`
    /// (a file of that name trustsync did not write), `outdated` (ours, but `hook install`
    /// would write it differently now, e.g. another bundle was patched).
    pub state: &'static str,
    pub files: Vec<String>,
    /// Files whose change fires this hook.
    pub watches: Vec<String>,
    /// When the newest of them changed (seconds since the epoch).
    pub changed_at: Option<f64>,
    /// When the hook was installed (its newest file's mtime).
    pub installed_at: Option<f64>,
    /// `changed_at` and `installed_at` as RFC 3339 UTC (seconds).
    pub changed_at_rfc3339: Option<String>,
    pub installed_at_rfc3339: Option<String>,
    pub last_run: Option<run::RunRecord>,
    /// False when a watched file changed after the hook last ran (and after it was
    /// installed): the change was not picked up.
    pub fired_since_change: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HookStatus {
    pub hooks: Vec<HookState>,
    pub notes: Vec<String>,
    /// 0 every needed hook is installed, current and has seen every change; 1 otherwise.
    pub exit_code: i32,
}

/// Fractional epoch seconds as RFC 3339 UTC, to the second.
fn rfc3339(t: f64) -> String {
    crate::model::cert::format_rfc3339(t.floor() as i64)
}

fn mtime(path: &Path) -> Option<f64> {
    std::fs::symlink_metadata(path)
        .ok()?
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs_f64())
}

/// `hook status`: which hooks are in place, whether they are the ones this machine needs,
/// and whether each fired since what it watches last changed.
pub fn status(ctx: &Context, binary: &Path) -> Result<HookStatus, ApplyError> {
    let planner = Planner::new(ctx)?;
    let facts = facts(ctx, planner.journal()?, false);
    let binary = layout::check_binary_path(binary).unwrap_or_default();
    // The installed strategy only changes file text, not which hooks are needed.
    let (needed, mut notes) = layout::choose(&facts, &binary, Strategy::Env);
    let mut hooks = Vec::new();
    let mut healthy = true;
    for kind in HookKind::ALL {
        let files: Vec<PathBuf> = kind.paths();
        let mut present = Vec::new();
        let mut foreign = false;
        for path in &files {
            let digest = planner.current_digest(path)?;
            if digest != ABSENT {
                if !planner.manages(path, &digest)? {
                    foreign = true;
                }
                present.push(path.clone());
            }
        }
        let is_needed = needed.iter().any(|h| h.kind == kind);
        // What the hook watches, as installed (the path unit's own list) or as needed.
        let watches: Vec<PathBuf> = match kind {
            HookKind::UpdateCaCertificates | HookKind::StoreUnit => facts.store_files.clone(),
            HookKind::BundleUnit | HookKind::AptPostInvoke => facts.patched_bundles.clone(),
        };
        let outdated = kind == HookKind::BundleUnit && !present.is_empty() && {
            let unit = Path::new(layout::SYSTEMD_DIR).join(layout::BUNDLES_PATH_UNIT);
            let text = std::fs::read_to_string(ctx.host_path(&unit)).unwrap_or_default();
            layout::watched_paths(&text) != facts.patched_bundles
        };
        let state = if foreign {
            "foreign"
        } else if present.is_empty() {
            if is_needed {
                "missing"
            } else {
                "not-needed"
            }
        } else if present.len() < files.len() || outdated {
            "outdated"
        } else {
            "installed"
        };
        let newest = |paths: &[PathBuf]| {
            paths
                .iter()
                .filter_map(|p| mtime(&ctx.host_path(p)))
                .reduce(f64::max)
        };
        let installed_at = newest(&present);
        let changed_at = newest(&watches);
        // Runs are recorded per trigger; only a hook in place can have fired.
        let last_run = (!present.is_empty())
            .then(|| run::last_run(ctx, kind.trigger()))
            .flatten();
        let fired_since_change = (state == "installed").then(|| {
            let seen = [last_run.as_ref().map(|r| r.finished), installed_at]
                .into_iter()
                .flatten()
                .reduce(f64::max);
            match (changed_at, seen) {
                (Some(changed), Some(seen)) => changed <= seen,
                _ => true,
            }
        });
        if matches!(state, "missing" | "outdated" | "foreign")
            || fired_since_change == Some(false)
            || last_run.as_ref().is_some_and(|r| r.outcome == "failed")
        {
            healthy = false;
        }
        hooks.push(HookState {
            kind,
            state,
            files: files.iter().map(|p| p.display().to_string()).collect(),
            watches: watches.iter().map(|p| p.display().to_string()).collect(),
            changed_at,
            installed_at,
            changed_at_rfc3339: changed_at.map(rfc3339),
            installed_at_rfc3339: installed_at.map(rfc3339),
            last_run,
            fired_since_change,
        });
    }
    if !healthy {
        notes.push("`sudo trustsync hook install` puts the needed hooks in place; `sudo trustsync hook run store` re-syncs now".to_string());
    }
    Ok(HookStatus {
        hooks,
        notes,
        exit_code: if healthy { 0 } else { 1 },
    })
}

/// Installed hooks' strategy and binary, read back from the store hook's own text, so a
/// refresh after `hook run` keeps what the administrator chose at `hook install`.
pub fn installed_options(ctx: &Context) -> Option<InstallOptions> {
    let candidates = [
        PathBuf::from(layout::UPDATE_D_SCRIPT),
        Path::new(layout::SYSTEMD_DIR).join(layout::STORE_SERVICE_UNIT),
    ];
    for path in candidates {
        let Ok(text) = std::fs::read_to_string(ctx.host_path(&path)) else {
            continue;
        };
        let argv: Vec<String> = match layout::exec_start(&text) {
            Some(argv) => argv,
            None => match text.lines().find(|l| l.contains(" hook run store ")) {
                Some(line) => line.split_whitespace().map(str::to_string).collect(),
                None => continue,
            },
        };
        let strategy = match argv.iter().skip_while(|a| *a != "--strategy").nth(1) {
            Some(s) if s == "patch-bundle" => Strategy::PatchBundle,
            Some(s) if s == "env" => Strategy::Env,
            _ => Strategy::Auto,
        };
        // Units installed where systemd does not run were asked for (`--systemd`).
        let force_systemd = [layout::STORE_PATH_UNIT, layout::BUNDLES_PATH_UNIT]
            .iter()
            .any(|unit| {
                ctx.host_path(&Path::new(layout::SYSTEMD_DIR).join(unit))
                    .exists()
            });
        return Some(InstallOptions {
            strategy,
            binary: PathBuf::from(argv.first()?),
            force_systemd,
        });
    }
    None
}

impl HookStatus {
    /// Plain words for `hook status` without `--json` (what a run recorded and the notes
    /// name files and quote errors: shown escaped, [`crate::term::escape`]).
    pub fn render_human(&self) -> String {
        use crate::term::escape;
        let when = rfc3339;
        let mut out = String::new();
        for h in &self.hooks {
            if h.state == "not-needed" {
                continue;
            }
            out.push_str(&format!(
                "{} {}\n",
                crate::term::pad(h.kind.name(), 24),
                h.state
            ));
            match (&h.last_run, h.fired_since_change) {
                (Some(r), _) => out.push_str(&format!(
                    "  {}\n",
                    t!(
                        "hook-last-ran",
                        time = when(r.finished),
                        outcome = escape(&r.outcome),
                        message = escape(&r.message)
                    )
                )),
                (None, Some(_)) => out.push_str(&format!("  {}\n", t!("hook-not-run-yet"))),
                _ => {}
            }
            if h.fired_since_change == Some(false) {
                out.push_str(&format!(
                    "  {}\n",
                    t!(
                        "hook-changed-not-run",
                        time = h.changed_at.map(when).unwrap_or_default()
                    )
                ));
            }
        }
        if out.is_empty() {
            out.push_str(&t!("hook-none-installed"));
            out.push('\n');
        }
        out.push_str(&note_lines(&self.notes));
        out
    }
}

impl HookPlan {
    pub fn render_human(&self, dry_run: bool) -> String {
        let mut out = self.plan.render_human();
        if dry_run && !self.plan.is_empty() {
            out.push_str(&t!("hook-dry-run-note"));
            out.push('\n');
        }
        out.push_str(&note_lines(&self.notes));
        out
    }
}

/// One "note: …" line a note (they name files and quote errors: escaped).
fn note_lines(notes: &[String]) -> String {
    notes
        .iter()
        .map(|n| t!("note-line", note = crate::term::escape(n)) + "\n")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::posix::journal::{Entry, EntryState, Previous};

    fn entry(path: &str, op: &str, block: bool) -> Entry {
        Entry {
            run: 1,
            op: op.to_string(),
            path: PathBuf::from(path),
            previous: Previous::Absent,
            written: String::new(),
            block_id: block.then(|| PATCH_BLOCK_ID.to_string()),
            user_dirs_allowed: false,
            state: EntryState::Done,
        }
    }

    /// Each distribution's store is watched at the file its own tool rewrites, and only
    /// Debian gets the update.d script (SUSE has such a directory but runs `*.run` only).
    #[test]
    fn every_distribution_is_watched_where_its_tool_writes() {
        let ca = rcgen::CertificateParams::new(Vec::<String>::new())
            .and_then(|mut p| {
                p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
                p.self_signed(&rcgen::KeyPair::generate()?)
            })
            .unwrap()
            .pem();
        for (bundle, flavor_is_debian) in [
            ("/etc/ssl/certs/ca-certificates.crt", true),
            ("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", false),
            ("/var/lib/ca-certificates/ca-bundle.pem", false),
            ("/etc/ca-certificates/extracted/tls-ca-bundle.pem", false),
        ] {
            let tree = tempfile::tempdir().unwrap();
            let host = tree.path().join(bundle.trim_start_matches('/'));
            std::fs::create_dir_all(host.parent().unwrap()).unwrap();
            std::fs::write(&host, &ca).unwrap();
            std::fs::create_dir_all(tree.path().join("etc/ca-certificates/update.d")).unwrap();
            let ctx = Context::with_root(tree.path());
            let facts = facts(&ctx, &Journal::default(), true);
            assert_eq!(facts.store_files, [PathBuf::from(bundle)], "{bundle}");
            assert_eq!(facts.update_d, flavor_is_debian, "{bundle}");
        }
    }

    /// A root-owned binary reached through a link in a root-owned directory is still the
    /// user's to replace when its own directory is theirs: the hook must refuse it.
    #[test]
    fn a_hook_binary_behind_a_link_into_a_user_directory_is_refused() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        if !crate::apply::posix::safe_fs::running_as_root() {
            // The check applies to root only; CI runs the suite as root.
            assert!(std::env::var_os("CI").is_none(), "this test needs root");
            return;
        }
        let tree = tempfile::tempdir().unwrap();
        let (user_dir, bin_dir) = (tree.path().join("home"), tree.path().join("bin"));
        for dir in [&user_dir, &bin_dir] {
            std::fs::create_dir(dir).unwrap();
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let real = user_dir.join("trustsync");
        std::fs::write(&real, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::copy(&real, bin_dir.join("plain")).unwrap();
        symlink(&real, bin_dir.join("trustsync")).unwrap();
        let ctx = Context::system();
        check_binary_owner(&ctx, &bin_dir.join("trustsync")).unwrap();
        check_binary_owner(&ctx, &bin_dir.join("plain")).unwrap();
        std::os::unix::fs::chown(&user_dir, Some(1000), Some(1000)).unwrap();
        let refused = check_binary_owner(&ctx, &bin_dir.join("trustsync")).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains(&user_dir.display().to_string()),
            "{refused}"
        );
        check_binary_owner(&ctx, &bin_dir.join("plain")).unwrap();
    }

    #[test]
    fn patched_bundles_are_those_whose_newest_entry_added_the_block() {
        let journal = Journal {
            entries: vec![
                entry("/a/cacert.pem", "append_marked_block", true),
                entry("/b/cacert.pem", "append_marked_block", true),
                entry("/etc/profile.d/trustsync.sh", "write_file", false),
                entry("/b/cacert.pem", "remove_marked_block", true),
                entry("/a/cacert.pem", "append_marked_block", true),
            ],
            ..Journal::default()
        };
        assert_eq!(patched_bundles(&journal), [PathBuf::from("/a/cacert.pem")]);
    }
}
